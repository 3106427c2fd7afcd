//! GraphQL output types: explicit wrappers over entity rows, never the rows themselves. One
//! module per type; everything is re-exported here, where the rest of `graphql` finds it.

mod agency;
mod conditions;
mod court;
mod event;
mod firearms;
mod form_rule;
mod order;
mod party;
mod person;
mod rules_table;
mod service;

use async_graphql::{ID, Interface};

pub use agency::Agency;
pub use conditions::{OrderConditions, PcoCondition};
pub use court::Court;
pub use event::OrderEvent;
pub use firearms::FirearmRelinquishment;
pub use form_rule::FormRule;
pub use order::Order;
pub use party::Party;
pub use person::{Alias, Person, full_name};
pub use rules_table::{
    CourtHoliday, HearingWindowRule, OrganisationFamilyRule, PcoRule, RenewalRule, RulesTable,
};
pub use service::ServiceRecord;

/// Anything fetchable by global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per `node`/`_entities` lookup, moved once into the response; boxing the row buys nothing"
)]
pub enum Node {
    Court(Court),
    Agency(Agency),
    Person(Person),
    Order(Order),
    PersonLink(crate::graphql::identity::PersonLink),
}
