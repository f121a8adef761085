//! Talking to a dashboard that is already running: finding it from its record (and telling a
//! live one from a stale record), and stopping it. Plain blocking HTTP/1.1 over a loopback
//! socket, with the token.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use missionctl_store::fs_util::PathError;
use missionctl_store::repo::Repo;
use missionctl_store::view::dashboard_state::{DashboardState, clear_state, read_state};
use serde::Serialize;

/// How long one request to a running dashboard may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// How long `stop` waits for the server to let go of its port.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the record of a repository's dashboard says, checked against the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No record.
    Nothing,
    /// A record whose server does not answer as itself: left by a dashboard that was killed.
    Stale(DashboardState),
    /// A dashboard that answers.
    Running(DashboardState),
}

/// Reads the record and asks the server it names whether it is still there.
pub fn find(repo: &Repo) -> Result<Found, PathError> {
    let Some(state) = read_state(repo)? else {
        return Ok(Found::Nothing);
    };
    let path = format!("/api/health?token={}", state.token);
    let alive = request(state.port, "GET", &path)
        .ok()
        .filter(|(status, _)| *status == 200)
        .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
        .is_some_and(|health| {
            health["data"]["pid"].as_u64() == Some(u64::from(state.pid))
                && health["data"]["primary_root"].as_str()
                    == Some(state.primary_root.to_string_lossy().as_ref())
        });
    Ok(if alive {
        Found::Running(state)
    } else {
        Found::Stale(state)
    })
}

/// What `stop` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopOutcome {
    /// Whether a running dashboard was stopped.
    pub stopped: bool,
    /// Whether a stale record was removed.
    pub removed_stale_record: bool,
    /// The dashboard's address (`null` when there was none).
    pub url: Option<String>,
    /// Its process id.
    pub pid: Option<u32>,
}

/// Why a running dashboard could not be stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The record could not be read or removed.
    #[error(transparent)]
    State(#[from] PathError),
    /// The server did not accept the request.
    #[error("The dashboard at 127.0.0.1:{port} did not accept the stop request")]
    Refused {
        /// Its port.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server accepted it but kept running.
    #[error("The dashboard (pid {pid}) still listens on 127.0.0.1:{port} after {STOP_TIMEOUT:?}")]
    StillRunning {
        /// Its process id.
        pid: u32,
        /// Its port.
        port: u16,
    },
}

impl StopError {
    /// Returns the stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            StopError::State(error) => error.code(),
            StopError::Refused { .. } | StopError::StillRunning { .. } => "DASHBOARD_STOP_FAILED",
        }
    }

    /// Returns a hint the user can act on.
    pub fn hint(&self) -> String {
        match self {
            StopError::State(error) => error.hint(),
            StopError::Refused { .. } | StopError::StillRunning { .. } => {
                "Stop it with Ctrl-C where it runs, or end its process".to_owned()
            }
        }
    }
}

/// Stops the repository's running dashboard, or removes a stale record.
pub fn stop(repo: &Repo) -> Result<StopOutcome, StopError> {
    match find(repo)? {
        Found::Nothing => Ok(StopOutcome {
            stopped: false,
            removed_stale_record: false,
            url: None,
            pid: None,
        }),
        Found::Stale(state) => {
            clear_state(repo)?;
            Ok(StopOutcome {
                stopped: false,
                removed_stale_record: true,
                url: Some(state.url),
                pid: Some(state.pid),
            })
        }
        Found::Running(state) => {
            let path = format!("/api/stop?token={}", state.token);
            request(state.port, "POST", &path).map_err(|source| StopError::Refused {
                port: state.port,
                source,
            })?;
            let deadline = Instant::now() + STOP_TIMEOUT;
            while listening(state.port) {
                if Instant::now() > deadline {
                    return Err(StopError::StillRunning {
                        pid: state.pid,
                        port: state.port,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(StopOutcome {
                stopped: true,
                removed_stale_record: false,
                url: Some(state.url),
                pid: Some(state.pid),
            })
        }
    }
}

fn address(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&address(port), Duration::from_millis(200)).is_ok()
}

/// Sends one request to the dashboard on `port` and returns its status and body.
pub fn request(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address(port), REQUEST_TIMEOUT)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
