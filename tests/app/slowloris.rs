//! Slow and half-sent requests against the real server over TCP: they are cut off after the
//! header-read timeout, idle keep-alive connections are closed, and a flood of them neither takes
//! the app down nor holds more connections than the cap.

use std::time::{Duration, Instant};

use auth0_login::server::ServeLimits;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

async fn spawn_with(header_read_timeout: Duration, max_connections: usize) -> TestApp {
    spawn_app_with(Options {
        serve_limits: Some(ServeLimits {
            header_read_timeout,
            body_read_timeout: header_read_timeout,
            max_connections,
            shutdown_grace: Duration::from_secs(5),
        }),
        ..Options::default()
    })
    .await
}

/// A connection that has sent part of a request's headers and then stalls.
async fn half_sent(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: a")
        .await
        .expect("write");
    stream
}

/// Whether the server closes `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,                // still open at the deadline
            Ok(Ok(0)) | Ok(Err(_)) => return true, // closed
            Ok(Ok(_)) => continue,                 // a response (e.g. 408) before the close
        }
    }
}

#[tokio::test]
async fn three_hundred_half_sent_requests_do_not_take_the_app_down() {
    let app = spawn_with(Duration::from_secs(1), 64).await;
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(half_sent(&app).await);
    }
    // A real request is served while they stall: at most a header timeout or two of waiting.
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(15), app.get("/"))
        .await
        .expect("the app answered no request while 300 were half-sent");
    assert_eq!(response.status(), StatusCode::OK);
    println!(
        "a page during 300 half-sent requests: {:?}",
        started.elapsed()
    );
    // The first of them are cut off after the timeout, not held open.
    for stream in slow.iter_mut().take(10) {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "a half-sent request was held open past the header-read timeout"
        );
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = spawn_with(Duration::from_secs(1), 64).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    // Now idle, kept alive: the server closes it after the timeout.
    assert!(
        closed_within(&mut stream, Duration::from_secs(5)).await,
        "an idle connection stayed open"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_a_slot_frees() {
    let app = spawn_with(Duration::from_secs(3), 8).await;
    let mut slow = Vec::new();
    for _ in 0..8 {
        slow.push(half_sent(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Every slot is held: a ninth connection is not served yet...
    let client = cookie_client();
    let url = format!("{}/", app.base);
    let waiting = tokio::spawn(async move {
        let started = Instant::now();
        let response = client.get(url).send().await;
        (started.elapsed(), response.map(|r| r.status()))
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!waiting.is_finished(), "served beyond the connection cap");
    // ...and is, once the stalled ones time out.
    let (elapsed, status) = tokio::time::timeout(Duration::from_secs(15), waiting)
        .await
        .expect("never served")
        .unwrap();
    assert_eq!(status.unwrap(), StatusCode::OK);
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
}
