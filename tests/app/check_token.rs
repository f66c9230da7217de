//! `check-token` on the command line: every row of the table, offline with --jwks-file.

use std::process::Command;

use auth0_login::demo_idp::keys::{DEMO_KID_1, jwks_of};

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

fn jwks_file() -> String {
    let path = std::env::temp_dir().join(format!("auth0-login-jwks-{}.json", std::process::id()));
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
