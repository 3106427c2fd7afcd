//! A protective order as issued. History lives in `order_event`; the `*_at` lifecycle columns are
//! projections of those events written in the same transaction, set once and never overwritten.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "protective_order")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub court_id: i32,
    /// As written on the order.
    pub case_number: String,
    /// Upper-case letters and digits only, for matching `22FL-01234` with `22FL01234`.
    pub case_number_key: String,
    /// `dv`, `ch`, `ea`, `wv`, `sv`, `gv`, `jv`, `cr`, `epo`, `rt`, `out_of_state`.
    pub family: String,
    pub form_number: String,
    /// `emergency`, `temporary`, `after_hearing`, `criminal`, `juvenile`.
    pub kind: String,
    pub issued_at: DateTimeUtc,
    pub hearing_date: Option<Date>,
    /// `None`: no expiry / until further order.
    pub expires_at: Option<DateTimeUtc>,
    pub judicial_officer: Option<String>,
    /// NCIC PCO codes, comma separated (`01,04,05`).
    pub pco_codes: String,
    /// `none`, `peaceful_contact` or `no_contact`.
    pub contact_level: String,
    pub stay_away_yards: Option<i32>,
    pub move_out: bool,
    pub firearm_relinquishment: bool,
    pub firearm_due_at: Option<DateTimeUtc>,
    /// `y`, `n` or `u`.
    pub brady_indicator: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub special_conditions: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// `court`, `lea` or `feed`.
    pub source: String,
    pub entered_by_court_id: Option<i32>,
    pub entered_by_agency_id: Option<i32>,
    /// The order this one modifies or renews.
    pub supersedes_order_id: Option<i32>,
    /// First order of the chain (itself for an original order).
    pub chain_root_id: i32,
    pub superseded_at: Option<DateTimeUtc>,
    pub terminated_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// Registered by image with a minimal index record; the data fields were not keyed yet.
    pub image_only: bool,
    /// Criminal orders: `pre_judgment` (PC 136.2(a)) or `post_conviction` (PC 136.2(i)(1)).
    pub criminal_stage: Option<String>,
    /// Child custody and visitation orders made in a DV order; they outlive the restraining order.
    #[sea_orm(column_type = "Text", nullable)]
    pub custody_terms: Option<String>,
    /// Out-of-state orders (18 U.S.C. 2265): `state`, `tribe` or `territory`.
    pub foreign_kind: Option<String>,
    /// The issuing state or territory (USPS code) or the tribe's name.
    pub foreign_jurisdiction: Option<String>,
    /// The issuing court, as written.
    pub foreign_court: Option<String>,
    /// The case number in the issuing court, as written.
    pub foreign_case_number: Option<String>,
    /// The firearm relinquishment receipt's form (`DV-800`, `GV-800`, ...), when filed.
    pub firearm_receipt_form: Option<String>,
    pub firearm_receipt_filed_at: Option<DateTimeUtc>,
    /// The agency that took the firearms, as the receipt names it.
    pub firearm_receipt_agency_id: Option<i32>,
    /// The court's finding on relinquishment: `complied`, `no_firearms` or `not_complied`.
    pub firearm_finding: Option<String>,
    pub firearm_finding_at: Option<DateTimeUtc>,
    /// How the order came in: `graphql` (`None` for orders stored before this was recorded),
    /// `feed`, `import` or `demo`.
    pub entry_channel: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
