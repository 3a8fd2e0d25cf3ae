// The light OCPP 1.6J backend of scripts/bench-ocpp.sh: one node process on the `ws` package
// (no schema validation: the tests validate, the benchmark measures the charge points).
// It accepts every charge point on ws://127.0.0.1:PORT/ocpp/<identity> with the ocpp1.6
// subprotocol, answers every CALL a go-e sends (BootNotification Accepted with interval 60),
// and prints one JSON line a second with the connections and the CALLs per action, per
// group (identities starting with GOE-SIM are the SAP simulator's, the rest goe-charger's).
// Usage: node csms.js PORT   (NODE_PATH must reach `ws`)
'use strict';
const { WebSocketServer } = require('ws');
const port = Number(process.argv[2] || 0);
const interval = Number(process.env.BENCH_INTERVAL || 60);
const groups = {};
let nextTx = 1;
const group = (id) => (id.startsWith('GOE-SIM') ? 'sap' : 'goe');
const stats = (g) => (groups[g] ||= { connected: 0, connects: 0, calls: {}, bad: 0 });
const now = () => new Date().toISOString();
const answers = {
  BootNotification: () => ({ status: 'Accepted', interval, currentTime: now() }),
  Heartbeat: () => ({ currentTime: now() }),
  StatusNotification: () => ({}),
  Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
  StartTransaction: () => ({ transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }),
  StopTransaction: () => ({}),
  MeterValues: () => ({}),
  FirmwareStatusNotification: () => ({}),
  DataTransfer: () => ({ status: 'UnknownVendorId' }),
};
const wss = new WebSocketServer({
  host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false,
  handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
});
wss.on('connection', (ws, req) => {
  const id = decodeURIComponent(req.url.split('?')[0].replace(/\/+$/, '').split('/').pop() || '');
  const s = stats(group(id));
  s.connected++; s.connects++;
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data); } catch (_) { s.bad++; return; }
    if (!Array.isArray(m) || m[0] !== 2) return;
    s.calls[m[2]] = (s.calls[m[2]] || 0) + 1;
    const a = answers[m[2]];
    ws.send(JSON.stringify(a ? [3, m[1], a()] : [4, m[1], 'NotImplemented', '', {}]));
  });
  ws.on('close', () => { s.connected--; });
  ws.on('error', () => {});
});
wss.on('listening', () => {
  process.stdout.write(JSON.stringify({ listening: wss.address().port }) + '\n');
  setInterval(() => process.stdout.write(JSON.stringify({ t: Date.now() / 1000, groups }) + '\n'), 1000);
});
