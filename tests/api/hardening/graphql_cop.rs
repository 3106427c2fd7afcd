//! graphql-cop's checks (github.com/dolevf/graphql-cop, `lib/tests/`) ported as integration
//! tests, each with graphql-cop's own probe, plus production mode and per-token rate limiting.
//! Each test states what graphql-cop would flag and asserts the server does not give it that.
use ccpor::auth::{AuthConfig, Role};
use serde_json::{Value, json};

use super::{messages, post, production};
use crate::helpers::{TestApp, client_with, dv_tro, error_code, spawn_app, spawn_app_with};

/// dos_alias_overloading: 101 aliases of `__typename`; flagged when `alias100` comes back.
#[tokio::test]
async fn alias_overloading_is_refused() {
    let app = spawn_app().await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let aliases = |n: usize| -> String {
        let fields: String = (0..n).map(|i| format!("alias{i}:__typename \n")).collect();
        format!("query {{ {fields} }}")
    };
    for token in [None, Some(bench.as_str())] {
        let (status, body) = post(&app, token, &aliases(101)).await;
        assert_eq!(status, 400, "{body:#}");
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION");
        assert!(body["data"].is_null(), "no alias100: {body:#}");
        assert!(messages(&body).contains("aliases"), "{body:#}");
    }
    // Up to the limit, aliases are ordinary GraphQL.
    let (status, body) = post(&app, Some(&bench), &aliases(30)).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["alias29"], "QueryRoot");
}

/// dos_batch: a JSON array of ten `query { __typename }`; flagged when ten results come back.
#[tokio::test]
async fn array_batches_are_refused() {
    let app = spawn_app().await;
    let batch: Vec<Value> = (0..10)
        .map(|_| json!({ "query": "query { __typename }" }))
        .collect();
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.is_object(),
        "one error, not a list of results: {body:#}"
    );
    assert_eq!(error_code(&body), "BAD_REQUEST");
    assert!(body["data"].is_null());
}

/// dos_field_duplication: `__typename` 500 times; flagged when data comes back. The executor
/// resolves every copy, so duplicating a data field multiplies its database work within the
/// complexity budget (500 copies of a 100-row page cost 2,000 of 5,000 units).
#[tokio::test]
async fn field_duplication_is_refused() {
    let app = spawn_app().await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let typenames = format!("query {{ {}}} ", "__typename \n".repeat(500));
    for token in [None, Some(bench.as_str())] {
        let (status, body) = post(&app, token, &typenames).await;
        assert_eq!(status, 400, "{body:#}");
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION");
        assert!(body["data"].is_null(), "{body:#}");
        assert!(messages(&body).contains("repeated fields"), "{body:#}");
    }
    let pages = format!(
        "{{ {} }}",
        "orders(first: 100) { edges { node { id } } } ".repeat(500)
    );
    let audit_before = app.count("audit_event").await;
    let (status, body) = post(&app, Some(&bench), &pages).await;
    assert_eq!(status, 400, "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(
        app.count("audit_event").await,
        audit_before,
        "refused before anything ran or was read"
    );
    // A field written twice is still fine.
    let (status, body) = post(&app, Some(&bench), "{ courts { code code } }").await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body["errors"].is_null(), "{body:#}");
}

/// dos_directive_overloading: ten unknown directives on one field; flagged when the server
/// answers with one error per directive (it processed each of them).
#[tokio::test]
async fn directive_overloading_is_refused_before_each_directive_is_processed() {
    let app = spawn_app().await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let (_, body) = post(
        &app,
        Some(&bench),
        "query { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }",
    )
    .await;
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body:#}");
    assert!(messages(&body).contains("directives"), "{body:#}");
    assert!(body["data"].is_null());
}

