//! The askama templates as types. Every page gets the same layout (demo banner, who is logged in).

use askama::Template;
use askama_web::WebTemplate;
use auth0_axum::{AuthError, User};

use crate::app::AppState;

/// What every page's frame shows.
pub struct Layout {
    pub demo: bool,
    pub user_name: Option<String>,
    /// The path the app is served under (`APP_BASE_URL`'s path): links start with it.
    pub base: String,
}

impl Layout {
    pub fn new(state: &AppState, user: Option<&User>) -> Self {
        let config = state.auth.config();
        Self {
            demo: config.is_demo(),
            user_name: user.map(|u| u.name().to_string()),
            base: config.base_path().to_owned(),
        }
    }
}

/// What the pages show of a user: escaped by askama when rendered.
pub struct ProfileView {
    pub name: String,
    pub email: String,
    pub picture: String,
    pub pretty: String,
}

impl ProfileView {
    pub fn of(user: &User) -> Self {
        let picture = user.claim("picture").unwrap_or("");
        // Only http(s) and data: images: a javascript: URL has no business in src.
        let safe = ["https://", "http://", "data:image/"]
            .iter()
            .any(|p| picture.starts_with(p));
        Self {
            name: user.name().to_string(),
            email: user.claim("email").unwrap_or("").to_string(),
            picture: if safe {
                picture.to_string()
            } else {
                String::new()
            },
            pretty: pretty_json(user.claims()),
        }
    }
}

/// The claims, pretty-printed, into a buffer sized for a profile once (not grown by doubling).
fn pretty_json(claims: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut out = Vec::with_capacity(512);
    if serde_json::to_writer_pretty(&mut out, claims).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub user: Option<ProfileView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub layout: Layout,
    pub user: ProfileView,
}

/// A page behind a recent login (`RecentLogin`): when and how the user authenticated.
#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub authenticated_ago: i64,
    pub max_age: u32,
    pub acr: String,
    pub amr: String,
}

/// `/call-api`: what the API answered to the user's access token.
#[derive(Template, WebTemplate)]
#[template(path = "call_api.html")]
pub struct CallApiPage {
    pub layout: Layout,
    /// Whether `AUTH0_AUDIENCE` names an API to call.
    pub configured: bool,
    pub url: String,
    pub status: u16,
    pub body: String,
}

/// `/messages`: behind the `read:messages` permission.
#[derive(Template, WebTemplate)]
#[template(path = "messages.html")]
pub struct MessagesPage {
    pub layout: Layout,
}

/// The library's "Log out?" question (a logout another site asked for), in this app's layout.
#[derive(Template, WebTemplate)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage {
    pub layout: Layout,
    pub action: String,
}

/// Any `AuthError` in this app's layout.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub error: AuthError,
}
