//! What one request touched, filled in by loaders and resolvers and written to the audit log
//! when the request ends.
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Object ids and confidential fields a request read or wrote.
#[derive(Debug, Default)]
pub struct AccessLog {
    inner: Mutex<Touched>,
}

#[derive(Debug, Default, Clone)]
struct Touched {
    objects: BTreeSet<String>,
    fields: BTreeSet<String>,
}

impl AccessLog {
    /// Records global ids of objects served.
    pub fn objects<I: IntoIterator<Item = String>>(&self, ids: I) {
        if let Ok(mut t) = self.inner.lock() {
            t.objects.extend(ids);
        }
    }

    /// Records a confidential field served (`Person.address`).
    pub fn field(&self, name: &str) {
        if let Ok(mut t) = self.inner.lock() {
            t.fields.insert(name.to_owned());
        }
    }

    /// Everything recorded so far, sorted.
    pub fn snapshot(&self) -> (Vec<String>, Vec<String>) {
        match self.inner.lock() {
            Ok(t) => (
                t.objects.iter().cloned().collect(),
                t.fields.iter().cloned().collect(),
            ),
            Err(p) => {
                let t = p.into_inner().clone();
                (
                    t.objects.into_iter().collect(),
                    t.fields.into_iter().collect(),
                )
            }
        }
    }
}
