//! What a token must satisfy: whom to trust, for which audience, at what time.

use openidconnect::core::CoreJwsSigningAlgorithm;

/// Whose tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Exactly this issuer (Auth0's ends in `/`).
    Issuer(String),
    /// Nobody yet; `why` names the setting that would change that.
    Nobody {
        /// The setting that would change that.
        why: String,
    },
}

/// Which setting holds the expected audience, so a remedy can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceSetting {
    /// An ID token: the audience is this application.
    ClientId,
    /// An access token for your API.
    ApiAudience,
    /// `check-token --audience`.
    CommandLine,
}

impl AudienceSetting {
    /// The setting's name, as a remedy writes it.
    pub fn name(self) -> &'static str {
        match self {
            AudienceSetting::ClientId => "AUTH0_CLIENT_ID",
            AudienceSetting::ApiAudience => "AUTH0_AUDIENCE",
            AudienceSetting::CommandLine => "--audience",
        }
    }
}

/// Clock skew tolerated on `exp`, `nbf` and `iat`, as ESP allows.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;

/// What a token must satisfy.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// Whose tokens are accepted.
    pub trust: Trust,
    /// Audiences accepted (compared ignoring a leading `http(s)://` and a trailing `/`).
    pub audiences: Vec<String>,
    /// Where the audience comes from, named in remedies.
    pub audience_setting: AudienceSetting,
    /// Unix time to check against.
    pub now: i64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: i64,
    /// Signature algorithms accepted (RS256 by default).
    pub allowed_algs: Vec<CoreJwsSigningAlgorithm>,
    /// Set for an ID token from our own login.
    pub id_token: Option<IdTokenExpectations>,
    /// Claims that must be present ([`super::REQUIRED_CLAIMS`] unless a token type says less).
    pub required_claims: &'static [&'static str],
    /// The header `typ` values accepted (explicit typing, RFC 8725 §3.11): one kind of token
    /// cannot pass as another. A token without `typ` is accepted. [`TokenTypes::ANY`] by default.
    pub token_types: TokenTypes,
}

/// Which header `typ` values a check accepts, and what kind of token it expects (for messages).
///
/// ```
/// use auth0_axum::token_check::TokenTypes;
///
/// assert!(TokenTypes::ACCESS_TOKEN.accepts("at+jwt"));
/// assert!(TokenTypes::ACCESS_TOKEN.accepts("application/AT+JWT"));
/// assert!(!TokenTypes::ACCESS_TOKEN.accepts("logout+jwt"));
/// assert!(TokenTypes::ANY.accepts("logout+jwt"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTypes {
    /// Accepted `typ` values, compared ignoring case and an `application/` prefix (RFC 7515
    /// §4.1.9). Empty: any.
    pub names: &'static [&'static str],
    /// The kind of token expected, as a message says it ("an access token").
    pub kind: &'static str,
}

impl TokenTypes {
    /// Any `typ`.
    pub const ANY: TokenTypes = TokenTypes {
        names: &[],
        kind: "a token",
    };
    /// An access token: `JWT` (Auth0's) or `at+jwt` (RFC 9068). An ID token's, a logout token's
    /// (`logout+jwt`) or a DPoP proof's (`dpop+jwt`) `typ` is refused.
    pub const ACCESS_TOKEN: TokenTypes = TokenTypes {
        names: &["JWT", "at+jwt"],
        kind: "an access token",
    };
    /// A back-channel logout token: `JWT` (Auth0's) or `logout+jwt` (Back-Channel Logout 1.0 §2.4).
    pub const LOGOUT_TOKEN: TokenTypes = TokenTypes {
        names: &["JWT", "logout+jwt"],
        kind: "a logout token",
    };

    /// Whether a header's `typ` value is one of these.
    pub fn accepts(&self, typ: &str) -> bool {
        let bare = match typ.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
            _ => typ,
        };
        self.names.is_empty() || self.names.iter().any(|n| n.eq_ignore_ascii_case(bare))
    }
}

#[derive(Debug, Clone)]
/// What only an ID token from this app's own login must satisfy.
pub struct IdTokenExpectations {
    /// This application: `aud` must hold it (and `azp`, when there are several audiences).
    pub client_id: String,
    /// The nonce this login sent.
    pub nonce: String,
    /// When present, a token's `at_hash` must match it.
    pub access_token: Option<String>,
}

impl Expectations {
    /// Trust `issuer`, accept `audience` (named in remedies as `audience_setting`), now, with the default leeway and RS256.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        audience_setting: AudienceSetting,
    ) -> Self {
        Self {
            trust: Trust::Issuer(issuer.into()),
            audiences: vec![audience.into()],
            audience_setting,
            now: crate::primitives::unix_now(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            allowed_algs: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            id_token: None,
            required_claims: super::REQUIRED_CLAIMS,
            token_types: TokenTypes::ANY,
        }
    }

    /// Nothing can be trusted until a setting is given; `why` names it.
    pub fn unconfigured(why: impl Into<String>) -> Self {
        Self {
            trust: Trust::Nobody { why: why.into() },
            audiences: Vec::new(),
            audience_setting: AudienceSetting::ApiAudience,
            now: crate::primitives::unix_now(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            allowed_algs: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            id_token: None,
            required_claims: super::REQUIRED_CLAIMS,
            token_types: TokenTypes::ANY,
        }
    }
}
