//! What the session holds: the logged-in user, and the logins in progress.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::LOGIN_TTL_SECS;

/// Who is logged in: what the pages need, and the tokens the app was asked to keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserSession {
    /// Profile claims (from the verified ID token, merged with userinfo).
    #[serde(rename = "p")]
    pub profile: Map<String, Value>,
    /// The provider's session id (the ID token's `sid`), sent as `logout_hint` at logout. The ID
    /// token itself is not kept: it repeats the profile and would double the cookie, and the
    /// provider's logout needs only `client_id` (Auth0's `/oidc/logout` and `/v2/logout` alike).
    #[serde(rename = "sd", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Kept only when an API audience asked for one.
    #[serde(rename = "at", default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Kept only when `offline_access` asked for one.
    #[serde(rename = "rt", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(rename = "te", default, skip_serializing_if = "Option::is_none")]
    /// When the access token expires (unix time).
    pub token_expires_at: Option<i64>,
    /// What the access token grants (Auth0 RBAC `permissions` and `scope`), verified when it was
    /// received, so a page can check a permission without a signature check per view.
    #[serde(rename = "pm", default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// When the user last authenticated at the provider (the ID token's `auth_time`).
    #[serde(rename = "au", default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// How (`acr`: the assurance level; `amr`: the methods, e.g. `mfa`), for step-up checks.
    #[serde(rename = "ac", default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The authentication methods (`amr`: `pwd`, `mfa`...).
    #[serde(rename = "am", default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// What the app's `/callback` hook added (`LoginCompleted::set_app_data`).
    #[serde(rename = "ad", default, skip_serializing_if = "Map::is_empty")]
    pub app_data: Map<String, Value>,
    #[serde(rename = "li")]
    /// When this session began (unix time).
    pub logged_in_at: i64,
    #[serde(rename = "ra")]
    /// When its tokens were last refreshed.
    pub refreshed_at: i64,
    /// `DPoP` when the access token is bound to the app's DPoP key (RFC 9449); `None`: Bearer.
    #[serde(rename = "tt", default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The upstream identity provider's ceiling on this session (the login's ID token's
    /// `session_expiry`, unix time): the session ends then, whatever its own lifetimes say, and a
    /// refresh never moves it.
    #[serde(rename = "se", default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<i64>,
    /// Access tokens for other APIs than `AUTH0_AUDIENCE`, got with the same refresh token
    /// (Auth0's Multi-Resource Refresh Tokens), oldest first.
    #[serde(rename = "ap", default, skip_serializing_if = "Vec::is_empty")]
    pub api_tokens: Vec<ApiToken>,
}

/// An access token for one API (not the default audience) and the scopes it was asked with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiToken {
    /// The API's identifier (`audience`).
    #[serde(rename = "a")]
    pub audience: String,
    /// The scopes asked for (space-separated).
    #[serde(rename = "s")]
    pub scope: String,
    #[serde(rename = "t")]
    pub access_token: String,
    /// When it expires (unix time).
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// `DPoP` when bound to the app's key.
    #[serde(rename = "tt", default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl ApiToken {
    /// Whether it is for `audience` and was asked with every scope in `scope`.
    pub fn serves(&self, audience: &str, scope: &str) -> bool {
        self.audience == audience
            && scope
                .split_whitespace()
                .all(|wanted| self.scope.split_whitespace().any(|s| s == wanted))
    }
}

/// `DPoP` for a token endpoint's `token_type` of DPoP (any case); `None` for Bearer or none.
pub(crate) fn bound_token_type(token_type: Option<&str>) -> Option<String> {
    token_type
        .filter(|t| t.eq_ignore_ascii_case("DPoP"))
        .map(|_| "DPoP".to_string())
}

/// The user as the session record holds it: its JSON as one string value. A page view reads it
/// through tower-sessions, which hands out a copy of the stored value: copying one string and
/// parsing it once costs less than copying a tree of JSON values and converting it (2.4 against
/// 3.4 µs per read, release build, on a demo login's record). Costs the cookie a backslash per
/// quote.
pub(crate) fn user_value(user: &UserSession) -> Value {
    Value::String(serde_json::to_string(user).unwrap_or_default())
}

/// The inverse of [`user_value`]. A user stored as a JSON object (by earlier versions of this
/// app) still reads, so an upgrade logs nobody out.
pub(crate) fn user_from_value(value: Value) -> Result<UserSession, serde_json::Error> {
    match value {
        Value::String(json) => serde_json::from_str(&json),
        object => serde_json::from_value(object),
    }
}

impl UserSession {
    /// A user with this profile, logged in (and last refreshed) at `now`, holding no tokens: for
    /// tests and benchmarks that forge sessions. Logins build theirs from the verified ID token.
    pub fn without_tokens(profile: Map<String, Value>, now: i64) -> Self {
        Self {
            profile,
            sid: None,
            access_token: None,
            refresh_token: None,
            token_expires_at: None,
            permissions: Vec::new(),
            auth_time: None,
            acr: None,
            amr: Vec::new(),
            app_data: Map::new(),
            logged_in_at: now,
            refreshed_at: now,
            token_type: None,
            session_expires_at: None,
            api_tokens: Vec::new(),
        }
    }

