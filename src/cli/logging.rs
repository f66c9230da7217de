//! Logging: text for people, or one JSON object per line (`LOG_FORMAT=json`) for log collectors.
//! Set up after `.env` is read, so `RUST_LOG` and `LOG_FORMAT` work from there too.

/// Logs at info: startup, logins, logouts, refusals and errors, each tagged with its request id.
/// A line per request (method, path, status, latency) is at debug: `RUST_LOG=debug` or
/// `RUST_LOG=info,auth0_login::server::request_log=debug`. Colours only on a terminal.
pub(super) fn init() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // tower-sessions opens an INFO span on every session read, which costs each page view
        // its formatting and says nothing a log reader needs; its store's warnings still show.
        // Its session module warns "possibly suspicious activity" whenever a browser brings the
        // id of a session that has ended (logged out elsewhere, expired, or ended by the
        // provider's back-channel logout): routine here, since the id cookie is encrypted and
        // cannot be forged, so it is left out.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,tower_sessions=warn,tower_sessions_core=warn,tower_sessions_core::session=error",
            )
        });
    let format = std::env::var("LOG_FORMAT").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = match format.trim() {
        "json" => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        _ => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
    if result.is_ok() && !matches!(format.trim(), "" | "text" | "json") {
        tracing::warn!("LOG_FORMAT is neither text nor json; writing text");
    }
}
