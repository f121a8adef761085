//! Work-package files (`tasks/WPxx-<slug>.md`): finding them and reading their front matter.

use std::path::{Path, PathBuf};

use missionctl_core::planning::task_plan::WorkPackageEntry;
use missionctl_core::planning::work_package::{
    FrontMatter, WorkPackageSummary, file_defines_work_package, split_front_matter,
    summarize_front_matter, work_package_id_from_file_name,
};
use serde_json::Value;

use crate::fs_util::{self, PathError};
use crate::repo::containment::Containment;

/// Why a work-package file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkPackageFileError {
    /// No file of the mission's `tasks/` defines the work package (Spec Kitty's wording).
    #[error("Work package '{wp_id}' not found under kitty-specs/{mission_slug}/tasks")]
    NotFound {
        /// The work package, as given.
        wp_id: String,
        /// The mission directory name.
        mission_slug: String,
    },
    /// The mission has no `tasks/` directory (Spec Kitty's wording).
    #[error("Feature '{mission_slug}' has no tasks directory at {}", dir.display())]
    NoTasksDirectory {
        /// The work package, as given.
        wp_id: String,
        /// The mission directory name.
        mission_slug: String,
        /// The missing directory.
        dir: PathBuf,
    },
    /// More than one file matches the work package id.
    #[error("Several files define {wp_id}: {}", files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The work package.
        wp_id: String,
        /// The matching files.
        files: Vec<PathBuf>,
    },
    /// The front matter is not valid YAML.
    #[error("Invalid front matter in `{}`: {message}", path.display())]
    InvalidFrontMatter {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The front matter cannot be read: not YAML, not a mapping, or a field of the wrong
    /// type; the error names the line (in the file) and the field.
    #[error("Invalid front matter in `{}`: {source}", path.display())]
    FrontMatter {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        #[source]
        source: missionctl_core::planning::work_package::FrontMatterError,
    },
    /// A work-package file has no front matter (no `---` block at the top).
    #[error("`{}` has no front matter", path.display())]
    FrontMatterMissing {
        /// The file.
        path: PathBuf,
    },
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl WorkPackageFileError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            WorkPackageFileError::NotFound { .. }
            | WorkPackageFileError::NoTasksDirectory { .. } => "WP_NOT_FOUND",
            WorkPackageFileError::Ambiguous { .. } => "WP_FILE_AMBIGUOUS",
            WorkPackageFileError::InvalidFrontMatter { .. }
            | WorkPackageFileError::FrontMatter { .. } => "WP_FRONTMATTER_INVALID",
            WorkPackageFileError::FrontMatterMissing { .. } => "WP_FRONTMATTER_MISSING",
            WorkPackageFileError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            WorkPackageFileError::NotFound {
                wp_id,
                mission_slug,
            }
            | WorkPackageFileError::NoTasksDirectory {
                wp_id,
                mission_slug,
                ..
            } => format!(
                "`missionctl wp list --mission {mission_slug}` lists the mission's work packages; \
                 `missionctl wp add --mission {mission_slug} {wp_id} --title <title>` defines one (only a \
                 forced `move` records a work package no file defines)"
            ),
            WorkPackageFileError::Ambiguous { .. } => {
                "Keep one `tasks/WPxx-*.md` file per work package".to_owned()
            }
            WorkPackageFileError::InvalidFrontMatter { .. }
            | WorkPackageFileError::FrontMatter { .. } => {
                "Fix the YAML between the `---` lines at the top of the file".to_owned()
            }
            WorkPackageFileError::FrontMatterMissing { .. } => {
                "Start the file with a `---` line, the YAML front matter (`work_package_id`, \
                 `title`, …), and another `---` line"
                    .to_owned()
            }
            WorkPackageFileError::Io(error) => error.hint(),
        }
    }
}

