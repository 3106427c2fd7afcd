//! Outside review (issue 22), item 3's NUL: every path by which a client's string reaches an
//! audit row, each carrying a NUL well under the length bound, so that only the cleaning
//! (`ccpor::audit::clean`) stands between it and the database.
//!
//! PostgreSQL refuses a NUL in text (`invalid byte sequence for encoding "UTF8": 0x00`), and the
//! audit writer commits rows in groups, so one uncleaned NUL failed the whole group: every
//! request in it, the token holders' ordinary reads included, was answered `AUDIT_UNAVAILABLE`.
//! SQLite stores the NUL, which the test refuses as well.
//!
//! The paths (found by following each `AuditRecord` field back to its source):
//! - `operationName` of an anonymous request (its refusal row's `operation`);
//! - `operationName` of a token holder's request (the row of the read);
//! - a token holder's own appended check, whose text the refusal names (`detail`), over HTTP and
//!   as a WebSocket `connection_init`;
//! - the path of a signed image link (`GET /images/{id}`, percent-decoded; refused link's row);
//! - a WebSocket subscription's `operationName` (the subscription's row);
//! - `x-request-id` (HTTP forbids a NUL in a header; a tab is the control character it allows).
//!
//! Not paths: object ids (always the server's encoding of a database key), user, role, court
//! and agency (from the signed authority block), persisted-query hashes (never written; an
//! unknown one is refused with a fixed message), and metric labels (item 9: fixed names only).
use std::collections::HashMap;

use ccpor::auth::Role;
use entities::audit_event;
use sea_orm::EntityTrait;
use serde_json::json;

use super::review_sockets::raw_socket;
use super::review_tokens::append_block;
use crate::helpers::{client_with, error_code, spawn_app};

const READ: &str =
    r#"{ statistics(from: "2026-01-01", to: "2026-01-31", groupBy: FAMILY) { group } }"#;

/// A clerk's read of one order: quick, so its row is written in the same moments as the
/// refusals' rows.
const ORDER: &str = "query($id: ID!) { order(id: $id) { id caseNumber } }";

/// Rounds of requests, all sent at once.
const ROUNDS: usize = 8;
/// Ordinary reads per round (half statistics, half orders), sharing the audit writer's groups
/// with the crafted requests.
const ORDINARY: usize = 8;

