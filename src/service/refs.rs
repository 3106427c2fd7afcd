//! Reference data (courts, agencies): the one place they are looked up. `Refs` holds both small
//! tables, read once per order entry or import run; `court_by_code` and `agency_by_ori` are the
//! single-row lookups of resolvers and of writes that name one agency, `court_ids_in` the courts
//! of a narrowed token's counties; `set_participation` is the one change to them the API makes.
use std::collections::HashMap;

use entities::{agency, court};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};

use crate::domain::codes::ParticipationMode;
use crate::domain::court_code::CourtCode;
use crate::domain::ori::Ori;
use crate::error::{AppError, AppResult};

/// The court with this code (codes are stored upper case), if any.
pub async fn court_by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> AppResult<Option<court::Model>> {
    Ok(court::Entity::find()
        .filter(court::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// The id of the court a filter argument names; an unknown court is invalid input at `field`.
pub async fn court_id<C: ConnectionTrait>(db: &C, field: &str, code: &CourtCode) -> AppResult<i32> {
    court_by_code(db, code.as_str())
        .await?
        .map(|c| c.id)
        .ok_or_else(|| AppError::invalid(field, format!("no court with code {}", code.as_str())))
}

/// Ids of the courts of these counties.
pub async fn court_ids_in<C: ConnectionTrait>(
    db: &C,
    counties: &std::collections::BTreeSet<String>,
) -> AppResult<Vec<i32>> {
    Ok(court::Entity::find()
        .select_only()
        .column(court::Column::Id)
        .filter(court::Column::County.is_in(counties.iter().cloned()))
        .into_tuple::<i32>()
        .all(db)
        .await?)
}

/// Sets how a court takes part in the registry; `NOT_FOUND` for an unknown court.
pub async fn set_participation<C: ConnectionTrait>(
    db: &C,
    code: &CourtCode,
    mode: ParticipationMode,
    keyed_by: Option<KeyedBy>,
) -> AppResult<court::Model> {
    let court = court_by_code(db, code.as_str())
        .await?
        .ok_or_else(|| AppError::not_found(format!("court {}", code.as_str())))?;
    let keyer = match keyed_by {
        None => court.keyed_by_agency_id,
        Some(KeyedBy::Court) => None,
        Some(KeyedBy::Sheriff(ori)) => Some(
            agency_by_ori(db, &ori)
                .await?
                .ok_or_else(|| {
                    AppError::invalid(
                        "keyingAgencyOri",
                        format!("no agency has ORI {}", ori.as_str()),
                    )
                })?
                .id,
        ),
    };
    let mut m = court.into_active_model();
    m.participation_mode = Set(mode.as_db().to_owned());
    m.keyed_by_agency_id = Set(keyer);
    m.updated_at = Set(chrono::Utc::now());
    Ok(m.update(db).await?)
}

/// Who is to key a court's orders.
#[derive(Debug, Clone)]
pub enum KeyedBy {
    Court,
    Sheriff(Ori),
}

/// The ORI of the agency that keys `court`'s orders, if the court has one key them.
pub async fn keying_ori<C: ConnectionTrait>(
    db: &C,
    court: &court::Model,
) -> AppResult<Option<String>> {
    let Some(id) = court.keyed_by_agency_id else {
        return Ok(None);
    };
    Ok(agency::Entity::find_by_id(id).one(db).await?.map(|a| a.ori))
}

/// The agency with this ORI, if any.
pub async fn agency_by_ori<C: ConnectionTrait>(
    db: &C,
    ori: &Ori,
) -> AppResult<Option<agency::Model>> {
    Ok(agency::Entity::find()
        .filter(agency::Column::Ori.eq(ori.as_str()))
        .one(db)
        .await?)
}

#[derive(Debug, Clone)]
pub struct CourtRef {
    pub id: i32,
    pub mode: ParticipationMode,
}

#[derive(Debug, Clone, Default)]
pub struct Refs {
    courts: HashMap<String, CourtRef>,
    agencies: HashMap<String, i32>,
}

impl Refs {
    pub async fn load<C: ConnectionTrait>(db: &C) -> AppResult<Self> {
        let mut courts = HashMap::new();
        for c in court::Entity::find().all(db).await? {
            courts.insert(
                c.code.clone(),
                CourtRef {
                    id: c.id,
                    mode: ParticipationMode::from_db(&c.participation_mode)?,
                },
            );
        }
        let agencies = agency::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.ori, a.id))
            .collect();
        Ok(Self { courts, agencies })
    }

    /// Courts and agencies given rather than read from a database (the fuzz targets', which
    /// validate inputs without one).
    #[doc(hidden)]
    pub fn from_parts(courts: HashMap<String, CourtRef>, agencies: HashMap<String, i32>) -> Self {
        Self { courts, agencies }
    }

    pub fn court(&self, code: &str) -> Option<&CourtRef> {
        self.courts.get(code)
    }

    pub fn agency(&self, ori: &str) -> Option<i32> {
        self.agencies.get(ori).copied()
    }
}
