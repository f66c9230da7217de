//! A real `redis-server` for one test: a free port, a temporary directory, stopped (by its PID)
//! when dropped. `REDIS_SERVER` names the binary; otherwise `redis-server` on the PATH.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tower_sessions_redis_store::fred::prelude::{Builder, ClientLike, Config, Pool};
use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};

use crate::support::{Options, TestApp, free_port_now, spawn_app_with};

pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Persistence arguments (`--save ""  --appendonly no` unless started with AOF).
    persistence: Vec<&'static str>,
}

fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

impl RedisServer {
    /// Starts a server, or panics saying why (the suite must not pass without Redis).
    pub fn start() -> Self {
        Self::start_with(vec!["--save", "", "--appendonly", "no"])
    }

    /// A server that writes every command to its append-only file before answering
    /// (`appendonly yes`, `appendfsync always`): what README recommends to keep sessions.
    pub fn start_with_aof() -> Self {
        Self::start_with(vec![
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
    }

    fn start_with(persistence: Vec<&'static str>) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("auth0-login-redis-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory for Redis");
        let mut server = Self {
            port: free_port_now(),
            dir,
            child: None,
            persistence,
        };
        server.run();
        server
    }

    fn run(&mut self) {
        let child = Command::new(binary())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(&self.persistence)
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not start {} ({e}): tests/redis/run installs redis-server, or set REDIS_SERVER", binary())
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("redis://127.0.0.1:{}/0", self.port)).unwrap()
    }

    /// A client of our own, to look inside and to save before an outage.
    pub async fn client(&self) -> Pool {
        let pool = Builder::from_config(Config::from_url(self.url().as_str()).unwrap())
            .build_pool(1)
            .unwrap();
        pool.init().await.expect("connect to the test Redis");
        pool
    }

    /// Stops the server (an outage); what it held is saved first, so [`RedisServer::restart`]
    /// brings it back.
    pub async fn stop(&mut self) {
        let client = self.client().await;
        let save = CustomCommand::new_static("SAVE", ClusterHash::FirstKey, false);
        let _: () = client
            .custom(save, Vec::<String>::new())
            .await
            .expect("SAVE");
        let _ = client.quit().await;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server at once (SIGKILL, nothing saved on the way out): a crash, or a container
    /// stopped hard. What survives is what its persistence settings had written.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stalls the server (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a stalled server go on (SIGCONT): it runs what was sent to it meanwhile.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let pid = self.child.as_ref().expect("redis-server is running").id();
        let status = Command::new("kill")
            .args([which, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {which} {pid}");
    }

    /// Starts it again on the same port and directory (with what it saved).
    pub fn restart(&mut self) {
        self.run();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Resumed first, should a test have left it stopped (SIGKILL ends it either way).
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The app and its demo provider, with sessions in this Redis.
pub async fn spawn_redis_app(redis: &RedisServer) -> TestApp {
    spawn_app_with(Options {
        session_store: Some(redis.url().to_string()),
        ..Options::default()
    })
    .await
}
