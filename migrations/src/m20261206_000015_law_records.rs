//! What the law asks the registry to record beyond an order's terms (docs/law/durations.md,
//! docs/law/registry.md#out-of-state-and-tribal-orders):
//! - `criminal_stage`: a criminal protective order made before judgment (PC 136.2(a), until the
//!   case ends or the court terminates it) or after conviction (PC 136.2(i)(1), an end date of
//!   up to 10 years);
//! - `custody_terms`: child custody and visitation orders made in a DV order after hearing, which
//!   outlive the restraining order (DV-130 form text);
//! - `foreign_*`: for an order of another state, tribe or territory registered here (18 U.S.C.
//!   2265; Fam. Code 6400 ff.), who issued it, in which court and under which case number;
//! - `firearm_*`: the firearm relinquishment receipt filed with the court (form, time, the agency
//!   that took the firearms) and the court's finding on compliance (Fam. Code 6389(c), CCP
//!   527.9(b), PC 18120(b)).
//!
//! All nullable, added one column per statement (SQLite alters one column at a time).
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000015_law_records"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ProtectiveOrder {
    Table,
    CriminalStage,
    CustodyTerms,
    ForeignKind,
    ForeignJurisdiction,
    ForeignCourt,
    ForeignCaseNumber,
    FirearmReceiptForm,
    FirearmReceiptFiledAt,
    FirearmReceiptAgencyId,
    FirearmFinding,
    FirearmFindingAt,
}

const COLUMNS: [ProtectiveOrder; 11] = [
    ProtectiveOrder::CriminalStage,
    ProtectiveOrder::CustodyTerms,
    ProtectiveOrder::ForeignKind,
    ProtectiveOrder::ForeignJurisdiction,
    ProtectiveOrder::ForeignCourt,
    ProtectiveOrder::ForeignCaseNumber,
    ProtectiveOrder::FirearmReceiptForm,
    ProtectiveOrder::FirearmReceiptFiledAt,
    ProtectiveOrder::FirearmReceiptAgencyId,
    ProtectiveOrder::FirearmFinding,
    ProtectiveOrder::FirearmFindingAt,
];

fn column(c: ProtectiveOrder) -> ColumnDef {
    let mut def = ColumnDef::new(c);
    match c {
        ProtectiveOrder::CustodyTerms => def.text(),
        ProtectiveOrder::CriminalStage
        | ProtectiveOrder::ForeignKind
        | ProtectiveOrder::FirearmReceiptForm
        | ProtectiveOrder::FirearmFinding => def.string_len(20),
        ProtectiveOrder::FirearmReceiptFiledAt | ProtectiveOrder::FirearmFindingAt => {
            def.timestamp_with_time_zone()
        }
        ProtectiveOrder::FirearmReceiptAgencyId => def.integer(),
        _ => def.string_len(120),
    };
    def.null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for c in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(ProtectiveOrder::Table)
                        .add_column(column(c))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for c in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(ProtectiveOrder::Table)
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
