//! How many rows go in one multi-row INSERT, and how it is written: on PostgreSQL one array a
//! column (`unnest`), on SQLite a `VALUES` list.
//!
//! PostgreSQL: rows are counted by their bound bytes as well as by their number, so a statement
//! of wide rows (an order's text fields) stays bounded. The bound was once a single TLS record
//! (16 KiB): sqlx 0.9.0 left Nagle's algorithm on (transact-rs/sqlx#4335), so a statement of two
//! records waited ~40 ms for the server's delayed ACK. sqlx 0.9.1 sets `TCP_NODELAY` again
//! (BENCHMARKS.md, "sqlx 0.9.1: TCP_NODELAY back"); with arrays, a statement as large as a
//! batch's slice of orders (`batch_write`) was the fastest measured (BENCHMARKS.md, "PostgreSQL
//! inserts as arrays").
use sea_orm::sea_query::Value;
use sea_orm::{ActiveModelTrait, DbBackend, EntityTrait, Iterable, QueryTrait, Statement};

use crate::service::unnest;

/// Bound rows per statement on PostgreSQL. Each column is one array parameter (`unnest`), so
/// the parameters do not grow with the rows; the bytes below bound a statement of wide rows.
const PG_MAX_ROWS: usize = 4_000;
/// Bound bytes per statement on PostgreSQL (a 100,000-order import: 64 KB 5,072-6,437
/// orders/s, 1 MB 5,384-6,595, alternated); above a slice of 1,000 orders' rows.
pub const PG_MAX_BYTES: usize = 4_000_000;
/// Bound values per `VALUES` statement on PostgreSQL, for rows `unnest` cannot write (its
/// limit is 65,535 parameters).
const PG_FALLBACK_VALUES: usize = 2_000;
/// Bound values per statement on SQLite (in-process; its limit is 32,766).
const SQLITE_MAX_VALUES: usize = 30_000;
/// Bytes per value besides the value: in a `VALUES` list's Bind message its length (4) and
/// format code (2).
const PER_VALUE: usize = 6;
/// An array element carries only its length.
const PER_ARRAY_ELEMENT: usize = 4;

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
        if backend == DbBackend::Postgres {
            // Counting a row's bytes moves its values into the arrays: each value is read once.
            let arrays = unnest::take_leading(&mut models, PG_MAX_ROWS, PG_MAX_BYTES, |v| {
                PER_ARRAY_ELEMENT + value_bytes(v)
            });
            if arrays.is_some() {
                return arrays;
            }
        }
        let mut n = next_statement_rows(backend, &models);
        if backend == DbBackend::Postgres {
            // A VALUES list binds a parameter a value: keep it under PostgreSQL's bound.
            n = n.min((PG_FALLBACK_VALUES / column_count::<A>()).max(1));
        }
        let rest = models.split_off(n);
        let rows = std::mem::replace(&mut models, rest);
        Some(<A::Entity as EntityTrait>::insert_many(rows).build(backend))
    })
}

/// How many of the leading `models` go in the next `VALUES` INSERT on `backend` (at least one,
/// if any).
fn next_statement_rows<A: ActiveModelTrait>(backend: DbBackend, models: &[A]) -> usize {
    if backend == DbBackend::Sqlite {
        return (SQLITE_MAX_VALUES / column_count::<A>())
            .max(1)
            .min(models.len());
    }
    let most = PG_MAX_ROWS;
    let mut bytes = 0;
    for (i, model) in models.iter().take(most).enumerate() {
        bytes += row_bytes(model);
        if bytes > PG_MAX_BYTES {
            return i.max(1);
        }
    }
    most.min(models.len())
}

fn column_count<A: ActiveModelTrait>() -> usize {
    <A::Entity as EntityTrait>::Column::iter().count().max(1)
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
    fn short_rows_stop_at_the_row_bound() {
        let rows: Vec<_> = (0..5000).map(|_| alias("Ruiz")).collect();
        // About 73 bytes a row: the row bound comes first on PostgreSQL.
        assert_eq!(next_statement_rows(DbBackend::Postgres, &rows), PG_MAX_ROWS);
        // 7 columns: 4,285 rows of 30,000 values on SQLite.
        assert_eq!(
            next_statement_rows(DbBackend::Sqlite, &rows),
            SQLITE_MAX_VALUES / 7
        );
    }

    #[test]
    fn long_rows_stop_at_the_byte_bound() {
        let long = "Montenegro-Villalobos ".repeat(100);
        let rows: Vec<_> = (0..3000).map(|_| alias(&long)).collect();
        let n = next_statement_rows(DbBackend::Postgres, &rows);
        let bytes: usize = rows[..n].iter().map(row_bytes).sum();
        assert!(bytes <= PG_MAX_BYTES && bytes + row_bytes(&rows[n]) > PG_MAX_BYTES);
        assert!(n < PG_MAX_ROWS, "{n}");
    }

    /// On PostgreSQL wide rows go in array statements of about the byte bound each, every row
    /// once and in order.
    #[test]
    fn wide_rows_go_in_array_statements_of_the_byte_bound() {
        let long = "Montenegro-Villalobos ".repeat(100);
        let rows: Vec<_> = (0..3000).map(|_| alias(&long)).collect();
        let row = PER_ARRAY_ELEMENT * 7 + 4 + 4 + long.len() + 3 + 8 + 8;
        let statements: Vec<_> = insert_statements(DbBackend::Postgres, rows).collect();
        let mut total = 0;
        for s in &statements {
            assert!(s.sql.contains("UNNEST"), "{}", s.sql);
            let Some(Value::Array(_, Some(ids))) = s.values.as_ref().map(|v| v.0[0].clone()) else {
                panic!("no id array: {s:?}");
            };
            assert!(ids.len() * row <= PG_MAX_BYTES + row, "{}", ids.len());
            total += ids.len();
        }
        assert!(statements.len() > 1);
        assert_eq!(total, 3000);
    }

    #[test]
    fn rows_that_set_different_columns_stay_under_the_parameter_bound() {
        let rows: Vec<_> = (0..5000)
            .map(|i| {
                let mut a = alias("Ruiz");
                if i % 2 == 0 {
                    a.middle_name = sea_orm::ActiveValue::NotSet;
                }
                a
            })
            .collect();
        let statements: Vec<_> = insert_statements(DbBackend::Postgres, rows).collect();
        assert!(statements.len() > 1);
        for s in &statements {
            assert!(!s.sql.contains("UNNEST"), "{}", s.sql);
            let values = s.values.as_ref().map_or(0, |v| v.0.len());
            assert!(values <= PG_FALLBACK_VALUES, "{values}");
        }
    }

    #[test]
    fn one_row_larger_than_the_byte_bound_still_goes_alone() {
        let rows = vec![alias(&"x".repeat(PG_MAX_BYTES + 1)), alias("Ruiz")];
        assert_eq!(next_statement_rows(DbBackend::Postgres, &rows), 1);
        assert_eq!(next_statement_rows(DbBackend::Postgres, &rows[..0]), 0);
    }
}
