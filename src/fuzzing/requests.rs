//! Targets on what a request carries: GraphQL documents, search arguments, bearer tokens.
use std::sync::LazyLock;
use std::time::Duration;

use ccpor_index::{IndexError, PersonDoc, PersonIndex, Role as IndexRole};
use chrono::{NaiveDate, Utc};

use super::{RUNTIME, text};
use crate::auth::keys::{KeyFile, KeyRing, StoredKey};
use crate::auth::token::{self, Claims, Narrowing};
use crate::auth::{Operation, Role, shape, verify};
use crate::graphql::document::analyze;
use crate::graphql::parsed::Documents;
use crate::graphql::{AppSchema, MAX_ALIASES, MAX_DUPLICATE_FIELDS};
use crate::http::graphql::admit::over_limit;

static DOCUMENTS: LazyLock<Documents> = LazyLock::new(Documents::default);
/// The served schema's limits and cost extension, with no state: validation runs as served,
/// and every resolver that got past it refuses for want of a caller.
static SCHEMA: LazyLock<AppSchema> = LazyLock::new(crate::graphql::stateless_schema);

/// A GraphQL document as `POST /graphql` takes it: parsed (kept by its text), analysed, held to
/// the size limits, then validated and executed by a schema with the served limits. A first
/// line `#op NAME` (a comment to GraphQL) is the request's `operationName`.
pub fn graphql_document(data: &[u8]) {
    let query = text(data);
    let operation_name = query
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#op "))
        .map(str::trim);
    let Some(parsed) = DOCUMENTS.get(&query, operation_name) else {
        assert!(analyze(&query, operation_name).is_none());
        return;
    };
    let again = DOCUMENTS.get(&query, operation_name);
    assert!(
        again.is_some_and(|a| a.info.as_ref().map(|i| (i.aliases, i.duplicates))
            == parsed.info.as_ref().map(|i| (i.aliases, i.duplicates)))
    );
    if let Some(info) = &parsed.info {
        let _ = info.describe(operation_name);
        let _ = (info.reusable(), info.reference_only(), info.typename_only());
        if over_limit(info).is_some() {
            assert!(info.aliases > MAX_ALIASES || info.duplicates > MAX_DUPLICATE_FIELDS);
            return;
        }
    }
    let mut request = async_graphql::Request::new(query.as_ref());
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    let response = RUNTIME.block_on(SCHEMA.execute(request));
    // No caller: nothing but `__typename` and the schema itself may answer.
    if response.errors.is_empty()
        && let Some(info) = &parsed.info
    {
        assert!(
            info.reference_only() || info.root_fields.is_empty(),
            "answered without a caller: {:?}",
            info.root_fields
        );
    }
}

/// A few made-up persons to search among.
static INDEX: LazyLock<PersonIndex> = LazyLock::new(|| {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    let person = |id, last: &str, first: &str, dob, case: &str| PersonDoc {
        person_id: id,
        last_name: last.to_owned(),
        first_name: Some(first.to_owned()),
        dob,
        case_numbers: vec![case.to_owned()],
        courts: vec!["SC19".to_owned()],
        counties: vec!["Los Angeles".to_owned()],
        roles: vec![IndexRole::Restrained],
        active: id % 2 == 0,
        ..PersonDoc::default()
    };
    let docs = [
        person(
            1,
            "García López",
            "Roberto",
            date(1984, 2, 29),
            "26DV000001",
        ),
        person(2, "O'Brien", "Mary Ann", date(1990, 12, 1), "26DV000002"),
        person(3, "de la Cruz", "José", None, "26DV000003"),
        person(4, "Nguyen", "Thi", date(1979, 7, 4), "26DV000004"),
        person(5, "Smith-Jones", "Bob", date(2001, 1, 31), "26DV000005"),
    ];
    #[expect(
        clippy::expect_used,
        reason = "start-up of a fuzz harness: without its index the target cannot run"
    )]
    let index = PersonIndex::in_memory().expect("an in-memory index");
    #[expect(clippy::expect_used, reason = "start-up of a fuzz harness")]
    index.upsert(&docs).expect("the made-up persons indexed");
    index
});

