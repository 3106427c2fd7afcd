//! GraphQL output types: explicit wrappers over entity rows, never the rows themselves.
use async_graphql::{ComplexObject, Context, ID, Interface, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    agency, court, order, order_event, order_party, person, person_alias, service_record,
};

use crate::auth::Permission;
use crate::domain::codes::{
    AgencyType, BradyIndicator, ContactLevel, CourtType, EntrySource, EventKind, EyeColor,
    HairColor, ParticipationMode, PartyRole, PartyType, PcoCode, Race, ServiceMethod, Sex,
};
use crate::domain::dob::age_on;
use crate::domain::order_rules::{OrderFamily, OrderKind};
use crate::domain::status::OrderStatus;
use crate::graphql::access::{Need, clets_field, identified, permit, person_identity};
use crate::graphql::connection::{OrderConnection, order_connection};
use crate::graphql::images::OrderImage;
use crate::graphql::loaders::{
    AgencyId, AliasesOf, BlobOf, ChainOf, CourtId, EventsOf, ImagesOf, OrderId, PartiesOf,
    PersonId, ServiceOf,
};
use crate::graphql::{GqlResult, loader, requester, state};
use crate::ids::{self, Kind};
use crate::service::reads::{OrderFilter, lifecycle};

/// Anything fetchable by global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Court(Court),
    Agency(Agency),
    Person(Person),
    Order(Order),
    PersonLink(crate::graphql::identity::PersonLink),
}

/// An issuing court.
pub struct Court(pub court::Model);

#[Object]
impl Court {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Court, self.0.id))
    }
    /// `SC` + county number for superior courts, `TC` + number for tribal courts.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn court_type(&self) -> async_graphql::Result<CourtType> {
        CourtType::from_db(&self.0.court_type).gql()
    }
    async fn county(&self) -> &str {
        &self.0.county
    }
    /// Alphabetical county number (01 Alameda … 58 Yuba).
    async fn county_number(&self) -> i32 {
        self.0.county_number
    }
    async fn fips(&self) -> &str {
        &self.0.fips
    }
    async fn ori(&self) -> &str {
        &self.0.ori
    }
    async fn participation_mode(&self) -> async_graphql::Result<ParticipationMode> {
        ParticipationMode::from_db(&self.0.participation_mode).gql()
    }
    /// Orders issued by this court, newest first.
    #[graphql(
        guard = "Need(Permission::ReadDeidentified)",
        complexity = "crate::graphql::limits::page_cost(first, crate::service::reads::DEFAULT_PAGE, crate::service::reads::MAX_PAGE, child_complexity)"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        as_of: Option<DateTime<Utc>>,
        family: Option<OrderFamily>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrderConnection> {
        let filter = OrderFilter {
            court_id: Some(self.0.id),
            status,
            as_of,
            family,
            ..Default::default()
        };
        order_connection(ctx, filter, first, after).await
    }
}

/// A law-enforcement agency.
pub struct Agency(pub agency::Model);

#[Object]
impl Agency {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Agency, self.0.id))
    }
    async fn ori(&self) -> &str {
        &self.0.ori
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn agency_type(&self) -> async_graphql::Result<AgencyType> {
        AgencyType::from_db(&self.0.agency_type).gql()
    }
    async fn county(&self) -> Option<&str> {
        self.0.county.as_deref()
    }
}

/// A restrained or protected party: a person, or an organization.
pub struct Person(pub person::Model);

