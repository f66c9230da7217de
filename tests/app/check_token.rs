//! `check-token` on the command line: every row of the table, offline with --jwks-file.

use std::process::Command;

use auth0_demo_idp::keys::{DEMO_KID_1, jwks_of};

use crate::support::*;

const ISSUER: &str = "https://tenant.example.com/";
const API: &str = "https://api.example.com";

fn check_token(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_auth0-login"))
        .arg("check-token")
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_clear()
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A JWKS file of its own for each call: tests run in parallel and must not share one path.
fn jwks_file() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("auth0-login-jwks-{}-{n}.json", std::process::id()));
    std::fs::write(
        &path,
        serde_json::to_string(&jwks_of(&[DEMO_KID_1])).unwrap(),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn every_row_of_the_table_is_named_by_check_token() {
    let jwks = jwks_file();
    for row in esp_rows(ISSUER, API) {
        let (code, out) = check_token(&[
            &row.token,
            "--issuer",
            ISSUER,
            "--audience",
            API,
            "--jwks-file",
            &jwks,
        ]);
        if row.status == 200 {
            assert_eq!(code, 0, "{}: {out}", row.name);
            assert!(out.contains("Every check passed."));
            for step in ["format", "issuer", "time", "audience", "key", "signature"] {
                assert!(out.contains(&format!("PASS  {step}")), "{step}: {out}");
            }
            continue;
        }
        assert_eq!(code, 1, "{}: {out}", row.name);
        assert!(
            out.contains(&format!("{}: {}", row.category, row.message)),
            "{}:\n{out}",
            row.name
        );
        assert!(out.contains("fix:"), "{}: no remedy", row.name);
    }
}

#[test]
fn check_token_prints_the_decoded_token_and_reads_stdin() {
    let rows = esp_rows(ISSUER, API);
    let valid = &rows.last().unwrap().token;
    let jwks = jwks_file();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth0-login"))
        .args([
            "check-token",
            "-",
            "--issuer",
            ISSUER,
            "--audience",
            API,
            "--jwks-file",
            &jwks,
        ])
        .current_dir(std::env::temp_dir())
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(valid.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains("\"kid\": \"demo-key-1\""),
        "header printed: {out}"
    );
    assert!(
        out.contains("\"sub\": \"auth0|api-user\""),
        "payload printed"
    );
}

#[test]
fn without_an_issuer_check_token_says_issuer_not_configured() {
    let rows = esp_rows(ISSUER, API);
    let (code, out) = check_token(&[&rows.last().unwrap().token, "--jwks-file", &jwks_file()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("ISSUER_NOT_CONFIGURED: Jwt issuer is not configured"),
        "{out}"
    );
    assert!(out.contains("AUTH0_DOMAIN"));
}

#[test]
fn a_token_that_cannot_be_decoded_skips_the_later_checks() {
    let (code, out) = check_token(&["nonsense", "--issuer", ISSUER, "--jwks-file", &jwks_file()]);
    assert_eq!(code, 1);
    assert!(out.contains("FAIL  format"));
    assert!(out.contains("SKIP  signature"));
    assert!(out.contains("AUTH0_AUDIENCE"), "opaque-token remedy: {out}");
}

#[test]
fn check_token_never_writes_a_control_character_from_the_token_to_the_terminal() {
    use auth0_demo_idp::keys::SigningKey;
    let evil = "kid\r\nEvery check passed.\u{1b}[2J\u{9b}0m\u{7f}";
    let token = SigningKey::fixture(DEMO_KID_1).sign_with_header(
        serde_json::json!({"alg": "RS256", "kid": evil, "x\u{1b}]0;t\u{7}": 1}),
        serde_json::json!({"iss": evil, "sub": evil, "aud": API, "exp": 4_000_000_000u64})
            .as_object()
            .unwrap(),
    );
    let (code, out) = check_token(&[
        &token,
        "--issuer",
        ISSUER,
        "--audience",
        API,
        "--jwks-file",
        &jwks_file(),
    ]);
    assert_eq!(code, 1, "{out}");
    for c in out.chars() {
        assert!(
            c == '\n' || !c.is_control(),
            "raw {c:?} in the output:\n{out}"
        );
    }
    assert!(
        !out.lines().any(|l| l.trim() == "Every check passed."),
        "a token forged a line of the report:\n{out}"
    );
    assert!(out.contains("ISSUER_NOT_ALLOWED"), "{out}");
}

/// A DPoP-bound token (`cnf.jkt`): `check-token` checks its proof as the API does, naming each
/// failure in the same words, and passes only with a valid one.
#[test]
fn check_token_checks_a_bound_tokens_dpop_proof_and_names_each_failure() {
    use crate::support::Holder;
    use auth0_axum::test_support::unix_now;
    use auth0_axum::token_check::dpop::ath_of;
    use auth0_demo_idp::keys::SigningKey;
    let holder = Holder::new();
    let now = unix_now();
    let claims = serde_json::json!({"iss": ISSUER, "sub": "auth0|api-user", "aud": API, "iat": now,
        "exp": now + 600, "cnf": {"jkt": holder.jkt()}});
    let token = SigningKey::fixture(DEMO_KID_1).sign(claims.as_object().unwrap());
    let url = "https://api.example.com/orders";
    let proof = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut c = serde_json::json!({"jti": "j1", "htm": "GET", "htu": url, "iat": now, "ath": ath_of(&token)});
        change(&mut c);
        holder.proof(c)
    };
    let jwks = jwks_file();
    let run = |extra: &[&str]| {
        let mut args = vec![
            token.as_str(),
            "--issuer",
            ISSUER,
            "--audience",
            API,
            "--jwks-file",
            &jwks,
        ];
        args.extend_from_slice(extra);
        check_token(&args)
    };
    let (code, out) = run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("DPOP_PROOF_INVALID: DPoP proof is missing"),
        "{out}"
    );
    let valid = proof(&|_| {});
    let (code, out) = run(&["--dpop", &valid, "--method", "GET", "--url", url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS  dpop"), "{out}");
    for (what, p, names) in [
        ("another method", proof(&|c| c["htm"] = serde_json::json!("POST")), "[htm]"),
        ("a stale iat", proof(&|c| c["iat"] = serde_json::json!(now - 600)), "[iat]"),
        ("a wrong ath", proof(&|c| c["ath"] = serde_json::json!("x")), "[ath]"),
        (
            "another key",
            Holder::new().proof(serde_json::json!({"jti": "j2", "htm": "GET", "htu": url, "iat": now, "ath": ath_of(&token)})),
            "another key",
        ),
    ] {
        let (code, out) = run(&["--dpop", &p, "--method", "GET", "--url", url]);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(out.contains("FAIL  dpop") && out.contains(names), "{what}: {out}");
        assert!(out.contains("fix:"), "{what}: {out}");
    }
}
