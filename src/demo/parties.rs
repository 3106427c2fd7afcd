//! Who a chain names: restrained and protected persons, organizations, children, and the
//! repeat and counter-order parties drawn from earlier batches.

use chrono::Months;
use rand::Rng;

use super::names::DrawnName;
use super::{Generator, PlannedParty, Who, pick};
use crate::domain::codes::{EyeColor, HairColor, PartyRole, PartyType, Sex};
use crate::domain::names::name_key;
use crate::domain::order_rules::OrderFamily;
use crate::service::model::{NewAlias, NewPerson};

impl Generator {
    fn drawn_person(&mut self, sex: Sex, age: (i32, i32), descriptors: bool) -> NewPerson {
        let d: DrawnName = self.names.draw(&mut self.rng, sex);
        let today = self.now.date_naive();
        let years = self.rng.random_range(age.0..=age.1);
        let dob = today
            .checked_sub_months(Months::new(u32::try_from(years).unwrap_or(30) * 12))
            .and_then(|x| x.checked_sub_days(chrono::Days::new(self.rng.random_range(1..365))));
        let known_dob = self.rng.random_bool(0.92);
        let male = d.sex == Sex::Male;
        let (height, weight, hair, eye) = if descriptors {
            let hair = *pick(
                &mut self.rng,
                &[
                    HairColor::Black,
                    HairColor::Black,
                    HairColor::Brown,
                    HairColor::Brown,
                    HairColor::Blond,
                    HairColor::Gray,
                    HairColor::Red,
                    HairColor::UnknownOrBald,
                ],
            );
            let eye = *pick(
                &mut self.rng,
                &[
                    EyeColor::Brown,
                    EyeColor::Brown,
                    EyeColor::Brown,
                    EyeColor::Black,
                    EyeColor::Blue,
                    EyeColor::Hazel,
                    EyeColor::Green,
                ],
            );
            let (h, w) = if male {
                (
                    self.rng.random_range(62..=76),
                    self.rng.random_range(130..=260),
                )
            } else {
                (
                    self.rng.random_range(58..=70),
                    self.rng.random_range(100..=220),
                )
            };
            (Some(h), Some(w), Some(hair), Some(eye))
        } else {
            (None, None, None, None)
        };
        let dl = (descriptors && self.rng.random_bool(0.5)).then(|| {
            let letter = char::from(b'A' + self.rng.random_range(0..26u8));
            format!("{letter}{:07}", self.rng.random_range(0..10_000_000u32))
        });
        let aliases = d
            .alias
            .iter()
            .map(|(last, first)| NewAlias {
                last_name: last.clone(),
                first_name: first.clone(),
                middle_name: None,
            })
            .collect();
        NewPerson {
            party_type: PartyType::Individual,
            name_key: name_key(&[&d.last, &d.first]),
            last_name: Some(d.last),
            first_name: Some(d.first),
            middle_name: d.middle,
            suffix: (male && self.rng.random_bool(0.03)).then(|| "JR".to_owned()),
            organization_name: None,
            dob: if known_dob { dob } else { None },
            estimated_age: (!known_dob).then_some(years),
            sex: Some(d.sex),
            race: Some(d.race),
            height_inches: height,
            weight_pounds: weight,
            hair,
            eye,
            dl_state: dl.as_ref().map(|_| "CA".to_owned()),
            dl_number: dl,
            address: None,
            phone: None,
            confidential: false,
            aliases,
        }
    }

    fn organization(&mut self, kinds: &[&str]) -> NewPerson {
        let d = self.names.draw(&mut self.rng, Sex::Unknown);
        let org = format!(
            "{} {} {}",
            d.last,
            pick(&mut self.rng, kinds),
            pick(&mut self.rng, &["Inc.", "LLC", "Co."])
        );
        NewPerson {
            party_type: PartyType::Organization,
            name_key: name_key(&[&org]),
            last_name: None,
            first_name: None,
            middle_name: None,
            suffix: None,
            organization_name: Some(org),
            dob: None,
            estimated_age: None,
            sex: None,
            race: None,
            height_inches: None,
            weight_pounds: None,
            hair: None,
            eye: None,
            dl_number: None,
            dl_state: None,
            address: None,
            phone: None,
            confidential: false,
            aliases: Vec::new(),
        }
    }

