//! `wp add`: writes a new work-package file `tasks/WPxx-<slug>.md` on the planning surface.
//!
//! The new file is checked together with the mission's existing work packages before it is
//! written — the same checks as `tasks finalize` ([`validate_plan`]) — and only the problems
//! the new file brings are reported. The file is written to the primary mission directory and
//! left for `tasks finalize` to commit with the rest of the plan.

use std::path::PathBuf;

use missionctl_core::planning::task_plan::{PlanFinding, WorkPackageEntry, validate_plan};
use missionctl_core::planning::work_package::{
    ExecutionMode, FrontMatter, NewWorkPackage, is_work_package_id, split_front_matter,
};
use serde::Serialize;

use crate::fs_util::PathError;
use crate::planning::work_package::{WorkPackageFileError, find_wp_file, load_work_packages};
use crate::planning::{PlanningError, PlanningSurface};
use crate::repo::Repo;
use crate::write::WriteError;

/// What to add.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddWorkPackage {
    /// The id, `WPnn`.
    pub wp_id: String,
    /// The title.
    pub title: String,
    /// The work packages it depends on (they must exist).
    pub dependencies: Vec<String>,
    /// Its subtask ids (`T001`, …), unique in the mission.
    pub subtasks: Vec<String>,
    /// The globs of the files it may write, relative to the repository root.
    pub owned_files: Vec<String>,
    /// Owned files that do not exist yet: Spec Kitty's `create_intent`, which lets a literal
    /// owned path match nothing in the repository.
    pub create_intent: Vec<String>,
    /// The requirements it implements.
    pub requirement_refs: Vec<String>,
    /// Code (default) or planning artifacts.
    pub execution_mode: Option<ExecutionMode>,
}

/// The work package that was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddedWorkPackage {
    /// The mission.
    pub mission_slug: String,
    /// The id.
    pub wp_id: String,
    /// The new file (absolute).
    pub path: PathBuf,
    /// The new file, relative to the repository root.
    pub repo_path: String,
    /// The branch `tasks finalize` will commit it to.
    pub planning_branch: String,
}

/// Why a work package was not added. Nothing is written when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddWorkPackageError {
    /// The id is not `WP` and two or more digits.
    #[error("Invalid work package id `{0}`: expected `WP` followed by at least two digits")]
    InvalidId(String),
    /// The title is empty.
    #[error("The title of {0} is empty")]
    TitleMissing(String),
    /// A file already defines the id.
    #[error("{wp_id} already exists: `{}`", path.display())]
    Exists {
        /// The id.
        wp_id: String,
        /// The existing file.
        path: PathBuf,
    },
    /// The new work package breaks the plan.
    #[error(
        "{wp_id} cannot be added: {}",
        findings.iter().map(|finding| finding.message.clone()).collect::<Vec<_>>().join("; ")
    )]
    Invalid {
        /// The id.
        wp_id: String,
        /// The problems it would bring.
        findings: Vec<PlanFinding>,
    },
    /// The planning surface cannot be resolved or written.
    #[error(transparent)]
    Planning(#[from] PlanningError),
    /// An existing work-package file cannot be read.
    #[error(transparent)]
    WorkPackage(#[from] WorkPackageFileError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl AddWorkPackageError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AddWorkPackageError::InvalidId(_) => "INVALID_WP_ID",
            AddWorkPackageError::TitleMissing(_) => "WP_TITLE_MISSING",
            AddWorkPackageError::Exists { .. } => "WP_ALREADY_EXISTS",
            AddWorkPackageError::Invalid { findings, .. } => findings
                .first()
                .map_or("WP_INVALID", |finding| finding.code),
            AddWorkPackageError::Planning(error) => error.code(),
            AddWorkPackageError::WorkPackage(error) => error.code(),
            AddWorkPackageError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            AddWorkPackageError::InvalidId(_) => "Pass an id such as `WP01`".to_owned(),
            AddWorkPackageError::TitleMissing(_) => "Pass `--title \"…\"`".to_owned(),
            AddWorkPackageError::Exists { .. } => {
                "Pick the next free id (`missionctl wp list --mission <mission>` shows the ids in use), \
                 or edit the existing file"
                    .to_owned()
            }
            AddWorkPackageError::Invalid { .. } => {
                "Add the work packages it depends on first, keep subtask ids unique, and keep \
                 `--owned-file` globs inside the repository and apart from unrelated work \
                 packages; nothing was written"
                    .to_owned()
            }
            AddWorkPackageError::Planning(error) => error.hint(),
            AddWorkPackageError::WorkPackage(error) => error.hint(),
            AddWorkPackageError::Io(error) => error.hint(),
        }
    }
}

