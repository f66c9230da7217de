//! What each way a login can fail is called on its page: `impl From<LoginError> for AuthError`.

use axum::http::StatusCode;

use super::bad_request;
use crate::error::AuthError;
use crate::oidc::LoginError;
use crate::token_check::{Failure, text};

/// "The provider answered X: Y." without doubling a description's own final stop.
fn sentence(start: &str, description: &str) -> String {
    match description.chars().last() {
        None => format!("{start}."),
        Some('.' | '!' | '?') => format!("{start}: {description}"),
        Some(_) => format!("{start}: {description}."),
    }
}

impl From<LoginError> for AuthError {
    fn from(err: LoginError) -> Self {
        let detail = err.to_string();
        let page = match err {
            LoginError::ProviderUnavailable(failure) => {
                AuthError::provider_unavailable(StatusCode::BAD_GATEWAY, failure)
            }
            LoginError::IssuerMismatch { got, expected } => bad_request(
                "issuer_mismatch",
                "This login answer comes from another provider",
                match got {
                    Some(iss) => format!(
                        "The answer says it was issued by {}, but this app logs in with {expected}. It was refused: it may be a mix-up between providers.",
                        text::quote(&iss)
                    ),
                    None => format!(
                        "{expected} promises to name itself in every login answer (RFC 9207), and this one does not. It was refused."
                    ),
                },
            )
            .check("Start a new login from this app. If it keeps happening, check AUTH0_DOMAIN."),
            err @ (LoginError::SilentLoginDeclined
            | LoginError::InteractionRequired { .. }
            | LoginError::Cancelled { .. }
            | LoginError::AccessDenied { .. }
            | LoginError::AudienceNotFound { .. }
            | LoginError::UserBlocked
            | LoginError::AuthorizeRefused { .. }) => authorize_answer_page(err),
            LoginError::OrganizationMismatch {
                expected,
                claim,
                got,
            } => AuthError::new(
                StatusCode::FORBIDDEN,
                "organization_mismatch",
                "That login is not for this organization",
                format!(
                    "This login asked for organization {expected}, but the ID token's {claim} is {}. Nobody was logged in.",
                    got.map_or("missing".to_string(), |g| format!("\"{g}\""))
                ),
            )
            .check("Log in again from this app's Login link, without changing the address Auth0 shows.")
            .check("If you set AUTH0_ORGANIZATION, make sure the application is enabled for that organization in the Auth0 dashboard (Organizations > your organization > Connections, and the application's Login Experience).")
            .retry("/login"),
            LoginError::AuthTimeTooOld {
                auth_time,
                max_age,
                now,
            } => AuthError::new(
                StatusCode::UNAUTHORIZED,
                "auth_time_too_old",
                "That login was not recent enough",
                match auth_time {
                    Some(t) => format!(
                        "This page asked for a login within the last {max_age} s, but the ID token's auth_time says you authenticated {} s ago.",
                        now.saturating_sub(t)
                    ),
                    None => format!(
                        "This page asked for a login within the last {max_age} s, but the ID token has no auth_time to prove it."
                    ),
                },
            )
            .check("Log in again: the provider will ask for your password.")
            .retry("/login"),
            LoginError::SessionAlreadyExpired { at, issued } => AuthError::new(
                StatusCode::BAD_REQUEST,
                "session_expired",
                "Your organization's sign-in has already expired",
                format!("The provider's answer says your session had to end at {at} (session_expiry), which is not after the moment it was issued ({issued}), so nobody was logged in."),
            )
            .check("Sign in again at your organization's identity provider, then log in here.")
            .check("If you run this app: the enterprise connection's identity provider sends session_expiry; check its clock and its session policy (the value is unix seconds).")
            .retry("/login"),
            LoginError::StepUpNotPerformed { asked, got_acr, got_amr } => AuthError::new(
                StatusCode::FORBIDDEN,
                "mfa_not_performed",
                "The login did not include the extra verification this page needs",
                format!(
                    "This page asked for {} and the provider's answer does not show it (acr {}, amr [{}]), so nobody was logged in.",
                    text::quote(&asked),
                    got_acr.as_deref().map(text::quote).unwrap_or_else(|| "(none)".into()),
                    got_amr.iter().map(|m| text::quote(m)).collect::<Vec<_>>().join(", ")
                ),
            )
            .check("If you run this app: Auth0 ignores acr_values when the tenant has no multi-factor policy. Turn on MFA (Security > Multi-factor Auth) or require it in an Action for this application.")
            .check("Otherwise: log in again and complete the second factor when asked.")
            .retry("/login"),
            LoginError::RateLimited { retry_after } => {
                let secs = retry_after.unwrap_or(10);
                AuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "rate_limited",
                    "Auth0 is limiting requests",
                    format!("Auth0 is limiting requests, try again in {secs} s. Your login was not refused: nothing is wrong with your account or this app's settings."),
                )
                .check("If this happens often, the tenant's rate limits are being reached: see Auth0's Rate Limit Policy for your plan.")
                .retry("/login")
                .retry_after(secs)
            }
            err @ (LoginError::ExchangeUnreachable(_) | LoginError::ExchangeRejected { .. }) => {
                token_endpoint_page(err)
            }
            LoginError::NoIdToken => bad_request(
                "no_id_token",
                "The provider sent no ID token",
                "Without an ID token there is no verified identity.",
            )
            .check("AUTH0_SCOPE must include openid."),
            LoginError::IdTokenInvalid(report) => AuthError::new(
                StatusCode::UNAUTHORIZED,
                "id_token_invalid",
                "The ID token failed validation",
                "The provider's answer came back, but the ID token in it did not pass the checks below, so nobody was logged in.",
            )
            .with_token_failures(report.failures().cloned().map(public_failure).collect())
            .check("`cargo run -- check-token <token>` runs the same checks on any token and prints each one.")
            .retry("/login"),
        };
        page.log_detail(detail)
    }
}