/// dos_circular_introspection: `__schema { types { fields { type { fields … } } } }` four levels
/// round; flagged when more than 25 types come back. Production mode has no introspection; in
/// development, introspection works for signed-in callers (GraphiQL) but the depth limit stops
/// circular queries that go deeper than the GraphiQL introspection query needs.
#[tokio::test]
async fn circular_introspection_is_refused() {
    let probe = "query { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";
    let prod = spawn_app_with(production()).await;
    let bench = prod.mint(Role::BenchOfficer, Some("SC19"));
    let (_, body) = post(&prod, Some(&bench), probe).await;
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION", "{body:#}");

    let dev = spawn_app().await;
    let bench = dev.mint(Role::BenchOfficer, Some("SC19"));
    let (_, body) = post(&dev, None, probe).await;
    assert_eq!(
        error_code(&body),
        "UNAUTHENTICATED",
        "no introspection for anonymous callers: {body:#}"
    );
    let deeper = format!(
        "query {{ __schema {{ types {{ {} name {} }} }} }}",
        "fields { type { ".repeat(8),
        "} } ".repeat(8)
    );
    let (_, body) = post(&dev, Some(&bench), &deeper).await;
    assert!(body["data"].is_null(), "{body:#}");
    assert!(messages(&body).contains("nested too deep"), "{body:#}");
}

/// dos_circular_fragment: fragments A and B spread each other; flagged when no error comes
/// back. The server must refuse it, and still be there afterwards.
#[tokio::test]
async fn circular_fragments_are_refused() {
    let app = spawn_app().await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let probe = "query { __schema { ...A } } fragment A on __Schema { __typename ...B } fragment B on __Schema { ...A }";
    let (_, body) = post(&app, Some(&bench), probe).await;
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION", "{body:#}");
    let (status, _) = post(&app, Some(&bench), "{ __typename }").await;
    assert_eq!(status, 200, "the server is still up");
}

/// info_field_suggestions: `__schema { directive }`; flagged when the error says "Did you
/// mean". Development servers suggest (so this test can see a suggestion); production does not.
#[tokio::test]
async fn field_suggestions_are_off_in_production() {
    let probes = ["query { __schema { directive } }", "{ coursts { code } }"];
    let dev = spawn_app().await;
    let bench = dev.mint(Role::BenchOfficer, Some("SC19"));
    let (_, body) = post(&dev, Some(&bench), probes[1]).await;
    assert!(
        messages(&body).contains("Did you mean"),
        "development suggests: {body:#}"
    );
    let prod = spawn_app_with(production()).await;
    let bench = prod.mint(Role::BenchOfficer, Some("SC19"));
    for probe in probes {
        let (_, body) = post(&prod, Some(&bench), probe).await;
        assert!(body["errors"].is_array(), "{body:#}");
        assert!(!messages(&body).contains("Did you mean"), "{body:#}");
        assert!(!messages(&body).contains("courts"), "{body:#}");
    }
}

/// info_introspect: the full `__schema` query; flagged when the schema comes back.
#[tokio::test]
async fn introspection_is_off_in_production() {
    let probe = "query { __schema { queryType { name } types { name fields { name } } } }";
    let dev = spawn_app().await;
    let bench = dev.mint(Role::BenchOfficer, Some("SC19"));
    let (_, body) = post(&dev, Some(&bench), probe).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "QueryRoot");

    let prod = spawn_app_with(production()).await;
    for role in [Role::BenchOfficer, Role::Admin] {
        let token = prod.mint(role, Some("SC19"));
        for q in [probe, "{ __type(name: \"Person\") { fields { name } } }"] {
            let (_, body) = post(&prod, Some(&token), q).await;
            assert!(body["data"].is_null(), "{role}: {body:#}");
            assert_eq!(error_code(&body), "GRAPHQL_VALIDATION", "{role}: {body:#}");
            assert!(
                !body.to_string().contains("driverLicenseNumber"),
                "{role}: {body:#}"
            );
        }
    }
    // Ordinary queries still work.
    let token = prod.mint(Role::BenchOfficer, Some("SC19"));
    let (status, body) = post(&prod, Some(&token), "{ court(code: \"SC01\") { county } }").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["court"]["county"], "Alameda");
}