#[Object]
impl Person {
    async fn id(&self) -> ID {
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

/// A protective order.
pub struct Order(pub order::Model);

#[Object]
impl Order {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Order, self.0.id))
    }
    async fn court(&self, ctx: &Context<'_>) -> async_graphql::Result<Court> {
        loader(ctx)?
            .load_one(CourtId(self.0.court_id))
            .await
            .gql()?
            .map(Court)
            .ok_or_else(|| async_graphql::Error::new("court missing"))
    }
    /// As written on the order. Null with a `FORBIDDEN` error for de-identified roles.
    async fn case_number(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(Some(&self.0.case_number))
    }
    async fn family(&self) -> async_graphql::Result<OrderFamily> {
        OrderFamily::from_db(&self.0.family).gql()
    }
    async fn form_number(&self) -> &str {
        &self.0.form_number
    }
    async fn kind(&self) -> async_graphql::Result<OrderKind> {
        OrderKind::from_db(&self.0.kind).gql()
    }
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }
    async fn hearing_date(&self) -> Option<NaiveDate> {
        self.0.hearing_date
    }
    /// Null: no expiry (until further order).
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// A name: null with a `FORBIDDEN` error for de-identified roles.
    async fn judicial_officer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.judicial_officer.as_deref())
    }
    /// Derived at query time; `asOf` defaults to now.
    async fn status(&self, as_of: Option<DateTime<Utc>>) -> OrderStatus {
        lifecycle(&self.0).status_at(as_of.unwrap_or_else(Utc::now))
    }
    /// Whether proof of service was recorded by `asOf`. Unserved orders are still valid and can be
    /// served by verbal notice (Fam. Code 6383(e)).
    async fn served(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<bool> {
        let at = as_of.unwrap_or_else(Utc::now);
        let rows = loader(ctx)?.load_one(ServiceOf(self.0.id)).await.gql()?;
        Ok(rows.unwrap_or_default().iter().any(|s| s.served_at <= at))
    }
    async fn conditions(&self) -> async_graphql::Result<OrderConditions> {
        let o = &self.0;
        Ok(OrderConditions {
            pco_codes: PcoCode::list_from_db(&o.pco_codes)
                .into_iter()
                .map(|c| PcoCondition {
                    code: c.as_str(),
                    meaning: c.meaning().to_owned(),
                })
                .collect(),
            contact_level: ContactLevel::from_db(&o.contact_level).gql()?,
            stay_away_yards: o.stay_away_yards,
            move_out: o.move_out,
            firearm_relinquishment: o.firearm_relinquishment,
            firearm_due_at: o.firearm_due_at,
            brady_indicator: BradyIndicator::from_db(&o.brady_indicator).gql()?,
            special_conditions: o.special_conditions.clone(),
            notes: o.notes.clone(),
        })
    }
    async fn parties(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Party>> {
        let rows = loader(ctx)?.load_one(PartiesOf(self.0.id)).await.gql()?;
        Ok(rows.unwrap_or_default().into_iter().map(Party).collect())
    }
    async fn service_records(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ServiceRecord>> {
        let rows = loader(ctx)?.load_one(ServiceOf(self.0.id)).await.gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(ServiceRecord)
            .collect())
    }
    /// Lifecycle history, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderEvent>> {
        let rows = loader(ctx)?.load_one(EventsOf(self.0.id)).await.gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(OrderEvent)
            .collect())
    }
    /// Registered by image alone: the data fields (form, kind, dates, terms) were not keyed and
    /// hold placeholders; the image is the record. Cleared by `completeImageOnlyOrder`.
    async fn image_only(&self) -> bool {
        self.0.image_only
    }
    /// Scanned images (the order, proof of service, attachments, terminating order), oldest
    /// first, each with a short-lived signed link.
    async fn images(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderImage>> {
        let s = state(ctx)?;
        crate::images::read::check_listing(&s.db, &s.images, &requester(ctx), &self.0)
            .await
            .gql()?;
        let l = loader(ctx)?;
        let rows = l
            .load_one(ImagesOf(self.0.id))
            .await
            .gql()?
            .unwrap_or_default();
        let blobs = l
            .load_many(rows.iter().map(|r| BlobOf(r.blob_sha256.clone())))
            .await
            .gql()?;
        Ok(rows
            .into_iter()
            .filter_map(|image| {
                let blob = blobs.get(&BlobOf(image.blob_sha256.clone()))?.clone();
                Some(OrderImage { image, blob })
            })
            .collect())
    }
    async fn source(&self) -> async_graphql::Result<EntrySource> {
        EntrySource::from_db(&self.0.source).gql()
    }
    async fn entered_by_court(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Court>> {
        match self.0.entered_by_court_id {
            Some(id) => Ok(loader(ctx)?.load_one(CourtId(id)).await.gql()?.map(Court)),
            None => Ok(None),
        }
    }
    async fn entered_by_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.0.entered_by_agency_id {
            Some(id) => Ok(loader(ctx)?.load_one(AgencyId(id)).await.gql()?.map(Agency)),
            None => Ok(None),
        }
    }
    /// The order this one modified or renewed.
    async fn supersedes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        match self.0.supersedes_order_id {
            Some(id) => Ok(loader(ctx)?.load_one(OrderId(id)).await.gql()?.map(Order)),
            None => Ok(None),
        }
    }
    /// The order that replaced this one, if any.
    async fn superseded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        let chain = loader(ctx)?
            .load_one(ChainOf(self.0.chain_root_id))
            .await
            .gql()?;
        Ok(chain
            .unwrap_or_default()
            .into_iter()
            .find(|o| o.supersedes_order_id == Some(self.0.id))
            .map(Order))
    }
    /// Every order of this chain (TRO → OAH → amended → renewed), oldest first.
    async fn chain(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Order>> {
        let chain = loader(ctx)?
            .load_one(ChainOf(self.0.chain_root_id))
            .await
            .gql()?;
        Ok(chain.unwrap_or_default().into_iter().map(Order).collect())
    }
    async fn superseded_at(&self) -> Option<DateTime<Utc>> {
        self.0.superseded_at
    }
    async fn terminated_at(&self) -> Option<DateTime<Utc>> {
        self.0.terminated_at
    }
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One NCIC PCO condition.
#[derive(SimpleObject)]
pub struct PcoCondition {
    pub code: String,
    pub meaning: String,
}

/// The terms of an order.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderConditions {
    pub pco_codes: Vec<PcoCondition>,
    pub contact_level: ContactLevel,
    pub stay_away_yards: Option<i32>,
    pub move_out: bool,
    pub firearm_relinquishment: bool,
    pub firearm_due_at: Option<DateTime<Utc>>,
    pub brady_indicator: BradyIndicator,
    #[graphql(skip)]
    pub special_conditions: Option<String>,
    #[graphql(skip)]
    pub notes: Option<String>,
}

