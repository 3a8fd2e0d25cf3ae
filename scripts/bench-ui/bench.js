// The dashboard benchmark (#16): run by scripts/bench-ui.sh (which builds the
// release binary and checks the tools). Starts release goe-charger processes
// on loopback, drives headless Chromium through puppeteer-core and prints
// each figure next to a baseline measured in the same run.
"use strict";
const path = require("path");
const fs = require("fs");
const os = require("os");
const readline = require("readline");
const { spawn } = require("child_process");
const puppeteer = require(path.join(process.env.GOE_PUPPETEER_DIR, "node_modules/puppeteer-core"));

const BIN = path.resolve(process.env.GOE_BENCH_BIN || "target/release/goe-charger");
const REPS = Number(process.env.REPS || 5);
const WINDOW = Number(process.env.WINDOW || 10);
const TCK = 100; // getconf CLK_TCK on Linux
const START = "2024-06-03T10:00:00Z";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f = (x, d = 2) => (typeof x === "number" && isFinite(x) ? x.toFixed(d) : String(x));
const out = (line = "") => process.stdout.write(line + "\n");
const children = [];
const dirs = [];

// a goe-charger (or fleet) process: its pid and the port of every charger
async function start(args, fleetToml) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goe-ui-bench-"));
  dirs.push(dir);
  const argv = ["--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "data"), "--start", START, "--seed", "5", ...args];
  if (fleetToml) {
    fs.writeFileSync(path.join(dir, "fleet.toml"), fleetToml);
    argv.push("--fleet", path.join(dir, "fleet.toml"));
  }
  const proc = spawn(BIN, argv, { stdio: ["ignore", "pipe", "ignore"] });
  children.push(proc);
  const ports = [];
  let expected = 1;
  await new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout }).on("line", (line) => {
      const fleet = line.match(/^goe-charger fleet of (\d+) chargers/);
      if (fleet) expected = Number(fleet[1]);
      const m = line.match(/^goe-charger .*listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m && !line.includes("cloud")) ports.push(Number(m[1]));
      if (ports.length === expected) resolve();
    });
    proc.on("exit", (code) => reject(new Error(`goe-charger ${argv.join(" ")} exited with ${code}`)));
  });
  return { proc, ports, base: `http://127.0.0.1:${ports[ports.length - 1]}`, stop: () => proc.kill("SIGTERM") };
}

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TCK;
}

async function post(base, p) {
  const r = await fetch(`${base}${p}`, { method: "POST" });
  if (!r.ok) throw new Error(`POST ${p}: ${r.status} ${await r.text()}`);
  return r.json();
}

// the data of the first event of an SSE stream
async function firstEvent(url) {
  const ac = new AbortController();
  const r = await fetch(url, { signal: ac.signal });
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes("\n\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  ac.abort();
  return text.split("\n\n")[0].split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
}

// an SSE reader that counts bytes until stopped (a page that only watches)
function watcher(url) {
  const ac = new AbortController();
  let bytes = 0;
  const done = (async () => {
    try {
      const r = await fetch(url, { signal: ac.signal });
      const reader = r.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        bytes += value.length;
      }
    } catch { /* aborted */ }
  })();
  return { stop: async () => { ac.abort(); await done; return bytes; } };
}

async function metrics(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}
const diff = (a, b, k) => (b[k] - a[k]) * 1000; // seconds → ms

async function newPage(browser) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const cdp = await page.createCDPSession();
  await cdp.send("Performance.enable");
  return { page, context, cdp, errors };
}

