//! How the demo provider (mis)behaves: each field makes one of Auth0's failures happen for real.

use serde_json::{Map, Value};

/// How the provider (mis)behaves. The default is a well-behaved provider.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub issuer_override: Option<String>,
    pub audience_override: Option<Value>,
    pub azp_override: Option<String>,
    /// Seconds from now until the ID token's `exp` (negative: already expired).
    pub id_token_lifetime_secs: i64,
    /// Added to `iat` (positive: issued "in the future", as with a fast provider clock).
    pub iat_offset_secs: i64,
    pub nonce_override: Option<String>,
    /// Sign with this fixture key instead of the active one (e.g. [`FOREIGN_KID`]).
    pub sign_with: Option<String>,
    /// Send this instead of a real ID token (malformed tokens).
    pub raw_id_token: Option<String>,
    /// Extra claims in the ID token and userinfo (an oversize profile).
    pub extra_claims: Map<String, Value>,
    /// Advertise `end_session_endpoint` in discovery (Auth0 does only when RP-initiated logout is on).
    pub advertise_end_session: bool,
    /// Report this `at_hash` instead of the real one.
    pub at_hash_override: Option<String>,
    /// RFC 9207: name this issuer in authorization answers instead of our own (a mix-up).
    pub response_iss_override: Option<String>,
    /// Leave `iss` out of authorization answers (while discovery still promises it).
    pub omit_response_iss: bool,
    /// Answer discovery with this status (an outage) instead of the document.
    pub discovery_status: Option<u16>,
    /// Answer the JWKS with this status instead of the keys.
    pub jwks_status: Option<u16>,
    /// Wait this long before answering the JWKS (a slow or hanging provider).
    pub jwks_delay_ms: u64,
    /// The token endpoint answers only after this long (a hanging provider).
    pub token_delay_ms: u64,
    /// Claims replaced in the ID token of a refresh answer (e.g. another `iss` or `sub`: the
    /// conformance suite's `oidcc-client-test-refresh-token-invalid-*`).
    pub refresh_id_token_overrides: Map<String, Value>,
    /// ID tokens carry no `kid` in their header.
    pub omit_kid: bool,
    /// ID tokens' signatures are altered (one byte), so they no longer verify.
    pub tamper_id_token_signature: bool,
    /// `/userinfo` answers with this `sub` instead of the user's.
    pub userinfo_sub_override: Option<String>,
    /// Discovery advertises this issuer instead of its own.
    pub discovery_issuer_override: Option<String>,
    /// Discovery advertises `jwks_uri` as `{issuer}jwks/{this}` (served there too), not the
    /// usual path: a client must take it from discovery.
    pub jwks_uri_suffix: Option<String>,
    /// The end-session endpoint redirects back with `state=this` (another state than the
    /// client's, or one it never sent); none when `None`.
    pub post_logout_state: Option<String>,
    /// Discovery lists only these token endpoint authentication methods.
    pub token_auth_methods: Option<Vec<String>>,
    /// The tenant requires Pushed Authorization Requests (RFC 9126): discovery says so, and
    /// `/authorize` without a `request_uri` is refused.
    pub require_par: bool,
    /// Discovery advertises no PAR endpoint (a tenant without PAR).
    pub omit_par_endpoint: bool,
    /// Discovery does not promise `iss` in authorization responses (RFC 9207).
    pub unadvertise_response_iss: bool,
    /// The token endpoint answers 429 `too_many_requests`, as Auth0 does past a rate limit, with
    /// `x-ratelimit-limit`, `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds
    /// ahead (no `Retry-After`, as Auth0's Authentication API).
    pub rate_limited_for_secs: Option<i64>,
    /// Like a tenant without MFA: `acr_values` is ignored (no `acr`, no `mfa` in `amr`).
    pub ignore_acr_values: bool,
    /// Auth0's Rotation Overlap Period: a spent refresh token may be used again for this long
    /// (0: a reuse is detected at once and revokes the token's family).
    pub rotation_overlap_secs: i64,
    /// Token answers carry no `expires_in`.
    pub omit_expires_in: bool,
    /// Token answers say this `token_type` (e.g. `dPoP`: case must not matter).
    pub token_type_override: Option<String>,
    /// The token endpoint takes only requests with a DPoP proof.
    pub require_dpop: bool,
    /// The token endpoint wants this nonce in DPoP proofs (`use_dpop_nonce` otherwise).
    pub dpop_nonce: Option<String>,
    /// Answer `/authorize` at once with this `error` and `error_description` (Auth0's texts:
    /// "Service not found: X", "user is blocked", an Action's deny reason...).
    pub authorize_error: Option<(String, String)>,
    /// Answer the token endpoint with this status and raw body instead of tokens.
    pub token_error: Option<(u16, String)>,
    /// Leave the organization claims out of the ID token (as when `organization=` was removed).
    pub drop_org_claims: bool,
    /// Added to `auth_time` (negative: the user authenticated that long ago).
    pub auth_time_offset_secs: i64,
    /// The access token's lifetime (`expires_in`, and `exp` in a JWT access token).
    pub access_token_lifetime_secs: i64,
    /// Claims left out of the ID token but still in userinfo (a provider whose ID tokens carry
    /// only the minimum, unlike Auth0's).
    pub id_token_omits: Vec<String>,
    /// The application's refresh-token policies (Multi-Resource Refresh Tokens): an API and the
    /// scopes a refresh may ask for it. A refresh asking for an API not listed gets a token for
    /// the login's audience instead, silently, as Auth0 answers.
    pub mrrt_policies: Vec<(String, Vec<String>)>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            issuer_override: None,
            audience_override: None,
            azp_override: None,
            id_token_lifetime_secs: 3600,
            iat_offset_secs: 0,
            nonce_override: None,
            sign_with: None,
            raw_id_token: None,
            extra_claims: Map::new(),
            advertise_end_session: true,
            at_hash_override: None,
            response_iss_override: None,
            omit_response_iss: false,
            discovery_status: None,
            jwks_status: None,
            jwks_delay_ms: 0,
            token_delay_ms: 0,
            refresh_id_token_overrides: Map::new(),
            omit_kid: false,
            tamper_id_token_signature: false,
            userinfo_sub_override: None,
            discovery_issuer_override: None,
            jwks_uri_suffix: None,
            post_logout_state: None,
            token_auth_methods: None,
            require_par: false,
            omit_par_endpoint: false,
            require_dpop: false,
            omit_expires_in: false,
            rotation_overlap_secs: 0,
            ignore_acr_values: false,
            rate_limited_for_secs: None,
            token_type_override: None,
            unadvertise_response_iss: false,
            dpop_nonce: None,
            authorize_error: None,
            token_error: None,
            drop_org_claims: false,
            auth_time_offset_secs: 0,
            access_token_lifetime_secs: 86_400,
            mrrt_policies: Vec::new(),
            id_token_omits: Vec::new(),
        }
    }
}
