// A second, independent OCPP 1.6J backend for the OCPP tests of goe-charger (issue #14):
// ocpp-rpc (npm, pinned 2.2.1) in strict mode. Every inbound CALL and every response of the
// charge point to one of our calls is validated against ocpp-rpc's own bundled 1.6 schemas;
// each 'strictValidationFailure' and each 'badMessage' (a frame ocpp-rpc cannot parse) is a
// violation. The tests end with none.
//
// Run: node strict.js   (NODE_PATH or GOE_OCPP_RPC_DIR names the install: <dir>/node_modules)
// Remote control: the JSON-lines protocol of csms.py. First line
// {"ready":true,"port":P,"versions":{...}}; then one answer line per request
// {"op":"name","args":{...}} → {"ok":true,"result":…} | {"ok":false,"error":"…"}.
// Ops: options {boot, interval}, wait_connect {count, timeout}, wait_for {action, count,
// timeout, since}, call {action, payload, timeout}, mark, frames {since}, violations,
// connections.
'use strict';
const path = require('path');
const readline = require('readline');
const dir = process.env.GOE_OCPP_RPC_DIR;
const { RPCServer, createRPCError } = require(dir ? path.join(dir, 'node_modules', 'ocpp-rpc') : 'ocpp-rpc');
const rpcVersion = require(dir ? path.join(dir, 'node_modules', 'ocpp-rpc', 'package.json') : 'ocpp-rpc/package.json').version;

const opt = { boot: 'Accepted', interval: 60 };
const frames = [];
const violations = [];
const connections = [];
const clients = new Map();
let lastClient = null;
let nextTx = 1;
let waiters = [];

const notify = () => { const w = waiters; waiters = []; w.forEach((f) => f()); };
const now = () => new Date().toISOString();

function frame(cp, dir, raw) {
  let msg = null;
  try { msg = JSON.parse(raw); } catch (_) { /* recorded as null */ }
  frames.push({ i: frames.length, t: Date.now() / 1000, cp, dir, raw, msg });
  notify();
}

function violation(cp, where, error) {
  violations.push({ cp, where, error, t: Date.now() / 1000 });
}

// Resolves with pred()'s first truthy value, or null after `timeout` seconds.
function waitUntil(pred, timeout) {
  return new Promise((resolve) => {
    const end = Date.now() + timeout * 1000;
    const check = () => {
      const v = pred();
      if (v) return resolve(v);
      const left = end - Date.now();
      if (left <= 0) return resolve(null);
      const t = setTimeout(check, Math.min(left, 500));
      waiters.push(() => { clearTimeout(t); check(); });
    };
    check();
  });
}

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
server.on('client', (client) => {
  const cp = client.identity;
  clients.set(cp, client);
  lastClient = cp;
  connections.push({ event: 'connect', cp, protocol: client.protocol, t: Date.now() / 1000 });
  notify();
  client.on('message', ({ message, outbound }) => frame(cp, outbound ? 'tx' : 'rx', String(message)));
  client.on('strictValidationFailure', (ev) => violation(cp, ev.outbound ? 'outbound' : 'inbound',
    `${ev.method || ''}: ${ev.error && ev.error.message}`));
  client.on('badMessage', (ev) => violation(cp, 'badMessage', String(ev.error && ev.error.message)));
  client.on('close', (ev) => {
    if (clients.get(cp) === client) clients.delete(cp);
    connections.push({ event: 'disconnect', cp, code: ev && ev.code, t: Date.now() / 1000 });
    notify();
  });
  client.handle('BootNotification', () => ({ status: opt.boot, interval: opt.interval, currentTime: now() }));
  client.handle('Heartbeat', () => ({ currentTime: now() }));
  client.handle('StatusNotification', () => ({}));
  client.handle('Authorize', () => ({ idTagInfo: { status: 'Accepted' } }));
  client.handle('StartTransaction', () => ({ transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }));
  client.handle('StopTransaction', () => ({ idTagInfo: { status: 'Accepted' } }));
  client.handle('MeterValues', () => ({}));
  client.handle('FirmwareStatusNotification', () => ({}));
  client.handle('DiagnosticsStatusNotification', () => ({}));
  client.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
  client.handle(({ method }) => {
    violation(cp, 'unexpected', `the charge point sent ${method}`);
    throw createRPCError('NotImplemented');
  });
});

function calls(action, since) {
  return frames.slice(since).filter((f) => f.dir === 'rx' && Array.isArray(f.msg) && f.msg.length === 4 &&
    f.msg[0] === 2 && f.msg[2] === action).map((f) => ({ i: f.i, id: f.msg[1], payload: f.msg[3], t: f.t, cp: f.cp }));
}

const ops = {
  options: async (a) => { Object.assign(opt, a); return opt; },
  wait_connect: async ({ count = 1, timeout = 30 }) => {
    const got = await waitUntil(() => {
      const c = connections.filter((x) => x.event === 'connect');
      return c.length >= count ? c.slice(0, count) : null;
    }, timeout);
    if (!got) throw new Error(`no ${count} connection(s) within ${timeout} s`);
    return got;
  },
  wait_for: async ({ action, count = 1, timeout = 30, since = 0 }) => {
    if (count === 0) return calls(action, since);
    const got = await waitUntil(() => { const c = calls(action, since); return c.length >= count ? c : null; }, timeout);
    if (!got) {
      const seen = frames.slice(since).filter((f) => f.dir === 'rx' && Array.isArray(f.msg) && f.msg[0] === 2).map((f) => f.msg[2]);
      throw new Error(`${count} ${action} not received within ${timeout} s; CALLs since ${since}: ${JSON.stringify(seen)}`);
    }
    return got;
  },
  call: async ({ action, payload = {}, timeout = 30, cp }) => {
    const client = clients.get(cp || lastClient);
    if (!client) throw new Error(`no charge point ${cp || lastClient} is connected`);
    try {
      return { type: 'result', payload: await client.call(action, payload, { callTimeoutMs: timeout * 1000 }) };
    } catch (e) {
      return { type: 'error', code: e.rpcErrorCode || e.name, description: String(e.message), details: e.details || {} };
    }
  },
  mark: async () => frames.length,
  frames: async ({ since = 0 }) => frames.slice(since),
  violations: async () => violations,
  connections: async () => connections,
};

server.listen(0, '127.0.0.1').then((httpServer) => {
  const port = httpServer.address().port;
  process.stdout.write(JSON.stringify({ ready: true, port, versions: { 'ocpp-rpc': rpcVersion, node: process.versions.node } }) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      let answer;
      try {
        const req = JSON.parse(line);
        const fn = ops[req.op];
        if (!fn) throw new Error(`unknown op ${req.op}`);
        answer = { ok: true, result: await fn(req.args || {}) };
      } catch (e) {
        answer = { ok: false, error: String(e && e.stack || e) };
      }
      process.stdout.write(JSON.stringify(answer) + '\n');
    });
  });
  rl.on('close', () => chain.then(() => { server.close({ force: true }); process.exit(0); }));
});
