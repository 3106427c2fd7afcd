//! Reading several tables in one statement. Each round trip to PostgreSQL costs two here (sqlx
//! pings a connection as it goes back to the pool), so a dashboard read joins what it shows
//! instead of leaving each table to its loader: every table's columns are selected under a
//! prefix (`<table>_<column>`, as `FromQueryResult` reads them back), and tables that do not
//! join row to row are stacked with `UNION ALL`, each branch padding the others' columns with
//! NULL.
use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{DbErr, FromQueryResult, IdenStatic, QueryResult};

/// Selects `columns` of the table aliased `table` as `<table>_<column>`.
pub fn select_prefixed<C: IdenStatic>(
    q: &mut SelectStatement,
    table: &str,
    columns: impl Iterator<Item = C>,
) {
    for c in columns {
        q.expr_as(
            Expr::col((Alias::new(table), c)),
            Alias::new(format!("{table}_{}", c.as_str())),
        );
    }
}

/// Selects NULL under the names `select_prefixed` gives `columns`: the padding of a `UNION ALL`
/// branch that reads another table. An untyped NULL takes its column's type from the branch
/// that reads it (PostgreSQL's UNION type resolution).
pub fn select_nulls<C: IdenStatic>(
    q: &mut SelectStatement,
    table: &str,
    columns: impl Iterator<Item = C>,
) {
    for c in columns {
        q.expr_as(
            Expr::cust("NULL"),
            Alias::new(format!("{table}_{}", c.as_str())),
        );
    }
}

/// The row's `table` part, or `None` when its key column `id` is NULL (a left join that found
/// nothing, or another branch of a union).
pub fn optional<M: FromQueryResult>(row: &QueryResult, table: &str) -> Result<Option<M>, DbErr> {
    let prefix = format!("{table}_");
    match row.try_get::<Option<i32>>(&prefix, "id")? {
        Some(_) => M::from_query_result(row, &prefix).map(Some),
        None => Ok(None),
    }
}
