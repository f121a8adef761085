//! `missionctl dashboard [--port P] [--open] [--stop]`: the live web dashboard of the
//! repository, on 127.0.0.1 (the server is `missionctl-web`; this file only parses, reports and
//! waits).

use clap::Args;
use missionctl_web::control::{self, Found, StopOutcome};
use missionctl_web::{ServeOptions, Started, serve};
use serde::Serialize;

use crate::clock::Timestamp;
use crate::command_error::CliError;
use crate::ui::Ui;
use crate::workspace;

/// Arguments of `missionctl dashboard`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  # Serve the dashboard and open it in the browser\n  missionctl dashboard --open\n\n  # Serve it on a fixed port, then stop it\n  missionctl dashboard --port 8765\n  missionctl dashboard --stop"
)]
pub(crate) struct DashboardArgs {
    /// The port to listen on, on 127.0.0.1 (default: a free port the system picks)
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
    /// Open the dashboard in the default browser once it is serving
    #[arg(long)]
    open: bool,
    /// Stop the repository's running dashboard
    #[arg(long, conflicts_with_all = ["port", "open"])]
    stop: bool,
}

/// The `data` of `dashboard --json` once it serves (or found one serving).
#[derive(Debug, Serialize)]
struct DashboardData<'a> {
    /// True when another dashboard already serves this repository (this one then exits).
    already_running: bool,
    url: &'a str,
    port: u16,
    pid: u32,
    primary_root: String,
    missions: Option<usize>,
}

fn render_started(data: &DashboardData<'_>) -> String {
    if data.already_running {
        return format!(
            "A dashboard already serves {}: {}\n(pid {}; stop it with `missionctl dashboard --stop`)\n",
            data.primary_root, data.url, data.pid
        );
    }
    format!(
        "Dashboard of {} ({} missions, live): {}\nStop it with Ctrl-C or `missionctl dashboard --stop`\n",
        data.primary_root,
        data.missions.unwrap_or(0),
        data.url
    )
}

fn render_stopped(outcome: &StopOutcome) -> String {
    match (outcome.stopped, outcome.removed_stale_record, outcome.pid) {
        (true, _, Some(pid)) => format!("Stopped the dashboard (pid {pid})\n"),
        (false, true, Some(pid)) => {
            format!("No dashboard was running; removed the record left by pid {pid}\n")
        }
        _ => "No dashboard is running for this repository\n".to_owned(),
    }
}

/// Opens `url` in the desktop's browser; a failure is only a warning.
fn open_in_browser(ui: &Ui, url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        ui.warn(&format!("cannot run `{opener}`: open {url} yourself"));
    }
}

/// Serves the dashboard until it is stopped, reports the running one, or stops it.
pub(crate) fn cmd_dashboard(ui: &mut Ui, args: &DashboardArgs) -> Result<(), CliError> {
    let repo = workspace::discover_repo()?;
    if args.stop {
        let outcome = control::stop(&repo)?;
        return ui.emit(&outcome, || render_stopped(&outcome));
    }
    let primary_root = repo.primary_root().display().to_string();
    if let Found::Running(state) = control::find(&repo)? {
        let data = DashboardData {
            already_running: true,
            url: &state.url,
            port: state.port,
            pid: state.pid,
            primary_root,
            missions: None,
        };
        if args.open {
            open_in_browser(ui, &state.url);
        }
        return ui.emit(&data, || render_started(&data));
    }
    let options = ServeOptions {
        port: args.port,
        protected_branches: workspace::protected_branches(&repo),
        watch_mode: workspace::watch_mode(),
        started_at: Timestamp::now()?.to_isoformat(),
    };
    let mut reported = Ok(());
    serve(&repo, &options, |started: &Started| {
        let data = DashboardData {
            already_running: false,
            url: &started.url,
            port: started.port,
            pid: started.pid,
            primary_root: started.primary_root.display().to_string(),
            missions: Some(started.missions),
        };
        reported = ui.emit_now(&data, || render_started(&data));
        if args.open {
            open_in_browser(ui, &started.url);
        }
    })?;
    reported
}
