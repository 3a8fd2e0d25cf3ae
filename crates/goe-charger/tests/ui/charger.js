// The charger page in headless Chromium (puppeteer-core): run by tests/ui.rs
// with GOE_UI_URL, GOE_CHROMIUM, GOE_PUPPETEER_DIR and GOE_UI_ARTIFACTS.
"use strict";
const path = require("path");
const { launch } = require("./lib.js");

const base = process.env.GOE_UI_URL;
const fail = (msg) => { throw new Error(msg); };

async function status(filter) {
  const r = await fetch(`${base}/api/status?filter=${filter}`);
  return r.json();
}

// The LED ring as the page draws it: the first lit colour, lbr, LED 0's style
async function ring(page) {
  return page.$eval("#ring", (el) => ({
    color: el.dataset.color,
    brightness: el.dataset.brightness,
    leds: el.children.length,
    led0: getComputedStyle(el.children[0]).backgroundColor,
    opacity: getComputedStyle(el.children[0]).opacity,
  }));
}

async function waitRing(page, pred, what) {
  try {
    await page.waitForFunction(
      (src) => {
        const el = document.getElementById("ring");
        return new Function("r", `return ${src}`)({ color: el.dataset.color, brightness: el.dataset.brightness });
      },
      { timeout: 10000 }, pred);
  } catch (e) {
    fail(`${what}: the ring is ${JSON.stringify(await ring(page))}`);
  }
}

async function post(pathAndQuery) {
  const r = await fetch(`${base}${pathAndQuery}`, { method: "POST" });
  if (!r.ok) fail(`POST ${pathAndQuery}: ${r.status} ${await r.text()}`);
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
  const browser = await launch();
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
    // the LED ring shows what `led` says: 32 LEDs in the idle colour (cid)
    const idle = await status("led,lbr,cid");
    await waitRing(page, `r.color === ${JSON.stringify(idle.led.ranges[0].colors[0])}`, "idle ring");
    let r = await ring(page);
    if (r.leds !== 32 || r.led0 !== "rgb(0, 0, 255)" || r.brightness !== String(idle.lbr)) fail(`idle ring ${JSON.stringify(r)}`);
    // the charging colour comes from led (cch changed first), its brightness from lbr
    const set = await (await fetch(`${base}/api/set?cch=${encodeURIComponent('"#FF00FF"')}&lbr=51`)).json();
    if (set.cch !== true || set.lbr !== true) fail(`/api/set cch, lbr: ${JSON.stringify(set)}`);
    await waitRing(page, "r.brightness === '51'", "ring brightness after lbr=51");
    r = await ring(page);
    if (Math.abs(parseFloat(r.opacity) - (0.15 + 0.85 * 51 / 255)) > 0.01) fail(`ring opacity at lbr 51: ${JSON.stringify(r)}`);
    // the clock card: a manual clock offers advance, not pause/speed
    if (!(await page.$eval("#advance", (el) => el.offsetParent !== null))) fail("advance is hidden on a manual clock");
    if (await page.$eval("#clock-pause", (el) => el.offsetParent !== null)) fail("pause is shown on a manual clock");
    await waitText(page, "clock-mode", "t === 'manual'", "clock mode");
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
    // the reason in words (the key table's enum name spelled out) with its code
    await waitText(page, "reason", "/^Charging: [a-z ]+ \\(\\d+\\)$/.test(t)", "modelStatus in words");
    // the ring now shows the charging animation in cch's colour
    const charging = await status("led");
    if (charging.led.name !== "Charging" || charging.led.ranges[0].colors[0] !== "#FF00FF") fail(`led while charging: ${JSON.stringify(charging.led)}`);
    await waitRing(page, "r.color === '#FF00FF'", "ring while charging");
    r = await ring(page);
    if (r.led0 !== "rgb(255, 0, 255)") fail(`ring LED 0 while charging: ${JSON.stringify(r)}`);
    // the world: PV and house through the page reach /sim/state and come back by push
    await page.$eval("#grid-pv", (el) => { el.value = ""; });
    await page.type("#grid-pv", "4200");
    await page.$eval("#grid-house", (el) => { el.value = ""; });
    await page.type("#grid-house", "800");
    await page.click("#grid-set");
    await waitText(page, "pv", "t === '4200'", "PV after setting it");
    const world = await (await fetch(`${base}/sim/state`)).json();
    if (world.grid.pv_w !== 4200 || world.grid.house_w !== 800) fail(`/sim/state grid is ${JSON.stringify(world.grid)}`);
    // a fixed battery power, then a home battery, through the page
    await page.type("#grid-battery", "-500");
    await page.click("#grid-set");
    await waitText(page, "battery", "t === '-500'", "fixed battery power");
    await page.$eval("#battery-capacity", (el) => { el.value = "8000"; });
    await page.$eval("#battery-soc", (el) => { el.value = "60"; });
    await page.click("#battery-set");
    await waitText(page, "home-battery", "t.startsWith('60.0 %')", "home battery");
    const hb = (await (await fetch(`${base}/sim/state`)).json()).battery;
    if (!hb || hb.capacity_wh !== 8000) fail(`/sim/state battery is ${JSON.stringify(hb)}`);
    // twenty simulated minutes with PV: the chart has the history
    await page.$eval("#advance-seconds", (el) => { el.value = "1200"; });
    await page.click("#advance");
    await page.waitForFunction(() => parseInt(document.getElementById("chart").dataset.samples, 10) >= 120, { timeout: 20000 })
      .catch(async () => fail(`chart samples: ${await page.$eval("#chart", (el) => el.dataset.samples)}`));
    if (!(await page.$("#chart canvas"))) fail("the chart has no canvas");
    const history = await (await fetch(`${base}/sim/history`)).json();
    const samples = await page.$eval("#chart", (el) => parseInt(el.dataset.samples, 10));
    if (samples !== history.data[0].length) fail(`chart has ${samples} samples, /sim/history ${history.data[0].length}`);
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
    // back to the factory ring for the screenshot (the README's)
    await fetch(`${base}/api/set?cch=${encodeURIComponent('"#00FFFF"')}&lbr=255`);
    await post("/sim/advance?seconds=1"); // led follows cch at the next logic second
    await waitRing(page, "r.color === '#00FFFF' && r.brightness === '255'", "ring back to cch");
    await page.screenshot({ path: path.join(process.env.GOE_UI_ARTIFACTS, "charger.png"), fullPage: true });
    if (errors.length) fail(`console errors: ${errors.join(" | ")}`);
    console.log("ui ok");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
