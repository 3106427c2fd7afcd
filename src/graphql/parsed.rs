//! Parsed documents, kept by their text. Clients send the same few operations all day (the
//! trusted documents, a dashboard's queries), and parsing one costs more than serving its whole
//! answer from the cache. A parse depends on the text alone, so every caller shares it.
use std::sync::Arc;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;

use crate::graphql::document::{DocInfo, analyze_doc};

/// Document text kept at most, in bytes: hundreds of operations. A parsed document takes
/// several times its text, and anyone, signed in or not, can send documents (moka's admission
/// policy keeps the frequently sent ones when strangers crowd in).
const CAPACITY: u64 = 1024 * 1024;

/// A parsed document and what access control reads of it.
#[derive(Debug)]
pub struct Parsed {
    pub doc: ExecutableDocument,
    /// `None` when the document names no single operation for the request's operation name.
    pub info: Option<DocInfo>,
}

/// The process's parsed documents: a cheap handle.
#[derive(Clone)]
pub struct Documents {
    cache: moka::sync::Cache<String, Arc<Parsed>>,
}

impl Default for Documents {
    fn default() -> Self {
        Documents {
            cache: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .weigher(|k: &String, _: &Arc<Parsed>| u32::try_from(k.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl Documents {
    /// `query` parsed and analysed for `operation_name`; `None` when it does not parse
    /// (execution then reports the error itself). Failed parses are not kept.
    pub fn get(&self, query: &str, operation_name: Option<&str>) -> Option<Arc<Parsed>> {
        // The operation name changes the analysis, not the parse; a unit separator cannot
        // occur in a name.
        let key = format!("{}\u{1f}{query}", operation_name.unwrap_or(""));
        if let Some(p) = self.cache.get(&key) {
            return Some(p);
        }
        let doc = parse_query(query).ok()?;
        let info = analyze_doc(&doc, operation_name);
        let parsed = Arc::new(Parsed { doc, info });
        self.cache.insert(key, parsed.clone());
        Some(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_per_operation_name() {
        let docs = Documents::default();
        let q = "query A { courts { code } } query B { person(id: \"x\") { id } }";
        let a = docs.get(q, Some("A")).expect("parses");
        let again = docs.get(q, Some("A")).expect("parses");
        assert!(Arc::ptr_eq(&a, &again));
        let b = docs.get(q, Some("B")).expect("parses");
        assert_eq!(
            a.info.as_ref().map(|i| i.root_fields.clone()),
            Some(vec!["courts".to_owned()])
        );
        assert_eq!(
            b.info.as_ref().map(|i| i.root_fields.clone()),
            Some(vec!["person".to_owned()])
        );
        // Two operations and no name: parses, but names no single operation.
        assert!(docs.get(q, None).is_some_and(|p| p.info.is_none()));
        assert!(docs.get("query {", None).is_none());
    }
}
