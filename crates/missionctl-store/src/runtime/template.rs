//! Where a mission type's runtime template comes from, found the way Spec Kitty's `next` finds
//! it, and the template file a run names (`template_path`).
//!
//! The tiers, first match wins (a tier is a list of roots):
//!
//! 1. the paths of `SPEC_KITTY_MISSION_PATHS` (passed in by the caller);
//! 2. `.kittify/overrides/missions`;
//! 3. `.kittify/missions`;
//! 4. the local roots of the org doctrine packs in `.kittify/config.yaml`
//!    (`doctrine.org.packs[].local_path`, joined with `subdir`);
//! 5. the `mission_packs` of `.kittify/config.yaml`;
//! 6. for `software-dev`: the built-in templates, then the user's `~/.kittify/missions`; for
//!    every other type the other way round.
//!
//! In a root, the candidates are `<type>/mission-runtime.yaml`, `<type>/mission.yaml`,
//! `missions/<type>/…` and the root's own `mission-runtime.yaml` / `mission.yaml` (a root may also
//! be one of those files); a `mission.yaml` yields to its `mission-runtime.yaml` sidecar. A
//! candidate counts only if it loads as a template whose key is the mission type: a file that
//! does not load is skipped, as Spec Kitty skips it.
//!
//! The built-in templates are Spec Kitty 3.2.7's own `mission-runtime.yaml` files (MIT), for
//! `software-dev`, `research`, `documentation` and `plan`.
//!
//! Files inside the repository are read through its [`Containment`] (a symbolic link there is
//! refused, ADR 0006); the tiers outside it (`SPEC_KITTY_MISSION_PATHS`, the home directory, a
//! run's template in Spec Kitty's installation) are plain reads.

use std::path::{Path, PathBuf};

use missionctl_core::mission::mission_template::{
    MISSION_RUNTIME_YAML, MISSION_YAML, MissionTemplate, TemplateError,
};
use missionctl_core::status::reducer::is_safe_segment;
use serde_json::Value;

use crate::fs_util::{PathError, read_optional};
use crate::repo::containment::Containment;

/// How the template search reaches files: through the repository's containment inside it,
/// directly outside it.
#[derive(Debug, Clone, Copy)]
pub struct TemplateFiles<'a> {
    /// The repository's containment.
    pub containment: &'a Containment,
    /// The primary checkout's root.
    pub repo_root: &'a Path,
}

impl TemplateFiles<'_> {
    fn inside(&self, path: &Path) -> bool {
        path.starts_with(self.repo_root)
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, PathError> {
        if self.inside(path) {
            self.containment.read(path)
        } else {
            read_optional(path)
        }
    }

    fn is_file(&self, path: &Path) -> Result<bool, PathError> {
        if self.inside(path) {
            self.containment.is_file(path)
        } else {
            Ok(path.is_file())
        }
    }

    fn is_dir(&self, path: &Path) -> Result<bool, PathError> {
        if self.inside(path) {
            self.containment.is_dir(path)
        } else {
            Ok(path.is_dir())
        }
    }
}

/// The built-in templates: mission type and bytes.
pub const BUILTIN_TEMPLATES: [(&str, &[u8]); 4] = [
    (
        "software-dev",
        include_bytes!("software-dev.mission-runtime.yaml"),
    ),
    ("research", include_bytes!("research.mission-runtime.yaml")),
    (
        "documentation",
        include_bytes!("documentation.mission-runtime.yaml"),
    ),
    ("plan", include_bytes!("plan.mission-runtime.yaml")),
];

/// The mission type whose built-in template wins over the user's global one.
const SOFTWARE_DEV: &str = "software-dev";

/// What the template search may look at besides the repository.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateSearch {
    /// The roots of `SPEC_KITTY_MISSION_PATHS`, in order.
    pub env_paths: Vec<PathBuf>,
    /// The user's home directory (its `.kittify/missions` is the global tier).
    pub user_home: Option<PathBuf>,
}

/// Where a resolved template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// A file (absolute path).
    File(PathBuf),
    /// missionctl's built-in copy of Spec Kitty's template for this mission type.
    Builtin(&'static str),
}

/// A template found for a mission type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTemplate {
    /// Where it came from.
    pub source: TemplateSource,
    /// Its bytes (frozen into a new run).
    pub bytes: Vec<u8>,
    /// The template.
    pub template: MissionTemplate,
}

