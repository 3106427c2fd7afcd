//! `ccpor images verify` re-hashes stored objects and reports the missing and the corrupted.
use std::process::Command;

use ccpor::images::store::{original_key, preview_key};

use super::files::{pdf, png, sha256};
use super::post_image;
use crate::helpers::{Store, TestApp, create, dv_tro, spawn_app_with_images};
use crate::on_both_stores;

fn verify(app: &TestApp) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccpor"));
    cmd.args(["images", "verify"])
        .env("CCPOR_DATA_DIR", app.data_dir())
        .env("DATABASE_URL", &app.database_url)
        .env_remove("CCPOR_IMAGE_STORE");
    if let Some(url) = &app.image_store {
        cmd.args(["--image-store", url]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn verify_reports_missing_and_corrupted(store: Store) {
    let app = spawn_app_with_images(store, ccpor::images::DEFAULT_MAX_BYTES).await;
    let (order, _, _) = create(&app, dv_tro("26STRO-70301", 1)).await;
    let a = pdf(1, "verify a");
    let b = png(40, 40, 7);
    for (name, bytes) in [("a.pdf", a.clone()), ("b.png", b.clone())] {
        let (status, body) = post_image(&app, &[("orderId", order.clone())], name, bytes).await;
        assert_eq!(status, 201, "{body}");
    }
    let (code, out) = verify(&app);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked 3 objects"), "{out}");
    assert!(out.contains(": 0 missing or corrupted"), "{out}");

    app.images
        .store
        .delete(&original_key(&sha256(&a)))
        .await
        .unwrap();
    app.images
        .store
        .put_bytes(&preview_key(&sha256(&b)), b"not the preview".to_vec())
        .await
        .unwrap();
    let (code, out) = verify(&app);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains(&format!("missing   {}", original_key(&sha256(&a)))),
        "{out}"
    );
    assert!(
        out.contains(&format!("corrupted {}", preview_key(&sha256(&b)))),
        "{out}"
    );
    assert!(out.contains(": 2 missing or corrupted"), "{out}");
}
on_both_stores!(verify_reports_missing_and_corrupted);
