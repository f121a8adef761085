//! Worktrees: the lane worktrees `implement` creates and repairs, and the workspace context
//! files that tell an agent where it works.

pub mod lane;
pub mod workspace_context;
