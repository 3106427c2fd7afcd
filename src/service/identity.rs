//! Person identity across courts: candidate pairs from the name index, scored with descriptors
//! (`domain::identity_match`), linked automatically, proposed to a clerk, or left apart. Links
//! are rows with a state plus an append-only event history; records are never merged, so every
//! link can be reversed.
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use ccpor_index::PersonIndex;
use entities::{person, person_link, person_link_event};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

use crate::domain::codes::PartyType;
use crate::domain::identity_match::{Descriptors, LinkState, MatchScore, score};
use crate::error::{AppError, AppResult};
use crate::service::identity_roots;
use crate::service::model::NewPerson;

/// Actor recorded on automatic link events.
pub const SYSTEM: &str = "system";
/// Index hits considered per record.
const CANDIDATES: usize = 20;
/// Ids per `IN (…)` list.
const CHUNK: usize = 2000;

/// A record that may be the same person.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub person_id: i32,
    pub score: MatchScore,
    pub state: LinkState,
}

/// Names and descriptors of a record, as the matcher sees them.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub descriptors: Descriptors,
}

impl Record {
    pub fn of(p: &person::Model) -> Self {
        Self {
            last_name: p.last_name.clone(),
            first_name: p.first_name.clone(),
            descriptors: Descriptors {
                dob: p.dob,
                sex: p.sex.clone(),
                race: p.race.clone(),
                height_inches: p.height_inches,
                weight_pounds: p.weight_pounds,
                dl_number: p.dl_number.clone(),
                organization: p.party_type == PartyType::Organization.as_db(),
            },
        }
    }

