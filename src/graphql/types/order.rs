//! The `Order` type: a protective order and what hangs off it.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entities::order;

use super::{Agency, Court, OrderConditions, OrderEvent, Party, PcoCondition, ServiceRecord};
use crate::domain::codes::{BradyIndicator, Channel, ContactLevel, EntrySource, PcoCode};
use crate::domain::ids::{self, Kind};
use crate::domain::law_records::{CriminalStage, ForeignKind};
use crate::domain::order_rules::{OrderFamily, OrderKind};
use crate::domain::status::OrderStatus;
use crate::graphql::access::{identified, permit};
use crate::graphql::images::OrderImage;
use crate::graphql::loaders::{
    AgencyId, BlobOf, ChainOf, CourtId, EventsOf, ImagesOf, OrderId, PartiesOf, ServiceOf,
};
use crate::graphql::{GqlResult, loader, requester, state};
use crate::service::reads::lifecycle;

/// A protective order.
pub struct Order(pub order::Model);

/// The issuer of an order registered from another state, tribe or territory.
#[derive(async_graphql::SimpleObject)]
pub struct ForeignIssuer {
    pub kind: ForeignKind,
    /// Postal code of the state or territory, or the tribe's name.
    pub jurisdiction: String,
    /// The issuing court, as written.
    pub court: String,
    /// As written. Null with a `FORBIDDEN` error for de-identified roles.
    pub case_number: Option<String>,
}

#[Object]
impl Order {
    pub async fn id(&self) -> ID {
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
    /// The court case-management system's own id of this order's chain, when the order came
    /// by its feed (or an import of its messages). Null with a `FORBIDDEN` error for
    /// de-identified roles, as the case number.
    async fn external_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        crate::feed::status::external_id(&state(ctx)?.db, self.0.id)
            .await
            .gql()
    }
    /// The channel the order came in by: `GRAPHQL`, `FEED` (a court's case-management system),
    /// `IMPORT` or `DEMO`; null for orders stored before this was recorded. (`source` says who
    /// entered it: court, LEA or feed.)
    async fn entry_channel(&self) -> async_graphql::Result<Option<Channel>> {
        self.0
            .entry_channel
            .as_deref()
            .map(Channel::from_db)
            .transpose()
            .gql()
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
    /// Criminal orders: made before judgment (PC 136.2(a), until the case ends) or on conviction
    /// (PC 136.2(i)(1), up to 10 years); null for other families and for orders entered before
    /// the stage was recorded.
    async fn criminal_stage(&self) -> async_graphql::Result<Option<CriminalStage>> {
        self.0
            .criminal_stage
            .as_deref()
            .map(CriminalStage::from_db)
            .transpose()
            .gql()
    }
    /// Child custody and visitation orders made in a domestic violence order. They stay in
    /// effect after the restraining order expires or ends (DV-130), so they are shown whatever
    /// `status` says. Null with a `FORBIDDEN` error for de-identified roles.
    async fn custody_terms(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.custody_terms.as_deref())
    }
    /// Who issued an order registered from another state, tribe or territory (18 U.S.C. 2265;
    /// Fam. Code 6400 ff.); `court` is then the California court that registered it.
    async fn foreign_issuer(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ForeignIssuer>> {
        let Some(f) = crate::service::successor::law_record_of(&self.0)
            .gql()?
            .foreign_issuer
        else {
            return Ok(None);
        };
        // The foreign case number identifies the case like our own.
        let case_number = permit(ctx, identified(ctx)).then_some(f.case_number);
        Ok(Some(ForeignIssuer {
            kind: f.kind,
            jurisdiction: f.jurisdiction,
            court: f.court,
            case_number,
        }))
    }
    /// Firearm relinquishment, on an order whose terms order it (`conditions.firearmRelinquishment`)
    /// under a law the registry tracks (docs/law/firearms.md); null otherwise.
    async fn firearms(&self) -> async_graphql::Result<Option<super::FirearmRelinquishment>> {
        if !self.0.firearm_relinquishment {
            return Ok(None);
        }
        let family = OrderFamily::from_db(&self.0.family).gql()?;
        Ok(
            crate::domain::firearms::relinquishment(family).map(|(law, form)| {
                super::FirearmRelinquishment {
                    order: self.0.clone(),
                    law,
                    receipt_form: form,
                }
            }),
        )
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
    /// The messages owed to CARPOS for this order (Fam. Code 6380(a)), by sequence. Null with a
    /// `FORBIDDEN` error for de-identified roles (a rejection may quote the data).
    async fn transmissions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::graphql::transmission::Transmission>>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        crate::graphql::transmission::of_order(ctx, self.0.id)
            .await
            .map(Some)
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
