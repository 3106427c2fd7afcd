//! Roles and what each may do (least privilege, CJIS AC-6; separation of duties, AC-5).

/// Who the token says the holder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum Role {
    /// Court clerk: enters and updates orders of their own court; reads statewide.
    Clerk,
    /// Judge or commissioner: reads statewide, histories and conflicts.
    BenchOfficer,
    /// Law-enforcement agency: reads statewide, records service, enters EPOs.
    Lea,
    /// Aggregates and de-identified data only.
    Analyst,
    /// Courts, agencies, keys and audit; no order or person data (CJIS AC-5).
    Admin,
    /// A court's case-management system: sends its court's orders to `POST /feeds/v1/messages`
    /// and nothing else; no GraphQL at all.
    Feed,
}

/// Everything the API guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Courts, agencies, form rules.
    ReadReference,
    /// Orders and persons with names, DOBs and case numbers.
    ReadIdentified,
    /// Order lists with identifying fields masked.
    ReadDeidentified,
    /// Create and change orders (row rule: own court).
    WriteOrders,
    /// Enter emergency protective orders (row rule: own agency).
    EnterEpo,
    /// Record proof of service.
    RecordService,
    /// CLETS-001 contact data and minors' identities (CRC 1.51, Fam. Code 6301.5).
    ReadConfidential,
    /// Court and agency administration.
    Administer,
    /// Read the audit log.
    ReadAudit,
    /// Confirm or reject a proposed link between person records of different courts.
    LinkPersons,
    /// Send feed messages for one court (`POST /feeds/v1/messages`).
    SendFeed,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Clerk,
        Role::BenchOfficer,
        Role::Lea,
        Role::Analyst,
        Role::Admin,
        Role::Feed,
    ];

    /// The name used in tokens and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::BenchOfficer => "bench_officer",
            Role::Lea => "lea",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
            Role::Feed => "feed",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role's grants; everything else is denied.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Clerk => matches!(
                p,
                ReadReference
                    | ReadIdentified
                    | ReadDeidentified
                    | WriteOrders
                    | RecordService
                    | ReadConfidential
                    | LinkPersons
            ),
            Role::BenchOfficer => matches!(
                p,
                ReadReference | ReadIdentified | ReadDeidentified | ReadConfidential
            ),
            Role::Lea => matches!(
                p,
                ReadReference
                    | ReadIdentified
                    | ReadDeidentified
                    | EnterEpo
                    | RecordService
                    | ReadConfidential
            ),
            Role::Analyst => matches!(p, ReadReference | ReadDeidentified),
            Role::Admin => matches!(p, ReadReference | Administer | ReadAudit),
            Role::Feed => matches!(p, SendFeed),
        }
    }

    /// Court roles carry a court code; LEA roles an agency ORI.
    pub fn needs_court(self) -> bool {
        matches!(self, Role::Clerk | Role::BenchOfficer | Role::Feed)
    }

    pub fn needs_agency(self) -> bool {
        matches!(self, Role::Lea)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn admin_and_analyst_never_read_identified_data() {
        for r in [Role::Admin, Role::Analyst] {
            assert!(!r.allows(Permission::ReadIdentified));
            assert!(!r.allows(Permission::ReadConfidential));
        }
        assert!(!Role::BenchOfficer.allows(Permission::WriteOrders));
        assert!(!Role::Lea.allows(Permission::WriteOrders));
        assert!(Role::Lea.allows(Permission::EnterEpo));
    }
}
