//! Prometheus metrics: one process-wide recorder, rendered by `GET /metrics`. Names and labels
//! carry no personal data: trusted documents' operation names (any other is `other`), operation types, outcomes, error codes.
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Latency buckets in seconds: sub-millisecond cache hits up to slow statewide searches.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the recorder once per process (every server in a test binary shares it); `None`
/// when another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            // Histogram samples pile up in the recorder until drained: a server nobody scrapes
            // would otherwise grow by every request's latency (`build_recorder` leaves upkeep
            // to its caller).
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "metrics upkeep thread not started");
            }
            Some(handle)
        })
        .as_ref()
}

/// An operation name as a label: the name of a trusted document (the manifest of
/// `schema/operations/`) when the request is that document, sent by hash or as its exact text;
/// `anonymous` for an unnamed operation; `other` for anything else. Names are client-chosen, and
/// a label per name would grow the registry without limit (issue 22, item 9).
pub fn operation_label(name: Option<&str>, document: &str, trusted: bool) -> &'static str {
    let Some(name) = name else {
        return "anonymous";
    };
    crate::contract::persisted::manifest()
        .iter()
        .find(|d| d.name == name && (trusted || d.body == document))
        .map_or("other", |d| d.name)
}

/// One GraphQL request: count, latency, and each error code.
pub fn graphql_request(
    operation: &'static str,
    kind: &'static str,
    outcome: &'static str,
    took: Duration,
    codes: &[String],
) {
    metrics::counter!(
        "ccpor_graphql_requests_total",
        "operation" => operation,
        "type" => kind,
        "outcome" => outcome
    )
    .increment(1);
    metrics::histogram!(
        "ccpor_graphql_request_duration_seconds",
        "operation" => operation,
        "type" => kind
    )
    .record(took.as_secs_f64());
    for code in codes {
        metrics::counter!("ccpor_graphql_errors_total", "code" => code.clone()).increment(1);
    }
}

/// An executed request's stages: admitted (token, document, a stored answer looked up), executed,
/// audited (its row committed), stored for reuse. Where a request's time goes, by stage.
pub fn graphql_stages(stages: &[(&'static str, Duration)]) {
    for (stage, took) in stages {
        metrics::histogram!("ccpor_graphql_stage_duration_seconds", "stage" => *stage)
            .record(took.as_secs_f64());
    }
}

/// One transmitter pass's stages (`carpos::transmitter`): lease (the rows taken and marked
/// sent), build (their orders' facts read, messages made), audit_send (the sends audited),
/// deliver (the peer's answers), audit_answer (the answers and CLETS-001
/// purges audited), finish (the answers' transaction). Where a pass's time goes.
pub fn carpos_stages(stages: &[(&'static str, Duration)]) {
    for (stage, took) in stages {
        metrics::histogram!("ccpor_carpos_pass_stage_duration_seconds", "stage" => *stage)
            .record(took.as_secs_f64());
    }
}

/// One uncached person search: how long it waited for a blocking thread, and how long the index
/// took. Beside the request's own latency, it tells the index's share from the rest.
pub fn search_timing(waited: Duration, searched: Duration) {
    metrics::histogram!("ccpor_search_duration_seconds", "stage" => "waiting")
        .record(waited.as_secs_f64());
    metrics::histogram!("ccpor_search_duration_seconds", "stage" => "index")
        .record(searched.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_trusted_names_only() {
        let doc = crate::contract::persisted::manifest()
            .iter()
            .find(|d| d.name == "PersonHistory")
            .unwrap();
        assert_eq!(
            operation_label(Some("PersonHistory"), doc.body, false),
            "PersonHistory"
        );
        assert_eq!(
            operation_label(Some("PersonHistory"), "", true),
            "PersonHistory"
        );
        assert_eq!(
            operation_label(
                Some("PersonHistory"),
                "query PersonHistory { courts { code } }",
                false
            ),
            "other",
            "a name alone is not a trusted document"
        );
        assert_eq!(
            operation_label(None, "{ courts { code } }", false),
            "anonymous"
        );
        assert_eq!(
            operation_label(Some("MyProbe"), "query MyProbe { x }", false),
            "other"
        );
    }
}
