//! Every environment variable the command line reads, in one place.

/// Turns colour off when set to a non-empty value (<https://no-color.org>).
pub(crate) const NO_COLOR: &str = "NO_COLOR";
