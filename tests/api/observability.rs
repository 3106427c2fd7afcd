//! Logs and traces of the real binary: `ccpor serve --log-format json` writes one JSON object per
//! line with the request id on each line of a request; with `OTEL_EXPORTER_OTLP_ENDPOINT` set,
//! spans are exported over OTLP/HTTP to a real receiver.
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::ccpor;

/// A running `ccpor serve --demo`: the child, its base URL, a bench officer's token and every
/// line it wrote to stderr so far.
struct Served {
    child: Child,
    base: String,
    token: String,
    stderr: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn serve(extra_env: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ccpor();
    cmd.args([
        "serve",
        "--demo",
        "--demo-orders",
        "100",
        "--addr",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ])
    .env("CCPOR_DATA_DIR", dir.path())
    .env("RUST_LOG", "info")
    .env_remove("DATABASE_URL")
    .env_remove("CCPOR_KEY_FILE")
    .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
    .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let sink = stderr.clone();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            match line {
                Ok(l) => sink.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("playground: ")
        .unwrap_or_else(|| panic!("first line names the playground: {first}"))
        .to_owned();
    let mut token = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(t) = line.trim().strip_prefix("bench_officer") {
            token = t.trim().to_owned();
            break;
        }
    }
    assert!(
        !token.is_empty(),
        "serve --demo printed a bench officer token"
    );
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Served {
        child,
        base: url.trim_end_matches("/playground").to_owned(),
        token,
        stderr,
        _dir: dir,
    }
}

impl Served {
    async fn query(&self, request_id: &str) -> reqwest::Response {
        let resp = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .header("x-request-id", request_id)
            .json(&json!({ "query": "query Forms { formRules { formNumber } orders(first: 2) { edges { node { id } } } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp
    }

    /// SIGTERM; the server drains, flushes and exits 0.
    fn terminate(mut self) {
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    }
}

/// The request id of a JSON log line: in the current span or any span it is in.
fn request_id_of(line: &Value) -> Option<&str> {
    line["span"]["request_id"].as_str().or_else(|| {
        line["spans"]
            .as_array()?
            .iter()
            .find_map(|s| s["request_id"].as_str())
    })
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_line_of_a_request() {
    let served = serve(&[]);
    let request_id = format!("test-{}", uuid::Uuid::new_v4());
    let resp = served.query(&request_id).await;
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(request_id.as_str()),
        "the response carries the request id"
    );
    // A request without one gets a fresh id, echoed back.
    let resp = reqwest::Client::new()
        .get(format!("{}/healthz", served.base))
        .send()
        .await
        .unwrap();
    let generated = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let deadline = Instant::now() + Duration::from_secs(10);
    let mine = loop {
        let lines = served.stderr.lock().unwrap().clone();
        let mine: Vec<Value> = lines
            .iter()
            .filter(|l| l.contains(&request_id))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        if !mine.is_empty() || Instant::now() > deadline {
            // Every line is one JSON object, not just this request's.
            for l in lines.iter().filter(|l| !l.trim().is_empty()) {
                serde_json::from_str::<Value>(l)
                    .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {l}"));
            }
            break mine;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !mine.is_empty(),
        "a log line names request {request_id}: {:#?}",
        served.stderr.lock().unwrap()
    );
    for line in &mine {
        assert_eq!(request_id_of(line), Some(request_id.as_str()), "{line}");
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    assert!(
        mine.iter()
            .any(|l| l["fields"]["status"] == 200 && l["span"]["path"] == "/graphql"),
        "the response line: {mine:#?}"
    );
    served.terminate();
}

/// One POST the OTLP receiver got.
#[derive(Debug)]
struct Export {
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// A real OTLP/HTTP receiver: records every POST to `/v1/traces`.
async fn otlp_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Export>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode, Uri};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Export {
                    path: uri.path().to_owned(),
                    content_type: headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned(),
                    body: body.to_vec(),
                });
                // An empty ExportTraceServiceResponse.
                (
                    StatusCode::OK,
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), rx)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn spans_are_exported_over_otlp_and_flushed_on_exit() {
    let (endpoint, mut exports) = otlp_receiver().await;
    // No periodic export in this test's lifetime: what arrives was flushed by the shutdown.
    let served = serve(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ]);
    let request_id = format!("otlp-{}", uuid::Uuid::new_v4());
    served.query(&request_id).await;
    served.terminate();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, exports.recv()).await {
        got.push(e);
        if got.iter().any(|e| contains(&e.body, request_id.as_bytes())) {
            break;
        }
    }
    assert!(!got.is_empty(), "the receiver got an OTLP export");
    for e in &got {
        assert_eq!(e.path, "/v1/traces");
        assert_eq!(e.content_type, "application/x-protobuf");
        assert!(!e.body.is_empty());
    }
    // Protobuf keeps strings as they are: the service, the request span and its request id.
    let all: Vec<u8> = got.iter().flat_map(|e| e.body.clone()).collect();
    assert!(contains(&all, b"ccpor"), "service.name");
    assert!(contains(&all, b"request"), "the request span");
    assert!(
        contains(&all, request_id.as_bytes()),
        "the request id is a span attribute"
    );
}
