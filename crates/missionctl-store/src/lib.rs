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

// The flat module paths of earlier releases, kept while work written against them lands.
#[doc(hidden)]
pub use self::{
    git::merge_driver,
    mission::{
        action_context, context as mission_context, create as mission_create, dir as mission_dir,
        flatten as mission_flatten, index as mission_index, meta_store, topology_backfill,
    },
    planning::{map_requirements, spec_commit, tasks_finalize, work_package, work_package_add},
    repo::{containment, init, project_config, protection},
    view::{dashboard_state, live, ready, watch},
    worktree::{lane as lane_worktree, workspace_context},
};
