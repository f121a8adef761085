//! `map-requirements`: writes the `requirement_refs` of one work package on the planning
//! surface and commits its file on the target branch.
//!
//! The work package and `spec.md` are read from the planning surface's mission directory —
//! the directory `tasks finalize` reads them from — so the two commands always agree on a
//! work package's refs and on which functional requirements no work package maps.
//!
//! Order of work, all checks first:
//!
//! 1. the work package id and every ref are well formed (`FR-###`, `NFR-###`, `C-###`);
//! 2. the planning surface is writable (target branch checked out, not protected);
//! 3. every ref is declared in the mission's `spec.md`;
//! 4. the work package exists; its new refs are its current ones and the new ones, each once,
//!    sorted (or the new ones alone with `replace`), and every one of them must be declared;
//!    its file, when the branch has it, has no uncommitted changes (the commit would take them
//!    along);
//! 5. only the `requirement_refs` lines of the file are rewritten (every other byte kept), and
//!    the file is committed when it differs from the branch tip. A failed commit puts the
//!    file's previous bytes back.
//!
//! Running it again with the same refs rewrites nothing and commits nothing.

use missionctl_core::planning::requirement::{
    DeclaredRequirements, RefCheck, RequirementCoverage, RequirementId, merge_refs,
};
use missionctl_core::planning::task_plan::WorkPackageEntry;
use missionctl_core::planning::work_package::{
    FrontMatterEditError, is_work_package_id, set_requirement_refs,
};
use serde::Serialize;

use crate::fs_util::PathError;
use crate::planning::work_package::{WorkPackageFileError, load_work_packages};
use crate::planning::{PlanningError, PlanningSurface};
use crate::repo::Repo;

/// What to map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MapRequirementsRequest {
    /// The work package, `WPnn` (any case).
    pub wp_id: String,
    /// The refs, as given (any case, surrounding whitespace ignored).
    pub refs: Vec<String>,
    /// Replace the work package's refs instead of adding to them.
    pub replace: bool,
}

/// What `map-requirements` did.
#[derive(Debug, Clone, Serialize)]
pub struct MapRequirementsReport {
    /// The mission.
    pub mission_slug: String,
    /// The branch planning artifacts are committed to.
    pub planning_branch: String,
    /// The work package.
    pub wp_id: String,
    /// Its file, relative to the repository.
    pub file: String,
    /// Its refs now.
    pub requirement_refs: Vec<RequirementId>,
    /// The refs it did not have before.
    pub added: Vec<RequirementId>,
    /// The refs it no longer has (only with `replace`), as they were written.
    pub removed: Vec<String>,
    /// Whether the file was rewritten.
    pub written: bool,
    /// The commit of the file, or `None` when it already matched the branch tip.
    pub commit: Option<String>,
    /// The functional requirements of `spec.md` the mission's work packages now map.
    pub coverage: RequirementCoverage,
}

