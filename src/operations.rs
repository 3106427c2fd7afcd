//! The named operations clients use (`schema/operations/`), embedded for the playground and tests.

/// One named operation with example variables.
pub struct Operation {
    pub name: &'static str,
    pub document: &'static str,
    /// Example variables, JSON.
    pub variables: &'static str,
}

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "PersonHistory",
        document: include_str!("../schema/operations/PersonHistory.graphql"),
        variables: include_str!("../schema/operations/PersonHistory.json"),
    },
    Operation {
        name: "LeaCaseLookup",
        document: include_str!("../schema/operations/LeaCaseLookup.graphql"),
        variables: include_str!("../schema/operations/LeaCaseLookup.json"),
    },
    Operation {
        name: "AnalystExploration",
        document: include_str!("../schema/operations/AnalystExploration.graphql"),
        variables: include_str!("../schema/operations/AnalystExploration.json"),
    },
];
