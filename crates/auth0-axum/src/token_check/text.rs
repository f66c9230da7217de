//! Everything quoted from a token is attacker-chosen: these helpers make it safe to print in a
//! log line, on a terminal (`check-token`) and on a page, and bound how much of it is printed.

/// The most characters of one value quoted from a token (a `kid`, an `iss`, an `aud`).
pub const MAX_QUOTED_CHARS: usize = 120;
/// The most characters of a whole diagnosis line (detail or note).
pub const MAX_DETAIL_CHARS: usize = 600;

/// Control characters (CR, LF, ESC, DEL, the C1 range) written as `\u{..}` escapes, so a value
/// can neither start a new log line nor drive a terminal.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `text`, saying how much was left out.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

/// One value from a token, quoted for a diagnosis: escaped, bounded, in double quotes.
pub fn quote(value: &str) -> String {
    format!(
        "\"{}\"",
        truncate(&escape_controls(value), MAX_QUOTED_CHARS)
    )
}

/// A whole diagnosis line made safe: escaped and bounded.
pub fn clean(text: &str) -> String {
    truncate(&escape_controls(text), MAX_DETAIL_CHARS)
}

/// Pretty JSON for a terminal: serde_json escapes C0 controls inside strings but leaves DEL and
/// the C1 range (U+0080..U+009F, e.g. the 8-bit CSI) raw; escape those too, as JSON allows.
pub fn terminal_safe_json(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_values_cut() {
        assert_eq!(
            escape_controls("a\r\nb\u{1b}[31m"),
            "a\\u{d}\\u{a}b\\u{1b}[31m"
        );
        assert_eq!(escape_controls("caf\u{e9}"), "café");
        let long = "x".repeat(5000);
        let q = quote(&long);
        assert!(q.chars().count() < MAX_QUOTED_CHARS + 40, "{q}");
        assert!(q.contains("5000 bytes in all"));
        assert!(!clean(&format!("kid\n{long}")).contains('\n'));
        assert_eq!(
            terminal_safe_json("{\n  \"a\": \"\u{9b}\u{7f}\"\n}"),
            "{\n  \"a\": \"\\u009b\\u007f\"\n}"
        );
    }
}
