//! The command line: parse arguments, load configuration, start the right thing.

use std::io::Read as _;
use std::process::ExitCode;

use openidconnect::core::CoreJsonWebKeySet;

use crate::config::{self, AppSettings, Config, Mode};
use crate::oidc::{self, Provider};
use crate::token_check::{self, AudienceSetting, CheckReport, Expectations, Outcome};
use crate::{Application, shutdown_signal};

const USAGE: &str = "\
Usage:
  auth0-login                 serve the app, configured by .env (see .env.example)
  auth0-login --demo          serve it against the built-in local demo provider
  auth0-login check-token <JWT | -> [--issuer URL] [--audience AUD] [--jwks-file FILE]
                              run every token check and say which failed and why
                              (expectations come from .env unless given; exit 0 only if all pass)";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve { demo: bool },
    CheckToken(CheckTokenArgs),
    Help,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CheckTokenArgs {
    pub token: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub jwks_file: Option<String>,
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        None => Ok(Command::Serve { demo: false }),
        Some("--demo") if args.len() == 1 => Ok(Command::Serve { demo: true }),
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("check-token") => {
            let mut out = CheckTokenArgs::default();
            let mut rest = args[1..].iter();
            while let Some(arg) = rest.next() {
                let mut value = |name: &str| {
                    rest.next()
                        .cloned()
                        .ok_or_else(|| format!("{name} needs a value"))
                };
                match arg.as_str() {
                    "--issuer" => out.issuer = Some(value("--issuer")?),
                    "--audience" => out.audience = Some(value("--audience")?),
                    "--jwks-file" => out.jwks_file = Some(value("--jwks-file")?),
                    flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                    token if out.token.is_empty() => out.token = token.to_string(),
                    _ => return Err("give one token".into()),
                }
            }
            if out.token.is_empty() {
                return Err(
                    "check-token needs a token (or - to read it from standard input)".into(),
                );
            }
            Ok(Command::CheckToken(out))
        }
        Some(other) => Err(format!("unknown argument {other}")),
    }
}

/// Logs at info: startup, logins, logouts, refusals and errors, each tagged with its request id.
/// A line per request (method, path, status, latency) is at debug: `RUST_LOG=debug` or
/// `RUST_LOG=info,tower_http=debug`. Colours only on a terminal.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}

