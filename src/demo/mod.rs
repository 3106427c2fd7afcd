//! Synthetic statewide demo data: a deterministic (seeded) generator of order chains across all 58
//! counties and the tribal courts. Every order passes the same form and duration rules as entered
//! ones. Names come from Census frequency tables (`names`); nothing describes a real person.

mod chain;
mod conditions;
mod filing;
pub mod names;
mod parties;
mod store;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, NaiveDate, Utc};
use entities::{agency, court, order};
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use tokio::task::JoinHandle;

use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{EntrySource, EventKind, PartyRole, ServiceMethod, Sex};
use crate::domain::order_rules::{FormRule, OrderFamily};
use crate::error::{AppError, AppResult};
use crate::service::model::{Conditions, NewPerson};
use names::Names;
use store::store;

/// Seed of `ccpor demo` and `serve --demo` unless given.
pub const DEFAULT_SEED: u64 = 42;
/// Orders written per transaction.
const BATCH_ORDERS: usize = 4000;

/// What a demo run stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoReport {
    pub orders: usize,
    pub persons: usize,
}

/// True when no order is stored yet.
pub async fn is_empty(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .limit(1)
        .into_tuple::<i32>()
        .one(db)
        .await?
        .is_none())
}

struct CourtInfo {
    id: i32,
    code: String,
    county_number: i32,
    tribal: bool,
    sheriff: Option<i32>,
    judges: Vec<String>,
}

/// A person in a plan: drawn in this batch, or already stored.
#[derive(Debug, Clone)]
enum Who {
    New(Box<NewPerson>),
    Old(i32),
}

struct PlannedParty {
    role: PartyRole,
    relationship: Option<String>,
    who: Who,
}

struct Stage {
    rule: &'static FormRule,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    hearing_date: Option<NaiveDate>,
    conditions: Conditions,
    source: EntrySource,
    agency: Option<i32>,
    judge: Option<String>,
    served: Option<(DateTime<Utc>, ServiceMethod, Option<i32>)>,
    /// How this stage replaced the previous one.
    link: EventKind,
    renewal: bool,
}

struct Chain {
    court: usize,
    court_id: i32,
    case_number: CaseNumber,
    family: OrderFamily,
    parties: Vec<PlannedParty>,
    stages: Vec<Stage>,
    terminated_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

struct Generator {
    rng: ChaCha8Rng,
    names: Names,
    courts: Vec<CourtInfo>,
    superior: Vec<usize>,
    tribal: Vec<usize>,
    now: DateTime<Utc>,
    case_seq: u32,
    /// Restrained persons already stored, for repeat respondents across counties.
    restrained_pool: Vec<i32>,
    /// (restrained, protected, court) of stored chains, for mutual orders.
    pairs: Vec<(i32, i32, usize)>,
    /// Stored batches not yet drawn from, by batch number.
    stored: Vec<(usize, Stored)>,
}

/// What one stored batch adds to the generator's pools.
#[derive(Debug, Default)]
struct Stored {
    orders: usize,
    persons: usize,
    restrained: Vec<i32>,
    pairs: Vec<(i32, i32, usize)>,
}

/// A batch draws repeat persons only from batches at least this many before it, so the data do
/// not depend on how far storing runs behind planning.
const POOL_LAG: usize = 3;

/// Generates and stores `n` orders. Planning the next batch overlaps storing the previous ones.
pub async fn generate(
    db: &DatabaseConnection,
    n: usize,
    seed: u64,
    progress: Option<&ProgressBar>,
) -> AppResult<DemoReport> {
    let mut g = Generator::new(db, seed).await?;
    let depth = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => 1,
        _ => 2,
    };
    let mut in_flight: VecDeque<(usize, JoinHandle<AppResult<Stored>>)> = VecDeque::new();
    let mut report = DemoReport::default();
    let mut planned_total = 0;
    let mut batch = 0;
    while planned_total < n {
        g.release_pools(batch);
        let mut chains = Vec::new();
        let mut planned = 0;
        while planned < BATCH_ORDERS.min(n - planned_total) {
            let mut chain = g.chain()?;
            let room = n - planned_total - planned;
            if chain.stages.len() > room {
                chain.stages.truncate(room);
                chain.terminated_at = None;
            }
            planned += chain.stages.len();
            chains.push(chain);
        }
        planned_total += planned;
        while in_flight.len() >= depth {
            finish(&mut g, &mut in_flight, &mut report, progress).await?;
        }
        in_flight.push_back((batch, tokio::spawn(store(db.clone(), chains))));
        batch += 1;
    }
    while !in_flight.is_empty() {
        finish(&mut g, &mut in_flight, &mut report, progress).await?;
    }
    Ok(report)
}

async fn finish(
    g: &mut Generator,
    in_flight: &mut VecDeque<(usize, JoinHandle<AppResult<Stored>>)>,
    report: &mut DemoReport,
    progress: Option<&ProgressBar>,
) -> AppResult<()> {
    let Some((batch, handle)) = in_flight.pop_front() else {
        return Ok(());
    };
    let stored = handle
        .await
        .map_err(|e| internal(format!("demo batch task failed: {e}")))??;
    report.orders += stored.orders;
    report.persons += stored.persons;
    if let Some(p) = progress {
        p.set_position(report.orders as u64);
    }
    g.stored.push((batch, stored));
    Ok(())
}

fn internal(msg: String) -> AppError {
    AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(msg)))
}

fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

impl Generator {
    async fn new(db: &DatabaseConnection, seed: u64) -> AppResult<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let names = Names::load();
        let sheriffs: HashMap<String, i32> = agency::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .filter(|a| a.agency_type == "sheriff")
            .filter_map(|a| a.county.map(|c| (c, a.id)))
            .collect();
        let mut rows = court::Entity::find().all(db).await?;
        rows.sort_by(|a, b| a.code.cmp(&b.code));
        let mut courts = Vec::new();
        for c in rows {
            if c.participation_mode == "not_participating" {
                continue;
            }
            let judges = (0..3)
                .map(|_| {
                    let n = names.draw(&mut rng, Sex::Unknown);
                    let initial = n.first.chars().next().unwrap_or('A');
                    format!("Hon. {initial}. {}", n.last)
                })
                .collect();
            courts.push(CourtInfo {
                id: c.id,
                sheriff: sheriffs.get(&c.county).copied(),
                tribal: c.court_type == "tribal",
                county_number: c.county_number,
                code: c.code,
                judges,
            });
        }
        let superior = (0..courts.len()).filter(|&i| !courts[i].tribal).collect();
        let tribal = (0..courts.len()).filter(|&i| courts[i].tribal).collect();
        Ok(Self {
            rng,
            names,
            courts,
            superior,
            tribal,
            now: crate::domain::time::now(),
            case_seq: 0,
            restrained_pool: Vec::new(),
            pairs: Vec::new(),
            stored: Vec::new(),
        })
    }

    /// Makes stored batches old enough available for repeat persons.
    fn release_pools(&mut self, batch: usize) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.stored)
            .into_iter()
            .partition(|(b, _)| b + POOL_LAG <= batch);
        self.stored = waiting;
        let mut ready = ready;
        ready.sort_by_key(|(b, _)| *b);
        for (_, s) in ready {
            self.restrained_pool.extend(s.restrained);
            self.pairs.extend(s.pairs);
        }
    }
}