/// `searchPersons`' arguments, one per line: name, firstName, lastName, dobText, caseNumber,
/// court, county (an empty or missing line: not given). Read as the resolver reads them, then
/// searched for in a small index.
pub fn search_query(data: &[u8]) {
    let t = text(data);
    let mut lines = t.split('\n');
    let mut arg = || lines.next().filter(|l| !l.is_empty()).map(str::to_owned);
    let (name, first, last, dob_text, case, court, county) =
        (arg(), arg(), arg(), arg(), arg(), arg(), arg());
    let Ok(query) = crate::graphql::search::build_query(
        name, first, last, None, dob_text, case, None, court, county, false,
    ) else {
        return;
    };
    match INDEX.search(&query, 20) {
        Ok(hits) => {
            assert!(hits.len() <= 20);
            for h in &hits {
                assert!((1..=5).contains(&h.person_id));
                assert!(h.score.is_finite(), "{query:?}: score {}", h.score);
            }
        }
        Err(IndexError::EmptyQuery) => {}
        Err(e) => panic!("{query:?}: {e}"),
    }
}

/// A synthetic root key for the harness (never a deployment's): fixed, so committed tokens
/// minted with it verify.
pub const FUZZ_PRIVATE_KEY: &str =
    "ed25519-private/1111111111111111111111111111111111111111111111111111111111111111";

/// The key ring and a clerk's token signed by the harness key.
static KEYS: LazyLock<(KeyRing, String)> = LazyLock::new(|| {
    let file = KeyFile {
        keys: vec![StoredKey {
            id: 1,
            private_key: FUZZ_PRIVATE_KEY.to_owned(),
            created_at: Utc::now(),
            accept_until: None,
        }],
    };
    #[expect(clippy::expect_used, reason = "start-up of a fuzz harness")]
    let (ring, key) = (
        file.key_ring().expect("the harness key"),
        file.signing_key().expect("the harness key"),
    );
    let claims = Claims {
        role: Role::Clerk,
        user: "fuzz".to_owned(),
        court: Some("SC19".to_owned()),
        agency: None,
    };
    #[expect(clippy::expect_used, reason = "start-up of a fuzz harness")]
    let minted = token::mint(&key, &claims, Duration::from_secs(3600)).expect("a token");
    (ring, minted.token)
});

/// Checks a verified token as a request does; an accepted token speaks for its minted holder
/// only, whatever blocks were appended to it.
fn check(bearer: &str) {
    let Ok(()) = shape::check_size(bearer) else {
        return;
    };
    let Ok(t) = verify::parse(&KEYS.0, bearer, Utc::now()) else {
        return;
    };
    let Ok(s) = shape::inspect(&t) else {
        return;
    };
    for op in [Operation::Read, Operation::Write] {
        let counties: Vec<&str> = migrations::COUNTIES.iter().map(|c| c.name).collect();
        if let Ok((caller, _)) = verify::authorize(&t, &s, op, false, &counties, String::new()) {
            assert_eq!(caller.user, "fuzz");
            assert_eq!(caller.role, Role::Clerk);
            assert_eq!(caller.court.as_deref(), Some("SC19"));
            assert_eq!(caller.agency, None);
            if let Some(scope) = &caller.counties {
                assert!(!scope.is_empty());
                assert!(scope.iter().all(|c| counties.contains(&c.as_str())));
            }
        }
    }
}

/// A bearer token as sent: the size bound, signature check, bounds and authorizer run; read
/// unverified for `token revoke`; narrowed offline as `token attenuate` does.
pub fn token(data: &[u8]) {
    let bearer = text(data);
    check(&bearer);
    let Ok(ids) = token::revocation_ids(&bearer) else {
        return;
    };
    let narrowing = Narrowing {
        read_only: true,
        ..Narrowing::default()
    };
    if let Ok(narrowed) = token::attenuate(&bearer, &narrowing) {
        let more = token::revocation_ids(&narrowed).map(|n| n.len());
        assert_eq!(more.ok(), Some(ids.len() + 1));
    }
}

/// A block of Datalog a holder appends to a real token (anyone can, offline): the token is
/// then checked as a request checks it, and may do no more than before.
pub fn token_block(data: &[u8]) {
    let code = text(data);
    let Ok(block) = biscuit_auth::macros::block!("").code(code.as_ref()) else {
        return;
    };
    let Ok(t) = biscuit_auth::UnverifiedBiscuit::from_base64(&KEYS.1) else {
        return;
    };
    let Ok(appended) = t.append(block).and_then(|t| t.to_base64()) else {
        return;
    };
    check(&appended);
}
