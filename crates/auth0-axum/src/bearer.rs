//! [`BearerClaims`]: an API route's check of `Authorization: Bearer <access token>`, as an
//! extractor. The token must be an Auth0 access token for `AUTH0_AUDIENCE`, signed by the tenant
//! (every check of [`crate::token_check`]). A refusal answers as Google's Extensible Service Proxy
//! (Envoy `jwt_authn`) does: its status, a `{"code","message"}` body and `WWW-Authenticate`, plus
//! our `category` (`BAD_FORMAT`, `TIME_CONSTRAINT_FAILURE`, ...) and `remedy`.

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Auth0;
use crate::state::AppState;
use crate::token_check::{self, AudienceSetting, Category, Expectations, message};

/// The verified claims of a bearer access token for `AUTH0_AUDIENCE`. Rejected with a
/// [`BearerRefusal`].
///
/// ```
/// use auth0_axum::{BearerClaims, BearerRefusal};
/// use axum::Json;
/// async fn me(claims: BearerClaims) -> Json<serde_json::Value> {
///     Json(serde_json::json!({ "sub": claims.sub() }))
/// }
/// async fn messages(claims: BearerClaims) -> Result<&'static str, BearerRefusal> {
///     claims.require_permission("read:messages")?;
///     Ok("the messages")
/// }
/// ```
#[derive(Debug, Clone)]
pub struct BearerClaims {
    claims: Map<String, Value>,
    realm: String,
}

impl BearerClaims {
    /// Every claim of the verified token.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The token's subject (`sub`): the user, or `CLIENT_ID@clients` for a machine.
    pub fn sub(&self) -> &str {
        self.claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// What the token grants: Auth0 RBAC's `permissions`, and the entries of `scope`.
    pub fn permissions(&self) -> Vec<String> {
        crate::oidc::granted(&self.claims)
    }

    /// `Ok` if the token grants `permission`; otherwise the 403 `insufficient_scope` refusal
    /// naming it (RFC 6750 3.1).
    pub fn require_permission(&self, permission: &str) -> Result<(), BearerRefusal> {
        if self.permissions().iter().any(|p| p == permission) {
            return Ok(());
        }
        Err(BearerRefusal {
            status: StatusCode::FORBIDDEN,
            challenge: format!(
                "Bearer realm=\"{}\", error=\"insufficient_scope\", scope=\"{permission}\"",
                self.realm
            ),
            body: json!({
                "code": 403,
                "message": format!("Insufficient scope: {permission} is required"),
                "required": permission,
            }),
            category: None,
        })
    }
}

/// Why a bearer token was refused: an ESP-style JSON answer with `WWW-Authenticate`.
#[derive(Debug, Clone)]
pub struct BearerRefusal {
    status: StatusCode,
    challenge: String,
    body: Value,
    category: Option<Category>,
}

impl BearerRefusal {
    /// There was no bearer token at all (401 "Jwt is missing"): a route may then try a session.
    pub fn is_missing(&self) -> bool {
        self.category == Some(Category::Missing)
    }

    /// The HTTP status (401, or 403 for a token that does not grant enough).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The failed check's category (`BAD_FORMAT`, `TIME_CONSTRAINT_FAILURE`...), if a check
    /// failed.
    pub fn category(&self) -> Option<Category> {
        self.category
    }

    /// The JSON body: `code`, `message`, `category` and `remedy` (or `required`).
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// A DPoP failure: 401 with the `DPoP` challenge (RFC 9449 §7.1), the check named.
    fn dpop(realm: &str, failure: &token_check::Failure) -> Self {
        let mut refusal = Self::new(
            realm,
            failure.category,
            failure.message,
            Some(&failure.remedy),
        );
        refusal.challenge = format!(
            "DPoP realm=\"{realm}\", error=\"invalid_dpop_proof\", algs=\"{}\"",
            token_check::dpop::PROOF_ALGORITHMS
        );
        refusal
    }

