//! The limits README's security section states, measured against the real server over TCP: the
//! head is capped at 64 KiB (431), bodies at 64 KiB (413), a body must arrive within the body
//! deadline (408), and each refusal reaches the client as an answer, never as a connection reset.
//! A trickled body cannot hold `/backchannel-logout` open past the library's own deadline, on any
//! server, nor the app's connection slots.

use std::time::{Duration, Instant};

use auth0_login::server::ServeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

async fn spawn_with(body_read_timeout: Duration, max_connections: usize) -> TestApp {
    spawn_app_with(Options {
        serve_limits: Some(ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout,
            max_connections,
            shutdown_grace: Duration::from_secs(5),
        }),
        ..Options::default()
    })
    .await
}

/// Sends `head` (and `body`), then reads the answer until the server closes or `within` passes.
/// `Err` when the connection was reset before any answer was read.
async fn exchange(
    app: &TestApp,
    head: &[u8],
    body: &[u8],
    within: Duration,
) -> Result<String, String> {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    // A reset while sending (the server answered early and closed) is what a client sees too.
    let _ = stream.write_all(head).await;
    let _ = stream.write_all(body).await;
    read_answer(&mut stream, within).await
}

async fn read_answer(stream: &mut TcpStream, within: Duration) -> Result<String, String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(err)) if got.is_empty() => return Err(format!("{err}")),
            Ok(Err(_)) => break,
        }
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn get_with_header_of(bytes: usize) -> Vec<u8> {
    format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(bytes)
    )
    .into_bytes()
}

#[tokio::test]
async fn a_head_up_to_64_kib_is_served_and_one_past_it_gets_431_every_time() {
    let app = spawn_app().await;
    let near = exchange(
        &app,
        &get_with_header_of(63 * 1024),
        b"",
        Duration::from_secs(2),
    )
    .await;
    assert!(
        near.as_deref().is_ok_and(|a| a.starts_with("HTTP/1.1 200")),
        "{near:?}"
    );
    // Past 64 KiB, and far past it (hyper's own buffer let 100 KB through): 431, read by the
    // client each time, not a reset.
    for size in [65 * 1024, 100 * 1024, 1024 * 1024] {
        for attempt in 0..20 {
            let answer =
                exchange(&app, &get_with_header_of(size), b"", Duration::from_secs(3)).await;
            match answer {
                Ok(a) if a.starts_with("HTTP/1.1 431") => {}
                other => panic!("a {size}-byte header, try {attempt}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_body_declared_over_64_kib_gets_413_before_it_is_sent() {
    let app = spawn_app().await;
    let head = b"POST /logout HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\n";
    let started = Instant::now();
    let answer = exchange(&app, head, b"", Duration::from_secs(3))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("64 KiB"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A route of the app's own that reads its body (as any form would), served by the app's
/// server: the server's limits hold for it, whatever the route does.
async fn serve_echo(body_read_timeout: Duration) -> std::net::SocketAddr {
    serve_echo_with(body_read_timeout, ServeLimits::default().max_connections).await
}

async fn serve_echo_with(
    body_read_timeout: Duration,
    max_connections: usize,
) -> std::net::SocketAddr {
    use axum::routing::{get, post};
    let router = axum::Router::new()
        .route(
            "/echo",
            post(|body: axum::body::Bytes| async move { format!("read {} bytes", body.len()) }),
        )
        .route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServeLimits {
        body_read_timeout,
        max_connections,
        ..ServeLimits::default()
    };
    tokio::spawn(auth0_login::server::serve::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    addr
}

async fn raw(addr: std::net::SocketAddr, head: &[u8], body: &[u8]) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(head).await;
    let _ = stream.write_all(body).await;
    read_answer(&mut stream, Duration::from_secs(3)).await
}

#[tokio::test]
async fn a_chunked_body_that_grows_past_64_kib_is_cut_off_with_413() {
    let addr = serve_echo(Duration::from_secs(5)).await;
    let head = b"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunks = |n: usize| {
        let mut body = Vec::new();
        for _ in 0..n {
            body.extend_from_slice(format!("{:x}\r\n{}\r\n", 8192, "a".repeat(8192)).as_bytes());
        }
        body.extend_from_slice(b"0\r\n\r\n");
        body
    };
    let fits = raw(addr, head, &chunks(8)).await.unwrap();
    assert!(
        fits.starts_with("HTTP/1.1 200") && fits.contains("read 65536 bytes"),
        "{fits}"
    );
    let over = raw(addr, head, &chunks(9)).await.unwrap();
    assert!(over.starts_with("HTTP/1.1 413"), "{over}");
}

#[tokio::test]
async fn a_body_that_trickles_past_the_deadline_gets_408_and_the_connection_closes() {
    let addr = serve_echo(Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        // A byte every 300 ms: never idle for long, never done in time.
        for _ in 0..20 {
            if stream.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut probe = [0u8; 1];
            let peeked =
                tokio::time::timeout(Duration::from_millis(1), stream.peek(&mut probe)).await;
            if matches!(peeked, Ok(Ok(n)) if n > 0) {
                break;
            }
        }
        read_answer(&mut stream, Duration::from_secs(3)).await
    });
    let answer = reader.await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
}

/// The back-channel route bounds its body itself (10 s), whatever the server allows (here 30 s).
#[tokio::test]
async fn a_backchannel_logout_body_that_trickles_is_answered_408_at_the_librarys_deadline() {
    let app = spawn_with(Duration::from_secs(30), 64).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /backchannel-logout HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\nlogout_token=";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let feeder = async {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if stream.write_all(b"a").await.is_err() {
                break;
            }
        }
    };
    let _ =
        tokio::time::timeout(Duration::from_secs(10) + Duration::from_millis(300), feeder).await;
    let answer = read_answer(&mut stream, Duration::from_secs(3))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(14), "{waited:?}");
}

#[tokio::test]
async fn trickled_bodies_do_not_hold_the_connection_slots() {
    // Eight slots, twenty POSTs to a route that reads its body, each sending a byte every 500 ms
    // and never finishing: a probe is still answered within a few seconds.
    let addr = serve_echo_with(Duration::from_secs(1), 8).await;
    let mut trickling = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4000\r\n\r\n")
            .await
            .unwrap();
        trickling.push(stream);
    }
    let feeder = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            for stream in &mut trickling {
                let _ = stream.write_all(b"a").await;
            }
        }
    });
    let started = Instant::now();
    let probe = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        read_answer(&mut stream, Duration::from_secs(12)).await
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), probe).await;
    feeder.abort();
    let answer = answer.expect("/healthz was unreachable while bodies trickled in");
    assert!(
        answer
            .as_deref()
            .is_ok_and(|a| a.starts_with("HTTP/1.1 200")),
        "{answer:?}"
    );
    println!(
        "/healthz during 20 trickling bodies: {:?}",
        started.elapsed()
    );
}

/// RFC 9112 §9.6: a server closes in stages (its answer, then FIN, then it keeps reading what the
/// client still sends for a while), so that a client still sending its oversize request is not
/// answered with a reset that can destroy the 431 before it is read. Seen from the client: after
/// the answer and the FIN, what it goes on sending is still taken, not reset.
#[tokio::test]
async fn a_refused_request_is_closed_in_stages_not_reset() {
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let _ = stream.write_all(&get_with_header_of(200 * 1024)).await;
    let answer = read_answer(&mut stream, Duration::from_secs(3))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // The server has sent FIN (the read above ended); the client is still sending.
    for _ in 0..5 {
        let more = stream.write_all(&[b'a'; 16 * 1024]).await;
        assert!(more.is_ok(), "the server reset the connection: {more:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