/// Why `map-requirements` refused or failed. Nothing is left written when it is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapRequirementsError {
    /// The work package id is not `WP` and two or more digits.
    #[error("Invalid work package id `{0}`: expected `WP` followed by at least two digits")]
    InvalidWpId(String),
    /// No ref was given.
    #[error("No requirement refs given")]
    NoRefs,
    /// Some refs are not requirement ids.
    #[error("Not requirement ids: {}", .0.join(", "))]
    InvalidRefs(Vec<String>),
    /// The mission has no `spec.md`.
    #[error("`{path}` does not exist: requirement refs are checked against it")]
    SpecMissing {
        /// The missing file, relative to the repository.
        path: String,
    },
    /// Some refs are not declared in `spec.md`.
    #[error(
        "Not declared in `{spec}`: {}",
        unknown.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    UnknownRefs {
        /// `spec.md`, relative to the repository.
        spec: String,
        /// The refs it does not declare.
        unknown: Vec<RequirementId>,
        /// The refs it declares.
        declared: Vec<RequirementId>,
    },
    /// No file of the mission defines the work package (Spec Kitty's wording).
    #[error("Work package '{wp_id}' not found under kitty-specs/{mission_slug}/tasks")]
    UnknownWorkPackage {
        /// The mission.
        mission_slug: String,
        /// The work package asked for.
        wp_id: String,
        /// The work packages that exist.
        available: Vec<String>,
    },
    /// Several files define the work package.
    #[error("Several files define {wp_id}: {}", files.join(", "))]
    AmbiguousWorkPackage {
        /// The work package.
        wp_id: String,
        /// The files, relative to the mission directory.
        files: Vec<String>,
    },
    /// The work package already has refs that are not ids or not declared in `spec.md`, which
    /// adding to them would keep.
    #[error("{wp_id} already has refs that are not declared requirements: {}", refs.join(", "))]
    StaleRefs {
        /// The work package.
        wp_id: String,
        /// The refs, as written.
        refs: Vec<String>,
    },
    /// The work-package file has changes that are not committed: committing the file would
    /// commit them too.
    #[error("`{file}` has uncommitted changes; map-requirements commits only its own edit")]
    UncommittedChanges {
        /// The file, relative to the repository.
        file: String,
    },
    /// The field cannot be rewritten in place.
    #[error("Cannot rewrite the `requirement_refs` of `{file}`")]
    Edit {
        /// The file, relative to the repository.
        file: String,
        /// Why.
        #[source]
        source: FrontMatterEditError,
    },
    /// The planning surface cannot be resolved or written.
    #[error(transparent)]
    Planning(#[from] PlanningError),
    /// A work-package file cannot be read.
    #[error(transparent)]
    WorkPackage(#[from] WorkPackageFileError),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl MapRequirementsError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            MapRequirementsError::InvalidWpId(_) => "INVALID_WP_ID",
            MapRequirementsError::NoRefs => "REQUIREMENT_REFS_MISSING",
            MapRequirementsError::InvalidRefs(_) => "REQUIREMENT_REF_INVALID",
            MapRequirementsError::SpecMissing { .. } => "SPEC_NOT_FOUND",
            MapRequirementsError::UnknownRefs { .. } => "REQUIREMENT_REF_UNKNOWN",
            MapRequirementsError::UnknownWorkPackage { .. } => "WP_NOT_FOUND",
            MapRequirementsError::AmbiguousWorkPackage { .. } => "WP_FILE_AMBIGUOUS",
            MapRequirementsError::StaleRefs { .. } => "REQUIREMENT_REFS_STALE",
            MapRequirementsError::UncommittedChanges { .. } => "WP_FILE_UNCOMMITTED",
            MapRequirementsError::Edit { .. } => "WP_FRONTMATTER_EDIT_REFUSED",
            MapRequirementsError::Planning(error) => error.code(),
            MapRequirementsError::WorkPackage(error) => error.code(),
            MapRequirementsError::Io(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            MapRequirementsError::InvalidWpId(_) => "Pass an id such as `--wp WP01`".to_owned(),
            MapRequirementsError::NoRefs => "Pass `--refs FR-001,FR-002`".to_owned(),
            MapRequirementsError::InvalidRefs(_) => {
                "Requirement ids are `FR-`, `NFR-` or `C-` followed by digits, such as `FR-001`"
                    .to_owned()
            }
            MapRequirementsError::SpecMissing { .. } => {
                "Write the mission's spec.md, with its requirements, and commit it with \
                 `missionctl spec-commit`"
                    .to_owned()
            }
            MapRequirementsError::UnknownRefs { declared, .. } => {
                if declared.is_empty() {
                    "spec.md declares no requirement: add rows such as `| FR-001 | title | \
                     description |`"
                        .to_owned()
                } else {
                    format!(
                        "spec.md declares {}; nothing was written",
                        declared
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            }
            MapRequirementsError::UnknownWorkPackage {
                mission_slug,
                available,
                ..
            } => {
                if available.is_empty() {
                    format!(
                        "Add one with `missionctl wp add --mission {mission_slug} WP01 --title \"…\"`"
                    )
                } else {
                    format!("The work packages are {}", available.join(", "))
                }
            }
            MapRequirementsError::AmbiguousWorkPackage { .. } => {
                "Keep one `tasks/WPxx-*.md` file per work package".to_owned()
            }
            MapRequirementsError::StaleRefs { .. } => {
                "Pass `--replace` to set the work package's refs to the ones given".to_owned()
            }
            MapRequirementsError::UncommittedChanges { file } => format!(
                "Commit your changes to `{file}` (`git commit {file}`) or put them aside \
                 (`git stash push -- {file}`), then retry; nothing was written"
            ),
            MapRequirementsError::Edit { .. } => {
                "Write the field as a list at the start of its line (`requirement_refs:` then \
                 `- FR-001` lines), then retry; nothing was written"
                    .to_owned()
            }
            MapRequirementsError::Planning(error) => error.hint(),
            MapRequirementsError::WorkPackage(error) => error.hint(),
            MapRequirementsError::Io(error) => error.hint(),
        }
    }
}

/// Maps requirements to a work package. See the [module](self) docs.
pub fn map_requirements(
    repo: &Repo,
    handle: &str,
    request: &MapRequirementsRequest,
    protected_branches: &crate::repo::protection::ProtectedBranches,
    clock: &dyn crate::clock::Clock,
) -> Result<MapRequirementsReport, MapRequirementsError> {
    let wp_id = request.wp_id.trim().to_ascii_uppercase();
    if !is_work_package_id(&wp_id) {
        return Err(MapRequirementsError::InvalidWpId(request.wp_id.clone()));
    }
    let given: Vec<&str> = request
        .refs
        .iter()
        .map(|written| written.trim())
        .filter(|written| !written.is_empty())
        .collect();
    if given.is_empty() {
        return Err(MapRequirementsError::NoRefs);
    }
    let malformed: Vec<String> = given
        .iter()
        .filter(|written| RequirementId::parse(written).is_none())
        .map(|written| (*written).to_owned())
        .collect();
    if !malformed.is_empty() {
        return Err(MapRequirementsError::InvalidRefs(malformed));
    }

    let surface = PlanningSurface::resolve(repo, handle)?;
    surface.check_writable(repo, protected_branches)?;
    // Everything below reads and writes under the mission's lock.
    let mut transaction = surface.begin(repo, "map-requirements")?;
    let spec_rel = surface.repo_path("spec.md");
    let spec = surface
        .containment
        .read(&surface.mission_dir.join("spec.md"))?
        .ok_or_else(|| MapRequirementsError::SpecMissing {
            path: spec_rel.clone(),
        })?;
    let declared = DeclaredRequirements::parse(&String::from_utf8_lossy(&spec));
    let check = RefCheck::of(given.iter().copied(), &declared);
    if !check.unknown.is_empty() {
        return Err(MapRequirementsError::UnknownRefs {
            spec: spec_rel,
            unknown: check.unknown,
            declared: declared.ids(),
        });
    }

    let mut entries = load_work_packages(&surface.containment, &surface.mission_dir)?;
    let index = find_entry(&surface, &entries, &wp_id)?;
    let entry = &entries[index];
    let before = entry.front.requirement_refs.clone();
    let merged = merge_refs(&before, &check.known, request.replace).map_err(|refs| {
        MapRequirementsError::StaleRefs {
            wp_id: wp_id.clone(),
            refs,
        }
    })?;
    let stale: Vec<String> = merged
        .iter()
        .filter(|id| !declared.contains(id))
        .map(ToString::to_string)
        .collect();
    if !stale.is_empty() {
        return Err(MapRequirementsError::StaleRefs { wp_id, refs: stale });
    }
    let written_refs: Vec<String> = merged.iter().map(ToString::to_string).collect();
    let file_rel = surface.repo_path(&entry.file);
    // The commit takes the whole file: edits of the user's to a committed one would go along
    // unasked. (A new file is the plan being written: committing it is what is asked.)
    if !surface
        .edited_paths(std::slice::from_ref(&file_rel))?
        .is_empty()
    {
        return Err(MapRequirementsError::UncommittedChanges { file: file_rel });
    }
    let path = surface.mission_dir.join(&entry.file);
    let original = surface.containment.read(&path)?.unwrap_or_default();
    let text = String::from_utf8_lossy(&original);
    let edited = set_requirement_refs(&text, &written_refs).map_err(|source| {
        MapRequirementsError::Edit {
            file: file_rel.clone(),
            source,
        }
    })?;
    let written = edited.as_bytes() != original.as_slice();
    let added: Vec<RequirementId> = merged
        .iter()
        .filter(|id| {
            !before
                .iter()
                .any(|written| RequirementId::parse(written).as_ref() == Some(*id))
        })
        .cloned()
        .collect();
    let removed: Vec<String> = before
        .iter()
        .filter(|written| RequirementId::parse(written).is_none_or(|id| !merged.contains(&id)))
        .cloned()
        .collect();

    if written {
        transaction
            .write_file(&path, edited.as_bytes())
            .map_err(PlanningError::from)?;
    }
    let message = format!(
        "chore: Map requirements for {wp_id} on {}",
        surface.mission_slug()
    );
    // A failure undoes the rewrite: the door restores the file's bytes.
    let commit = surface.commit(
        &mut transaction,
        std::slice::from_ref(&file_rel),
        &message,
        crate::clock::unix_seconds(clock),
    )?;
    transaction.finish().map_err(PlanningError::from)?;
    entries[index].front.requirement_refs = written_refs;
    Ok(MapRequirementsReport {
        mission_slug: surface.mission_slug().to_owned(),
        planning_branch: surface.branch.clone(),
        wp_id,
        file: file_rel,
        coverage: RequirementCoverage::of(&declared, &entries),
        requirement_refs: merged,
        added,
        removed,
        written,
        commit,
    })
}

/// Returns the index of the work package's entry: the one file whose id is `wp_id`.
fn find_entry(
    surface: &PlanningSurface,
    entries: &[WorkPackageEntry],
    wp_id: &str,
) -> Result<usize, MapRequirementsError> {
    let matches: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.id() == wp_id)
        .map(|(index, _)| index)
        .collect();
    match matches.as_slice() {
        [index] => Ok(*index),
        [] => Err(MapRequirementsError::UnknownWorkPackage {
            mission_slug: surface.mission_slug().to_owned(),
            wp_id: wp_id.to_owned(),
            available: entries.iter().map(|entry| entry.id().to_owned()).collect(),
        }),
        _ => Err(MapRequirementsError::AmbiguousWorkPackage {
            wp_id: wp_id.to_owned(),
            files: matches
                .iter()
                .map(|index| entries[*index].file.clone())
                .collect(),
        }),
    }
}