#[ComplexObject]
impl OrderConditions {
    /// Free text written by the court; may name people, so not for de-identified roles.
    async fn special_conditions(&self, ctx: &Context<'_>) -> Option<&str> {
        if !permit(ctx, identified(ctx)) {
            return None;
        }
        self.special_conditions.as_deref()
    }
    /// Free text: null with a `FORBIDDEN` error for de-identified roles.
    async fn notes(&self, ctx: &Context<'_>) -> Option<&str> {
        if !permit(ctx, identified(ctx)) {
            return None;
        }
        self.notes.as_deref()
    }
}

/// A person's part in an order.
pub struct Party(pub order_party::Model);

#[Object]
impl Party {
    async fn role(&self) -> async_graphql::Result<PartyRole> {
        PartyRole::from_db(&self.0.role).gql()
    }
    /// Free text as on the form: null with a `FORBIDDEN` error for de-identified roles.
    async fn relationship(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.relationship.as_deref())
    }
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        loader(ctx)?
            .load_one(PersonId(self.0.person_id))
            .await
            .gql()?
            .map(Person)
            .ok_or_else(|| async_graphql::Error::new("person missing"))
    }
}

/// Proof of service.
pub struct ServiceRecord(pub service_record::Model);

#[Object]
impl ServiceRecord {
    async fn served_at(&self) -> DateTime<Utc> {
        self.0.served_at
    }
    async fn method(&self) -> async_graphql::Result<ServiceMethod> {
        ServiceMethod::from_db(&self.0.method).gql()
    }
    /// A name: null with a `FORBIDDEN` error for de-identified roles.
    async fn server_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.server_name.as_deref())
    }
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.0.agency_id {
            Some(id) => Ok(loader(ctx)?.load_one(AgencyId(id)).await.gql()?.map(Agency)),
            None => Ok(None),
        }
    }
    /// Free text: null with a `FORBIDDEN` error for de-identified roles.
    async fn notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.notes.as_deref())
    }
}

/// One entry of an order's history.
pub struct OrderEvent(pub order_event::Model);

#[Object]
impl OrderEvent {
    async fn kind(&self) -> async_graphql::Result<EventKind> {
        EventKind::from_db(&self.0.kind).gql()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// The other order of a modification or renewal.
    async fn related_order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        match self.0.related_order_id {
            Some(id) => Ok(loader(ctx)?.load_one(OrderId(id)).await.gql()?.map(Order)),
            None => Ok(None),
        }
    }
    /// Free text: null with a `FORBIDDEN` error for de-identified roles.
    async fn reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.reason.as_deref())
    }
    async fn source(&self) -> async_graphql::Result<EntrySource> {
        EntrySource::from_db(&self.0.source).gql()
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A Judicial Council form the registry accepts, with its duration rule.
#[derive(SimpleObject)]
pub struct FormRule {
    pub form_number: String,
    pub family: OrderFamily,
    pub kind: OrderKind,
    /// Longest duration in days, when capped in days.
    pub max_days: Option<i64>,
    /// Longest duration in years, when capped in years.
    pub max_years: Option<i32>,
    pub expiry_required: bool,
    pub citation: String,
}
