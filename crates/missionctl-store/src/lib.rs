//! The imperative shell of missionctl: reads and writes Spec Kitty's files, takes locks and
//! talks to git, around the pure `missionctl-core` crate.
//!
//! This crate never prints, prompts or reads user environment variables; the CLI and the
//! dashboard do that.
#![forbid(unsafe_code)]

pub mod action_context;
pub mod clock;
pub mod containment;
pub mod dashboard_state;
pub mod fs_util;
pub mod git;
pub mod init;
pub mod lane_worktree;
pub mod live;
pub mod map_requirements;
pub mod merge;
pub mod merge_driver;
pub mod meta_store;
pub mod mission_context;
pub mod mission_create;
pub mod mission_dir;
pub mod mission_flatten;
pub mod mission_index;
pub mod planning;
pub mod project_config;
pub mod protection;
pub mod ready;
pub mod repo;
pub mod runtime;
pub mod spec_commit;
pub mod status;
pub mod tasks_finalize;
pub mod topology_backfill;
pub mod view;
pub mod watch;
pub mod work_package;
pub mod work_package_add;
pub mod workspace_context;
pub mod write;