/// Returns the file that defines a work package, as Spec Kitty's `locate_work_package` finds it
/// (see [`file_defines_work_package`]): the work package exists when exactly one file of the
/// primary `tasks/` defines it; neither its front matter nor the event log is consulted.
///
/// Every writer that acts on one work package checks it first: `WP_NOT_FOUND` (`Work package
/// 'WP77' not found under kitty-specs/<slug>/tasks`) when no file defines it or the mission
/// has no `tasks/`, `WP_FILE_AMBIGUOUS` when several do.
pub fn locate_work_package(
    containment: &Containment,
    mission_dir: &Path,
    mission_slug: &str,
    wp_id: &str,
) -> Result<PathBuf, WorkPackageFileError> {
    let tasks = mission_dir.join("tasks");
    let Some(names) = task_file_names(containment, &tasks)? else {
        return Err(WorkPackageFileError::NoTasksDirectory {
            wp_id: wp_id.to_owned(),
            mission_slug: mission_slug.to_owned(),
            dir: tasks,
        });
    };
    let mut found: Vec<PathBuf> = names
        .iter()
        .filter(|name| file_defines_work_package(name, wp_id))
        .map(|name| tasks.join(name))
        .collect();
    match found.len() {
        0 => Err(WorkPackageFileError::NotFound {
            wp_id: wp_id.to_owned(),
            mission_slug: mission_slug.to_owned(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(WorkPackageFileError::Ambiguous {
            wp_id: wp_id.to_owned(),
            files: found,
        }),
    }
}

/// Returns the ids among `wp_ids` that no file of the mission's `tasks/` defines (see
/// [`locate_work_package`]), in their order: work packages only the event log knows.
pub fn undefined_work_packages<'a>(
    containment: &Containment,
    mission_dir: &Path,
    wp_ids: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, WorkPackageFileError> {
    let names = task_file_names(containment, &mission_dir.join("tasks"))?.unwrap_or_default();
    Ok(wp_ids
        .into_iter()
        .filter(|id| !names.iter().any(|name| file_defines_work_package(name, id)))
        .map(str::to_owned)
        .collect())
}

/// Returns the names of the entries of `tasks/`, sorted; `None` when it does not exist.
fn task_file_names(
    containment: &Containment,
    tasks: &Path,
) -> Result<Option<Vec<String>>, WorkPackageFileError> {
    let Some(entries) = containment.read_dir(tasks)? else {
        return Ok(None);
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(Some(names))
}

/// Returns the work package's file in `<mission_dir>/tasks/`: a Markdown file whose name
/// starts with the id followed by `-`, `_` or `.` (case-insensitive), never `README`.
pub fn find_wp_file(
    containment: &Containment,
    mission_dir: &Path,
    wp_id: &str,
) -> Result<Option<PathBuf>, WorkPackageFileError> {
    let tasks = mission_dir.join("tasks");
    let Some(entries) = containment.read_dir(&tasks)? else {
        return Ok(None);
    };
    let prefix = wp_id.to_ascii_lowercase();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if !name.ends_with(".md") || name.starts_with("readme") {
            continue;
        }
        if let Some(rest) = name.strip_prefix(&prefix)
            && (rest.starts_with('-') || rest.starts_with('_') || rest.starts_with('.'))
        {
            found.push(entry.path());
        }
    }
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(WorkPackageFileError::Ambiguous {
            wp_id: wp_id.to_owned(),
            files: found,
        }),
    }
}

/// Returns the YAML front matter of a Markdown file (between the opening `---` line and the
/// next `---` line), if it has one.
pub fn front_matter(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(&rest[..offset]);
        }
        offset += line.len();
    }
    None
}

