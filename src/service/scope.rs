//! The caller's reach for reads: statewide, or a token narrowed to some counties and so to their
//! courts. The history, case lookup and search reads take it and check it before they read.
use std::collections::{BTreeSet, HashSet};

use entities::{court, order, order_party};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::Caller;
use crate::error::AppResult;

/// Where a caller may read: the counties of a narrowed token and their courts' ids.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `None`: statewide.
    counties: Option<BTreeSet<String>>,
    /// The ids of those counties' courts (`None`: statewide).
    courts: Option<Vec<i32>>,
}

impl Scope {
    /// Every court in the state.
    pub fn statewide() -> Self {
        Self::default()
    }

    /// The caller's scope: statewide reads nothing; a narrowed token's courts come in one
    /// statement.
    pub async fn of<C: ConnectionTrait>(db: &C, caller: &Caller) -> AppResult<Self> {
        let Some(counties) = &caller.counties else {
            return Ok(Self::statewide());
        };
        let courts = court::Entity::find()
            .select_only()
            .column(court::Column::Id)
            .filter(court::Column::County.is_in(counties.iter().cloned()))
            .into_tuple::<i32>()
            .all(db)
            .await?;
        Ok(Self {
            counties: Some(counties.clone()),
            courts: Some(courts),
        })
    }

    /// The counties of a narrowed token; `None` when statewide.
    pub fn counties(&self) -> Option<&BTreeSet<String>> {
        self.counties.as_ref()
    }

    /// The ids of the courts in scope; `None` when statewide.
    pub fn court_ids(&self) -> Option<&[i32]> {
        self.courts.as_deref()
    }

    /// The courts in scope as a cache key's part: `all`, or the sorted ids.
    pub fn courts_key(&self) -> String {
        match &self.courts {
            None => "all".to_owned(),
            Some(c) => {
                let mut c = c.clone();
                c.sort_unstable();
                c.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
            }
        }
    }

    /// Which of `person_ids` appear in an order of a court in scope; `None` (all of them) when
    /// statewide.
    pub async fn persons_visible<C: ConnectionTrait>(
        &self,
        db: &C,
        person_ids: &[i32],
    ) -> AppResult<Option<HashSet<i32>>> {
        let Some(courts) = &self.courts else {
            return Ok(None);
        };
        let rows: Vec<i32> = order_party::Entity::find()
            .select_only()
            .column(order_party::Column::PersonId)
            .distinct()
            .filter(order_party::Column::PersonId.is_in(person_ids.iter().copied()))
            .filter(
                order_party::Column::OrderId.in_subquery(
                    Query::select()
                        .column(order::Column::Id)
                        .from(order::Entity)
                        .and_where(order::Column::CourtId.is_in(courts.iter().copied()))
                        .to_owned(),
                ),
            )
            .into_tuple::<i32>()
            .all(db)
            .await?;
        Ok(Some(rows.into_iter().collect()))
    }

    /// Whether the person appears in an order of a court in scope.
    pub async fn person_visible<C: ConnectionTrait>(
        &self,
        db: &C,
        person_id: i32,
    ) -> AppResult<bool> {
        Ok(match self.persons_visible(db, &[person_id]).await? {
            Some(ids) => ids.contains(&person_id),
            None => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_courts_key_is_sorted_and_says_all_when_statewide() {
        assert_eq!(Scope::statewide().courts_key(), "all");
        let narrowed = Scope {
            counties: Some(BTreeSet::from(["Alameda".to_owned()])),
            courts: Some(vec![9, 2, 5]),
        };
        assert_eq!(narrowed.courts_key(), "2,5,9");
        let none = Scope {
            counties: Some(BTreeSet::new()),
            courts: Some(Vec::new()),
        };
        assert_eq!(none.courts_key(), "");
    }
}
