//! Runs that both tools continue: the real Spec Kitty 3.2.7 loads and advances a run missionctl
//! started, missionctl loads and advances a run Spec Kitty started, and after each step both
//! queries give the same decision. Skipped, with a line on stderr, when `spec-kitty` is not
//! installed (`.ci/run` installs it).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::TestEnv;
use crate::common::spec_kitty::{run_spec_kitty, spec_kitty};
use crate::test_next::{MISSION_IDS, add_mission, new_repo};

/// A repository with one mission, and the two tools.
struct Interop {
    env: TestEnv,
    repo: PathBuf,
    slug: String,
    spec_kitty: PathBuf,
}

impl Interop {
    fn new(spec_kitty: PathBuf, human: &str, mission_id: &str) -> anyhow::Result<Interop> {
        let env = TestEnv::new()?;
        let repo = new_repo(&env)?;
        let slug = add_mission(&env, &repo, human, mission_id)?;
        Ok(Interop {
            env,
            repo,
            slug,
            spec_kitty,
        })
    }

    fn home(&self) -> PathBuf {
        self.env.root().join("home")
    }

    /// Runs `spec-kitty next` on the mission and returns its decision (it must exit 0).
    fn spec_kitty_next(&self, result: Option<&str>) -> anyhow::Result<Value> {
        let mut args = vec![
            "next",
            "--agent",
            "claude",
            "--mission",
            &self.slug,
            "--json",
        ];
        if let Some(result) = result {
            args.extend(["--result", result]);
        }
        let output = run_spec_kitty(&self.spec_kitty, &self.home(), &self.repo, args)?;
        anyhow::ensure!(
            output.status.success(),
            "spec-kitty {}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    /// Runs `missionctl next` on the mission and returns its decision (`data`).
    fn missionctl_next(&self, result: Option<&str>) -> anyhow::Result<Value> {
        let mut args = vec![
            "next",
            "--agent",
            "claude",
            "--mission",
            &self.slug,
            "--json",
        ];
        if let Some(result) = result {
            args.extend(["--result", result]);
        }
        let document = self.env.run_in(&self.repo, args).success().json()?;
        anyhow::ensure!(document["ok"] == Value::Bool(true), "{document}");
        Ok(document["data"].clone())
    }

    /// Asks both tools in query mode and checks they decide the same (`timestamp` aside;
    /// `mission_id` is missionctl's addition).
    fn queries_agree(&self) -> anyhow::Result<Value> {
        let mut theirs = self.spec_kitty_next(None)?;
        let mut ours = self.missionctl_next(None)?;
        for decision in [&mut theirs, &mut ours] {
            if let Some(object) = decision.as_object_mut() {
                object.remove("timestamp");
                object.remove("mission_id");
            }
        }
        anyhow::ensure!(theirs == ours, "spec kitty: {theirs}\nmissionctl: {ours}");
        Ok(ours)
    }

    /// Returns the run's `state.json`.
    fn state(&self, run_id: &str) -> anyhow::Result<Value> {
        let path = self
            .repo
            .join(".kittify/runtime/runs")
            .join(run_id)
            .join("state.json");
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }
}

fn run_id(decision: &Value) -> anyhow::Result<String> {
    decision["run_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no run_id: {decision}"))
}

#[test]
fn spec_kitty_continues_a_run_missionctl_started() -> crate::common::TestResult {
    let Some(spec_kitty) = spec_kitty("spec_kitty_continues_a_run_missionctl_started") else {
        return Ok(());
    };
    let interop = Interop::new(spec_kitty, "ours-first", MISSION_IDS[0])?;
    let started = interop.missionctl_next(Some("success"))?;
    let run = run_id(&started)?;
    // The state names a template file Spec Kitty opens and hashes (it used to fail with
    // QUERY_MODE_VALIDATION_FAILED on a template_path that was no file).
    let state = interop.state(&run)?;
    let template_path = state["template_path"].as_str().unwrap_or_default();
    assert!(
        Path::new(template_path).is_absolute() && Path::new(template_path).is_file(),
        "{template_path}"
    );
    let query = interop.queries_agree()?;
    assert_eq!(query["run_id"], run.as_str());
    assert_eq!(query["mission_state"], "specify");
    // Spec Kitty advances the same run; missionctl still reads it as Spec Kitty does.
    let advanced = interop.spec_kitty_next(Some("success"))?;
    assert_eq!(advanced["run_id"], run.as_str());
    assert_eq!(advanced["kind"], "step");
    interop.queries_agree()?;
    Ok(())
}

#[test]
fn missionctl_continues_a_run_spec_kitty_started() -> crate::common::TestResult {
    let Some(spec_kitty) = spec_kitty("missionctl_continues_a_run_spec_kitty_started") else {
        return Ok(());
    };
    let interop = Interop::new(spec_kitty, "theirs-first", MISSION_IDS[1])?;
    let started = interop.spec_kitty_next(Some("success"))?;
    let run = run_id(&started)?;
    assert_eq!(started["mission_state"], "discovery");
    interop.queries_agree()?;
    // missionctl reports the discovery done and issues the next step in Spec Kitty's run.
    let advanced = interop.missionctl_next(Some("success"))?;
    assert_eq!(advanced["run_id"], run.as_str());
    assert_eq!(advanced["kind"], "step");
    assert_eq!(advanced["step_id"], "specify");
    let state = interop.state(&run)?;
    assert_eq!(state["completed_steps"], serde_json::json!(["discovery"]));
    assert_eq!(state["issued_step_id"], "specify");
    let query = interop.queries_agree()?;
    assert_eq!(query["mission_state"], "specify");
    // And Spec Kitty goes on with it.
    let again = interop.spec_kitty_next(Some("success"))?;
    assert_eq!(again["run_id"], run.as_str());
    interop.queries_agree()?;
    Ok(())
}
