//! PostgreSQL's multi-row INSERT with one array a column:
//! `INSERT INTO t (a, b) SELECT r.a, r.b FROM (SELECT UNNEST($1::int4[]) AS a,
//! UNNEST($2::text[]) AS b) AS r`.
//!
//! A `VALUES` list binds every value as a parameter of its own, and PostgreSQL sets up an
//! expression for each one of them in every statement (`ExecInitExprList`: 6 points of the 57
//! PostgreSQL took of a 100,000-order import's samples; BENCHMARKS.md, "PostgreSQL on this
//! session's machine"). Arrays bind a column in one parameter, and the text stays the same
//! whatever the number of rows, so it is prepared once. sea-query binds an array only without
//! NULL elements, so a column that holds a NULL in the statement's rows carries a second array,
//! a NULL mask, and a `CASE` picks.
use sea_orm::sea_query::{ArrayType, Value};
use sea_orm::{
    ActiveModelTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable, Statement,
};

/// A column's values as one array parameter.
struct Column<C> {
    column: C,
    array: ArrayType,
    sql_type: &'static str,
    /// What stands in the array for a NULL (the mask says it is one).
    placeholder: Value,
    values: Vec<Value>,
    /// Where a row's value is NULL (a placeholder in `values`); `None` when no row's is.
    nulls: Option<Vec<Value>>,
}

/// Moves the leading rows of `rows` into one UNNEST insert: at most `max_rows`, and no more
/// once their values' bytes (as `bytes` counts them) reach `max_bytes` (the row that passes the
/// bound goes in, so a statement always takes at least one). The values are moved, not copied.
/// `None`, with `rows` untouched, when a column's type has no array binding here or the leading
/// rows do not set the same columns (the caller then writes a `VALUES` list).
pub fn take_leading<A: ActiveModelTrait>(
    rows: &mut Vec<A>,
    max_rows: usize,
    max_bytes: usize,
    bytes: impl Fn(&Value) -> usize,
) -> Option<Statement> {
    let first = rows.first()?;
    let window = rows.len().min(max_rows.max(1));
    let mut columns = Vec::new();
    for c in <A::Entity as EntityTrait>::Column::iter() {
        if first.is_not_set(c) {
            continue;
        }
        let (array, sql_type, placeholder) = array_of(&first.get(c).into_value()?)?;
        columns.push(Column {
            column: c,
            array,
            sql_type,
            placeholder,
            values: Vec::with_capacity(window),
            nulls: None,
        });
    }
    // A column the first row leaves unset must be unset in every row, and the others set:
    // compared by position, one check a column a row (this runs on every row of an import).
    let unset: Vec<bool> = <A::Entity as EntityTrait>::Column::iter()
        .map(|c| first.is_not_set(c))
        .collect();
    let agree = rows[1..window].iter().all(|row| {
        <A::Entity as EntityTrait>::Column::iter()
            .zip(&unset)
            .all(|(c, &u)| row.is_not_set(c) == u)
    });
    if columns.is_empty() || !agree {
        return None;
    }
    let mut taken = 0;
    let mut size = 0;
    for row in rows.iter_mut().take(window) {
        if taken > 0 && size >= max_bytes {
            break;
        }
        for col in &mut columns {
            let v = row
                .take(col.column)
                .into_value()
                .unwrap_or_else(|| col.placeholder.clone());
            size += bytes(&v);
            if v.is_some() {
                if let Some(n) = col.nulls.as_mut() {
                    n.push(Value::Bool(Some(false)));
                }
                col.values.push(v);
            } else {
                col.nulls
                    .get_or_insert_with(|| vec![Value::Bool(Some(false)); taken])
                    .push(Value::Bool(Some(true)));
                col.values.push(col.placeholder.clone());
            }
        }
        taken += 1;
    }
    rows.drain(..taken);
    Some(statement(
        <A::Entity as Default>::default().table_name(),
        columns,
    ))
}

