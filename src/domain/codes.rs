//! Closed code lists. Each value has a stable database spelling; the GraphQL enum is derived from
//! the same type so the lists cannot drift apart. NCIC lists: docs/law/ncic.md#descriptor-codes.

/// Declares an enum with its database strings and GraphQL derivation.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $db:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Spelling stored in the database.
            pub fn as_db(self) -> &'static str {
                match self { $($name::$variant => $db),+ }
            }

            /// Parses the database spelling; unknown values are a data-integrity error.
            pub fn from_db(s: &str) -> Result<Self, crate::error::AppError> {
                match s {
                    $($db => Ok($name::$variant),)+
                    other => Err(crate::error::AppError::Internal(std::sync::Arc::new(
                        anyhow::anyhow!(concat!("unknown ", stringify!($name), " in database: {}"), other),
                    ))),
                }
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// Sex/gender as the California forms record it (M, F, nonbinary); NCIC SEX has M/F/U.
    Sex { Male => "m", Female => "f", Nonbinary => "x", Unknown => "u" }
);

code_enum!(
    /// NCIC RAC codes.
    Race {
        AsianPacificIslander => "A",
        Black => "B",
        AmericanIndianAlaskanNative => "I",
        White => "W",
        Unknown => "U",
    }
);

code_enum!(
    /// NCIC HAI codes.
    HairColor {
        Black => "BLK", Blond => "BLN", Brown => "BRO", Gray => "GRY", Red => "RED",
        Sandy => "SDY", White => "WHI", Blue => "BLU", Green => "GRN", Orange => "ONG",
        Pink => "PNK", Purple => "PLE", UnknownOrBald => "XXX",
    }
);

code_enum!(
    /// NCIC EYE codes.
    EyeColor {
        Black => "BLK", Blue => "BLU", Brown => "BRO", Gray => "GRY", Green => "GRN",
        Hazel => "HAZ", Maroon => "MAR", Multicolored => "MUL", Pink => "PNK", Unknown => "XXX",
    }
);

code_enum!(
    /// Whether a party is a natural person or an organization (retail-crime and workplace orders
    /// protect businesses, docs/law/forms.md#protected-organizations).
    PartyType { Individual => "individual", Organization => "organization" }
);

code_enum!(
    /// A party's role on an order.
    PartyRole {
        Restrained => "restrained",
        Protected => "protected",
        AdditionalProtected => "additional_protected",
    }
);

code_enum!(
    /// How much contact the order allows (docs/law/conditions.md#contact-level).
    ContactLevel { None => "none", PeacefulContact => "peaceful_contact", NoContact => "no_contact" }
);

code_enum!(
    /// NCIC BRD: federally firearm-prohibited under 18 U.S.C. 922(g)(8).
    BradyIndicator { Yes => "y", No => "n", Unknown => "u" }
);

code_enum!(
    /// Who entered the order (docs/law/registry.md#entry-sources).
    EntrySource { Court => "court", Lea => "lea", Feed => "feed" }
);

code_enum!(
    /// How an order reached the registry: a GraphQL mutation, a court's feed, `ccpor import`, or
    /// the demo generator.
    Channel { Graphql => "graphql", Feed => "feed", Import => "import", Demo => "demo" }
);

code_enum!(
    /// How an order was served (Fam. Code 6383).
    ServiceMethod {
        Personal => "personal",
        InCourt => "in_court",
        Mail => "mail",
        VerbalNotice => "verbal_notice",
    }
);

code_enum!(
    /// How a court takes part in the registry.
    ParticipationMode {
        Full => "full",
        ImageOnly => "image_only",
        NotParticipating => "not_participating",
    }
);

code_enum!(
    /// Who keys a court's orders into the registry: its own clerks, or (in counties where the
    /// sheriff does it) the sheriff's agency the court names.
    Keyer { Court => "court", Sheriff => "sheriff" }
);

code_enum!(
    /// Superior or tribal court.
    CourtType { Superior => "superior", Tribal => "tribal" }
);

code_enum!(
    /// Kind of law-enforcement agency.
    AgencyType { Sheriff => "sheriff", Police => "police", State => "state", Other => "other" }
);

