//! Outside review (issue 22): WebSockets, uploads, image links and the audit anchor (items 6, 11, 12, 14, 17).
use ccpor::auth::Role;
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{create, dv_tro, spawn_app};
use crate::subscriptions::{Subscriber, nexts, wait_for_subscriptions, ws_url};

/// Item 6. An LEA stream carried a restrained person's driver licence, and the event's audit row
/// named no person and no field: each delivered event's row must name the objects sent and the
/// confidential fields read, as `/graphql`'s rows do.
#[tokio::test]
async fn item_06_subscription_event_rows_name_the_persons_and_confidential_fields_sent() {
    let app = spawn_app().await;
    let officer = app.mint(Role::Lea, Some("CA0190000"));
    let mut sub = Subscriber::start(
        &ws_url(app.addr),
        &officer,
        "subscription { orderEvents(kinds: [ISSUED]) { kind order { id parties { role person { id driverLicenseNumber } } } } }",
        json!({}),
        1,
    );
    wait_for_subscriptions(&app, 1).await;
    let mut input = dv_tro("26FL722006", 1);
    input["parties"][0]["person"]["driverLicenseNumber"] = json!("D1234567");
    input["parties"][0]["person"]["driverLicenseState"] = json!("CA");
    let (order, restrained, protected) = create(&app, input).await;
    let event = sub.next_event().await;
    let parties = &event["data"]["orderEvents"]["order"]["parties"];
    assert!(
        parties.to_string().contains("D1234567"),
        "the licence was sent: {event:#}"
    );
    let msgs = sub.messages().await;
    assert_eq!(nexts(&msgs).len(), 1, "{msgs:#?}");
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("graphql.subscription.event"))
        .order_by_asc(audit_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    for id in [&order, &restrained, &protected] {
        assert!(row.object_ids.contains(id.as_str()), "{id} in {row:#?}");
    }
    assert!(
        row.fields.contains("Person.driverLicenseNumber"),
        "the confidential field sent is named: {row:#?}"
    );
    assert_eq!(row.user_id.as_deref(), Some("lea-test"), "{row:#?}");
    assert!(
        row.operation
            .as_deref()
            .is_some_and(|o| o.contains("orderEvents(")),
        "{row:#?}"
    );
    assert!(
        row.detail.as_deref().is_some_and(|d| d.contains("event")),
        "{row:#?}"
    );
}