/// The statement's text and parameters. The arrays are unnested in a select list, not in
/// `FROM`: there PostgreSQL reads each function's rows into a tuple store before the scan
/// (`tuplestore_putvalues` and `_gettupleslot`, 6 points of a 100,000-order import's samples),
/// in a select list it takes them a row at a time (100,000 rows of ten columns, psql:
/// 193-205 ms against 125-128 ms). Several set-returning functions in one list advance
/// together, and every array holds one element a row.
fn statement<C: IdenStatic>(table: &str, columns: Vec<Column<C>>) -> Statement {
    let mut names = Vec::new();
    let mut picks = Vec::new();
    let mut arrays = Vec::new();
    let mut params = Vec::new();
    for (i, c) in columns.into_iter().enumerate() {
        names.push(format!("\"{}\"", c.column.as_str()));
        params.push(Value::Array(c.array, Some(Box::new(c.values))));
        arrays.push(format!(
            "UNNEST(${}::{}[]) AS c{i}",
            params.len(),
            c.sql_type
        ));
        match c.nulls {
            Some(mask) => {
                params.push(Value::Array(ArrayType::Bool, Some(Box::new(mask))));
                arrays.push(format!("UNNEST(${}::bool[]) AS n{i}", params.len()));
                picks.push(format!("CASE WHEN r.n{i} THEN NULL ELSE r.c{i} END"));
            }
            None => picks.push(format!("r.c{i}")),
        }
    }
    let sql = format!(
        "INSERT INTO \"{table}\" ({}) SELECT {} FROM (SELECT {}) AS r",
        names.join(", "),
        picks.join(", "),
        arrays.join(", "),
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, params)
}