code_enum!(
    /// Lifecycle events (docs/law/lifecycle.md#events).
    EventKind {
        Issued => "issued",
        Served => "served",
        Modified => "modified",
        Renewed => "renewed",
        Terminated => "terminated",
        Cancelled => "cancelled",
        /// Passed its expiry; recorded by the expiry job (status is derived either way).
        Expired => "expired",
        /// CARPOS acknowledged a message about the order (Fam. Code 6380(a)); the reason
        /// names the message and the File Control Number.
        Transmitted => "transmitted",
        /// CARPOS refused a message about the order; the reason says why. A clerk fixes the
        /// data and asks for `retryTransmission`.
        // Stored as `carpos_rejected`: `order_event.kind` holds 16 characters.
        TransmissionRejected => "carpos_rejected",
    }
);

/// NCIC Protection Order Conditions, PCO 01–09 (NIEM `ncic:PCOCodeType`,
/// docs/law/ncic.md#pco-conditions). The codes and their meanings are rows of the rules table
/// (`domain::rules`, `[[pco]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PcoCode(u8);

impl PcoCode {
    /// A code the rules table knows today.
    pub fn parse(field: &str, s: &str) -> Result<Self, super::Invalid> {
        let t = s.trim();
        let today = super::court_days::california_date(chrono::Utc::now());
        let table = super::rules::active();
        match t.parse::<u8>() {
            Ok(n) if t.len() == 2 && table.pco_on(n, today).is_some() => Ok(Self(n)),
            _ => {
                let mut known: Vec<u8> = table
                    .pco
                    .iter()
                    .filter(|p| p.validity.covers(today))
                    .map(|p| p.code)
                    .collect();
                known.sort_unstable();
                // "01 to 09" when the codes run without a gap, else each one.
                let listed = match (known.first(), known.last()) {
                    (Some(a), Some(b)) if usize::from(b - a) + 1 == known.len() => {
                        format!("{a:02} to {b:02}")
                    }
                    _ => known
                        .iter()
                        .map(|c| format!("{c:02}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                Err(super::Invalid::new(
                    field,
                    format!("'{t}' is not an NCIC PCO code ({listed})"),
                ))
            }
        }
    }

    /// The code as a number, 1 to 99.
    pub fn number(self) -> u8 {
        self.0
    }

    pub fn as_str(self) -> String {
        format!("{:02}", self.0)
    }

    /// Every code the rules table knows, in order.
    pub fn all() -> Vec<PcoCode> {
        let mut all: Vec<PcoCode> = super::rules::active()
            .pco
            .iter()
            .map(|p| PcoCode(p.code))
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The NCIC meaning, shortened (the latest row of the rules table for the code).
    pub fn meaning(self) -> &'static str {
        super::rules::active()
            .pco
            .iter()
            .rev()
            .find(|p| p.code == self.0)
            .map_or("", |p| p.meaning.as_str())
    }

    /// Parses the stored comma-separated list.
    pub fn list_from_db(s: &str) -> Vec<PcoCode> {
        s.split(',')
            .filter_map(|c| c.trim().parse::<u8>().ok())
            .filter(|n| (1..=99).contains(n))
            .map(PcoCode)
            .collect()
    }

    pub fn list_to_db(codes: &[PcoCode]) -> String {
        codes
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_spellings_round_trip() {
        for s in Sex::ALL {
            assert_eq!(Sex::from_db(s.as_db()).unwrap(), *s);
        }
        for h in HairColor::ALL {
            assert_eq!(HairColor::from_db(h.as_db()).unwrap(), *h);
        }
        assert!(Race::from_db("Q").is_err());
    }

    #[test]
    fn pco_codes() {
        assert_eq!(PcoCode::parse("p", "05").unwrap().as_str(), "05");
        for bad in ["5", "00", "10", "ab", ""] {
            assert!(PcoCode::parse("p", bad).is_err(), "{bad}");
        }
        let err = PcoCode::parse("p", "10").unwrap_err();
        assert!(err.message.contains("(01 to 09)"), "{}", err.message);
        let list = vec![PcoCode(1), PcoCode(4)];
        assert_eq!(PcoCode::list_from_db(&PcoCode::list_to_db(&list)), list);
        assert!(PcoCode::list_from_db("").is_empty());
    }
}
