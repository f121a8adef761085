//! A mission's identity and shape: `meta.json`, the stored `MissionTopology`, the pure
//! resolver to an `ExecutionContext`, workspace contexts, and mission runs.

pub mod context;
pub mod meta;
pub mod mission_template;
pub mod run;
pub mod topology;
pub mod workspace_context;
