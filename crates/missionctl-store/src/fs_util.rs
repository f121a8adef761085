//! File-system helpers whose errors always name the path they were about.

use std::io;
use std::path::{Path, PathBuf};

use crate::repo::containment::Escape;

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

impl PathError {
    /// Returns the stable error code: `SYMLINK_REFUSED` or `PATH_OUTSIDE_REPOSITORY` for a
    /// path [containment](crate::repo::containment) refused, `IO_ERROR` for every other failure.
    pub fn code(&self) -> &'static str {
        self.escape().map_or("IO_ERROR", Escape::code)
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self.escape() {
            Some(escape) => escape.hint(&self.path),
            None => "Check the path's permissions".to_owned(),
        }
    }

    /// Returns why containment refused the path, when it did.
    pub fn escape(&self) -> Option<&Escape> {
        self.source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<Escape>())
    }
}

/// Opens a file without following a symbolic link at its last component: a link is refused
/// with [`Escape::SymbolicLink`], whatever it points at (intermediate directories are the
/// caller's to check, see [`crate::repo::containment`]).
pub(crate) fn open_no_follow(
    path: &Path,
    options: &mut std::fs::OpenOptions,
    action: &'static str,
) -> Result<std::fs::File, PathError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    match options.open(path) {
        Ok(file) => Ok(file),
        Err(source) => {
            // `O_NOFOLLOW` answers a link with `ELOOP`; look at the path itself rather than
            // at the platform's error number (and refuse a link on platforms without it).
            if std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_symlink()) {
                return Err(crate::repo::containment::symlink_refused(path, None));
            }
            Err(PathError {
                action,
                path: path.to_path_buf(),
                source,
            })
        }
    }
}

/// Reads a whole file without following a symbolic link at its last component; `None` when it
/// does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, PathError> {
    use std::io::Read;

    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    let mut file = match open_no_follow(path, &mut options, "Cannot read") {
        Ok(file) => file,
        Err(error)
            if error.escape().is_none() && error.source.kind() == io::ErrorKind::NotFound =>
        {
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .with_path("Cannot read", path)?;
    Ok(Some(bytes))
}

/// Replaces `path` with `bytes` atomically: readers see the old bytes or the new ones, never a
/// mix, and a crash leaves one of the two on disk.
///
/// The bytes go to a temporary file in the same directory (so the rename cannot cross file
/// systems), which is flushed to disk, renamed over `path`, and then the directory itself is
/// flushed so the rename survives a crash. An existing file's permissions are kept; a new file
/// gets the permissions of any newly created file (`0o666` less the umask). The temporary file
/// is removed on every error path.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), PathError> {
    replace_file(path, bytes, ".missionctl-", true)?;
    sync_dir(parent_dir(path))
}

/// Returns the directory a file is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Replaces `path` with `bytes` through a temporary file named `<prefix>….tmp` in the same
/// directory, keeping the file's permissions, `fsync`ing the new bytes first when `flush`;
/// the caller flushes the directory. The temporary file is removed on every error path.
pub(crate) fn replace_file(
    path: &Path,
    bytes: &[u8],
    prefix: &str,
    flush: bool,
) -> Result<(), PathError> {
    use std::io::Write;

    let dir = parent_dir(path);
    let existing = match std::fs::symlink_metadata(path) {
        // Renaming over a link would replace it without following it: refuse it as a read of
        // it would be refused.
        Ok(metadata) if metadata.is_symlink() => {
            return Err(crate::repo::containment::symlink_refused(path, None));
        }
        Ok(metadata) => Some(metadata.permissions()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(PathError {
                action: "Cannot read the metadata of",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder
        .tempfile_in(dir)
        .with_path("Cannot create a temporary file in", dir)?;
    temp.write_all(bytes)
        .with_path("Cannot write", temp.path())?;
    if let Some(permissions) = existing {
        temp.as_file()
            .set_permissions(permissions)
            .with_path("Cannot set the permissions of", temp.path())?;
    }
    if flush {
        temp.as_file()
            .sync_all()
            .with_path("Cannot flush", temp.path())?;
    }
    temp.persist(path).map_err(|error| PathError {
        action: "Cannot replace",
        path: path.to_path_buf(),
        source: error.error,
    })?;
    Ok(())
}

/// Flushes a directory's entries to disk (after a rename or a removal inside it).
pub fn sync_dir(dir: &Path) -> Result<(), PathError> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|handle| handle.sync_all())
            .with_path("Cannot flush the directory", dir)?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta.json");
        atomic_write(&path, b"one\n")?;
        assert_eq!(std::fs::read(&path)?, b"one\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640))?;
            atomic_write(&path, b"two\n")?;
            let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        assert_eq!(std::fs::read(&path)?, b"two\n");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["meta.json"]);
        Ok(())
    }

    #[test]
    fn atomic_write_names_the_path_on_error() {
        let error = atomic_write(Path::new("/nonexistent-missionctl-dir/meta.json"), b"x")
            .expect_err("no such directory");
        assert_eq!(error.path, Path::new("/nonexistent-missionctl-dir"));
        assert!(
            error
                .to_string()
                .starts_with("Cannot create a temporary file in")
        );
        assert_eq!(
            read_optional(Path::new("/nonexistent-missionctl-dir/x")).ok(),
            Some(None)
        );
    }
}
