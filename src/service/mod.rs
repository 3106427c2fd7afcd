//! Plain service functions under the resolvers, the CLI import and the demo generator.

pub mod batch_write;
pub mod case_lookup;
pub mod chunks;
pub mod clone;
pub mod commands;
pub mod conflicts;
pub mod descriptors;
pub mod events;
pub mod expiry;
pub mod firearms;
pub mod history;
pub mod identity;
pub mod identity_roots;
pub mod image_only;
pub mod joined;
pub mod lifecycle;
pub mod model;
pub mod orders;
pub mod reads;
pub mod refs;
pub mod scope;
pub mod statements;
pub mod statistics;
pub mod successor;
pub mod validate;
pub mod work_lists;
