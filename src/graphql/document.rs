//! What a request document asks for, read before execution: the operation type (mutations need a
//! write-capable token and POST), the root fields (anonymous callers get `__typename` only;
//! reference-data reads are not audited), the number of aliases (alias batching) and of
//! duplicated fields (field duplication): both graphql-cop checks.
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};

/// The parts of a document access control looks at.
#[derive(Debug, Clone)]
pub struct DocInfo {
    pub op: OperationType,
    /// The operation's name, whether or not the request named it in `operationName`.
    pub name: Option<String>,
    /// Root field names (not aliases), fragments expanded.
    pub root_fields: Vec<String>,
    /// Aliases anywhere in the document.
    pub aliases: usize,
    /// Fields selected again under a response key their selection set already has. The
    /// executor resolves each copy again, so, like aliases, they multiply one resolver's work
    /// at a complexity cost of one unit each.
    pub duplicates: usize,
}

/// Root fields that read no person, order or image data.
pub const REFERENCE_FIELDS: &[&str] = &[
    "__typename",
    "__schema",
    "__type",
    "courts",
    "court",
    "agencies",
    "agency",
    "formRules",
    "rulesTable",
    "_service",
];

/// Root fields answered from stored data alone (see `DocInfo::reusable`).
const REUSABLE_FIELDS: &[&str] = &[
    "__typename",
    "node",
    "order",
    "orders",
    "ordersByCaseNumber",
    "person",
    "personHistory",
    "searchPersons",
    "courts",
    "court",
    "agencies",
    "agency",
    "formRules",
    "rulesTable",
];

impl DocInfo {
    /// Only `__typename`: what an anonymous caller may ask.
    pub fn typename_only(&self) -> bool {
        self.op == OperationType::Query && self.root_fields.iter().all(|f| f == "__typename")
    }

    /// Asks for the schema (`__schema`, `__type`, or Federation's `_service { sdl }`, which is
    /// the whole schema too: production gateways compose the committed federation SDL instead).
    pub fn introspects(&self) -> bool {
        self.root_fields
            .iter()
            .any(|f| f == "__schema" || f == "__type" || f == "_service")
    }

    /// Only reference data (courts, agencies, forms, introspection).
    pub fn reference_only(&self) -> bool {
        self.query_of(REFERENCE_FIELDS)
    }

    /// A query whose every root field is one of `fields`.
    fn query_of(&self, fields: &[&str]) -> bool {
        self.op == OperationType::Query
            && self
                .root_fields
                .iter()
                .all(|f| fields.contains(&f.as_str()))
    }

    /// Whether the whole answer may be reused (`http::graphql::reuse`): a query whose every root field
    /// answers from stored data alone, so only writes (which move the cache generation) and
    /// instants recorded while it ran change it. Conflict checks, statistics and the audit log
    /// are worked out as of the moment asked, or change without a write.
    pub fn reusable(&self) -> bool {
        self.query_of(REUSABLE_FIELDS)
    }

    /// `operationName(rootField, …)` for the audit row.
    pub fn describe(&self, operation_name: Option<&str>) -> String {
        format!(
            "{} {}({})",
            match self.op {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            },
            crate::audit::clean::bounded(
                operation_name
                    .or(self.name.as_deref())
                    .unwrap_or("anonymous"),
                crate::audit::clean::MAX_CLIENT_TEXT
            ),
            self.root_fields.join(",")
        )
    }
}

/// `None` when the document does not parse or names no single operation; execution then reports
/// the error itself.
pub fn analyze(query: &str, operation_name: Option<&str>) -> Option<DocInfo> {
    analyze_doc(&parse_query(query).ok()?, operation_name)
}

/// `analyze` of a document already parsed (the request's own parse, which execution reuses).
pub fn analyze_doc(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<DocInfo> {
    let (name, op) = match &doc.operations {
        DocumentOperations::Single(op) => (None, op),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => (Some(name.to_owned()), ops.get(name)?),
            None if ops.len() == 1 => {
                let (name, op) = ops.iter().next()?;
                (Some(name.to_string()), op)
            }
            None => return None,
        },
    };
    let mut root_fields = Vec::new();
    collect_fields(doc, &op.node.selection_set.node, &mut root_fields);
    root_fields.sort();
    root_fields.dedup();
    let mut repeats = Repeats::default();
    for (_, o) in doc.operations.iter() {
        repeats.count(&o.node.selection_set.node);
    }
    for f in doc.fragments.values() {
        repeats.count(&f.node.selection_set.node);
    }
    Some(DocInfo {
        op: op.node.ty,
        name,
        root_fields,
        aliases: repeats.aliases,
        duplicates: repeats.duplicates,
    })
}

