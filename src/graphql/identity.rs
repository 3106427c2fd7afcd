//! Person identity across courts: `Person.identity`, the clerk's queue of proposed links, and
//! `confirmPersonLink` / `rejectPersonLink` (reversible; every change is an event).
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entities::{person_link, person_link_event};

use crate::auth::Permission;
use crate::domain::identity_match::LinkState;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::access::{Need, log, persons_in_scope, require};
use crate::graphql::loaders::{IdentityOf, LinkEventsOf, LinksOf, PersonId};
use crate::graphql::types::Person;
use crate::graphql::{GqlResult, loader, state};
use crate::service::identity;

/// A possible "same person" between two records, with its score and reasons.
pub struct PersonLink(pub person_link::Model);

#[Object]
impl PersonLink {
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::PersonLink, self.0.id))
    }
    async fn state(&self) -> async_graphql::Result<LinkState> {
        LinkState::from_db(&self.0.state).gql()
    }
    /// Whether the two records count as one identity now (automatic or confirmed).
    async fn linked(&self) -> async_graphql::Result<bool> {
        Ok(LinkState::from_db(&self.0.state).gql()?.links())
    }
    /// Name-index score plus descriptor agreement; links at 1.4 (with the same DOB or licence)
    /// automatically, proposes from 1.0.
    async fn score(&self) -> f64 {
        self.0.score
    }
    /// Why the records match (and where they disagree).
    async fn reasons(&self) -> Vec<String> {
        self.0.reasons.lines().map(str::to_owned).collect()
    }
    /// The two records.
    async fn persons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Person>> {
        // Only those a narrowed token may see (issue 22, item 4).
        let keys: Vec<PersonId> = visible(ctx, &[self.0.person_a, self.0.person_b])
            .await?
            .into_iter()
            .map(PersonId)
            .collect();
        let found = loader(ctx)?.load_many(keys.iter().copied()).await.gql()?;
        Ok(keys
            .iter()
            .filter_map(|k| found.get(k).cloned().map(Person))
            .collect())
    }
    /// Who confirmed or rejected it.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }
    /// How the link came to its state, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PersonLinkEvent>> {
        let rows = loader(ctx)?.load_one(LinkEventsOf(self.0.id)).await.gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(PersonLinkEvent)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One change of a link.
pub struct PersonLinkEvent(pub person_link_event::Model);

#[Object]
impl PersonLinkEvent {
    /// Null for the event that found the pair.
    #[graphql(name = "fromState")]
    async fn previous_state(&self) -> async_graphql::Result<Option<LinkState>> {
        self.0
            .from_state
            .as_deref()
            .map(LinkState::from_db)
            .transpose()
            .gql()
    }
    async fn to_state(&self) -> async_graphql::Result<LinkState> {
        LinkState::from_db(&self.0.to_state).gql()
    }
    /// `system` for automatic matching, else the user.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

/// The records of one person across courts: the record asked about and every record linked to
/// it (automatically or confirmed), plus all links touching them, proposed and rejected too.
pub struct Identity {
    pub members: Vec<i32>,
}

#[Object]
impl Identity {
    /// The linked records, the one asked about included.
    async fn persons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Person>> {
        let visible = visible(ctx, &self.members).await?;
        let found = loader(ctx)?
            .load_many(visible.iter().map(|&id| PersonId(id)))
            .await
            .gql()?;
        Ok(visible
            .iter()
            .filter_map(|id| found.get(&PersonId(*id)).cloned().map(Person))
            .collect())
    }
    /// Links touching these records, in any state.
    async fn links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PersonLink>> {
        let found = loader(ctx)?
            .load_many(self.members.iter().map(|&id| LinksOf(id)))
            .await
            .gql()?;
        let mut links: Vec<person_link::Model> = found.into_values().flatten().collect();
        links.sort_by_key(|l| l.id);
        links.dedup_by_key(|l| l.id);
        // A narrowed token sees a link only when it may see both of its records: one side in
        // scope is not enough (issue 22, item 4), as for `personLinks` and `node`.
        let ends: Vec<i32> = links
            .iter()
            .flat_map(|l| [l.person_a, l.person_b])
            .collect();
        let seen = visible(ctx, &ends).await?;
        Ok(links
            .into_iter()
            .filter(|l| seen.contains(&l.person_a) && seen.contains(&l.person_b))
            .map(PersonLink)
            .collect())
    }
}

/// `Person.identity`: the records linked to `person_id` (batched across a list of persons).
pub async fn identity_of(ctx: &Context<'_>, person_id: i32) -> async_graphql::Result<Identity> {
    let members = loader(ctx)?
        .load_one(IdentityOf(person_id))
        .await
        .gql()?
        .unwrap_or_else(|| vec![person_id]);
    Ok(Identity { members })
}

/// The members a narrowed token may see.
async fn visible(ctx: &Context<'_>, ids: &[i32]) -> async_graphql::Result<Vec<i32>> {
    Ok(match persons_in_scope(ctx, ids).await? {
        Some(seen) => ids.iter().copied().filter(|i| seen.contains(i)).collect(),
        None => ids.to_vec(),
    })
}

/// Result of `confirmPersonLink` and `rejectPersonLink`.
#[derive(SimpleObject)]
pub struct PersonLinkPayload {
    pub link: PersonLink,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// Links in a state (default `PROPOSED`: the clerk's queue), newest first, at most 100.
    #[graphql(
        guard = "Need(Permission::ReadIdentified)",
        complexity = "crate::graphql::limits::page_cost(first, 20, 100, child_complexity)"
    )]
    async fn person_links(
        &self,
        ctx: &Context<'_>,
        state: Option<LinkState>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<PersonLink>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let wanted = state.unwrap_or(LinkState::Proposed);
        let first = first.unwrap_or(20).clamp(0, 100);
        let rows = person_link::Entity::find()
            .filter(person_link::Column::State.eq(wanted.as_db()))
            .order_by_desc(person_link::Column::UpdatedAt)
            .order_by_desc(person_link::Column::Id)
            .limit(u64::try_from(first).unwrap_or(100))
            .all(&crate::graphql::state(ctx)?.db)
            .await
            .gql()?;
        let ids: Vec<i32> = rows.iter().flat_map(|l| [l.person_a, l.person_b]).collect();
        let seen = visible(ctx, &ids).await?;
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|l| seen.contains(&l.person_a) && seen.contains(&l.person_b))
            .collect();
        if let Some(l) = log(ctx) {
            l.objects(
                rows.iter()
                    .flat_map(|r| [r.person_a, r.person_b])
                    .map(|p| ids::encode(Kind::Person, p)),
            );
        }
        Ok(rows.into_iter().map(PersonLink).collect())
    }
}

