//! Redis as managed services deploy it, each started by the harness on free ports and stopped by
//! PID: a server over TLS signed by a private CA, a three-node cluster, and a primary behind a
//! sentinel. Each carries logins, page views, logout and back-channel logout.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::sessions::{logged_in_as, session_cookie_of};
use crate::support::*;

fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// `redis-cli` beside the server binary (Debian's redis-tools), else on the PATH.
fn cli() -> String {
    let server = PathBuf::from(binary());
    match server.parent().map(|d| d.join("redis-cli")) {
        Some(path) if path.exists() => path.display().to_string(),
        _ => "redis-cli".into(),
    }
}

/// A port that is free, and whose cluster bus port (+10000) is free too.
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if port > 55_000 {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free pair of ports for a cluster node");
}

fn temp_dir(kind: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("auth0-login-{kind}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {port} after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Processes stopped by PID (SIGKILL) when dropped, with their directory.
struct Processes {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Processes {
    fn spawn(&mut self, args: &[String]) {
        let child = Command::new(binary())
            .args(args)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {} ({e}): tests/redis/run installs it",
                    binary()
                )
            });
        self.children.push(child);
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (tests/redis/run installs it)");
    assert!(status.success(), "openssl {args:?}");
}

/// A Redis that speaks only TLS, its certificate signed by a CA of the test's own.
pub struct TlsRedis {
    pub port: u16,
    pub ca: PathBuf,
    _processes: Processes,
}

impl TlsRedis {
    pub fn start() -> Self {
        let dir = temp_dir("redis-tls");
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        );
        openssl(
            &dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.pem",
            ],
        );
        let port = free_port_now();
        let mut processes = Processes {
            children: Vec::new(),
            dir: dir.clone(),
        };
        let arg = |s: &str| s.to_string();
        processes.spawn(&[
            arg("--port"),
            arg("0"),
            arg("--tls-port"),
            port.to_string(),
            arg("--bind"),
            arg("127.0.0.1"),
            arg("--tls-cert-file"),
            arg("server.pem"),
            arg("--tls-key-file"),
            arg("server.key"),
            arg("--tls-ca-cert-file"),
            arg("ca.pem"),
            arg("--tls-auth-clients"),
            arg("no"),
            arg("--save"),
            arg(""),
            arg("--appendonly"),
            arg("no"),
            arg("--dir"),
            dir.display().to_string(),
        ]);
        wait_listening(port);
        Self {
            port,
            ca: dir.join("ca.pem"),
            _processes: processes,
        }
    }

    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.port)
    }

    /// Keys matching `pattern`, read over TLS with redis-cli.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let out = Command::new(cli())
            .args(["--tls", "--cacert"])
            .arg(&self.ca)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "--raw",
                "KEYS",
                pattern,
            ])
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Three primaries in a cluster (no replicas), slots spread by `redis-cli --cluster create`.
pub struct RedisCluster {
    pub ports: Vec<u16>,
    _processes: Processes,
}

impl RedisCluster {
    pub fn start() -> Self {
        let dir = temp_dir("redis-cluster");
        let mut processes = Processes {
            children: Vec::new(),
            dir: dir.clone(),
        };
        let ports: Vec<u16> = (0..3).map(|_| free_port_pair()).collect();
        for port in &ports {
            let node_dir = dir.join(port.to_string());
            std::fs::create_dir_all(&node_dir).unwrap();
            processes.spawn(&[
                "--port".into(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                node_dir.join("nodes.conf").display().to_string(),
                "--save".into(),
                "".into(),
                "--appendonly".into(),
                "no".into(),
                "--dir".into(),
                node_dir.display().to_string(),
            ]);
        }
        for port in &ports {
            wait_listening(*port);
        }
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let out = Command::new(cli())
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let info = Command::new(cli())
                .args(["-p", &ports[0].to_string(), "CLUSTER", "INFO"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                break;
            }
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            ports,
            _processes: processes,
        }
    }

    pub fn url(&self) -> String {
        let others: Vec<String> = self.ports[1..]
            .iter()
            .map(|p| format!("node=127.0.0.1:{p}"))
            .collect();
        format!(
            "redis-cluster://127.0.0.1:{}?{}",
            self.ports[0],
            others.join("&")
        )
    }

    /// Every key in the cluster matching `pattern`, with the port of the node holding it.
    pub fn keys(&self, pattern: &str) -> Vec<(u16, String)> {
        let mut all = Vec::new();
        for port in &self.ports {
            let out = Command::new(cli())
                .args(["-p", &port.to_string(), "--raw", "KEYS", pattern])
                .output()
                .unwrap();
            for key in String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.is_empty())
            {
                all.push((*port, key.to_string()));
            }
        }
        all
    }
}

/// A primary watched by one sentinel (service `auth0primary`).
pub struct SentinelRedis {
    pub primary: u16,
    pub sentinel: u16,
    _processes: Processes,
}

