//! `orderEvents` over graphql-ws (`/graphql/ws`), driven by the `graphql-ws` npm client
//! (tests/node/subscribe.mjs): events as they are recorded, on this instance or another, only
//! what the caller may see, every delivery audited, and refusals.
use std::process::Stdio;
use std::time::Duration;

use ccpor::auth::Role;
use ccpor::auth::token::{Narrowing, attenuate};
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::ChildStdout;

use crate::helpers::{TestApp, create, dv_tro, error_code, spawn_app, spawn_peer};

const EVENTS: &str = "subscription($county: String, $person: ID, $kinds: [EventKind!]) {
  orderEvents(county: $county, personId: $person, kinds: $kinds) {
    kind county occurredAt
    event { kind source }
    order { id caseNumber status served court { code } }
  }
}";

const RECORD_SERVICE: &str =
    "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }";

/// A running `subscribe.mjs`.
pub(crate) struct Subscriber {
    child: tokio::process::Child,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    /// Messages already read by `next_event`.
    seen: Vec<Value>,
}

impl Subscriber {
    /// Subscribes at `ws_url` with `token` (empty: none) and waits for up to `count` events.
    pub(crate) fn start(
        ws_url: &str,
        token: &str,
        query: &str,
        variables: Value,
        count: usize,
    ) -> Subscriber {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        assert!(
            dir.join("node_modules/graphql-ws").is_dir(),
            "tests/node/node_modules is missing graphql-ws: run `npm ci` in tests/node (scripts/test.sh does)"
        );
        let mut child = tokio::process::Command::new("node")
            .arg("subscribe.mjs")
            .arg(ws_url)
            .arg(count.to_string())
            .arg("30000")
            .current_dir(&dir)
            .env("CCPOR_TOKEN", token)
            .env("SUB_QUERY", query)
            .env("SUB_VARIABLES", variables.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node must be installed for the subscription tests");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Subscriber {
            child,
            stdout,
            seen: Vec::new(),
        }
    }

    /// Reads messages until the next `next` one (an event) has arrived, and returns it.
    pub(crate) async fn next_event(&mut self) -> Value {
        let read = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = self.stdout.next_line().await.expect("read subscriber") {
                let msg: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
                self.seen.push(msg.clone());
                if msg["type"] == "next" {
                    return msg;
                }
            }
            panic!("the subscriber ended before an event: {:#?}", self.seen);
        });
        read.await.expect("an event within 30 s")
    }

    /// Every message the client printed, once it has exited.
    pub(crate) async fn messages(mut self) -> Vec<Value> {
        let mut err = String::new();
        let mut stderr = self.child.stderr.take().expect("stderr");
        let mut msgs = std::mem::take(&mut self.seen);
        let status = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = self.stdout.next_line().await.expect("read subscriber") {
                msgs.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")));
            }
            let _ = stderr.read_to_string(&mut err).await;
            self.child.wait().await
        })
        .await
        .expect("the subscriber finishes within a minute")
        .expect("subscriber exit");
        assert!(status.success(), "subscribe.mjs failed: {err}\n{msgs:#?}");
        msgs
    }
}

pub(crate) fn ws_url(addr: std::net::SocketAddr) -> String {
    format!("ws://{addr}/graphql/ws")
}

async fn audit_rows(app: &TestApp, event: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq(event))
        .filter(audit_event::Column::Outcome.eq("allowed"))
        .count(&app.db)
        .await
        .expect("count audit rows")
}

