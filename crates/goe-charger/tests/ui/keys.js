// The settings card and the key browser in headless Chromium (puppeteer-core):
// run by tests/ui_keys.rs with GOE_UI_URL, GOE_CHROMIUM, GOE_PUPPETEER_DIR and
// GOE_UI_ARTIFACTS.
"use strict";
const path = require("path");
const { launch } = require("./lib.js");

const base = process.env.GOE_UI_URL;
const fail = (msg) => { throw new Error(msg); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function status(filter) {
  const r = await fetch(`${base}/api/status${filter ? `?filter=${filter}` : ""}`);
  return r.json();
}

// polls /api/status until pred(status) holds (10 s)
async function waitStatus(filter, pred, what) {
  let s;
  for (let i = 0; i < 100; i++) {
    s = await status(filter);
    if (pred(s)) return s;
    await sleep(100);
  }
  fail(`${what}: /api/status is ${JSON.stringify(s)}`);
}

async function waitText(page, selector, pred, what) {
  try {
    await page.waitForFunction(
      (sel, src) => {
        const el = document.querySelector(sel);
        return el && new Function("t", `return ${src}`)(el.textContent);
      },
      { timeout: 10000 }, selector, pred);
  } catch (e) {
    const text = await page.$eval(selector, (el) => el.textContent).catch(() => "(missing)");
    fail(`${what}: ${selector} is ${JSON.stringify(text)}`);
  }
}

const row = (key) => `#keys-table tr[data-key="${key}"]`;

async function editKey(page, key, text) {
  await page.$eval(`${row(key)} td.e input`, (el) => { el.value = ""; });
  await page.type(`${row(key)} td.e input`, text);
  await page.click(`${row(key)} button.set`);
}

(async () => {
  const browser = await launch();
  const errors = [];
  // the refused writes below: the charger answers them with HTTP 500 (as the real one)
  const refused = ["/api/set?lbr=", "/api/set?amp=99"];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on("console", (m) => {
      const url = (m.location() && m.location().url) || "";
      if (m.type() === "error" && !refused.some((r) => url.includes(r))) errors.push(`${m.text()} ${url}`);
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (r) => {
      // the event streams are cancelled when the page closes
      if (!r.url().includes("/sim/events")) errors.push(`request failed: ${r.url()}`);
    });
    await page.goto(`${base}/sim/ui/`, { waitUntil: "load" });

    // every key of /api/status is listed, with its current value, pushed
    const all = await status();
    const meta = await (await fetch(`${base}/sim/ui/keys.json`)).json();
    await waitText(page, "#keys-count", `t === '${meta.keys.length} of ${meta.keys.length} keys'`, "key count");
    await waitText(page, `${row("sse")} td.v`, "t === '012345'", "serial in the key browser");
    const listed = await page.$$eval("#keys-table tbody tr", (rows) => rows.map((r) => [r.dataset.key, r.querySelector("td.v").textContent]));
    const shown = new Map(listed);
    for (const key of Object.keys(all)) {
      if (!shown.has(key)) fail(`key ${key} of /api/status is not in the key browser`);
      if (shown.get(key) === "–") fail(`key ${key} shows no value`);
    }
    const readable = listed.filter(([k]) => k in all).map(([k]) => k);
    if (JSON.stringify(readable) !== JSON.stringify(Object.keys(all))) fail("the key browser is not in /api/status order");
    // descriptions, types and units from the key table; read-only keys have no editor
    const car = await page.$eval(row("car"), (r) => r.textContent);
    if (!car.includes("charge ctrl car state") || !car.includes("uint8")) fail(`car row: ${car}`);
    if (await page.$(`${row("car")} td.e input, ${row("car")} td.e select`)) fail("read-only car has an editor");
    const ampUnit = await page.$eval(`${row("amp")} td.u`, (el) => el.textContent);
    if (ampUnit !== "A") fail(`amp unit ${ampUnit}`);

    // the settings card: friendly names and enum names from the key table
    const lmoLabel = await page.$eval("#set-lmo", (el) => el.parentElement.textContent);
    if (!lmoLabel.includes("Logic mode")) fail(`lmo label: ${lmoLabel}`);
    const lmoOptions = await page.$$eval("#set-lmo option", (os) => os.map((o) => o.textContent));
    if (!lmoOptions.includes("Awattar")) fail(`lmo options: ${lmoOptions}`);
    for (const key of ["frc", "amp", "psm", "ust", "acs"]) {
      if (!(await page.$(`#set-${key}`))) fail(`settings card has no ${key}`);
    }
    await waitText(page, "#set-amp", "true", "amp field");
    const ampValue = await page.$eval("#set-amp", (el) => el.value);
    if (ampValue !== String(all.amp)) fail(`#set-amp shows ${ampValue}, /api/status ${all.amp}`);
    // lmo and ust through the page reach /api/status, and come back by push
    await page.select("#set-lmo", "4");
    await page.select("#set-ust", "2");
    await page.click("#save");
    await waitStatus("lmo,ust", (s) => s.lmo === 4 && s.ust === 2, "lmo/ust saved through the settings card");
    await waitText(page, `${row("lmo")} td.v`, "t.startsWith('Awattar')", "lmo pushed to the key browser");
    await waitText(page, "#settings-error", "t === ''", "no settings error");

    // only changed cells are touched when a frame arrives
    await page.evaluate(() => {
      window.__mutated = new Set();
      new MutationObserver((ms) => {
        for (const m of ms) {
          const td = (m.target.nodeType === 1 ? m.target : m.target.parentElement).closest("td.v");
          if (td) window.__mutated.add(td.parentElement.dataset.key);
        }
      }).observe(document.querySelector("#keys-table tbody"), { subtree: true, childList: true, characterData: true });
    });
    const before = await status("rbt");
    await fetch(`${base}/sim/advance?seconds=1`, { method: "POST" });
    await waitText(page, `${row("rbt")} td.v`, `t !== '${before.rbt}'`, "rbt pushed after an advance");
    const mutated = await page.evaluate(() => [...window.__mutated]);
    if (!mutated.includes("rbt")) fail("rbt cell not updated");
    if (mutated.length > 40) fail(`a one-second frame rewrote ${mutated.length} value cells: ${mutated}`);

    // the filter box
    await page.type("#keys-filter", "force state");
    await waitText(page, "#keys-count", `!t.startsWith('${meta.keys.length} ')`, "filtered count");
    const visible = await page.$$eval("#keys-table tbody tr", (rows) => rows.filter((r) => !r.hidden).map((r) => r.dataset.key));
    if (!visible.includes("frc") || visible.includes("amp")) fail(`filter "force state" shows ${visible}`);
    await page.$eval("#keys-filter", (el) => { el.value = ""; el.dispatchEvent(new Event("input")); });

    // a key-browser edit of a writable key lands in /api/status
    await editKey(page, "fna", "Garage charger");
    await waitStatus("fna", (s) => s.fna === "Garage charger", "fna written through the key browser");
    await waitText(page, `${row("fna")} .key-result`, "t === 'saved'", "fna saved");
    await waitText(page, `${row("fna")} td.v`, "t === 'Garage charger'", "fna pushed back");
    // a bool by its checkbox, an array as JSON text
    const wda = (await status("wda")).wda;
    await page.click(`${row("wda")} td.e input[type=checkbox]`);
    await page.click(`${row("wda")} button.set`);
    await waitStatus("wda", (s) => s.wda === !wda, "wda toggled through its checkbox");
    await editKey(page, "clp", "[6,8,10]");
    await waitStatus("clp", (s) => JSON.stringify(s.clp) === "[6,8,10]", "clp written as JSON text");
    await waitText(page, `${row("clp")} td.v`, "t === '[6,8,10]'", "clp pushed back");
    // a wrong type: the charger's own error text
    const wrong = await (await fetch(`${base}/api/set?lbr=true`)).json();
    if (typeof wrong.lbr !== "string") fail(`lbr=true was not refused: ${JSON.stringify(wrong)}`);
    await editKey(page, "lbr", "true");
    await waitText(page, `${row("lbr")} .key-result`, `t === ${JSON.stringify(wrong.lbr)}`, "refused lbr");
    await waitText(page, "#keys-error", `t === ${JSON.stringify(wrong.lbr)}`, "refused lbr in the status line");
    // out of range (the range follows mca/ama): the charger's text, not a second check
    const range = await (await fetch(`${base}/api/set?amp=99`)).json();
    await editKey(page, "amp", "99");
    await waitText(page, `${row("amp")} .key-result`, `t === ${JSON.stringify(range.amp)}`, "refused amp");
    const after = await status("lbr,amp");
    if (after.lbr !== all.lbr || after.amp !== all.amp) fail(`refused writes changed /api/status: ${JSON.stringify(after)}`);

    await page.screenshot({ path: path.join(process.env.GOE_UI_ARTIFACTS, "keys.png"), fullPage: true });
    if (errors.length) fail(`console errors: ${errors.join(" | ")}`);
    console.log("keys ok");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
