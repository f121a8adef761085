//! The HTTP server: one handler that checks every request, then serves the page, its two
//! assets, the JSON API and the stream of changes.
//!
//! | route | what |
//! |---|---|
//! | `GET /?token=…` | the page (missions, kanban, history, context and doctor views; hash routes) |
//! | `GET /assets/app.js`, `/assets/style.css` | the page's script and style (the same for everyone) |
//! | `GET /api/missions` | every mission with its topology and progress |
//! | `GET /api/board` | every mission's board: the `--json` data of `board` |
//! | `GET /api/missions/<slug>/board` | one board: the `--json` data of `board --mission` |
//! | `GET /api/missions/<slug>/history[?wp=WP01]` | the `--json` data of `history` |
//! | `GET /api/missions/<slug>/context` | the `--json` data of `context` |
//! | `GET /api/doctor` | the `--json` data of `doctor` |
//! | `GET /api/events` | server-sent events: `change` after each change, naming the missions |
//! | `GET /api/health` | who this dashboard is (used by a second start and by `--stop`) |
//! | `POST /api/stop` | stops the server |
//!
//! JSON answers are the command line's envelopes: `{"ok":true,"data":…}` or
//! `{"ok":false,"error":{"code","message","hint"}}`.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use missionctl_store::mission::index::{list_missions, show_mission};
use missionctl_store::repo::Repo;
use missionctl_store::status::MissionStatus;
use missionctl_store::view::context::context_view;
use missionctl_store::view::doctor::doctor;
use missionctl_store::view::history::history;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::auth::{self, RequestFacts};
use crate::publish::Shared;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// Nothing but the dashboard's own files: no other site, no inline script, no frames.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// What every request handler shares.
pub(crate) struct App {
    pub(crate) port: u16,
    pub(crate) token: String,
    pub(crate) pid: u32,
    pub(crate) primary_root: PathBuf,
    pub(crate) protected: missionctl_store::repo::protection::ProtectedBranches,
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: watch::Sender<bool>,
}

/// Returns the router: every request goes through [`handle`].
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

/// An error answer: the command line's failure envelope.
#[derive(Serialize)]
struct Failure<'a> {
    ok: bool,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

fn error_response(status: StatusCode, code: &str, message: &str, hint: Option<&str>) -> Response {
    let failure = Failure {
        ok: false,
        error: ErrorBody {
            code,
            message,
            hint,
        },
    };
    let body = serde_json::to_string(&failure).unwrap_or_default();
    respond(status, "application/json", body)
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secure(headers);
    response
}

/// The headers every answer carries.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
}

/// `{"ok":true,"data":<data>}` from data already serialized.
fn ok_json(data: &str) -> Response {
    let mut body = String::with_capacity(data.len() + 20);
    body.push_str("{\"ok\":true,\"data\":");
    body.push_str(data);
    body.push('}');
    respond(StatusCode::OK, "application/json", body)
}

fn ok_value<T: Serialize>(data: &T) -> Response {
    match serde_json::to_string(data) {
        Ok(json) => ok_json(&json),
        Err(error) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            &error.to_string(),
            None,
        ),
    }
}

fn header_str(request: &Request, name: header::HeaderName) -> Option<&str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Checks and serves one request.
async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let facts = RequestFacts {
        host: header_str(&request, header::HOST),
        origin: header_str(&request, header::ORIGIN),
        query: query.as_deref(),
        cookie: header_str(&request, header::COOKIE),
    };
    let checked = auth::check(&facts, app.port, &app.token);
    let is_asset = path.starts_with("/assets/");
    if let Err(refusal) = checked {
        // The assets are the same for everyone: only the host and origin checks apply.
        if !(is_asset && refusal == auth::Refusal::BadToken) {
            let status = match refusal {
                auth::Refusal::BadToken => StatusCode::UNAUTHORIZED,
                _ => StatusCode::FORBIDDEN,
            };
            return error_response(
                status,
                refusal.code(),
                refusal.message(),
                Some(refusal.hint()),
            );
        }
    }
    let method = request.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, [""] | ["index.html"]) => page(&app, query.as_deref()),
        (&Method::GET, ["assets", "app.js"]) => respond(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            APP_JS.to_owned(),
        ),
        (&Method::GET, ["assets", "style.css"]) => respond(
            StatusCode::OK,
            "text/css; charset=utf-8",
            STYLE_CSS.to_owned(),
        ),
        (&Method::GET, ["api", "missions"]) => ok_json(&app.shared.current().index),
        (&Method::GET, ["api", "board"]) => all_boards(&app),
        (&Method::GET, ["api", "missions", slug, "board"]) => {
            match app.shared.current().boards.get(*slug) {
                Some(board) => ok_json(board),
                None => not_found(slug),
            }
        }
        (&Method::GET, ["api", "missions", slug, "history"]) => {
            let wp = query
                .as_deref()
                .and_then(|query| auth::query_value(query, "wp"))
                .map(str::to_owned);
            blocking_view(&app, (*slug).to_owned(), move |repo, protected, slug| {
                let status = MissionStatus::load(repo, &slug, protected)
                    .map_err(|error| (error.code(), error.to_string(), error.hint()))?;
                history(&status, wp.as_deref())
                    .map(|data| ok_value(&data))
                    .map_err(|error| (error.code(), error.to_string(), error.hint()))
            })
            .await
        }
        (&Method::GET, ["api", "missions", slug, "context"]) => {
            blocking_view(&app, (*slug).to_owned(), |repo, _, slug| {
                context_view(repo, &slug)
                    .map(|data| ok_value(&data))
                    .map_err(|error| (error.code(), error.to_string(), error.hint()))
            })
            .await
        }
        (&Method::GET, ["api", "doctor"]) => {
            let mission = query
                .as_deref()
                .and_then(|query| auth::query_value(query, "mission"))
                .map(str::to_owned);
            blocking_view(&app, String::new(), move |repo, protected, _| {
                let missions = match &mission {
                    Some(handle) => show_mission(repo, handle).map(|summary| vec![summary]),
                    None => list_missions(repo),
                }
                .map_err(|error| (error.code(), error.to_string(), error.hint()))?;
                Ok(ok_value(&doctor(repo, &missions, protected, today())))
            })
            .await
        }
        (&Method::GET, ["api", "events"]) => events(&app).into_response(),
        (&Method::GET, ["api", "health"]) => ok_value(&serde_json::json!({
            "pid": app.pid,
            "port": app.port,
            "primary_root": app.primary_root,
            "version": app.shared.current().version,
        })),
        (&Method::POST, ["api", "stop"]) => {
            let _ = app.shutdown.send(true);
            ok_value(&serde_json::json!({"stopping": true}))
        }
        (_, ["api", ..]) | (_, ["assets", ..]) | (_, [""]) => error_response(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("No {method} {path} here"),
            Some("See the routes in `docs/architecture.md` (missionctl-web)"),
        ),
        _ => error_response(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("No {method} {path} here"),
            Some("Open the address `missionctl dashboard` printed"),
        ),
    }
}

