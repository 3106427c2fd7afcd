//! Every image read and upload passes the access gate (`images::access`) and is audited.
use ccpor::images::access::ReadPath;

use super::files::png;
use super::{get, images_of, post_image};
use crate::helpers::{create, dv_tro, spawn_app};

#[tokio::test]
async fn every_read_path_and_upload_calls_the_access_hook() {
    let app = spawn_app().await;
    let access = &app.images.access;
    let (order, _, _) = create(&app, dv_tro("26STRO-70201", 1)).await;
    assert_eq!(access.upload_checks(), 0);

    let (status, body) =
        post_image(&app, &[("orderId", order.clone())], "s.png", png(32, 32, 1)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(access.upload_checks(), 1);
    let audits = access.audits();
    assert_eq!(audits, 1, "the upload is audited");

    let listed = images_of(&app, &order).await;
    assert_eq!(access.read_checks(ReadPath::Listing), 1);
    assert_eq!(access.audits(), audits + 1);

    let r = get(&app, listed[0]["url"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(access.read_checks(ReadPath::Download), 1);
    assert_eq!(access.audits(), audits + 2);

    let r = get(&app, listed[0]["previewUrl"].as_str().unwrap(), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(access.read_checks(ReadPath::Preview), 1);
    assert_eq!(access.audits(), audits + 3);

    // A bad link is refused before the gate: the signature check is separate.
    let url = listed[0]["url"].as_str().unwrap().replace("sig=", "sig=00");
    assert_eq!(get(&app, &url, None).await.status(), 403);
    assert_eq!(access.read_checks(ReadPath::Download), 1);

    // An order query that does not ask for images does not touch the gate.
    app.data(
        "query($o: ID!) { order(id: $o) { caseNumber } }",
        serde_json::json!({ "o": order }),
    )
    .await;
    assert_eq!(access.read_checks(ReadPath::Listing), 1);
}
