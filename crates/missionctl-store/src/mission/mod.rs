//! Missions: creating them, finding them, their directory, `meta.json` and stored topology, and
//! the context every command acting on one resolves first.

pub mod action_context;
pub mod context;
pub mod create;
pub mod dir;
pub mod flatten;
pub mod index;
pub mod meta_store;
pub mod topology_backfill;
