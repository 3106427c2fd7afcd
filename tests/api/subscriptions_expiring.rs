//! `expiringSoon` over graphql-ws: the orders already in the EXPIRING_SOON window first, then
//! each order that enters it as it is issued, only in the caller's scope, every push audited.
use ccpor::auth::Role;
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{create, dv_tro, error_code, spawn_app};
use crate::subscriptions::{Subscriber, nexts, wait_for_subscriptions, ws_url};

const EXPIRING: &str = "subscription($court: String, $county: String, $w: Int, $f: Int) {
  expiringSoon(court: $court, county: $county, withinDays: $w, first: $f) {
    at initial remaining
    orders { id caseNumber expiresAt court { code } }
  }
}";

/// A DV-130 of `court` issued 300 days ago, expiring in `left` days.
fn oah(court: &str, case: &str, left: i64) -> Value {
    let mut o = dv_tro(case, 300);
    o["courtCode"] = json!(court);
    o["formNumber"] = json!("DV-130");
    o["hearingDate"] = Value::Null;
    o["expiresAt"] = json!((chrono::Utc::now() + chrono::Duration::days(left)).to_rfc3339());
    o
}

fn cases(push: &Value) -> Vec<String> {
    let mut v: Vec<String> = push["data"]["expiringSoon"]["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("{push:#}"))
        .iter()
        .map(|o| o["caseNumber"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The message that carried the subscription's refusal.
fn refusal(msgs: &[Value]) -> &Value {
    msgs.iter()
        .find(|m| m.get("errors").is_some())
        .unwrap_or_else(|| panic!("no refusal: {msgs:#?}"))
}

#[tokio::test]
async fn a_clerk_hears_orders_entering_the_expiring_soon_window() {
    let app = spawn_app().await;
    // Already in the window: A and B (two pushes of one order each, `first: 1`); C is not.
    create(&app, oah("SC19", "26FL710001", 5)).await;
    create(&app, oah("SC19", "26FL710002", 12)).await;
    create(&app, oah("SC19", "26FL710003", 200)).await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let mut sub = Subscriber::start(
        &ws_url(app.addr),
        &clerk,
        EXPIRING,
        json!({ "w": 30, "f": 1 }),
        3,
    );
    let first = sub.next_event().await;
    let batch = &first["data"]["expiringSoon"];
    assert_eq!(batch["initial"], true, "{first:#}");
    assert_eq!(batch["remaining"], 1, "{first:#}");
    let second = sub.next_event().await;
    assert_eq!(second["data"]["expiringSoon"]["initial"], false);
    let mut initial = [cases(&first), cases(&second)].concat();
    initial.sort();
    assert_eq!(initial, ["26FL710001", "26FL710002"]);
    wait_for_subscriptions(&app, 1).await;
    // Another court's order, and one outside the window, are not pushed; D entering is.
    create(&app, oah("SC38", "26FL710004", 3)).await;
    create(&app, oah("SC19", "26FL710005", 90)).await;
    create(&app, oah("SC19", "26FL710006", 8)).await;
    let msgs = sub.messages().await;
    let got = nexts(&msgs);
    assert_eq!(got.len(), 3, "{msgs:#?}");
    assert_eq!(cases(got[2]), ["26FL710006"], "{msgs:#?}");
    assert_eq!(
        got[2]["data"]["expiringSoon"]["orders"][0]["court"]["code"],
        "SC19"
    );
    // The start and each push are audited; each push names its orders.
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("graphql.subscription.event"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let d = &got[2]["data"]["expiringSoon"]["orders"][0]["id"];
    assert!(
        rows.iter()
            .any(|r| r.object_ids.contains(d.as_str().unwrap())
                && r.operation
                    .as_deref()
                    .is_some_and(|o| o.contains("expiringSoon"))),
        "{rows:#?}"
    );
}

#[tokio::test]
async fn expiring_soon_is_scoped_like_the_work_list() {
    let app = spawn_app().await;
    create(&app, oah("SC12", "26FL720001", 5)).await;
    create(&app, oah("TC01", "26FL720002", 6)).await;
    create(&app, oah("SC19", "26FL720003", 7)).await;
    // Law enforcement by county: the county's courts.
    let lea = app.mint(Role::Lea, Some("CA0190000"));
    let mut sub = Subscriber::start(
        &ws_url(app.addr),
        &lea,
        EXPIRING,
        json!({ "county": "Humboldt" }),
        1,
    );
    let first = sub.next_event().await;
    assert_eq!(cases(&first), ["26FL720001", "26FL720002"], "{first:#}");
    drop(sub.messages().await);
    // A clerk names another court: refused with the rule, nothing pushed.
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let sub = Subscriber::start(
        &ws_url(app.addr),
        &clerk,
        EXPIRING,
        json!({ "court": "SC12" }),
        1,
    );
    let msgs = sub.messages().await;
    let refused = refusal(&msgs);
    assert_eq!(
        refused["errors"][0]["extensions"]["rule"], "own_court",
        "{msgs:#?}"
    );
    // A de-identified role may not subscribe.
    let analyst = app.mint(Role::Analyst, None);
    let sub = Subscriber::start(&ws_url(app.addr), &analyst, EXPIRING, json!({}), 1);
    let msgs = sub.messages().await;
    assert_eq!(error_code(refusal(&msgs)), "FORBIDDEN", "{msgs:#?}");
}
