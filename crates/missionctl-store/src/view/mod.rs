//! What people and programs see of missions: the `--json` data of `board`, `history`,
//! `context` and `doctor`, built once here so that every adapter — the command line, the
//! dashboard, the event stream — shows the same values in the same shape.
//!
//! Views are plain serializable values. Building one reads through the store's own doors
//! ([`crate::status::MissionStatus`], [`crate::mission::context`], [`crate::planning::work_package`]);
//! rendering them as text or HTML is the adapter's business.

pub mod board;
pub mod context;
pub mod dashboard_state;
pub mod doctor;
pub mod history;
pub mod leftovers;
pub mod live;
pub mod ready;
pub mod watch;
pub mod work_packages;

use serde::Serialize;

/// An error carried inside a view (a mission that could not be shown among others): its
/// stable code, its message followed by its causes, and its hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewError {
    /// The stable upper-case code.
    pub code: String,
    /// The message, then each cause, separated by `: `.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
}

impl ViewError {
    /// Returns the view of an error with its code and hint.
    pub fn new(code: &str, hint: String, error: &dyn std::error::Error) -> ViewError {
        let mut message = error.to_string();
        let mut previous = message.clone();
        let mut next = error.source();
        while let Some(source) = next {
            let text = source.to_string();
            if !previous.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            previous = text;
            next = source.source();
        }
        ViewError {
            code: code.to_owned(),
            message,
            hint: Some(hint),
        }
    }
}