pub async fn run(args: Vec<String>) -> ExitCode {
    match parse(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(command) => {
            // .env first, so that RUST_LOG set there applies to logging.
            if let Err(errors) = config::load_dotenv() {
                eprintln!("{errors}");
                return ExitCode::from(2);
            }
            match command {
                Command::Serve { demo } => {
                    init_tracing();
                    serve(demo).await
                }
                Command::CheckToken(args) => check_token(args).await,
                Command::Help => ExitCode::SUCCESS,
            }
        }
        Err(why) => {
            eprintln!("{why}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn serve(demo: bool) -> ExitCode {
    // Kept alive for as long as the app serves.
    let (config, _demo_provider) = match load(demo).await {
        Ok(loaded) => loaded,
        Err((message, code)) => {
            eprintln!("{message}");
            return code;
        }
    };
    if let Some(limit) = crate::serve::raise_open_file_limit() {
        tracing::debug!(limit, "open-file limit");
    }
    let app = match Application::build(config.clone(), demo).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("{err:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        listening = %app.local_addr(),
        "open {}/ in your browser{}",
        config.app.base_url,
        if demo { " (demo mode: built-in provider, not Auth0)" } else { "" }
    );
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "demo")]
type DemoGuard = crate::demo_idp::DemoProvider;
#[cfg(not(feature = "demo"))]
type DemoGuard = std::convert::Infallible;

/// The configuration: from the environment, or, in demo mode, the app's settings from the
/// environment and the tenant's from the demo provider started here.
async fn load(demo: bool) -> Result<(Config, Option<DemoGuard>), (String, ExitCode)> {
    let config_error = |e: config::ConfigErrors| (e.to_string(), ExitCode::from(2));
    if !demo {
        return Config::from_env().map(|c| (c, None)).map_err(config_error);
    }
    let app =
        AppSettings::from_lookup(Mode::Demo, &|k| std::env::var(k).ok()).map_err(config_error)?;
    let (provider, tenant) = start_demo(&app)
        .await
        .map_err(|e| (format!("{e:#}"), ExitCode::FAILURE))?;
    Ok((Config { app, tenant }, Some(provider)))
}

#[cfg(feature = "demo")]
async fn start_demo(app: &AppSettings) -> anyhow::Result<(DemoGuard, config::TenantSettings)> {
    crate::demo_idp::start_for(app).await
}

#[cfg(not(feature = "demo"))]
async fn start_demo(_: &AppSettings) -> anyhow::Result<(DemoGuard, config::TenantSettings)> {
    anyhow::bail!(
        "This build has no demo provider (it was built with --no-default-features). Configure .env for your Auth0 tenant and run without --demo."
    )
}

async fn check_token(args: CheckTokenArgs) -> ExitCode {
    let token = if args.token == "-" {
        let mut buf = String::new();
        if let Err(err) = std::io::stdin().read_to_string(&mut buf) {
            eprintln!("could not read the token from standard input: {err}");
            return ExitCode::from(2);
        }
        buf.trim().to_string()
    } else {
        args.token.clone()
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    // The same parser as the server's: a bad AUTH0_DOMAIN is reported, not silently ignored.
    let domain = match env("AUTH0_DOMAIN").map(|d| config::parse_provider_base(&d)) {
        Some(Err(problem)) => {
            eprintln!("{}", config::ConfigErrors(vec![problem]));
            return ExitCode::from(2);
        }
        Some(Ok(domain)) => Some(domain),
        None => None,
    };

    let mut expect = match args
        .issuer
        .clone()
        .or_else(|| domain.as_ref().map(|d| d.to_string()))
    {
        Some(issuer) => Expectations::new(issuer, String::new(), AudienceSetting::ApiAudience),
        None => Expectations::unconfigured(
            "No issuer to trust: set AUTH0_DOMAIN in .env, or pass --issuer.",
        ),
    };
    expect.audiences.clear();
    if let Some(aud) = args.audience.clone() {
        expect.audiences.push(aud);
        expect.audience_setting = AudienceSetting::CommandLine;
    } else {
        if let Some(aud) = env("AUTH0_AUDIENCE") {
            expect.audiences.push(aud);
        }
        if let Some(id) = env("AUTH0_CLIENT_ID") {
            expect.audiences.push(id);
            if expect.audiences.len() == 1 {
                expect.audience_setting = AudienceSetting::ClientId;
            }
        }
    }

    let report = if let Some(path) = &args.jwks_file {
        let set: CoreJsonWebKeySet = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        {
            Ok(set) => set,
            Err(err) => {
                eprintln!("--jwks-file {path}: {err}");
                return ExitCode::from(2);
            }
        };
        token_check::check(&token, &expect, &set).await
    } else {
        let base = args
            .issuer
            .as_deref()
            .and_then(|i| url::Url::parse(i).ok())
            .or(domain);
        match base {
            Some(base) => {
                let provider = Provider::for_base(&base, oidc::http_client());
                token_check::check(&token, &expect, provider.as_ref()).await
            }
            None => token_check::check(&token, &expect, &NoKeys).await,
        }
    };
    print!("{}", render_report(&report));
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// With neither a JWKS file nor a provider, the key check fails with that reason.
struct NoKeys;

impl token_check::KeySource for NoKeys {
    async fn key_for(
        &self,
        _: Option<&str>,
        _: &openidconnect::core::CoreJwsSigningAlgorithm,
    ) -> Result<openidconnect::core::CoreJsonWebKey, token_check::KeyError> {
        Err(token_check::KeyError::FetchFailed {
            jwks_uri: "(none)".into(),
            reason:
                "no --jwks-file given and no AUTH0_DOMAIN or --issuer to discover the JWKS from"
                    .into(),
        })
    }
}

/// The report as text: decoded header and payload, then each check.
pub fn render_report(report: &CheckReport) -> String {
    let mut out = String::new();
    let pretty = |m: &Option<serde_json::Map<String, serde_json::Value>>| match m {
        // The decoded parts are attacker-chosen: nothing in them may drive the terminal.
        Some(m) => token_check::text::terminal_safe_json(
            &serde_json::to_string_pretty(m).unwrap_or_default(),
        ),
        None => "(could not be decoded)".into(),
    };
    out.push_str(&format!(
        "Header:\n{}\n\nPayload:\n{}\n\nChecks:\n",
        pretty(&report.header),
        pretty(&report.payload)
    ));
    for step in &report.steps {
        match &step.outcome {
            Outcome::Pass { note } => out.push_str(&format!("  PASS  {:<9} {note}\n", step.name)),
            Outcome::Skipped { reason } => {
                out.push_str(&format!("  SKIP  {:<9} {reason}\n", step.name))
            }
            Outcome::Fail { failures } => {
                for f in failures {
                    out.push_str(&format!(
                        "  FAIL  {:<9} {}: {}\n          detail: {}\n          fix:    {}\n",
                        step.name, f.category, f.message, f.detail, f.remedy
                    ));
                }
            }
        }
    }
    let failures = report.failures().count();
    if failures == 0 {
        out.push_str("\nEvery check passed.\n");
    } else {
        out.push_str(&format!("\n{failures} check(s) failed.\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_command_line_is_parsed_strictly() {
        assert_eq!(parse(&args(&[])), Ok(Command::Serve { demo: false }));
        assert_eq!(parse(&args(&["--demo"])), Ok(Command::Serve { demo: true }));
        assert!(parse(&args(&["--dmeo"])).is_err());
        assert!(parse(&args(&["check-token"])).is_err());
        assert!(parse(&args(&["check-token", "a.b.c", "--bogus"])).is_err());
        assert_eq!(
            parse(&args(&[
                "check-token",
                "-",
                "--issuer",
                "https://t/",
                "--jwks-file",
                "k.json"
            ])),
            Ok(Command::CheckToken(CheckTokenArgs {
                token: "-".into(),
                issuer: Some("https://t/".into()),
                audience: None,
                jwks_file: Some("k.json".into()),
            }))
        );
    }
}
