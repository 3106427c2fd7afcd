//! Statewide protective-order registry: a GraphQL gateway over orders, persons and courts.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod carpos;
pub mod checkpoint;
pub mod cli;
pub mod contract;
pub mod db;
pub mod demo;
pub mod docs;
pub mod domain;
pub mod error;
pub mod feed;
#[doc(hidden)]
pub mod fuzzing;
pub mod graphql;
pub mod http;
pub mod images;
pub mod import;
pub mod metrics;
pub mod ops;
pub mod search;
pub mod service;
pub mod space;
pub mod state;