/// A value's array element type, its PostgreSQL name, and the element that stands in for a
/// NULL; `None` for a type no registry table writes in bulk (the `VALUES` list takes those).
fn array_of(value: &Value) -> Option<(ArrayType, &'static str, Value)> {
    Some(match value {
        Value::Bool(_) => (ArrayType::Bool, "bool", Value::Bool(Some(false))),
        Value::SmallInt(_) => (ArrayType::SmallInt, "int2", Value::SmallInt(Some(0))),
        Value::Int(_) => (ArrayType::Int, "int4", Value::Int(Some(0))),
        Value::BigInt(_) => (ArrayType::BigInt, "int8", Value::BigInt(Some(0))),
        Value::Float(_) => (ArrayType::Float, "float4", Value::Float(Some(0.0))),
        Value::Double(_) => (ArrayType::Double, "float8", Value::Double(Some(0.0))),
        Value::String(_) => (
            ArrayType::String,
            "text",
            Value::String(Some(String::new())),
        ),
        Value::ChronoDate(_) => (
            ArrayType::ChronoDate,
            "date",
            Value::ChronoDate(Some(chrono::NaiveDate::default())),
        ),
        Value::ChronoDateTimeUtc(_) => (
            ArrayType::ChronoDateTimeUtc,
            "timestamptz",
            Value::ChronoDateTimeUtc(Some(chrono::DateTime::UNIX_EPOCH)),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use entities::person_alias;
    use sea_orm::ActiveValue::{NotSet, Set};

    fn alias(id: i32, middle: Option<&str>) -> person_alias::ActiveModel {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).single().unwrap();
        person_alias::ActiveModel {
            id: Set(id),
            person_id: Set(7),
            last_name: Set("Ruiz".to_owned()),
            first_name: Set(Some("Ana".to_owned())),
            middle_name: Set(middle.map(str::to_owned)),
            created_at: Set(at),
            updated_at: Set(at),
        }
    }

    /// All of `rows` in one statement, as far as the bounds go.
    fn insert(rows: &[person_alias::ActiveModel]) -> Option<Statement> {
        let mut rows = rows.to_vec();
        let s = take_leading(&mut rows, usize::MAX, usize::MAX, |_| 0);
        assert!(s.is_none() || rows.is_empty());
        s
    }

    fn arrays(s: &Statement) -> Vec<Vec<Value>> {
        s.values
            .iter()
            .flat_map(|v| v.0.iter())
            .map(|v| match v {
                Value::Array(_, Some(items)) => items.to_vec(),
                other => panic!("not an array: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_column_with_a_null_carries_its_mask_and_the_others_do_not() {
        let s = insert(&[alias(1, None), alias(2, Some("Luz")), alias(3, None)]).unwrap();
        assert_eq!(
            s.sql,
            "INSERT INTO \"person_alias\" (\"id\", \"person_id\", \"last_name\", \"first_name\", \
             \"middle_name\", \"created_at\", \"updated_at\") SELECT r.c0, r.c1, r.c2, r.c3, \
             CASE WHEN r.n4 THEN NULL ELSE r.c4 END, r.c5, r.c6 FROM (SELECT \
             UNNEST($1::int4[]) AS c0, UNNEST($2::int4[]) AS c1, UNNEST($3::text[]) AS c2, \
             UNNEST($4::text[]) AS c3, UNNEST($5::text[]) AS c4, UNNEST($6::bool[]) AS n4, \
             UNNEST($7::timestamptz[]) AS c5, UNNEST($8::timestamptz[]) AS c6) AS r"
        );
        let a = arrays(&s);
        assert_eq!(a.len(), 8);
        assert_eq!(
            a[0],
            vec![
                Value::Int(Some(1)),
                Value::Int(Some(2)),
                Value::Int(Some(3))
            ]
        );
        let t = Value::Bool(Some(true));
        let f = Value::Bool(Some(false));
        assert_eq!(a[5], vec![t.clone(), f, t]);
        assert_eq!(a[4][1], Value::String(Some("Luz".to_owned())));
    }

    #[test]
    fn the_same_text_for_any_number_of_rows() {
        let one = insert(&[alias(1, Some("Luz"))]).unwrap();
        let many = insert(&(1..500).map(|i| alias(i, Some("Luz"))).collect::<Vec<_>>()).unwrap();
        assert_eq!(one.sql, many.sql);
        assert!(!one.sql.contains("CASE"));
    }

    #[test]
    fn rows_that_set_different_columns_fall_back() {
        let mut unset = alias(2, None);
        unset.middle_name = NotSet;
        assert!(insert(&[alias(1, None), unset.clone()]).is_none());
        assert!(insert(&[unset, alias(1, None)]).is_none());
        assert!(insert(&[]).is_none());
        // Nothing is taken from rows that fall back.
        let mut rows = vec![alias(1, None), alias(2, None)];
        rows[1].middle_name = NotSet;
        assert!(take_leading(&mut rows, 10, 10, |_| 1).is_none());
        assert_eq!(rows.len(), 2);
        assert!(rows[0].middle_name.is_set() && rows[0].last_name.is_set());
    }

    #[test]
    fn leading_rows_stop_at_the_row_and_byte_bounds() {
        let mut rows: Vec<_> = (1..=10).map(|i| alias(i, Some("Luz"))).collect();
        let s = take_leading(&mut rows, 4, usize::MAX, |_| 1).unwrap();
        assert_eq!(arrays(&s)[0].len(), 4);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].id, Set(5));
        // 7 columns a row, one byte a value: the bound of 10 is passed in the second row,
        // which goes in; the third does not.
        let s = take_leading(&mut rows, 100, 10, |_| 1).unwrap();
        assert_eq!(
            arrays(&s)[0],
            vec![Value::Int(Some(5)), Value::Int(Some(6))]
        );
        // A single row over the bound still goes.
        let s = take_leading(&mut rows, 100, 1, |_| 100).unwrap();
        assert_eq!(arrays(&s)[0], vec![Value::Int(Some(7))]);
        assert_eq!(rows.len(), 3);
    }
}
