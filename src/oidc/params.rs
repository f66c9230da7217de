//! The `/authorize` parameters a login link may pass through to Auth0, checked for shape before
//! any request is made.

/// Auth0's `/authorize` parameters a login link may pass through, each checked for shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuthorizeParams {
    pub screen_hint: Option<String>,
    pub organization: Option<String>,
    pub invitation: Option<String>,
    pub prompt: Option<String>,
}

/// A pass-through parameter with a value Auth0 would not expect.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the {name} parameter has a value this app does not pass on to Auth0")]
pub struct InvalidParameter {
    pub name: &'static str,
}

impl AuthorizeParams {
    pub fn new(
        screen_hint: Option<String>,
        organization: Option<String>,
        invitation: Option<String>,
        prompt: Option<String>,
    ) -> Result<Self, InvalidParameter> {
        let params = Self {
            screen_hint,
            organization,
            invitation,
            prompt,
        };
        for (name, value) in params.pairs() {
            let ok = match name {
                "prompt" => matches!(value, "none" | "login" | "consent" | "select_account"),
                "screen_hint" => matches!(value, "signup" | "login"),
                _ => {
                    value.len() <= 256
                        && value
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
                }
            };
            if !ok {
                return Err(InvalidParameter { name });
            }
        }
        Ok(params)
    }

    pub(super) fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("screen_hint", &self.screen_hint),
            ("organization", &self.organization),
            ("invitation", &self.invitation),
            ("prompt", &self.prompt),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    }
}
