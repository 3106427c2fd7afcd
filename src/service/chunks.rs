//! How many rows go in one multi-row INSERT.
//!
//! PostgreSQL: rows are counted by their bound bytes as well as by their number of values, so a
//! statement of wide rows (an order's text fields) stays bounded. The bound was once a single TLS
//! record (16 KiB): sqlx 0.9.0 left Nagle's algorithm on (transact-rs/sqlx#4335), so a statement
//! of two records waited ~40 ms for the server's delayed ACK. sqlx 0.9.1 sets `TCP_NODELAY`
//! again, and the bounds below are the best of those measured since (BENCHMARKS.md, "sqlx 0.9.1:
//! TCP_NODELAY back").
use sea_orm::sea_query::Value;
use sea_orm::{ActiveModelTrait, DbBackend, EntityTrait, Iterable, QueryTrait, Statement};

/// Bound values per statement on PostgreSQL: the planner's set-up grows with them (a 50,000-order
/// import: 800 values 4,300-4,700 orders/s, 2,000 values 5,000-5,200, 3,000 values 4,500-4,800).
const PG_MAX_VALUES: usize = 2_000;
/// Bound bytes per statement on PostgreSQL.
pub const PG_MAX_BYTES: usize = 64_000;
/// Bound values per statement on SQLite (in-process; its limit is 32,766).
const SQLITE_MAX_VALUES: usize = 30_000;
/// A Bind message's bytes per value besides the value: its length (4) and format code (2).
const PER_VALUE: usize = 6;

/// `models` as multi-row INSERT statements sized for `backend`, in order: what every batched
/// write executes (`orders::insert_chunked`) or hands to its executor (`batch_write`).
pub fn insert_statements<A: ActiveModelTrait>(
    backend: DbBackend,
    mut models: Vec<A>,
) -> impl Iterator<Item = Statement> {
    std::iter::from_fn(move || {
        if models.is_empty() {
            return None;
        }
        let rest = models.split_off(next_statement_rows(backend, &models));
        let rows = std::mem::replace(&mut models, rest);
        Some(<A::Entity as EntityTrait>::insert_many(rows).build(backend))
    })
}

/// How many of the leading `models` go in the next INSERT on `backend` (at least one, if any).
fn next_statement_rows<A: ActiveModelTrait>(backend: DbBackend, models: &[A]) -> usize {
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    if backend == DbBackend::Sqlite {
        return (SQLITE_MAX_VALUES / columns).max(1).min(models.len());
    }
    let most = (PG_MAX_VALUES / columns).max(1);
    let mut bytes = 0;
    for (i, model) in models.iter().take(most).enumerate() {
        bytes += row_bytes(model);
        if bytes > PG_MAX_BYTES {
            return i.max(1);
        }
    }
    most.min(models.len())
}

/// A row's bytes in a Bind message: each set column's value as sqlx sends it.
fn row_bytes<A: ActiveModelTrait>(model: &A) -> usize {
    <A::Entity as EntityTrait>::Column::iter()
        .map(|c| match model.get(c).into_value() {
            Some(v) => PER_VALUE + value_bytes(&v),
            None => 0,
        })
        .sum()
}

/// A value's bytes as sent: binary numbers and instants, text as its UTF-8; generous for
/// anything else.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Bool(_) | Value::TinyInt(_) | Value::TinyUnsigned(_) => 1,
        Value::SmallInt(_) | Value::SmallUnsigned(_) => 2,
        Value::Int(_) | Value::Unsigned(_) | Value::Float(_) | Value::ChronoDate(_) => 4,
        Value::BigInt(_) | Value::BigUnsigned(_) | Value::Double(_) => 8,
        Value::ChronoDateTimeUtc(_) | Value::ChronoDateTime(_) => 8,
        Value::String(Some(s)) => s.len(),
        Value::String(None) => 0,
        Value::Json(Some(j)) => j.to_string().len() + 1,
        Value::Bytes(Some(b)) => b.len(),
        _ => 64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use entities::person_alias;
    use sea_orm::ActiveValue::Set;

    fn alias(last: &str) -> person_alias::ActiveModel {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 6, 14, 0, 0)
            .single()
            .unwrap();
        person_alias::ActiveModel {
            id: Set(1),
            person_id: Set(7),
            last_name: Set(last.to_owned()),
            first_name: Set(Some("Ana".to_owned())),
            middle_name: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
        }
    }

    #[test]
    fn short_rows_stop_at_the_value_bound() {
        let rows: Vec<_> = (0..1000).map(|_| alias("Ruiz")).collect();
        // 7 columns: 285 rows of 2,000 values, about 20 KB.
        assert_eq!(
            next_statement_rows(DbBackend::Postgres, &rows),
            PG_MAX_VALUES / 7
        );
        assert_eq!(next_statement_rows(DbBackend::Sqlite, &rows), 1000);
    }

    #[test]
    fn long_rows_stop_at_the_byte_bound() {
        let long = "Montenegro-Villalobos ".repeat(10);
        let rows: Vec<_> = (0..1000).map(|_| alias(&long)).collect();
        let n = next_statement_rows(DbBackend::Postgres, &rows);
        let bytes: usize = rows[..n].iter().map(row_bytes).sum();
        assert!(bytes <= PG_MAX_BYTES && bytes + row_bytes(&rows[n]) > PG_MAX_BYTES);
        assert!(n < PG_MAX_VALUES / 7, "{n}");
    }

    #[test]
    fn one_row_larger_than_the_byte_bound_still_goes_alone() {
        let rows = vec![alias(&"x".repeat(PG_MAX_BYTES + 1)), alias("Ruiz")];
        assert_eq!(next_statement_rows(DbBackend::Postgres, &rows), 1);
        assert_eq!(next_statement_rows(DbBackend::Postgres, &rows[..0]), 0);
    }
}
