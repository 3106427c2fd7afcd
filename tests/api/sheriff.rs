//! Sheriff keying (issue 24): a court that lets its county's sheriff key its orders
//! (`setCourtParticipation(keyedBy: SHERIFF, keyingAgencyOri)`); an LEA token of that agency then
//! enters and changes the court's orders and adds their images as a clerk of the court would.
//! Another agency keeps today's rule (EPOs only), and so does the sheriff once the court keys
//! its own orders again.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{CREATE, TestApp, client_with, dv_tro, error_code, spawn_app};
use crate::images::files::png;
use crate::images::post_image_with;

const SHERIFF: &str = "CA0190000";
const OTHER: &str = "CA0370000";

const SET: &str = "mutation($k: Keyer, $o: String) { setCourtParticipation(code: \"SC19\", \
    mode: FULL, keyedBy: $k, keyingAgencyOri: $o) { code keyedBy keyingAgencyOri } }";

const MODIFY: &str = "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { id } } }";

/// A DV-130 (restraining order after hearing) of SC19.
fn dv130(case: &str) -> Value {
    let mut o = dv_tro(case, 3);
    o["formNumber"] = json!("DV-130");
    let expires = chrono::Utc::now() + chrono::Duration::days(3 * 365);
    o["expiresAt"] = json!(expires.to_rfc3339());
    o.as_object_mut().unwrap().remove("hearingDate");
    o
}

fn rule(body: &Value) -> &str {
    body["errors"][0]["extensions"]["rule"]
        .as_str()
        .unwrap_or_default()
}

async fn set(app: &TestApp, admin: &str, keyer: Option<&str>, ori: Option<&str>) -> Value {
    app.gql_as(Some(admin), SET, json!({ "k": keyer, "o": ori }))
        .await
}

/// Audit rows of `agency`'s tokens with `outcome`.
async fn audit_rows(app: &TestApp, agency: &str, outcome: &str) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::AgencyOri.eq(agency))
        .filter(entities::audit_event::Column::Outcome.eq(outcome))
        .count(&app.db)
        .await
        .unwrap() as i64
}

#[tokio::test]
async fn a_sheriff_keyed_court_takes_its_sheriffs_orders_and_refuses_other_agencies() {
    let app = spawn_app().await;
    let admin = app.mint(Role::Admin, None);
    let sheriff = app.mint(Role::Lea, Some(SHERIFF));
    let other = app.mint(Role::Lea, Some(OTHER));

    // Today's rule: an LEA enters EPOs only.
    let before = app
        .gql_as(Some(&sheriff), CREATE, json!({ "i": dv130("26FL990001") }))
        .await;
    assert_eq!(error_code(&before), "FORBIDDEN", "{before}");
    assert_eq!(rule(&before), "lea_enters_epo_only", "{before}");

    // An agency is named with SHERIFF only, and must exist.
    let bad = set(&app, &admin, Some("SHERIFF"), None).await;
    assert_eq!(error_code(&bad), "VALIDATION", "{bad}");
    let bad = set(&app, &admin, Some("COURT"), Some(SHERIFF)).await;
    assert_eq!(error_code(&bad), "VALIDATION", "{bad}");
    let bad = set(&app, &admin, Some("SHERIFF"), Some("CA9999999")).await;
    assert_eq!(error_code(&bad), "VALIDATION", "{bad}");
    // Only an administrator says who keys.
    let clerk = app.gql(SET, json!({ "k": "SHERIFF", "o": SHERIFF })).await;
    assert_eq!(error_code(&clerk), "FORBIDDEN", "{clerk}");

    let set_to = set(&app, &admin, Some("SHERIFF"), Some(SHERIFF)).await;
    assert_eq!(
        set_to["data"]["setCourtParticipation"],
        json!({ "code": "SC19", "keyedBy": "SHERIFF", "keyingAgencyOri": SHERIFF }),
        "{set_to}"
    );
    // Leaving keyedBy out keeps it.
    let kept = set(&app, &admin, None, None).await;
    assert_eq!(
        kept["data"]["setCourtParticipation"]["keyingAgencyOri"], SHERIFF,
        "{kept}"
    );

    // The sheriff enters a DV-130 for SC19, changes it, and adds its image.
    let made = app
        .gql_as(Some(&sheriff), CREATE, json!({ "i": dv130("26FL990002") }))
        .await;
    assert!(made.get("errors").is_none(), "{made}");
    let order = made["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = json!({ "i": { "orderId": order, "issuedAt": (chrono::Utc::now()
        - chrono::Duration::hours(1)).to_rfc3339(), "formNumber": "DV-130",
        "reason": "Corrected stay-away distance" } });
    let (status, body) = post_image_with(
        &client_with(&sheriff),
        &app,
        &[("orderId", order.clone())],
        "scan.png",
        png(16, 16, 9),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Another agency: refused for a court order, a change and an image.
    let refused = app
        .gql_as(Some(&other), CREATE, json!({ "i": dv130("26FL990003") }))
        .await;
    assert_eq!(rule(&refused), "lea_enters_epo_only", "{refused}");
    let refused = app.gql_as(Some(&other), MODIFY, change.clone()).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let (status, body) = post_image_with(
        &client_with(&other),
        &app,
        &[("orderId", order.clone())],
        "scan.png",
        png(16, 16, 10),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        audit_rows(&app, OTHER, "denied").await >= 3,
        "each refusal audited"
    );

    let changed = app.gql_as(Some(&sheriff), MODIFY, change.clone()).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    let newest = changed["data"]["modifyOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The court keys its own again: the sheriff is back to EPOs only.
    let back = set(&app, &admin, Some("COURT"), None).await;
    assert_eq!(
        back["data"]["setCourtParticipation"]["keyedBy"], "COURT",
        "{back}"
    );
    let after = app
        .gql_as(Some(&sheriff), CREATE, json!({ "i": dv130("26FL990004") }))
        .await;
    assert_eq!(rule(&after), "lea_enters_epo_only", "{after}");
    let again = json!({ "i": { "orderId": newest, "issuedAt": chrono::Utc::now().to_rfc3339(),
        "formNumber": "DV-130", "reason": "Second change" } });
    let after = app.gql_as(Some(&sheriff), MODIFY, again).await;
    assert_eq!(error_code(&after), "FORBIDDEN", "{after}");
    assert_eq!(
        app.count("protective_order").await,
        2,
        "the DV-130 and its change"
    );
}
