// Apollo Client's automatic persisted queries link against the registry: runs QUERY (with
// VARIABLES) once through a fresh client on each URL given, in order, and prints one JSON line
// per run: what the client sent (whether each request carried the document) and the data.
// Usage: CCPOR_TOKEN=… QUERY=… VARIABLES='{…}' node apq.mjs URL [URL…]
import { createHash } from "node:crypto";
import { ApolloClient, InMemoryCache, HttpLink, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const token = process.env.CCPOR_TOKEN;
const query = gql(process.env.QUERY);
const variables = JSON.parse(process.env.VARIABLES || "{}");

for (const uri of process.argv.slice(2)) {
  const sent = [];
  const recordingFetch = async (url, init) => {
    const body = JSON.parse(init.body);
    sent.push({
      withDocument: typeof body.query === "string" && body.query.length > 0,
      hash: body.extensions?.persistedQuery?.sha256Hash ?? null,
    });
    return fetch(url, init);
  };
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: createPersistedQueryLink({
      sha256: (text) => createHash("sha256").update(text).digest("hex"),
    }).concat(
      new HttpLink({ uri, fetch: recordingFetch, headers: { authorization: `Bearer ${token}` } }),
    ),
  });
  const result = await client.query({ query, variables, fetchPolicy: "no-cache" });
  console.log(JSON.stringify({ uri, sent, data: result.data, errors: result.errors ?? null }));
}