fn not_found(slug: &str) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "MISSION_NOT_FOUND",
        &format!("No mission `{slug}` in this repository"),
        Some("The missions page lists them"),
    )
}

/// The page. Loading it with the token also sets the token cookie, so the page keeps working
/// if the address loses its query.
fn page(app: &App, query: Option<&str>) -> Response {
    let mut response = respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        INDEX_HTML.to_owned(),
    );
    if query.and_then(|query| auth::query_value(query, "token")) == Some(app.token.as_str()) {
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            auth::cookie_name(app.port),
            app.token
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// Every board, in the shape of `board --json` without `--mission`.
fn all_boards(app: &App) -> Response {
    let published = app.shared.current();
    let mut data = String::from("{\"missions\":[");
    for (index, board) in published.boards.values().enumerate() {
        if index > 0 {
            data.push(',');
        }
        data.push_str(board);
    }
    data.push_str("],\"unreadable\":[");
    data.push_str(&published.unreadable.join(","));
    data.push_str("]}");
    ok_json(&data)
}

/// Today, in days since 1970-01-01, for the doctor's stale claims.
fn today() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs() / 86_400).unwrap_or(0)
        })
}

type ViewResult = Result<Response, (&'static str, String, String)>;

/// Builds a view off the async threads: the store reads files and git. The repository is
/// opened in the worker (it is not `Send`).
async fn blocking_view(
    app: &App,
    slug: String,
    view: impl FnOnce(
        &Repo,
        &missionctl_store::repo::protection::ProtectedBranches,
        String,
    ) -> ViewResult
    + Send
    + 'static,
) -> Response {
    let root = app.primary_root.clone();
    let protected = app.protected.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let repo = Repo::discover(&root)
            .map_err(|error| (error.code(), error.to_string(), error.hint()))?;
        view(&repo, &protected, slug)
    })
    .await;
    match joined {
        Ok(Ok(response)) => response,
        Ok(Err((code, message, hint))) => {
            let status = if code == "MISSION_NOT_FOUND" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            error_response(status, code, &message, Some(&hint))
        }
        Err(error) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            &error.to_string(),
            None,
        ),
    }
}

/// The stream of changes: a `hello` event with the current version, then a `change` event
/// (`{version, missions, missions_changed}`) after each change; it ends when the server stops.
fn events(app: &App) -> Response {
    let updates = app.shared.updates.subscribe();
    let shutdown = app.shutdown.subscribe();
    let hello = Event::default()
        .event("hello")
        .data(format!("{{\"version\":{}}}", app.shared.current().version));
    let stream = futures_util::stream::unfold(
        (updates, shutdown, Some(hello)),
        |(mut updates, mut shutdown, hello)| async move {
            if let Some(hello) = hello {
                return Some((Ok::<Event, Infallible>(hello), (updates, shutdown, None)));
            }
            if *shutdown.borrow() {
                return None;
            }
            tokio::select! {
                _ = shutdown.changed() => None,
                update = updates.recv() => {
                    let event = match update {
                        Ok(update) => Event::default()
                            .event("change")
                            .data(serde_json::to_string(&*update).unwrap_or_default()),
                        // Fell behind: everything may have changed.
                        Err(RecvError::Lagged(_)) => Event::default()
                            .event("change")
                            .data("{\"version\":0,\"missions\":[],\"missions_changed\":true}"),
                        Err(RecvError::Closed) => return None,
                    };
                    Some((Ok(event), (updates, shutdown, None)))
                }
            }
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    secure(response.headers_mut());
    response
}
