//! `.env`, loaded into the environment before anything reads it (logging included). A broken
//! line is reported by file, line number and key, never by its value: the line may hold a secret.

use super::{ConfigErrors, Problem};

/// Loads `.env` (from the working directory or the nearest parent that has one) into the
/// environment, without overriding variables already set. A missing file is normal; a broken one
/// is reported by file, line number and key, never with its value: the line may hold a secret.
pub fn load_dotenv() -> Result<(), ConfigErrors> {
    let Ok(mut dir) = std::env::current_dir() else {
        return Ok(());
    };
    let path = loop {
        let candidate = dir.join(".env");
        if candidate.is_file() {
            break candidate;
        }
        if !dir.pop() {
            return Ok(());
        }
    };
    let fail = |problem: String, fix: &str| ConfigErrors(vec![Problem::new(".env", problem, fix)]);
    match dotenvy::from_path(&path) {
        Ok(()) => Ok(()),
        Err(dotenvy::Error::LineParse(bad, _)) => {
            let content = std::fs::read_to_string(&path).unwrap_or_default();
            let (line, key) = locate_bad_line(&content, &bad);
            Err(fail(
                format!(
                    "({}) line {line}{} cannot be parsed (its value is not shown: it may be a secret)",
                    path.display(),
                    key.map(|k| format!(", {k}")).unwrap_or_default()
                ),
                "Write one KEY=value per line; quote a value that has spaces or # in it, e.g. AUTH0_SCOPE=\"openid profile email\".",
            ))
        }
        Err(dotenvy::Error::Io(err)) => Err(fail(
            format!("({}) could not be read: {}", path.display(), err.kind()),
            "Make .env readable by this user, or delete it and use environment variables.",
        )),
        Err(_) => Err(fail(
            format!(
                "({}) could not be loaded (a value is not valid Unicode, or a ${{...}} substitution is broken)",
                path.display()
            ),
            "Check the file for stray bytes and unbalanced ${...}.",
        )),
    }
}

/// The 1-based line where `bad` (what dotenvy could not parse: the whole line, or only the value
/// after `KEY=`, as for an unquoted value with spaces) starts, and the key it sets if that much is
/// readable.
pub(super) fn locate_bad_line(content: &str, bad: &str) -> (usize, Option<String>) {
    let first = bad.lines().next().unwrap_or("").trim();
    let found = content.lines().enumerate().find(|(_, l)| {
        let l = l.trim();
        !first.is_empty()
            && (l == first
                || l.split_once('=')
                    .is_some_and(|(_, value)| value.trim() == first))
    });
    let Some((index, line)) = found else {
        return (0, None);
    };
    let line = line.trim();
    let key = line
        .trim_start_matches("export ")
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.len() <= 64
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .map(str::to_string);
    (index + 1, key)
}
