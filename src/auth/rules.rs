//! Rule names and the row rules every entry point shares (GraphQL resolvers, the image
//! routes): a denial names its rule in the error's `rule` extension.
use crate::auth::{Caller, Permission};
use crate::error::{AppError, AppResult};

/// Rule names clients see in `extensions.rule`.
pub mod rule {
    pub const ROLE: &str = "role_permission";
    /// CJIS AC-6 least privilege: analysts get de-identified data only.
    pub const DEIDENTIFIED: &str = "deidentified_only";
    /// CRC 1.51: CLETS-001 data only for court and DOJ-authorized law-enforcement personnel.
    pub const CLETS: &str = "clets_confidential";
    /// Fam. Code 6301.5 / CCP 527.6(v): a minor's identity kept confidential.
    pub const MINOR: &str = "minor_confidential";
    pub const OWN_COURT: &str = "own_court";
    pub const OWN_AGENCY: &str = "own_agency";
    pub const EPO_ONLY: &str = "lea_enters_epo_only";
    pub const COUNTY_SCOPE: &str = "token_county_scope";
}

/// The denial of anything outside a narrowed token's counties.
pub fn county_denied() -> AppError {
    AppError::forbidden(
        rule::COUNTY_SCOPE,
        "this token is narrowed to other counties",
    )
}

impl Caller {
    /// `FORBIDDEN` unless the token's county scope covers `county`.
    pub fn require_county(&self, county: &str) -> AppResult<()> {
        if self.sees_county(county) {
            Ok(())
        } else {
            Err(county_denied())
        }
    }

    /// A writer of court `court_code`'s orders: its clerk, or an LEA token of the agency the
    /// court lets key its orders (`keying_ori`, a sheriff in counties where the sheriff keys).
    pub fn require_keyer_of(
        &self,
        court_code: &str,
        keying_ori: Option<&str>,
        what: &str,
    ) -> AppResult<()> {
        if self.is_keyer(keying_ori) {
            return Ok(());
        }
        self.require_clerk_of(court_code, what)
    }

    /// An LEA token of the agency `keying_ori` that keys a court's orders.
    pub fn is_keyer(&self, keying_ori: Option<&str>) -> bool {
        self.role == crate::auth::Role::Lea
            && keying_ori.is_some()
            && self.agency.as_deref() == keying_ori
    }

    /// A writer of court `court_code`'s orders: a role that enters orders, of that court.
    /// `what` names the act in the denial ("change", "add images to").
    pub fn require_clerk_of(&self, court_code: &str, what: &str) -> AppResult<()> {
        if !self.can(Permission::WriteOrders) {
            return Err(AppError::forbidden(
                rule::ROLE,
                format!("role {} may not {what} orders", self.role),
            ));
        }
        if self.court.as_deref() != Some(court_code) {
            return Err(AppError::forbidden(
                rule::OWN_COURT,
                format!(
                    "a clerk of {} may {what} only that court's orders (this order is {court_code}'s)",
                    self.court.as_deref().unwrap_or("no court"),
                ),
            ));
        }
        Ok(())
    }
}