/// Returns the subtask roster of a work package: its front matter's `subtasks` ids, trimmed,
/// de-duplicated, in order. A work package without a file or without subtasks has none.
pub fn subtask_roster(
    containment: &Containment,
    mission_dir: &Path,
    wp_id: &str,
) -> Result<Vec<String>, WorkPackageFileError> {
    let Some(path) = find_wp_file(containment, mission_dir, wp_id)? else {
        return Ok(Vec::new());
    };
    let text = read_text(&path)?;
    let Some(yaml) = front_matter(&text) else {
        return Ok(Vec::new());
    };
    let value: Value =
        serde_saphyr::from_str(yaml).map_err(|error| WorkPackageFileError::InvalidFrontMatter {
            path: path.clone(),
            message: error.to_string(),
        })?;
    let mut roster: Vec<String> = Vec::new();
    if let Some(items) = value.get("subtasks").and_then(Value::as_array) {
        for item in items {
            let id = match item {
                Value::String(id) => id.trim().to_owned(),
                Value::Object(map) => map
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                other => other.to_string(),
            };
            if !id.is_empty() && !roster.contains(&id) {
                roster.push(id);
            }
        }
    }
    Ok(roster)
}

/// Returns the titles of a mission's work packages, keyed by id, from the front matter of
/// `tasks/WP*.md` (`work_package_id` or the file name's `WPnn` prefix; `title`). Files
/// without readable front matter are skipped: titles are presentation, never status. A
/// symbolic link (`tasks/` or a file in it) is refused all the same (`SYMLINK_REFUSED`).
pub fn wp_titles(
    containment: &Containment,
    mission_dir: &Path,
) -> Result<std::collections::BTreeMap<String, String>, PathError> {
    let mut titles = std::collections::BTreeMap::new();
    let Some(entries) = containment.read_dir(&mission_dir.join("tasks"))? else {
        return Ok(titles);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("WP") || !name.ends_with(".md") {
            continue;
        }
        let text = match read_text(&entry.path()) {
            Ok(text) => text,
            Err(WorkPackageFileError::Io(error)) if error.escape().is_some() => return Err(error),
            Err(_) => continue,
        };
        let Some(value) =
            front_matter(&text).and_then(|yaml| serde_saphyr::from_str::<Value>(yaml).ok())
        else {
            continue;
        };
        let id = value
            .get("work_package_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                name.chars()
                    .take(2)
                    .chain(name.chars().skip(2).take_while(char::is_ascii_digit))
                    .collect()
            });
        if let Some(title) = value.get("title").and_then(Value::as_str) {
            titles.insert(id, title.to_owned());
        }
    }
    Ok(titles)
}

