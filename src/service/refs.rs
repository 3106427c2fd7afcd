//! Reference data (courts, agencies) looked up while validating input. Small tables, read once
//! per mutation or per import run.
use std::collections::HashMap;

use entities::{agency, court};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::codes::ParticipationMode;
use crate::error::AppResult;

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

    pub fn court(&self, code: &str) -> Option<&CourtRef> {
        self.courts.get(code)
    }

    pub fn agency(&self, ori: &str) -> Option<i32> {
        self.agencies.get(ori).copied()
    }
}
