//! The log as an operator reads it: the real binary, its real output. Nothing taken from a token
//! or a request can forge a log line, drive a terminal, or flood the log.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use auth0_login::demo_idp::keys::{DEMO_KID_1, SigningKey};

/// `--demo` on a free port with an API audience, its output collected line by line.
struct Running {
    child: Child,
    base: String,
    lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo() -> Running {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth0-login"))
        .arg("--demo")
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PORT", port.to_string())
        .env("AUTH0_AUDIENCE", "https://api.example.com")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let (tx, lines) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            // Raw bytes, so an escape code would show as itself.
            for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
            }
        });
    }
    let running = Running {
        child,
        base: format!("http://localhost:{port}"),
        lines,
    };
    loop {
        let line = running
            .lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the demo started");
        if line.contains("open http://localhost") {
            return running;
        }
    }
}

#[tokio::test]
async fn a_hostile_token_cannot_forge_or_flood_log_lines() {
    let app = start_demo();
    let evil = "k\r\nFORGED-LINE level=ERROR all good\u{1b}[2J\u{9b}0m";
    let claims = serde_json::json!({"iss": evil, "sub": "s", "aud": "x", "exp": 4_000_000_000u64, "pad": "p".repeat(9_000)});
    let token = SigningKey::fixture(DEMO_KID_1).sign_with_header(
        serde_json::json!({"alg": "RS256", "kid": evil}),
        claims.as_object().unwrap(),
    );
    let response = reqwest::Client::new()
        .get(format!("{}/api/me", app.base))
        .bearer_auth(&token)
        .header("x-request-id", "evil id; level=ERROR")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    // Give the log a moment, then read everything written so far.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines: Vec<String> = app.lines.try_iter().collect();
    let refusal = lines
        .iter()
        .find(|l| l.contains("bearer token refused"))
        .unwrap_or_else(|| panic!("no refusal logged:\n{}", lines.join("\n")));
    assert!(refusal.contains("ISSUER_NOT_ALLOWED"), "{refusal}");
    for line in &lines {
        assert!(
            !line.starts_with("FORGED-LINE"),
            "a token forged a log line:\n{line}"
        );
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{9b}') && !line.contains('\r'),
            "raw control characters: {line:?}"
        );
        assert!(!line.contains(&token), "the token itself was logged");
        assert!(line.len() < 8_000, "a {}-byte log line", line.len());
    }
}
