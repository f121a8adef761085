//! The pure domain core of missionctl.
//!
//! This crate models Spec Kitty's execution-state domain: lanes and their transition rules,
//! the event log (`status.events.jsonl`) and its byte-compatible serialization, the reducer
//! that folds a log into a `status.json` snapshot, the stored mission topology and the pure
//! resolver from a mission's identity and topology to its execution context.
//!
//! It never touches the file system, git, the clock or the environment: every input arrives
//! as a value, every output leaves as a value. The `store` crate is the imperative shell.
//! A test (`tests/purity.rs`) keeps it that way.
#![forbid(unsafe_code)]

pub mod lifecycle;
pub mod mission;
pub mod next;
pub mod planning;
pub mod status;
pub mod text;
pub mod view;

pub use status::lane::Lane;