    fn new(realm: &str, category: Category, msg: &str, remedy: Option<&str>) -> Self {
        let status =
            StatusCode::from_u16(category.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let challenge = if category == Category::Missing {
            format!("Bearer realm=\"{realm}\"")
        } else {
            format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")
        };
        let mut body =
            json!({"code": status.as_u16(), "message": msg, "category": category.code()});
        if let Some(remedy) = remedy {
            body["remedy"] = Value::String(remedy.to_string());
        }
        Self {
            status,
            challenge,
            body,
            category: Some(category),
        }
    }
}

impl IntoResponse for BearerRefusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&self.challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// How the token came: `Authorization: Bearer` or `Authorization: DPoP` (RFC 9449 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Dpop,
}

fn bearer_token(headers: &HeaderMap) -> Option<(Scheme, &str)> {
    let (scheme, token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    Some((scheme, token.trim())).filter(|(_, t)| !t.is_empty())
}

/// RFC 9449: a token bound to a key (`cnf.jkt`) only with the `DPoP` scheme and a valid proof of
/// that key for this request; an unbound one only as `Bearer`.
async fn check_binding(
    state: &AppState,
    parts: &Parts,
    realm: &str,
    scheme: Scheme,
    token: &str,
    claims: &Map<String, Value>,
) -> Result<(), token_check::Failure> {
    use token_check::dpop;
    let jkt = dpop::bound_jkt(claims);
    let jkt = match (scheme, jkt) {
        (Scheme::Bearer, None) => return Ok(()),
        (Scheme::Bearer, Some(_)) => return Err(dpop::bound_as_bearer()),
        (Scheme::Dpop, None) => return Err(dpop::not_bound()),
        (Scheme::Dpop, Some(jkt)) => jkt,
    };
    let mut proofs = parts.headers.get_all("dpop").iter();
    let (Some(proof), None) = (proofs.next(), proofs.next()) else {
        return Err(dpop::missing());
    };
    let proof = proof.to_str().map_err(|_| dpop::missing())?;
    let now = crate::primitives::unix_now();
    let request = dpop::ProofRequest {
        method: parts.method.as_str(),
        url: realm,
        access_token: token,
        now,
    };
    let valid = dpop::check_proof(proof, jkt, &request)?;
    match state.shared.first_dpop_use(&valid.jti).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(dpop::replayed(&valid.jti)),
        // A proof that cannot be checked for replay is not accepted.
        Err(err) => {
            tracing::warn!(error = %err, "the DPoP proof's jti could not be checked against the shared ledger");
            Err(dpop::ledger_unavailable())
        }
    }
}

impl<S> FromRequestParts<S> for BearerClaims
where
    Auth0: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = BearerRefusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, BearerRefusal> {
        let auth = Auth0::from_ref(state);
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(parts.uri.path(), |o| o.0.path());
        let realm = auth.0.config.app.base_url.join(path);
        let Some((scheme, token)) = bearer_token(&parts.headers) else {
            return Err(BearerRefusal::new(
                &realm,
                Category::Missing,
                message::MISSING,
                None,
            ));
        };
        let claims = verify(&auth.0, &realm, token).await?;
        if let Err(failure) = check_binding(&auth.0, parts, &realm, scheme, token, &claims).await {
            tracing::info!(check = failure.message, detail = %failure.detail, "DPoP proof refused");
            return Err(BearerRefusal::dpop(&realm, &failure));
        }
        Ok(BearerClaims { claims, realm })
    }
}

/// The token's verified claims, or the ESP-style refusal (logged with its diagnosis).
async fn verify(
    state: &AppState,
    realm: &str,
    token: &str,
) -> Result<Map<String, Value>, BearerRefusal> {
    let provider = state.oidc.provider();
    let expect = match &state.config.app.audience {
        None => {
            tracing::warn!(
                "a bearer token reached the API, but AUTH0_AUDIENCE is not set: no API token can be trusted"
            );
            Expectations::unconfigured(
                "This app has no API configured: set AUTH0_AUDIENCE to your API's identifier (Auth0 dashboard > APIs) and restart.",
            )
        }
        Some(audience) => {
            // The advertised issuer when known; otherwise the one AUTH0_DOMAIN implies (the key
            // check will then report the provider as unreachable).
            let issuer = match provider.metadata().await {
                Ok(m) => m.issuer.clone(),
                Err(_) => state.config.tenant.provider_base.to_string(),
            };
            let mut expect =
                Expectations::new(issuer, audience.clone(), AudienceSetting::ApiAudience);
            expect.token_types = token_check::TokenTypes::ACCESS_TOKEN;
            expect
        }
    };
    let report = token_check::check(token, &expect, provider.as_ref()).await;
    match (report.verified_claims(), report.first_failure()) {
        (Some(claims), _) => Ok(claims.clone()),
        (None, Some(first)) => {
            tracing::info!(diagnosis = %report.summary(), "bearer token refused");
            Err(BearerRefusal::new(
                realm,
                first.category,
                first.message,
                Some(&first.remedy),
            ))
        }
        (None, None) => Err(BearerRefusal::new(
            realm,
            Category::SignatureInvalid,
            message::VERIFICATION_FAILS,
            None,
        )),
    }
}
