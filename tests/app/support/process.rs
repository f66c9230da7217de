//! The real binary in a process of its own, against a demo provider in this one.

use std::net::SocketAddr;

use auth0_demo_idp::DemoProvider;

use super::{CLIENT_ID, CLIENT_SECRET, SECRET_KEY, TestApp, cookie_client, registration};

/// A free loopback port, for a server started in another process.
pub fn free_port_now() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary in a process of its own, its output collected line by line (raw bytes, so an
/// escape code would show as itself). Killed when dropped.
pub struct Running {
    pub child: std::process::Child,
    pub base: String,
    pub lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Running {
    /// Starts `auth0-login ARGS` in `dir` with only `env` (and `PORT` in it), optionally as another
    /// user (`setpriv --reuid/--regid`), and waits for "open http://...".
    pub fn start(
        args: &[&str],
        dir: &std::path::Path,
        env: &[(&str, String)],
        binary: Option<&std::path::Path>,
    ) -> Running {
        Self::start_as(args, dir, env, binary, None)
    }

    pub fn start_as(
        args: &[&str],
        dir: &std::path::Path,
        env: &[(&str, String)],
        binary: Option<&std::path::Path>,
        uid: Option<u32>,
    ) -> Running {
        use std::io::BufRead as _;
        let binary = binary
            .map(|b| b.to_path_buf())
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_auth0-login").into());
        let mut command = match uid {
            Some(uid) => {
                let mut c = std::process::Command::new("setpriv");
                c.args([
                    format!("--reuid={uid}"),
                    format!("--regid={uid}"),
                    "--clear-groups".into(),
                    "--".into(),
                ])
                .arg(&binary);
                c
            }
            None => std::process::Command::new(&binary),
        };
        let mut child = command
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the binary");
        let (tx, lines) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .split(b'\n')
                    .map_while(Result::ok)
                {
                    let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
                }
            });
        }
        let port = env
            .iter()
            .find(|(k, _)| *k == "PORT")
            .map(|(_, v)| v.clone())
            .expect("a PORT");
        let mut running = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
            lines,
            seen: Vec::new(),
        };
        loop {
            let line = running
                .lines
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("the app did not start:\n{}", running.seen.join("\n")));
            let ready = line.contains("open http://");
            running.seen.push(line);
            if ready {
                return running;
            }
        }
    }

    /// Every line written so far.
    pub fn output(&mut self) -> &[String] {
        self.seen.extend(self.lines.try_iter());
        &self.seen
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Settings for the binary against `provider` as a tenant (client [`CLIENT_ID`], secret
/// [`CLIENT_SECRET`], key [`SECRET_KEY`]) on `port`.
pub fn tenant_env(provider: &DemoProvider, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("AUTH0_DOMAIN", format!("http://{}", provider.addr())),
        ("AUTH0_CLIENT_ID", CLIENT_ID.into()),
        ("AUTH0_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("APP_SECRET_KEY", SECRET_KEY.into()),
        ("APP_BASE_URL", format!("http://127.0.0.1:{port}")),
        ("PORT", port.to_string()),
    ]
}

/// A demo provider for a binary that will listen on `port`.
pub async fn provider_for_port(port: u16) -> DemoProvider {
    DemoProvider::start(
        "127.0.0.1:0".parse().unwrap(),
        registration(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .expect("provider")
}

impl TestApp {
    /// A [`TestApp`] for a binary running in another process, to reuse the login helpers.
    pub fn for_process(base: &str, provider: DemoProvider) -> TestApp {
        let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        TestApp {
            base: base.to_string(),
            addr,
            provider_addr: provider.addr(),
            provider: Some(provider),
            client: cookie_client(),
        }
    }
}
