//! The named operations clients use (`schema/operations/`), embedded for the playground and tests.

/// One named operation with example variables.
pub struct Operation {
    pub name: &'static str,
    pub document: &'static str,
    /// Example variables, JSON: fixed synthetic values that name nobody.
    pub variables: &'static str,
}

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "PersonHistory",
        document: include_str!("../../schema/operations/PersonHistory.graphql"),
        variables: include_str!("../../schema/operations/PersonHistory.json"),
    },
    Operation {
        name: "BenchDashboard",
        document: include_str!("../../schema/operations/BenchDashboard.graphql"),
        variables: include_str!("../../schema/operations/BenchDashboard.json"),
    },
    Operation {
        name: "LeaCaseLookup",
        document: include_str!("../../schema/operations/LeaCaseLookup.graphql"),
        variables: include_str!("../../schema/operations/LeaCaseLookup.json"),
    },
    Operation {
        name: "PersonSearch",
        document: include_str!("../../schema/operations/PersonSearch.graphql"),
        variables: include_str!("../../schema/operations/PersonSearch.json"),
    },
    Operation {
        name: "AnalystExploration",
        document: include_str!("../../schema/operations/AnalystExploration.graphql"),
        variables: include_str!("../../schema/operations/AnalystExploration.json"),
    },
];

/// Example variables for `op` that name real rows of this database (the busiest restrained person,
/// the newest case number), for tests and tools run by an operator. Never served: the playground
/// embeds only the fixed synthetic variables of `schema/operations/*.json` (issue 22, item 1).
pub async fn example_variables(
    db: &sea_orm::DatabaseConnection,
    op: &Operation,
) -> crate::error::AppResult<serde_json::Value> {
    use entities::order;
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};

    let mut vars: serde_json::Value =
        serde_json::from_str(op.variables).unwrap_or_else(|_| serde_json::json!({}));
    match op.name {
        "PersonSearch" => {
            // The busiest person's name as a clerk might type it: given name first, no accents.
            let busiest = busiest_restrained(db).await?;
            if let Some(id) = busiest
                && let Some(p) = entities::person::Entity::find_by_id(id).one(db).await?
            {
                let typed = format!(
                    "{} {}",
                    p.first_name.unwrap_or_default(),
                    p.last_name.unwrap_or_default()
                );
                vars["name"] = deunicode::deunicode(typed.trim()).into();
            }
        }
        "PersonHistory" | "BenchDashboard" => {
            if let Some(id) = busiest_restrained(db).await? {
                vars["personId"] =
                    crate::domain::ids::encode(crate::domain::ids::Kind::Person, id).into();
            }
        }
        "LeaCaseLookup" => {
            let newest: Option<String> = order::Entity::find()
                .select_only()
                .column(order::Column::CaseNumber)
                .order_by_desc(order::Column::IssuedAt)
                .order_by_desc(order::Column::Id)
                .limit(1)
                .into_tuple()
                .one(db)
                .await?;
            if let Some(cn) = newest {
                vars["caseNumber"] = cn.into();
            }
        }
        _ => {}
    }
    Ok(vars)
}

/// The restrained person with the most orders (ties: lowest id).
async fn busiest_restrained(
    db: &sea_orm::DatabaseConnection,
) -> crate::error::AppResult<Option<i32>> {
    use entities::order_party;
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    Ok(order_party::Entity::find()
        .select_only()
        .column(order_party::Column::PersonId)
        .filter(order_party::Column::Role.eq("restrained"))
        .group_by(order_party::Column::PersonId)
        .order_by_desc(Expr::col(order_party::Column::OrderId).count())
        .order_by_asc(order_party::Column::PersonId)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?)
}
