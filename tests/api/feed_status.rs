//! A court's feed status (issue 24): messages by day and status, the messages waiting for a
//! predecessor with their age, where an order came from (`source`, `entryChannel`,
//! `externalId`), and the waiting messages in `/metrics`.
use ccpor::auth::Role;
use serde_json::json;

use crate::feeds::{batch, feed_token, issue, modify, post};
use crate::helpers::{error_code, spawn_app};

const STATUS: &str = "query($d: Int) { court(code: \"SC19\") { feedStatus(days: $d) { \
    days { day received accepted rejected deferred } \
    deferred { messageId externalId sequence action ageSeconds } } } }";

#[tokio::test]
async fn the_court_sees_its_feed_by_day_and_what_waits() {
    let app = spawn_app().await;
    let token = feed_token(&app);
    let acks = post(
        &app,
        &token,
        &batch(&[
            issue("s1", "ST1", "SC19"),
            modify("s2", "ST2", 2),
            "{\"messageId\": \"s3\", \"externalId\": \"ST3\"}".to_owned(),
        ]),
    )
    .await;
    let statuses: Vec<&str> = acks.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ACCEPTED", "DEFERRED", "REJECTED"]);

    let d = app.data(STATUS, json!({})).await;
    let status = &d["court"]["feedStatus"];
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(
        status["days"],
        json!([{ "day": today, "received": 3, "accepted": 1, "rejected": 1, "deferred": 1 }]),
        "{status}"
    );
    let waiting = &status["deferred"];
    assert_eq!(waiting.as_array().unwrap().len(), 1, "{status}");
    assert_eq!(waiting[0]["messageId"], "s2");
    assert_eq!(waiting[0]["externalId"], "ST2");
    assert_eq!(waiting[0]["sequence"], 2);
    assert_eq!(waiting[0]["action"], "MODIFY");
    assert!(waiting[0]["ageSeconds"].as_i64().unwrap() >= 0);

    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "ccpor_feed_deferred_messages 1"),
        "{metrics}"
    );

    // Where the accepted order came from.
    let id = acks[0]["orderId"].as_str().unwrap();
    let o = app
        .data(
            "query($id: ID!) { order(id: $id) { source entryChannel externalId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        o["order"],
        json!({ "source": "FEED", "entryChannel": "FEED", "externalId": "ST1" })
    );
    // The issue arrives: nothing waits any more, and the day counts both as accepted.
    post(&app, &token, &batch(&[issue("s0", "ST2", "SC19")])).await;
    let d = app.data(STATUS, json!({ "d": 1 })).await;
    let status = &d["court"]["feedStatus"];
    assert_eq!(status["deferred"], json!([]), "{status}");
    assert_eq!(status["days"][0]["accepted"], 3, "{status}");
    assert_eq!(status["days"][0]["deferred"], 0, "{status}");

    // Another court's clerk, an analyst: refused. An administrator: allowed.
    for (who, token) in [
        ("clerk of SC01", app.mint(Role::Clerk, Some("SC01"))),
        ("analyst", app.mint(Role::Analyst, None)),
    ] {
        let body = app.gql_as(Some(&token), STATUS, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{who}: {body}");
    }
    let admin = app.mint(Role::Admin, None);
    let body = app.gql_as(Some(&admin), STATUS, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = app.gql_as(Some(&admin), STATUS, json!({ "d": 91 })).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
}
