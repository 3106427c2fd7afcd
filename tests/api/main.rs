//! End-to-end tests through HTTP (and the CLI binary) on a fresh database per test.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on a broken setup"
)]

mod batch_rows;
mod bench_conflicts;
mod bench_history;
mod bench_identity;
mod bench_statistics;
mod bench_support;
mod cache;
mod carpos_events;
mod carpos_sim;
mod carpos_status;
mod carpos_transmission;
mod cli;
mod cli_audit;
mod cli_ops;
mod cli_security;
mod clone;
mod contract;
mod courts;
mod crash;
mod ecosystem;
mod faults;
mod federation;
mod feed_status;
mod feeds;
mod hardening;
mod helpers;
mod http;
mod images;
mod import_carpos;
mod import_keys;
mod law;
mod law_firearms;
mod law_precedence;
mod law_records;
mod lifecycle;
mod matrix;
mod observability;
mod orders;
mod paging;
mod rules;
mod search;
mod security;
mod sheriff;
mod subscriptions;
mod subscriptions_expiring;
mod trusted;
mod work_lists;
