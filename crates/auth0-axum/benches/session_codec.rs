//! The cookie session's codec, alone: what every logged-in page view pays to open its cookie and
//! read the user, and what a login pays to size and seal one. `cargo bench --bench session_codec`
//! (bench/run runs it and copies the figures into BENCHMARKS.md); `cargo test --bench
//! session_codec` runs each once, as a check that it still works.

use std::hint::black_box;

use auth0_axum::test_support::{
    SessionKeys, UserSession, parse_secret_key, projected_cookie_bytes, read_record_data,
    record_data,
};
use criterion::{Criterion, criterion_group, criterion_main};

/// A logged-in user as the demo provider's Jane arrives: the usual OIDC profile claims.
fn jane() -> UserSession {
    let profile = serde_json::json!({
        "sub": "demo|jane", "name": "Jane Doe", "given_name": "Jane", "family_name": "Doe",
        "nickname": "jane", "email": "jane@example.com", "email_verified": true,
        "picture": "https://example.com/avatars/jane.png", "locale": "en",
        "updated_at": "2026-11-25T17:20:00.000Z"
    });
    let now = 1_800_000_000;
    let mut user =
        UserSession::without_tokens(profile.as_object().cloned().unwrap_or_default(), now);
    user.sid = Some("x8Ag3bQ1s9LmZp".into());
    user.auth_time = Some(now);
    user
}

fn codec(c: &mut Criterion) {
    let secret =
        parse_secret_key("3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8")
            .expect("a valid key");
    let keys = SessionKeys::new(&secret, &[]);
    let user = jane();
    let data = record_data(Some(&user), &[]);
    let expires_at = 1_800_086_400;
    let sealed = keys.seal(&data, expires_at).expect("seals");

    c.bench_function("open a session cookie (base64, AES-256-GCM, JSON)", |b| {
        b.iter(|| keys.open(black_box(&sealed)).expect("opens"))
    });
    c.bench_function(
        "open it and read the user (a page view's session work)",
        |b| {
            b.iter(|| {
                let opened = keys.open(black_box(&sealed)).expect("opens");
                read_record_data(&opened.record.data).0.expect("a user")
            })
        },
    );
    c.bench_function("seal a session cookie (a login's write)", |b| {
        b.iter(|| keys.seal(black_box(&data), expires_at).expect("seals"))
    });
    c.bench_function(
        "project a session's cookie bytes (before a login writes)",
        |b| b.iter(|| projected_cookie_bytes(Some(black_box(&user)), &[])),
    );
}

criterion_group!(benches, codec);
criterion_main!(benches);
