//! Synthetic statewide demo data: a deterministic (seeded) generator of order chains across all 58
//! counties and the tribal courts. Every order passes the same form and duration rules as entered
//! ones. Names come from Census frequency tables (`names`); nothing describes a real person.

pub mod names;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Months, NaiveDate, TimeZone, Utc};
use entities::{agency, court, order, service_record};
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect, Set};
use tokio::task::JoinHandle;

use crate::db::{IdTable, allocate_ids};
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, EventKind, EyeColor, HairColor, PartyRole,
    PartyType, PcoCode, ServiceMethod, Sex,
};
use crate::domain::names::name_key;
use crate::domain::order_rules::{FormRule, OrderFamily, check_expiry, form_rule, renewal_limit};
use crate::error::{AppError, AppResult};
use crate::service::model::{
    Conditions, NewAlias, NewOrder, NewParty, NewPerson, PartyPerson, Supersedes,
};
use crate::service::orders::{
    alias_rows, event, insert_chunked, order_row, outbox_rows, party_row, person_row,
};
use names::{DrawnName, Names};

/// Seed of `ccpor demo` and `serve --demo` unless given.
pub const DEFAULT_SEED: u64 = 42;
/// Orders written per transaction.
const BATCH_ORDERS: usize = 4000;
/// How far back issue dates go.
const HISTORY_DAYS: i64 = 6 * 365;

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

/// Approximate county populations (2020 Census, thousands), by alphabetical county number;
/// used only to spread demo orders like the state's caseload.
const COUNTY_WEIGHTS: [u32; 58] = [
    1682, 1, 41, 211, 45, 22, 1165, 28, 191, 1008, 29, 136, 179, 19, 909, 152, 68, 33, 10014, 156,
    262, 17, 91, 281, 9, 13, 439, 138, 102, 3186, 404, 20, 2418, 1585, 64, 2181, 3298, 873, 779,
    282, 764, 448, 1936, 270, 182, 3, 44, 453, 488, 552, 99, 65, 16, 473, 55, 843, 216, 81,
];

/// Share of chains by family (docs/law/registry.md#scale: DV ≈ 70 % and CH ≈ 26 % of civil
/// filings).
const FAMILY_MIX: &[(OrderFamily, f64)] = &[
    (OrderFamily::Dv, 0.50),
    (OrderFamily::Ch, 0.19),
    (OrderFamily::Cr, 0.12),
    (OrderFamily::Epo, 0.07),
    (OrderFamily::Ea, 0.04),
    (OrderFamily::Wv, 0.025),
    (OrderFamily::Gv, 0.015),
    (OrderFamily::Jv, 0.01),
    (OrderFamily::Sv, 0.005),
    (OrderFamily::Rt, 0.01),
    (OrderFamily::OutOfState, 0.005),
];

