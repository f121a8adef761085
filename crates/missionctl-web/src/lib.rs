//! The live dashboard of missionctl: a small web server on 127.0.0.1 that shows every mission
//! of a repository — topology and progress, each mission's kanban, a work package's history,
//! the resolved execution context, `doctor`'s findings — and updates open pages within a
//! moment of a log changing.
//!
//! Like the command line, it is a thin adapter over the store: every view is built by
//! [`missionctl_store::view`] or followed by [`missionctl_store::view::live`]; this crate reads no
//! file and runs no git itself. It owns the HTTP side only: the routes ([`server`]), who may
//! call them ([`auth`]), the thread that publishes changed views ([`publish`]), and talking to
//! a dashboard that is already running ([`control`]). Its page is three files embedded in the
//! binary; it loads nothing from elsewhere.
//!
//! The async runtime is started by [`serve`] only: other commands of the binary never pay for
//! it.

pub mod auth;
pub mod control;
mod publish;
mod server;

use std::path::PathBuf;
use std::sync::Arc;

use missionctl_store::fs_util::PathError;
use missionctl_store::repo::Repo;
use missionctl_store::view::dashboard_state::{DashboardState, remove_state, write_state};
use missionctl_store::view::watch::WatchMode;
use serde::Serialize;

pub use publish::LiveStartError;

/// How to serve a repository.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The port on 127.0.0.1; 0 lets the system pick a free one.
    pub port: u16,
    /// The branches status commits never go to (for the views that load a mission).
    pub protected_branches: missionctl_store::repo::protection::ProtectedBranches,
    /// How changes are noticed.
    pub watch_mode: WatchMode,
    /// When the server started, in Spec Kitty's timestamp shape (recorded for `--stop`).
    pub started_at: String,
}

/// A dashboard that is serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Started {
    /// The address to open, token included.
    pub url: String,
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The server's process id.
    pub pid: u32,
    /// The repository's primary checkout.
    pub primary_root: PathBuf,
    /// How many missions it shows.
    pub missions: usize,
}

/// Why the dashboard could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// No token could be drawn.
    #[error("Cannot draw a random token: {0}")]
    Random(getrandom::Error),
    /// The async runtime could not start.
    #[error("Cannot start the server's runtime")]
    Runtime(#[source] std::io::Error),
    /// The port could not be listened on.
    #[error("Cannot listen on 127.0.0.1:{port}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The missions could not be read or watched.
    #[error(transparent)]
    Live(#[from] LiveStartError),
    /// The dashboard record could not be written.
    #[error(transparent)]
    State(#[from] PathError),
    /// The server failed while serving.
    #[error("The server stopped on an error")]
    Serve(#[source] std::io::Error),
}

impl ServeError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ServeError::Random(_) | ServeError::Runtime(_) | ServeError::Serve(_) => {
                "DASHBOARD_START_FAILED"
            }
            ServeError::Bind { .. } => "DASHBOARD_PORT_UNAVAILABLE",
            ServeError::Live(error) => error.code(),
            ServeError::State(error) => error.code(),
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            ServeError::Bind { .. } => {
                "Pick another port with `--port`, or leave it out to let the system choose"
                    .to_owned()
            }
            ServeError::Live(error) => error.hint(),
            ServeError::State(error) => error.hint(),
            _ => "Try again; if it keeps failing, report it with the command you ran".to_owned(),
        }
    }
}

/// Serves the dashboard of `repo` until it is stopped (Ctrl-C, `SIGTERM`, or
/// `POST /api/stop`, which `missionctl dashboard --stop` sends). Every mission is read before
/// the server listens; `started` is called once it does. The dashboard record is written at
/// the start and removed at the end.
pub fn serve(
    repo: &Repo,
    options: &ServeOptions,
    started: impl FnOnce(&Started),
) -> Result<(), ServeError> {
    let token = auth::new_token().map_err(ServeError::Random)?;
    let shared = Arc::new(publish::Shared::new());
    publish::start(
        repo.primary_root().to_path_buf(),
        options.protected_branches.clone(),
        options.watch_mode,
        Arc::clone(&shared),
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| ServeError::Bind {
                port: options.port,
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| ServeError::Bind {
                port: options.port,
                source,
            })?
            .port();
        let url = format!("http://127.0.0.1:{port}/?token={token}");
        let pid = std::process::id();
        write_state(
            repo,
            &DashboardState {
                pid,
                port,
                token: token.clone(),
                url: url.clone(),
                started_at: options.started_at.clone(),
                primary_root: repo.primary_root().to_path_buf(),
            },
        )?;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let app = Arc::new(server::App {
            port,
            token: token.clone(),
            pid,
            primary_root: repo.primary_root().to_path_buf(),
            protected: options.protected_branches.clone(),
            shared: Arc::clone(&shared),
            shutdown: shutdown.clone(),
        });
        // The handlers are installed before the address is printed: a Ctrl-C right after it
        // stops the server cleanly too.
        let signals = Signals::install();
        let missions = serde_json::from_str::<serde_json::Value>(&shared.current().index)
            .ok()
            .and_then(|index| index["missions"].as_array().map(Vec::len))
            .unwrap_or(0);
        started(&Started {
            url,
            port,
            pid,
            primary_root: repo.primary_root().to_path_buf(),
            missions,
        });
        let stop = shutdown.clone();
        axum::serve(listener, server::router(app))
            .with_graceful_shutdown(async move { stopped(stop, signals).await })
            .await
            .map_err(ServeError::Serve)
    });
    let _ = remove_state(repo, &token);
    result
}

/// The signals that stop the server: Ctrl-C (`SIGINT`) and `SIGTERM`.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers now (a signal that arrives before the server waits is kept).
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves at the first signal.
    async fn received(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = next(self.interrupt) => {}
                () = next(self.terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Resolves when the server should stop: a signal or a stop request. Every open event stream
/// is then told to end, so the graceful shutdown does not wait for them.
async fn stopped(shutdown: tokio::sync::watch::Sender<bool>, signals: Signals) {
    let mut requested = shutdown.subscribe();
    let request = async move {
        let _ = requested.wait_for(|stop| *stop).await;
    };
    tokio::select! {
        () = signals.received() => {}
        () = request => {}
    }
    let _ = shutdown.send(true);
}
