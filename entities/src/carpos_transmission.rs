//! One message the registry owes CARPOS (the outbox), with where it stands: queued, held for
//! missing data, sent, acknowledged (with the record's FCN), rejected or waiting to retry.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "carpos_transmission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The order whose state the message carries.
    pub order_id: i32,
    /// The chain (one CARPOS record) the message belongs to.
    pub chain_root_id: i32,
    /// Position among the chain's messages, from 1; sent strictly in this order.
    pub seq: i32,
    /// The lifecycle event that made it (`issue`, `modification`, …; the mapping table's).
    pub trigger: String,
    /// NCIC-style message key (`EPO`, `ETO`, `MPO`, `CPO`, `XPO`, `ENPO`).
    pub message_key: String,
    /// The protected person a supplemental record names.
    pub person_id: Option<i32>,
    pub idempotency_key: String,
    /// `queued`, `held_incomplete`, `sent`, `acknowledged`, `rejected` or `retrying`.
    pub state: String,
    pub attempts: i32,
    /// The record's File Control Number, once acknowledged.
    pub fcn: Option<String>,
    pub error: Option<String>,
    /// Comma-separated field codes an entry still lacks (`held_incomplete`).
    pub missing_fields: Option<String>,
    pub queued_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub next_attempt_at: DateTimeUtc,
    /// Fam. Code 6380(a): the end of the next court day after the event.
    pub due_by: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
