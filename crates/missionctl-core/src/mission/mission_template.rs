//! Mission runtime templates (`mission-runtime.yaml`) and the run planner Spec Kitty's `next`
//! uses: a DAG over the template's steps, read against a run's snapshot.
//!
//! A template is read as Spec Kitty's loader reads it: a YAML mapping with a `mission` block
//! (`key`, `name`, `version`), `steps` (each an `id`, a `title`, `depends_on`,
//! `requires_inputs`) and `audit_steps` (the same, with `audit.enforcement`). A file without a
//! `mission` block is the shorthand form, whose key is its `key`, else its `name`, else the name
//! of its directory. A template without any step is refused.
//!
//! [`plan_run`] is the planner: a blocked run stays blocked, a template whose bytes changed
//! since the run froze it blocks, a pending decision is asked first, then the first step (in
//! `steps`, then `audit_steps` order) that is neither completed nor issued and whose
//! dependencies are all completed is the next one.

use serde_json::{Map, Value};

use crate::mission::run::MissionRunSnapshot;
use crate::status::event::python_str;
use crate::text::pyjson::is_truthy;

/// A template's file name when it is a runtime template.
pub const MISSION_RUNTIME_YAML: &str = "mission-runtime.yaml";
/// A template's file name when it is a mission definition (the runtime sidecar is preferred).
pub const MISSION_YAML: &str = "mission.yaml";

/// Why a template could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The bytes are not YAML.
    #[error("Invalid YAML: {0}")]
    Yaml(String),
    /// The document is not a mapping.
    #[error("Mission template must be a mapping")]
    NotAMapping,
    /// A field is missing or has the wrong type.
    #[error("Invalid mission template: {0}")]
    Invalid(String),
    /// The template has neither steps nor audit steps.
    #[error("Mission template has no steps")]
    NoSteps,
}

/// One step of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStep {
    /// The step id (`discovery`, `specify`, …).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The steps that must be completed first.
    pub depends_on: Vec<String>,
    /// The inputs that must be provided before it is issued (prompt steps only).
    pub requires_inputs: Vec<String>,
    /// For an audit step: whether it blocks (asks for approval) or only advises.
    pub audit: Option<AuditEnforcement>,
}

/// How an audit step is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditEnforcement {
    /// The run asks for an approval before going on.
    Blocking,
    /// The audit is issued as a step.
    Advisory,
}

/// A mission runtime template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissionTemplate {
    /// The mission key (`software-dev`, `research`, …).
    pub key: String,
    /// The prompt steps, in template order.
    pub steps: Vec<TemplateStep>,
    /// The audit steps, in template order (planned after every prompt step).
    pub audit_steps: Vec<TemplateStep>,
}

impl MissionTemplate {
    /// Parses a template's bytes. `dir_name` is the name of the directory holding the file,
    /// the key of a shorthand template that names none.
    pub fn parse(bytes: &[u8], dir_name: &str) -> Result<MissionTemplate, TemplateError> {
        let text = String::from_utf8_lossy(bytes);
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_saphyr::from_str(&text).map_err(|error| TemplateError::Yaml(error.to_string()))?
        };
        let fields = match value {
            Value::Null => Map::new(),
            Value::Object(fields) => fields,
            _ => return Err(TemplateError::NotAMapping),
        };
        let template = if fields.contains_key("mission") {
            MissionTemplate {
                key: mission_key(fields.get("mission"))?,
                steps: steps(fields.get("steps"), false)?,
                audit_steps: steps(fields.get("audit_steps"), true)?,
            }
        } else {
            let named = |key: &str| {
                fields
                    .get(key)
                    .filter(|value| is_truthy(value))
                    .map(python_str)
            };
            MissionTemplate {
                key: named("key")
                    .or_else(|| named("name"))
                    .unwrap_or_else(|| dir_name.to_owned()),
                steps: steps(fields.get("steps"), false)?,
                audit_steps: steps(fields.get("audit_steps"), true)?,
            }
        };
        if template.key.is_empty() {
            return Err(TemplateError::Invalid("mission.key is empty".to_owned()));
        }
        if template.steps.is_empty() && template.audit_steps.is_empty() {
            return Err(TemplateError::NoSteps);
        }
        Ok(template)
    }

    /// Returns the step with this id (prompt or audit).
    pub fn step(&self, id: &str) -> Option<&TemplateStep> {
        self.steps
            .iter()
            .chain(&self.audit_steps)
            .find(|step| step.id == id)
    }

    /// Returns every step id, prompt steps first, in template order.
    pub fn step_ids(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .chain(&self.audit_steps)
            .map(|step| step.id.as_str())
    }
}