/// Why a template file a run names cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateFileError {
    /// The file does not exist.
    #[error("Mission template not found: {0}")]
    NotFound(String),
    /// The file cannot be read.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The file is not a template.
    #[error("{source}: {path}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: TemplateError,
    },
}

/// Returns the template of a mission type, or `None` when no tier has one. A symbolic link
/// inside the repository is an error, as everywhere.
pub fn resolve_template(
    files: TemplateFiles<'_>,
    mission_type: &str,
    search: &TemplateSearch,
) -> Result<Option<ResolvedTemplate>, PathError> {
    if !is_safe_segment(mission_type) {
        return Ok(None);
    }
    let repo_root = files.repo_root;
    let kittify = repo_root.join(".kittify");
    let config = read_config(&files, &kittify.join("config.yaml"))?;
    let mut roots: Vec<Root> = Vec::new();
    roots.extend(search.env_paths.iter().cloned().map(Root::Dir));
    roots.push(Root::Dir(kittify.join("overrides").join("missions")));
    roots.push(Root::Dir(kittify.join("missions")));
    roots.extend(
        org_pack_roots(repo_root, &config)
            .into_iter()
            .map(Root::Dir),
    );
    roots.extend(
        mission_pack_roots(repo_root, &config)
            .into_iter()
            .map(Root::Dir),
    );
    let global = search
        .user_home
        .as_ref()
        .map(|home| Root::Dir(home.join(".kittify").join("missions")));
    if mission_type == SOFTWARE_DEV {
        roots.push(Root::Builtin);
        roots.extend(global);
    } else {
        roots.extend(global);
        roots.push(Root::Builtin);
    }
    for root in &roots {
        if let Some(resolved) = resolve_in_root(&files, root, mission_type)? {
            return Ok(Some(resolved));
        }
    }
    Ok(None)
}

/// One root of a tier.
enum Root {
    Dir(PathBuf),
    Builtin,
}

fn resolve_in_root(
    files: &TemplateFiles<'_>,
    root: &Root,
    mission_type: &str,
) -> Result<Option<ResolvedTemplate>, PathError> {
    let dir = match root {
        Root::Builtin => {
            return Ok(BUILTIN_TEMPLATES
                .iter()
                .find(|(key, _)| *key == mission_type)
                .and_then(|(key, bytes)| {
                    let template = MissionTemplate::parse(bytes, key).ok()?;
                    Some(ResolvedTemplate {
                        source: TemplateSource::Builtin(key),
                        bytes: bytes.to_vec(),
                        template,
                    })
                }));
        }
        Root::Dir(dir) => dir,
    };
    let candidates: Vec<PathBuf> = if files.is_file(dir)? {
        let name = dir.file_name().and_then(|name| name.to_str());
        if matches!(name, Some(MISSION_RUNTIME_YAML | MISSION_YAML)) {
            vec![dir.clone()]
        } else {
            Vec::new()
        }
    } else if files.is_dir(dir)? {
        vec![
            dir.join(mission_type).join(MISSION_RUNTIME_YAML),
            dir.join(mission_type).join(MISSION_YAML),
            dir.join("missions")
                .join(mission_type)
                .join(MISSION_RUNTIME_YAML),
            dir.join("missions").join(mission_type).join(MISSION_YAML),
            dir.join(MISSION_RUNTIME_YAML),
            dir.join(MISSION_YAML),
        ]
    } else {
        Vec::new()
    };
    for candidate in candidates {
        if !files.is_file(&candidate)? {
            continue;
        }
        let mut tries = vec![candidate.clone()];
        if candidate.file_name().and_then(|name| name.to_str()) == Some(MISSION_YAML) {
            let sidecar = candidate.with_file_name(MISSION_RUNTIME_YAML);
            if files.is_file(&sidecar)? {
                tries.insert(0, sidecar);
            }
        }
        for path in tries {
            match load_template_file(files, &path) {
                Ok((bytes, template)) if template.key == mission_type => {
                    return Ok(Some(ResolvedTemplate {
                        source: TemplateSource::File(path),
                        bytes,
                        template,
                    }));
                }
                Err(TemplateFileError::Io(error)) if error.escape().is_some() => {
                    return Err(error);
                }
                // A file that does not load, or is another type's, is skipped as Spec Kitty
                // skips it.
                _ => {}
            }
        }
    }
    Ok(None)
}

