//! Placeholder: the transition matrix and guards.