/// Adds a work package to a mission. See the [module](self) docs.
pub fn add_work_package(
    repo: &Repo,
    handle: &str,
    request: &AddWorkPackage,
    protected_branches: &crate::repo::protection::ProtectedBranches,
) -> Result<AddedWorkPackage, AddWorkPackageError> {
    if !is_work_package_id(&request.wp_id) {
        return Err(AddWorkPackageError::InvalidId(request.wp_id.clone()));
    }
    if request.title.trim().is_empty() {
        return Err(AddWorkPackageError::TitleMissing(request.wp_id.clone()));
    }
    let surface = PlanningSurface::resolve(repo, handle)?;
    // Under the mission's lock: of several adds of one id at once, one writes its file and the
    // others find it.
    let mut transaction = surface.begin(repo, "wp add")?;
    if let Some(path) = find_wp_file(&surface.containment, &surface.mission_dir, &request.wp_id)? {
        return Err(AddWorkPackageError::Exists {
            wp_id: request.wp_id.clone(),
            path,
        });
    }
    let new = NewWorkPackage {
        work_package_id: request.wp_id.clone(),
        title: request.title.trim().to_owned(),
        dependencies: request.dependencies.clone(),
        requirement_refs: request.requirement_refs.clone(),
        subtasks: request.subtasks.clone(),
        execution_mode: request.execution_mode,
        owned_files: request.owned_files.clone(),
        create_intent: request.create_intent.clone(),
        target_branch: surface.branch.clone(),
    };
    let file_name = new.file_name();
    let text = new.render();
    let entry = new_entry(&file_name, &text);
    let mut entries = load_work_packages(&surface.containment, &surface.mission_dir)?;
    let before: Vec<String> = validate_plan(&entries)
        .errors()
        .map(ToString::to_string)
        .collect();
    entries.push(entry);
    let brought: Vec<PlanFinding> = validate_plan(&entries)
        .errors()
        .filter(|finding| !before.contains(&finding.to_string()))
        .cloned()
        .collect();
    if !brought.is_empty() {
        return Err(AddWorkPackageError::Invalid {
            wp_id: request.wp_id.clone(),
            findings: brought,
        });
    }
    surface.check_writable(repo, protected_branches)?;

    let tasks = surface.mission_dir.join("tasks");
    transaction
        .create_dir_all(&tasks)
        .map_err(PlanningError::from)?;
    let path = tasks.join(&file_name);
    match transaction.create_file(&path, text.as_bytes()) {
        Ok(()) => {}
        Err(WriteError::Exists { path }) => {
            return Err(AddWorkPackageError::Exists {
                wp_id: request.wp_id.clone(),
                path,
            });
        }
        Err(error) => return Err(PlanningError::from(error).into()),
    }
    transaction.finish().map_err(PlanningError::from)?;
    Ok(AddedWorkPackage {
        mission_slug: surface.mission_slug().to_owned(),
        wp_id: request.wp_id.clone(),
        repo_path: surface.repo_path(&format!("tasks/{file_name}")),
        path,
        planning_branch: surface.branch.clone(),
    })
}

/// Parses the rendered file back (it always parses: the renderer quotes what YAML would
/// misread).
fn new_entry(file_name: &str, text: &str) -> WorkPackageEntry {
    let (yaml, body, offset) = match split_front_matter(text) {
        Some(split) => (split.yaml, split.body, split.yaml_line_offset),
        None => ("", text, 1),
    };
    WorkPackageEntry {
        file: format!("tasks/{file_name}"),
        line_offset: offset,
        front: FrontMatter::parse(yaml).unwrap_or_default(),
        body: body.to_owned(),
    }
}
