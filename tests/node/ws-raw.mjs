// Speaks graphql-transport-ws by hand, for the tests of what a client may not do: sends the
// messages of WS_SEND (a JSON array) once the socket opens, then prints one JSON line per event:
// {"type":"open"}, {"type":"message","message":{…}}, {"type":"closed",code,reason} or
// {"type":"timeout"}, each with the milliseconds since start. Exits on close or at TIMEOUT_MS.
//
//   WS_SEND='[{"type":"connection_init","payload":{…}}]' node ws-raw.mjs ws://…/graphql/ws TIMEOUT_MS
//
// WS_PAD_BYTES=N adds a field `pad` of N bytes to the first message's payload (a message too
// large to pass through the environment).
import WebSocket from 'ws';

const [url, timeoutArg] = process.argv.slice(2);
const send = JSON.parse(process.env.WS_SEND || '[]');
const pad = Number(process.env.WS_PAD_BYTES || 0);
if (pad > 0 && send.length > 0) send[0].payload = { ...(send[0].payload || {}), pad: 'x'.repeat(pad) };
const started = Date.now();
const print = (o) => process.stdout.write(JSON.stringify({ ...o, ms: Date.now() - started }) + '\n');

const ws = new WebSocket(url, 'graphql-transport-ws');
ws.on('open', () => {
  print({ type: 'open' });
  for (const m of send) ws.send(JSON.stringify(m));
});
ws.on('message', (data) => print({ type: 'message', message: JSON.parse(data.toString()) }));
ws.on('close', (code, reason) => {
  print({ type: 'closed', code, reason: reason.toString() });
  process.exit(0);
});
ws.on('error', (e) => {
  print({ type: 'error', message: String(e) });
  process.exit(1);
});
setTimeout(() => {
  print({ type: 'timeout' });
  process.exit(0);
}, Number(timeoutArg ?? 10000));
