//! The planning surface: work-package files and their front matter, `tasks.md`, requirements,
//! planning artifacts, lanes and ownership (`lanes.json`, repository globs).

pub mod lanes_manifest;
pub mod planning_artifact;
pub mod repo_glob;
pub mod requirement;
pub mod task_plan;
pub mod work_package;
