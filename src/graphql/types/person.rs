//! The `Person` type, its display name and its aliases (`Alias`).
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{person, person_alias};

use crate::domain::codes::{EyeColor, HairColor, PartyType, Race, Sex};
use crate::domain::dob::age_on;
use crate::domain::ids::{self, Kind};
use crate::domain::status::OrderStatus;
use crate::graphql::access::{clets_field, permit, person_identity};
use crate::graphql::connection::OrderConnection;
use crate::graphql::loaders::AliasesOf;
use crate::graphql::{GqlResult, loader};

/// A restrained or protected party: a person, or an organization.
pub struct Person(pub person::Model);

#[Object]
impl Person {
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Person, self.0.id))
    }
    async fn party_type(&self) -> async_graphql::Result<PartyType> {
        PartyType::from_db(&self.0.party_type).gql()
    }
    async fn last_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(self.0.last_name.as_deref())
    }
    async fn first_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(self.0.first_name.as_deref())
    }
    async fn middle_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(self.0.middle_name.as_deref())
    }
    async fn suffix(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(self.0.suffix.as_deref())
    }
    async fn organization_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(self.0.organization_name.as_deref())
    }
    /// `LAST, FIRST MIDDLE SUFFIX` (NCIC NAM order), or the organization name. Null with a
    /// `FORBIDDEN` error for de-identified roles.
    async fn full_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(Some(full_name(&self.0)))
    }
    async fn dob(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NaiveDate>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        Ok(self.0.dob)
    }
    /// The identity is confidential (a minor, Fam. Code 6301.5): names, DOB and contact data
    /// are shown to court and law-enforcement roles only.
    async fn confidential(&self) -> bool {
        self.0.confidential
    }
    /// CLETS-001 address (Cal. Rules of Court 1.51): court and law-enforcement roles only.
    async fn address(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, clets_field(ctx, &self.0, "Person.address")) {
            return Ok(None);
        }
        Ok(self.0.address.as_deref())
    }
    /// CLETS-001 telephone (Cal. Rules of Court 1.51): court and law-enforcement roles only.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, clets_field(ctx, &self.0, "Person.phone")) {
            return Ok(None);
        }
        Ok(self.0.phone.as_deref())
    }
    /// When the CLETS-001 data (address, telephone, driver's licence) was purged, once CARPOS
    /// had acknowledged the entry that carried it (Cal. Rules of Court 1.51(e)); null while the
    /// registry holds it. Those fields read null afterwards: the data went to DOJ.
    async fn clets_purged_at(&self) -> Option<DateTime<Utc>> {
        self.0.clets_purged_at
    }
    /// Age estimated on the form when the DOB was unknown.
    async fn estimated_age(&self) -> Option<i32> {
        self.0.estimated_age
    }
    /// Age today from the DOB, else the estimate.
    async fn age(&self, ctx: &Context<'_>) -> Option<i32> {
        match self.0.dob {
            Some(d) => {
                let today = Utc::now().date_naive();
                // Read again tomorrow, the answer may differ (a birthday).
                if let (Some(l), Some(midnight)) = (
                    crate::graphql::access::log(ctx),
                    today.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)),
                ) {
                    l.changes_at(midnight.and_utc());
                }
                Some(age_on(d, today))
            }
            None => self.0.estimated_age,
        }
    }
    async fn sex(&self) -> async_graphql::Result<Option<Sex>> {
        self.0.sex.as_deref().map(Sex::from_db).transpose().gql()
    }
    async fn race(&self) -> async_graphql::Result<Option<Race>> {
        self.0.race.as_deref().map(Race::from_db).transpose().gql()
    }
    async fn height_inches(&self) -> Option<i32> {
        self.0.height_inches
    }
    async fn weight_pounds(&self) -> Option<i32> {
        self.0.weight_pounds
    }
    async fn hair(&self) -> async_graphql::Result<Option<HairColor>> {
        self.0
            .hair
            .as_deref()
            .map(HairColor::from_db)
            .transpose()
            .gql()
    }
    async fn eye(&self) -> async_graphql::Result<Option<EyeColor>> {
        self.0
            .eye
            .as_deref()
            .map(EyeColor::from_db)
            .transpose()
            .gql()
    }
    async fn driver_license_number(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, clets_field(ctx, &self.0, "Person.driverLicenseNumber")) {
            return Ok(None);
        }
        Ok(self.0.dl_number.as_deref())
    }
    async fn driver_license_state(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, clets_field(ctx, &self.0, "Person.driverLicenseState")) {
            return Ok(None);
        }
        Ok(self.0.dl_state.as_deref())
    }
    /// Other names (AKA).
    async fn aliases(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Alias>>> {
        if !permit(ctx, person_identity(ctx, &self.0)) {
            return Ok(None);
        }
        let rows = loader(ctx)?.load_one(AliasesOf(self.0.id)).await.gql()?;
        Ok(Some(
            rows.unwrap_or_default().into_iter().map(Alias).collect(),
        ))
    }
    /// This person's records in other courts: automatically linked or confirmed ones, and the
    /// proposed and rejected links a clerk has to look at or has decided.
    async fn identity(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::identity::Identity> {
        person_identity(ctx, &self.0)?;
        crate::graphql::identity::identity_of(ctx, self.0.id).await
    }
    /// Orders naming this person in any role, newest first.
    #[graphql(
        complexity = "crate::graphql::limits::page_cost(first, crate::service::reads::DEFAULT_PAGE, crate::service::reads::MAX_PAGE, child_complexity)"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        as_of: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrderConnection> {
        crate::graphql::connection::person_order_connection(
            ctx, self.0.id, status, as_of, first, after,
        )
        .await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// `LAST, FIRST MIDDLE SUFFIX`.
pub fn full_name(p: &person::Model) -> String {
    if let Some(org) = &p.organization_name {
        return org.clone();
    }
    let mut s = p.last_name.clone().unwrap_or_default();
    let rest: Vec<&str> = [&p.first_name, &p.middle_name, &p.suffix]
        .into_iter()
        .filter_map(|x| x.as_deref())
        .collect();
    if !rest.is_empty() {
        s.push_str(", ");
        s.push_str(&rest.join(" "));
    }
    s
}

/// Another name a person is known by.
pub struct Alias(pub person_alias::Model);

#[Object]
impl Alias {
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    async fn middle_name(&self) -> Option<&str> {
        self.0.middle_name.as_deref()
    }
}
