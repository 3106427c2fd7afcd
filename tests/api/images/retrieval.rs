//! Uploads of every format, dedupe by content, and retrieval: signed links, Range, headers,
//! previews.
use serde_json::json;

use super::files::{jpeg, pdf, png, sha256, tiff};
use super::{get, gql_upload, images_of, post_image};
use crate::helpers::{Store, create, dv_tro, spawn_app_with_images};
use crate::on_both_stores;

async fn upload_retrieve_and_dedupe(store: Store) {
    let app = spawn_app_with_images(store, ccpor::images::DEFAULT_MAX_BYTES).await;
    let (order, _, _) = create(&app, dv_tro("26STRO-70001", 1)).await;
    let (other, _, _) = create(&app, dv_tro("26STRO-70002", 1)).await;

    // A three-page PDF through GraphQL multipart.
    let scan = pdf(3, "retrieval");
    let (status, body) = gql_upload(&app, &order, "ORDER", "DV-110 signed.pdf", scan.clone()).await;
    assert_eq!(status, 200, "{body}");
    let up = &body["data"]["uploadOrderImage"];
    assert_eq!(up["deduplicated"], false, "{body}");
    assert_eq!(up["order"]["id"], json!(order));
    let img = &up["image"];
    assert_eq!(img["kind"], "ORDER");
    assert_eq!(img["contentType"], "application/pdf");
    assert_eq!(img["pages"], 3);
    assert_eq!(img["size"], scan.len());
    assert_eq!(img["sha256"], sha256(&scan));
    assert_eq!(img["filename"], "DV-110 signed.pdf");
    assert_eq!(img["uploadedBy"], "clerk-sc19");
    assert_eq!(img["previewUrl"], json!(null), "PDFs have no preview");

    // The listing gives a signed link that streams the file with its headers.
    let listed = images_of(&app, &order).await;
    assert_eq!(listed.len(), 1);
    let url = listed[0]["url"].as_str().unwrap();
    assert!(url.starts_with("/images/") && url.contains("sig="), "{url}");
    let r = get(&app, url, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(
        r.headers()["content-length"],
        scan.len().to_string().as_str()
    );
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("inline; filename=\"order-26STRO70001-order-")
            && disposition.ends_with(".pdf\""),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), scan.as_slice());

    // Ranges: first bytes, a suffix, an open end, and one past the end.
    let r = get(&app, url, Some("bytes=0-9")).await;
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"].to_str().unwrap(),
        format!("bytes 0-9/{}", scan.len())
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &scan[..10]);
    let r = get(&app, url, Some("bytes=-6")).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &scan[scan.len() - 6..]);
    let r = get(&app, url, Some("bytes=100-")).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &scan[100..]);
    let r = get(&app, url, Some(&format!("bytes={}-", scan.len()))).await;
    assert_eq!(r.status(), 416);
    assert_eq!(
        r.headers()["content-range"].to_str().unwrap(),
        format!("bytes */{}", scan.len())
    );

    // Links must be signed, unaltered and fresh.
    let unsigned = url.split('?').next().unwrap();
    let r = get(&app, unsigned, None).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "LINK_INVALID"
    );
    let tampered = url.replace("expires=", "expires=1");
    assert_eq!(get(&app, &tampered, None).await.status(), 403);
    let expired = app.images.signer.link(
        ccpor::images::signing::Purpose::Download,
        listed[0]["id"].as_str().unwrap(),
        "clerk-sc19",
        &[],
        chrono::Utc::now() - chrono::Duration::hours(1),
    );
    let r = get(&app, &expired, None).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "LINK_EXPIRED"
    );

    // The same scan again: stored once. Same order and kind: the same image; another order:
    // a new image of the same content.
    let (_, again) = gql_upload(&app, &order, "ORDER", "again.pdf", scan.clone()).await;
    let again = &again["data"]["uploadOrderImage"];
    assert_eq!(again["deduplicated"], true);
    assert_eq!(again["image"]["id"], img["id"]);
    let (status, elsewhere) = post_image(
        &app,
        &[("orderId", other.clone()), ("kind", "ATTACHMENT".into())],
        "copy.pdf",
        scan.clone(),
    )
    .await;
    assert_eq!(status, 201, "{elsewhere}");
    assert_eq!(elsewhere["deduplicated"], true);
    assert_eq!(elsewhere["image"]["kind"], "ATTACHMENT");
    assert_ne!(elsewhere["image"]["id"], img["id"]);
    assert_eq!(app.count("image_blob").await, 1);
    assert_eq!(app.count("order_image").await, 2);
    let objects = app.images.store.list().await.unwrap();
    assert_eq!(objects.len(), 1, "one object for one content: {objects:?}");
    let r = get(&app, elsewhere["image"]["url"].as_str().unwrap(), None).await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), scan.as_slice());

    // Raster scans through POST /images (scanner software): pages and a PNG preview.
    for (name, bytes, ct, pages) in [
        ("fax.tif", tiff(3, 300, 200, 1), "image/tiff", 3),
        ("phone.png", png(1600, 900, 2), "image/png", 1),
        ("phone.jpg", jpeg(640, 480, 3), "image/jpeg", 1),
    ] {
        let (status, body) = post_image(
            &app,
            &[
                ("orderId", order.clone()),
                ("kind", "proof_of_service".into()),
            ],
            name,
            bytes.clone(),
        )
        .await;
        assert_eq!(status, 201, "{name}: {body}");
        let img = &body["image"];
        assert_eq!(img["contentType"], ct, "{name}");
        assert_eq!(img["pages"], pages, "{name}");
        assert_eq!(img["kind"], "PROOF_OF_SERVICE");
        assert_eq!(img["sha256"], sha256(&bytes));
        let r = get(&app, img["url"].as_str().unwrap(), None).await;
        assert_eq!(r.headers()["content-type"], ct);
        assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());
        let preview_url = img["previewUrl"]
            .as_str()
            .expect("raster images have previews");
        let r = get(&app, preview_url, None).await;
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(r.headers()["content-type"], "image/png");
        let png_bytes = r.bytes().await.unwrap();
        let preview = image::load_from_memory_with_format(&png_bytes, image::ImageFormat::Png)
            .expect("the preview is a PNG");
        assert!(
            preview.width() <= 1200 && preview.height() <= 1200,
            "{name}"
        );
        assert!(preview.width() > 0);
    }
    assert_eq!(images_of(&app, &order).await.len(), 4);
}
on_both_stores!(upload_retrieve_and_dedupe);

