//! The cross-request cache: hits audited like misses, per-caller field rules on cached rows,
//! writes seen fresh on another instance, expiry never outlived, hit/miss metrics, automatic
//! persisted queries, and a Redis that goes away under load.
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ccpor::auth::Role;
use ccpor::auth::token::{Narrowing, attenuate};
use ccpor::cache::CacheKind;
use ccpor::contract::persisted::hash;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, client_with, create, dv_tro, epo, error_code, spawn_app, spawn_app_with_redis,
    spawn_peer,
};

const ORDER: &str = "query($o: ID!) { order(id: $o) { id status court { code }
    parties { role person { id fullName } } } }";

const HISTORY: &str = "query($p: ID!) { personHistory(personId: $p) {
    activeChainCount chains { status current { id status } orders { id status } } } }";

/// The Redis the suite runs against; the cross-instance tests need a shared one.
fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "REDIS_URL is not set: two instances share their cache through Redis. Run \
             `bash scripts/test.sh` (it starts Redis and exports REDIS_URL) or set \
             REDIS_URL=redis://127.0.0.1:6379"
            )
        })
}

async fn audit_rows(app: &TestApp, event: &str) -> Vec<entities::audit_event::Model> {
    entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::Event.eq(event))
        .order_by_asc(entities::audit_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap()
}

