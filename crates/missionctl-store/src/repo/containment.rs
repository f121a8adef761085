//! Containment: no read or write of a repository's mission state follows a symbolic link.
//!
//! A cloned repository, or an archive of one, can carry symbolic links exactly where
//! missionctl reads and writes: `kitty-specs/` or a mission directory pointing into another
//! project, `.kittify` at a home directory, a lock file left dangling at `/tmp/x` so that
//! opening it creates a file there. Following one would read someone else's files as mission
//! state, or write outside the repository.
//!
//! **missionctl follows no symbolic link below the repository, wherever it points.** Links that
//! stay inside the repository are refused too: git never follows a link inside a working tree
//! (it records the link itself, and `git add` refuses a path beyond one), so a file missionctl
//! reached through a link would not be the file git commits; and an aliased mission directory
//! would be two missions with one identity. Spec Kitty creates no link on these paths.
//!
//! [`Containment`] is the one mechanism: it holds the repository's two roots — the primary
//! checkout and git's common directory, both absolute with links resolved at discovery — and
//! every store function that reads or writes a path of the repository goes through it (or
//! through a function of [`crate::fs_util`], which never follows a link at a path's last
//! component, after [`Containment::check_parent`]). A check walks the path's components below
//! its root with `lstat`: a component that is a symbolic link is refused with
//! [`Escape::SymbolicLink`] (`SYMLINK_REFUSED`) before anything is read or written; a
//! component that does not exist ends the walk, since what missionctl creates there is a real
//! directory. A path under neither root is [`Escape::Outside`] (`PATH_OUTSIDE_REPOSITORY`).
//!
//! The check and the operation are two system calls, so a process that swaps a directory for a
//! link in between wins that race; such a process can already write anywhere in the
//! repository. What containment rules out is a checkout that carries a link.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions, ReadDir};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::fs_util::{self, IoResultExt, PathError};

/// Why containment refused a path (the payload of the refusing [`PathError`]'s source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Escape {
    /// A component of the path is a symbolic link.
    #[error("{}", describe_link(target.as_deref(), *leads))]
    SymbolicLink {
        /// What the link points at, as stored in it (`None` when it cannot be read).
        target: Option<PathBuf>,
        /// Where the link leads, when that was worked out.
        leads: Option<Leads>,
    },
    /// The path is in neither the primary checkout nor git's common directory.
    #[error("it is outside the repository")]
    Outside,
}

/// Where a refused symbolic link leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leads {
    /// Out of the repository.
    Outside,
    /// To a place inside the repository.
    Inside,
    /// Nowhere: the target does not exist, or the links loop.
    Nowhere,
}

fn describe_link(target: Option<&Path>, leads: Option<Leads>) -> String {
    let target = match target {
        Some(target) => format!("it points to `{}`", target.display()),
        None => "its target cannot be read".to_owned(),
    };
    match leads {
        Some(Leads::Outside) => format!("{target} (outside the repository)"),
        Some(Leads::Inside) => format!("{target} (inside the repository)"),
        Some(Leads::Nowhere) => format!("{target}, which does not exist"),
        None => target,
    }
}

impl Escape {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Escape::SymbolicLink { .. } => "SYMLINK_REFUSED",
            Escape::Outside => "PATH_OUTSIDE_REPOSITORY",
        }
    }

    /// Returns a hint for the refused `path`.
    pub fn hint(&self, path: &Path) -> String {
        match self {
            Escape::SymbolicLink { .. } => format!(
                "missionctl follows no symbolic link under the repository (a clone can carry one \
                 that points anywhere), and read or wrote nothing through it: replace `{}` with \
                 the real directory or file, or remove it",
                path.display()
            ),
            Escape::Outside => {
                "Run missionctl on the repository that holds the path; nothing was written"
                    .to_owned()
            }
        }
    }
}

/// Returns the error that refuses the symbolic link at `link`, saying where it leads when
/// `roots` are known.
pub(crate) fn symlink_refused(link: &Path, roots: Option<&[PathBuf]>) -> PathError {
    let target = std::fs::read_link(link).ok();
    let leads = roots.map(|roots| match std::fs::canonicalize(link) {
        Ok(real) if roots.iter().any(|root| real.starts_with(root)) => Leads::Inside,
        Ok(_) => Leads::Outside,
        Err(_) => Leads::Nowhere,
    });
    PathError {
        action: "Refusing to follow the symbolic link",
        path: link.to_path_buf(),
        source: io::Error::other(Escape::SymbolicLink { target, leads }),
    }
}

