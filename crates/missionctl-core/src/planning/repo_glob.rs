//! Whether a work package's owned-file glob matches anything in the repository, decided as
//! Spec Kitty decides it: `any(repo_root.glob(pattern))` with CPython 3.11's `pathlib`.
//!
//! The repository is seen through [`RepoTree`], which the store implements over the work
//! tree (each directory listed at most once, however many globs look at it). The matching
//! rules are pathlib's:
//!
//! - the pattern is split on `/`; empty and `.` components are dropped, and a trailing `/`
//!   keeps only directories;
//! - a component without `*`, `?` or `[` names one path, which must exist (a directory when
//!   more components follow); symbolic links are followed;
//! - a wildcard component is matched with `fnmatch` against every entry of the directory
//!   (dot files included, case-sensitive);
//! - `**` is the directory itself and every directory below it, without following symbolic
//!   links; as the last component it matches those directories themselves;
//! - `**` inside a longer component, an empty pattern and an absolute pattern are errors,
//!   with Python's messages.

use crate::planning::lanes_manifest::fnmatch;
use crate::text::difflib::get_close_matches;

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// The file name.
    pub name: String,
    /// A directory, or a symbolic link to one.
    pub is_dir: bool,
    /// A directory itself, not a symbolic link to one.
    pub is_real_dir: bool,
    /// A regular file, or a symbolic link to one.
    pub is_file: bool,
}

/// The repository's work tree, as the glob sees it. Paths are relative to the root, with `/`
/// separators; `""` is the root.
pub trait RepoTree {
    /// Returns the entries of a directory; empty when it is not a readable directory.
    fn entries(&self, dir: &str) -> std::rc::Rc<[TreeEntry]>;
    /// Returns true when the path exists (following symbolic links).
    fn exists(&self, path: &str) -> bool;
    /// Returns true when the path is a directory (following symbolic links).
    fn is_dir(&self, path: &str) -> bool;
}

/// Why a pattern cannot be globbed: the message of the exception Python raises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GlobError(pub String);

