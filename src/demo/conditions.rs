//! The terms a demo order imposes: PCO codes, contact, stay-away, firearms, Brady indicator.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use super::{Generator, pick};
use crate::domain::codes::{BradyIndicator, ContactLevel, PcoCode};
use crate::domain::order_rules::OrderFamily;
use crate::service::model::Conditions;

/// Special conditions (PCO 08) the demo writes, as a court might.
const SPECIAL_CONDITIONS: &[&str] = &[
    "Brief and peaceful contact only for court-ordered exchanges of the children, at the sheriff's station lobby.",
    "No posting about the protected person on social media.",
    "Restrained person may retrieve clothing once, accompanied by a peace officer.",
    "Stay away from the protected person's vehicle.",
    "No contact through third parties except attorneys.",
    "Enroll in a 52-week batterer intervention program.",
];

impl Generator {
    pub(super) fn conditions(
        &mut self,
        family: OrderFamily,
        issued: DateTime<Utc>,
        after_hearing: bool,
        intimate: bool,
    ) -> Conditions {
        let mut pco = vec![1u8];
        let mut contact = ContactLevel::None;
        let mut yards = None;
        let mut move_out = false;
        let mut firearms = !matches!(family, OrderFamily::Rt | OrderFamily::OutOfState);
        match family {
            OrderFamily::Gv => {
                pco = vec![7];
                firearms = true;
            }
            OrderFamily::Rt => {
                pco = vec![4];
                yards = Some(100);
            }
            _ => {
                if self.rng.random_bool(0.7) {
                    contact = ContactLevel::NoContact;
                    pco.push(5);
                } else {
                    contact = ContactLevel::PeacefulContact;
                }
                if self.rng.random_bool(0.8) {
                    yards = Some(*pick(&mut self.rng, &[50, 100, 100, 100, 200, 300]));
                    pco.push(4);
                }
                if family == OrderFamily::Dv && self.rng.random_bool(0.15) {
                    move_out = true;
                    pco.push(3);
                }
                if family == OrderFamily::Dv && self.rng.random_bool(0.2) {
                    pco.push(if self.rng.random_bool(0.5) { 6 } else { 9 });
                }
            }
        }
        if firearms {
            pco.push(7);
        }
        let special = self
            .rng
            .random_bool(0.2)
            .then(|| (*pick(&mut self.rng, SPECIAL_CONDITIONS)).to_owned());
        if special.is_some() {
            pco.push(8);
        }
        pco.sort_unstable();
        pco.dedup();
        let brady = if family == OrderFamily::Dv && after_hearing && intimate {
            BradyIndicator::Yes
        } else if after_hearing {
            BradyIndicator::Unknown
        } else {
            BradyIndicator::No
        };
        Conditions {
            pco_codes: pco
                .into_iter()
                .filter_map(|c| PcoCode::parse("pco", &format!("{c:02}")).ok())
                .collect(),
            contact_level: contact,
            stay_away_yards: yards,
            move_out,
            firearm_relinquishment: firearms,
            firearm_due_at: firearms.then(|| issued + Duration::days(2)),
            brady_indicator: brady,
            special_conditions: special,
            notes: None,
        }
    }
}
