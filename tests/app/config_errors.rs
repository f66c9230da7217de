//! A bad configuration stops the binary before it binds, listing every problem at once.

use std::process::Command;

fn run_with(env: &[(&str, &str)], dotenv: Option<&str>) -> (i32, String) {
    run_in_dir(&[], env, dotenv)
}

fn run_with_args(args: &[&str], dotenv: &str) -> (i32, String) {
    run_in_dir(args, &[], Some(dotenv))
}

fn run_in_dir(args: &[&str], env: &[(&str, &str)], dotenv: Option<&str>) -> (i32, String) {
    // A directory of its own per call: tests run in parallel.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("auth0-login-config-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join(".env"));
    if let Some(text) = dotenv {
        std::fs::write(dir.join(".env"), text).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_auth0-login"))
        .args(args)
        .current_dir(&dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run the binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_empty_environment_lists_every_missing_setting() {
    let (code, stderr) = run_with(&[], None);
    assert_eq!(code, 2);
    for var in [
        "AUTH0_DOMAIN",
        "AUTH0_CLIENT_ID",
        "AUTH0_CLIENT_SECRET",
        "APP_SECRET_KEY",
    ] {
        assert!(stderr.contains(var), "{var} not reported:\n{stderr}");
    }
    assert!(stderr.contains("4 configuration problems"));
    assert!(stderr.contains("openssl rand -hex 32"));
}

#[test]
fn every_kind_of_bad_value_is_reported_with_its_fix() {
    let (code, stderr) = run_with(
        &[
            ("AUTH0_DOMAIN", "http://tenant.example.com"),
            ("AUTH0_CLIENT_ID", "{yourClientId}"),
            ("AUTH0_CLIENT_SECRET", "s"),
            ("APP_SECRET_KEY", "short"),
            ("APP_BASE_URL", "localhost:3000"),
            ("PORT", "99999"),
            ("HOST", "anywhere"),
            ("AUTH0_SCOPE", "profile"),
        ],
        None,
    );
    assert_eq!(code, 2);
    for var in [
        "AUTH0_DOMAIN",
        "AUTH0_CLIENT_ID",
        "APP_SECRET_KEY",
        "APP_BASE_URL",
        "PORT",
        "HOST",
        "AUTH0_SCOPE",
    ] {
        assert!(
            stderr.contains(&format!("- {var} ")),
            "{var} not reported:\n{stderr}"
        );
    }
    assert!(stderr.contains("7 configuration problems"), "{stderr}");
    assert!(!stderr.contains("s3cr"), "no secret echoed");
}

#[test]
fn a_broken_dotenv_file_is_named() {
    let (code, stderr) = run_with(&[], Some("AUTH0_DOMAIN=ok\nthis line is not a setting\n"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(".env (") && stderr.contains("line 2"),
        "{stderr}"
    );
}

#[test]
fn a_broken_dotenv_line_is_named_by_number_and_key_never_by_value() {
    let secret_key = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";
    let dotenv = format!(
        "# settings\nAPP_SECRET_KEY={secret_key}\nAUTH0_CLIENT_SECRET=s3cr3t-value with \"spaces\nAUTH0_DOMAIN=dev.example.com\n"
    );
    let (code, stderr) = run_with(&[], Some(&dotenv));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 3, AUTH0_CLIENT_SECRET"), "{stderr}");
    assert!(
        !stderr.contains("s3cr3t"),
        "the secret was printed:\n{stderr}"
    );
    assert!(
        !stderr.contains(secret_key),
        "APP_SECRET_KEY was printed:\n{stderr}"
    );
    // check-token reads .env too, and reports it the same way.
    let (code, stderr) = run_with_args(&["check-token", "a.b.c"], &dotenv);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 3, AUTH0_CLIENT_SECRET") && !stderr.contains("s3cr3t"),
        "{stderr}"
    );
}

/// The most common `.env` mistake, taken from `.env.example` without its quotes.
#[test]
fn an_unquoted_scope_is_named_by_its_line_and_key() {
    let dotenv = "AUTH0_DOMAIN=dev.example.com\nAUTH0_SCOPE=openid profile email\n";
    let (code, stderr) = run_with(&[], Some(dotenv));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 2, AUTH0_SCOPE"), "{stderr}");
    assert!(
        stderr.contains("AUTH0_SCOPE=\"openid profile email\""),
        "the fix: {stderr}"
    );
}

/// `docker run --env-file .env` passes `AUTH0_SCOPE="openid profile email"` with its quotes.
#[test]
fn a_quoted_scope_from_the_environment_starts_the_app() {
    let secret_key = "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";
    let (code, stderr) = run_with(
        &[
            ("AUTH0_DOMAIN", "dev.example.com"),
            ("AUTH0_CLIENT_ID", "abc"),
            ("AUTH0_CLIENT_SECRET", "def"),
            ("APP_SECRET_KEY", secret_key),
            ("AUTH0_SCOPE", "\"openid profile email\""),
            ("PORT", "70000"),
        ],
        None,
    );
    // Only the deliberately bad PORT stops it: the quoted scope is read as the scope.
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("1 configuration problem"), "{stderr}");
    assert!(stderr.contains("- PORT "), "{stderr}");
}

#[test]
fn credentials_in_the_domain_or_base_url_stop_startup_unechoed() {
    let (code, stderr) = run_with(
        &[
            ("AUTH0_DOMAIN", "http://:hunter2@127.0.0.1:4000"),
            ("AUTH0_CLIENT_ID", "abc"),
            ("AUTH0_CLIENT_SECRET", "def"),
            (
                "APP_SECRET_KEY",
                "3f1c9a7be24d5086f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8",
            ),
            ("APP_BASE_URL", "https://admin:letmein@app.example.com"),
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("- AUTH0_DOMAIN has a user name or password"),
        "{stderr}"
    );
    assert!(
        stderr.contains("- APP_BASE_URL has a user name or password"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("letmein"),
        "{stderr}"
    );
}

#[test]
fn the_demo_refuses_to_listen_beyond_loopback() {
    let output = Command::new(env!("CARGO_BIN_EXE_auth0-login"))
        .arg("--demo")
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("HOST", "0.0.0.0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("demo mode only listens on loopback"));
}
