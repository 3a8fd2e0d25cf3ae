// The fleet page with 1,000 chargers in headless Chromium (puppeteer-core):
// run by tests/ui_fleet.rs with GOE_UI_URL, GOE_CHROMIUM, GOE_PUPPETEER_DIR
// and GOE_UI_ARTIFACTS. The fleet: 500001..501000, the first four in group
// "garage" with lot.amp 20, a manual clock.
"use strict";
const path = require("path");
const { launch } = require("./lib.js");

const base = process.env.GOE_UI_URL;
const fail = (msg) => { throw new Error(msg); };

async function post(p) {
  const r = await fetch(`${base}${p}`, { method: "POST" });
  if (!r.ok) fail(`POST ${p}: ${r.status} ${await r.text()}`);
}

async function waitFor(page, what, fn, ...args) {
  try {
    await page.waitForFunction(fn, { timeout: 20000 }, ...args);
  } catch (e) {
    const count = await page.$eval("#count", (el) => el.textContent).catch(() => "?");
    fail(`${what} (count line: ${JSON.stringify(count)})`);
  }
}

const tileCar = (serial) => `document.querySelector('#tiles a[href="index.html?serial=${serial}"]')?.dataset.car`;

(async () => {
  const browser = await launch();
  const errors = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on("console", (m) => { if (m.type() === "error") errors.push(`${m.text()} ${(m.location() || {}).url || ""}`); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (r) => {
      // the event stream is cancelled when the page closes
      if (!r.url().includes("/sim/fleet/events")) errors.push(`request failed: ${r.url()}`);
    });
    await page.goto(`${base}/sim/ui/fleet.html`, { waitUntil: "load" });
    await waitFor(page, "1,000 tiles", () => document.querySelectorAll("#tiles > .tile").length === 1000);
    await waitFor(page, "event stream live", () => document.getElementById("live").textContent === "live");
    const count = await page.$eval("#count", (el) => el.textContent);
    if (!count.startsWith("1000 chargers") || !count.includes("1000 idle")) fail(`count line: ${count}`);
    const tile = await page.$eval('#tiles a[href="index.html?serial=500002"]', (el) => el.textContent);
    if (!tile.includes("500002") || !tile.includes("kW")) fail(`tile 500002: ${tile}`);
    // the group against its lot, before any car
    const group = () => page.$eval('#groups tr[data-group="garage"]', (row) => [...row.cells].map((c) => c.textContent));
    let g = await group();
    if (g[1] !== "4" || !g[2].endsWith("/ 20 A")) fail(`group row: ${JSON.stringify(g)}`);
    // a plug through the control API: that tile turns to charging after an advance
    const framesBefore = await page.evaluate(() => window.fleetStats.frames);
    await post("/sim/plug?serial=500002&car=ev-3p-11kw");
    await post("/sim/plug?serial=500700&car=ev-1p-16a");
    await post("/sim/advance?seconds=60");
    await waitFor(page, "tile 500002 charging", `${tileCar("500002")} === "2"`);
    await waitFor(page, "tile 500700 charging", `${tileCar("500700")} === "2"`);
    const st = await page.evaluate(() => window.fleetStats);
    if (st.frames <= framesBefore) fail(`no frame after the plug: ${JSON.stringify(st)}`);
    // frames after the first one carry only the chargers that changed
    if (st.updated - 1000 > 20 * (st.frames - 1)) fail(`frames carry more than the changes: ${JSON.stringify(st)}`);
    const other = await page.evaluate(tileCar("500003"));
    if (other !== "1") fail(`tile 500003 is in state ${other}, not idle`);
    // the group's load shows the charging member's current against the lot
    await waitFor(page, "group load above 0", () => {
      const c = document.querySelector('#groups tr[data-group="garage"]').cells[2].textContent;
      return parseFloat(c) > 6 && c.endsWith("/ 20 A");
    });
    g = await group();
    if (!g[4].endsWith("kW") || parseFloat(g[4]) <= 1) fail(`group power: ${JSON.stringify(g)}`);
    // the state filter: only the charging tiles stay visible
    await page.select("#state-filter", "2");
    const visible = await page.$$eval("#tiles > .tile", (els) => els.filter((el) => el.offsetParent !== null).map((el) => el.querySelector("b").textContent));
    if (JSON.stringify(visible.sort()) !== JSON.stringify(["500002", "500700"])) fail(`charging filter shows ${visible.length} tiles: ${visible.slice(0, 5)}`);
    const filtered = await page.$eval("#count", (el) => el.textContent);
    if (!filtered.includes("2 charging") || !filtered.includes("showing 2 charging")) fail(`count line with the filter: ${filtered}`);
    await page.select("#state-filter", "all");
    const all = await page.$$eval("#tiles > .tile", (els) => els.filter((el) => el.offsetParent !== null).length);
    if (all !== 1000) fail(`filter "all" shows ${all} tiles`);
    // a tile opens that charger's page
    const href = await page.$eval('#tiles a[href="index.html?serial=500002"]', (el) => el.href);
    if (!href.endsWith("/sim/ui/index.html?serial=500002")) fail(`tile link: ${href}`);
    await page.screenshot({ path: path.join(process.env.GOE_UI_ARTIFACTS, "fleet.png") });
    if (errors.length) fail(`console errors: ${errors.join(" | ")}`);
    console.log("fleet ok");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
