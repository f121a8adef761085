//! Placeholder: filled by the topology work (issue 3).
