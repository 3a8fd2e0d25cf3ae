// The fleet page of the goe-charger dashboard: one tile per charger, the
// load of each load-balancing group against its lot, a state filter. Fed by
// /sim/fleet/events (server-sent events): a first frame with every charger,
// then frames with only the chargers that changed. Tiles are made once; an
// update touches only the fields of the tiles whose values changed.
import { words } from "./words.js";

const $ = (id) => document.getElementById(id);
const STATES = { 0: "Unknown", 1: "Idle", 2: "Charging", 3: "WaitCar", 4: "Complete", 5: "Error", 6: "Initializing" };

const tiles = new Map(); // serial → { el, p, r, s (the summary shown) }
const counts = new Map(); // car state → tiles in it
const groups = new Map(); // group → { members: Set of serials, row }
let totalW = 0;

// counters for tests and scripts/bench-ui.sh
const stats = { frames: 0, updated: 0, applyMs: 0, lastApplyMs: 0, renderMs: 0, tiles: 0 };
window.fleetStats = stats;

const kw = (w) => `${((w ?? 0) / 1000).toFixed(1)} kW`;
const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const reasonOf = (s) => (s.errName && s.err ? `Error: ${s.errName}` : words(s.reason));
const titleOf = (s) =>
  `${s.serial}: ${s.carName ?? s.car} · ${words(s.reason) || s.modelStatus} · ${kw(s.powerW)}, ${s.amps} A on ${s.phases} phase(s), allowed ${s.acu ?? "–"} A` +
  (s.group !== undefined ? ` · group ${s.group}` : "");

function tileHtml(s) {
  const href = `index.html?serial=${encodeURIComponent(s.serial)}`;
  return `<a class="tile${s.err ? " err" : ""}" data-car="${esc(s.car ?? "")}" href="${href}" title="${esc(titleOf(s))}">` +
    `<b>${esc(s.serial)}</b><span class="p">${kw(s.powerW)}</span><span class="r">${esc(reasonOf(s))}</span></a>`;
}

function count(car, delta) {
  counts.set(car, (counts.get(car) ?? 0) + delta);
}

// every tile from scratch (the first frame, or a frame naming an unknown charger)
function renderAll(chargers) {
  const t0 = performance.now();
  tiles.clear();
  counts.clear();
  totalW = 0;
  const box = $("tiles");
  box.innerHTML = chargers.map(tileHtml).join("");
  const els = box.children;
  chargers.forEach((s, i) => {
    const el = els[i];
    tiles.set(s.serial, { el, p: el.children[1], r: el.children[2], s });
    count(s.car, 1);
    totalW += s.powerW ?? 0;
  });
  stats.tiles = tiles.size;
  rebuildGroups();
  showCounts();
  stats.renderMs = performance.now() - t0;
}

// only the fields that changed, of the tiles that changed (all known)
function update(chargers) {
  const dirtyGroups = new Set();
  for (const s of chargers) {
    const t = tiles.get(s.serial);
    const old = t.s;
    if (old.car !== s.car) {
      count(old.car, -1);
      count(s.car, 1);
      t.el.dataset.car = String(s.car ?? "");
    }
    if (old.powerW !== s.powerW) {
      totalW += (s.powerW ?? 0) - (old.powerW ?? 0);
      setText(t.p, kw(s.powerW));
    }
    const reason = reasonOf(s);
    if (reason !== reasonOf(old)) t.r.textContent = reason;
    if (!!old.err !== !!s.err) t.el.classList.toggle("err", !!s.err);
    const title = titleOf(s);
    if (t.el.title !== title) t.el.title = title;
    if (old.group !== s.group) {
      if (old.group !== undefined) dirtyGroups.add(old.group);
      if (s.group !== undefined) dirtyGroups.add(s.group);
    } else if (s.group !== undefined && (old.amps !== s.amps || old.lot !== s.lot || old.powerW !== s.powerW)) {
      dirtyGroups.add(s.group);
    }
    t.s = s;
  }
  for (const g of dirtyGroups) {
    if (!groups.has(g) || chargers.some((s) => s.group === g && !groups.get(g).members.has(s.serial))) {
      rebuildGroups();
      break;
    }
    showGroup(g);
  }
  showCounts();
}

