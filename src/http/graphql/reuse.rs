//! Stage `reuse`: whole GraphQL answers served again. A bench dashboard reloads the same person's history all day
//! and a patrol car repeats the same lookups; executing each again costs a dozen loader batches
//! against the cache or the database, where the answer itself is one cache read away.
//!
//! An answer is reused only when nothing in it can differ for the asker:
//! - the key holds the document, operation name and variables, everything of the caller that
//!   rules read (user, role, court, agency, county scope), and how far this instance's search
//!   index has got; it lives under the cache's data generation, which every write moves;
//! - only queries whose every root field answers from stored data (`DocInfo::reusable`), that
//!   ended without any error (a denied field is an error) and served nothing computed for the
//!   moment (a signed link), are kept, and never past the first instant at which something in
//!   them changes on its own (an order expiring, a birthday);
//! - serving it again writes the same audit row (objects and confidential fields read) and
//!   charges the caller the same query cost as running it.
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Exchange;
use super::account::Answer;
use crate::audit::digest::Sha256Hex;
use crate::auth::Caller;
use crate::cache::CacheKind;
use crate::http::HttpState;

/// The request's stored answer and what serving it again must account for, when there is one
/// and the caller's budget still covers its cost. Sets the request's one view of the cache: the
/// whole answer and, on a miss, the rows it needs are read under the same generation.
pub(super) async fn lookup(s: &HttpState, x: &mut Exchange) -> Option<(Accounting, String)> {
    x.request_cache = (!x.mutation() && s.app.cache.caches_answers())
        .then(|| Arc::new(s.app.cache.for_request()));
    // A query whose answer may be reused is looked up whole first.
    x.reuse = match (&x.who.caller, &x.info, &x.request_cache) {
        (Some(c), Some(i), Some(rc)) if i.reusable() => {
            key(&x.request, c, s.app.search.cursor()).map(|k| (rc.clone(), k))
        }
        _ => None,
    };
    let ((rc, key), c) = (x.reuse.as_ref()?, x.who.caller.as_ref()?);
    let entry = rc.get_first_raw(CacheKind::Answer, key).await?;
    let (hit, body) = decode(&entry)?;
    s.app
        .auth
        .limiter
        .charge(&c.token_id, hit.cost)
        .then(|| (hit, body.to_owned()))
}

/// Keeps a reusable answer that ended without error, until the first instant anything in it
/// changes on its own; stored before the client hears of it, so its next request finds it.
pub(super) async fn store(x: &Exchange, answer: &mut Answer) {
    if let (Some((rc, key)), Some((objects, fields))) = (&x.reuse, answer.read.take())
        && answer.clean
        && let Some(ttl) = x.log.reusable_for(chrono::Utc::now())
        && let Some(entry) = encode(
            &Accounting {
                objects,
                fields,
                cost: x.log.charged(),
            },
            &answer.body,
        )
    {
        rc.put_raw(CacheKind::Answer, key, entry, ttl).await;
    }
}

/// What serving a stored answer again must account for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accounting {
    /// Objects read, for the audit row.
    pub objects: Vec<String>,
    /// Confidential fields read, for the audit row.
    pub fields: Vec<String>,
    /// The query's complexity, charged to the caller's budget.
    pub cost: usize,
}