fn required_string(
    fields: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<String, TemplateError> {
    match fields.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(TemplateError::Invalid(format!("{at}.{key} is empty"))),
        Some(_) => Err(TemplateError::Invalid(format!(
            "{at}.{key} must be a string"
        ))),
        None => Err(TemplateError::Invalid(format!("{at}.{key} is required"))),
    }
}

fn mission_key(value: Option<&Value>) -> Result<String, TemplateError> {
    let Some(Value::Object(fields)) = value else {
        return Err(TemplateError::Invalid(
            "mission must be a mapping".to_owned(),
        ));
    };
    let key = required_string(fields, "key", "mission")?;
    required_string(fields, "name", "mission")?;
    required_string(fields, "version", "mission")?;
    Ok(key)
}

fn string_list(
    fields: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Vec<String>, TemplateError> {
    match fields.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                _ => Err(TemplateError::Invalid(format!(
                    "{at}.{key} must list strings"
                ))),
            })
            .collect(),
        Some(_) => Err(TemplateError::Invalid(format!("{at}.{key} must be a list"))),
    }
}

fn steps(value: Option<&Value>, audit: bool) -> Result<Vec<TemplateStep>, TemplateError> {
    let list = if audit { "audit_steps" } else { "steps" };
    let items = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(TemplateError::Invalid(format!("{list} must be a list"))),
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let at = format!("{list}[{index}]");
            let Value::Object(fields) = item else {
                return Err(TemplateError::Invalid(format!("{at} must be a mapping")));
            };
            let enforcement = if audit {
                Some(audit_enforcement(fields.get("audit"), &at)?)
            } else {
                None
            };
            Ok(TemplateStep {
                id: required_string(fields, "id", &at)?,
                title: required_string(fields, "title", &at)?,
                depends_on: string_list(fields, "depends_on", &at)?,
                requires_inputs: if audit {
                    Vec::new()
                } else {
                    string_list(fields, "requires_inputs", &at)?
                },
                audit: enforcement,
            })
        })
        .collect()
}

fn audit_enforcement(value: Option<&Value>, at: &str) -> Result<AuditEnforcement, TemplateError> {
    let Some(Value::Object(fields)) = value else {
        return Err(TemplateError::Invalid(format!("{at}.audit is required")));
    };
    match fields.get("trigger_mode").and_then(Value::as_str) {
        Some("manual" | "post_merge" | "both") => {}
        _ => {
            return Err(TemplateError::Invalid(format!(
                "{at}.audit.trigger_mode must be manual, post_merge or both"
            )));
        }
    }
    match fields.get("enforcement").and_then(Value::as_str) {
        Some("blocking") => Ok(AuditEnforcement::Blocking),
        Some("advisory") => Ok(AuditEnforcement::Advisory),
        _ => Err(TemplateError::Invalid(format!(
            "{at}.audit.enforcement must be advisory or blocking"
        ))),
    }
}

/// What the planner decided for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunPlan {
    /// Issue this step.
    Step {
        /// The step id.
        step_id: String,
    },
    /// Someone must answer a decision first.
    DecisionRequired {
        /// The step the decision is about.
        step_id: String,
        /// The decision (`input:<key>`, `audit:<step>`, or a pending decision's id).
        decision_id: String,
        /// For an input decision, the input's key.
        input_key: Option<String>,
        /// The question.
        question: String,
        /// The answers offered, when the decision has a fixed set.
        options: Option<Vec<String>>,
    },
    /// The run cannot go on.
    Blocked {
        /// Why.
        reason: String,
    },
    /// Every step is completed.
    Terminal,
}

/// Why a run cannot be planned at all (Spec Kitty reports it as a query failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// The reason a run whose template changed under it is blocked.
pub const TEMPLATE_DRIFT_REASON: &str = "Template changed during active run. Migration required.";

/// The reason of a run whose remaining steps can never become eligible.
pub const UNMET_DEPENDENCIES_REASON: &str =
    "No eligible steps: remaining steps have unmet dependencies.";

