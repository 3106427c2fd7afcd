//! PostgreSQL's multi-row INSERT with one array a column:
//! `INSERT INTO t (a, b) SELECT r.a, r.b FROM UNNEST($1::int4[], $2::text[]) AS r(a, b)`.
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
struct Column {
    name: &'static str,
    array: ArrayType,
    sql_type: &'static str,
    values: Vec<Value>,
    /// Where a row's value is NULL (a placeholder in `values`); `None` when no row's is.
    nulls: Option<Vec<Value>>,
}

/// `rows` as one UNNEST insert, or `None` when a column's type has no array binding here or
/// the rows do not set the same columns (the caller then writes a `VALUES` list).
pub fn insert<A: ActiveModelTrait>(rows: &[A]) -> Option<Statement> {
    let first = rows.first()?;
    let mut columns = Vec::new();
    let mut set = Vec::new();
    for c in <A::Entity as EntityTrait>::Column::iter() {
        let Some(sample) = first.get(c).into_value() else {
            continue;
        };
        let (array, sql_type, placeholder) = array_of(&sample)?;
        let mut values = Vec::with_capacity(rows.len());
        let mut nulls: Option<Vec<Value>> = None;
        for (i, row) in rows.iter().enumerate() {
            let v = row.get(c).into_value()?;
            let is_null = !v.is_some();
            if is_null {
                nulls
                    .get_or_insert_with(|| vec![Value::Bool(Some(false)); i])
                    .push(Value::Bool(Some(true)));
                values.push(placeholder.clone());
            } else {
                if let Some(n) = nulls.as_mut() {
                    n.push(Value::Bool(Some(false)));
                }
                values.push(v);
            }
        }
        set.push(c);
        columns.push(Column {
            name: c.as_str(),
            array,
            sql_type,
            values,
            nulls,
        });
    }
    // A column the first row leaves unset must be unset in every row.
    let others_agree = rows.iter().skip(1).all(|row| {
        <A::Entity as EntityTrait>::Column::iter()
            .filter(|c| !set.iter().any(|s| s.as_str() == c.as_str()))
            .all(|c| row.get(c).into_value().is_none())
    });
    if columns.is_empty() || !others_agree {
        return None;
    }
    Some(statement(
        <A::Entity as Default>::default().table_name(),
        columns,
    ))
}

/// The statement's text and parameters.
fn statement(table: &str, columns: Vec<Column>) -> Statement {
    let mut names = Vec::new();
    let mut picks = Vec::new();
    let mut arrays = Vec::new();
    let mut aliases = Vec::new();
    let mut params = Vec::new();
    for (i, c) in columns.into_iter().enumerate() {
        names.push(format!("\"{}\"", c.name));
        params.push(Value::Array(c.array, Some(Box::new(c.values))));
        arrays.push(format!("${}::{}[]", params.len(), c.sql_type));
        aliases.push(format!("c{i}"));
        match c.nulls {
            Some(mask) => {
                params.push(Value::Array(ArrayType::Bool, Some(Box::new(mask))));
                arrays.push(format!("${}::bool[]", params.len()));
                aliases.push(format!("n{i}"));
                picks.push(format!("CASE WHEN r.n{i} THEN NULL ELSE r.c{i} END"));
            }
            None => picks.push(format!("r.c{i}")),
        }
    }
    let sql = format!(
        "INSERT INTO \"{table}\" ({}) SELECT {} FROM UNNEST({}) AS r({})",
        names.join(", "),
        picks.join(", "),
        arrays.join(", "),
        aliases.join(", ")
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
             CASE WHEN r.n4 THEN NULL ELSE r.c4 END, r.c5, r.c6 FROM UNNEST($1::int4[], \
             $2::int4[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::timestamptz[], \
             $8::timestamptz[]) AS r(c0, c1, c2, c3, c4, n4, c5, c6)"
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
        assert!(insert::<person_alias::ActiveModel>(&[]).is_none());
    }
}