/// A stored answer: its accounting as one JSON line, then the response body as sent. Reading
/// it back parses only the line; the body is sliced off, not scanned (parsing it as a raw JSON
/// value inside the entry was 5 % of serving a cached answer).
pub fn encode(accounting: &Accounting, body: &str) -> Option<Vec<u8>> {
    // serde_json writes a newline inside a string as `\n`, so the first newline ends the line.
    let mut out = serde_json::to_vec(accounting).ok()?;
    out.push(b'\n');
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

/// The accounting and body of a stored answer; `None` for anything else.
pub fn decode(entry: &[u8]) -> Option<(Accounting, &str)> {
    let split = entry.iter().position(|&b| b == b'\n')?;
    let accounting = serde_json::from_slice(&entry[..split]).ok()?;
    let body = std::str::from_utf8(&entry[split + 1..]).ok()?;
    Some((accounting, body))
}

/// The key of `req`'s answer for `caller`, with this instance's search index at `index_cursor`.
pub fn key(req: &async_graphql::Request, caller: &Caller, index_cursor: i64) -> Option<String> {
    let scope = (
        &caller.user,
        caller.role.as_str(),
        &caller.court,
        &caller.agency,
        &caller.counties,
        index_cursor,
    );
    // The hash of `document \x1f operation \x1f variables \x1f scope` (variables and scope as
    // JSON), fed in parts rather than printed into one string first.
    let mut h = Sha256Hex::new();
    h.text(&req.query)
        .text("\u{1f}")
        .text(req.operation_name.as_deref().unwrap_or(""))
        .text("\u{1f}")
        .json(&req.variables)?
        .text("\u{1f}")
        .json(&scope)?;
    Some(h.hex())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn caller(role: Role, court: Option<&str>) -> Caller {
        Caller {
            user: "u1".into(),
            role,
            court: court.map(str::to_owned),
            agency: None,
            counties: None,
            token_id: "t".into(),
            revocation_ids: Default::default(),
        }
    }

    #[test]
    fn an_entry_reads_back_as_written_and_anything_else_is_refused() {
        let accounting = Accounting {
            objects: vec!["UGVyc29uOjE=".into()],
            fields: vec!["Person.address".into()],
            cost: 12,
        };
        let body = "{\"data\":{\"note\":\"line one\\nline two\"}}";
        let entry = encode(&accounting, body).unwrap();
        assert_eq!(decode(&entry), Some((accounting, body)));
        assert_eq!(decode(b"{\"objects\":[]}"), None, "no body line");
        assert_eq!(decode(b"not json\n{}"), None);
    }

    /// Keys are shared by every instance through Redis: one release must make the same key as
    /// the last (the hash of the parts joined with U+001F, variables and scope as JSON).
    #[test]
    fn the_key_is_the_hash_of_the_joined_parts() {
        let req = async_graphql::Request::new("query Q($id: ID!) { person(id: $id) { id } }")
            .operation_name("Q")
            .variables(async_graphql::Variables::from_json(
                serde_json::json!({ "id": "a\"b" }),
            ));
        let c = Caller {
            counties: Some(["Alameda".to_owned(), "Yolo".to_owned()].into()),
            ..caller(Role::BenchOfficer, Some("SC19"))
        };
        let joined = format!(
            "{}\u{1f}Q\u{1f}{}\u{1f}{}",
            req.query,
            serde_json::to_string(&req.variables).unwrap(),
            serde_json::to_string(&(
                &c.user,
                c.role.as_str(),
                &c.court,
                &c.agency,
                &c.counties,
                7
            ))
            .unwrap()
        );
        assert_eq!(
            key(&req, &c, 7),
            Some(crate::contract::persisted::hash(&joined))
        );
    }

    #[test]
    fn the_key_changes_with_everything_that_changes_the_answer() {
        let req = |vars: serde_json::Value| {
            async_graphql::Request::new("query Q($id: ID!) { person(id: $id) { id } }")
                .variables(async_graphql::Variables::from_json(vars))
        };
        let judge = caller(Role::BenchOfficer, Some("SC19"));
        let base = key(&req(serde_json::json!({ "id": "a" })), &judge, 7);
        assert_eq!(base, key(&req(serde_json::json!({ "id": "a" })), &judge, 7));
        let others = [
            key(&req(serde_json::json!({ "id": "b" })), &judge, 7),
            key(&req(serde_json::json!({ "id": "a" })), &judge, 8),
            key(
                &req(serde_json::json!({ "id": "a" })),
                &caller(Role::Analyst, Some("SC19")),
                7,
            ),
            key(
                &req(serde_json::json!({ "id": "a" })),
                &caller(Role::BenchOfficer, Some("SC38")),
                7,
            ),
            key(
                &req(serde_json::json!({ "id": "a" })),
                &Caller {
                    counties: Some(["Alameda".to_owned()].into()),
                    ..judge.clone()
                },
                7,
            ),
            key(
                &req(serde_json::json!({ "id": "a" })),
                &Caller {
                    user: "u2".into(),
                    ..judge.clone()
                },
                7,
            ),
        ];
        for other in others {
            assert_ne!(base, other);
        }
    }
}