/// Returns the work-package files of a mission directory, sorted by name: the Markdown files
/// of `tasks/` whose name starts with `WP` (never `README`).
///
/// `tasks/` and the directories above it must not be symbolic links (`SYMLINK_REFUSED`); a file
/// that is a link is not a work-package file.
pub fn work_package_files(
    containment: &Containment,
    mission_dir: &Path,
) -> Result<Vec<PathBuf>, WorkPackageFileError> {
    let tasks = mission_dir.join("tasks");
    let Some(entries) = containment.read_dir(&tasks)? else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PathError {
            action: "Cannot read",
            path: tasks.clone(),
            source,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // A link is listed so that reading it refuses it, rather than dropping the work
        // package silently.
        if name.starts_with("WP")
            && name.ends_with(".md")
            && entry
                .file_type()
                .is_ok_and(|kind| kind.is_file() || kind.is_symlink())
        {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a file of a `tasks/` directory already checked by [`Containment::read_dir`], never
/// following a link at the file itself.
fn read_text(path: &Path) -> Result<String, WorkPackageFileError> {
    let bytes = fs_util::read_optional(path)?.ok_or_else(|| PathError {
        action: "Cannot read",
        path: path.to_path_buf(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    String::from_utf8(bytes).map_err(|error| {
        PathError {
            action: "Cannot read",
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, error.utf8_error()),
        }
        .into()
    })
}

/// Returns `tasks/<file name>`, the file's path relative to its mission directory.
fn relative_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("tasks/{name}")
}

/// Reads and parses one work-package file: front matter (with lines counted from the top of
/// the file) and body.
fn load_work_package(path: &Path) -> Result<WorkPackageEntry, WorkPackageFileError> {
    let text = read_text(path)?;
    let split =
        split_front_matter(&text).ok_or_else(|| WorkPackageFileError::FrontMatterMissing {
            path: path.to_path_buf(),
        })?;
    let front =
        FrontMatter::parse(split.yaml).map_err(|source| WorkPackageFileError::FrontMatter {
            path: path.to_path_buf(),
            source: source.shifted(split.yaml_line_offset),
        })?;
    Ok(WorkPackageEntry {
        file: relative_name(path),
        line_offset: split.yaml_line_offset,
        front,
        body: split.body.to_owned(),
    })
}

/// Reads every work-package file of a mission directory (see [`work_package_files`]).
/// The first unreadable file fails the whole read, naming its line and field.
///
/// Parsing YAML is the expensive part (tens of microseconds a file), so a mission with many
/// work packages is read on a few threads; the result and the error reported (the first in
/// file order) are the same as reading them one by one.
pub fn load_work_packages(
    containment: &Containment,
    mission_dir: &Path,
) -> Result<Vec<WorkPackageEntry>, WorkPackageFileError> {
    /// Below this many files one thread is faster than starting more.
    const PARALLEL_FROM: usize = 48;
    let files = work_package_files(containment, mission_dir)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(4);
    if files.len() < PARALLEL_FROM || threads < 2 {
        return files.iter().map(|path| load_work_package(path)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    let results: Vec<Vec<Result<WorkPackageEntry, WorkPackageFileError>>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|paths| {
                    scope.spawn(move || {
                        paths
                            .iter()
                            .map(|path| load_work_package(path))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(files.chunks(chunk))
                .map(|(handle, paths)| {
                    handle.join().unwrap_or_else(|_| {
                        // A reader thread panicked (a bug): read its files again here, so the
                        // panic surfaces on this thread with its message.
                        paths.iter().map(|path| load_work_package(path)).collect()
                    })
                })
                .collect()
        });
    results.into_iter().flatten().collect()
}

/// A work package's id, title and dependencies, read quickly (see
/// [`summarize_front_matter`]), with its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkPackageHeader {
    /// The id: `work_package_id`, else the file name's `WPnn` prefix.
    pub wp_id: String,
    /// `tasks/<file name>`.
    pub file: String,
    /// The id, title and dependencies as written.
    pub summary: WorkPackageSummary,
}

/// Reads the id, title and dependencies of every work package of a mission directory.
pub fn work_package_headers(
    containment: &Containment,
    mission_dir: &Path,
) -> Result<Vec<WorkPackageHeader>, WorkPackageFileError> {
    work_package_files(containment, mission_dir)?
        .iter()
        .map(|path| header(path))
        .collect()
}

fn header(path: &Path) -> Result<WorkPackageHeader, WorkPackageFileError> {
    let text = read_text(path)?;
    let split =
        split_front_matter(&text).ok_or_else(|| WorkPackageFileError::FrontMatterMissing {
            path: path.to_path_buf(),
        })?;
    let summary =
        summarize_front_matter(split.yaml).map_err(|source| WorkPackageFileError::FrontMatter {
            path: path.to_path_buf(),
            source: source.shifted(split.yaml_line_offset),
        })?;
    let file = relative_name(path);
    let wp_id = summary
        .work_package_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            path.file_name()
                .and_then(|name| name.to_str())
                .and_then(work_package_id_from_file_name)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| file.clone());
    Ok(WorkPackageHeader {
        wp_id,
        file,
        summary,
    })
}

/// Returns the dependencies of one work package, from its file's front matter; none when it
/// has no file.
pub fn work_package_dependencies(
    containment: &Containment,
    mission_dir: &Path,
    wp_id: &str,
) -> Result<Vec<String>, WorkPackageFileError> {
    match find_wp_file(containment, mission_dir, wp_id)? {
        Some(path) => Ok(header(&path)?.summary.dependencies),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loading_names_the_file_line_and_field() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = std::fs::canonicalize(dir.path())?;
        let containment = Containment::new(&root, &root.join(".git"));
        let tasks = root.join("tasks");
        std::fs::create_dir_all(&tasks)?;
        std::fs::write(tasks.join("README.md"), "not a work package")?;
        std::fs::write(
            tasks.join("WP01-a.md"),
            "---\nwork_package_id: WP01\ntitle: A\ndependencies: []\n---\nBody\n",
        )?;
        std::fs::write(
            tasks.join("WP02-b.md"),
            "---\ntitle: B\ndependencies: [WP01]\n---\n",
        )?;
        let entries = load_work_packages(&containment, &root)?;
        assert_eq!(
            entries.iter().map(WorkPackageEntry::id).collect::<Vec<_>>(),
            ["WP01", "WP02"]
        );
        assert_eq!(entries[0].body, "Body\n");
        let headers = work_package_headers(&containment, &root)?;
        assert_eq!(headers[1].wp_id, "WP02");
        assert_eq!(headers[1].summary.dependencies, ["WP01"]);
        assert_eq!(
            work_package_dependencies(&containment, &root, "WP02")?,
            ["WP01"]
        );
        assert!(work_package_dependencies(&containment, &root, "WP09")?.is_empty());

        std::fs::write(
            tasks.join("WP03-c.md"),
            "---\ntitle: C\nowned_files: 7\n---\n",
        )?;
        let error = load_work_packages(&containment, &root).expect_err("a number");
        assert_eq!(error.code(), "WP_FRONTMATTER_INVALID");
        assert!(
            error.to_string().ends_with(
                "WP03-c.md`: line 3, field `owned_files`: expected a list of strings, found a number"
            ),
            "{error}"
        );
        std::fs::write(tasks.join("WP03-c.md"), "no front matter\n")?;
        let error = load_work_packages(&containment, &root).expect_err("no front matter");
        assert_eq!(error.code(), "WP_FRONTMATTER_MISSING");
        Ok(())
    }

    #[test]
    fn finds_the_file_and_reads_the_roster() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = std::fs::canonicalize(dir.path())?;
        let containment = Containment::new(&root, &root.join(".git"));
        let tasks = root.join("tasks");
        std::fs::create_dir_all(&tasks)?;
        std::fs::write(tasks.join("README.md"), "x")?;
        std::fs::write(
            tasks.join("WP01-first.md"),
            "---\nwork_package_id: WP01\nsubtasks:\n- T001\n- ' T002 '\n- T001\n---\n# Body\n",
        )?;
        std::fs::write(tasks.join("WP010-other.md"), "---\nsubtasks: [T9]\n---\n")?;
        assert_eq!(
            subtask_roster(&containment, &root, "WP01")?,
            vec!["T001", "T002"]
        );
        assert_eq!(
            subtask_roster(&containment, &root, "WP02")?,
            Vec::<String>::new()
        );
        std::fs::write(tasks.join("wp01_copy.md"), "---\nsubtasks: []\n---\n")?;
        let error = subtask_roster(&containment, &root, "WP01").expect_err("two files");
        assert_eq!(error.code(), "WP_FILE_AMBIGUOUS");
        std::fs::write(tasks.join("WP03-bad.md"), "---\nsubtasks: [\n---\n")?;
        let error = subtask_roster(&containment, &root, "WP03").expect_err("bad yaml");
        assert_eq!(error.code(), "WP_FRONTMATTER_INVALID");
        Ok(())
    }

    #[test]
    fn front_matter_needs_both_fences() {
        assert_eq!(front_matter("---\na: 1\n---\nbody"), Some("a: 1\n"));
        assert_eq!(front_matter("no front matter"), None);
        assert_eq!(front_matter("---\na: 1\n"), None);
    }
}