impl SentinelRedis {
    pub fn start() -> Self {
        let dir = temp_dir("redis-sentinel");
        let mut processes = Processes {
            children: Vec::new(),
            dir: dir.clone(),
        };
        let primary = free_port_now();
        processes.spawn(&[
            "--port".into(),
            primary.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--dir".into(),
            dir.display().to_string(),
        ]);
        wait_listening(primary);
        let sentinel = free_port_now();
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {sentinel}\nbind 127.0.0.1\ndir {}\nsentinel monitor auth0primary 127.0.0.1 {primary} 1\nsentinel down-after-milliseconds auth0primary 2000\n",
                dir.display()
            ),
        )
        .unwrap();
        processes.spawn(&[conf.display().to_string(), "--sentinel".into()]);
        wait_listening(sentinel);
        Self {
            primary,
            sentinel,
            _processes: processes,
        }
    }

    pub fn url(&self) -> String {
        format!(
            "redis-sentinel://127.0.0.1:{}/0?sentinelServiceName=auth0primary",
            self.sentinel
        )
    }

    pub fn primary_keys(&self, pattern: &str) -> Vec<String> {
        let out = Command::new(cli())
            .args(["-p", &self.primary.to_string(), "--raw", "KEYS", pattern])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

async fn app_on(store: String, extra: Vec<(&'static str, String)>) -> TestApp {
    spawn_app_with(Options {
        session_store: Some(store),
        extra_env: extra,
        ..Options::default()
    })
    .await
}

/// A login, a page view, and a logout that deletes the record; what the store holds is read with
/// `keys` (session records are keyed by their bare id, which has no `:`).
async fn login_view_logout(app: &TestApp, records: impl Fn() -> usize) {
    let response = app.login().await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        response.text().await
    );
    let cookie = session_cookie_of(&response);
    assert!(logged_in_as(app, &cookie, "Jane Doe").await);
    assert_eq!(records(), 1, "one session record");
    let logout = app.get("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(records(), 0, "logout deleted the record");
    assert!(
        !logged_in_as(app, &cookie, "Jane Doe").await,
        "a copied cookie is dead"
    );
}

fn records(keys: Vec<String>) -> usize {
    keys.iter().filter(|k| !k.contains(':')).count()
}

#[tokio::test]
async fn sessions_work_over_tls_with_a_private_ca() {
    let redis = TlsRedis::start();
    let app = app_on(
        redis.url(),
        vec![("SESSION_STORE_CA_FILE", redis.ca.display().to_string())],
    )
    .await;
    login_view_logout(&app, || records(redis.keys("*"))).await;
    assert_eq!(
        redis.keys("auth0_login:state:*").len(),
        1,
        "the answered login is in the TLS Redis: {:?}",
        redis.keys("*")
    );
}

/// Without the private CA, the server's certificate is not trusted: the app does not talk to it,
/// and a page that needs the session says the store is unavailable (never a bare 500, never a hang).
#[tokio::test]
async fn a_redis_certificate_no_root_signs_is_refused() {
    let redis = TlsRedis::start();
    let app = app_on(redis.url(), Vec::new()).await;
    let started = Instant::now();
    let response = app.get("/login").await;
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{html}");
    assert_eq!(error_code(&html), "session_store_unavailable", "{html}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered within the command timeout"
    );
    assert!(
        redis.keys("*").is_empty(),
        "nothing was written: {:?}",
        redis.keys("*")
    );
}

/// In a cluster, a user's sessions, their indexes and the records live on different nodes; a
/// back-channel logout by `sub` still ends every one of them.
#[tokio::test]
async fn sessions_work_in_a_three_node_cluster_and_a_backchannel_logout_ends_them_across_nodes() {
    let cluster = RedisCluster::start();
    let app = app_on(cluster.url(), Vec::new()).await;
    login_view_logout(&app, || {
        records(cluster.keys("*").into_iter().map(|(_, k)| k).collect())
    })
    .await;

    let mut cookies = Vec::new();
    for _ in 0..6 {
        let browser = cookie_client();
        let response = app.login_with(&browser, "/login", "jane").await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{:?}",
            response.text().await
        );
        cookies.push(session_cookie_of(&response));
    }
    let held: Vec<(u16, String)> = cluster
        .keys("*")
        .into_iter()
        .filter(|(_, k)| !k.contains(':'))
        .collect();
    assert_eq!(held.len(), 6, "{held:?}");
    let nodes: std::collections::HashSet<u16> = held.iter().map(|(p, _)| *p).collect();
    assert!(
        nodes.len() > 1,
        "six sessions all on one node: the test proves nothing ({held:?})"
    );
    let (_, sub) = app.provider().last_session().unwrap();
    let token = app
        .provider()
        .sign_logout_token(&app.provider().logout_claims(None, Some(&sub)));
    let answer = app.post_logout_token(&token).await;
    assert_eq!(answer.status(), StatusCode::OK, "{:?}", answer.text().await);
    assert_eq!(
        records(cluster.keys("*").into_iter().map(|(_, k)| k).collect()),
        0
    );
    for cookie in &cookies {
        assert!(!logged_in_as(&app, cookie, "Jane Doe").await);
    }
}

#[tokio::test]
async fn sessions_work_behind_a_sentinel() {
    let redis = SentinelRedis::start();
    let app = app_on(redis.url(), Vec::new()).await;
    login_view_logout(&app, || records(redis.primary_keys("*"))).await;
}
