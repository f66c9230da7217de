//! `APP_BASE_URL`: where browsers reach the app, the one place URLs of this app are built from.

use url::Url;

use super::Problem;

/// The longest path `APP_BASE_URL` may have: it is the session cookie's `Path`, whose size the
/// cookie store budgets for.
pub const MAX_BASE_PATH_BYTES: usize = 64;

/// `APP_BASE_URL`, parsed once: the origin browsers use for this app. The callback and logout
/// URLs derive from it, never from a request's Host header. It may carry a path
/// (`https://example.com/app`): a proxy then serves the app under it, and sends it requests with
/// that prefix taken off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppBaseUrl {
    url: Url,
    /// Without the trailing slash, as configured (`http://localhost:3000`).
    text: String,
    /// The path browsers see the app under, without the trailing slash: `""` at the root, `/app`
    /// when a proxy serves it under a sub-path.
    path: String,
}

impl AppBaseUrl {
    /// The configured value, or `http://localhost:PORT` when unset.
    pub fn parse(raw: Option<&str>, port: u16) -> Result<Self, Problem> {
        let var = "APP_BASE_URL";
        let default;
        let raw = match raw {
            Some(raw) => raw,
            None => {
                default = format!("http://localhost:{}", if port == 0 { 3000 } else { port });
                &default
            }
        };
        let url = Url::parse(raw).map_err(|e| {
            Problem::new(
                var,
                format!("{raw:?} is not a URL ({e})"),
                "Use the address browsers open, e.g. http://localhost:3000 or https://app.example.com.",
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(Problem::new(
                var,
                format!("{raw:?} is not an http(s) URL"),
                "Use the address browsers open, e.g. http://localhost:3000.",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Problem::new(
                var,
                "has a user name or password in it (user:password@)".into(),
                "Use only scheme, host and port, e.g. https://app.example.com: this URL is sent to every browser and to the provider.",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Problem::new(
                var,
                format!("{raw:?} has a query or fragment"),
                "Use scheme, host, port and at most a path, e.g. https://app.example.com or https://example.com/app.",
            ));
        }
        let text = url.as_str().trim_end_matches('/').to_string();
        let path = url.path().trim_end_matches('/').to_string();
        if path.len() > MAX_BASE_PATH_BYTES {
            return Err(Problem::new(
                var,
                format!("has a path of {} bytes", path.len()),
                "Use a path of at most 64 bytes (it is every session cookie's Path), e.g. https://example.com/app.",
            ));
        }
        Ok(Self { url, text, path })
    }

    /// `scheme://host[:port]` without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A path on this app as an absolute URL (`path` starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.text)
    }

    /// The path browsers see the app under: `""` at the root, `/app` under a sub-path. Every
    /// `Location` the library sends starts with it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// An app path (`/profile`) as browsers see it (`/app/profile` under a sub-path).
    pub fn browser_path(&self, path: &str) -> String {
        format!("{}{path}", self.path)
    }

    /// Where the provider sends the browser back after logout: the home page.
    pub fn post_logout(&self) -> &str {
        &self.text
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// As browsers write it in `Origin`.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// The host[:port] the browser must be on for the session cookie to come back.
    pub fn host_port(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
}

impl std::fmt::Display for AppBaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}
