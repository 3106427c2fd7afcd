//! A restrained or protected party: a natural person or (protected only) an organization.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// `individual` or `organization`.
    pub party_type: String,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub suffix: Option<String>,
    pub organization_name: Option<String>,
    /// Upper-case, accent-free `LAST FIRST` used for exact lookups.
    pub name_key: String,
    pub dob: Option<Date>,
    pub estimated_age: Option<i32>,
    /// `m`, `f`, `x` (nonbinary) or `u`.
    pub sex: Option<String>,
    /// NCIC RAC code.
    pub race: Option<String>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    /// NCIC HAI code.
    pub hair: Option<String>,
    /// NCIC EYE code.
    pub eye: Option<String>,
    pub dl_number: Option<String>,
    pub dl_state: Option<String>,
    /// Home or mailing address as given on CLETS-001 (confidential, CRC 1.51).
    pub address: Option<String>,
    /// Telephone (confidential, CRC 1.51).
    pub phone: Option<String>,
    /// Identity kept confidential (a minor, Fam. Code 6301.5 / CCP 527.6(v)).
    pub confidential: bool,
    /// When the CLETS-001 data (address, telephone, driver's licence) was purged after CARPOS
    /// acknowledged the entry that carried it (CRC 1.51(e)); null while it is held.
    pub clets_purged_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