    /// The same login with a refresh's tokens: a rotated refresh token replaces the old one (a
    /// provider that does not rotate sends none, and the old one stays).
    pub fn refreshed(
        mut self,
        access_token: String,
        rotated_refresh_token: Option<String>,
        expires_in: Option<i64>,
        permissions: Vec<String>,
        token_type: Option<String>,
        now: i64,
    ) -> Self {
        self.access_token = Some(access_token);
        self.token_type = token_type;
        if let Some(rotated) = rotated_refresh_token {
            self.refresh_token = Some(rotated);
        }
        self.token_expires_at = token_expiry(expires_in, now);
        self.permissions = permissions;
        self
    }

    /// The same login holding a token for another API (replacing an older one for it); the
    /// refresh token it came with, when rotated, replaces the session's.
    pub fn with_api_token(
        mut self,
        token: ApiToken,
        rotated_refresh_token: Option<String>,
    ) -> Self {
        if let Some(rotated) = rotated_refresh_token {
            self.refresh_token = Some(rotated);
        }
        self.api_tokens.retain(|t| t.audience != token.audience);
        self.api_tokens.push(token);
        self
    }

    /// What to call the user: `name`, else `nickname`, `email` or `sub`.
    pub fn name(&self) -> &str {
        ["name", "nickname", "email", "sub"]
            .iter()
            .find_map(|k| self.profile.get(*k).and_then(Value::as_str))
            .unwrap_or("user")
    }

    /// A string claim of the profile.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.profile.get(name).and_then(Value::as_str)
    }

    /// Seconds since the user last authenticated at the provider (`auth_time`, else the login).
    pub fn authenticated_ago(&self, now: i64) -> i64 {
        now.saturating_sub(self.auth_time.unwrap_or(self.logged_in_at))
    }
}

/// The longest `expires_in` believed (a year): the provider's number is added without overflow.
pub const MAX_EXPIRES_IN: i64 = 365 * 24 * 3600;

/// When a token given `expires_in` seconds at `now` expires: the one place a provider's lifetime
/// is clamped, for logins and refreshes alike.
pub fn token_expiry(expires_in: Option<i64>, now: i64) -> Option<i64> {
    expires_in.map(|s| now.saturating_add(s.clamp(0, MAX_EXPIRES_IN)))
}

/// A login in progress: what `/callback` must find to accept the provider's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginTransaction {
    #[serde(rename = "s")]
    /// The `state` sent to `/authorize`.
    pub state: String,
    #[serde(rename = "n")]
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    #[serde(rename = "v")]
    /// The PKCE verifier the code exchange sends.
    pub pkce_verifier: String,
    #[serde(rename = "r")]
    /// Where the browser goes after the login (a local path).
    pub return_to: String,
    #[serde(rename = "t")]
    /// When the login began (unix time).
    pub created_at: i64,
    /// `max_age` sent: the ID token's `auth_time` must be this recent.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// The organization asked for: the ID token must be for it.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// A silent login (`prompt=none`): "login required" returns the browser as a guest.
    #[serde(rename = "q", default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    /// `acr_values` asked for: the ID token's `acr` must be one of them, and multi-factor must
    /// show in `amr` when the MFA policy was asked (step-up that cannot be downgraded).
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
}

impl LoginTransaction {
    pub(super) fn expired(&self, now: i64) -> bool {
        now.saturating_sub(self.created_at) > LOGIN_TTL_SECS
    }

    /// What this login costs in the session, in bytes of JSON.
    pub fn stored_len(&self) -> usize {
        serde_json::to_vec(self).map_or(usize::MAX / 8, |v| v.len())
    }
}

/// What a `returnTo` costs once stored (JSON-escaped), to bound it before a login is started.
pub fn stored_return_to_len(return_to: &str) -> usize {
    serde_json::to_string(return_to).map_or(usize::MAX / 8, |s| s.len())
}

/// What became of the state `/callback` was given.
#[derive(Debug)]
pub enum TakenLogin {
    Found(LoginTransaction),
    Expired,
    /// No login in this browser has this state; `others` says whether any login is pending.
    NotFound {
        others: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_holds_the_user_as_one_string_and_reads_the_older_object_form() {
        let mut profile = Map::new();
        profile.insert("name".into(), "Ann \"Q\" Lee".into());
        let user = UserSession::without_tokens(profile, crate::primitives::unix_now());
        let stored = user_value(&user);
        assert!(stored.is_string(), "{stored}");
        assert_eq!(user_from_value(stored).unwrap().name(), "Ann \"Q\" Lee");
        let older = serde_json::to_value(&user).unwrap();
        assert!(older.is_object());
        assert_eq!(user_from_value(older).unwrap().name(), "Ann \"Q\" Lee");
        assert!(user_from_value(Value::String("{".into())).is_err());
    }

    #[test]
    fn the_display_name_falls_back_through_the_usual_claims() {
        let mut user = UserSession::without_tokens(Map::new(), crate::primitives::unix_now());
        assert_eq!(user.name(), "user");
        user.profile.insert("email".into(), "a@b.c".into());
        assert_eq!(user.name(), "a@b.c");
        user.profile.insert("name".into(), "Ann".into());
        assert_eq!(user.name(), "Ann");
    }
}