/// Plans a run's next decision from its snapshot and template, as Spec Kitty's planner does.
///
/// `drifted` says whether the live template's bytes no longer hash to the run's
/// `template_hash` (the caller checks, since it reads the file).
pub fn plan_run(
    snapshot: &MissionRunSnapshot,
    template: &MissionTemplate,
    drifted: bool,
) -> Result<RunPlan, PlanError> {
    if let Some(reason) = snapshot.blocked_reason.as_ref().filter(|r| !r.is_empty()) {
        return Ok(RunPlan::Blocked {
            reason: reason.clone(),
        });
    }
    if drifted {
        return Ok(RunPlan::Blocked {
            reason: TEMPLATE_DRIFT_REASON.to_owned(),
        });
    }
    if let Some((_, request)) = snapshot
        .pending_decisions
        .iter()
        .min_by(|a, b| a.0.cmp(b.0))
    {
        return pending_decision(request);
    }
    let completed = |id: &str| snapshot.completed_steps.iter().any(|step| step == id);
    let issued = snapshot.issued_step_id.as_deref();
    let eligible = template
        .steps
        .iter()
        .chain(&template.audit_steps)
        .find(|step| {
            !completed(&step.id)
                && Some(step.id.as_str()) != issued
                && step
                    .depends_on
                    .iter()
                    .all(|dependency| completed(dependency))
        });
    let Some(step) = eligible else {
        let remaining = template
            .step_ids()
            .any(|id| !completed(id) && Some(id) != issued);
        return Ok(if remaining {
            RunPlan::Blocked {
                reason: UNMET_DEPENDENCIES_REASON.to_owned(),
            }
        } else {
            RunPlan::Terminal
        });
    };
    match step.audit {
        Some(AuditEnforcement::Blocking) => {
            return Ok(RunPlan::DecisionRequired {
                step_id: step.id.clone(),
                decision_id: format!("audit:{}", step.id),
                input_key: None,
                question: format!("Audit checkpoint: {}. Approve to continue?", step.title),
                options: Some(vec!["approve".to_owned(), "reject".to_owned()]),
            });
        }
        Some(AuditEnforcement::Advisory) => {
            return Ok(RunPlan::Step {
                step_id: step.id.clone(),
            });
        }
        None => {}
    }
    let missing = step.requires_inputs.iter().find(|input| {
        !snapshot.inputs.contains_key(input.as_str())
            && !snapshot.decisions.contains_key(input.as_str())
    });
    Ok(match missing {
        Some(input) => RunPlan::DecisionRequired {
            step_id: step.id.clone(),
            decision_id: format!("input:{input}"),
            input_key: Some(input.clone()),
            question: format!(
                "Input required before step '{}': provide value for '{input}'.",
                step.id
            ),
            options: None,
        },
        None => RunPlan::Step {
            step_id: step.id.clone(),
        },
    })
}

