//! [`IssuerKeys`]: the signing keys of an issuer, found by discovery, for checking a token outside
//! a running app (the starter's `check-token`).

use std::sync::Arc;

use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use url::Url;

use super::{Provider, http_client};
use crate::config::{ConfigErrors, parse_provider_base};
use crate::token_check::{KeyError, KeySource};

/// An issuer's JSON Web Key Set, found through its discovery document and cached like the app's
/// own (refetched once for an unknown `kid`). A [`KeySource`] for [`crate::token_check::check`].
///
/// ```no_run
/// # async fn run(token: &str) -> Result<(), auth0_axum::ConfigErrors> {
/// use auth0_axum::IssuerKeys;
/// use auth0_axum::token_check::{self, AudienceSetting, Expectations};
/// let keys = IssuerKeys::for_domain("dev-abc123.us.auth0.com")?;
/// let expect = Expectations::new(keys.issuer().as_str(), "https://api.example.com", AudienceSetting::ApiAudience);
/// let report = token_check::check(token, &expect, &keys).await;
/// println!("{}", if report.passed() { "valid".into() } else { report.summary() });
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IssuerKeys {
    provider: Arc<Provider>,
    issuer: Url,
}

impl std::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuerKeys({})", self.issuer)
    }
}

impl IssuerKeys {
    /// The keys of the tenant at `domain`, written as `AUTH0_DOMAIN` is (a bare domain, or a URL;
    /// `http://` only on loopback). Nothing is fetched until a key is asked for.
    pub fn for_domain(domain: &str) -> Result<Self, ConfigErrors> {
        let issuer = parse_provider_base(domain).map_err(|p| ConfigErrors(vec![p]))?;
        Ok(Self {
            provider: Provider::for_base(&issuer, http_client()),
            issuer,
        })
    }

    /// The issuer the domain implies (`https://TENANT/`, with Auth0's trailing slash).
    pub fn issuer(&self) -> &Url {
        &self.issuer
    }
}

impl KeySource for IssuerKeys {
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: &CoreJwsSigningAlgorithm,
    ) -> Result<CoreJsonWebKey, KeyError> {
        self.provider.key_for(kid, alg).await
    }
}
