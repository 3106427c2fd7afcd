//! Reading several tables in one statement. Each round trip to PostgreSQL costs two here (sqlx
//! pings a connection as it goes back to the pool), so a dashboard read stacks what it shows
//! into one statement instead of leaving each table to its loader: every table's columns are
//! selected under a prefix (`<table>_<column>`, as `FromQueryResult` reads them back), and
//! branches reading different tables are stacked with `UNION ALL`, each padding the columns it
//! does not read with NULL.
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryResult};

/// One aliased table of a stacked statement.
struct Group {
    alias: &'static str,
    table: &'static str,
    columns: Vec<&'static str>,
}

/// The column groups of a stacked statement, in select order.
#[derive(Default)]
pub struct Stack {
    groups: Vec<Group>,
}

impl Stack {
    /// Adds the columns of `entity`'s table, aliased `alias`.
    pub fn group<E: EntityTrait>(mut self, alias: &'static str, entity: E) -> Self {
        self.groups.push(Group {
            alias,
            table: entity.table_name(),
            columns: E::Column::iter().map(|c| c.as_str()).collect(),
        });
        self
    }

    /// A branch's select list: the columns of the `active` groups read from their tables, every
    /// other column NULL.
    pub fn branch(&self, active: &[&str]) -> SelectStatement {
        let mut q = Query::select();
        for g in &self.groups {
            let read = active.contains(&g.alias);
            for col in &g.columns {
                let name = Alias::new(format!("{}_{col}", g.alias));
                if read {
                    q.expr_as(Expr::col((Alias::new(g.alias), Alias::new(*col))), name);
                } else {
                    q.expr_as(Expr::cust("NULL"), name);
                }
            }
        }
        q
    }

    /// The first branch of a stack: every group's columns from its table, and no row. PostgreSQL
    /// resolves a UNION's column types pairwise from the left, so two branches both NULL in a
    /// column would make it text and clash with the branch that reads it; this branch types
    /// every column first.
    pub fn typing_branch(&self) -> SelectStatement {
        let all: Vec<&str> = self.groups.iter().map(|g| g.alias).collect();
        let mut q = self.branch(&all);
        for g in &self.groups {
            q.from_as(Alias::new(g.table), Alias::new(g.alias));
        }
        q.and_where(Expr::cust("1 = 0"));
        q
    }
}

/// The row's `table` part, or `None` when its key column `id` is NULL (a left join that found
/// nothing, or another branch of a stack).
pub fn optional<M: FromQueryResult>(row: &QueryResult, table: &str) -> Result<Option<M>, DbErr> {
    let prefix = format!("{table}_");
    match row.try_get::<Option<i32>>(&prefix, "id")? {
        Some(_) => M::from_query_result(row, &prefix).map(Some),
        None => Ok(None),
    }
}
