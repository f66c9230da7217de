//! The end-session endpoints (`/oidc/logout`, Auth0's `/v2/logout`) and the demo avatars.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Shared, idp_error, lock};

#[derive(Template, WebTemplate)]
#[template(path = "demo_idp/logged_out.html")]
struct LoggedOutPage;

fn logout_to(s: &Shared, target: Option<&String>) -> Response {
    let client = lock(&s.client).clone();
    match target {
        Some(uri) if client.post_logout_redirect_uris.contains(uri) => {
            match lock(&s.behaviour).post_logout_state.clone() {
                Some(state) => {
                    let sep = if uri.contains('?') { '&' } else { '?' };
                    let state =
                        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>();
                    Redirect::to(&format!("{uri}{sep}state={state}")).into_response()
                }
                None => Redirect::to(uri).into_response(),
            }
        }
        Some(_) => idp_error(
            StatusCode::BAD_REQUEST,
            "that logout return URL is not registered (Allowed Logout URLs)",
        ),
        None => LoggedOutPage.into_response(),
    }
}

pub(super) async fn end_session(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    logout_to(&s, q.get("post_logout_redirect_uri"))
}

pub(super) async fn v2_logout(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    logout_to(&s, q.get("returnTo"))
}

/// An avatar with the user's initials, so demo profiles have a picture without the internet.
pub(super) async fn avatar(Path(name): Path<String>) -> Response {
    let encoded = name.trim_end_matches(".svg");
    let name = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .collect::<String>()
        .to_uppercase();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="#635dff"/><text x="48" y="60" font-size="36" text-anchor="middle" fill="#fff" font-family="sans-serif">{initials}</text></svg>"##
    );
    ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}
