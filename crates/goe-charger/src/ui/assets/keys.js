// The settings card and the key browser of the goe-charger dashboard.
// Everything about a key (friendly name, description, type, unit, enum
// names, whether it is writable or a secret) comes from the key table via
// /sim/ui/keys.json; values arrive live on /sim/events (the full
// /api/status, masked like it). Writes go to the charger's own /api/set and
// its answer is shown as it is: no second validation here that could
// disagree with the charger's.

const $ = (id) => document.getElementById(id);
const serialQuery = new URLSearchParams(location.search).get("serial");
const withSerial = (path) => (serialQuery ? `${path}?serial=${encodeURIComponent(serialQuery)}` : path);

// the settings card: these keys where the charger's firmware has them
const SETTINGS = ["frc", "amp", "lmo", "psm", "ust", "acs", "bac", "sdp"];

let meta = new Map(); // key -> metadata
let lastFrame = null;
const rows = new Map(); // key -> { row, value, editor, shown }
const settings = new Map(); // key -> editor

const show = (m, v) => {
  if (v === undefined) return m.readable ? "–" : "(write-only)";
  if (m.input === "enum" && typeof v === "number") {
    const e = m.enum.find((x) => x.value === v);
    return e ? `${e.name} (${v})` : String(v);
  }
  return typeof v === "string" ? v : JSON.stringify(v);
};

// An input for the key's type; `read()` gives the text /api/set gets.
function editor(m, id) {
  let el;
  if (m.input === "enum") {
    el = document.createElement("select");
    for (const e of m.enum) {
      const o = document.createElement("option");
      o.value = String(e.value);
      o.textContent = e.name;
      el.append(o);
    }
  } else if (m.input === "bool") {
    el = document.createElement("input");
    el.type = "checkbox";
  } else {
    el = document.createElement("input");
    el.type = m.secret && m.input === "string" ? "password" : "text";
    if (m.input === "integer" || m.input === "number") el.inputMode = "decimal";
    if (m.input === "json") el.className = "json";
    el.autocomplete = "off";
  }
  if (id) el.id = id;
  el.dataset.key = m.key;
  const mark = () => { el.dataset.dirty = "1"; };
  el.addEventListener("input", mark);
  el.addEventListener("change", mark);
  return el;
}

// what the charger gets for the editor's content (as typed; the charger decides)
function read(m, el) {
  if (m.input === "bool") return el.checked ? "true" : "false";
  if (m.input === "enum") return el.value;
  const text = el.value;
  if (m.input === "string") return JSON.stringify(text);
  if (text.trim() === "" && m.optional) return "null";
  return text;
}

// puts the current value into an editor the user is not changing
function fill(m, el, v) {
  if (document.activeElement === el || el.dataset.dirty) return;
  if (m.input === "bool") el.checked = v === true;
  else if (m.input === "enum") el.value = typeof v === "number" ? String(v) : "";
  else if (m.secret && m.secret.shown === "isSet") el.placeholder = !m.readable ? "write-only" : v === true ? "set (type a new value)" : "not set";
  else if (v === undefined) el.value = "";
  else el.value = m.input === "string" && typeof v === "string" ? v : v === null ? "" : JSON.stringify(v);
}

// one /api/set request; the charger's answer per key: true or its error text
async function write(pairs) {
  const q = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  const r = await fetch(`/api/set?${q}`);
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    // not the API's answer (e.g. the API is off): say what the charger said
    return Object.fromEntries(pairs.map(([k]) => [k, text || `HTTP ${r.status}`]));
  }
}

const refusedText = (k, v) => (typeof v === "string" ? v : `${k}: ${JSON.stringify(v)}`);

function buildSettings() {
  const box = $("settings-fields");
  for (const key of SETTINGS) {
    const m = meta.get(key);
    if (!m || !m.writable) continue;
    const label = document.createElement("label");
    label.title = m.description;
    const el = editor(m, `set-${key}`);
    label.append(`${m.name} (${key}) `, el);
    if (m.unit) label.append(` ${m.unit}`);
    box.append(label);
    settings.set(key, el);
  }
  $("settings-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("settings-error").textContent = "";
    const pairs = [...settings].filter(([, el]) => el.dataset.dirty).map(([k, el]) => [k, read(meta.get(k), el)]);
    if (!pairs.length) return;
    const reply = await write(pairs);
    const refused = Object.entries(reply).filter(([, v]) => v !== true);
    $("settings-error").textContent = refused.map(([k, v]) => refusedText(k, v)).join("; ");
    for (const el of settings.values()) delete el.dataset.dirty;
    if (lastFrame) render(lastFrame);
  });
}

