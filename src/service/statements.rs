//! Statement texts by shape, one cache shared by the reads that build their statements
//! (`history`, `case_lookup`). Building one with sea-query (hundreds of aliased columns) cost
//! more of the server's time than reading its rows; a read has at most a few hundred shapes,
//! and everything else about a statement is a bound value.
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use sea_orm::{DbBackend, Statement, Value};

/// What decides a statement's text, besides the database backend.
pub trait Shape: Copy + Eq + Hash + Send + 'static {
    /// The statement text for this shape on `backend`.
    fn sql(self, backend: DbBackend) -> String;
}

/// The texts of every read, by the read's shape type: a map from `(backend, shape)` to text.
static TEXTS: LazyLock<Mutex<HashMap<TypeId, Box<dyn Any + Send>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

type Texts<S> = HashMap<(u8, S), Arc<str>>;

fn backend_tag(backend: DbBackend) -> u8 {
    match backend {
        DbBackend::Postgres => 0,
        DbBackend::Sqlite => 1,
        _ => 2,
    }
}

/// The text of `shape` on `backend`, built once per process.
pub fn text<S: Shape>(backend: DbBackend, shape: S) -> Arc<str> {
    let mut all = TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    let texts = all
        .entry(TypeId::of::<S>())
        .or_insert_with(|| Box::new(Texts::<S>::new()));
    match texts.downcast_mut::<Texts<S>>() {
        Some(texts) => texts
            .entry((backend_tag(backend), shape))
            .or_insert_with(|| shape.sql(backend).into())
            .clone(),
        // Unreachable: the entry of `S` is always a `Texts<S>`.
        None => shape.sql(backend).into(),
    }
}

/// The statement of `shape` on `backend` with its values.
pub fn statement<S: Shape>(backend: DbBackend, shape: S, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, text(backend, shape).as_ref(), values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    struct A(u8);
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    struct B(u8);

    impl Shape for A {
        fn sql(self, _: DbBackend) -> String {
            format!("SELECT {}", self.0)
        }
    }
    impl Shape for B {
        fn sql(self, backend: DbBackend) -> String {
            format!("SELECT {} -- {backend:?}", self.0 + 100)
        }
    }

    #[test]
    fn texts_are_built_once_per_shape_and_kept_apart_by_read() {
        let a = text(DbBackend::Sqlite, A(1));
        assert!(Arc::ptr_eq(&a, &text(DbBackend::Sqlite, A(1))));
        assert_eq!(&*a, "SELECT 1");
        // Another read's shape with the same value is another statement.
        assert_eq!(&*text(DbBackend::Sqlite, B(1)), "SELECT 101 -- Sqlite");
        assert_eq!(&*text(DbBackend::Postgres, B(1)), "SELECT 101 -- Postgres");
        assert_eq!(&*text(DbBackend::Sqlite, A(2)), "SELECT 2");
    }
}