    pub fn of_new(p: &NewPerson) -> Self {
        Self {
            last_name: p.last_name.clone(),
            first_name: p.first_name.clone(),
            descriptors: Descriptors {
                dob: p.dob,
                sex: p.sex.map(|s| s.as_db().to_owned()),
                race: p.race.map(|s| s.as_db().to_owned()),
                height_inches: p.height_inches,
                weight_pounds: p.weight_pounds,
                dl_number: p.dl_number.clone(),
                organization: p.party_type == PartyType::Organization,
            },
        }
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(Arc::new(anyhow::anyhow!("identity matching: {e}")))
}

/// Records that may be the same person as `record` (never `exclude`), best first, with the
/// state a new link between them would get.
pub async fn candidates<C: ConnectionTrait>(
    db: &C,
    index: Arc<PersonIndex>,
    record: &Record,
    exclude: Option<i32>,
) -> AppResult<Vec<Candidate>> {
    let Some(last) = record.last_name.clone().filter(|l| !l.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    if record.descriptors.organization {
        return Ok(Vec::new());
    }
    let query = ccpor_index::SearchQuery {
        last_name: Some(last),
        first_name: record.first_name.clone(),
        dob: record.descriptors.dob,
        ..Default::default()
    };
    let hits = match tokio::task::spawn_blocking(move || index.search(&query, CANDIDATES))
        .await
        .map_err(internal)?
    {
        Ok(hits) => hits,
        // A name of placeholders only ("Unknown", "Mr") and no DOB: nothing to match on, so
        // nobody to link; an error here failed the linking of the whole order's parties.
        Err(ccpor_index::IndexError::EmptyQuery) => return Ok(Vec::new()),
        Err(e) => return Err(internal(e)),
    };
    let hits: Vec<_> = hits
        .into_iter()
        .filter_map(|h| i32::try_from(h.person_id).ok().map(|id| (id, h)))
        .filter(|(id, _)| Some(*id) != exclude)
        .collect();
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let persons: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(hits.iter().map(|(id, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out: Vec<Candidate> = hits
        .into_iter()
        .filter_map(|(id, h)| {
            let other = persons.get(&id)?;
            let (s, strong) = score(
                f64::from(h.score),
                &h.explanation,
                &record.descriptors,
                &Record::of(other).descriptors,
            );
            s.band(strong).map(|state| Candidate {
                person_id: id,
                score: s,
                state,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.score.total_cmp(&a.score.score));
    Ok(out)
}

/// The pair key: lower id first.
fn pair(a: i32, b: i32) -> (i32, i32) {
    (a.min(b), a.max(b))
}

fn link_event(
    link_id: i32,
    from: Option<LinkState>,
    to: LinkState,
    s: &MatchScore,
    actor: &str,
    reason: Option<String>,
) -> person_link_event::ActiveModel {
    let now = chrono::Utc::now();
    person_link_event::ActiveModel {
        link_id: Set(link_id),
        from_state: Set(from.map(|f| f.as_db().to_owned())),
        to_state: Set(to.as_db().to_owned()),
        score: Set(s.score),
        reasons: Set(s.reasons.join("\n")),
        actor: Set(actor.to_owned()),
        reason: Set(reason),
        occurred_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Finds and records links for `person_ids` (new records): automatic above the high threshold,
/// proposed between the thresholds. Pairs already decided are left as they are. Returns the
/// number of links created.
pub async fn link_persons(
    db: &DatabaseConnection,
    index: Arc<PersonIndex>,
    person_ids: &[i32],
) -> AppResult<usize> {
    let persons = person::Entity::find()
        .filter(person::Column::Id.is_in(person_ids.iter().copied()))
        .all(db)
        .await?;
    let mut found: Vec<((i32, i32), Candidate)> = Vec::new();
    for p in &persons {
        for c in candidates(db, index.clone(), &Record::of(p), Some(p.id)).await? {
            found.push((pair(p.id, c.person_id), c));
        }
    }
    if found.is_empty() {
        return Ok(0);
    }
    let txn = crate::db::begin_write(db).await?;
    identity_roots::take_turn(&txn).await?;
    let mut cond = Condition::any();
    for ((a, b), _) in &found {
        cond = cond.add(
            Condition::all()
                .add(person_link::Column::PersonA.eq(*a))
                .add(person_link::Column::PersonB.eq(*b)),
        );
    }
    let mut existing: BTreeSet<(i32, i32)> = person_link::Entity::find()
        .filter(cond)
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| (l.person_a, l.person_b))
        .collect();
    let mut created = 0;
    for ((a, b), c) in found {
        if !existing.insert((a, b)) {
            continue;
        }
        let now = chrono::Utc::now();
        let link = person_link::ActiveModel {
            person_a: Set(a),
            person_b: Set(b),
            state: Set(c.state.as_db().to_owned()),
            score: Set(c.score.score),
            reasons: Set(c.score.reasons.join("\n")),
            decided_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let id = person_link::Entity::insert(link)
            .exec(&txn)
            .await?
            .last_insert_id;
        person_link_event::Entity::insert(link_event(id, None, c.state, &c.score, SYSTEM, None))
            .exec_without_returning(&txn)
            .await?;
        if identity_roots::joins(c.state) {
            identity_roots::join(&txn, a, b).await?;
        }
        created += 1;
    }
    txn.commit().await?;
    Ok(created)
}

/// A clerk's decision on a link: confirm (one identity) or reject (two people). Rejecting an
/// automatic or confirmed link reverses it; confirming a rejected one restores it.
pub async fn decide(
    db: &DatabaseConnection,
    link_id: i32,
    to: LinkState,
    actor: &str,
    reason: Option<String>,
) -> AppResult<person_link::Model> {
    if !matches!(to, LinkState::Confirmed | LinkState::Rejected) {
        return Err(AppError::internal(anyhow::anyhow!(
            "a decision confirms or rejects"
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    identity_roots::take_turn(&txn).await?;
    let link = person_link::Entity::find_by_id(link_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("person link"))?;
    let from = LinkState::from_db(&link.state)?;
    if from == to {
        return Err(AppError::conflict(format!(
            "the link is already {}",
            to.as_db()
        )));
    }
    let now = chrono::Utc::now();
    // Guarded on the state read, so of two clerks deciding at once one gets CONFLICT.
    let updated = person_link::Entity::update_many()
        .col_expr(person_link::Column::State, Expr::value(to.as_db()))
        .col_expr(person_link::Column::DecidedBy, Expr::value(actor))
        .col_expr(person_link::Column::UpdatedAt, Expr::value(now))
        .filter(person_link::Column::Id.eq(link_id))
        .filter(person_link::Column::State.eq(from.as_db()))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict(
            "the link was decided by someone else; reload it",
        ));
    }
    let s = MatchScore {
        score: link.score,
        reasons: link.reasons.lines().map(str::to_owned).collect(),
    };
    person_link_event::Entity::insert(link_event(link_id, Some(from), to, &s, actor, reason))
        .exec_without_returning(&txn)
        .await?;
    match (identity_roots::joins(from), identity_roots::joins(to)) {
        (false, true) => identity_roots::join(&txn, link.person_a, link.person_b).await?,
        (true, false) => identity_roots::split(&txn, link.person_a, link.person_b).await?,
        _ => {}
    }
    let saved = person_link::Entity::find_by_id(link_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("person link"))?;
    txn.commit().await?;
    Ok(saved)
}

/// `WITH ident(root, pid)`: every record of the identity of each root in `marks` (bound
/// parameters, each named twice), itself included: records joined by automatic and confirmed
/// links, transitively, as `person_identity` keeps them (`identity_roots`). The roots are bound,
/// not spliced: PostgreSQL prepares and caches each distinct statement text per connection, so
/// one text per person would be planned anew every time and push the other cached statements
/// out.
pub(crate) fn ident_cte(marks: &str) -> String {
    format!(
        "WITH ident(root, pid) AS ( \
           SELECT id, id FROM person WHERE id IN ({marks}) \
           UNION \
           SELECT mine.person_id, same.person_id FROM person_identity mine \
           JOIN person_identity same ON same.root_id = mine.root_id \
           WHERE mine.person_id IN ({marks}) \
         )"
    )
}

/// `ident_cte` for `roots`, then `select` from it.
fn ident_statement(backend: DbBackend, roots: &[i32], select: &str) -> Statement {
    let marks: Vec<String> = (1..=roots.len())
        .map(|i| crate::db::placeholder(backend, i))
        .collect();
    let sql = format!("{} {select}", ident_cte(&marks.join(",")));
    Statement::from_sql_and_values(backend, sql, roots.iter().map(|&r| r.into()))
}

/// Every record linked to each of `roots` (itself included), following automatic and confirmed
/// links transitively: one statement per 2000 roots.
pub async fn identities<C: ConnectionTrait>(
    db: &C,
    roots: &[i32],
) -> AppResult<HashMap<i32, BTreeSet<i32>>> {
    let mut out: HashMap<i32, BTreeSet<i32>> =
        roots.iter().map(|&r| (r, BTreeSet::from([r]))).collect();
    for chunk in roots.chunks(CHUNK) {
        let stmt = ident_statement(
            db.get_database_backend(),
            chunk,
            "SELECT root, pid FROM ident",
        );
        for r in db.query_all_raw(stmt).await? {
            let root: i32 = r.try_get("", "root")?;
            let pid: i32 = r.try_get("", "pid")?;
            out.entry(root).or_default().insert(pid);
        }
    }
    Ok(out)
}

/// All records linked to `person_id`, itself included.
pub async fn identity_of<C: ConnectionTrait>(db: &C, person_id: i32) -> AppResult<BTreeSet<i32>> {
    Ok(identities(db, &[person_id])
        .await?
        .remove(&person_id)
        .unwrap_or_else(|| BTreeSet::from([person_id])))
}

/// Each of `members` with every one of `links` that touches it (a link touching two members is
/// under both), in the links' order.
pub fn links_by_member(
    links: Vec<person_link::Model>,
    members: impl IntoIterator<Item = i32>,
) -> HashMap<i32, Vec<person_link::Model>> {
    let mut out: HashMap<i32, Vec<person_link::Model>> =
        members.into_iter().map(|m| (m, Vec::new())).collect();
    for link in links {
        for member in [link.person_a, link.person_b] {
            if let Some(list) = out.get_mut(&member) {
                list.push(link.clone());
            }
        }
    }
    out
}

/// Persons per `link_persons` call of `link_all`.
const LINK_BATCH: u64 = 500;

/// Links every person record with id above `after` (all of them for 0): for data that arrived
/// without `createOrder` (`ccpor import` feeds, demo data). The index is brought up to date
/// first. Decided pairs are left as they are, so running it again changes nothing. Returns
/// (persons looked at, links created).
pub async fn link_all(
    db: &DatabaseConnection,
    search: &crate::search::Search,
    after: i32,
    progress: Option<&indicatif::ProgressBar>,
) -> AppResult<(usize, usize)> {
    search.catch_up(db).await?;
    let index = search.index()?;
    if let Some(bar) = progress {
        let total = person::Entity::find()
            .filter(person::Column::Id.gt(after))
            .count(db)
            .await?;
        bar.set_length(total);
    }
    let (mut seen, mut created, mut cursor) = (0, 0, after);
    loop {
        let ids: Vec<i32> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::Id.gt(cursor))
            .order_by_asc(person::Column::Id)
            .limit(LINK_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&last) = ids.last() else {
            return Ok((seen, created));
        };
        created += link_persons(db, index.clone(), &ids).await?;
        seen += ids.len();
        cursor = last;
        if let Some(bar) = progress {
            bar.inc(ids.len() as u64);
        }
    }
}
