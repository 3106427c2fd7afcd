//! Trusted documents: the named operations of `schema/operations/` as a manifest of SHA-256
//! hashes of their text, so clients (LEA patrol-car software) send only
//! `extensions.persistedQuery.sha256Hash` (Apollo's persisted-query protocol), and tokens
//! narrowed to trusted documents can run nothing else (OWASP GraphQL Cheat Sheet: allow-listing).
use std::sync::OnceLock;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use sha2::{Digest, Sha256};

use crate::contract::operations::OPERATIONS;

/// One entry of the manifest.
#[derive(Debug, Clone)]
pub struct TrustedDocument {
    /// Hex SHA-256 of `body`.
    pub id: String,
    pub name: &'static str,
    /// `query` or `mutation`.
    pub kind: &'static str,
    pub body: &'static str,
}

/// Hex SHA-256 of a document's text, as clients compute it.
pub fn hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

fn kind_of(body: &str) -> &'static str {
    let ty = parse_query(body).ok().and_then(|d| match d.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => ops.values().next().map(|op| op.node.ty),
    });
    match ty {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    }
}

/// The manifest, built once from the embedded operations.
pub fn manifest() -> &'static [TrustedDocument] {
    static MANIFEST: OnceLock<Vec<TrustedDocument>> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        OPERATIONS
            .iter()
            .map(|op| TrustedDocument {
                id: hash(op.document),
                name: op.name,
                kind: kind_of(op.document),
                body: op.document,
            })
            .collect()
    })
}

/// The trusted document with this hash (hex, any case).
pub fn find(sha256: &str) -> Option<&'static TrustedDocument> {
    manifest()
        .iter()
        .find(|d| d.id.eq_ignore_ascii_case(sha256))
}

/// The manifest in Apollo's persisted-query-manifest format (version 1), for client tooling.
pub fn manifest_json() -> serde_json::Value {
    let operations: Vec<serde_json::Value> = manifest()
        .iter()
        .map(|d| serde_json::json!({ "id": d.id, "name": d.name, "type": d.kind, "body": d.body }))
        .collect();
    serde_json::json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_operation_is_in_the_manifest_by_its_hash() {
        assert_eq!(manifest().len(), OPERATIONS.len());
        for op in OPERATIONS {
            let d = find(&hash(op.document)).unwrap();
            assert_eq!(d.name, op.name);
            assert_eq!(d.kind, "query");
        }
        assert!(find(&hash("{ __typename }")).is_none());
        let upper = manifest()[0].id.to_ascii_uppercase();
        assert!(find(&upper).is_some());
    }
}
