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

pub mod acceptance;
pub mod acceptance_matrix;
pub mod block_yaml;
pub mod concurrent;
pub mod context;
pub mod difflib;
pub mod event;
pub mod event_log;
pub mod finish_gate;
pub mod lane;
pub mod lanes_manifest;
pub mod log_merge;
pub mod merge;
pub mod meta;
pub mod mission_template;
pub mod next;
pub mod planning_artifact;
pub mod pyjson;
pub mod pytext;
pub mod reducer;
pub mod repo_glob;
pub mod requirement;
pub mod retrospective;
pub mod review_cycle;
pub mod run;
pub mod sha256;
pub mod snapshot;
pub mod status_board;
pub mod sync_merge;
pub mod task_plan;
pub mod timestamp;
pub mod topology;
pub mod transition;
pub mod validate;
pub mod work_package;
pub mod work_package_view;
pub mod workspace_context;

pub use lane::Lane;
