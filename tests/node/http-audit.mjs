// Runs graphql-http's GraphQL-over-HTTP server audit against the URL given as the first
// argument and prints one JSON line per audit: { id, name, status, reason }.
// The audit runs as an authenticated client: CCPOR_TOKEN (a bearer token) is added to every
// request, as any real client of the registry sends one.
// Exit code 0 when every audit ran; the Rust test decides what passes.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const token = process.env.CCPOR_TOKEN;
if (!url || !token) {
  console.error('usage: CCPOR_TOKEN=<bearer token> node http-audit.mjs <graphql url>');
  process.exit(2);
}
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
for (const r of results) {
  console.log(JSON.stringify({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null }));
}