function rebuildGroups() {
  groups.clear();
  for (const [serial, t] of tiles) {
    const g = t.s.group;
    if (g === undefined) continue;
    if (!groups.has(g)) groups.set(g, { members: new Set(), row: null });
    groups.get(g).members.add(serial);
  }
  const body = $("groups").tBodies[0];
  body.textContent = "";
  for (const [name, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const row = body.insertRow();
    row.dataset.group = name;
    row.innerHTML = `<td>${esc(name || "(no name)")}</td><td></td><td class="load"></td><td><div class="bar"><div></div></div></td><td class="power"></td>`;
    g.row = row;
    showGroup(name);
  }
  $("groups").classList.toggle("some", groups.size > 0);
}

// a group's load: the members' highest phase currents summed, against the
// smallest lot of its members (as the coordinator allots it)
function showGroup(name) {
  const g = groups.get(name);
  if (!g) return;
  let amps = 0, watts = 0, lot = Infinity, members = 0;
  for (const serial of g.members) {
    const s = tiles.get(serial)?.s;
    if (!s || s.group !== name) continue;
    members++;
    amps += s.amps ?? 0;
    watts += s.powerW ?? 0;
    if (typeof s.lot === "number") lot = Math.min(lot, s.lot);
  }
  if (lot === Infinity) lot = 0;
  const cells = g.row.cells;
  setText(cells[1], String(members));
  setText(cells[2], `${amps.toFixed(1)} / ${lot} A`);
  const bar = cells[3].firstChild;
  bar.classList.toggle("over", amps > lot);
  bar.firstChild.style.width = `${lot > 0 ? Math.min(100, (100 * amps) / lot) : 0}%`;
  setText(cells[4], kw(watts));
}

function showCounts() {
  const parts = [`${tiles.size} charger${tiles.size === 1 ? "" : "s"}`];
  for (const car of [2, 3, 4, 1, 5, 0, 6]) {
    const n = counts.get(car) ?? 0;
    if (n) parts.push(`${n} ${STATES[car].toLowerCase()}`);
  }
  parts.push(`total ${kw(totalW)}`);
  const filter = $("tiles").dataset.filter;
  if (filter !== "all") parts.push(`showing ${counts.get(Number(filter)) ?? 0} ${STATES[filter].toLowerCase()}`);
  setText($("count"), parts.join(" · "));
  for (const option of $("state-filter").options) {
    if (option.value !== "all") setText(option, `${STATES[option.value]} (${counts.get(Number(option.value)) ?? 0})`);
  }
}

// a text that did not change is not set again (no style or layout work)
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

let events = null;

function apply(frame) {
  const t0 = performance.now();
  if (frame.full) renderAll(frame.chargers);
  else if (frame.chargers.every((s) => tiles.has(s.serial))) update(frame.chargers);
  else return connect(); // a charger this page never saw: start over with a first frame
  const ms = performance.now() - t0;
  stats.frames++;
  stats.updated += frame.chargers.length;
  stats.applyMs += ms;
  stats.lastApplyMs = ms;
  stats.seq = frame.seq;
}

// baseline for scripts/bench-ui.sh: what a page without partial updates would do
window.fleetRerender = () => {
  const all = [...tiles.values()].map((t) => t.s);
  const t0 = performance.now();
  renderAll(all);
  return performance.now() - t0;
};

$("state-filter").addEventListener("change", (e) => {
  $("tiles").dataset.filter = e.target.value;
  showCounts();
});

function connect() {
  if (events) events.close();
  events = new EventSource("/sim/fleet/events");
  events.addEventListener("fleet", (e) => {
    $("live").textContent = "live";
    $("live").className = "";
    apply(JSON.parse(e.data));
  });
  events.onerror = () => {
    $("live").textContent = "offline";
    $("live").className = "off";
  };
}

connect();
