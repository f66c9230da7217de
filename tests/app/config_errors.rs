//! A bad configuration stops the binary before it binds, listing every problem at once.

use std::process::Command;

fn run_with(env: &[(&str, &str)], dotenv: Option<&str>) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!(
        "auth0-login-config-{}-{}",
        std::process::id(),
        env.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join(".env"));
    if let Some(text) = dotenv {
        std::fs::write(dir.join(".env"), text).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_auth0-login"))
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
    assert!(stderr.contains(".env could not be read"), "{stderr}");
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
