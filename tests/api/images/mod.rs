//! Order images end to end through HTTP, each scenario on the filesystem store and on the
//! S3-compatible server `scripts/test.sh` starts (the database is SQLite, or PostgreSQL when
//! `CCPOR_TEST_POSTGRES_URL` is set).

mod access;
mod bad_files;
pub mod files;
mod image_only;
mod retrieval;
mod verify;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub const IMAGE_FIELDS: &str =
    "id kind contentType pages size sha256 uploadedAt uploadedBy filename url previewUrl";

/// `uploadOrderImage` as a GraphQL multipart request; returns (HTTP status, body).
pub async fn gql_upload(
    app: &TestApp,
    order_id: &str,
    kind: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let query = format!(
        "mutation($o: ID!, $f: Upload!, $k: ImageKind!) {{ uploadOrderImage(orderId: $o, file: $f, kind: $k) {{
            deduplicated order {{ id }} image {{ {IMAGE_FIELDS} }} }} }}"
    );
    let ops = json!({ "query": query, "variables": { "o": order_id, "f": null, "k": kind } });
    multipart_gql(app, ops, name, bytes, true).await
}

/// Sends a GraphQL multipart request with one file mapped to `variables.f`.
pub async fn multipart_gql(
    app: &TestApp,
    operations: Value,
    name: &str,
    bytes: Vec<u8>,
    preflight: bool,
) -> (u16, Value) {
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part(
            "0",
            Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    let mut req = app.client.post(app.url("/graphql")).multipart(form);
    if preflight {
        req = req.header("apollo-require-preflight", "true");
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `POST /images` with the given text fields and file; returns (HTTP status, body).
pub async fn post_image(
    app: &TestApp,
    fields: &[(&str, String)],
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    post_image_with(&app.client, app, fields, name, bytes).await
}

/// `post_image` sent by `client` (another token, or none).
pub async fn post_image_with(
    client: &reqwest::Client,
    app: &TestApp,
    fields: &[(&str, String)],
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    form = form.part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/pdf")
            .unwrap(),
    );
    let resp = client
        .post(app.url("/images"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The images of an order, through `Order.images`.
pub async fn images_of(app: &TestApp, order_id: &str) -> Vec<Value> {
    let q = format!("query($o: ID!) {{ order(id: $o) {{ images {{ {IMAGE_FIELDS} }} }} }}");
    let d = app.data(&q, json!({ "o": order_id })).await;
    d["order"]["images"].as_array().unwrap().clone()
}

/// GETs a signed link (relative URL) with optional `Range`.
pub async fn get(app: &TestApp, link: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(link));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

/// Asserts that nothing of an image is stored: no objects, no rows, no spooled files.
pub async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(
        app.images.store.list().await.unwrap(),
        Vec::<String>::new(),
        "objects left in the store"
    );
    assert_eq!(app.count("image_blob").await, 0);
    assert_eq!(app.count("order_image").await, 0);
    let spool = &app.images.spool_dir;
    let leftovers = std::fs::read_dir(spool).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "spooled uploads left in {}", spool.display());
}

/// Declares one test per store for a scenario `async fn(Store)`.
#[macro_export]
macro_rules! on_both_stores {
    ($scenario:ident) => {
        mod $scenario {
            use $crate::helpers::Store;

            #[tokio::test]
            async fn filesystem() {
                super::$scenario(Store::Fs).await
            }

            #[tokio::test]
            async fn s3() {
                super::$scenario(Store::S3).await
            }
        }
    };
}