/// Every root field `set` selects, through inline fragments and fragment spreads however deeply
/// they nest: the checks before execution (anonymous access, audit, answer reuse) see what
/// execution will resolve (issue 22, item 5: a walk that stopped at 8 levels let a deeper
/// fragment hide `__schema` or `statistics`). Each named fragment is walked once (its root fields
/// are the same wherever it is spread, and a cycle, which validation refuses, ends), and the walk
/// keeps its own stack, so no nesting overflows the thread's.
fn collect_fields(doc: &ExecutableDocument, set: &SelectionSet, out: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![set];
    while let Some(set) = stack.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => out.push(f.node.name.node.to_string()),
                Selection::InlineFragment(f) => stack.push(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    if let Some(def) = doc.fragments.get(name) {
                        if seen.insert(name.as_str()) {
                            stack.push(&def.node.selection_set.node);
                        }
                    } else {
                        // Unknown fragment: validation will refuse it; count it as data.
                        out.push(name.to_string());
                    }
                }
            }
        }
    }
}

/// Aliases and duplicated fields, counted where they are written (fragment definitions once,
/// not per spread).
#[derive(Default)]
struct Repeats {
    aliases: usize,
    duplicates: usize,
}

impl Repeats {
    fn count(&mut self, set: &SelectionSet) {
        let mut keys = std::collections::HashSet::new();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    self.aliases += usize::from(f.node.alias.is_some());
                    if !keys.insert(f.node.response_key().node.as_str()) {
                        self.duplicates += 1;
                    }
                    self.count(&f.node.selection_set.node);
                }
                Selection::InlineFragment(f) => self.count(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_root_fields_through_fragments_and_counts_aliases() {
        let d = analyze(
            "query Q { ...F a: courts { code } b: courts { code } } fragment F on QueryRoot { person(id: \"x\") { id } __typename }",
            None,
        )
        .unwrap();
        assert_eq!(d.root_fields, vec!["__typename", "courts", "person"]);
        assert_eq!(d.aliases, 2);
        assert_eq!(d.duplicates, 0);
        assert!(!d.reference_only());
        assert!(!d.introspects());
        assert!(
            analyze(
                "query { ...F } fragment F on QueryRoot { __type(name: \"Order\") { name } }",
                None
            )
            .unwrap()
            .introspects()
        );
        let dup = analyze(
            "{ __typename __typename courts { code code } a: courts { code } }",
            None,
        )
        .unwrap();
        assert_eq!((dup.aliases, dup.duplicates), (1, 2));
        assert!(analyze("{ __typename }", None).unwrap().typename_only());
        assert!(
            !analyze("{ __schema { types { name } } }", None)
                .unwrap()
                .typename_only()
        );
        let m = analyze("mutation { createOrder(input: {}) { order { id } } }", None).unwrap();
        assert_eq!(m.op, OperationType::Mutation);
        assert!(
            analyze(
                "query A { courts { code } } query B { courts { code } }",
                None
            )
            .is_none()
        );
        assert!(analyze("{", None).is_none());
    }

    #[test]
    fn sees_root_fields_under_fragments_nested_deeper_than_any_cut_off() {
        // F0 spreads F1 … F39 spreads a fragment selecting `__schema`; inline fragments too.
        let mut q = String::from("query { ...F0 }");
        for i in 0..40 {
            q.push_str(&format!(
                " fragment F{i} on QueryRoot {{ __typename ...F{} }}",
                i + 1
            ));
        }
        q.push_str(" fragment F40 on QueryRoot { __schema { types { name } } }");
        let d = analyze(&q, None).unwrap();
        assert!(d.introspects() && !d.typename_only(), "{d:?}");
        let inline = format!(
            "{{ {}statistics(groupBy: COUNTY) {{ key }}{} }}",
            "... on QueryRoot { ".repeat(40),
            " }".repeat(40)
        );
        let d = analyze(&inline, None).unwrap();
        assert!(d.root_fields.contains(&"statistics".to_owned()), "{d:?}");
        // A cycle (refused later by validation) ends the walk.
        let d = analyze(
            "query { ...A } fragment A on QueryRoot { courts { code } ...B } fragment B on QueryRoot { ...A }",
            None,
        )
        .unwrap();
        assert_eq!(d.root_fields, vec!["courts"]);
    }
}
