//! The askama templates as types. Every page gets the same layout (demo banner, who is logged in).
//! The error page is with the error type (`error.rs`).

use askama::Template;
use askama_web::WebTemplate;

use crate::session::UserSession;
use crate::state::AppState;

pub struct Layout {
    pub demo: bool,
    pub user_name: Option<String>,
}

impl Layout {
    pub fn new(state: &AppState, user: Option<&UserSession>) -> Self {
        Self {
            demo: state.demo,
            user_name: user.map(|u| u.name().to_string()),
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
    pub fn of(user: &UserSession) -> Self {
        let picture = user.claim("picture").unwrap_or("");
        Self {
            name: user.name().to_string(),
            email: user.claim("email").unwrap_or("").to_string(),
            // Only http(s) and data: images: a javascript: URL has no business in src.
            picture: if picture.starts_with("https://")
                || picture.starts_with("http://")
                || picture.starts_with("data:image/")
            {
                picture.to_string()
            } else {
                String::new()
            },
            pretty: serde_json::to_string_pretty(&user.profile).unwrap_or_default(),
        }
    }
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

/// Asked when a logout did not come from this app's own pages (logout CSRF).
#[derive(Template, WebTemplate)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage {
    pub layout: Layout,
}

/// A page behind a recent login (`RequireRecentLogin`): when and how the user authenticated.
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

impl CallApiPage {
    /// No `AUTH0_AUDIENCE`: the page says what to set.
    pub fn unconfigured(layout: Layout) -> Self {
        Self {
            layout,
            configured: false,
            url: String::new(),
            status: 0,
            body: String::new(),
        }
    }
}

/// `/messages`: behind the `read:messages` permission.
#[derive(Template, WebTemplate)]
#[template(path = "messages.html")]
pub struct MessagesPage {
    pub layout: Layout,
}
