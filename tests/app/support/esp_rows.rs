//! Tokens for every row of Google's ESP troubleshooting table, signed by the demo provider's keys.

/// One row of the troubleshooting table: a token and what must be answered for it.
pub struct Row {
    pub name: &'static str,
    pub token: String,
    pub category: &'static str,
    pub status: u16,
    pub message: &'static str,
}

/// Tokens for every row of the ESP table (except "issuer not configured", which depends on the
/// service's configuration, not the token), signed with the demo provider's active key.
pub fn esp_rows(issuer: &str, audience: &str) -> Vec<Row> {
    use auth0_axum::test_support::unix_now;
    use auth0_demo_idp::keys::{DEMO_KID_1, FOREIGN_KID, SigningKey};
    use base64::Engine as _;
    let now = unix_now();
    let claims = |extra: serde_json::Value| {
        let mut c = serde_json::json!({"iss": issuer, "sub": "auth0|api-user", "aud": audience, "iat": now - 5, "exp": now + 600, "scope": "read:me"});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c.as_object().unwrap().clone()
    };
    let key = SigningKey::fixture(DEMO_KID_1);
    let good = key.sign(&claims(serde_json::json!({})));
    let mut altered: Vec<String> = good.split('.').map(str::to_string).collect();
    altered[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        serde_json::Value::Object(claims(serde_json::json!({"sub": "auth0|admin"}))).to_string(),
    );
    vec![
        Row { name: "bad format", token: "abc.def".into(), category: "BAD_FORMAT", status: 401,
            message: "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections" },
        Row { name: "expired", token: key.sign(&claims(serde_json::json!({"exp": now - 3600}))), category: "TIME_CONSTRAINT_FAILURE", status: 401,
            message: "Jwt is expired" },
        Row { name: "not yet valid", token: key.sign(&claims(serde_json::json!({"nbf": now + 3600}))), category: "TIME_CONSTRAINT_FAILURE", status: 401,
            message: "Jwt not yet valid" },
        Row { name: "self-issued sub mismatch", token: key.sign(&claims(serde_json::json!({"iss": "robot@project.iam.gserviceaccount.com", "sub": "someone"}))),
            category: "UNKNOWN", status: 401, message: "Jwt issuer is an e-mail address but [sub] is not equal to [iss]" },
        Row { name: "unknown key", token: SigningKey::fixture(FOREIGN_KID).sign(&claims(serde_json::json!({}))), category: "KEY_RETRIEVAL_ERROR", status: 401,
            message: "Jwks doesn't have key to match kid or alg from Jwt" },
        Row { name: "issuer not allowed", token: key.sign(&claims(serde_json::json!({"iss": "https://other-tenant.example.com/"}))), category: "ISSUER_NOT_ALLOWED", status: 401,
            message: "Issuer not allowed" },
        Row { name: "audience not allowed", token: key.sign(&claims(serde_json::json!({"aud": "https://another-api.example.com"}))), category: "AUDIENCE_NOT_ALLOWED", status: 403,
            message: "Audiences in Jwt are not allowed" },
        Row { name: "signature", token: altered.join("."), category: "SIGNATURE_INVALID", status: 401,
            message: "Jwt verification fails" },
        Row { name: "typed as a logout token", token: key.sign_with_header(serde_json::json!({"alg": "RS256", "kid": DEMO_KID_1, "typ": "logout+jwt"}), &claims(serde_json::json!({}))),
            category: "BAD_FORMAT", status: 401, message: "Jwt header [typ] names another kind of token" },
        Row { name: "typed as a DPoP proof", token: key.sign_with_header(serde_json::json!({"alg": "RS256", "kid": DEMO_KID_1, "typ": "dpop+jwt"}), &claims(serde_json::json!({}))),
            category: "BAD_FORMAT", status: 401, message: "Jwt header [typ] names another kind of token" },
        Row { name: "typed as an RFC 9068 access token", token: key.sign_with_header(serde_json::json!({"alg": "RS256", "kid": DEMO_KID_1, "typ": "application/at+jwt"}), &claims(serde_json::json!({}))),
            category: "", status: 200, message: "" },
        Row { name: "valid", token: good, category: "", status: 200, message: "" },
    ]
}