#[derive(Default)]
pub struct IdentityMutation;

impl IdentityMutation {
    async fn decide(
        ctx: &Context<'_>,
        link_id: &ID,
        to: LinkState,
        reason: Option<String>,
    ) -> async_graphql::Result<PersonLinkPayload> {
        let c = require(ctx, Permission::LinkPersons)?;
        let id = ids::decode("linkId", Kind::PersonLink, link_id)
            .map_err(AppError::from)
            .gql()?;
        let reason = crate::service::validate::text(
            "reason",
            reason.as_deref(),
            crate::service::validate::MAX_TEXT,
        )
        .map_err(AppError::from)
        .gql()?;
        let db = &state(ctx)?.db;
        use sea_orm::EntityTrait;
        let not_found = || AppError::not_found(format!("person link {}", link_id.as_str()));
        let link = person_link::Entity::find_by_id(id)
            .one(db)
            .await
            .gql()?
            .ok_or_else(not_found)
            .gql()?;
        // A link reaching outside a narrowed token's counties answers as one that does not exist.
        let seen = visible(ctx, &[link.person_a, link.person_b]).await?;
        if seen.len() < 2 {
            return Err(not_found()).gql();
        }
        let saved = identity::decide(db, id, to, &c.user, reason).await.gql()?;
        if let Some(l) = log(ctx) {
            l.objects([
                ids::encode(Kind::Person, saved.person_a),
                ids::encode(Kind::Person, saved.person_b),
            ]);
        }
        Ok(PersonLinkPayload {
            link: PersonLink(saved),
        })
    }
}

#[Object]
impl IdentityMutation {
    /// Confirms two records as one person (also restores a rejected or reversed link).
    async fn confirm_person_link(
        &self,
        ctx: &Context<'_>,
        link_id: ID,
        reason: Option<String>,
    ) -> async_graphql::Result<PersonLinkPayload> {
        Self::decide(ctx, &link_id, LinkState::Confirmed, reason).await
    }

    /// Says two records are different people; on an automatic or confirmed link this reverses
    /// it. Nothing is deleted: the link keeps its history.
    async fn reject_person_link(
        &self,
        ctx: &Context<'_>,
        link_id: ID,
        reason: Option<String>,
    ) -> async_graphql::Result<PersonLinkPayload> {
        Self::decide(ctx, &link_id, LinkState::Rejected, reason).await
    }
}
