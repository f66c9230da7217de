//! `check-token`: every token check on one token, printed for a terminal, offline with a JWKS file.

use std::io::Read as _;
use std::process::ExitCode;

use openidconnect::core::CoreJsonWebKeySet;

use super::CheckTokenArgs;
use auth0_axum::IssuerKeys;
use auth0_axum::token_check::{self, AudienceSetting, CheckReport, Expectations, Outcome};

pub(super) async fn check_token(args: CheckTokenArgs) -> ExitCode {
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
    let domain = match env("AUTH0_DOMAIN").map(|d| IssuerKeys::for_domain(&d)) {
        Some(Err(problems)) => {
            eprintln!("{problems}");
            return ExitCode::from(2);
        }
        Some(Ok(keys)) => Some(keys),
        None => None,
    };

    let mut expect = match args
        .issuer
        .clone()
        .or_else(|| domain.as_ref().map(|d| d.issuer().to_string()))
    {
        Some(issuer) => Expectations::new(issuer, String::new(), AudienceSetting::ApiAudience),
        None => Expectations::unconfigured(
            "No issuer to trust: set AUTH0_DOMAIN in .env, or pass --issuer.",
        ),
    };
    // As the API checks it: an access token (a logout token or a DPoP proof is refused by typ).
    expect.token_types = auth0_axum::token_check::TokenTypes::ACCESS_TOKEN;
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
        let keys = args
            .issuer
            .as_deref()
            .and_then(|i| IssuerKeys::for_domain(i).ok())
            .or(domain);
        match keys {
            Some(keys) => token_check::check(&token, &expect, &keys).await,
            None => token_check::check(&token, &expect, &NoKeys).await,
        }
    };
    print!("{}", render_report(&report));
    let dpop_passed = match dpop_step(&args, &token, &report) {
        Some((line, passed)) => {
            print!("{line}");
            passed
        }
        None => true,
    };
    if report.passed() && dpop_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The DPoP check, as the API makes it (RFC 9449), for a bound token (`cnf.jkt`) or when a proof
/// is given: its line, and whether it passed. `None` for an unbound token without a proof.
fn dpop_step(args: &CheckTokenArgs, token: &str, report: &CheckReport) -> Option<(String, bool)> {
    use auth0_axum::token_check::dpop;
    let jkt = report
        .payload
        .as_ref()
        .and_then(|p| dpop::bound_jkt(p))
        .map(str::to_string);
    let fail = |f: token_check::Failure| {
        (
            format!(
                "  FAIL  {:<9} {}: {}\n          detail: {}\n          fix:    {}\n",
                "dpop", f.category, f.message, f.detail, f.remedy
            ),
            false,
        )
    };
    match (jkt, &args.dpop) {
        (None, None) => None,
        (None, Some(_)) => Some(fail(dpop::not_bound())),
        (Some(_), None) => Some(fail(dpop::missing())),
        (Some(jkt), Some(proof)) => {
            let (Some(method), Some(url)) = (&args.method, &args.url) else {
                return Some((
                    "  FAIL  dpop      --dpop needs --method and --url: the request the proof is for\n".into(),
                    false,
                ));
            };
            let request = dpop::ProofRequest {
                method,
                url,
                access_token: token,
                now: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            };
            Some(match dpop::check_proof(proof, &jkt, &request) {
                Ok(_) => (
                    format!(
                        "  PASS  {:<9} a proof for {method} {url} by the key the token is bound to (its jti must still be new to the API)\n",
                        "dpop"
                    ),
                    true,
                ),
                Err(failure) => fail(failure),
            })
        }
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
