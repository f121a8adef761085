//! File-system helpers whose errors always name the path they were about.

use std::io;
use std::path::{Path, PathBuf};

/// An I/O error together with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{action} `{path}`: {source}")]
pub struct PathError {
    /// What was being done (`Cannot read`, `Cannot write`, ...).
    pub action: &'static str,
    /// The path involved.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

/// Adds a path to an [`io::Result`].
pub trait IoResultExt<T> {
    /// Wraps the error with the path and the action that failed.
    fn with_path(self, action: &'static str, path: &Path) -> Result<T, PathError>;
}

impl<T> IoResultExt<T> for io::Result<T> {
    fn with_path(self, action: &'static str, path: &Path) -> Result<T, PathError> {
        self.map_err(|source| PathError {
            action,
            path: path.to_path_buf(),
            source,
        })
    }
}
