//! The CARPOS queue for operators: `ccpor carpos status` (a real process on the database) and
//! the transmitter's metrics on `/metrics`.
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::carpos_sim::Peer;
use crate::carpos_transmission::{ccpor, fresh_database};
use crate::helpers::{carpos_config, create, dv_tro, spawn_app_with_carpos};

#[tokio::test]
async fn carpos_status_prints_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    // Two orders by import, no transmitter: one queues, one is held for want of a height.
    let mut held = dv_tro("25FL300801", 2);
    held["parties"][0]["person"]["heightInches"] = Value::Null;
    let lines = [dv_tro("25FL300800", 2).to_string(), held.to_string()];
    let file = dir.path().join("orders.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = ccpor(dir.path(), &url)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = ccpor(dir.path(), &url)
        .args(["carpos", "status"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start:?} line in:\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(line("queued ")[1], "1", "{text}");
    assert_eq!(line("held_incomplete ")[1], "1", "{text}");
    assert_eq!(line("acknowledged ")[1], "0", "{text}");
    assert_eq!(line("not acknowledged")[2], "2", "{text}");
    assert_eq!(line("overdue")[1], "0", "{text}");
    assert!(line("oldest unsent")[2].starts_with("20"), "{text}");
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(listed.len(), 2, "{text}");
    assert!(listed.iter().all(|l| l.contains(" ETO ")), "{text}");
    assert!(
        listed
            .iter()
            .any(|l| l.contains("held_incomplete") && l.ends_with("missing HGT")),
        "{text}"
    );
    // No order data on the console: not the case number, not a name.
    assert!(
        !text.contains("25FL3008") && !text.contains("Quintero"),
        "{text}"
    );
}

#[tokio::test]
async fn the_transmitter_reports_its_queue_and_acknowledgements_as_metrics() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app_with_carpos(carpos_config(&peer.addr), None).await;
    create(&app, dv_tro("25FL300810", 1)).await;
    // Metrics are process-wide (every test server shares the recorder): look for the series.
    let wanted = [
        "ccpor_carpos_acknowledged_total{late=\"false\"}",
        "ccpor_carpos_ack_latency_seconds",
        "ccpor_carpos_queue{state=\"queued\"}",
        "ccpor_carpos_oldest_unsent_seconds",
        "ccpor_carpos_overdue",
    ];
    let start = Instant::now();
    loop {
        let text = reqwest::get(app.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if wanted.iter().all(|w| text.contains(w)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "missing {:?} in:\n{text}",
            wanted
                .iter()
                .filter(|w| !text.contains(*w))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
