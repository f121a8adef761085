//! The imperative shell of missionctl: reads and writes Spec Kitty's files, takes locks and
//! talks to git, around the pure `missionctl-core` crate.
//!
//! This crate never prints, prompts or reads user environment variables; the CLI and the
//! dashboard do that.
#![forbid(unsafe_code)]

pub mod acceptance;
pub mod clock;
pub mod fs_util;
pub mod git;
pub mod merge;
pub mod mission;
pub mod planning;
pub mod repo;
pub mod review;
pub mod runtime;
pub mod status;
pub mod sync;
pub mod view;
pub mod worktree;
pub mod write;
