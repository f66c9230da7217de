//! The long remedy texts, named, so that the checks stay short and rustfmt formats every one.

pub const HS_ALGORITHM: &str = "Sign tokens with RS256: in the Auth0 dashboard, Applications > your app > Settings > Advanced > OAuth > JSON Web Token Signature Algorithm = RS256 (for an API: APIs > your API > Settings > Signing Algorithm).";
pub const OTHER_ALGORITHM: &str = "Sign tokens with RS256, the algorithm Auth0 uses by default.";
pub const SIGNATURE: &str = "The token was altered, or signed by another tenant or key. Get a fresh token from the tenant named in AUTH0_DOMAIN.";
pub const JWKS_UNREACHABLE: &str = "Check that the provider is reachable from this server and that AUTH0_DOMAIN is right (its discovery document names the jwks_uri).";
pub const UNKNOWN_KEY: &str = "The token was signed by a key this tenant does not publish: it comes from another tenant (check AUTH0_DOMAIN), or the key was revoked. Log in again for a fresh token.";
pub const SELF_ISSUED: &str =
    "A self-issued token (a service account signing its own JWT) must have sub equal to iss.";
pub const ISSUER_SLASH: &str = "The issuers differ only by a trailing slash: an issuer must match exactly. Check the provider's discovery document and AUTH0_DOMAIN.";
pub const CLOCK: &str = "Get a fresh token (log in again). If it keeps happening, this server's clock or the provider's is off: check `timedatectl` / NTP.";
pub const NO_EXPIRY: &str =
    "Tokens must carry an expiry. Tokens from Auth0 always do: check where this one came from.";
pub const ID_TOKEN_AUDIENCE: &str = "The ID token was issued to another application: AUTH0_CLIENT_ID must be the Client ID of the application the login went through.";
pub const AZP: &str =
    "An ID token for several audiences must name this app as azp: check AUTH0_CLIENT_ID.";
pub const NONCE: &str =
    "The ID token belongs to another login (a replayed or injected token). Start a new login.";
pub const AT_HASH: &str = "The token response was tampered with, or the tokens come from different logins. Start a new login.";
pub const NO_KID: &str = "A provider that publishes several signing keys must name the one it used (kid in the token's header). Auth0 always does: check where this token came from.";