// A. bytes of every /sim/ui/ asset a page loads, as Chromium received them
async function pageWeight(browser, url) {
  const { page, context } = await newPage(browser);
  const bodies = [];
  page.on("response", (r) => {
    if (r.url().includes("/sim/ui/")) bodies.push(r.buffer().then((b) => [r.url().replace(/.*\/sim\/ui\//, "") || "(index)", b.length]));
  });
  await page.goto(url, { waitUntil: "load" });
  await sleep(300);
  const files = await Promise.all(bodies);
  await context.close();
  return { bytes: files.reduce((s, [, n]) => s + n, 0), files };
}

// B. navigation start → `cond` true (a MutationObserver installed before the page runs)
async function firstRender(browser, url, cond) {
  const { page, context, errors } = await newPage(browser);
  await page.evaluateOnNewDocument((src) => {
    const check = new Function(`return (${src})`);
    const obs = new MutationObserver(() => {
      if (window.__firstRender === undefined && check()) {
        window.__firstRender = performance.now();
        obs.disconnect();
      }
    });
    obs.observe(document, { childList: true, subtree: true, characterData: true });
  }, cond);
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.__firstRender !== undefined, { timeout: 30000 });
  const t = await page.evaluate(() => ({
    render: window.__firstRender,
    load: performance.getEntriesByType("navigation")[0].loadEventEnd,
  }));
  if (errors.length) throw new Error(`${url}: ${errors.join(" | ")}`);
  await context.close();
  await sleep(300); // the hub stops without a watcher: every run starts cold
  return t;
}

async function loadTime(browser, url) {
  const { page, context } = await newPage(browser);
  await page.goto(url, { waitUntil: "load" });
  const t = await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd);
  await context.close();
  return t;
}

const FLEET = (n) => `base_serial = 500001\n[[charger]]\ncount = 4\nconfig = { loe = true, log = "garage", lot = { amp = 32 } }\n[[charger]]\ncount = ${n - 4}\n`;
const serial = (i) => String(500001 + i);
const TILE = "document.querySelector('#tiles > .tile') !== null";
const SERIAL = "!!document.getElementById('serial') && /^\\d+$/.test(document.getElementById('serial').textContent)";

const CARS = `[[car]]\nname = "bench-900kwh"\ncapacity_wh = 900000\nphases = 1\nmax_current_a = 16\ntaper_soc = 99\n`;

// D. one process at `speed`: server CPU and the charger's achieved speed
// without a page, with the fleet page (+ 10 more fleet streams), with the
// charger page of a charging charger
async function speedRun(browser, n, speed, extraWatchers) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goe-ui-cars-"));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, "cars.toml"), CARS);
  const args = ["--speed", String(speed), "--cars", path.join(dir, "cars.toml")];
  const p = n === 1 ? await start(args) : await start(args, FLEET(n));
  const q = (i) => (n === 1 ? "" : `serial=${serial(i)}&`);
  for (let i = 0; i < n; i += 2) await post(p.base, `/sim/plug?${q(i)}car=bench-900kwh&soc=5`);
  // the first charger on its own port (a running clock: reading does not step it)
  const probe = `http://127.0.0.1:${p.ports[0]}/api/status?filter=wh,nrg`;
  await sleep(2000);
  const measure = async (during) => {
    const c0 = cpuSeconds(p.proc.pid);
    const s0 = await (await fetch(probe)).json();
    const w0 = Date.now();
    const extra = await during();
    const wall = (Date.now() - w0) / 1000;
    const s1 = await (await fetch(probe)).json();
    const watts = (s0.nrg[11] + s1.nrg[11]) / 2;
    return { cpu: (cpuSeconds(p.proc.pid) - c0) / wall, speed: ((s1.wh - s0.wh) * 3600) / watts / wall, wall, ...extra };
  };
  const pageWindow = async (pg, count) => measure(async () => {
    const m0 = await metrics(pg.cdp);
    const c0 = await count();
    await sleep(WINDOW * 1000);
    const m1 = await metrics(pg.cdp);
    const c1 = await count();
    const frames = c1.frames - c0.frames;
    return { frames, perFrame: (c1.updated - c0.updated) / frames, script: diff(m0, m1, "ScriptDuration") / frames, busy: diff(m0, m1, "TaskDuration") / (WINDOW * 1000) };
  });
  const idle = await measure(async () => { await sleep(WINDOW * 1000); return {}; });
  // the stream's server cost without a browser on the same cores: 1, then 11 plain SSE readers
  const streams = async (k) => {
    const ws = Array.from({ length: k }, () => watcher(`${p.base}/sim/fleet/events`));
    await sleep(1000);
    const w = await measure(async () => { await sleep(WINDOW * 1000); return {}; });
    const bytes = await Promise.all(ws.map((x) => x.stop()));
    w.kib = bytes.reduce((a, b) => a + b, 0) / k / 1024 / (WINDOW + 1);
    return w;
  };
  const oneStream = await streams(1);
  const elevenStreams = extraWatchers ? await streams(11) : null;
  const fp = await newPage(browser);
  await fp.page.goto(`${p.base}/sim/ui/fleet.html`, { waitUntil: "load" });
  await fp.page.waitForFunction((n) => document.querySelectorAll("#tiles > .tile").length === n, { timeout: 30000 }, n);
  await sleep(1000);
  const fleetStats = () => fp.page.evaluate(() => ({ ...window.fleetStats }));
  const withPage = await pageWindow(fp, fleetStats);
  if (fp.errors.length) throw new Error(`fleet page: ${fp.errors.join(" | ")}`);
  await fp.context.close();
  const cp = await newPage(browser);
  await cp.cdp.send("Network.enable");
  let sse = 0;
  cp.cdp.on("Network.eventSourceMessageReceived", () => { sse++; });
  await cp.page.goto(`${p.base}/sim/ui/${n === 1 ? "" : `?serial=${serial(0)}`}`, { waitUntil: "load" });
  await sleep(1000);
  const withCharger = await pageWindow(cp, async () => ({ frames: sse, updated: sse }));
  if (cp.errors.length) throw new Error(`charger page: ${cp.errors.join(" | ")}`);
  await cp.context.close();
  p.stop();
  const label = `${n} × ${speed}`;
  const rate = (w) => f(w.frames / w.wall, 1);
  out(`| ${label} | (baseline) nothing watching | | | | | ${f(idle.cpu)} | 1.00 | ${f(idle.speed, 0)} |`);
  out(`| ${label} | 1 fleet stream (plain reader, ${f(oneStream.kib, 0)} KiB/s) | | | | | ${f(oneStream.cpu)} | ${f(oneStream.cpu / idle.cpu)} | ${f(oneStream.speed, 0)} |`);
  if (elevenStreams) {
    out(`| ${label} | 11 fleet streams (${f(elevenStreams.kib, 0)} KiB/s each) | | | | | ${f(elevenStreams.cpu)} | ${f(elevenStreams.cpu / idle.cpu)} | ${f(elevenStreams.speed, 0)} |`);
  }
  out(`| ${label} | fleet page in Chromium | ${rate(withPage)} | ${f(withPage.perFrame, 1)} | ${f(withPage.script)} | ${f(100 * withPage.busy, 1)} % | ${f(withPage.cpu)} | ${f(withPage.cpu / idle.cpu)} | ${f(withPage.speed, 0)} |`);
  out(`| ${label} | charger page in Chromium | ${rate(withCharger)} | 1 | ${f(withCharger.script)} | ${f(100 * withCharger.busy, 1)} % | ${f(withCharger.cpu)} | ${f(withCharger.cpu / idle.cpu)} | ${f(withCharger.speed, 0)} |`);
}

// S. the fleet stream's server cost as CPU time for the same simulated work
// (manual clock: 20 advances of 10 s of a 1,000-charger fleet, 500 charging),
// with 0, 1 and 11 plain SSE readers of /sim/fleet/events, then 0 again
async function serverCost() {
  const p = await start(["--clock", "manual"], FLEET(1000));
  for (let i = 0; i < 1000; i += 2) await post(p.base, `/sim/plug?serial=${serial(i)}&car=ev-3p-11kw&soc=5`);
  await post(p.base, "/sim/advance?seconds=60");
  const run = async (k) => {
    const ws = Array.from({ length: k }, () => watcher(`${p.base}/sim/fleet/events`));
    await sleep(1000);
    const c0 = cpuSeconds(p.proc.pid);
    for (let i = 0; i < 20; i++) {
      await post(p.base, "/sim/advance?seconds=10");
      await sleep(150);
    }
    const cpu = cpuSeconds(p.proc.pid) - c0;
    const bytes = await Promise.all(ws.map((w) => w.stop()));
    return { k, cpu, kib: k ? bytes.reduce((a, b) => a + b, 0) / k / 1024 : 0 };
  };
  const runs = [await run(0), await run(1), await run(11), await run(0)];
  p.stop();
  const base = (runs[0].cpu + runs[3].cpu) / 2;
  out("\n## S. server CPU of the fleet stream: 20 advances of 10 s, 1,000 chargers (500 charging), manual clock");
  out("| readers of /sim/fleet/events | server CPU s | KiB received per reader | vs no reader (mean of both runs) |");
  out("|---|---|---|---|");
  for (const r of runs) out(`| ${r.k === 0 ? "(baseline) 0" : r.k} | ${f(r.cpu)} | ${f(r.kib, 0)} | ${f(r.cpu / base)} |`);
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.GOE_CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    out(`# scripts/bench-ui.sh (REPS=${REPS}, WINDOW=${WINDOW} s), ${new Date().toISOString()}, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    out(`chromium ${await browser.version()}, ${os.cpus().length} CPUs`);

    if (!process.env.SECTIONS || process.env.SECTIONS.includes("ABC")) {
      // ---- A. page weight and stream frames --------------------------------------------
      const one = await start(["--clock", "manual"]);
      await post(one.base, "/sim/advance?seconds=3");
      const charger = await pageWeight(browser, `${one.base}/sim/ui/`);
      const fleetPage = await pageWeight(browser, `${one.base}/sim/ui/fleet.html`);
      const status = (await (await fetch(`${one.base}/api/status`)).arrayBuffer()).byteLength;
      out("\n## A. page weight (uncompressed bytes of every /sim/ui/ asset Chromium loaded)");
      out("| page | bytes | files | vs one full /api/status |");
      out("|---|---|---|---|");
      out(`| charger page | ${charger.bytes} | ${charger.files.map(([n, b]) => `${n} ${b}`).join(", ")} | ${f(charger.bytes / status)} |`);
      out(`| fleet page | ${fleetPage.bytes} | ${fleetPage.files.map(([n, b]) => `${n} ${b}`).join(", ")} | ${f(fleetPage.bytes / status)} |`);
      out(`| (baseline) /api/status of one charger | ${status} | | 1.00 |`);

      const fleet = await start(["--clock", "manual"], FLEET(1000));
      await post(fleet.base, "/sim/advance?seconds=3");
      const chargerFrame = Buffer.byteLength(await firstEvent(`${fleet.base}/sim/events`));
      const fleetFrame = Buffer.byteLength(await firstEvent(`${fleet.base}/sim/fleet/events`));
      out("\n## A2. first SSE frame per charger (1,000-charger fleet)");
      out("| stream | bytes | per charger | vs /sim/events frame of one charger |");
      out("|---|---|---|---|");
      out(`| /sim/fleet/events first frame, 1,000 chargers | ${fleetFrame} | ${f(fleetFrame / 1000, 0)} | ${f(fleetFrame / 1000 / chargerFrame, 3)} |`);
      out(`| (baseline) /sim/events first frame, one charger | ${chargerFrame} | ${chargerFrame} | 1.000 |`);

      // ---- B. time to first render -------------------------------------------------------
      const rows = [];
      const measure = async (label, url, cond) => {
        const runs = [];
        for (let i = 0; i < REPS; i++) runs.push(await firstRender(browser, url, cond));
        rows.push([label, median(runs.map((r) => r.render)), median(runs.map((r) => r.load))]);
      };
      const blank = [];
      for (let i = 0; i < REPS; i++) blank.push(await loadTime(browser, `${fleet.base}/sim/state`));
      const blankMs = median(blank);
      await measure("charger page, single charger", `${one.base}/sim/ui/`, SERIAL);
      await measure("fleet page, fleet of 1", `${one.base}/sim/ui/fleet.html`, TILE);
      await measure("charger page, in the 1,000-charger fleet", `${fleet.base}/sim/ui/`, SERIAL);
      await measure("fleet page, 1,000 chargers", `${fleet.base}/sim/ui/fleet.html`, TILE);
      out(`\n## B. time to first render (navigation start → serial / first tile shown), median of ${REPS} cold loads`);
      out("| page | first render ms | load event ms | vs small document load | vs fleet of 1 |");
      out("|---|---|---|---|---|");
      const fleetOf1 = rows[1][1];
      for (const [label, render, load] of rows) {
        out(`| ${label} | ${f(render, 1)} | ${f(load, 1)} | ${f(render / blankMs)} | ${label.startsWith("fleet") ? f(render / fleetOf1) : ""} |`);
      }
      out(`| (baseline) /sim/state document, load event | | ${f(blankMs, 1)} | 1.00 | |`);
      one.stop();

      // ---- C. update cost at 1,000 tiles --------------------------------------------------
      const { page, cdp, errors } = await newPage(browser);
      await page.goto(`${fleet.base}/sim/ui/fleet.html`, { waitUntil: "load" });
      await page.waitForFunction(() => document.querySelectorAll("#tiles > .tile").length === 1000, { timeout: 30000 });
      const stats = () => page.evaluate(() => ({ ...window.fleetStats }));
      const FRAMES = 20;
      const results = [];
      let plugged = 0;
      for (const k of [1, 10, 100, 1000]) {
        for (; plugged < k; plugged++) await post(fleet.base, `/sim/plug?serial=${serial(plugged)}&car=ev-3p-11kw`);
        await post(fleet.base, "/sim/advance?seconds=60");
        await sleep(500);
        const m0 = await metrics(cdp);
        const s0 = await stats();
        for (let i = 0; i < FRAMES; i++) {
          await post(fleet.base, "/sim/advance?seconds=1");
          await sleep(250); // > the 100 ms frame interval: one frame per advance, no polling scripts
        }
        await sleep(300);
        const m1 = await metrics(cdp);
        const s1 = await stats();
        const frames = s1.frames - s0.frames;
        results.push({
          k,
          frames,
          perFrame: (s1.updated - s0.updated) / frames,
          script: diff(m0, m1, "ScriptDuration") / frames,
          styleLayout: (diff(m0, m1, "RecalcStyleDuration") + diff(m0, m1, "LayoutDuration")) / frames,
          apply: (s1.applyMs - s0.applyMs) / frames,
        });
      }
      // baseline: re-render all 1,000 tiles from the same data (what a page without partial updates does)
      const m0 = await metrics(cdp);
      let applyAll = 0;
      for (let i = 0; i < FRAMES; i++) {
        // in a task of the page's own (a CDP evaluation is not in ScriptDuration)
        applyAll += await page.evaluate(() => new Promise((r) => setTimeout(() => r(window.fleetRerender()), 0)));
        await sleep(250);
      }
      const m1 = await metrics(cdp);
      const full = {
        script: diff(m0, m1, "ScriptDuration") / FRAMES,
        styleLayout: (diff(m0, m1, "RecalcStyleDuration") + diff(m0, m1, "LayoutDuration")) / FRAMES,
        apply: applyAll / FRAMES,
      };
      if (errors.length) throw new Error(`fleet page: ${errors.join(" | ")}`);
      out(`\n## C. cost of one SSE frame at 1,000 tiles (Performance.getMetrics over ${FRAMES} frames, manual clock, 1 s advance per frame)`);
      out("| cars charging | frames | chargers per frame | script ms/frame | style+layout ms/frame | page's apply ms/frame | script vs full re-render |");
      out("|---|---|---|---|---|---|---|");
      for (const r of results) {
        out(`| ${r.k} | ${r.frames} | ${f(r.perFrame, 1)} | ${f(r.script)} | ${f(r.styleLayout)} | ${f(r.apply)} | ${f(r.script / full.script, 3)} |`);
      }
      out(`| (baseline) full re-render of 1,000 tiles | ${FRAMES} | 1000 | ${f(full.script)} | ${f(full.styleLayout)} | ${f(full.apply)} | 1.000 |`);
      await page.browserContext().close();
      fleet.stop();
    }

    if (!process.env.SECTIONS || process.env.SECTIONS.includes("S")) await serverCost();

    // ---- D. a running clock: --speed 1000 (1 and 100 chargers), --speed 100 (1,000) ------------
    if (!process.env.SECTIONS || process.env.SECTIONS.includes("D")) {
      out(`\n## D. live pages on a running clock, ${WINDOW} s windows; half the chargers charging a 900 kWh car`);
      out("| chargers × speed | window | frames/s (cap 10) | chargers per frame | page script ms/frame | page main thread busy | server CPU (cores) | vs nothing watching | simulated s per s (from a car's wh) |");
      out("|---|---|---|---|---|---|---|---|---|");
      for (const [n, speed] of [[1, 1000], [100, 1000], [1000, 100]]) await speedRun(browser, n, speed, n === 1000);
    }
  } finally {
    await browser.close();
    for (const c of children) c.kill("SIGKILL");
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(String((e && e.stack) || e));
  for (const c of children) c.kill("SIGKILL");
  process.exit(1);
});
