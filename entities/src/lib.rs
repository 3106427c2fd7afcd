//! SeaORM entities of the registry. Plain data only: no GraphQL derives and no domain rules;
//! enumerations are stored as stable lower-case strings that the server parses into domain types.

pub mod agency;
pub mod audit_event;
pub mod audit_head;
pub mod carpos_transmission;
pub mod court;
pub mod feed_chain;
pub mod feed_deferred;
pub mod feed_message;
pub mod feed_rejection;
pub mod id_counter;
pub mod image_blob;
pub mod import_key;
pub mod order;
pub mod order_conflict;
pub mod order_event;
pub mod order_image;
pub mod order_party;
pub mod person;
pub mod person_alias;
pub mod person_identity;
pub mod person_link;
pub mod person_link_event;
pub mod revoked_token;
pub mod search_outbox;
pub mod service_record;
