//! `searchPersons`: statewide fuzzy search by name, DOB and case number.
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;

use crate::auth::Permission;
use crate::domain::Invalid;
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::PartyRole;
use crate::domain::court_code::CourtCode;
use crate::domain::dob_text::read_dob_text;
use crate::error::AppError;
use crate::graphql::access::{Need, caller};
use crate::graphql::loaders::PersonId;
use crate::graphql::types::Person;
use crate::graphql::{GqlResult, load_now, request_cache, state};
use crate::search::read::{self, Ranked};
use crate::service::scope::Scope;

/// Longest name input accepted.
pub const MAX_NAME: usize = 100;
/// Largest page of matches.
pub const MAX_MATCHES: usize = 50;
/// Deepest a client may page into a ranked result list.
pub const MAX_OFFSET: usize = 200;

/// One search result: the person, how well they match and why.
#[derive(SimpleObject)]
pub struct PersonMatch {
    /// Higher is better; comparable within one search only.
    pub score: f64,
    /// Which fields matched and how ("surname 1 edit", "DOB day/month swapped").
    pub explanation: Vec<String>,
    pub person: Person,
}

pub type PersonMatchConnection = Connection<String, PersonMatch, EmptyFields, EmptyFields>;

fn offset_cursor(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("match:{n}"))
}

fn parse_offset(s: &str) -> Result<usize, Invalid> {
    let bad = || Invalid::new("after", "not a cursor from this search");
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?).map_err(|_| bad())?;
    text.strip_prefix("match:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)
}

fn name_arg(field: &str, v: Option<String>) -> Result<Option<String>, Invalid> {
    match v.map(|s| s.trim().to_owned()) {
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() > MAX_NAME => Err(Invalid::new(
            field,
            format!("longer than {MAX_NAME} characters"),
        )),
        Some(s) if s.chars().any(|c| c.is_control()) => {
            Err(Invalid::new(field, "contains control characters"))
        }
        other => Ok(other),
    }
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Persons anywhere in the state matching a name (typos, phonetic spellings, nicknames,
    /// compound surnames, swapped name order, initials; placeholders such as "Unknown" count as
    /// no name), a DOB (exact or with common keying errors) and/or a case number. Give at least
    /// a name or a case number; DOB is never required. `dobText` takes a DOB as typed instead of
    /// `dob` (YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD, YYYY or YYYY-MM; an impossible month is read as
    /// day and month swapped, letters scanned for digits are read as them, and a year, month or
    /// day no date can have is set aside); each match says how it was read. A surname that
    /// matches no one leaves the given name and DOB to go by, and the matches say so. After the
    /// matches, a page with room shows weaker records (a given name alone, a surname with
    /// another DOB), each explained as "weak match".
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per GraphQL field argument"
    )]
    #[graphql(
        guard = "Need(Permission::ReadIdentified)",
        complexity = "crate::graphql::limits::page_cost(first, 20, MAX_MATCHES, child_complexity)"
    )]
    async fn search_persons(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
        first_name: Option<String>,
        last_name: Option<String>,
        dob: Option<NaiveDate>,
        dob_text: Option<String>,
        case_number: Option<String>,
        role: Option<PartyRole>,
        court: Option<String>,
        county: Option<String>,
        active_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PersonMatchConnection> {
        let active_only = active_only.unwrap_or(false);
        let query = build_query(
            name,
            first_name,
            last_name,
            dob,
            dob_text,
            case_number,
            role,
            court,
            county,
            active_only,
        )
        .map_err(AppError::from)
        .gql()?;
        let first = match first {
            None => 20,
            Some(n) if n < 0 => {
                return Err(AppError::invalid("first", "must not be negative")).gql();
            }
            Some(n) => usize::try_from(n).unwrap_or(MAX_MATCHES).min(MAX_MATCHES),
        };
        let offset = match after.as_deref() {
            Some(a) => parse_offset(a).map_err(AppError::from).gql()? + 1,
            None => 0,
        };
        if offset > MAX_OFFSET {
            return Err(AppError::invalid(
                "after",
                format!("results are ranked; page at most {MAX_OFFSET} deep"),
            ))
            .gql();
        }
        let s = state(ctx)?;
        let scope = Scope::of(&s.db, caller(ctx)?).await.gql()?;
        let cache = request_cache(ctx)?;
        let Ranked { hits, more } =
            read::persons(&s.search, &s.db, cache, &scope, query, offset, first)
                .await
                .gql()?;
        let ids: Vec<PersonId> = hits
            .iter()
            .filter_map(|(_, h)| i32::try_from(h.person_id).ok().map(PersonId))
            .collect();
        let persons = load_now(ctx, &ids).await?;
        let mut conn = Connection::new(offset > 0, more);
        for (rank, h) in hits {
            let Some(p) = i32::try_from(h.person_id)
                .ok()
                .and_then(|id| persons.get(&PersonId(id)))
            else {
                continue;
            };
            conn.edges.push(Edge::new(
                offset_cursor(rank),
                PersonMatch {
                    score: f64::from(h.score),
                    explanation: h.explanation,
                    person: Person(p.clone()),
                },
            ));
        }
        Ok(conn)
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per GraphQL field argument"
)]
pub(crate) fn build_query(
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    dob: Option<NaiveDate>,
    dob_text: Option<String>,
    case_number: Option<String>,
    role: Option<PartyRole>,
    court: Option<String>,
    county: Option<String>,
    active_only: bool,
) -> Result<ccpor_index::SearchQuery, Invalid> {
    let typed = match dob_text.filter(|t| !t.trim().is_empty()) {
        Some(_) if dob.is_some() => {
            return Err(Invalid::new("dobText", "give dob or dobText, not both"));
        }
        Some(t) => Some(read_dob_text(
            "dobText",
            &t,
            chrono::Utc::now().date_naive(),
        )?),
        None => None,
    };
    let (dob, dob_partial, dob_note) = match typed {
        Some(t) => match t.date() {
            Some(d) => (Some(d), None, t.note),
            None => (
                None,
                Some(ccpor_index::PartialDob {
                    year: t.year,
                    month: t.month,
                    day: t.day,
                }),
                t.note,
            ),
        },
        None => (dob, None, None),
    };
    let name = name_arg("name", name)?;
    let first_name = name_arg("firstName", first_name)?;
    let last_name = name_arg("lastName", last_name)?;
    let case_number = case_number
        .filter(|c| !c.trim().is_empty())
        .map(|c| CaseNumber::parse("caseNumber", &c).map(|c| c.key().to_owned()))
        .transpose()?;
    if name.is_none() && first_name.is_none() && last_name.is_none() && case_number.is_none() {
        return Err(Invalid::new(
            "name",
            "give a name (name, firstName or lastName) or a case number; a DOB alone matches too many people",
        ));
    }
    let court = court
        .map(|c| CourtCode::parse("court", &c).map(|c| c.as_str().to_owned()))
        .transpose()?;
    let county = county
        .map(|c| crate::domain::county::county("county", &c).map(str::to_owned))
        .transpose()?;
    Ok(ccpor_index::SearchQuery {
        name,
        first_name,
        last_name,
        dob,
        case_number,
        role: role.map(|r| match r {
            PartyRole::Restrained => ccpor_index::Role::Restrained,
            _ => ccpor_index::Role::Protected,
        }),
        court,
        county,
        active_only,
        dob_partial,
        dob_note,
    })
}
