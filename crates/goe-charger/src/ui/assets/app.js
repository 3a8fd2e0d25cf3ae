// The charger page of the goe-charger dashboard: live state from
// /sim/events (server-sent events, no polling), controls through the
// control API (/sim/…); the settings card and the key browser are keys.js.
import { words } from "./words.js";

const $ = (id) => document.getElementById(id);
// `?serial=S` addresses another charger of a fleet (control API only)
const serialQuery = new URLSearchParams(location.search).get("serial");
const simUrl = (name, params = {}) => {
  const q = new URLSearchParams(params);
  if (serialQuery) q.set("serial", serialQuery);
  const s = q.toString();
  return `/sim/${name}${s ? "?" + s : ""}`;
};

// The LED ring: 32 LEDs (0–31, as the charger's `led` ranges count them)
const LEDS = 32;
const OFF = "#3a3a3a";

function buildRing() {
  const ring = $("ring");
  for (let i = 0; i < LEDS; i++) {
    const led = document.createElement("span");
    led.className = "led";
    // LED 0 at the top, clockwise
    led.style.transform = `rotate(${(360 / LEDS) * i}deg) translateY(-23px)`;
    ring.append(led);
  }
}

// What the charger's `led` says, LED by LED: each range's LEDs take its
// colours in turn; LEDs outside every range are off.
function ledColours(led) {
  const colours = new Array(LEDS).fill(null);
  for (const range of (led && Array.isArray(led.ranges)) ? led.ranges : []) {
    const list = Array.isArray(range.colors) ? range.colors : [];
    if (!list.length) continue;
    const from = Math.max(0, range.from | 0);
    const to = Math.min(LEDS - 1, range.to | 0);
    for (let i = from; i <= to; i++) colours[i] = list[(i - from) % list.length];
  }
  return colours;
}

function renderRing(s) {
  const ring = $("ring");
  const colours = ledColours(s.led);
  // lbr: brightness 0–255 of the whole ring
  const lbr = typeof s.lbr === "number" ? Math.max(0, Math.min(255, s.lbr)) : 255;
  const brightness = lbr / 255;
  [...ring.children].forEach((el, i) => {
    el.style.backgroundColor = colours[i] ?? OFF;
    el.style.opacity = colours[i] ? String(0.15 + 0.85 * brightness) : "1";
  });
  ring.dataset.color = colours.find((c) => c) ?? "";
  ring.dataset.brightness = String(lbr);
  ring.dataset.animation = s.led && s.led.name ? s.led.name : "";
  ring.title = `LED ring: ${ring.dataset.animation || "off"} ${ring.dataset.color}, brightness ${lbr}/255`;
}

const fmt = (v, digits = 1) => (typeof v === "number" ? v.toFixed(digits) : "–");
const kwh = (wh) => (typeof wh === "number" ? `${(wh / 1000).toFixed(2)} kWh` : "–");
const set = (id, text) => { $(id).textContent = text; };

function render(frame) {
  const s = frame.status || {};
  const names = frame.names || {};
  const sim = frame.sim || {};
  set("serial", frame.serial ?? s.sse ?? "?");
  set("fwv", s.fwv ?? "?");
  set("car", names.car ? `${names.car} (${s.car})` : String(s.car ?? "–"));
  set("reason", names.modelStatus ? `${words(names.modelStatus)} (${s.modelStatus})` : String(s.modelStatus ?? "–"));
  set("err", names.err ? `${names.err} (${s.err})` : String(s.err ?? "–"));
  set("acu", s.acu ?? "–");
  set("amp", s.amp ?? "–");
  const pha = Array.isArray(s.pha) ? s.pha : [];
  const on = (from) => ["L1", "L2", "L3"].filter((_, i) => pha[from + i]).join(" ") || "none";
  set("pha", pha.length >= 6 ? `${on(3)} / ${on(0)}` : "–");
  set("wh", kwh(s.wh));
  set("eto", kwh(s.eto));
  set("tma", Array.isArray(s.tma) ? s.tma.map((t) => `${fmt(t)} °C`).join(", ") : "–");
  const soc = sim.plugged ? sim.soc : undefined;
  set("soc", typeof soc === "number" ? `${fmt(soc)} %` : "–");
  const nrg = Array.isArray(s.nrg) ? s.nrg : [];
  const rows = $("nrg").tBodies[0].rows;
  for (let i = 0; i < 4; i++) {
    rows[0].cells[i + 1].textContent = fmt(nrg[i], 0);
    rows[1].cells[i + 1].textContent = i < 3 ? fmt(nrg[4 + i]) : "";
    rows[2].cells[i + 1].textContent = fmt(typeof nrg[7 + i] === "number" ? nrg[7 + i] / 1000 : undefined, 2);
  }
  set("ptotal", fmt(typeof nrg[11] === "number" ? nrg[11] / 1000 : undefined, 2));
  const clock = sim.clock || {};
  const time = typeof s.utc === "string" ? s.utc : sim.time ?? "";
  const mode = clock.mode === "real" ? `real ×${clock.speed}${clock.paused ? ", paused" : ""}` : clock.mode ?? "?";
  set("clock", `${time} (${mode})`);
  set("clock-time", time || "–");
  set("clock-mode", mode);
  document.body.dataset.clock = clock.mode ?? "";
  $("clock-pause").textContent = clock.paused ? "Resume" : "Pause";
  $("clock-pause").dataset.paused = clock.paused ? "1" : "";
  const speed = $("clock-speed");
  if (document.activeElement !== speed && !speed.dataset.dirty && clock.speed) speed.value = String(clock.speed);
  renderRing(s);
  const grid = sim.grid || {};
  set("pv", fmt(grid.pv_w, 0));
  set("house", fmt(grid.house_w, 0));
  set("battery", fmt(grid.battery_w, 0));
  set("grid", fmt(sim.grid_power_w, 0));
  set("ambient", typeof sim.ambient_c === "number" ? `${fmt(sim.ambient_c)} °C` : "–");
  set("fault", String(sim.fault ?? "–"));
  const hb = sim.battery;
  set("home-battery", hb ? `${fmt(hb.soc)} % of ${fmt(hb.capacity_wh / 1000, 1)} kWh, ${fmt(hb.power_w, 0)} W` : "none (fixed power)");
  document.body.dataset.car = String(s.car ?? "");
  if (frame.history) chartHistory(frame.history);
}