function cell(row, text, cls) {
  const td = row.insertCell();
  if (cls) td.className = cls;
  if (text !== undefined) td.textContent = text;
  return td;
}

function ruleText(m) {
  const r = m.rule;
  if (!r) return "";
  if (r.kind === "range") return `${r.min} … ${r.max}${r.follows ? ` (${r.follows.join(", ")})` : ""}`;
  if (r.kind === "length") return `length ${r.min} … ${r.max}`;
  return r.kind;
}

function buildBrowser() {
  const body = $("keys-table").tBodies[0];
  const frag = document.createDocumentFragment();
  for (const m of meta.values()) {
    const row = document.createElement("tr");
    row.dataset.key = m.key;
    const k = cell(row, undefined, "k");
    const code = document.createElement("code");
    code.textContent = m.key;
    k.append(code, ` ${m.access}`);
    if (m.secret) k.append(" secret");
    const d = cell(row, undefined, "d");
    const strong = document.createElement("strong");
    strong.textContent = m.name;
    const desc = document.createElement("div");
    desc.textContent = `${m.description} · ${m.category}`;
    d.append(strong, desc);
    const t = cell(row, m.type, "t");
    const rule = ruleText(m);
    if (rule) {
      const small = document.createElement("div");
      small.textContent = rule;
      t.append(small);
    }
    cell(row, m.unit ?? "", "u");
    const value = cell(row, show(m, undefined), "v");
    const edit = cell(row, undefined, "e");
    let ed = null;
    if (m.writable) {
      ed = editor(m);
      ed.setAttribute("aria-label", `new value of ${m.key}`);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "set";
      button.textContent = "Set";
      const result = document.createElement("div");
      result.className = "key-result";
      edit.append(ed, button, result);
      const submit = async () => {
        result.textContent = "";
        result.classList.remove("error");
        const reply = await write([[m.key, read(m, ed)]]);
        const v = reply[m.key];
        delete ed.dataset.dirty;
        if (v === true) {
          result.textContent = "saved";
        } else {
          result.textContent = refusedText(m.key, v);
          result.classList.add("error");
        }
        $("keys-error").textContent = v === true ? "" : result.textContent;
        ed.blur();
        if (lastFrame) render(lastFrame, true);
      };
      button.addEventListener("click", submit);
      ed.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submit(); } });
    }
    rows.set(m.key, { row, value, editor: ed, shown: undefined, text: `${m.key} ${m.name} ${m.description} ${m.category} ${m.type}`.toLowerCase() });
    frag.append(row);
  }
  body.append(frag);
  $("keys-filter").addEventListener("input", filter);
  $("keys-writable").addEventListener("change", filter);
  filter();
}

function filter() {
  const words = $("keys-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  const writable = $("keys-writable").checked;
  let n = 0;
  for (const [key, r] of rows) {
    const hit = (!writable || meta.get(key).writable) && words.every((w) => r.text.includes(w));
    r.row.hidden = !hit;
    if (hit) n++;
  }
  $("keys-count").textContent = `${n} of ${rows.size} keys`;
}

// a frame: only the cells whose value changed are touched
function render(frame, force = false) {
  lastFrame = frame;
  const s = frame.status || {};
  for (const [key, r] of rows) {
    const v = s[key];
    const text = v === undefined ? undefined : JSON.stringify(v);
    if (text === r.shown && !force) continue;
    r.shown = text;
    const m = meta.get(key);
    r.value.textContent = show(m, v);
    if (r.editor) fill(m, r.editor, v);
  }
  for (const [key, el] of settings) fill(meta.get(key), el, s[key]);
}

async function start() {
  const r = await fetch(withSerial("/sim/ui/keys.json"));
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const doc = await r.json();
  meta = new Map(doc.keys.map((m) => [m.key, m]));
  buildSettings();
  buildBrowser();
  if (serialQuery) {
    // /api/set reaches only the charger on this port, not the one of ?serial=
    for (const el of $("settings-form").elements) el.disabled = true;
    for (const r of rows.values()) if (r.editor) for (const el of r.row.querySelectorAll("input, select, button")) el.disabled = true;
    $("settings-error").textContent = "settings: open this charger's page on its own port";
    $("keys-error").textContent = "key writes: open this charger's page on its own port";
  }
  // the page's one event stream is app.js's: it hands each frame on
  window.addEventListener("goe-frame", (e) => render(e.detail));
  if (window.goeLastFrame) render(window.goeLastFrame);
}

start().catch((e) => { $("keys-error").textContent = `key table: ${e}`; });