fn outside(path: &Path) -> PathError {
    PathError {
        action: "Refusing to use",
        path: path.to_path_buf(),
        source: io::Error::other(Escape::Outside),
    }
}

/// The roots no read or write of the repository may leave through a symbolic link.
///
/// Built by [`Repo::discover`](crate::repo::Repo::discover) (see
/// [`Repo::containment`](crate::repo::Repo::containment)); cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Containment {
    /// The roots, the one with more components first (git's common directory is usually inside
    /// the primary checkout, and its paths are checked below it).
    roots: Arc<[PathBuf]>,
}

impl Containment {
    /// Returns the containment of a repository whose primary checkout is `primary_root` and
    /// whose common git directory is `common_dir`, both absolute and free of links.
    pub fn new(primary_root: &Path, common_dir: &Path) -> Containment {
        let mut roots = vec![primary_root.to_path_buf(), common_dir.to_path_buf()];
        roots.sort_by_key(|root| std::cmp::Reverse(root.components().count()));
        roots.dedup();
        Containment {
            roots: roots.into(),
        }
    }

    /// Checks every component of `path` below its root, the last one included: none may be a
    /// symbolic link.
    pub fn check(&self, path: &Path) -> Result<(), PathError> {
        self.walk(path, true)
    }

    /// Checks every component of `path` below its root but the last: the directories a file is
    /// reached through. The file itself is opened without following a link.
    pub fn check_parent(&self, path: &Path) -> Result<(), PathError> {
        self.walk(path, false)
    }

    fn walk(&self, path: &Path, last_included: bool) -> Result<(), PathError> {
        let Some((root, rest)) = self
            .roots
            .iter()
            .find_map(|root| Some((root, path.strip_prefix(root).ok()?)))
        else {
            return Err(outside(path));
        };
        let mut names: Vec<&OsStr> = Vec::new();
        for component in rest.components() {
            match component {
                Component::Normal(name) => names.push(name),
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                    return Err(outside(path));
                }
            }
        }
        if !last_included {
            names.pop();
        }
        let mut current = root.clone();
        for name in names {
            current.push(name);
            match std::fs::symlink_metadata(&current) {
                Ok(metadata) if metadata.is_symlink() => {
                    return Err(symlink_refused(&current, Some(&self.roots)));
                }
                Ok(metadata) if metadata.is_dir() => {}
                // A file where a directory is expected, a missing component, or one that cannot
                // be examined: the operation itself fails on it, or creates real directories.
                Ok(_) | Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    /// Returns `error` saying where a refused link leads, for a refusal made by a function of
    /// [`fs_util`], which knows no roots.
    fn located(&self, error: PathError) -> PathError {
        match error.escape() {
            Some(Escape::SymbolicLink { leads: None, .. }) => {
                symlink_refused(&error.path, Some(&self.roots))
            }
            _ => error,
        }
    }

    /// Reads a whole file; `None` when it does not exist.
    pub fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, PathError> {
        self.check_parent(path)?;
        fs_util::read_optional(path).map_err(|error| self.located(error))
    }

    /// Reads a whole file as UTF-8 text; `None` when it does not exist.
    pub fn read_text(&self, path: &Path) -> Result<Option<String>, PathError> {
        let Some(bytes) = self.read(path)? else {
            return Ok(None);
        };
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|error| PathError {
                action: "Cannot read",
                path: path.to_path_buf(),
                source: io::Error::new(io::ErrorKind::InvalidData, error.utf8_error()),
            })
    }

    /// Replaces a file atomically ([`fs_util::atomic_write`]).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), PathError> {
        self.check_parent(path)?;
        fs_util::atomic_write(path, bytes).map_err(|error| self.located(error))
    }

    /// Creates a directory and its missing parents.
    pub fn create_dir_all(&self, path: &Path) -> Result<(), PathError> {
        self.check(path)?;
        std::fs::create_dir_all(path).with_path("Cannot create", path)
    }

