//! Missions as people see them: the plain-text views of `mission create`, `mission list`,
//! `mission show` and `context` (also shown by `demo`). Text only, readable without colour.

use std::fmt::Write as _;
use std::path::Path;

use missionctl_store::mission::create::CreatedMission;
use missionctl_store::mission::index::MissionSummary;
use missionctl_store::view::context::ContextView;

/// Writes one `label value` line, indented, labels aligned.
fn field(out: &mut String, label: &str, value: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "  {label:<22}{value}");
}

fn path(value: &Path) -> String {
    value.display().to_string()
}

/// Returns what `mission create` prints.
pub(crate) fn render_created(created: &CreatedMission) -> String {
    let mut out = format!(
        "Created mission `{}` ({}) on `{}` in commit {}\n",
        created.mission_slug,
        created.topology,
        created.target_branch,
        crate::ui::short_sha(&created.commit)
    );
    field(&mut out, "mission id", &created.mission_id);
    field(&mut out, "title", &created.friendly_name);
    field(&mut out, "directory", path(&created.mission_dir));
    field(&mut out, "target branch", &created.target_branch);
    if let Some(branch) = &created.coordination_branch {
        field(
            &mut out,
            "coordination branch",
            format!("{branch} (status is committed there)"),
        );
    }
    if !created.topology_requested {
        field(
            &mut out,
            "topology",
            format!(
                "{} (the default; pass --topology to choose)",
                created.topology
            ),
        );
    }
    if !created.checked_out {
        let _ = writeln!(
            out,
            "`{}` is not checked out: the mission is in its commit only (`git switch {}` to \
             see it)",
            created.target_branch, created.target_branch
        );
    }
    let _ = writeln!(
        out,
        "Next: `missionctl context --mission {}`",
        created.mission_slug
    );
    out
}

/// Returns the topology column: the value, marked `*` when it is derived, not stored.
fn topology_cell(summary: &MissionSummary) -> String {
    match summary.topology {
        Some(topology) if summary.topology_stored => topology.to_string(),
        Some(topology) => format!("{topology}*"),
        None => "-".to_owned(),
    }
}

/// Returns the `mission list` table.
pub(crate) fn render_list(missions: &[MissionSummary]) -> String {
    if missions.is_empty() {
        return "No missions under kitty-specs/\n".to_owned();
    }
    let headers = ["MISSION", "MID8", "TOPOLOGY", "TARGET BRANCH", "TITLE"];
    let rows: Vec<[String; 5]> = missions
        .iter()
        .map(|summary| {
            [
                summary.mission_slug.clone(),
                summary.mid8.clone().unwrap_or_else(|| "-".to_owned()),
                topology_cell(summary),
                summary
                    .target_branch
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
                summary
                    .friendly_name
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            let _ = write!(text, "{cell:<width$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    if missions
        .iter()
        .any(|summary| summary.topology.is_some() && !summary.topology_stored)
    {
        out.push_str(
            "* derived, not stored in meta.json: `missionctl migrate backfill-topology` stores it\n",
        );
    }
    for summary in missions {
        if let Some(problem) = &summary.problem {
            let _ = writeln!(out, "{}: {problem}", summary.mission_slug);
        }
    }
    out
}

/// Returns what `mission show` prints.
pub(crate) fn render_summary(summary: &MissionSummary) -> String {
    let mut out = format!("Mission `{}`\n", summary.mission_slug);
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    field(&mut out, "mission id", text(&summary.mission_id));
    field(&mut out, "mid8", text(&summary.mid8));
    field(&mut out, "title", text(&summary.friendly_name));
    field(&mut out, "mission type", text(&summary.mission_type));
    field(
        &mut out,
        "mission number",
        summary
            .mission_number
            .map_or_else(|| "-".to_owned(), |number| number.to_string()),
    );
    let topology = match summary.topology {
        Some(topology) if summary.topology_stored => topology.to_string(),
        Some(topology) => format!("{topology} (derived, not stored)"),
        None => "-".to_owned(),
    };
    field(&mut out, "topology", topology);
    if summary.flattened {
        field(
            &mut out,
            "flattened",
            "yes (its coordination branch was dropped)",
        );
    }
    field(&mut out, "target branch", text(&summary.target_branch));
    if let Some(branch) = &summary.coordination_branch {
        field(&mut out, "coordination branch", branch);
    }
    field(&mut out, "created at", text(&summary.created_at));
    field(&mut out, "directory", path(&summary.primary_dir));
    if let Some(dir) = &summary.coordination_dir {
        field(&mut out, "coordination dir", path(dir));
    }
    if let Some(problem) = &summary.problem {
        field(&mut out, "problem", problem);
    }
    out
}

/// Returns what `context` prints.
pub(crate) fn render_context(data: &ContextView) -> String {
    let stored = if data.topology_stored {
        "stored"
    } else {
        "derived, not stored"
    };
    let mut out = format!(
        "Mission `{}` ({}, {stored})\n",
        data.mission_slug, data.topology
    );
    field(
        &mut out,
        "mission id",
        format!("{} (mid8 {})", data.mission_id, data.mid8),
    );
    field(&mut out, "target branch", &data.target_branch);
    field(
        &mut out,
        "coordination branch",
        data.coordination_branch.as_deref().unwrap_or("-"),
    );
    field(&mut out, "status commits to", &data.destination_ref);
    field(&mut out, "primary checkout", path(&data.primary_root));
    field(&mut out, "planning dir", path(&data.planning_dir));
    if let Some(worktree) = &data.coordination_worktree {
        let probe = data
            .probe
            .map_or_else(|| "not probed".to_owned(), |probe| probe.to_string());
        field(
            &mut out,
            "coordination worktree",
            format!("{} ({probe})", path(worktree)),
        );
    }
    field(
        &mut out,
        "read surface",
        format!("{} ({})", data.read_surface, path(&data.read_dir)),
    );
    field(&mut out, "write dir", path(&data.write_dir));
    out
}