/// Returns true when an owned-file entry is a glob rather than a literal path (Spec Kitty's
/// `is_glob_pattern`: it holds `*`, `?`, `[` or `{`).
pub fn is_glob_pattern(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

fn is_wildcard(part: &str) -> bool {
    part.contains(['*', '?', '['])
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Returns true when `pattern` matches at least one path of the tree.
pub fn glob_matches_any(tree: &dyn RepoTree, pattern: &str) -> Result<bool, GlobError> {
    if pattern.is_empty() {
        return Err(GlobError(format!(
            "Unacceptable pattern: {}",
            crate::text::pytext::repr(pattern)
        )));
    }
    if pattern.starts_with('/') {
        return Err(GlobError(
            "Non-relative patterns are unsupported".to_owned(),
        ));
    }
    let mut parts: Vec<&str> = pattern
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if pattern.ends_with('/') {
        parts.push("");
    }
    if parts.is_empty() {
        return Err(GlobError("tuple index out of range".to_owned()));
    }
    if let Some(bad) = parts
        .iter()
        .find(|part| **part != "**" && part.contains("**"))
    {
        let _ = bad;
        return Err(GlobError(
            "Invalid pattern: '**' can only be an entire path component".to_owned(),
        ));
    }
    if !tree.is_dir("") {
        return Ok(false);
    }
    Ok(select(tree, "", &parts))
}

/// pathlib's selector chain: does anything below `dir` match `parts`?
fn select(tree: &dyn RepoTree, dir: &str, parts: &[&str]) -> bool {
    let Some((part, rest)) = parts.split_first() else {
        return true;
    };
    let dironly = !rest.is_empty();
    match *part {
        "" => true,
        "**" => {
            // The directory itself, then every real directory below it, depth first.
            let mut stack = vec![dir.to_owned()];
            while let Some(start) = stack.pop() {
                if select(tree, &start, rest) {
                    return true;
                }
                let entries = tree.entries(&start);
                for entry in entries.iter().rev() {
                    if entry.is_real_dir {
                        stack.push(join(&start, &entry.name));
                    }
                }
            }
            false
        }
        wildcard if is_wildcard(wildcard) => {
            let entries = tree.entries(dir);
            entries.iter().any(|entry| {
                (!dironly || entry.is_dir)
                    && fnmatch(&entry.name, wildcard)
                    && select(tree, &join(dir, &entry.name), rest)
            })
        }
        name => {
            let path = join(dir, name);
            let found = if dironly {
                tree.is_dir(&path)
            } else {
                tree.exists(&path)
            };
            found && select(tree, &path, rest)
        }
    }
}

/// Returns Spec Kitty's "Did you mean …?" for a literal owned path that matches nothing: the
/// file in the path's directory (`pathlib` parent) whose path is closest to it by
/// `difflib.get_close_matches(…, n=1, cutoff=0.5)`; `None` when the directory does not exist
/// or nothing is close enough.
pub fn nearest_match_suggestion(tree: &dyn RepoTree, pattern: &str) -> Option<String> {
    let mut parts: Vec<&str> = pattern
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    parts.pop();
    let parent = parts.join("/");
    if !tree.is_dir(&parent) {
        return None;
    }
    let siblings: Vec<String> = tree
        .entries(&parent)
        .iter()
        .filter(|entry| entry.is_file)
        .map(|entry| join(&parent, &entry.name))
        .collect();
    get_close_matches(pattern, &siblings, 1, 0.5)
        .first()
        .map(|best| format!("Did you mean '{best}'?"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    /// A tree of files and directories given as paths (a trailing `/` marks an empty
    /// directory).
    pub(crate) struct MemoryTree {
        dirs: BTreeMap<String, Vec<TreeEntry>>,
    }

    impl MemoryTree {
        pub(crate) fn new(paths: &[&str]) -> MemoryTree {
            let mut dirs: BTreeMap<String, Vec<TreeEntry>> = BTreeMap::new();
            dirs.insert(String::new(), Vec::new());
            for path in paths {
                let is_dir_path = path.ends_with('/');
                let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
                for depth in 0..parts.len() {
                    let parent = parts[..depth].join("/");
                    let name = parts[depth];
                    let is_dir = depth + 1 < parts.len() || is_dir_path;
                    let entries = dirs.entry(parent).or_default();
                    if !entries.iter().any(|entry| entry.name == name) {
                        entries.push(TreeEntry {
                            name: name.to_owned(),
                            is_dir,
                            is_real_dir: is_dir,
                            is_file: !is_dir,
                        });
                    }
                    if is_dir {
                        dirs.entry(parts[..=depth].join("/")).or_default();
                    }
                }
            }
            for entries in dirs.values_mut() {
                entries.sort_by(|a, b| a.name.cmp(&b.name));
            }
            MemoryTree { dirs }
        }

        fn lookup(&self, path: &str) -> Option<&TreeEntry> {
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
            self.dirs
                .get(parent)?
                .iter()
                .find(|entry| entry.name == name)
        }
    }

    impl RepoTree for MemoryTree {
        fn entries(&self, dir: &str) -> Rc<[TreeEntry]> {
            self.dirs.get(dir).cloned().unwrap_or_default().into()
        }
        fn exists(&self, path: &str) -> bool {
            path.is_empty() || self.lookup(path).is_some()
        }
        fn is_dir(&self, path: &str) -> bool {
            path.is_empty() || self.lookup(path).is_some_and(|entry| entry.is_dir)
        }
    }

    #[test]
    fn globs_match_as_pathlib_does() -> Result<(), GlobError> {
        let tree = MemoryTree::new(&[
            "src/a/x.py",
            "src/b/.hidden.py",
            "docs/",
            "README.md",
            "tests/test_x.py",
        ]);
        for (pattern, expected) in [
            ("src/**", true),
            ("src/a/x.py", true),
            ("./src/a/x.py", true),
            ("src//a/x.py", true),
            ("src/a/y.py", false),
            ("src/**/*.py", true),
            ("src/**/.hidden.py", true),
            ("**/test_*.py", true),
            ("docs/**", true),
            ("docs/**/*.md", false),
            ("docs/", true),
            ("README.md/", false),
            ("src/a/x.py/**", false),
            ("src/*", true),
            ("nope/**", false),
            ("*.md", true),
            ("src/[ab]/x.py", true),
            ("src/{a,b}/x.py", false),
        ] {
            assert_eq!(glob_matches_any(&tree, pattern)?, expected, "{pattern}");
        }
        assert!(glob_matches_any(&tree, "src/**.py").is_err());
        assert!(glob_matches_any(&tree, "").is_err());
        assert!(glob_matches_any(&tree, "/abs").is_err());
        Ok(())
    }

    #[test]
    fn suggestions() {
        let tree = MemoryTree::new(&[
            "src/core/secret_redaction.py",
            "src/core/other.txt",
            "src/core/sub/x.py",
        ]);
        assert_eq!(
            nearest_match_suggestion(&tree, "src/core/secret_redactions.py").as_deref(),
            Some("Did you mean 'src/core/secret_redaction.py'?")
        );
        assert_eq!(nearest_match_suggestion(&tree, "lib/x.py"), None);
    }
}