    /// Creates one directory, whose parent must exist; fails when it exists already.
    pub fn create_dir(&self, path: &Path) -> Result<(), PathError> {
        self.check(path)?;
        std::fs::create_dir(path).with_path("Cannot create the directory", path)
    }

    /// Lists a directory; `None` when it does not exist.
    pub fn read_dir(&self, path: &Path) -> Result<Option<ReadDir>, PathError> {
        self.check(path)?;
        match std::fs::read_dir(path) {
            Ok(entries) => Ok(Some(entries)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(PathError {
                action: "Cannot list",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Removes a file (a link is removed, never followed); returns whether it existed.
    pub fn remove_file(&self, path: &Path) -> Result<bool, PathError> {
        self.check_parent(path)?;
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(PathError {
                action: "Cannot remove",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Returns whether something exists at `path` (a link is refused, never followed).
    pub fn exists(&self, path: &Path) -> Result<bool, PathError> {
        self.check(path)?;
        match std::fs::symlink_metadata(path) {
            Ok(_) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(PathError {
                action: "Cannot read the metadata of",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Returns whether `path` is a directory (a link is refused, never followed).
    pub fn is_dir(&self, path: &Path) -> Result<bool, PathError> {
        self.check(path)?;
        Ok(std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_dir()))
    }

    /// Returns whether `path` is a regular file (a link is refused, never followed).
    pub fn is_file(&self, path: &Path) -> Result<bool, PathError> {
        self.check(path)?;
        Ok(std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_file()))
    }

    /// Opens a file for appending, creating it when missing, never following a link.
    pub fn open_append(&self, path: &Path) -> Result<File, PathError> {
        self.check_parent(path)?;
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        fs_util::open_no_follow(path, &mut options, "Cannot open")
            .map_err(|error| self.located(error))
    }

    /// Opens (creating it and its directory when missing) a lock file for reading and writing,
    /// never truncating it and never following a link — a dangling link to `/tmp/x` would
    /// otherwise create `/tmp/x`.
    pub fn open_lock(&self, path: &Path) -> Result<File, PathError> {
        self.check_parent(path)?;
        if let Some(parent) = path.parent() {
            // `is_dir` first: `mkdir` of an existing directory costs a journal round trip.
            if !std::fs::symlink_metadata(parent).is_ok_and(|metadata| metadata.is_dir()) {
                std::fs::create_dir_all(parent).with_path("Cannot create", parent)?;
            }
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        fs_util::open_no_follow(path, &mut options, "Cannot open")
            .map_err(|error| self.located(error))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn setup()
    -> Result<(tempfile::TempDir, Containment, PathBuf, PathBuf), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let base = std::fs::canonicalize(dir.path())?;
        let root = base.join("repo");
        let common = root.join(".git");
        std::fs::create_dir_all(&common)?;
        std::fs::create_dir_all(base.join("elsewhere"))?;
        let containment = Containment::new(&root, &common);
        Ok((dir, containment, root, base.join("elsewhere")))
    }

    fn code(result: Result<impl std::fmt::Debug, PathError>) -> String {
        match result {
            Ok(value) => format!("ok {value:?}"),
            Err(error) => format!("{} {}", error.code(), error.path.display()),
        }
    }

    #[test]
    fn a_link_anywhere_below_a_root_is_refused_for_reads_and_writes() -> TestResult {
        let (_dir, containment, root, elsewhere) = setup()?;
        std::fs::write(elsewhere.join("meta.json"), "{}")?;
        symlink(&elsewhere, root.join("kitty-specs"))?;
        let file = root.join("kitty-specs/meta.json");
        let link = root.join("kitty-specs").display().to_string();
        let refused = format!("SYMLINK_REFUSED {link}");
        assert_eq!(code(containment.read(&file)), refused);
        assert_eq!(code(containment.write(&file, b"x")), refused);
        assert_eq!(code(containment.create_dir_all(&file)), refused);
        assert_eq!(
            code(containment.read_dir(&root.join("kitty-specs"))),
            refused
        );
        assert_eq!(code(containment.exists(&file)), refused);
        assert_eq!(code(containment.remove_file(&file)), refused);
        assert_eq!(std::fs::read(elsewhere.join("meta.json"))?, b"{}");
        let error = containment.read(&file).expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!(
                "Refusing to follow the symbolic link `{link}`: it points to `{}` (outside the \
                 repository)",
                elsewhere.display()
            )
        );
        Ok(())
    }

    #[test]
    fn a_link_that_stays_inside_is_refused_too() -> TestResult {
        let (_dir, containment, root, _elsewhere) = setup()?;
        std::fs::create_dir_all(root.join("docs/specs"))?;
        symlink("docs/specs", root.join("kitty-specs"))?;
        let error = containment
            .read(&root.join("kitty-specs/x/meta.json"))
            .expect_err("refused");
        assert_eq!(error.code(), "SYMLINK_REFUSED");
        assert!(
            error.to_string().ends_with("(inside the repository)"),
            "{error}"
        );
        Ok(())
    }

    #[test]
    fn a_link_as_the_last_component_is_never_followed() -> TestResult {
        let (_dir, containment, root, elsewhere) = setup()?;
        let outside_file = elsewhere.join("status.json");
        std::fs::write(&outside_file, "outside")?;
        std::fs::create_dir_all(root.join("kitty-specs/m"))?;
        let file = root.join("kitty-specs/m/status.json");
        symlink(&outside_file, &file)?;
        assert_eq!(
            code(containment.read(&file)),
            format!("SYMLINK_REFUSED {}", file.display())
        );
        assert_eq!(
            code(containment.write(&file, b"x")),
            format!("SYMLINK_REFUSED {}", file.display())
        );
        // A dangling lock link would create its target on open.
        let lock = root.join(".git/spec-kitty-locks/m.status.lock");
        std::fs::create_dir_all(root.join(".git/spec-kitty-locks"))?;
        symlink(elsewhere.join("created"), &lock)?;
        assert_eq!(
            code(containment.open_lock(&lock)),
            format!("SYMLINK_REFUSED {}", lock.display())
        );
        assert!(!elsewhere.join("created").exists());
        assert_eq!(std::fs::read(&outside_file)?, b"outside");
        // Removing a link removes the link only.
        assert_eq!(code(containment.remove_file(&file)), "ok true");
        assert!(outside_file.exists());
        Ok(())
    }

    #[test]
    fn missing_components_end_the_walk_and_real_directories_pass() -> TestResult {
        let (_dir, containment, root, _elsewhere) = setup()?;
        let file = root.join(".kittify/runtime/runs/x/state.json");
        assert_eq!(code(containment.read(&file)), "ok None");
        containment.create_dir_all(&root.join(".kittify/runtime/runs/x"))?;
        containment.write(&file, b"{}")?;
        assert_eq!(containment.read(&file)?.as_deref(), Some(b"{}".as_slice()));
        assert!(containment.is_file(&file)?);
        assert!(containment.is_dir(&root.join(".kittify"))?);
        Ok(())
    }

    #[test]
    fn paths_outside_both_roots_or_through_dot_dot_are_refused() -> TestResult {
        let (_dir, containment, root, elsewhere) = setup()?;
        assert_eq!(
            code(containment.read(&elsewhere.join("x"))),
            format!("PATH_OUTSIDE_REPOSITORY {}", elsewhere.join("x").display())
        );
        let sneaky = root.join("kitty-specs/../../elsewhere/x");
        assert_eq!(
            code(containment.read(&sneaky)),
            format!("PATH_OUTSIDE_REPOSITORY {}", sneaky.display())
        );
        Ok(())
    }

    #[test]
    fn the_common_dir_is_its_own_root_when_it_is_elsewhere() -> TestResult {
        let dir = tempfile::tempdir()?;
        let base = std::fs::canonicalize(dir.path())?;
        let (root, common) = (base.join("work"), base.join("git"));
        std::fs::create_dir_all(&root)?;
        std::fs::create_dir_all(base.join("other"))?;
        std::fs::create_dir_all(&common)?;
        symlink(base.join("other"), common.join("missionctl"))?;
        let containment = Containment::new(&root, &common);
        let cache = common.join("missionctl/status-cache/m.json");
        assert_eq!(
            code(containment.create_dir_all(cache.parent().ok_or("parent")?)),
            format!("SYMLINK_REFUSED {}", common.join("missionctl").display())
        );
        assert!(!base.join("other/status-cache").exists());
        Ok(())
    }
}
