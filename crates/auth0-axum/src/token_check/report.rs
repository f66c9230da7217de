//! The outcome of every check, in order: what an API answers with, what a page lists, what
//! `check-token` prints.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Category, text};

/// One failed check.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Which check failed.
    pub category: Category,
    /// The ESP-style message, fit for an API response.
    pub message: &'static str,
    /// What exactly was wrong: claim names and public values only, never a token or secret.
    pub detail: String,
    /// What to do, naming the setting to change where there is one.
    pub remedy: String,
}

impl Failure {
    /// A refresh answer's ID token that names another `sub` (or `auth_time`) than the login's
    /// (OIDC Core 12.2): `UNKNOWN`, since no ESP category fits.
    pub(crate) fn refresh_mismatch(claim: &str, detail: String) -> Self {
        Self::new(
            Category::Unknown,
            match claim {
                "sub" => super::message::REFRESH_SUB_CHANGED,
                _ => super::message::REFRESH_AUTH_TIME_CHANGED,
            },
            detail,
            "The provider's refresh answer belongs to another user or login: its tokens were not used. Log in again; if it happens again, the provider (or something between it and this app) is misbehaving.",
        )
    }

    pub(super) fn new(
        category: Category,
        message: &'static str,
        detail: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        Self {
            category,
            message,
            // Details quote the token: never raw control characters, never unbounded.
            detail: text::clean(&detail.into()),
            remedy: remedy.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
/// How one step of the check went.
pub enum Outcome {
    /// Passed; `note` says what was seen.
    Pass {
        /// What was seen.
        note: String,
    },
    /// Failed, for these reasons.
    Fail {
        /// Each failure, with its remedy.
        failures: Vec<Failure>,
    },
    /// Not run (an earlier step failed), and why.
    Skipped {
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
/// One step of the check (`format`, `signature`, `claims`...).
pub struct Step {
    /// Its short name.
    pub name: &'static str,
    #[serde(flatten)]
    /// How it went.
    pub outcome: Outcome,
}

/// Every check's outcome, in order, with the decoded parts when they could be decoded.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The decoded header, when it could be decoded (attacker-chosen: escape before display).
    pub header: Option<Map<String, Value>>,
    /// The decoded payload, likewise.
    pub payload: Option<Map<String, Value>>,
    /// Every step, in order.
    pub steps: Vec<Step>,
}

impl CheckReport {
    /// Every failure of every step.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.steps.iter().flat_map(|s| match &s.outcome {
            Outcome::Fail { failures } => failures.as_slice(),
            _ => &[],
        })
    }

    /// The first failure in ESP's order: the one an API answers with.
    pub fn first_failure(&self) -> Option<&Failure> {
        self.failures().next()
    }

    /// Whether every step passed: only then are the claims verified.
    pub fn passed(&self) -> bool {
        self.first_failure().is_none()
    }

    /// The verified claims, only when every check passed.
    pub fn verified_claims(&self) -> Option<&Map<String, Value>> {
        if self.passed() {
            self.payload.as_ref()
        } else {
            None
        }
    }

    /// A one-line summary for logs: categories and details, no token contents beyond claim values
    /// the report already names.
    pub fn summary(&self) -> String {
        self.failures()
            .map(|f| format!("{}: {} ({})", f.category, f.message, f.detail))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(super) fn step(name: &'static str, failures: Vec<Failure>, pass_note: &str) -> Step {
    Step {
        name,
        outcome: if failures.is_empty() {
            Outcome::Pass {
                note: text::clean(pass_note),
            }
        } else {
            Outcome::Fail { failures }
        },
    }
}

pub(super) fn skipped(name: &'static str, reason: &str) -> Step {
    Step {
        name,
        outcome: Outcome::Skipped {
            reason: reason.into(),
        },
    }
}