/// Reads a pending decision request (`{decision_id, step_id, question, options?,
/// requested_by, requested_at}`) into a decision.
fn pending_decision(request: &Value) -> Result<RunPlan, PlanError> {
    let invalid = |what: &str| PlanError(format!("Invalid pending decision: {what}"));
    let Value::Object(fields) = request else {
        return Err(invalid("expected an object"));
    };
    let text = |key: &str| match fields.get(key) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        _ => Err(invalid(&format!("`{key}` must be a non-empty string"))),
    };
    let decision_id = text("decision_id")?;
    let step_id = text("step_id")?;
    let question = text("question")?;
    let options = match fields.get("options") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("`options` must list strings"))
            })
            .collect::<Result<Vec<String>, PlanError>>()?,
        Some(_) => return Err(invalid("`options` must be a list")),
    };
    match fields.get("requested_by") {
        Some(Value::Object(actor))
            if actor.get("actor_id").is_some_and(Value::is_string)
                && actor.get("actor_type").is_some_and(Value::is_string) => {}
        _ => {
            return Err(invalid(
                "`requested_by` must name an actor_id and an actor_type",
            ));
        }
    }
    if !fields.get("requested_at").is_some_and(Value::is_string) {
        return Err(invalid("`requested_at` must be a timestamp"));
    }
    Ok(RunPlan::DecisionRequired {
        input_key: decision_id.strip_prefix("input:").map(str::to_owned),
        step_id,
        decision_id,
        question,
        options: (!options.is_empty()).then_some(options),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "mission:\n  key: software-dev\n  name: Software Dev Kitty\n  version: \"2.2.0\"\nsteps:\n  - id: discovery\n    title: Discovery\n  - id: specify\n    title: Specify\n    depends_on: [discovery]\n  - id: plan\n    title: Plan\n    depends_on: [specify]\n    requires_inputs: [stack]\naudit_steps:\n  - id: gate\n    title: Release Gate\n    depends_on: [plan]\n    audit:\n      trigger_mode: manual\n      enforcement: blocking\n";

    fn run(completed: &[&str], issued: Option<&str>) -> MissionRunSnapshot {
        let mut snapshot = MissionRunSnapshot::new_run("r", "software-dev", "p", "h", None, "m-01");
        snapshot.completed_steps = completed.iter().map(|s| (*s).to_owned()).collect();
        snapshot.issued_step_id = issued.map(str::to_owned);
        snapshot
    }

    fn template() -> MissionTemplate {
        MissionTemplate::parse(TEMPLATE.as_bytes(), "software-dev").expect("template")
    }

    #[test]
    fn templates_are_read_as_spec_kittys_loader_reads_them() {
        let template = template();
        assert_eq!(template.key, "software-dev");
        assert_eq!(
            template.step_ids().collect::<Vec<_>>(),
            ["discovery", "specify", "plan", "gate"]
        );
        // The shorthand form takes its key from `key`, `name`, then the directory.
        let short = MissionTemplate::parse(b"steps:\n  - id: a\n    title: A\n", "research")
            .expect("shorthand");
        assert_eq!(short.key, "research");
        // A `mission` block without a key is refused, as is a template without steps.
        assert!(matches!(
            MissionTemplate::parse(b"mission:\n  name: research\n  version: \"2\"\n", "x"),
            Err(TemplateError::Invalid(_))
        ));
        assert_eq!(
            MissionTemplate::parse(b"", "x"),
            Err(TemplateError::NoSteps)
        );
        assert_eq!(
            MissionTemplate::parse(b"- a\n", "x"),
            Err(TemplateError::NotAMapping)
        );
    }

    #[test]
    fn the_planner_walks_the_dag() {
        let template = template();
        let step = |id: &str| RunPlan::Step {
            step_id: id.to_owned(),
        };
        assert_eq!(
            plan_run(&run(&[], None), &template, false),
            Ok(step("discovery"))
        );
        // The issued step is skipped; its dependents wait.
        assert_eq!(
            plan_run(&run(&["discovery"], Some("specify")), &template, false),
            Ok(RunPlan::Blocked {
                reason: UNMET_DEPENDENCIES_REASON.to_owned()
            })
        );
        // A missing input is asked for.
        assert!(matches!(
            plan_run(&run(&["discovery", "specify"], None), &template, false),
            Ok(RunPlan::DecisionRequired { ref decision_id, .. }) if decision_id == "input:stack"
        ));
        // A blocking audit asks for approval.
        assert_eq!(
            plan_run(
                &run(&["discovery", "specify", "plan"], None),
                &template,
                false
            ),
            Ok(RunPlan::DecisionRequired {
                step_id: "gate".to_owned(),
                decision_id: "audit:gate".to_owned(),
                input_key: None,
                question: "Audit checkpoint: Release Gate. Approve to continue?".to_owned(),
                options: Some(vec!["approve".to_owned(), "reject".to_owned()]),
            })
        );
        assert_eq!(
            plan_run(
                &run(&["discovery", "specify", "plan", "gate"], None),
                &template,
                false
            ),
            Ok(RunPlan::Terminal)
        );
        // Drift and a blocked run win over everything.
        assert_eq!(
            plan_run(&run(&[], None), &template, true),
            Ok(RunPlan::Blocked {
                reason: TEMPLATE_DRIFT_REASON.to_owned()
            })
        );
        let mut blocked = run(&[], None);
        blocked.blocked_reason = Some("stop".to_owned());
        assert_eq!(
            plan_run(&blocked, &template, true),
            Ok(RunPlan::Blocked {
                reason: "stop".to_owned()
            })
        );
    }

    #[test]
    fn pending_decisions_are_asked_first_and_validated() {
        let template = template();
        let mut snapshot = run(&[], None);
        let request = serde_json::json!({
            "decision_id": "input:stack",
            "step_id": "plan",
            "question": "Which stack?",
            "requested_by": {"actor_id": "claude", "actor_type": "llm"},
            "requested_at": "2026-01-01T00:00:00+00:00",
        });
        snapshot
            .pending_decisions
            .insert("input:stack".to_owned(), request);
        assert_eq!(
            plan_run(&snapshot, &template, false),
            Ok(RunPlan::DecisionRequired {
                step_id: "plan".to_owned(),
                decision_id: "input:stack".to_owned(),
                input_key: Some("stack".to_owned()),
                question: "Which stack?".to_owned(),
                options: None,
            })
        );
        snapshot
            .pending_decisions
            .insert("a".to_owned(), serde_json::json!({"decision_id": "a"}));
        assert!(plan_run(&snapshot, &template, false).is_err());
    }
}
