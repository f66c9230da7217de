//! The OpenID Foundation's RP test plans as our suite: one check per module, named by the module's
//! id, each against the demo provider switched into that module's behaviour, asserting what the
//! module asserts (its text is in the conformance suite's source,
//! `src/main/java/net/openid/conformance/openid/client/`). Run by `tests/conformance/run`
//! (Redis for the back-channel modules); an unfiltered run writes `CONFORMANCE.md`.
//!
//! `harness = false`: the modules run concurrently, print as libtest does, and the run writes the
//! table in the plans' order. `cargo test --features redis-tests --test conformance -- FILTER`
//! runs the modules whose id contains FILTER (and writes nothing).

#[path = "../app/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

#[path = "../redis/server.rs"]
#[allow(dead_code)]
mod server;

mod modules;
mod report;

use std::future::Future;
use std::pin::Pin;

/// What a module checks, and how we ran it.
pub struct Module {
    /// The conformance suite's module id.
    pub id: &'static str,
    /// Its test plan.
    pub plan: &'static str,
    /// What the module requires of the RP, in a line.
    pub requires: &'static str,
    /// Where we choose differently from what the module prefers (empty otherwise), and why.
    pub choice: &'static str,
    /// Runs the module: what was observed, or a panic saying what was not.
    pub run: fn() -> Pin<Box<dyn Future<Output = String> + Send>>,
}

fn main() -> std::process::ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<&'static Module> = modules::ALL
        .iter()
        .filter(|m| filters.is_empty() || filters.iter().any(|f| m.id.contains(f.as_str())))
        .collect();
    println!("\nrunning {} conformance modules", selected.len());
    // A module's failure is reported once, below, as a line of its own, not as a panic dump.
    std::panic::set_hook(Box::new(|_| {}));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let started = std::time::Instant::now();
    let outcomes: Vec<(&Module, Result<String, String>)> = runtime.block_on(async {
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let tasks: Vec<_> = selected
            .iter()
            .map(|m| {
                let limit = limit.clone();
                let run = m.run;
                tokio::spawn(async move {
                    let _slot = limit.acquire_owned().await;
                    tokio::time::timeout(std::time::Duration::from_secs(60), tokio::spawn(run()))
                        .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for (m, task) in selected.iter().zip(tasks) {
            let outcome = match task.await {
                Ok(Ok(Ok(observed))) => Ok(without_ports(&observed)),
                Ok(Ok(Err(join))) => Err(panic_text(join)),
                Ok(Err(_)) => Err("did not finish within 60 s".into()),
                Err(join) => Err(panic_text(join)),
            };
            match &outcome {
                Ok(_) => println!("test {} ... ok", m.id),
                Err(why) => println!("test {} ... FAILED\n    {why}", m.id),
            }
            outcomes.push((*m, outcome));
        }
        outcomes
    });
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    println!(
        "\nconformance result: {}. {} passed; {failed} failed; finished in {:.2}s\n",
        if failed == 0 { "ok" } else { "FAILED" },
        outcomes.len() - failed,
        started.elapsed().as_secs_f64()
    );
    if filters.is_empty() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("CONFORMANCE.md");
        std::fs::write(&path, report::markdown(&outcomes)).expect("write CONFORMANCE.md");
        println!("wrote {}", path.display());
    }
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// What a module saw, without the test servers' ports (they change every run, and
/// CONFORMANCE.md must not).
fn without_ports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        out.push_str(if digits > 0 { "PORT" } else { "" });
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// A module's panic message, on one line, at most 600 characters (pages can be long).
fn panic_text(join: tokio::task::JoinError) -> String {
    let text = match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into()),
        Err(err) => err.to_string(),
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(600) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}
