// The charger page in headless Chromium (puppeteer-core): run by tests/ui.rs
// with GOE_UI_URL, GOE_CHROMIUM, GOE_PUPPETEER_DIR and GOE_UI_ARTIFACTS.
"use strict";
const path = require("path");
const puppeteer = require(path.join(process.env.GOE_PUPPETEER_DIR, "node_modules/puppeteer-core"));

const base = process.env.GOE_UI_URL;
const fail = (msg) => { throw new Error(msg); };

async function status(filter) {
  const r = await fetch(`${base}/api/status?filter=${filter}`);
  return r.json();
}

async function waitText(page, id, pred, what) {
  try {
    await page.waitForFunction(
      (id, src) => new Function("t", `return ${src}`)(document.getElementById(id).textContent),
      { timeout: 10000 }, id, pred);
  } catch (e) {
    const text = await page.$eval(`#${id}`, (el) => el.textContent);
    fail(`${what}: #${id} is ${JSON.stringify(text)}`);
  }
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.GOE_CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    page.on("console", (m) => {
      // the charger answers a refused /api/set with HTTP 500 (as the real one): expected once
      const url = (m.location() && m.location().url) || "";
      // and a refused control with 400 (the rfid slot 12 below)
      const expected = url.includes("/api/set?amp=99") || url.includes("/sim/rfid?card=12");
      if (m.type() === "error" && !expected) errors.push(`${m.text()} ${url}`);
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (r) => {
      // the event stream is cancelled when the page closes
      if (!r.url().includes("/sim/events")) errors.push(`request failed: ${r.url()}`);
    });
    await page.goto(`${base}/sim/ui/`, { waitUntil: "load" });
    await waitText(page, "serial", "t === '012345'", "serial");
    await waitText(page, "car", "t.startsWith('Idle')", "car state before plugging");
    await waitText(page, "live", "t === 'live'", "event stream");
    // plug a car through the page
    await page.waitForFunction(() => document.getElementById("car-profile").options.length > 0);
    await page.select("#car-profile", "ev-3p-11kw");
    await page.click("#plug");
    let plugged = false;
    for (let i = 0; i < 50 && !plugged; i++) {
      plugged = (await (await fetch(`${base}/sim/state`)).json()).plugged === true;
      if (!plugged) await new Promise((r) => setTimeout(r, 100));
    }
    if (!plugged) fail("plugging through the page did not plug a car (/sim/state)");
    // the manual clock: advance through the page; /api/status then says charging
    await page.$eval("#advance-seconds", (el) => { el.value = "60"; });
    await page.click("#advance");
    let s;
    for (let i = 0; i < 50; i++) {
      s = await status("car,nrg");
      if (s.car === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (s.car !== 2) fail(`/api/status car is ${s.car} after plugging and advancing through the page`);
    await waitText(page, "car", "t.startsWith('Charging')", "car state after plugging and advancing");
    await waitText(page, "ptotal", "parseFloat(t) > 1", "charging power");
    // the world: PV and house through the page reach /sim/state and come back by push
    await page.$eval("#grid-pv", (el) => { el.value = ""; });
    await page.type("#grid-pv", "4200");
    await page.$eval("#grid-house", (el) => { el.value = ""; });
    await page.type("#grid-house", "800");
    await page.click("#grid-set");
    await waitText(page, "pv", "t === '4200'", "PV after setting it");
    const world = await (await fetch(`${base}/sim/state`)).json();
    if (world.grid.pv_w !== 4200 || world.grid.house_w !== 800) fail(`/sim/state grid is ${JSON.stringify(world.grid)}`);
    // a control the simulator refuses shows its error text
    await page.$eval("#rfid-card", (el) => { el.value = "12"; });
    await page.click("#rfid");
    await waitText(page, "world-error", "t.length > 0", "refused rfid card slot");
    // a write the key table refuses shows the charger's own error text
    await page.$eval("#set-amp", (el) => { el.value = ""; });
    await page.type("#set-amp", "99");
    const reply = await (await fetch(`${base}/api/set?amp=99`)).json();
    await page.click("#save");
    await waitText(page, "settings-error", `t.includes(${JSON.stringify(reply.amp)})`, "refused amp");
    await page.screenshot({ path: path.join(process.env.GOE_UI_ARTIFACTS, "charger.png"), fullPage: true });
    if (errors.length) fail(`console errors: ${errors.join(" | ")}`);
    console.log("ui ok");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