async fn scrape(app: &TestApp) -> String {
    reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The same document again is answered whole from the cache; another document over the same
/// rows reads the rows from the cache. Both are audited exactly like the first read.
#[tokio::test]
async fn a_cache_hit_is_audited_like_a_miss() {
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26FL700001", 2)).await;
    let before = app.cache.stats();
    let first = app.data(ORDER, json!({ "o": order })).await;
    let mid = app.cache.stats();
    let answers = app.cache.stats_of(CacheKind::Answer).hits;
    let second = app.data(ORDER, json!({ "o": order })).await;
    assert_eq!(first, second);
    assert_eq!(
        app.cache.stats_of(CacheKind::Answer).hits,
        answers + 1,
        "the same document again is answered whole"
    );
    let mid2 = app.cache.stats();
    let other_document = format!("# the same rows, another document\n{ORDER}");
    let third = app.data(&other_document, json!({ "o": order })).await;
    let after = app.cache.stats();
    assert_eq!(first, third);
    assert!(
        mid.misses > before.misses,
        "the first read fills: {before:?} → {mid:?}"
    );
    // The order, its court and both persons come from the cache the third time.
    assert!(
        after.hits >= mid2.hits + 4,
        "the third read hits rows: {mid2:?} → {after:?}"
    );
    let rows = audit_rows(&app, "graphql.query").await;
    let [.., miss, answer_hit, row_hit] = rows.as_slice() else {
        panic!("three query audit rows: {rows:?}");
    };
    for hit in [answer_hit, row_hit] {
        assert_eq!(miss.object_ids, hit.object_ids);
        assert_eq!(miss.fields, hit.fields);
        assert_eq!(miss.outcome, hit.outcome);
        assert_eq!(miss.user_id, hit.user_id);
    }
    for id in [
        order.as_str(),
        first["order"]["parties"][0]["person"]["id"]
            .as_str()
            .unwrap(),
    ] {
        assert!(
            answer_hit.object_ids.contains(id),
            "{id} in {}",
            answer_hit.object_ids
        );
    }
}

/// A whole answer is kept per caller: another user of the same role, or the same user with a
/// narrower token, never gets it; answers with errors (a denied field) and answers holding a
/// moment (a conflict check) are never kept.
#[tokio::test]
async fn whole_answers_are_kept_per_caller_and_only_when_clean() {
    let app = spawn_app().await;
    let (order, person, _) = create(&app, dv_tro("26FL700006", 2)).await;
    let answer_hits = || async { app.cache.stats_of(CacheKind::Answer).hits };
    let judge =
        crate::helpers::mint_with(&app.keys, Role::BenchOfficer, Some("SC19"), None, "judge-1");
    let other_judge =
        crate::helpers::mint_with(&app.keys, Role::BenchOfficer, Some("SC19"), None, "judge-2");
    let first = app
        .gql_as(Some(&judge), HISTORY, json!({ "p": person }))
        .await;
    assert!(first.get("errors").is_none(), "{first:#}");
    let h0 = answer_hits().await;
    let again = app
        .gql_as(Some(&judge), HISTORY, json!({ "p": person }))
        .await;
    assert_eq!(first, again);
    assert_eq!(answer_hits().await, h0 + 1, "the same caller reuses it");
    let other = app
        .gql_as(Some(&other_judge), HISTORY, json!({ "p": person }))
        .await;
    assert_eq!(first, other, "the same data for the same role");
    assert_eq!(answer_hits().await, h0 + 1, "but not the same entry");

    // A token narrowed to another county: refused, never handed the judge's answer.
    let sf_only = attenuate(
        &judge,
        &Narrowing {
            county: Some("San Francisco".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let narrowed = app
        .gql_as(Some(&sf_only), HISTORY, json!({ "p": person }))
        .await;
    assert!(narrowed.get("errors").is_some(), "{narrowed:#}");
    assert_eq!(answer_hits().await, h0 + 1);

    // An analyst's read of names is denied field by field: an answer with errors is not kept.
    let analyst = app.mint(Role::Analyst, None);
    for _ in 0..2 {
        let d = app
            .gql_as(Some(&analyst), ORDER, json!({ "o": order }))
            .await;
        assert_eq!(d["errors"][0]["extensions"]["code"], "FORBIDDEN", "{d}");
    }
    assert_eq!(
        answer_hits().await,
        h0 + 1,
        "an answer with errors is not reused"
    );

    // Conflicts are worked out as of the moment asked: never reused.
    let conflicts = "query($o: ID!) { conflicts(orderId: $o) { kinds } }";
    for _ in 0..2 {
        let d = app
            .gql_as(Some(&judge), conflicts, json!({ "o": order }))
            .await;
        assert!(d.get("errors").is_none(), "{d:#}");
    }
    assert_eq!(
        answer_hits().await,
        h0 + 1,
        "a conflict check is not reused"
    );
}

#[tokio::test]
async fn cached_rows_still_get_each_callers_access_rules() {
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26FL700002", 2)).await;
    let clerk = app.data(ORDER, json!({ "o": order })).await;
    assert_eq!(clerk["order"]["id"], json!(order), "{clerk}");
    // The same row, cached now, for a token narrowed to another county, and for a role that
    // sees de-identified data only.
    let hits = app.cache.stats().hits;
    let sf_only = attenuate(
        &app.mint(Role::Clerk, Some("SC19")),
        &Narrowing {
            county: Some("San Francisco".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let d = app
        .gql_as(Some(&sf_only), ORDER, json!({ "o": order }))
        .await;
    assert!(app.cache.stats().hits > hits, "the narrowed read hits: {d}");
    assert_eq!(d["data"]["order"], Value::Null, "{d}");
    // Outside its counties the order answers as missing (issue 22, item 15).
    assert_eq!(error_code(&d), "NOT_FOUND", "{d}");
    let analyst = app.mint(Role::Analyst, None);
    let d = app
        .gql_as(Some(&analyst), ORDER, json!({ "o": order }))
        .await;
    assert_eq!(d["data"], Value::Null, "{d}");
    assert_eq!(d["errors"][0]["extensions"]["code"], "FORBIDDEN", "{d}");
}

/// Two servers on one database and one Redis: a history cached on B is fresh after a write on A.
#[tokio::test]
async fn a_write_on_one_instance_is_read_fresh_on_another() {
    redis_url();
    let a = spawn_app().await;
    let b = spawn_peer(&a).await;
    assert_eq!(b.cache.backend_name(), "redis");
    let (order, person, _) = create(&a, dv_tro("26FL700003", 2)).await;
    let bench = b.mint(Role::BenchOfficer, Some("SC19"));
    let read_b = || async {
        let d = b
            .gql_as(Some(&bench), HISTORY, json!({ "p": person }))
            .await;
        assert!(d.get("errors").is_none(), "{d:#}");
        let o = b.data(ORDER, json!({ "o": order })).await;
        (
            d["data"]["personHistory"].clone(),
            o["order"]["status"].clone(),
        )
    };
    let (h, status) = read_b().await;
    assert_eq!(h["chains"][0]["status"], "ACTIVE");
    assert_eq!(status, "ACTIVE");
    let hits = b.cache.stats().hits;
    let (h, _) = read_b().await;
    assert_eq!(h["chains"][0]["status"], "ACTIVE");
    assert!(b.cache.stats().hits > hits, "B answers from its cache");
    // Whole answers come from Redis in one round trip (the generation-and-get script). B's
    // search index position is part of their key and B may still be indexing A's write, so
    // the same read is repeated until that has settled.
    let answer_hits = b.cache.stats_of(CacheKind::Answer).hits;
    let mut whole = false;
    for _ in 0..50 {
        let d = b
            .gql_as(Some(&bench), HISTORY, json!({ "p": person }))
            .await;
        assert!(d.get("errors").is_none(), "{d:#}");
        if b.cache.stats_of(CacheKind::Answer).hits > answer_hits {
            whole = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(whole, "B answers the history whole from Redis");
    assert_eq!(b.cache.stats().errors, 0, "no Redis command failed");

    let term =
        "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { status } } }";
    let now = chrono::Utc::now().to_rfc3339();
    let d = a
        .data(
            term,
            json!({ "i": { "orderId": order, "terminatedAt": now } }),
        )
        .await;
    assert_eq!(d["terminateOrder"]["order"]["status"], "TERMINATED");

    let (h, status) = read_b().await;
    assert_eq!(status, "TERMINATED", "the order row on B is fresh");
    assert_eq!(h["chains"][0]["status"], "TERMINATED", "{h:#}");
    assert_eq!(h["activeChainCount"], 0);
}

/// An order cached while active reads as expired once its expiry passes.
#[tokio::test]
async fn a_cached_order_never_outlives_its_expiry() {
    let app = spawn_app().await;
    let mut input = epo("26EPO70004", "CA0190000");
    let expires = chrono::Utc::now() + chrono::Duration::seconds(3);
    input["expiresAt"] = json!(expires.to_rfc3339());
    let (order, person, _) = create(&app, input).await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let read = || async {
        let o = app.data(ORDER, json!({ "o": order })).await;
        let h = app
            .gql_as(Some(&bench), HISTORY, json!({ "p": person }))
            .await;
        assert!(h.get("errors").is_none(), "{h:#}");
        (
            o["order"]["status"].clone(),
            h["data"]["personHistory"]["chains"][0]["status"].clone(),
        )
    };
    assert_eq!(read().await, (json!("ACTIVE"), json!("ACTIVE")));
    let hits = app.cache.stats().hits;
    assert_eq!(read().await, (json!("ACTIVE"), json!("ACTIVE")));
    assert!(app.cache.stats().hits > hits, "cached while active");
    let wait = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(1200)).await;
    assert_eq!(read().await, (json!("EXPIRED"), json!("EXPIRED")));
}

fn metric(text: &str, name: &str, kind: &str) -> u64 {
    let prefix = format!("{name}{{kind=\"{kind}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test]
async fn metrics_count_hits_and_misses_by_kind() {
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26FL700005", 2)).await;
    let before = scrape(&app).await;
    app.data(ORDER, json!({ "o": order })).await;
    app.data(ORDER, json!({ "o": order })).await;
    // Another document over the same rows reads the rows from the cache.
    app.data(&format!("# again\n{ORDER}"), json!({ "o": order }))
        .await;
    let after = scrape(&app).await;
    for name in ["ccpor_cache_hits_total", "ccpor_cache_misses_total"] {
        for kind in ["order", "person", "court", "answer"] {
            assert!(
                metric(&after, name, kind) > metric(&before, name, kind),
                "{name}{{kind={kind}}} moves:\n{after}"
            );
        }
    }
}

/// POSTs `body` with `token`; returns (HTTP status, response).
async fn post(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let r = client_with(token)
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn apq(sha: &str, query: Option<&str>) -> Value {
    let mut body = json!({
        "variables": { "c": "26FL700006" },
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha } }
    });
    if let Some(q) = query {
        body["query"] = json!(q);
    }
    body
}

/// Apollo's automatic persisted queries: miss, register, then by hash alone; the store is the
/// cache, so with Redis another instance serves a document registered on the first.
#[tokio::test]
async fn automatic_persisted_queries_register_and_serve_by_hash() {
    let a = spawn_app().await;
    create(&a, dv_tro("26FL700006", 2)).await;
    let clerk = a.mint(Role::Clerk, Some("SC19"));
    // Not one of the trusted documents: its own text, so its own hash.
    let doc = "query Apq($c: String!) { ordersByCaseNumber(caseNumber: $c) { caseNumber status } }";
    let sha = hash(doc);

    let (status, body) = post(&a, &clerk, apq(&sha, None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let (status, body) = post(&a, &clerk, apq(&sha, Some(doc))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["ordersByCaseNumber"][0]["status"], "ACTIVE");
    let (status, body) = post(&a, &clerk, apq(&sha, None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["ordersByCaseNumber"][0]["caseNumber"], "26FL700006",
        "{body}"
    );
    // Upper-case hex names the same document.
    let (_, body) = post(&a, &clerk, apq(&sha.to_uppercase(), None)).await;
    assert!(body["data"]["ordersByCaseNumber"].is_array(), "{body}");

    // A document that is not the one its hash names is refused, and not stored.
    let other = "{ courts { code } }";
    let (status, body) = post(&a, &clerk, apq(&sha, Some(other))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_HASH_MISMATCH"
    );
    let (_, body) = post(&a, &clerk, apq(&hash(other), None)).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );

    // Without a token nothing is registered.
    let anon = reqwest::Client::new()
        .post(a.url("/graphql"))
        .json(&apq(&hash(other), Some(other)))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let (_, body) = post(&a, &clerk, apq(&hash(other), None)).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );

    // A registered document is not a trusted one.
    let patrol = attenuate(
        &a.mint(Role::Lea, Some("CA0190000")),
        &Narrowing {
            trusted_documents: true,
            ..Default::default()
        },
    )
    .unwrap();
    let (status, body) = post(&a, &patrol, apq(&sha, None)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "TRUSTED_DOCUMENTS_ONLY"
    );

    // Registered on A, served by hash on B.
    redis_url();
    let b = spawn_peer(&a).await;
    let (status, body) = post(&b, &clerk, apq(&sha, None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["ordersByCaseNumber"][0]["caseNumber"], "26FL700006",
        "{body}"
    );
}

/// A private `redis-server` on `port`, without persistence.
fn start_redis(port: u16) -> Child {
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start redis-server ({e}): install Debian's redis-server package \
                 (`bash scripts/test.sh` does)"
            )
        });
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("redis-server did not listen on port {port}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Redis killed and restarted under a load of reads: not one request fails, and the cache is
/// used again once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_going_away_under_load_fails_no_request() {
    let port = free_port();
    let mut redis = start_redis(port);
    let app = spawn_app_with_redis(&format!("redis://127.0.0.1:{port}")).await;
    let (order, _, _) = create(&app, dv_tro("26FL700007", 2)).await;
    let app = Arc::new(app);
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, done, order) = (app.clone(), done.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for _ in 0..100 {
                let r = app
                    .client
                    .post(app.url("/graphql"))
                    .json(&json!({ "query": ORDER, "variables": { "o": order } }))
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) if r.status() == 200 => {
                        let body: Value = r.json().await.unwrap_or_default();
                        if body.get("errors").is_none()
                            && body["data"]["order"]["id"] == json!(order)
                        {
                            None
                        } else {
                            Some(body.to_string())
                        }
                    }
                    Ok(r) => Some(format!("HTTP {}", r.status())),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(f) = ok {
                    failures.push(f);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }
    let wait_for = |n: usize| {
        let done = done.clone();
        async move {
            while done.load(Ordering::Relaxed) < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(200).await;
    let hits_before_kill = app.cache.stats().hits;
    assert!(
        hits_before_kill > 0,
        "the load hits the cache while Redis is up"
    );
    redis.kill().unwrap();
    redis.wait().unwrap();
    wait_for(450).await;
    let mut redis = start_redis(port);
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert!(app.cache.stats().errors > 0, "the outage was noticed");

    // Reconnected: reads fill the cache again and hit it.
    let mut resumed = false;
    for _ in 0..100 {
        let hits = app.cache.stats().hits;
        app.data(ORDER, json!({ "o": order })).await;
        app.data(ORDER, json!({ "o": order })).await;
        if app.cache.stats().hits > hits {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    redis.kill().ok();
    redis.wait().ok();
    assert!(
        resumed,
        "hits resume after Redis is back: {:?}",
        app.cache.stats()
    );
}

const SEARCH: &str = "query($last: String) { searchPersons(lastName: $last) {
    edges { node { person { id } } } } }";

/// Person ids `searchPersons(lastName:)` finds, once it finds at least `n` (the indexer runs in
/// the background).
async fn search_until(app: &TestApp, last: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let d = app.data(SEARCH, json!({ "last": last })).await;
        let ids: Vec<Value> = d["searchPersons"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["person"]["id"].clone())
            .collect();
        if ids.len() >= n {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("searchPersons(lastName: {last}) never found {n}");
}

/// Search results are cached (whole answers and ranked lists), and a new order's person shows up
/// in the next search anyway.
#[tokio::test]
async fn cached_searches_see_new_orders() {
    let app = spawn_app().await;
    let mut first = dv_tro("26FL700008", 2);
    first["parties"][0]["person"]["lastName"] = json!("Zebrowski-Amsel");
    create(&app, first).await;
    let app = &app;
    let hits = |kind: CacheKind| async move { app.cache.stats_of(kind).hits };
    let found = search_until(app, "Zebrowski-Amsel", 1).await;
    let answers = hits(CacheKind::Answer).await;
    assert_eq!(search_until(app, "Zebrowski-Amsel", 1).await, found);
    assert!(
        hits(CacheKind::Answer).await > answers,
        "the repeated search is answered whole"
    );
    // Another document with the same search reads the ranked list from the cache.
    let lists = hits(CacheKind::Search).await;
    let d = app
        .data(
            &format!("# another document\n{SEARCH}"),
            json!({ "last": "Zebrowski-Amsel" }),
        )
        .await;
    assert_eq!(
        d["searchPersons"]["edges"].as_array().map(Vec::len),
        Some(1),
        "{d}"
    );
    assert!(
        hits(CacheKind::Search).await > lists,
        "the ranked list is reused"
    );

    let mut second = dv_tro("26FL700009", 1);
    second["parties"][0]["person"]["lastName"] = json!("Zebrowski-Amsel");
    second["parties"][0]["person"]["firstName"] = json!("Leontyne");
    create(app, second).await;
    let both = search_until(app, "Zebrowski-Amsel", 2).await;
    assert_eq!(both.len(), 2, "{both:?}");
}

/// `ccpor import` against a running server's database and Redis: the server's cached history
/// of a person is stale no more once the import is done.
#[tokio::test]
async fn an_offline_import_invalidates_the_servers_cache() {
    let redis = redis_url();
    let app = spawn_app().await;
    let (_, person, _) = create(&app, dv_tro("26FL700010", 5)).await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let chains = || async {
        let d = app
            .gql_as(Some(&bench), HISTORY, json!({ "p": person }))
            .await;
        assert!(d.get("errors").is_none(), "{d:#}");
        d["data"]["personHistory"]["chains"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(chains().await, 1);
    let hits = app.cache.stats().hits;
    assert_eq!(chains().await, 1);
    assert!(app.cache.stats().hits > hits, "the history is cached");

    let mut line = dv_tro("26FL700011", 1);
    line["parties"][0] = json!({ "role": "RESTRAINED", "personId": person });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.ndjson");
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let out = crate::cli::ccpor()
        .args(["import", path.to_str().unwrap()])
        .env("DATABASE_URL", &app.database_url)
        .env("CCPOR_DATA_DIR", dir.path())
        .env("REDIS_URL", redis)
        .env("CCPOR_CACHE_NAMESPACE", &app.cache_config.namespace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(chains().await, 2, "the imported order is in the history");
}
