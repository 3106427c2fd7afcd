//! Statewide protective-order registry: a GraphQL gateway over orders, persons and courts.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod db;
pub mod demo;
pub mod digest;
pub mod docs;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod images;
pub mod import;
pub mod metrics;
pub mod operations;
pub mod ops;
pub mod persisted;
pub mod search;
pub mod server;
pub mod service;
pub mod state;