/// Waits until `n` subscriptions have started (each writes its start row once it listens).
pub(crate) async fn wait_for_subscriptions(app: &TestApp, n: u64) {
    for _ in 0..300 {
        if audit_rows(app, "graphql.subscription").await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the subscription did not start within 30 s");
}

pub(crate) fn nexts(msgs: &[Value]) -> Vec<&Value> {
    msgs.iter().filter(|m| m["type"] == "next").collect()
}

async fn record_service(app: &TestApp, order: &str) {
    let body = app
        .gql(
            RECORD_SERVICE,
            json!({ "i": { "orderId": order, "servedAt": chrono::Utc::now().to_rfc3339(),
                           "method": "PERSONAL", "serverName": "Deputy Synthetic",
                           "agencyOri": "CA0190000" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
}

#[tokio::test]
async fn a_bench_officer_hears_orders_issued_and_served_in_their_county_as_they_happen() {
    let app = spawn_app().await;
    let judge = app.mint(Role::BenchOfficer, Some("SC19"));
    let mut sub = Subscriber::start(
        &ws_url(app.addr),
        &judge,
        EVENTS,
        json!({ "county": "Los Angeles", "kinds": ["ISSUED", "SERVED"] }),
        2,
    );
    wait_for_subscriptions(&app, 1).await;
    // Another county's order is not this subscription's business.
    let mut sf = dv_tro("26FL700001", 1);
    sf["courtCode"] = json!("SC38");
    create(&app, sf).await;
    let (la, _, _) = create(&app, dv_tro("26FL700002", 1)).await;
    // The order is read when its event is delivered, so serve it only once ISSUED has arrived;
    // otherwise ISSUED could already show it served.
    let issued = sub.next_event().await;
    assert_eq!(
        issued["data"]["orderEvents"]["kind"], "ISSUED",
        "{issued:#}"
    );
    record_service(&app, &la).await;
    let msgs = sub.messages().await;
    let got = nexts(&msgs);
    assert_eq!(got.len(), 2, "{msgs:#?}");
    let ev: Vec<&Value> = got.iter().map(|m| &m["data"]["orderEvents"]).collect();
    assert_eq!(ev[0]["kind"], "ISSUED", "{msgs:#?}");
    assert_eq!(
        ev[0]["event"],
        json!({ "kind": "ISSUED", "source": "COURT" })
    );
    assert_eq!(ev[1]["kind"], "SERVED");
    for e in &ev {
        assert_eq!(e["county"], "Los Angeles");
        assert_eq!(e["order"]["id"], la);
        assert_eq!(e["order"]["caseNumber"], "26FL700002");
        assert_eq!(e["order"]["court"]["code"], "SC19");
    }
    // Each event is read from the database as it stands when delivered.
    assert_eq!(ev[0]["order"]["served"], false, "{msgs:#?}");
    assert_eq!(ev[1]["order"]["served"], true, "{msgs:#?}");
    // Each delivery is audited, naming the order.
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("graphql.subscription.event"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for r in &rows {
        assert!(r.object_ids.contains(&la), "{r:#?}");
        assert_eq!(r.user_id.as_deref(), Some("bench_officer-test"));
        assert!(
            r.operation
                .as_deref()
                .is_some_and(|o| o.contains("orderEvents(county=Los Angeles")),
            "{r:#?}"
        );
    }
}

#[tokio::test]
async fn every_role_that_reads_orders_may_subscribe() {
    let app = spawn_app().await;
    let subs: Vec<(Role, Subscriber)> = [
        (Role::Clerk, Some("SC19")),
        (Role::BenchOfficer, Some("SC38")),
        (Role::Lea, Some("CA0190000")),
    ]
    .into_iter()
    .map(|(role, scope)| {
        let sub = Subscriber::start(
            &ws_url(app.addr),
            &app.mint(role, scope),
            EVENTS,
            json!({ "county": "Los Angeles" }),
            1,
        );
        (role, sub)
    })
    .collect();
    wait_for_subscriptions(&app, 3).await;
    let (la, _, _) = create(&app, dv_tro("26FL700005", 1)).await;
    for (role, sub) in subs {
        let msgs = sub.messages().await;
        let got = nexts(&msgs);
        assert_eq!(got.len(), 1, "{role}: {msgs:#?}");
        assert_eq!(got[0]["data"]["orderEvents"]["order"]["id"], la, "{role}");
    }
    // (Analysts and administrators: `subscriptions_are_refused_to_who_may_not_see_the_events`.)
}

#[tokio::test]
async fn a_write_on_one_instance_reaches_subscribers_on_another() {
    let app = spawn_app().await;
    // Issued before the peer starts, so its ISSUED event is behind the peer's relay: on SQLite
    // the relay polls, and an event still ahead of it when the subscription starts would be
    // relayed to the new subscriber.
    let (la, restrained, _) = create(&app, dv_tro("26FL700010", 2)).await;
    let peer = spawn_peer(&app).await;
    let judge = app.mint(Role::BenchOfficer, Some("SC19"));
    // On the peer, for the restrained person only.
    let sub = Subscriber::start(
        &ws_url(peer.addr),
        &judge,
        EVENTS,
        json!({ "person": restrained }),
        1,
    );
    wait_for_subscriptions(&app, 1).await;
    // An order naming other people is not heard; the service of this person's order is.
    create(&app, dv_tro("26FL700011", 1)).await;
    record_service(&app, &la).await;
    let msgs = sub.messages().await;
    let got = nexts(&msgs);
    assert_eq!(got.len(), 1, "{msgs:#?}");
    let e = &got[0]["data"]["orderEvents"];
    assert_eq!(e["kind"], "SERVED", "{msgs:#?}");
    assert_eq!(e["order"]["id"], la);
}

#[tokio::test]
async fn the_expiry_job_is_heard_like_any_other_event() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_tro("26FL700020", 3)).await;
    let judge = app.mint(Role::BenchOfficer, Some("SC19"));
    let sub = Subscriber::start(
        &ws_url(app.addr),
        &judge,
        EVENTS,
        json!({ "kinds": ["EXPIRED"] }),
        1,
    );
    wait_for_subscriptions(&app, 1).await;
    // As the server's job would sweep three weeks on.
    let later = chrono::Utc::now() + chrono::Duration::days(30);
    ccpor::service::expiry::sweep(&app.db, later)
        .await
        .expect("sweep");
    let msgs = sub.messages().await;
    let got = nexts(&msgs);
    assert_eq!(got.len(), 1, "{msgs:#?}");
    assert_eq!(got[0]["data"]["orderEvents"]["kind"], "EXPIRED");
    assert_eq!(got[0]["data"]["orderEvents"]["order"]["id"], id);
}

/// The first message that ended the subscription.
fn ending(msgs: &[Value]) -> &Value {
    msgs.iter()
        .find(|m| m["type"] != "connected")
        .unwrap_or_else(|| panic!("no message: {msgs:#?}"))
}

#[tokio::test]
async fn subscriptions_are_refused_to_who_may_not_see_the_events() {
    let app = spawn_app().await;
    let url = ws_url(app.addr);
    let vars = json!({ "county": "Los Angeles" });
    // No token, or a bad one: the connection is closed with 4403 and the attempt audited.
    for token in ["", "not-a-token"] {
        let msgs = Subscriber::start(&url, token, EVENTS, vars.clone(), 1)
            .messages()
            .await;
        let m = ending(&msgs);
        assert_eq!(m["type"], "closed", "{token:?}: {msgs:#?}");
        assert_eq!(m["code"], 4403, "{token:?}: {msgs:#?}");
    }
    let failed = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("auth.failed"))
        .filter(audit_event::Column::Operation.eq("graphql-ws connection_init"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(failed, 2);
    // An analyst reads de-identified data only; an administrator no orders at all.
    for role in [Role::Analyst, Role::Admin] {
        let msgs = Subscriber::start(&url, &app.mint(role, None), EVENTS, vars.clone(), 1)
            .messages()
            .await;
        let m = ending(&msgs);
        assert_eq!(m["type"], "next", "{role}: {msgs:#?}");
        assert_eq!(
            m["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{role}: {msgs:#?}"
        );
        assert_eq!(m["errors"][0]["extensions"]["rule"], "role_permission");
    }
    // A token narrowed to San Francisco may not listen to Los Angeles.
    let sf_only = attenuate(
        &app.mint(Role::BenchOfficer, Some("SC38")),
        &Narrowing {
            county: Some("San Francisco".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let msgs = Subscriber::start(&url, &sf_only, EVENTS, vars.clone(), 1)
        .messages()
        .await;
    let m = ending(&msgs);
    assert_eq!(
        m["errors"][0]["extensions"]["rule"], "token_county_scope",
        "{msgs:#?}"
    );
    // Not a county: a clear error naming the argument.
    let msgs = Subscriber::start(
        &url,
        &app.mint(Role::BenchOfficer, Some("SC19")),
        EVENTS,
        json!({ "county": "Gotham" }),
        1,
    )
    .messages()
    .await;
    let m = ending(&msgs);
    assert_eq!(
        m["errors"][0]["extensions"]["code"], "VALIDATION",
        "{msgs:#?}"
    );
    assert_eq!(m["errors"][0]["extensions"]["field"], "county");
    // Queries and mutations belong on /graphql, where writes are checked and audited as such.
    let msgs = Subscriber::start(
        &url,
        &app.mint(Role::Clerk, Some("SC19")),
        "mutation { __typename }",
        json!({}),
        1,
    )
    .messages()
    .await;
    let m = ending(&msgs);
    assert_eq!(
        m["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{msgs:#?}"
    );
    // Refusals after the connection opened are audited too.
    let denied = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("graphql.subscription"))
        .filter(audit_event::Column::Outcome.eq("denied"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(denied, 3, "analyst, admin and the narrowed token");
}

#[tokio::test]
async fn a_narrowed_token_hears_only_its_counties_and_a_revoked_one_stops_hearing() {
    let app = spawn_app().await;
    let sf_judge = app.mint(Role::BenchOfficer, Some("SC38"));
    let sf_only = attenuate(
        &sf_judge,
        &Narrowing {
            county: Some("San Francisco".into()),
            ..Default::default()
        },
    )
    .unwrap();
    // No county asked: the token's scope still applies.
    let sub = Subscriber::start(&ws_url(app.addr), &sf_only, EVENTS, json!({}), 3);
    wait_for_subscriptions(&app, 1).await;
    create(&app, dv_tro("26FL700030", 1)).await;
    let mut sf = dv_tro("26FL700031", 1);
    sf["courtCode"] = json!("SC38");
    let (sf_order, _, _) = create(&app, sf).await;
    // Wait for that event's delivery row, then revoke: the next event ends the subscription.
    for _ in 0..300 {
        if audit_rows(&app, "graphql.subscription.event").await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids = ccpor::auth::token::revocation_ids(&sf_judge).unwrap();
    ccpor::auth::revocation::revoke(&app.db, &ids[..1], Some("test"))
        .await
        .unwrap();
    // The server's copy of the revocation list has it once a request is refused.
    let body = app
        .gql_once_revoked(&sf_judge, "{ courts { code } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "TOKEN_REVOKED", "{body:#}");
    let clerk_sf = app.mint(Role::Clerk, Some("SC38"));
    let body = app
        .gql_as(
            Some(&clerk_sf),
            RECORD_SERVICE,
            json!({ "i": { "orderId": sf_order, "servedAt": chrono::Utc::now().to_rfc3339(),
                           "method": "PERSONAL", "serverName": "Deputy Synthetic" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let msgs = sub.messages().await;
    let got = nexts(&msgs);
    assert_eq!(got.len(), 2, "{msgs:#?}");
    assert_eq!(got[0]["data"]["orderEvents"]["order"]["id"], sf_order);
    assert_eq!(got[0]["data"]["orderEvents"]["county"], "San Francisco");
    assert_eq!(
        got[1]["errors"][0]["extensions"]["code"], "TOKEN_REVOKED",
        "{msgs:#?}"
    );
    assert_eq!(audit_rows(&app, "graphql.subscription.event").await, 1);
}