/// Reads and parses a template file (its directory's name is the key of a shorthand template
/// that names none).
pub fn load_template_file(
    files: &TemplateFiles<'_>,
    path: &Path,
) -> Result<(Vec<u8>, MissionTemplate), TemplateFileError> {
    let Some(bytes) = files.read(path)? else {
        return Err(TemplateFileError::NotFound(path.display().to_string()));
    };
    let dir_name = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let template =
        MissionTemplate::parse(&bytes, dir_name).map_err(|source| TemplateFileError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((bytes, template))
}

/// Reads `.kittify/config.yaml` as YAML; a file that does not parse is no configuration.
fn read_config(files: &TemplateFiles<'_>, path: &Path) -> Result<Value, PathError> {
    Ok(files
        .read(path)?
        .and_then(|bytes| serde_saphyr::from_str::<Value>(&String::from_utf8_lossy(&bytes)).ok())
        .unwrap_or(Value::Null))
}

/// The local roots of the configured org doctrine packs, in declaration order.
fn org_pack_roots(repo_root: &Path, config: &Value) -> Vec<PathBuf> {
    config
        .pointer("/doctrine/org/packs")
        .and_then(Value::as_array)
        .map(|packs| {
            packs
                .iter()
                .filter_map(|pack| {
                    let local = pack.get("local_path")?.as_str()?;
                    let root = repo_root.join(local);
                    Some(match pack.get("subdir").and_then(Value::as_str) {
                        Some(subdir) if !subdir.is_empty() => root.join(subdir),
                        _ => root,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `mission_packs` of the configuration, relative to the repository.
fn mission_pack_roots(repo_root: &Path, config: &Value) -> Vec<PathBuf> {
    config
        .get("mission_packs")
        .and_then(Value::as_array)
        .map(|packs| {
            packs
                .iter()
                .filter_map(Value::as_str)
                .map(|pack| repo_root.join(pack))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_loads_with_its_key() {
        for (key, bytes) in BUILTIN_TEMPLATES {
            let template = MissionTemplate::parse(bytes, "x").expect(key);
            assert_eq!(template.key, key);
        }
    }

    #[test]
    fn tiers_are_searched_in_spec_kittys_order() {
        let repo = tempfile::tempdir().expect("tempdir");
        let home = tempfile::tempdir().expect("home");
        let search = TemplateSearch {
            env_paths: Vec::new(),
            user_home: Some(home.path().to_path_buf()),
        };
        let containment = Containment::new(repo.path(), &repo.path().join(".git"));
        let files = TemplateFiles {
            containment: &containment,
            repo_root: repo.path(),
        };
        let resolve = |key: &str| resolve_template(files, key, &search).expect("no link");
        let builtin = |key: &str| resolve(key).map(|resolved| resolved.source);
        assert_eq!(
            builtin("software-dev"),
            Some(TemplateSource::Builtin("software-dev"))
        );
        assert_eq!(
            builtin("research"),
            Some(TemplateSource::Builtin("research"))
        );
        assert_eq!(builtin("nope"), None);
        assert_eq!(builtin("../x"), None);

        // The user's global template wins over the built-in one except for software-dev.
        let write = |dir: &Path, key: &str| {
            std::fs::create_dir_all(dir).expect("mkdir");
            let text = format!(
                "mission:\n  key: {key}\n  name: Test\n  version: \"1\"\nsteps:\n  - id: first-{key}\n    title: T\n"
            );
            std::fs::write(dir.join(MISSION_RUNTIME_YAML), text).expect("write");
        };
        let global = home.path().join(".kittify/missions");
        write(&global.join("research"), "research");
        write(&global.join("software-dev"), "software-dev");
        assert!(matches!(builtin("research"), Some(TemplateSource::File(_))));
        assert_eq!(
            builtin("software-dev"),
            Some(TemplateSource::Builtin("software-dev"))
        );

        // A project override wins over both; one without a key is skipped.
        let overrides = repo.path().join(".kittify/overrides/missions");
        std::fs::create_dir_all(overrides.join("software-dev")).expect("mkdir");
        std::fs::write(
            overrides.join("software-dev").join(MISSION_YAML),
            "mission:\n  name: x\n  version: \"1\"\n",
        )
        .expect("write");
        assert_eq!(
            builtin("software-dev"),
            Some(TemplateSource::Builtin("software-dev"))
        );
        write(&overrides.join("software-dev"), "software-dev");
        let resolved = resolve("software-dev").expect("override");
        assert_eq!(resolved.template.steps[0].id, "first-software-dev");
        assert!(
            matches!(resolved.source, TemplateSource::File(path) if path.ends_with("software-dev/mission-runtime.yaml"))
        );
    }
}
