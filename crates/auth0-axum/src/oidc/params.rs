//! The `/authorize` parameters a login link may pass through to Auth0, each checked for shape
//! before any request is made, and the organization rule shared with `AUTH0_ORGANIZATION`.

use serde::Deserialize;

use crate::config::valid_organization;

/// The longest `max_age` accepted: a year (Auth0 takes seconds).
const MAX_MAX_AGE: u32 = 365 * 24 * 3600;

/// Auth0's `/authorize` parameters a login link may pass through.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuthorizeParams {
    pub screen_hint: Option<String>,
    pub organization: Option<String>,
    pub invitation: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub connection: Option<String>,
    pub max_age: Option<u32>,
    pub acr_values: Option<String>,
}

/// The same parameters as a login link's query string gives them, unchecked.
#[derive(Debug, Default, Deserialize)]
pub struct RequestedParams {
    pub screen_hint: Option<String>,
    pub organization: Option<String>,
    pub invitation: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub connection: Option<String>,
    pub max_age: Option<String>,
    pub acr_values: Option<String>,
}

/// A pass-through parameter with a value Auth0 would not expect.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the {name} parameter has a value this app does not pass on to Auth0")]
pub struct InvalidParameter {
    pub name: &'static str,
}

fn token_chars(value: &str, max: usize, extra: &str) -> bool {
    (1..=max).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

fn valid(name: &str, value: &str) -> bool {
    let words = |max_words: usize, each: &dyn Fn(&str) -> bool| {
        let list: Vec<&str> = value.split(' ').collect();
        list.len() <= max_words && list.iter().all(|w| each(w))
    };
    match name {
        "prompt" => matches!(value, "none" | "login" | "consent" | "select_account"),
        "screen_hint" => matches!(value, "signup" | "login"),
        "organization" => valid_organization(value),
        "invitation" => token_chars(value, 256, "_-."),
        "connection" => token_chars(value, 128, "_-."),
        "login_hint" => (1..=256).contains(&value.len()) && !value.chars().any(char::is_control),
        "ui_locales" => words(10, &|w| token_chars(w, 35, "-")),
        "acr_values" => words(5, &|w| token_chars(w, 256, ":/._-#?=&")),
        _ => false,
    }
}

impl AuthorizeParams {
    /// Each parameter as a login link gave it, checked.
    pub fn new(requested: RequestedParams) -> Result<Self, InvalidParameter> {
        let max_age = match requested.max_age {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(secs) if secs <= MAX_MAX_AGE => Some(secs),
                _ => return Err(InvalidParameter { name: "max_age" }),
            },
        };
        let params = Self {
            screen_hint: requested.screen_hint,
            organization: requested.organization,
            invitation: requested.invitation,
            prompt: requested.prompt,
            login_hint: requested.login_hint,
            ui_locales: requested.ui_locales,
            connection: requested.connection,
            max_age,
            acr_values: requested.acr_values,
        };
        for (name, value) in params.text_pairs() {
            if !valid(name, value) {
                return Err(InvalidParameter { name });
            }
        }
        Ok(params)
    }

    /// With `AUTH0_ORGANIZATION` set, every login is for it: a link may name only the same one.
    pub fn with_organization(mut self, configured: Option<&str>) -> Result<Self, InvalidParameter> {
        match (configured, &self.organization) {
            (None, _) => Ok(self),
            (Some(org), None) => {
                self.organization = Some(org.to_string());
                Ok(self)
            }
            (Some(org), Some(asked)) if asked.eq_ignore_ascii_case(org) => Ok(self),
            (Some(_), Some(_)) => Err(InvalidParameter {
                name: "organization",
            }),
        }
    }

    /// A silent login: `prompt=none` (Auth0 answers at once, with a session or an error).
    pub fn is_silent(&self) -> bool {
        self.prompt.as_deref() == Some("none")
    }

    fn text_pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("screen_hint", &self.screen_hint),
            ("organization", &self.organization),
            ("invitation", &self.invitation),
            ("prompt", &self.prompt),
            ("login_hint", &self.login_hint),
            ("ui_locales", &self.ui_locales),
            ("connection", &self.connection),
            ("acr_values", &self.acr_values),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    }

    /// Every parameter to put in the authorize URL.
    pub(super) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = self
            .text_pairs()
            .map(|(name, value)| (name, value.to_string()))
            .collect();
        if let Some(max_age) = self.max_age {
            pairs.push(("max_age", max_age.to_string()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Result<AuthorizeParams, InvalidParameter> {
        let requested = serde_json::from_value(serde_json::json!({ name: value })).unwrap();
        AuthorizeParams::new(requested)
    }

    #[test]
    fn each_parameter_is_checked_for_shape() {
        for (name, good) in [
            ("organization", "org_W2Hh7BCVdQTq3Vz9"),
            ("organization", "acme-corp"),
            ("login_hint", "jane@example.com"),
            ("ui_locales", "fr-CA en"),
            ("connection", "google-oauth2"),
            ("max_age", "300"),
            (
                "acr_values",
                "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
            ),
            ("prompt", "none"),
        ] {
            assert!(one(name, good).is_ok(), "{name}={good} refused");
        }
        for (name, bad) in [
            ("organization", "Acme Corp"),
            ("organization", "org_"),
            ("login_hint", "a\nb"),
            ("ui_locales", "fr<script>"),
            ("connection", "a b"),
            ("max_age", "-1"),
            ("max_age", "99999999999"),
            ("acr_values", "a\"b"),
            ("prompt", "always"),
        ] {
            assert!(one(name, bad).is_err(), "{name}={bad} accepted");
        }
    }
}
