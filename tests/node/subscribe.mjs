// Subscribes with the graphql-ws client (graphql-transport-ws protocol) and prints one JSON line
// per message: {"type":"next",...}, {"type":"error",...}, {"type":"closed",code,reason},
// {"type":"complete"} or {"type":"timeout"}. Exits after COUNT `next` messages or on anything
// that ends the subscription.
//
//   CCPOR_TOKEN=<token or empty> SUB_QUERY='subscription { … }' SUB_VARIABLES='{}' \
//     node subscribe.mjs ws://127.0.0.1:PORT/graphql/ws COUNT TIMEOUT_MS
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, countArg, timeoutArg] = process.argv.slice(2);
const count = Number(countArg ?? 1);
const token = process.env.CCPOR_TOKEN ?? '';
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

let seen = 0;
let ended = false;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  lazy: true,
  connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  on: {
    connected: () => print({ type: 'connected' }),
    closed: (e) => {
      if (!ended) print({ type: 'closed', code: e?.code, reason: e?.reason });
    },
  },
});

const finish = async (code = 0) => {
  ended = true;
  await client.dispose();
  process.exit(code);
};

setTimeout(() => {
  print({ type: 'timeout', seen });
  finish();
}, Number(timeoutArg ?? 20000));

client.subscribe(
  { query: process.env.SUB_QUERY, variables: JSON.parse(process.env.SUB_VARIABLES || '{}') },
  {
    next: (msg) => {
      print({ type: 'next', ...msg });
      seen += 1;
      if (msg.errors || seen >= count) finish();
    },
    error: (err) => {
      if (Array.isArray(err)) print({ type: 'error', errors: err });
      else if (err && typeof err.code === 'number') print({ type: 'closed', code: err.code, reason: err.reason });
      else print({ type: 'error', errors: [{ message: String(err?.message ?? err) }] });
      finish();
    },
    complete: () => {
      print({ type: 'complete' });
      finish();
    },
  },
);