/// Item 3 (NUL under the bound): requests carrying a NUL along every path to the audit log,
/// sent together with token holders' ordinary reads, leave every request answered and audited
/// and every row free of NUL, the NUL shown as U+FFFD. With the cleaning switched off this test
/// failed on PostgreSQL: the ordinary reads sharing a group with a crafted row were answered
/// `AUDIT_UNAVAILABLE` (503), and the crafted rows were never written.
#[tokio::test]
async fn item_03_a_nul_under_the_length_bound_fails_no_audit_batch() {
    let app = spawn_app().await;
    let analyst = app.mint(Role::Analyst, None);
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let (order, _, _) = crate::helpers::create(&app, crate::helpers::dv_tro("26FL773003", 1)).await;
    // A token holder may append any block; this check fails and the refusal names its text.
    let crafted = append_block(&analyst, "check if never(\"n\0l\");");
    let judge = app.mint(Role::BenchOfficer, Some("SC19"));
    let init = |t: &str| json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {t}") } });
    let subscribe = json!([init(&judge), { "type": "subscribe", "id": "1", "payload": {
        "query": "subscription { orderEvents { kind } }", "operationName": "Sub\0scribe" } }]);
    let sockets = async {
        tokio::join!(
            raw_socket(&app, subscribe, 8000),
            raw_socket(&app, json!([init(&crafted)]), 15_000)
        )
    };

    let mut sent = Vec::new();
    for r in 0..ROUNDS {
        let id = |what: &str| format!("{what}-{r}");
        let post = |client: reqwest::Client, rid: String, body: serde_json::Value| {
            let url = app.url("/graphql");
            async move {
                let resp = client
                    .post(url)
                    .header("x-request-id", &rid)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                (rid, status, resp.json::<serde_json::Value>().await.unwrap())
            }
        };
        let mut round = Vec::new();
        for k in 0..ORDINARY {
            let (token, body) = if k % 2 == 0 {
                (&analyst, json!({ "query": READ }))
            } else {
                (
                    &clerk,
                    json!({ "query": ORDER, "variables": { "id": order } }),
                )
            };
            round.push(post(client_with(token), id(&format!("ordinary{k}")), body));
        }
        round.push(post(
            reqwest::Client::new(),
            id("anonymous-name"),
            json!({ "query": "{ statisticsSmallCell }", "operationName": "Anon\0Name" }),
        ));
        round.push(post(
            client_with(&analyst),
            id("own-name"),
            json!({ "query": READ, "operationName": "Own\0Name" }),
        ));
        round.push(post(
            client_with(&crafted),
            id("crafted-check"),
            json!({ "query": READ }),
        ));
        round.push(post(
            client_with(&analyst),
            format!("tab\there-{r}"),
            json!({ "query": READ }),
        ));
        let link = reqwest::Client::new()
            .get(app.url("/images/Image%3A%00link"))
            .header("x-request-id", id("image-link"))
            .send();
        sent.push(async move {
            let (answers, link) = tokio::join!(futures_util::future::join_all(round), link);
            (answers, link.unwrap().status().as_u16())
        });
    }
    let (requests, (subscribed, crafted_socket)) =
        tokio::join!(futures_util::future::join_all(sent), sockets);
    let mut answered: HashMap<String, (u16, serde_json::Value)> = HashMap::new();
    for (r, (answers, link)) in requests.into_iter().enumerate() {
        answered.insert(format!("image-link-{r}"), (link, json!(null)));
        for (rid, status, body) in answers {
            answered.insert(rid, (status, body));
        }
    }
    // First the point of the test: no request, ordinary or crafted, lost its audit row.
    let mut unavailable: Vec<&str> = answered
        .iter()
        .filter(|(_, (status, _))| *status == 503)
        .map(|(rid, _)| rid.as_str())
        .collect();
    unavailable.sort_unstable();
    let ordinary = unavailable
        .iter()
        .filter(|r| r.starts_with("ordinary") || r.starts_with("tab"))
        .count();
    assert!(
        unavailable.is_empty(),
        "{} requests answered 503 AUDIT_UNAVAILABLE, {ordinary} of them ordinary reads (of {}): \
         {unavailable:?}",
        unavailable.len(),
        ROUNDS * (ORDINARY + 1)
    );
    for (rid, (status, body)) in &answered {
        let expected = if rid.starts_with("image-link") {
            403
        } else if rid.starts_with("ordinary") || rid.starts_with("tab") {
            assert!(body["errors"].is_null(), "{rid}: {body:#}");
            200
        } else if rid.starts_with("anonymous") {
            assert_eq!(error_code(body), "UNAUTHENTICATED", "{rid}: {body:#}");
            401
        } else if rid.starts_with("crafted") {
            assert_eq!(error_code(body), "FORBIDDEN", "{rid}: {body:#}");
            403
        } else {
            // An operation name the document does not hold: the usual GraphQL error.
            assert_ne!(error_code(body), "AUDIT_UNAVAILABLE", "{rid}: {body:#}");
            200
        };
        assert_eq!(*status, expected, "{rid}: {body:#}");
    }
    // The socket stays up (its subscription answered with the usual operation-name error);
    // the crafted token's socket is closed.
    assert!(
        subscribed.iter().all(|m| m["type"] != "closed"),
        "{subscribed:#?}"
    );
    assert!(
        crafted_socket.iter().any(|m| m["type"] == "closed"),
        "{crafted_socket:#?}"
    );

    let rows = audit_event::Entity::find().all(&app.db).await.unwrap();
    let text = |r: &audit_event::Model| {
        format!(
            "{} {} {} {} {}",
            r.event,
            r.operation.as_deref().unwrap_or_default(),
            r.detail.as_deref().unwrap_or_default(),
            r.request_id.as_deref().unwrap_or_default(),
            r.object_ids
        )
    };
    for r in &rows {
        assert!(!text(r).contains('\0'), "a NUL was stored: {r:#?}");
    }
    let count =
        |pred: &dyn Fn(&audit_event::Model) -> bool| rows.iter().filter(|r| pred(r)).count();
    let rid_is =
        |r: &audit_event::Model, p: &str| r.request_id.as_deref().is_some_and(|i| i.starts_with(p));
    let op_has =
        |r: &audit_event::Model, p: &str| r.operation.as_deref().is_some_and(|o| o.contains(p));
    let detail_has =
        |r: &audit_event::Model, p: &str| r.detail.as_deref().is_some_and(|d| d.contains(p));
    assert_eq!(
        count(&|r| rid_is(r, "ordinary")),
        ROUNDS * ORDINARY,
        "each ordinary read audited"
    );
    for (what, n, pred) in [
        (
            "anonymous operationName",
            ROUNDS,
            &(|r: &audit_event::Model| op_has(r, "Anon\u{FFFD}Name"))
                as &dyn Fn(&audit_event::Model) -> bool,
        ),
        ("own operationName", ROUNDS, &|r| {
            op_has(r, "Own\u{FFFD}Name")
        }),
        ("appended check (HTTP and WebSocket)", ROUNDS + 1, &|r| {
            detail_has(r, "n\u{FFFD}l")
        }),
        ("image link path", ROUNDS, &|r| {
            op_has(r, "/images/Image:\u{FFFD}link")
        }),
        ("request id", ROUNDS, &|r| rid_is(r, "tab\u{FFFD}here")),
        ("subscription operationName", 1, &|r| {
            op_has(r, "Sub\u{FFFD}scribe")
        }),
    ] {
        assert!(
            count(pred) >= n && (n == 1 || count(pred) == n),
            "{what}: {:#?}\nthe subscribing socket: {subscribed:#?}",
            rows.iter().map(text).collect::<Vec<_>>()
        );
    }
}