    /// The parties of a chain of `family` filed in `court`, and for a counter-order the court
    /// of the earlier chain (where it is filed instead).
    pub(super) fn parties(
        &mut self,
        family: OrderFamily,
        court: usize,
    ) -> (Vec<PlannedParty>, Option<usize>) {
        let relationships = relationships(family);
        let relationship =
            (!relationships.is_empty()).then(|| (*pick(&mut self.rng, relationships)).to_owned());
        if let Some(counter) = self.counter_order(family, &relationship) {
            return counter;
        }
        let (restrained_sex, protected_sex) = self.sexes(family);
        let restrained_age = if family == OrderFamily::Jv {
            (12, 17)
        } else {
            (18, 68)
        };
        let restrained = if !self.restrained_pool.is_empty() && self.rng.random_bool(0.12) {
            Who::Old(*pick(&mut self.rng, &self.restrained_pool))
        } else {
            Who::New(Box::new(self.drawn_person(
                restrained_sex,
                restrained_age,
                true,
            )))
        };
        let protected = match family {
            OrderFamily::Rt => {
                Who::New(Box::new(self.organization(&[
                    "Market", "Hardware", "Pharmacy", "Foods", "Outlet",
                ])))
            }
            OrderFamily::Ea => {
                Who::New(Box::new(self.drawn_person(protected_sex, (65, 95), false)))
            }
            OrderFamily::Jv => Who::New(Box::new(self.drawn_person(protected_sex, (8, 17), false))),
            _ => Who::New(Box::new(self.drawn_person(protected_sex, (18, 70), false))),
        };
        let mut parties = vec![
            PlannedParty {
                role: PartyRole::Restrained,
                relationship,
                who: restrained,
            },
            PlannedParty {
                role: PartyRole::Protected,
                relationship: None,
                who: protected,
            },
        ];
        self.additional_protected(family, &mut parties);
        let _ = court;
        (parties, None)
    }

    /// Now and then a counter-order: the protected person of an earlier chain now restrained,
    /// in that chain's court.
    fn counter_order(
        &mut self,
        family: OrderFamily,
        relationship: &Option<String>,
    ) -> Option<(Vec<PlannedParty>, Option<usize>)> {
        if !(matches!(family, OrderFamily::Dv | OrderFamily::Ch)
            && !self.pairs.is_empty()
            && self.rng.random_bool(0.03))
        {
            return None;
        }
        let (r, p, c) = *pick(&mut self.rng, &self.pairs);
        Some((
            vec![
                PlannedParty {
                    role: PartyRole::Restrained,
                    relationship: relationship.clone(),
                    who: Who::Old(p),
                },
                PlannedParty {
                    role: PartyRole::Protected,
                    relationship: None,
                    who: Who::Old(r),
                },
            ],
            Some(c),
        ))
    }

    /// Sexes of the restrained and the protected person.
    fn sexes(&mut self, family: OrderFamily) -> (Sex, Sex) {
        if matches!(family, OrderFamily::Dv | OrderFamily::Epo | OrderFamily::Cr) {
            let x = self.rng.random::<f64>();
            if x < 0.72 {
                (Sex::Male, Sex::Female)
            } else if x < 0.81 {
                (Sex::Female, Sex::Male)
            } else if x < 0.91 {
                (Sex::Male, Sex::Male)
            } else {
                (Sex::Female, Sex::Female)
            }
        } else if self.rng.random_bool(0.65) {
            (Sex::Male, Sex::Unknown)
        } else {
            (Sex::Female, Sex::Unknown)
        }
    }

    /// Children protected by a DV or EPO order, an employer protected by a workplace one.
    fn additional_protected(&mut self, family: OrderFamily, parties: &mut Vec<PlannedParty>) {
        if matches!(family, OrderFamily::Dv | OrderFamily::Epo) && self.rng.random_bool(0.3) {
            for _ in 0..self.rng.random_range(1..=3) {
                parties.push(PlannedParty {
                    role: PartyRole::AdditionalProtected,
                    relationship: Some("child".to_owned()),
                    who: Who::New(Box::new(self.drawn_person(Sex::Unknown, (1, 16), false))),
                });
            }
        }
        if family == OrderFamily::Wv && self.rng.random_bool(0.3) {
            parties.push(PlannedParty {
                role: PartyRole::AdditionalProtected,
                relationship: Some("employer".to_owned()),
                who: Who::New(Box::new(self.organization(&[
                    "Logistics",
                    "Services",
                    "Builders",
                ]))),
            });
        }
    }
}

/// Relationships of the restrained to the protected person that a chain of `family` may state.
fn relationships(family: OrderFamily) -> &'static [&'static str] {
    match family {
        OrderFamily::Dv | OrderFamily::Epo | OrderFamily::OutOfState => &[
            "spouse",
            "former spouse",
            "dating",
            "former dating",
            "cohabitant",
            "parent of child together",
        ],
        OrderFamily::Ch => &[
            "neighbor",
            "acquaintance",
            "co-worker",
            "former friend",
            "stranger",
            "landlord",
        ],
        OrderFamily::Ea => &["adult child", "caregiver", "relative", "neighbor"],
        OrderFamily::Wv => &["former employee", "customer", "stranger"],
        OrderFamily::Sv => &["student", "former student", "stranger"],
        OrderFamily::Jv => &["sibling", "parent", "classmate"],
        OrderFamily::Cr => &["spouse", "dating", "family member", "acquaintance"],
        OrderFamily::Gv | OrderFamily::Rt => &[],
    }
}