/// Two uploads of the same new scan at once: both succeed, the content is stored once.
async fn concurrent_identical_uploads(store: Store) {
    let app = spawn_app_with_images(store, ccpor::images::DEFAULT_MAX_BYTES).await;
    let (a, _, _) = create(&app, dv_tro("26STRO-70011", 1)).await;
    let (b, _, _) = create(&app, dv_tro("26STRO-70012", 1)).await;
    let scan = tiff(2, 120, 90, 42);
    let (fa, fb) = ([("orderId", a)], [("orderId", b)]);
    let (ra, rb) = tokio::join!(
        post_image(&app, &fa, "a.tif", scan.clone()),
        post_image(&app, &fb, "b.tif", scan.clone()),
    );
    assert_eq!((ra.0, rb.0), (201, 201), "{ra:?} {rb:?}");
    let dedup = [&ra.1, &rb.1]
        .iter()
        .filter(|r| r["deduplicated"] == true)
        .count();
    assert_eq!(dedup, 1, "exactly one of them stored the content");
    assert_eq!(app.count("image_blob").await, 1);
    assert_eq!(app.count("order_image").await, 2);
    assert_eq!(
        app.images.store.list().await.unwrap().len(),
        2,
        "original and preview"
    );
}
on_both_stores!(concurrent_identical_uploads);
