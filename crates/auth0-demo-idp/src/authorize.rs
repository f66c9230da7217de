//! `/authorize` and the sign-in page's decision: a demo user (or any name), or cancel.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    AuthRequest, DEMO_USERS, Grant, MAX_PARAMETER_BYTES, Shared, idp_error, lock, redirect_with,
};
use crate::util::random_token;

#[derive(Template, WebTemplate)]
#[template(path = "demo_idp/authorize.html")]
struct AuthorizePage {
    interaction: String,
    users: Vec<(String, String, String)>,
}

/// `POST /oauth/par` (RFC 9126): the client pushes the authorization parameters with its
/// authentication; the answer is a `request_uri` for `/authorize`, usable once within 30 s.
pub(super) async fn pushed(
    State(s): State<Shared>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.par_requests
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let client = lock(&s.client).clone();
    let oauth_error = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if let Err((status, error, description)) =
        super::client_auth::authenticate(&s, &client, &headers, &form)
    {
        return oauth_error(status, error, &description);
    }
    if form.contains_key("request_uri") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request_uri must not be pushed",
        );
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random_token(24));
    let params: HashMap<String, String> = form
        .into_iter()
        .filter(|(k, _)| !k.starts_with("client_assertion") && k != "client_secret")
        .collect();
    lock(&s.pushed).insert(request_uri.clone(), params);
    (
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({"request_uri": request_uri, "expires_in": 30})),
    )
        .into_response()
}

pub(super) async fn authorize(
    State(s): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let client = lock(&s.client).clone();
    // A pushed request: its parameters, not the query's (only client_id must repeat).
    let came_pushed = query.contains_key("request_uri");
    let q = match query.get("request_uri") {
        Some(uri) => match lock(&s.pushed).take(uri) {
            Some(pushed) if query.get("client_id") == pushed.get("client_id") => pushed,
            _ => {
                return idp_error(
                    StatusCode::BAD_REQUEST,
                    "request_uri is unknown, expired or already used",
                );
            }
        },
        None => query,
    };

    if let Some((name, _)) = q.iter().find(|(_, v)| v.len() > MAX_PARAMETER_BYTES) {
        return idp_error(
            StatusCode::BAD_REQUEST,
            &format!("the {name:?} parameter is longer than {MAX_PARAMETER_BYTES} bytes"),
        );
    }
    let get = |k: &str| q.get(k).cloned().filter(|v| !v.is_empty());
    if get("client_id").as_deref() != Some(client.client_id.as_str()) {
        return idp_error(StatusCode::BAD_REQUEST, "unknown client_id");
    }
    let Some(redirect_uri) = get("redirect_uri").filter(|r| client.redirect_uris.contains(r))
    else {
        return idp_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri is not registered for this client (Allowed Callback URLs)",
        );
    };
    let state = get("state");
    let response_iss = response_iss(&s);
    let reject = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(st) = &state {
            params.push(("state", st));
        }
        if let Some(iss) = &response_iss {
            params.push(("iss", iss));
        }
        redirect_with(&redirect_uri, &params)
    };
    if let Some((error, description)) = lock(&s.behaviour).authorize_error.clone() {
        return reject(&error, &description);
    }
    if lock(&s.behaviour).require_par && !came_pushed {
        return reject(
            "invalid_request",
            "Pushed Authorization Requests are required for this application",
        );
    }
    if get("response_type").as_deref() != Some("code") {
        return reject("unsupported_response_type", "only code is supported");
    }
    if !get("scope")
        .unwrap_or_default()
        .split_whitespace()
        .any(|s| s == "openid")
    {
        return reject("invalid_scope", "openid is required");
    }
    let (Some(code_challenge), Some("S256")) = (
        get("code_challenge"),
        get("code_challenge_method").as_deref(),
    ) else {
        return reject("invalid_request", "PKCE with S256 is required");
    };
    // The demo keeps no session of its own: a silent login always needs the user, as Auth0
    // answers when nobody is signed in there.
    if get("prompt").as_deref() == Some("none") {
        return reject("login_required", "Login required");
    }
    let interaction = random_token(32);
    lock(&s.interactions).insert(
        interaction.clone(),
        AuthRequest {
            redirect_uri,
            state,
            nonce: get("nonce"),
            code_challenge,
            scope: get("scope").unwrap_or_default(),
            audience: get("audience"),
            organization: get("organization"),
            acr_values: get("acr_values"),
        },
    );
    AuthorizePage {
        interaction,
        users: DEMO_USERS
            .iter()
            .map(|(id, name, email)| (id.to_string(), name.to_string(), email.to_string()))
            .collect(),
    }
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct Decision {
    interaction: String,
    user: Option<String>,
    name: Option<String>,
    cancel: Option<String>,
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if c == ' ' {
                Some('.')
            } else {
                None
            }
        })
        .collect();
    if s.is_empty() { "user".into() } else { s }
}

