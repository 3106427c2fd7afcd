//! End-to-end tests through HTTP (and the CLI binary) on a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod cli_security;
mod contract;
mod courts;
mod ecosystem;
mod hardening;
mod helpers;
mod http;
mod images;
mod lifecycle;
mod matrix;
mod orders;
mod paging;
mod search;
mod security;
