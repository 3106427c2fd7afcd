// The registry as a subgraph behind a real Apollo gateway.
//
//   node gateway.mjs <registry /graphql url>      (CCPOR_TOKEN: a bearer token for the registry)
//
// Fetches the registry's live `_service { sdl }`, composes it with a small "notes" subgraph
// (served here by @apollo/subgraph) using @apollo/composition, starts @apollo/gateway over the
// composed supergraph on a free port, and runs queries through it that need both subgraphs. The
// gateway passes the caller's Authorization header on to the registry. Prints one JSON object:
// { composed, withToken, withoutToken }.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const registryUrl = process.argv[2];
const token = process.env.CCPOR_TOKEN;
if (!registryUrl || !token) {
  console.error('usage: CCPOR_TOKEN=<token> node gateway.mjs http://HOST:PORT/graphql');
  process.exit(2);
}

async function post(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

// 1. The registry's subgraph SDL, as a gateway would fetch it.
const svc = await post(registryUrl, { query: '{ _service { sdl } }' }, { authorization: `Bearer ${token}` });
const registrySdl = svc.body?.data?._service?.sdl;
if (!registrySdl) {
  console.error('no _service.sdl from the registry:', JSON.stringify(svc));
  process.exit(1);
}

// 2. A second subgraph: case notes kept by another system. It adds a field to the registry's
//    Person and Order entities and has a root field returning Order references the registry
//    resolves.
const notesSdl = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
type Person @key(fields: "id") { id: ID! noteCount: Int! }
type Order @key(fields: "id") { id: ID! caseNote: String! }
type Watch { label: String! order: Order! }
type Query { watchlist: [Watch!]! }`;
const watched = JSON.parse(process.env.CCPOR_WATCHED_ORDERS ?? '[]');
const resolvers = {
  Query: { watchlist: () => watched.map((id, i) => ({ label: `watch ${i + 1}`, order: { id } })) },
  Person: { __resolveReference: (p) => ({ id: p.id }), noteCount: (p) => p.id.length },
  Order: { __resolveReference: (o) => ({ id: o.id }), caseNote: (o) => `note for ${o.id}` },
};
const notes = new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs: parse(notesSdl), resolvers }]) });
const { url: notesUrl } = await startStandaloneServer(notes, { listen: { port: 0, host: '127.0.0.1' } });

// 3. Composition, as rover / GraphOS do it.
const composed = composeServices([
  { name: 'registry', url: registryUrl, typeDefs: parse(registrySdl) },
  { name: 'notes', url: notesUrl, typeDefs: parse(notesSdl) },
]);
if (composed.errors) {
  for (const e of composed.errors) console.error(e.extensions?.code, e.message);
  process.exit(1);
}

// 4. The gateway over the composed supergraph; the caller's token goes on to the registry.
class Forward extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context?.authorization) request.http.headers.set('authorization', context.authorization);
  }
}
const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ url }) => new Forward({ url }),
});
const server = new ApolloServer({ gateway });
const { url: gatewayUrl } = await startStandaloneServer(server, {
  listen: { port: 0, host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});

// 5. A query needing both subgraphs: the watchlist (notes) → orders (registry) → their parties'
//    persons (registry) → noteCount (notes); and caseNote (notes) on each order.
const query = `query Watchlist { watchlist { label order { id caseNumber status caseNote
  court { code } parties { role person { id fullName noteCount } } } } }`;
const withToken = await post(gatewayUrl, { query }, { authorization: `Bearer ${token}` });
const withoutToken = await post(gatewayUrl, { query });

console.log(JSON.stringify({
  composed: { supergraphBytes: composed.supergraphSdl.length, hints: composed.hints.length },
  withToken,
  withoutToken,
}));
await server.stop();
await notes.stop();
process.exit(0);
