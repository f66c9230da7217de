//! `/userinfo`: asked at login only when the ID token lacks a claim the scope asked for
//! (`AUTH0_USERINFO=auto`), or always, or never; its claims are merged into the profile.

use serde_json::{Map, Value};

use super::{LoginClient, Metadata, describe_reqwest};
use crate::config::UserinfoSetting;

/// The claims that show a scope was answered in the ID token (OIDC Core §5.4).
const SCOPE_CLAIMS: [(&str, &str); 4] = [
    ("profile", "name"),
    ("email", "email"),
    ("address", "address"),
    ("phone", "phone_number"),
];

/// Whether a login should ask `/userinfo`: always, never, or (auto) when the ID token lacks a
/// claim that a scope asked for implies. Auth0's ID tokens carry them: auto saves a request.
pub(super) fn wants_userinfo(
    setting: UserinfoSetting,
    scope: &str,
    id_token_profile: &Map<String, Value>,
) -> bool {
    match setting {
        UserinfoSetting::Always => true,
        UserinfoSetting::Never => false,
        UserinfoSetting::Auto => scope.split_whitespace().any(|s| {
            SCOPE_CLAIMS
                .iter()
                .any(|(scope, claim)| *scope == s && !id_token_profile.contains_key(*claim))
        }),
    }
}

impl LoginClient {
    /// Adds userinfo's claims to the profile, when it is about the same subject. The ID token
    /// already identifies the user: a userinfo hiccup does not fail the login.
    pub(super) async fn merge_userinfo(
        &self,
        metadata: &Metadata,
        access_token: &str,
        dpop_bound: bool,
        profile: &mut Map<String, Value>,
    ) {
        let Some(endpoint) = &metadata.userinfo_endpoint else {
            return;
        };
        let info = async {
            let mut request = self.provider.http().get(endpoint.clone());
            request = match self.dpop.as_ref().filter(|_| dpop_bound) {
                // A bound token goes with the DPoP scheme and a proof for this call (RFC 9449 §7).
                Some(dpop) => request
                    .header(
                        reqwest::header::AUTHORIZATION,
                        format!("DPoP {access_token}"),
                    )
                    .header(
                        "dpop",
                        dpop.proof("GET", endpoint.as_str(), Some(access_token)),
                    ),
                None => request.bearer_auth(access_token),
            };
            let response = request.send().await.map_err(|e| describe_reqwest(&e))?;
            if !response.status().is_success() {
                return Err(format!("userinfo answered HTTP {}", response.status()));
            }
            response
                .json::<Map<String, Value>>()
                .await
                .map_err(|e| format!("userinfo is not a JSON object: {e}"))
        };
        match info.await {
            Ok(info) if info.get("sub") == profile.get("sub") => profile.extend(info),
            Ok(_) => tracing::warn!("userinfo is about another subject than the ID token; ignored"),
            Err(why) => {
                tracing::warn!(reason = %why, "userinfo could not be fetched; using the ID token's claims")
            }
        }
    }
}
