//! Bad uploads get clear errors and leave nothing behind: wrong magic bytes, a truncated PDF,
//! an empty file, a file over the limit, an unknown order, and a database failure after the
//! object was written.
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::files::{pdf, png};
use super::{assert_nothing_stored, gql_upload, multipart_gql, post_image};
use crate::helpers::{Store, create, dv_tro, spawn_app_with_images};
use crate::on_both_stores;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}

/// Limit for these tests: small, so "oversized" is cheap.
const LIMIT: u64 = 64 * 1024;

async fn bad_files_leave_nothing(store: Store) {
    let app = spawn_app_with_images(store, LIMIT).await;
    let (order, _, _) = create(&app, dv_tro("26STRO-70101", 1)).await;
    let by_post = |name: &'static str, bytes: Vec<u8>| {
        let app = &app;
        let order = order.clone();
        async move { post_image(app, &[("orderId", order)], name, bytes).await }
    };

    // Wrong magic: a GIF and a text file named .pdf (declared application/pdf).
    for (name, bytes) in [
        ("scan.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()),
        ("order.pdf", b"this is not a PDF at all\n".to_vec()),
    ] {
        let (status, body) = by_post(name, bytes.clone()).await;
        assert_eq!(status, 415, "{name}: {body}");
        assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE");
        let (status, body) = gql_upload(&app, &order, "ORDER", name, bytes).await;
        assert_eq!(status, 200);
        assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE", "{body}");
    }

    // Truncated PDF: the first half of a good one.
    let good = pdf(2, "truncated");
    let cut = good[..good.len() / 2].to_vec();
    let (status, body) = by_post("cut.pdf", cut.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "VALIDATION");
    assert_eq!(field(&body), "file");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );
    let (_, body) = gql_upload(&app, &order, "ORDER", "cut.pdf", cut).await;
    assert_eq!(code(&body), "VALIDATION");

    // A truncated PNG does not decode.
    let whole = png(200, 200, 9);
    let (status, body) = by_post("cut.png", whole[..whole.len() / 2].to_vec()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field(&body), "file");

    // Zero bytes.
    let (status, body) = by_post("empty.pdf", Vec::new()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field(&body), "file");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("empty")
    );
    let (_, body) = gql_upload(&app, &order, "ORDER", "empty.pdf", Vec::new()).await;
    assert_eq!(code(&body), "VALIDATION");

    // Over the limit, both ways (the PDF header makes it look acceptable until it is too long).
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(LIMIT as usize + 10_000, b'x');
    let (status, body) = by_post("big.pdf", big.clone()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");
    let (status, body) = gql_upload(&app, &order, "ORDER", "big.pdf", big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");

    // Unknown order, no order at all, unknown kind.
    let (status, body) = post_image(
        &app,
        &[("orderId", "T3JkZXI6OTk5OQ".into())],
        "x.pdf",
        pdf(1, "unknown order"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(code(&body), "NOT_FOUND");
    let (status, body) = post_image(&app, &[], "x.pdf", pdf(1, "no order")).await;
    assert_eq!(status, 400);
    assert_eq!(field(&body), "orderId");
    let (status, body) = post_image(
        &app,
        &[("orderId", order.clone()), ("kind", "SELFIE".into())],
        "x.pdf",
        pdf(1, "bad kind"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(field(&body), "kind");

    // GraphQL multipart without a CSRF preflight header is refused.
    let ops = serde_json::json!({ "query": "mutation($f: Upload!) { uploadOrderImage(orderId: \"x\", file: $f) { deduplicated } }", "variables": { "f": null } });
    let (status, body) = multipart_gql(&app, ops, "x.pdf", pdf(1, "csrf"), false).await;
    assert_eq!(status, 400, "{body}");

    assert_nothing_stored(&app).await;
}
on_both_stores!(bad_files_leave_nothing);

/// The object is written before the database rows; when the database write then fails, the
/// object goes too, so `images verify` has nothing to misreport and the store keeps no stray.
async fn failed_database_write_removes_the_object(store: Store) {
    let app = spawn_app_with_images(store, LIMIT).await;
    let (order, _, _) = create(&app, dv_tro("26STRO-70102", 1)).await;
    app.db
        .execute_unprepared("ALTER TABLE order_image RENAME TO order_image_away")
        .await
        .unwrap();
    let (status, body) = post_image(
        &app,
        &[("orderId", order.clone())],
        "scan.png",
        png(64, 64, 4),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(code(&body), "INTERNAL");
    assert_eq!(
        body["errors"][0]["message"], "internal error",
        "no internals leak"
    );
    app.db
        .execute_unprepared("ALTER TABLE order_image_away RENAME TO order_image")
        .await
        .unwrap();
    assert_nothing_stored(&app).await;

    let (status, body) = post_image(&app, &[("orderId", order)], "scan.png", png(64, 64, 4)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["deduplicated"], false);
    assert_eq!(
        app.images.store.list().await.unwrap().len(),
        2,
        "original and preview"
    );
}
on_both_stores!(failed_database_write_removes_the_object);
