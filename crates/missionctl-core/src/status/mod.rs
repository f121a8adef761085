//! The status domain: events, lanes and their transitions, the event log, the reducer and
//! the `status.json` snapshot it derives, validation, and how concurrent logs merge.

pub mod concurrent;
pub mod event;
pub mod event_log;
pub mod lane;
pub mod log_merge;
pub mod reducer;
pub mod snapshot;
pub mod sync_merge;
pub mod transition;
pub mod validate;
