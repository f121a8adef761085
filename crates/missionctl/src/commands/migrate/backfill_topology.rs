//! `missionctl migrate backfill-topology [--dry-run]`: derive, once, the topology of every
//! mission that has none stored, and persist it; a stored value is never overwritten, and a
//! second run changes nothing.

use clap::Args;
use missionctl_store::mission::topology_backfill::{
    BackfillAction, BackfillOptions, BackfillProgress, BackfillRecord, backfill_topology,
};
use serde::Serialize;

use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// From this many missions on, progress is shown on stderr (when it is a terminal).
const PROGRESS_THRESHOLD: usize = 50;

/// Arguments of `missionctl migrate backfill-topology`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # See what would be written\n  missionctl migrate backfill-topology --dry-run\n\n  # Store the topology of one mission\n  missionctl migrate backfill-topology -m 042-invoice-export"
)]
pub(crate) struct BackfillTopologyArgs {
    /// Report what would be written, and write nothing
    #[arg(long)]
    dry_run: bool,
    /// Only the mission in this directory of `kitty-specs/` (its exact name)
    #[arg(long, short = 'm', value_name = "MISSION")]
    mission: Option<String>,
}

/// The `data` of `migrate backfill-topology --json`.
#[derive(Debug, Serialize)]
struct BackfillData {
    dry_run: bool,
    /// How many `meta.json` files were (with `--dry-run`: would be) written.
    wrote: usize,
    skipped: usize,
    errors: usize,
    /// One record per mission directory, sorted by name.
    records: Vec<BackfillRecord>,
}

fn render(data: &BackfillData) -> String {
    let mut out = String::new();
    let (wrote, written) = if data.dry_run {
        ("would write", "to write")
    } else {
        ("wrote", "written")
    };
    for record in &data.records {
        let action = match record.action {
            BackfillAction::Wrote => wrote,
            BackfillAction::Skip => "skip",
            BackfillAction::Error => "error",
        };
        let topology = record
            .topology
            .map_or_else(String::new, |topology| format!(" {topology}"));
        let reason = record
            .reason
            .as_deref()
            .map_or_else(String::new, |reason| format!(" ({reason})"));
        out.push_str(&format!("{action:<12}{}{topology}{reason}\n", record.slug));
        if let Some(warning) = &record.warning {
            out.push_str(&format!("            warning: {warning}\n"));
        }
    }
    out.push_str(&format!(
        "{} mission(s): {} {written}, {} skipped, {} error(s)\n",
        data.records.len(),
        data.wrote,
        data.skipped,
        data.errors
    ));
    if data.wrote > 0 && !data.dry_run {
        out.push_str("The rewritten meta.json files are not committed: review and commit them\n");
    }
    out
}

/// Backfills the topology and reports every mission; exits 1 when any mission failed.
pub(crate) fn cmd_migrate_backfill_topology(
    ui: &mut Ui,
    args: &BackfillTopologyArgs,
) -> Result<(), CliError> {
    let repo = workspace::discover_repo_for_writing()?;
    let options = BackfillOptions {
        dry_run: args.dry_run,
        mission: args.mission.clone(),
    };
    let mut shown = false;
    let report = backfill_topology(&repo, &options, &mut |step: BackfillProgress<'_>| {
        if step.total >= PROGRESS_THRESHOLD {
            shown = true;
            ui.progress(Some(&format!(
                "backfill-topology {}/{} {}",
                step.index + 1,
                step.total,
                step.slug
            )));
        }
    });
    if shown {
        ui.progress(None);
    }
    let report = report?;
    let data = BackfillData {
        dry_run: report.dry_run,
        wrote: report.count(BackfillAction::Wrote),
        skipped: report.count(BackfillAction::Skip),
        errors: report.count(BackfillAction::Error),
        records: report.records,
    };
    ui.emit(&data, || render(&data))?;
    if data.errors == 0 {
        return Ok(());
    }
    let failed: Vec<String> = data
        .records
        .iter()
        .filter(|record| record.action == BackfillAction::Error)
        .map(|record| {
            format!(
                "{}: {}",
                record.slug,
                record.reason.as_deref().unwrap_or("unknown error")
            )
        })
        .collect();
    Err(CliError::user(
        "BACKFILL_FAILED",
        format!(
            "Backfill failed for {} mission(s): {}",
            failed.len(),
            failed.join("; ")
        ),
    )
    .with_hint(
        "Fix or remove the meta.json files named above, then run `missionctl migrate \
         backfill-topology` again; the missions already written are skipped"
            .to_owned(),
    ))
}