// The power chart (uPlot, vendored): the last hour of simulated time, from
// the server's history (whole in the first frame, newer samples after)
const HOUR_S = 3600;
const SERIES = [
  { label: "Charging", stroke: "#00a050", width: 2 },
  { label: "PV", stroke: "#f0b000" },
  { label: "House", stroke: "#7a4fd0" },
  { label: "Grid", stroke: "#d03030" },
  { label: "Battery", stroke: "#2e7dff" },
];
let chart = null;
let chartData = [[], [], [], [], [], []];

function makeChart() {
  const el = $("chart");
  const width = Math.max(300, el.clientWidth || 600);
  chart = new uPlot({
    width,
    height: 220,
    // the charger's clock is UTC (`utc`): the axis too
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    scales: { x: { time: true } },
    series: [{ label: "UTC" }, ...SERIES.map((s) => ({ ...s, value: (u, v) => (v == null ? "–" : `${v} W`) }))],
    axes: [{ values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) }, { label: "W", size: 60 }],
  }, chartData, el);
  window.addEventListener("resize", () => chart.setSize({ width: Math.max(300, el.clientWidth), height: 220 }));
}

function chartHistory(h) {
  const cols = Array.isArray(h.data) ? h.data : [];
  if (cols.length !== chartData.length) return;
  if (h.full) chartData = cols.map((c) => c.slice());
  else cols.forEach((c, i) => chartData[i].push(...c));
  const newest = chartData[0][chartData[0].length - 1];
  let drop = 0;
  while (drop < chartData[0].length && chartData[0][drop] <= newest - HOUR_S) drop++;
  if (drop) chartData = chartData.map((c) => c.slice(drop));
  if (!chart) makeChart();
  chart.setData(chartData);
  $("chart").dataset.samples = String(chartData[0].length);
}

function connect() {
  const q = serialQuery ? `?serial=${encodeURIComponent(serialQuery)}` : "";
  const events = new EventSource(`/sim/events${q}`);
  events.addEventListener("state", (e) => {
    $("live").textContent = "live";
    $("live").className = "";
    const frame = JSON.parse(e.data);
    render(frame);
    // one stream per page: keys.js renders the same frames ("goe-frame")
    window.goeLastFrame = frame;
    window.dispatchEvent(new CustomEvent("goe-frame", { detail: frame }));
  });
  events.onerror = () => {
    $("live").textContent = "offline";
    $("live").className = "off";
  };
}

async function control(name, params, errorId = "control-error") {
  $(errorId).textContent = "";
  const r = await fetch(simUrl(name, params), { method: "POST" });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    $(errorId).textContent = body.error ?? `HTTP ${r.status}`;
  }
}

async function loadCars() {
  const r = await fetch("/sim/cars");
  const cars = await r.json();
  const select = $("car-profile");
  for (const car of cars.cars ?? []) {
    const option = document.createElement("option");
    option.value = car.name;
    option.textContent = car.name;
    option.selected = car.name === cars.default;
    select.append(option);
  }
}

$("plug-form").addEventListener("submit", (e) => {
  e.preventDefault();
  control("plug", { car: $("car-profile").value, soc: $("car-soc").value });
});
$("unplug").addEventListener("click", () => control("unplug"));
$("button").addEventListener("click", () => control("button"));
$("advance-form").addEventListener("submit", (e) => {
  e.preventDefault();
  control("advance", { seconds: $("advance-seconds").value }, "clock-error");
});
// the process's clock (shared by a fleet): pause/resume, speed
$("clock-pause").addEventListener("click", () =>
  control("clock", { pause: $("clock-pause").dataset.paused ? "false" : "true" }, "clock-error"));
$("clock-speed").addEventListener("input", (e) => { e.target.dataset.dirty = "1"; });
$("clock-form").addEventListener("submit", (e) => {
  e.preventDefault();
  delete $("clock-speed").dataset.dirty;
  control("clock", { speed: $("clock-speed").value }, "clock-error");
});
const onSubmit = (id, f) => $(id).addEventListener("submit", (e) => { e.preventDefault(); f(); });
onSubmit("grid-form", () => {
  const params = { pv: $("grid-pv").value, house: $("grid-house").value };
  // a fixed battery power only when given (refused while a home battery is configured)
  if ($("grid-battery").value !== "") params.battery = $("grid-battery").value;
  control("grid", params, "world-error");
});
onSubmit("battery-form", () => control("battery", { capacity: $("battery-capacity").value, soc: $("battery-soc").value }, "world-error"));
$("battery-remove").addEventListener("click", () => control("battery", { capacity: "0" }, "world-error"));
onSubmit("temperature-form", () => control("temperature", { celsius: $("temperature").value }, "world-error"));
onSubmit("fault-form", () => control("fault", { err: $("fault-err").value }, "world-error"));
$("fault-clear").addEventListener("click", () => control("fault", { err: "0" }, "world-error"));
onSubmit("rfid-form", () => control("rfid", { card: $("rfid-card").value }, "world-error"));

buildRing();
loadCars().catch((e) => { $("control-error").textContent = `car profiles: ${e}`; });
connect();
