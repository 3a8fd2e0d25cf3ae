// The charger page on a real clock at --speed 1000 in headless Chromium
// (puppeteer-core): the page keeps up (the clock on the page advances, no
// console errors, the event stream stays at most 10 frames/s), and the
// clock card pauses, resumes and changes the speed. Run by tests/ui.rs.
"use strict";
const path = require("path");
const { launch } = require("./lib.js");

const base = process.env.GOE_UI_URL;
const fail = (msg) => { throw new Error(msg); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// the simulated time the page shows (#clock-time, the charger's utc) in ms
async function pageTime(page) {
  const t = await page.$eval("#clock-time", (el) => el.textContent);
  const ms = Date.parse(t.endsWith("Z") ? t : `${t}Z`);
  if (Number.isNaN(ms)) fail(`#clock-time is ${JSON.stringify(t)}`);
  return ms;
}

async function state() {
  return (await fetch(`${base}/sim/state`)).json();
}

(async () => {
  const browser = await launch();
  const errors = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    page.on("console", (m) => { if (m.type() === "error") errors.push(`${m.text()} ${(m.location() || {}).url || ""}`); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (r) => { if (!r.url().includes("/sim/events")) errors.push(`request failed: ${r.url()}`); });
    // count the event frames the page receives
    await page.evaluateOnNewDocument(() => {
      window.__frames = 0;
      const Orig = window.EventSource;
      window.EventSource = function (...args) {
        const es = new Orig(...args);
        es.addEventListener("state", () => { window.__frames++; });
        return es;
      };
    });
    await page.goto(`${base}/sim/ui/`, { waitUntil: "load" });
    await page.waitForFunction(() => document.getElementById("live").textContent === "live", { timeout: 10000 });
    await page.waitForFunction(() => document.getElementById("clock-mode").textContent.startsWith("real ×1000"), { timeout: 10000 })
      .catch(async () => fail(`clock mode ${await page.$eval("#clock-mode", (el) => el.textContent)}`));
    // the real clock offers pause/speed, not advance
    if (await page.$eval("#advance", (el) => el.offsetParent !== null)) fail("advance is shown on a real clock");
    // the page keeps up: over 2 s real, the page's clock moves on by simulated minutes
    const f0 = await page.evaluate(() => window.__frames);
    const t0 = await pageTime(page);
    const real0 = Date.now();
    await sleep(2000);
    const t1 = await pageTime(page);
    const f1 = await page.evaluate(() => window.__frames);
    const realS = (Date.now() - real0) / 1000;
    if (t1 - t0 < 60_000) fail(`the page's clock moved ${(t1 - t0) / 1000} s in 2 s real at speed 1000`);
    // coalescing: at most 10 frames a second (+1 for the edges)
    if (f1 - f0 > Math.ceil(realS * 10) + 1) fail(`${f1 - f0} frames in ${realS} s`);
    if (f1 - f0 < 2) fail(`only ${f1 - f0} frames in ${realS} s`);
    // the chart follows: samples keep arriving (one per 10 s simulated)
    await page.waitForFunction(() => parseInt(document.getElementById("chart").dataset.samples, 10) >= 5, { timeout: 10000 })
      .catch(async () => fail(`chart samples ${await page.$eval("#chart", (el) => el.dataset.samples)}`));
    // pause through the page: simulated time stands still
    await page.click("#clock-pause");
    await page.waitForFunction(() => document.getElementById("clock-mode").textContent.includes("paused"), { timeout: 10000 });
    const p0 = (await state()).time_ms;
    await sleep(500);
    const p1 = (await state()).time_ms;
    if (p1 !== p0) fail(`paused clock moved from ${p0} to ${p1}`);
    await page.waitForFunction(() => document.getElementById("clock-pause").textContent === "Resume");
    // speed 1 through the page, then resume
    // focused, the field is not overwritten by the next frame
    await page.$eval("#clock-speed", (el) => { el.focus(); el.value = ""; });
    await page.type("#clock-speed", "1");
    await page.click("#clock-speed-set");
    await page.waitForFunction(() => document.getElementById("clock-mode").textContent === "real ×1, paused", { timeout: 10000 })
      .catch(async () => fail(`clock mode ${await page.$eval("#clock-mode", (el) => el.textContent)}`));
    await page.click("#clock-pause");
    await page.waitForFunction(() => document.getElementById("clock-mode").textContent === "real ×1", { timeout: 10000 });
    const s = await state();
    if (s.clock.speed !== 1 || s.clock.paused !== false) fail(`/sim/state clock ${JSON.stringify(s.clock)}`);
    // resumed from where it stood: no jump
    if (s.time_ms - p1 > 5000) fail(`resuming jumped from ${p1} to ${s.time_ms}`);
    // a refused speed shows the control API's error text
    await page.$eval("#clock-speed", (el) => { el.focus(); el.value = ""; });
    await page.type("#clock-speed", "0");
    await page.click("#clock-speed-set");
    await page.waitForFunction(() => document.getElementById("clock-error").textContent.includes("speed must be"), { timeout: 10000 })
      .catch(async () => fail(`clock error ${await page.$eval("#clock-error", (el) => el.textContent)}`));
    await page.screenshot({ path: path.join(process.env.GOE_UI_ARTIFACTS, "charger-speed.png"), fullPage: true });
    // the refused speed is the one expected console error (HTTP 400)
    const unexpected = errors.filter((e) => !e.includes("/sim/clock?speed=0"));
    if (unexpected.length) fail(`console errors: ${unexpected.join(" | ")}`);
    console.log("ui speed ok");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