fn profile_for(
    issuer: &str,
    user: Option<&str>,
    free_name: Option<&str>,
) -> Option<Map<String, Value>> {
    let (id, name, email) = match (user, free_name.map(str::trim).filter(|n| !n.is_empty())) {
        (Some(id), _) => {
            let (id, name, email) = DEMO_USERS.iter().find(|(u, _, _)| *u == id)?;
            (id.to_string(), name.to_string(), email.to_string())
        }
        (None, Some(name)) => {
            let name: String = name.chars().take(80).collect();
            let id = slug(&name);
            (id.clone(), name, format!("{id}@example.com"))
        }
        (None, None) => return None,
    };
    let given = name.split_whitespace().next().unwrap_or(&name).to_string();
    let mut profile = Map::new();
    profile.insert("sub".into(), json!(format!("demo|{id}")));
    profile.insert("name".into(), json!(name));
    profile.insert("given_name".into(), json!(given));
    profile.insert("nickname".into(), json!(id));
    profile.insert(
        "picture".into(),
        json!(format!(
            "{issuer}avatar/{}.svg",
            URL_SAFE_NO_PAD.encode(name.as_bytes())
        )),
    );
    profile.insert("updated_at".into(), json!("2026-01-01T00:00:00.000Z"));
    profile.insert("email".into(), json!(email));
    profile.insert("email_verified".into(), json!(true));
    Some(profile)
}

pub(super) async fn decision(State(s): State<Shared>, Form(d): Form<Decision>) -> Response {
    let Some(request) = lock(&s.interactions).take(&d.interaction) else {
        return idp_error(
            StatusCode::BAD_REQUEST,
            "this sign-in page has expired; start again from the app",
        );
    };
    let mut params: Vec<(&str, String)> = Vec::new();
    if d.cancel.is_some() {
        params.push(("error", "access_denied".into()));
        params.push(("error_description", "The user cancelled the login".into()));
    } else {
        let Some(user) = profile_for(&s.issuer, d.user.as_deref(), d.name.as_deref()) else {
            return idp_error(StatusCode::BAD_REQUEST, "pick a user or type a name");
        };
        let code = random_token(32);
        lock(&s.codes).insert(
            code.clone(),
            Grant {
                request: request.clone(),
                user,
                family: None,
            },
        );
        params.push(("code", code));
    }
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    if let Some(iss) = response_iss(&s) {
        params.push(("iss", iss));
    }
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut response = redirect_with(&request.redirect_uri, &borrowed);
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// The `iss` an authorization answer carries (RFC 9207), as the behaviour says.
pub(super) fn response_iss(s: &Shared) -> Option<String> {
    let b = lock(&s.behaviour);
    if b.omit_response_iss {
        return None;
    }
    Some(
        b.response_iss_override
            .clone()
            .unwrap_or_else(|| s.issuer.clone()),
    )
}