/// info_graphiql: GET /graphiql, /playground, /console, /graphql; flagged when a page mentions
/// GraphiQL or GraphQL Playground. Development serves the playground (so the heuristics are
/// seen to work); production serves none of them.
#[tokio::test]
async fn no_graphql_ide_in_production() {
    let heuristics = [
        "graphiql.min.css",
        "GraphQL Playground",
        "GraphiQL",
        "graphql-playground",
    ];
    let endpoints = ["/graphiql", "/playground", "/console", "/graphql"];
    let found = |app: &TestApp| {
        let urls: Vec<String> = endpoints.iter().map(|e| app.url(e)).collect();
        async move {
            let mut hits = Vec::new();
            for url in urls {
                let resp = reqwest::get(&url).await.unwrap();
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap();
                if heuristics.iter().any(|h| text.contains(h)) {
                    hits.push((url, status));
                }
            }
            hits
        }
    };
    let dev = spawn_app().await;
    assert!(
        !found(&dev).await.is_empty(),
        "development has a playground"
    );
    let prod = spawn_app_with(production()).await;
    assert_eq!(found(&prod).await, vec![], "production has no IDE");
    let resp = reqwest::get(prod.url("/playground")).await.unwrap();
    assert_eq!(resp.status(), 404);
}

/// info_get_method_support, info_get_based_mutation and info_post_based_csrf: GraphQL over GET,
/// mutations over GET, and queries posted as a form; each is a CSRF vector when the server
/// honours ambient credentials. Here credentials are bearer tokens a browser never attaches by
/// itself, GET serves queries only, and only `application/json` bodies are read.
#[tokio::test]
async fn cross_site_requests_cannot_read_or_write() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let anonymous = reqwest::Client::new();
    // GET queries: what a cross-site page can make a browser send carries no token, and gets
    // nothing but `__typename`.
    let resp = anonymous
        .get(app.url("/graphql"))
        .query(&[("query", "{__typename}")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = anonymous
        .get(app.url("/graphql"))
        .query(&[("query", "{ orders(first: 1) { edges { node { id } } } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // GET mutations: 405, even with a token.
    let resp = client_with(&clerk)
        .get(app.url("/graphql"))
        .query(&[("query", "mutation {__typename}")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED");

    // Form posts (url-encoded, multipart, text/plain) are the bodies a cross-site page can
    // send without a preflight: each is refused before it is read, with or without a token.
    let create = json!({
        "query": "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
        "variables": { "i": dv_tro("26FL880001", 1) }
    })
    .to_string();
    let before = app.snapshot().await;
    let forms: [(&str, String); 4] = [
        (
            "application/x-www-form-urlencoded",
            "query=query%20%7B__typename%7D".to_owned(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("query={}", "mutation%20%7B__typename%7D"),
        ),
        (
            "multipart/form-data; boundary=X",
            format!(
                "--X\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{create}\r\n--X--\r\n"
            ),
        ),
        ("text/plain", create.clone()),
    ];
    for (content_type, body) in forms {
        for client in [anonymous.clone(), client_with(&clerk)] {
            let resp = client
                .post(app.url("/graphql"))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let got = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            // Multipart is how files are uploaded, so it is refused for want of a CSRF
            // preflight header (a browser cannot add one cross-site) rather than by type.
            let (status, code) = if content_type.starts_with("multipart/") {
                (400, "BAD_REQUEST")
            } else {
                (415, "UNSUPPORTED_MEDIA_TYPE")
            };
            assert_eq!(error_code(&body), code, "{content_type}: {body}");
            assert_eq!(got, status, "{content_type}: {body}");
            assert!(body["data"].is_null());
        }
    }
    assert_eq!(app.snapshot().await, before, "nothing was written");
}

/// info_trace_mode and info_unhandled_error: `extensions.tracing`, `extensions.exception` or a
/// stack trace in a response; and the malformed `qwerty cop { abc }`.
#[tokio::test]
async fn no_tracing_or_exception_details_in_responses() {
    let app = spawn_app().await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    for (token, q) in [
        (None, "query { __typename }"),
        (Some(bench.as_str()), "query { __typename }"),
        (Some(bench.as_str()), "qwerty cop { abc }"),
        (Some(bench.as_str()), "{ nope }"),
        (Some(bench.as_str()), "{ order(id: \"not-an-id\") { id } }"),
    ] {
        let (_, body) = post(&app, token, q).await;
        assert!(body.get("extensions").is_none(), "{q}: {body:#}");
        let text = body.to_string().to_lowercase();
        for leak in ["tracing", "exception", "stacktrace", "backtrace", ".rs:"] {
            assert!(!text.contains(leak), "{q}: {leak} in {body:#}");
        }
        if let Some(errors) = body["errors"].as_array() {
            for e in errors {
                let keys: Vec<&String> = e["extensions"].as_object().unwrap().keys().collect();
                assert!(
                    keys.iter()
                        .all(|k| ["code", "field", "rule"].contains(&k.as_str())),
                    "{q}: {keys:?}"
                );
            }
        }
    }
    let (_, body) = post(&app, Some(&bench), "qwerty cop { abc }").await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION", "{body:#}");
}

/// Error masking: a database failure reaches the client as `INTERNAL` with no SQL, table
/// or driver text (it is logged instead).
#[tokio::test]
async fn internal_errors_are_masked() {
    let app = spawn_app().await;
    let (id, _, _) = crate::helpers::create(&app, dv_tro("26FL880002", 3)).await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("DROP TABLE service_record")
        .await
        .unwrap();
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let resp = client_with(&bench)
        .post(app.url("/graphql"))
        .json(&json!({ "query": "query($id: ID!) { order(id: $id) { id serviceRecords { method } } }", "variables": { "id": id } }))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL", "{body:#}");
    assert_eq!(body["errors"][0]["message"], "internal error");
    let text = body.to_string().to_lowercase();
    for leak in [
        "service_record",
        "no such table",
        "relation",
        "sqlx",
        "sqlite",
        "postgres",
        "select",
    ] {
        assert!(!text.contains(leak), "{leak} in {body:#}");
    }
}

/// Bodies over 2 MiB are refused with 413 whether they announce their length or not (a
/// chunked body is cut off while it is read).
#[tokio::test]
async fn oversized_chunked_bodies_get_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut rx, mut tx) = stream.into_split();
    // Read while writing: the server answers, and may close, before the body is all sent.
    let reader = tokio::spawn(async move {
        let mut response = Vec::new();
        let _ = rx.read_to_end(&mut response).await;
        response
    });
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bench}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr
    );
    tx.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
    // 3 MiB in 64 KiB chunks.
    for _ in 0..48 {
        if tx.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = tx.write_all(b"0\r\n\r\n").await;
    let _ = tx.shutdown().await;
    let response = reader.await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 413"),
        "{}",
        &response[..response.len().min(300)]
    );
}

/// Rate limiting: each token has a budget of query cost per minute; over it, 429 with
/// `RATE_LIMITED`. Another token has its own budget; a token narrowed from a limited one
/// shares its budget (narrowing never widens).
#[tokio::test]
async fn each_token_is_limited_by_query_cost() {
    let app = spawn_app_with(AuthConfig {
        cost_per_minute: 10,
        ..Default::default()
    })
    .await;
    // Cost 6 of 10: the first passes, the second cannot (refilling 1 unit takes 6 s).
    let query = "{ courts { code name county fips ori } }";
    let first = app.mint(Role::Analyst, None);
    let (status, body) = post(&app, Some(&first), query).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body["errors"].is_null(), "{body:#}");
    let (status, body) = post(&app, Some(&first), query).await;
    assert_eq!(status, 429, "{body:#}");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(body["data"].is_null());

    let narrowed = ccpor::auth::token::attenuate(
        &first,
        &ccpor::auth::token::Narrowing {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let (status, _) = post(&app, Some(&narrowed), query).await;
    assert_eq!(status, 429, "a narrowed token spends its parent's budget");

    let second = crate::helpers::mint_with(&app.keys, Role::Analyst, None, None, "analyst-2");
    let (status, body) = post(&app, Some(&second), query).await;
    assert_eq!(status, 200, "another token has its own budget: {body:#}");

    // More than a whole budget never runs, however long the caller waits.
    let third = crate::helpers::mint_with(&app.keys, Role::Analyst, None, None, "analyst-3");
    let (status, body) = post(
        &app,
        Some(&third),
        "{ courts { code name county fips ori } agencies { id ori name county agencyType } }",
    )
    .await;
    assert_eq!(status, 429, "{body:#}");

    // The refusals are audited as denials.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let denied = entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::Outcome.eq("denied"))
        .filter(entities::audit_event::Column::Detail.contains("RATE_LIMITED"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(denied, 3);
}