const SPECIAL_CONDITIONS: &[&str] = &[
    "Brief and peaceful contact only for court-ordered exchanges of the children, at the sheriff's station lobby.",
    "No posting about the protected person on social media.",
    "Restrained person may retrieve clothing once, accompanied by a peace officer.",
    "Stay away from the protected person's vehicle.",
    "No contact through third parties except attorneys.",
    "Enroll in a 52-week batterer intervention program.",
];

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

    fn family(&mut self) -> OrderFamily {
        let mut x = self.rng.random::<f64>();
        for (f, w) in FAMILY_MIX {
            if x < *w {
                return *f;
            }
            x -= w;
        }
        OrderFamily::Dv
    }

    fn court(&mut self, family: OrderFamily) -> usize {
        if !self.tribal.is_empty()
            && matches!(family, OrderFamily::Dv | OrderFamily::Ch)
            && self.rng.random_bool(0.01)
        {
            return *pick(&mut self.rng, &self.tribal);
        }
        let total: u32 = COUNTY_WEIGHTS.iter().sum();
        let mut x = self.rng.random_range(0..total);
        let mut county = 1;
        for (i, w) in COUNTY_WEIGHTS.iter().enumerate() {
            if x < *w {
                county = i32::try_from(i).unwrap_or(0) + 1;
                break;
            }
            x -= w;
        }
        self.superior
            .iter()
            .copied()
            .find(|&i| self.courts[i].county_number == county)
            .unwrap_or(self.superior[0])
    }

    /// Case numbers shaped like the county's (docs/law/identity.md#case-numbers, synthetic
    /// sequences).
    fn case_number(
        &mut self,
        court: usize,
        family: OrderFamily,
        issued: DateTime<Utc>,
    ) -> AppResult<CaseNumber> {
        self.case_seq += 1;
        let seq = self.case_seq;
        let yy = issued.format("%y");
        let yyyy = issued.format("%Y");
        let c = &self.courts[court];
        let kind = match family {
            OrderFamily::Cr => "CR",
            OrderFamily::Jv => "JV",
            OrderFamily::Dv | OrderFamily::Epo | OrderFamily::OutOfState => "FL",
            _ => "CV",
        };
        let raw = match (c.tribal, c.county_number, family) {
            (true, _, _) => format!("{}-{yy}-{seq:05}", c.code),
            (_, _, OrderFamily::Epo) => format!("EPO{yy}-{seq:06}"),
            (_, 19, OrderFamily::Dv | OrderFamily::Ch) => format!("{yy}STRO{seq:05}"),
            (_, 30, OrderFamily::Ch | OrderFamily::Wv | OrderFamily::Ea) => {
                format!("30-{yyyy}-{seq:08}-CU-HR-CJC")
            }
            (_, 37, OrderFamily::Ch | OrderFamily::Wv) => format!("37-{yyyy}-{seq:08}-CU-HR-CTL"),
            (_, 38, OrderFamily::Dv) => format!("FDV-{yy}-{seq:06}"),
            (_, 38, OrderFamily::Ch) => format!("CCH-{yy}-{seq:06}"),
            (_, 1, OrderFamily::Dv) => format!("HF{yy}{seq:06}"),
            _ => format!("{yy}{kind}{seq:06}"),
        };
        Ok(CaseNumber::parse("caseNumber", &raw)?)
    }

    fn issue_time(&mut self, day: DateTime<Utc>) -> DateTime<Utc> {
        // Court hours in Pacific time are roughly 16:00–01:00 UTC.
        let date = day.date_naive();
        let secs = self.rng.random_range(16 * 3600..24 * 3600);
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
            + Duration::seconds(secs)
    }

    fn drawn_person(&mut self, sex: Sex, age: (i32, i32), descriptors: bool) -> NewPerson {
        let d: DrawnName = self.names.draw(&mut self.rng, sex);
        let today = self.now.date_naive();
        let years = self.rng.random_range(age.0..=age.1);
        let dob = today
            .checked_sub_months(Months::new(u32::try_from(years).unwrap_or(30) * 12))
            .and_then(|x| x.checked_sub_days(chrono::Days::new(self.rng.random_range(1..365))));
        let known_dob = self.rng.random_bool(0.92);
        let male = d.sex == Sex::Male;
        let (height, weight, hair, eye) = if descriptors {
            let hair = *pick(
                &mut self.rng,
                &[
                    HairColor::Black,
                    HairColor::Black,
                    HairColor::Brown,
                    HairColor::Brown,
                    HairColor::Blond,
                    HairColor::Gray,
                    HairColor::Red,
                    HairColor::UnknownOrBald,
                ],
            );
            let eye = *pick(
                &mut self.rng,
                &[
                    EyeColor::Brown,
                    EyeColor::Brown,
                    EyeColor::Brown,
                    EyeColor::Black,
                    EyeColor::Blue,
                    EyeColor::Hazel,
                    EyeColor::Green,
                ],
            );
            let (h, w) = if male {
                (
                    self.rng.random_range(62..=76),
                    self.rng.random_range(130..=260),
                )
            } else {
                (
                    self.rng.random_range(58..=70),
                    self.rng.random_range(100..=220),
                )
            };
            (Some(h), Some(w), Some(hair), Some(eye))
        } else {
            (None, None, None, None)
        };
        let dl = (descriptors && self.rng.random_bool(0.5)).then(|| {
            let letter = char::from(b'A' + self.rng.random_range(0..26u8));
            format!("{letter}{:07}", self.rng.random_range(0..10_000_000u32))
        });
        let aliases = d
            .alias
            .iter()
            .map(|(last, first)| NewAlias {
                last_name: last.clone(),
                first_name: first.clone(),
                middle_name: None,
            })
            .collect();
        NewPerson {
            party_type: PartyType::Individual,
            name_key: name_key(&[&d.last, &d.first]),
            last_name: Some(d.last),
            first_name: Some(d.first),
            middle_name: d.middle,
            suffix: (male && self.rng.random_bool(0.03)).then(|| "JR".to_owned()),
            organization_name: None,
            dob: if known_dob { dob } else { None },
            estimated_age: (!known_dob).then_some(years),
            sex: Some(d.sex),
            race: Some(d.race),
            height_inches: height,
            weight_pounds: weight,
            hair,
            eye,
            dl_state: dl.as_ref().map(|_| "CA".to_owned()),
            dl_number: dl,
            address: None,
            phone: None,
            confidential: false,
            aliases,
        }
    }

    fn organization(&mut self, kinds: &[&str]) -> NewPerson {
        let d = self.names.draw(&mut self.rng, Sex::Unknown);
        let org = format!(
            "{} {} {}",
            d.last,
            pick(&mut self.rng, kinds),
            pick(&mut self.rng, &["Inc.", "LLC", "Co."])
        );
        NewPerson {
            party_type: PartyType::Organization,
            name_key: name_key(&[&org]),
            last_name: None,
            first_name: None,
            middle_name: None,
            suffix: None,
            organization_name: Some(org),
            dob: None,
            estimated_age: None,
            sex: None,
            race: None,
            height_inches: None,
            weight_pounds: None,
            hair: None,
            eye: None,
            dl_number: None,
            dl_state: None,
            address: None,
            phone: None,
            confidential: false,
            aliases: Vec::new(),
        }
    }

    fn parties(&mut self, family: OrderFamily, court: usize) -> (Vec<PlannedParty>, Option<usize>) {
        let relationships: &[&str] = match family {
            OrderFamily::Dv | OrderFamily::Epo | OrderFamily::OutOfState => &[
                "spouse",
                "former spouse",
                "dating",
                "former dating",
                "cohabitant",
                "parent of child together",
            ],
            OrderFamily::Ch => &[
                "neighbor",
                "acquaintance",
                "co-worker",
                "former friend",
                "stranger",
                "landlord",
            ],
            OrderFamily::Ea => &["adult child", "caregiver", "relative", "neighbor"],
            OrderFamily::Wv => &["former employee", "customer", "stranger"],
            OrderFamily::Sv => &["student", "former student", "stranger"],
            OrderFamily::Jv => &["sibling", "parent", "classmate"],
            OrderFamily::Cr => &["spouse", "dating", "family member", "acquaintance"],
            OrderFamily::Gv | OrderFamily::Rt => &[],
        };
        let relationship =
            (!relationships.is_empty()).then(|| (*pick(&mut self.rng, relationships)).to_owned());
        // A counter-order: the protected person of an earlier chain now restrained, same court.
        if matches!(family, OrderFamily::Dv | OrderFamily::Ch)
            && !self.pairs.is_empty()
            && self.rng.random_bool(0.03)
        {
            let (r, p, c) = *pick(&mut self.rng, &self.pairs);
            return (
                vec![
                    PlannedParty {
                        role: PartyRole::Restrained,
                        relationship,
                        who: Who::Old(p),
                    },
                    PlannedParty {
                        role: PartyRole::Protected,
                        relationship: None,
                        who: Who::Old(r),
                    },
                ],
                Some(c),
            );
        }
        let (restrained_sex, protected_sex) =
            if matches!(family, OrderFamily::Dv | OrderFamily::Epo | OrderFamily::Cr) {
                let x = self.rng.random::<f64>();
                if x < 0.72 {
                    (Sex::Male, Sex::Female)
                } else if x < 0.81 {
                    (Sex::Female, Sex::Male)
                } else if x < 0.91 {
                    (Sex::Male, Sex::Male)
                } else {
                    (Sex::Female, Sex::Female)
                }
            } else if self.rng.random_bool(0.65) {
                (Sex::Male, Sex::Unknown)
            } else {
                (Sex::Female, Sex::Unknown)
            };
        let restrained_age = if family == OrderFamily::Jv {
            (12, 17)
        } else {
            (18, 68)
        };
        let restrained = if !self.restrained_pool.is_empty() && self.rng.random_bool(0.12) {
            Who::Old(*pick(&mut self.rng, &self.restrained_pool))
        } else {
            Who::New(Box::new(self.drawn_person(
                restrained_sex,
                restrained_age,
                true,
            )))
        };
        let protected = match family {
            OrderFamily::Rt => {
                Who::New(Box::new(self.organization(&[
                    "Market", "Hardware", "Pharmacy", "Foods", "Outlet",
                ])))
            }
            OrderFamily::Ea => {
                Who::New(Box::new(self.drawn_person(protected_sex, (65, 95), false)))
            }
            OrderFamily::Jv => Who::New(Box::new(self.drawn_person(protected_sex, (8, 17), false))),
            _ => Who::New(Box::new(self.drawn_person(protected_sex, (18, 70), false))),
        };
        let mut parties = vec![
            PlannedParty {
                role: PartyRole::Restrained,
                relationship,
                who: restrained,
            },
            PlannedParty {
                role: PartyRole::Protected,
                relationship: None,
                who: protected,
            },
        ];
        if matches!(family, OrderFamily::Dv | OrderFamily::Epo) && self.rng.random_bool(0.3) {
            for _ in 0..self.rng.random_range(1..=3) {
                parties.push(PlannedParty {
                    role: PartyRole::AdditionalProtected,
                    relationship: Some("child".to_owned()),
                    who: Who::New(Box::new(self.drawn_person(Sex::Unknown, (1, 16), false))),
                });
            }
        }
        if family == OrderFamily::Wv && self.rng.random_bool(0.3) {
            parties.push(PlannedParty {
                role: PartyRole::AdditionalProtected,
                relationship: Some("employer".to_owned()),
                who: Who::New(Box::new(self.organization(&[
                    "Logistics",
                    "Services",
                    "Builders",
                ]))),
            });
        }
        let _ = court;
        (parties, None)
    }

    fn conditions(
        &mut self,
        family: OrderFamily,
        issued: DateTime<Utc>,
        after_hearing: bool,
        intimate: bool,
    ) -> Conditions {
        let mut pco = vec![1u8];
        let mut contact = ContactLevel::None;
        let mut yards = None;
        let mut move_out = false;
        let mut firearms = !matches!(family, OrderFamily::Rt | OrderFamily::OutOfState);
        match family {
            OrderFamily::Gv => {
                pco = vec![7];
                firearms = true;
            }
            OrderFamily::Rt => {
                pco = vec![4];
                yards = Some(100);
            }
            _ => {
                if self.rng.random_bool(0.7) {
                    contact = ContactLevel::NoContact;
                    pco.push(5);
                } else {
                    contact = ContactLevel::PeacefulContact;
                }
                if self.rng.random_bool(0.8) {
                    yards = Some(*pick(&mut self.rng, &[50, 100, 100, 100, 200, 300]));
                    pco.push(4);
                }
                if family == OrderFamily::Dv && self.rng.random_bool(0.15) {
                    move_out = true;
                    pco.push(3);
                }
                if family == OrderFamily::Dv && self.rng.random_bool(0.2) {
                    pco.push(if self.rng.random_bool(0.5) { 6 } else { 9 });
                }
            }
        }
        if firearms {
            pco.push(7);
        }
        let special = self
            .rng
            .random_bool(0.2)
            .then(|| (*pick(&mut self.rng, SPECIAL_CONDITIONS)).to_owned());
        if special.is_some() {
            pco.push(8);
        }
        pco.sort_unstable();
        pco.dedup();
        let brady = if family == OrderFamily::Dv && after_hearing && intimate {
            BradyIndicator::Yes
        } else if after_hearing {
            BradyIndicator::Unknown
        } else {
            BradyIndicator::No
        };
        Conditions {
            pco_codes: pco
                .into_iter()
                .filter_map(|c| PcoCode::parse("pco", &format!("{c:02}")).ok())
                .collect(),
            contact_level: contact,
            stay_away_yards: yards,
            move_out,
            firearm_relinquishment: firearms,
            firearm_due_at: firearms.then(|| issued + Duration::days(2)),
            brady_indicator: brady,
            special_conditions: special,
            notes: None,
        }
    }

    fn rule(form: &str) -> AppResult<&'static FormRule> {
        form_rule(form).ok_or_else(|| internal(format!("demo uses unknown form {form}")))
    }

    fn served_later(
        &mut self,
        issued: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        p: f64,
        method: ServiceMethod,
        agency: Option<i32>,
    ) -> Option<(DateTime<Utc>, ServiceMethod, Option<i32>)> {
        if !self.rng.random_bool(p) {
            return None;
        }
        let at = issued + Duration::hours(self.rng.random_range(6..240));
        let limit = until.unwrap_or(self.now).min(self.now);
        (at <= limit).then_some((at, method, agency))
    }

    /// Plans one chain: first order, then hearing, amendment, renewal as the story goes.
    fn chain(&mut self) -> AppResult<Chain> {
        let family = self.family();
        let mut court = self.court(family);
        let (parties, counter_court) = self.parties(family, court);
        if let Some(c) = counter_court {
            court = c;
        }
        let intimate = parties
            .first()
            .and_then(|p| p.relationship.as_deref())
            .is_some_and(|r| {
                matches!(
                    r,
                    "spouse"
                        | "former spouse"
                        | "dating"
                        | "former dating"
                        | "cohabitant"
                        | "parent of child together"
                )
            });
        let day = self.now - Duration::days(self.rng.random_range(1..HISTORY_DAYS));
        let issued = self.issue_time(day).min(self.now);
        let sheriff = self.courts[court].sheriff;
        let judge = Some(pick(&mut self.rng, &self.courts[court].judges).clone());
        let mut stages = Vec::new();
        let first_form = match family {
            OrderFamily::Dv => "DV-110",
            OrderFamily::Ch => "CH-110",
            OrderFamily::Ea => "EA-110",
            OrderFamily::Wv => "WV-110",
            OrderFamily::Sv => "SV-110",
            OrderFamily::Gv => {
                if self.rng.random_bool(0.5) {
                    "EPO-002"
                } else {
                    "GV-110"
                }
            }
            OrderFamily::Jv => "JV-250",
            OrderFamily::Cr => {
                if self.rng.random_bool(0.8) {
                    "CR-160"
                } else {
                    "CR-161"
                }
            }
            OrderFamily::Epo => "EPO-001",
            OrderFamily::Rt => "RT-130",
            OrderFamily::OutOfState => "DV-600",
        };
        let rule = Self::rule(first_form)?;
        let lea = matches!(first_form, "EPO-001" | "EPO-002");
        let (expires, hearing) = match first_form {
            "EPO-001" => (Some(issued + Duration::days(5)), None),
            "EPO-002" | "GV-110" => (Some(issued + Duration::days(21)), None),
            "CR-160" | "CR-161" => {
                if self.rng.random_bool(0.5) {
                    (None, None)
                } else {
                    (
                        issued.checked_add_months(Months::new(12 * self.rng.random_range(1..=10))),
                        None,
                    )
                }
            }
            "RT-130" => (issued.checked_add_months(Months::new(24)), None),
            "DV-600" => (
                issued.checked_add_months(Months::new(12 * self.rng.random_range(1..=5))),
                None,
            ),
            _ => {
                let hearing = issued + Duration::days(21);
                (
                    Some(hearing + Duration::hours(2)),
                    Some(hearing.date_naive()),
                )
            }
        };
        let served = match rule.kind {
            crate::domain::order_rules::OrderKind::Emergency => {
                Some((issued, ServiceMethod::Personal, sheriff))
            }
            crate::domain::order_rules::OrderKind::Criminal => {
                Some((issued, ServiceMethod::InCourt, None))
            }
            _ => self.served_later(issued, expires, 0.85, ServiceMethod::Personal, sheriff),
        };
        let conditions = self.conditions(family, issued, false, intimate);
        stages.push(Stage {
            rule,
            issued_at: issued,
            expires_at: expires,
            hearing_date: hearing,
            conditions,
            source: if lea {
                EntrySource::Lea
            } else if self.rng.random_bool(0.05) {
                EntrySource::Feed
            } else {
                EntrySource::Court
            },
            agency: if lea { sheriff } else { None },
            judge: judge.clone(),
            served,
            link: EventKind::Issued,
            renewal: false,
        });
        // Hearing: the temporary order is replaced by an order after hearing.
        let after_hearing_form = match first_form {
            "DV-110" => Some(("DV-130", &[36u32, 60, 60, 12][..])),
            "CH-110" => Some(("CH-130", &[36, 60, 24][..])),
            "EA-110" => Some(("EA-130", &[36, 60][..])),
            "WV-110" => Some(("WV-130", &[36][..])),
            "SV-110" => Some(("SV-130", &[36][..])),
            "GV-110" | "EPO-002" => Some(("GV-130", &[12][..])),
            "JV-250" => Some(("JV-255", &[36][..])),
            _ => None,
        };
        let mut terminated_at = None;
        if let (Some((form, months)), Some(h)) = (after_hearing_form, expires)
            && h <= self.now
        {
            if self.rng.random_bool(0.65) {
                let oah_issued = h - Duration::hours(1);
                let m = *pick(&mut self.rng, months);
                let oah_expires = oah_issued.checked_add_months(Months::new(m));
                let served = if self.rng.random_bool(0.6) {
                    Some((oah_issued, ServiceMethod::InCourt, None))
                } else {
                    self.served_later(oah_issued, oah_expires, 0.6, ServiceMethod::Mail, None)
                };
                let conditions = self.conditions(family, oah_issued, true, intimate);
                stages.push(Stage {
                    rule: Self::rule(form)?,
                    issued_at: oah_issued,
                    expires_at: oah_expires,
                    hearing_date: None,
                    conditions,
                    source: EntrySource::Court,
                    agency: None,
                    judge: judge.clone(),
                    served,
                    link: EventKind::Modified,
                    renewal: false,
                });
            } else if self.rng.random_bool(0.5) {
                terminated_at = Some(h - Duration::hours(1));
            }
        }
        // Amendment during the order's life.
        if stages.len() == 2 && self.rng.random_bool(0.08) {
            let prev = &stages[1];
            if let Some(exp) = prev.expires_at {
                let span = (exp.min(self.now) - prev.issued_at).num_days();
                if span > 30 {
                    let at = prev.issued_at + Duration::days(self.rng.random_range(10..span));
                    let mut conditions = self.conditions(family, at, true, intimate);
                    conditions.contact_level = ContactLevel::PeacefulContact;
                    conditions.pco_codes.retain(|c| c.as_str() != "05");
                    let rule = prev.rule;
                    stages.push(Stage {
                        rule,
                        issued_at: at,
                        expires_at: Some(exp),
                        hearing_date: None,
                        conditions,
                        source: EntrySource::Court,
                        agency: None,
                        judge: judge.clone(),
                        served: Some((at, ServiceMethod::InCourt, None)),
                        link: EventKind::Modified,
                        renewal: false,
                    });
                }
            }
        }
        // Renewal shortly before expiry.
        if stages.len() >= 2
            && let Some(last) = stages.last()
            && let Some(exp) = last.expires_at
            && exp - Duration::days(60) <= self.now
            && self.rng.random_bool(0.3)
        {
            let at = (exp - Duration::days(self.rng.random_range(1..60)))
                .max(last.issued_at + Duration::days(1));
            if at <= self.now {
                let (limit, _) = renewal_limit(family);
                let new_exp = match limit {
                    crate::domain::order_rules::Limit::Unlimited if self.rng.random_bool(0.15) => {
                        None
                    }
                    crate::domain::order_rules::Limit::Years(y) => {
                        at.checked_add_months(Months::new(12 * y))
                    }
                    _ => at.checked_add_months(Months::new(60)),
                };
                let rule = last.rule;
                let conditions = self.conditions(family, at, true, intimate);
                let served = self.served_later(at, new_exp, 0.7, ServiceMethod::Mail, None);
                stages.push(Stage {
                    rule,
                    issued_at: at,
                    expires_at: new_exp,
                    hearing_date: None,
                    conditions,
                    source: EntrySource::Court,
                    agency: None,
                    judge: judge.clone(),
                    served,
                    link: EventKind::Renewed,
                    renewal: true,
                });
            }
        }
        if terminated_at.is_none()
            && let Some(last) = stages.last()
            && self.rng.random_bool(0.04)
        {
            let end = last.expires_at.unwrap_or(self.now).min(self.now);
            let span = (end - last.issued_at).num_hours();
            if span > 2 {
                terminated_at =
                    Some(last.issued_at + Duration::hours(self.rng.random_range(1..span)));
            }
        }
        let cancelled_at =
            (stages.len() == 1 && terminated_at.is_none() && self.rng.random_bool(0.005))
                .then(|| (stages[0].issued_at + Duration::days(1)).min(self.now));
        let case_number = self.case_number(court, family, issued)?;
        Ok(Chain {
            court,
            court_id: self.courts[court].id,
            case_number,
            family,
            parties,
            stages,
            terminated_at,
            cancelled_at,
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

/// Allocates ids and writes a batch of chains in one transaction.
async fn store(db: DatabaseConnection, chains: Vec<Chain>) -> AppResult<Stored> {
    let txn = crate::db::begin_write(&db).await?;
    let new_persons = chains
        .iter()
        .flat_map(|c| &c.parties)
        .filter(|p| matches!(p.who, Who::New(_)))
        .count();
    let order_count: usize = chains.iter().map(|c| c.stages.len()).sum();
    let mut person_ids = allocate_ids(&txn, IdTable::Person, new_persons)
        .await?
        .into_iter();
    let mut order_ids = allocate_ids(&txn, IdTable::Order, order_count)
        .await?
        .into_iter();
    let now = Utc::now();
    let mut stored = Stored::default();
    // One outbox row per chain: its orders share their parties.
    let mut chain_ends = Vec::with_capacity(chains.len());
    let (mut persons, mut aliases, mut orders, mut parties, mut events, mut services) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for chain in &chains {
        let mut party_models = Vec::new();
        let mut ids_by_role = Vec::new();
        for p in &chain.parties {
            let id = match &p.who {
                Who::Old(id) => *id,
                Who::New(np) => {
                    let id = person_ids
                        .next()
                        .ok_or_else(|| internal("person id block too small".into()))?;
                    persons.push(person_row(np, id, now));
                    aliases.extend(alias_rows(np, id, now));
                    id
                }
            };
            ids_by_role.push((p.role, id));
            party_models.push(NewParty {
                role: p.role,
                relationship: p.relationship.clone(),
                person: PartyPerson::Existing(id),
            });
        }
        let chain_ids: Vec<i32> = (0..chain.stages.len())
            .map(|_| {
                order_ids
                    .next()
                    .ok_or_else(|| internal("order id block too small".into()))
            })
            .collect::<AppResult<_>>()?;
        let Some(&root) = chain_ids.first() else {
            continue;
        };
        if let Some(&end) = chain_ids.last() {
            chain_ends.push(end);
        }
        for (i, stage) in chain.stages.iter().enumerate() {
            let id = chain_ids[i];
            if stage.renewal {
                let (limit, citation) = renewal_limit(chain.family);
                check_expiry(
                    "expiresAt",
                    stage.issued_at,
                    stage.expires_at,
                    false,
                    limit,
                    citation,
                    "renewal",
                )
                .map_err(|e| internal(format!("demo renewal breaks a rule: {e}")))?;
            } else {
                check_expiry(
                    "expiresAt",
                    stage.issued_at,
                    stage.expires_at,
                    stage.rule.expiry_required,
                    stage.rule.limit,
                    stage.rule.citation,
                    stage.rule.form,
                )
                .map_err(|e| internal(format!("demo order breaks a rule: {e}")))?;
            }
            let new = NewOrder {
                court_id: chain.court_id,
                case_number: chain.case_number.clone(),
                family: chain.family,
                form_number: stage.rule.form,
                kind: stage.rule.kind,
                issued_at: stage.issued_at,
                hearing_date: stage.hearing_date,
                expires_at: stage.expires_at,
                judicial_officer: stage.judge.clone(),
                conditions: stage.conditions.clone(),
                source: stage.source,
                entered_by_court_id: (stage.source != EntrySource::Lea).then_some(chain.court_id),
                entered_by_agency_id: stage.agency,
                parties: Vec::new(),
                supersedes: (i > 0).then(|| Supersedes {
                    order_id: chain_ids[i - 1],
                    chain_root_id: root,
                }),
                image_only: false,
            };
            let mut row = order_row(&new, id, now);
            let successor = chain.stages.get(i + 1);
            let last = successor.is_none();
            if let Some(next) = successor {
                row.superseded_at = Set(Some(next.issued_at));
                events.push(event(
                    id,
                    next.link,
                    next.issued_at,
                    Some(chain_ids[i + 1]),
                    None,
                    EntrySource::Court,
                ));
            }
            events.push(event(
                id,
                EventKind::Issued,
                stage.issued_at,
                (i > 0).then(|| chain_ids[i - 1]),
                None,
                stage.source,
            ));
            if last {
                if let Some(t) = chain.terminated_at {
                    row.terminated_at = Set(Some(t));
                    events.push(event(
                        id,
                        EventKind::Terminated,
                        t,
                        None,
                        Some("Terminated by court order".into()),
                        EntrySource::Court,
                    ));
                }
                if let Some(t) = chain.cancelled_at {
                    row.cancelled_at = Set(Some(t));
                    events.push(event(
                        id,
                        EventKind::Cancelled,
                        t,
                        None,
                        Some("Entered in error (duplicate entry)".into()),
                        EntrySource::Court,
                    ));
                }
            }
            if let Some((at, method, agency)) = stage.served {
                services.push(service_record::ActiveModel {
                    order_id: Set(id),
                    served_at: Set(at),
                    method: Set(method.as_db().to_owned()),
                    server_name: Set(agency.map(|_| "Deputy (synthetic)".to_owned())),
                    agency_id: Set(agency),
                    notes: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                });
                events.push(event(
                    id,
                    EventKind::Served,
                    at,
                    None,
                    None,
                    if agency.is_some() {
                        EntrySource::Lea
                    } else {
                        EntrySource::Court
                    },
                ));
            }
            orders.push(row);
            for p in &party_models {
                if let PartyPerson::Existing(pid) = p.person {
                    parties.push(party_row(id, pid, p, now));
                }
            }
        }
        let restrained = ids_by_role
            .iter()
            .find(|(r, _)| *r == PartyRole::Restrained)
            .map(|x| x.1);
        let protected = ids_by_role
            .iter()
            .find(|(r, _)| *r == PartyRole::Protected)
            .map(|x| x.1);
        if let (Some(r), Some(p)) = (restrained, protected) {
            stored.restrained.push(r);
            if !matches!(chain.family, OrderFamily::Rt | OrderFamily::Wv) {
                stored.pairs.push((r, p, chain.court));
            }
        }
    }
    stored.orders = orders.len();
    stored.persons = persons.len();
    insert_chunked(&txn, persons).await?;
    insert_chunked(&txn, aliases).await?;
    insert_chunked(&txn, orders).await?;
    insert_chunked(&txn, parties).await?;
    insert_chunked(&txn, events).await?;
    insert_chunked(&txn, services).await?;
    insert_chunked(&txn, outbox_rows(&chain_ends, now)).await?;
    txn.commit().await?;
    Ok(stored)
}
