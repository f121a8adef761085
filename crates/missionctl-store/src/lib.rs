//! The imperative shell of missionctl: reads and writes Spec Kitty's files, takes locks and
//! talks to git, around the pure `missionctl-core` crate.
//!
//! This crate never prints, prompts or reads user environment variables; the CLI and the
//! dashboard do that.
#![forbid(unsafe_code)]

pub mod fs_util;
pub mod git;
pub mod mission_dir;
