// The charger page of the goe-charger dashboard: live state from
// /sim/events (server-sent events, no polling), controls through the
// control API (/sim/…); the settings card and the key browser are keys.js.

const $ = (id) => document.getElementById(id);
// `?serial=S` addresses another charger of a fleet (control API only)
const serialQuery = new URLSearchParams(location.search).get("serial");
const simUrl = (name, params = {}) => {
  const q = new URLSearchParams(params);
  if (serialQuery) q.set("serial", serialQuery);
  const s = q.toString();
  return `/sim/${name}${s ? "?" + s : ""}`;
};

const CAR_COLOURS = { 1: "#2e7dff", 2: "#00b050", 3: "#ffb300", 4: "#00b050", 5: "#e00000" };

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
  set("reason", names.modelStatus ? `${names.modelStatus} (${s.modelStatus})` : String(s.modelStatus ?? "–"));
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
  set("clock", `${time} (${clock.mode ?? "?"}${clock.speed ? ` ×${clock.speed}` : ""})`);
  $("ring").style.borderColor = CAR_COLOURS[s.car] ?? "#888";
  const grid = sim.grid || {};
  set("pv", fmt(grid.pv_w, 0));
  set("house", fmt(grid.house_w, 0));
  set("battery", fmt(grid.battery_w, 0));
  set("grid", fmt(sim.grid_power_w, 0));
  set("ambient", typeof sim.ambient_c === "number" ? `${fmt(sim.ambient_c)} °C` : "–");
  set("fault", String(sim.fault ?? "–"));
  document.body.dataset.car = String(s.car ?? "");
}

function connect() {
  const q = serialQuery ? `?serial=${encodeURIComponent(serialQuery)}` : "";
  const events = new EventSource(`/sim/events${q}`);
  events.addEventListener("state", (e) => {
    $("live").textContent = "live";
    $("live").className = "";
    render(JSON.parse(e.data));
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
  control("advance", { seconds: $("advance-seconds").value });
});
const onSubmit = (id, f) => $(id).addEventListener("submit", (e) => { e.preventDefault(); f(); });
onSubmit("grid-form", () => control("grid", { pv: $("grid-pv").value, house: $("grid-house").value }, "world-error"));
onSubmit("temperature-form", () => control("temperature", { celsius: $("temperature").value }, "world-error"));
onSubmit("fault-form", () => control("fault", { err: $("fault-err").value }, "world-error"));
$("fault-clear").addEventListener("click", () => control("fault", { err: "0" }, "world-error"));
onSubmit("rfid-form", () => control("rfid", { card: $("rfid-card").value }, "world-error"));

loadCars().catch((e) => { $("control-error").textContent = `car profiles: ${e}`; });
connect();