/// A token check's failure as a public page shows it: a key set that could not be fetched is
/// said so, without the URL and network detail (they are in the log line of the page).
fn public_failure(mut failure: Failure) -> Failure {
    if failure.message == crate::token_check::message::JWKS_FETCH_FAILED {
        failure.detail = "the provider's key set (JWKS) could not be fetched".into();
    }
    failure
}

/// The provider answered the authorization request with an error.
fn authorize_answer_page(err: LoginError) -> AuthError {
    match err {
        LoginError::SilentLoginDeclined | LoginError::InteractionRequired { .. } => {
            AuthError::new(
                StatusCode::UNAUTHORIZED,
                "provider_error",
                "The provider needs you to sign in interactively",
                "The provider answered that this login needs you: a login without a page (prompt=none) found no session at Auth0.",
            )
            .retry("/login")
        }
        LoginError::Cancelled { description } => AuthError::new(
            StatusCode::FORBIDDEN,
            "provider_error",
            "The login was cancelled or denied",
            sentence("The provider answered access_denied", &description),
        )
        .check("If you cancelled, nothing is wrong: log in again when you are ready.")
        .retry("/login"),
        LoginError::AccessDenied { reason } => AuthError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            "Access denied",
            sentence("The login was refused", &reason),
        )
        .check("The reason above comes from your Auth0 tenant (an Action or a rule). Ask its administrator if you think it is wrong.")
        .retry("/login"),
        LoginError::AudienceNotFound { audience } => AuthError::new(
            StatusCode::BAD_REQUEST,
            "audience_not_found",
            "AUTH0_AUDIENCE is not an API in your Auth0 tenant",
            format!(
                "Auth0 answered \"Service not found: {audience}\": the login asks for an access token for {audience}, and the tenant has no API with that identifier."
            ),
        )
        .check("Set AUTH0_AUDIENCE to the Identifier of one of your APIs (Auth0 dashboard > Applications > APIs), exactly, or remove it if this app calls no API.")
        .retry("/login"),
        LoginError::UserBlocked => AuthError::new(
            StatusCode::FORBIDDEN,
            "user_blocked",
            "This account is blocked",
            "Auth0 refused the login because this user is blocked.",
        )
        .check("An administrator can unblock the user in the Auth0 dashboard (User Management > Users)."),
        LoginError::AuthorizeRefused { error, description } => bad_request(
            "provider_error",
            "The provider refused the login",
            sentence(&format!("The provider answered {error}"), &description),
        ),
        other => AuthError::internal(format!("not an authorize answer: {other}")),
    }
}

/// The token endpoint could not be used, or refused the code.
fn token_endpoint_page(err: LoginError) -> AuthError {
    match err {
        // The detail (addresses, OS errors) goes to the log with the rest of the error.
        LoginError::ExchangeUnreachable(why) => AuthError::new(
            StatusCode::BAD_GATEWAY,
            "token_exchange_failed",
            "The provider did not complete the login",
            format!(
                "The provider's token endpoint could not be used: {}.",
                crate::oidc::public_reason(&why)
            ),
        )
        .retry("/login"),
        LoginError::ExchangeRejected {
            status,
            error,
            description,
            redirect_uri,
        } => {
            let mut page = bad_request(
                "token_exchange_refused",
                "The provider refused to complete the login",
                sentence(
                    &format!("The token endpoint answered {error}"),
                    &description,
                ),
            );
            // Auth0 rejects a wrong client secret with 401 access_denied "Unauthorized".
            let bad_client = error == "invalid_client"
                || error == "unauthorized_client"
                || (status == 401 && error == "access_denied");
            if bad_client {
                page = page.check("Check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET against Applications > your app > Settings; with Private Key JWT, check that AUTH0_CLIENT_ASSERTION_SIGNING_KEY is the private key of the credential in Applications > your app > Credentials, and AUTH0_CLIENT_ASSERTION_SIGNING_ALG its algorithm.");
            }
            if error == "invalid_grant" {
                page = page
                    .check("The code was already used or has expired (a reload of this page does that, or the login took too long). Log in again.")
                    .check(format!("Make sure {redirect_uri} is listed in Allowed Callback URLs."));
            }
            page
        }
        other => AuthError::internal(format!("not a token endpoint answer: {other}")),
    }
}
