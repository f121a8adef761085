//! `missionctl acceptance verdict --mission <handle> --criterion FR-001 --result pass`.

use std::fmt::Write as _;

use clap::{Args, ValueEnum};
use missionctl_store::clock::SystemClock;
use missionctl_store::status::{CriterionOutcome, CriterionVerdict};

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl acceptance verdict`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # A criterion verified by a test\n  missionctl acceptance verdict -m task-list --criterion FR-001 --result pass \\\n    --verification-method automated_test --evidence tests/test_cli.py\n\n  # A criterion not met\n  missionctl acceptance verdict -m task-list --criterion FR-002 --result fail"
)]
pub(crate) struct VerdictArgs {
    /// The mission: its ULID, mid8, directory name, slug or number
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: String,
    /// The criterion, such as `FR-001`
    #[arg(long, value_name = "ID")]
    criterion: String,
    /// The result
    #[arg(long, value_enum, value_name = "RESULT")]
    result: ResultArg,
    /// How it was verified, recorded as the criterion's proof type (`automated_test`, …)
    #[arg(long, value_name = "METHOD")]
    verification_method: Option<String>,
    /// Who verified it (default: `MISSIONCTL_ACTOR`)
    #[arg(long, value_name = "ACTOR")]
    actor: Option<String>,
    /// The evidence: a test file, a URL, a screenshot
    #[arg(long, value_name = "EVIDENCE")]
    evidence: Option<String>,
}

/// `--result`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ResultArg {
    /// The criterion is met
    Pass,
    /// The criterion is not met
    Fail,
    /// Not verified yet
    Pending,
}

impl ResultArg {
    fn as_str(self) -> &'static str {
        match self {
            ResultArg::Pass => "pass",
            ResultArg::Fail => "fail",
            ResultArg::Pending => "pending",
        }
    }
}

/// Runs `missionctl acceptance verdict`.
pub(crate) fn cmd_verdict(ui: &mut Ui, args: &VerdictArgs) -> Result<(), CliError> {
    let (_repo, status) = workspace::load_status_for_writing(&args.mission)?;
    let request = CriterionVerdict {
        criterion: args.criterion.clone(),
        result: args.result.as_str().to_owned(),
        verification_method: args.verification_method.clone(),
        actor: workspace::actor(args.actor.as_deref()),
        evidence: args.evidence.clone(),
    };
    let outcome = status
        .record_acceptance_verdict(&request, &SystemClock)
        .map_err(|error| {
            CliError::user(error.code(), error.to_string())
                .with_hint(error.hint())
                .with_sources_of(&error)
                .with_protection_hint(&error)
        })?;
    ui.emit(&outcome, || render(&outcome))
}

fn render(outcome: &CriterionOutcome) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}={} recorded for {} (overall verdict: {})",
        outcome.criterion, outcome.result, outcome.mission, outcome.overall_verdict
    );
    match &outcome.commit_hash {
        Some(commit) => {
            let _ = writeln!(
                text,
                "Committed {} on {}",
                crate::ui::short_sha(commit),
                outcome.destination_ref
            );
        }
        None => {
            let _ = writeln!(text, "Unchanged: the matrix already said this");
        }
    }
    if outcome.overall_verdict == "pass" {
        let _ = writeln!(
            text,
            "Next:    missionctl accept --mission {}",
            outcome.mission
        );
    }
    text
}
