//! The command line: parse arguments, load configuration, start the right thing.

mod check_token;
mod healthcheck;
mod logging;

use std::process::ExitCode;

use auth0_axum::{Auth0Config, ConfigErrors};

use crate::server::{Application, shutdown_signal};

const USAGE: &str = "\
Usage:
  auth0-login                 serve the app, configured by .env (see .env.example)
  auth0-login --demo          serve it against the built-in local demo provider
  auth0-login check-token <JWT | -> [--issuer URL] [--audience AUD] [--jwks-file FILE]
                              [--dpop PROOF --method METHOD --url URL]
                              run every token check and say which failed and why
                              (expectations come from .env unless given; exit 0 only if all pass);
                              a DPoP-bound token (cnf.jkt) is checked with its proof
  auth0-login healthcheck [URL] exit 0 if the app answers 200 at URL (default: its own /healthz,
                              from HOST and PORT); for a container's HEALTHCHECK";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve { demo: bool },
    CheckToken(CheckTokenArgs),
    Healthcheck { url: Option<String> },
    Help,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CheckTokenArgs {
    pub token: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub jwks_file: Option<String>,
    /// A DPoP proof, with the request it was for.
    pub dpop: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
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
                    "--dpop" => out.dpop = Some(value("--dpop")?),
                    "--method" => out.method = Some(value("--method")?),
                    "--url" => out.url = Some(value("--url")?),
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
        Some("healthcheck") if args.len() <= 2 => Ok(Command::Healthcheck {
            url: args.get(1).cloned(),
        }),
        Some(other) => Err(format!("unknown argument {other}")),
    }
}

pub async fn run(args: Vec<String>) -> ExitCode {
    match parse(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(command) => {
            // .env first, so that RUST_LOG set there applies to logging.
            if let Err(errors) = auth0_axum::load_dotenv() {
                eprintln!("{errors}");
                return ExitCode::from(2);
            }
            match command {
                Command::Serve { demo } => {
                    logging::init();
                    serve(demo).await
                }
                Command::CheckToken(args) => check_token::check_token(args).await,
                Command::Healthcheck { url } => healthcheck::run(url.as_deref()).await,
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
    if let Some(limit) = crate::server::serve::raise_open_file_limit() {
        tracing::debug!(limit, "open-file limit");
    }
    let app = match Application::build(config.clone()).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("{err:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        listening = %config.bind(),
        "open {}/ in your browser{}",
        config.base_url(),
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
type DemoGuard = auth0_demo_idp::DemoProvider;
#[cfg(not(feature = "demo"))]
type DemoGuard = std::convert::Infallible;

/// The configuration: from the environment, or, in demo mode, the app's settings from the
/// environment and the tenant's from the demo provider started here.
async fn load(demo: bool) -> Result<(Auth0Config, Option<DemoGuard>), (String, ExitCode)> {
    let config_error = |e: ConfigErrors| (e.to_string(), ExitCode::from(2));
    let env = |k: &str| std::env::var(k).ok();
    if !demo {
        return Auth0Config::from_lookup(env)
            .map(|c| (c, None))
            .map_err(config_error);
    }
    let config = Auth0Config::for_local_provider(env).map_err(config_error)?;
    let (provider, config) = start_demo(config)
        .await
        .map_err(|e| (format!("{e:#}"), ExitCode::FAILURE))?;
    Ok((config, Some(provider)))
}

#[cfg(feature = "demo")]
async fn start_demo(config: Auth0Config) -> anyhow::Result<(DemoGuard, Auth0Config)> {
    let (provider, tenant) = auth0_demo_idp::start_for(
        config.callback_url(),
        config.post_logout_url(),
        config.backchannel_logout_url(),
    )
    .await?;
    let config = config.with_tenant(&tenant.issuer, &tenant.client_id, &tenant.client_secret)?;
    // AUTH0_CLIENT_ASSERTION_SIGNING_KEY set: the demo application uses Private Key JWT.
    if let Some(jwk) = config.client_assertion_jwk() {
        provider.accept_client_assertions(jwk);
        tracing::info!("demo: the app authenticates with Private Key JWT");
    }
    Ok((provider, config))
}

#[cfg(not(feature = "demo"))]
async fn start_demo(_: Auth0Config) -> anyhow::Result<(DemoGuard, Auth0Config)> {
    anyhow::bail!(
        "This build has no demo provider (it was built with --no-default-features). Configure .env for your Auth0 tenant and run without --demo."
    )
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
                ..CheckTokenArgs::default()
            }))
        );
    }
}
