//! A sealed session across several cookies: `auth0_session`, `auth0_session.1`, … so that a large
//! profile (an Auth0 Action's group claims) still fits. Browsers drop a Set-Cookie over 4,096
//! bytes silently, and common proxies refuse a Cookie header over 8,190 bytes, so each chunk is
//! bounded by the first and all of them together by a budget under the second.
//!
//! The first cookie says how many there are (`3.<data>`) when there are more than one: a missing
//! chunk then reads as a guest instead of as a shorter (undecryptable) value, and a chunk left
//! over from a larger session is recognised as stale and deleted.

use axum::http::HeaderMap;

/// Browsers drop a cookie whose Set-Cookie (name, value and attributes) exceeds this, silently.
pub const MAX_SET_COOKIE_BYTES: usize = 4096;
/// The Cookie header size common proxies accept by default (nginx, Apache: 8 KiB buffers).
#[cfg(test)]
pub const MAX_COOKIE_HEADER_BYTES: usize = 8190;
/// What the session's cookies may take of the Cookie header (`name=value; ` each): the rest of
/// [`MAX_COOKIE_HEADER_BYTES`] is left for the site's other cookies and the header's name.
pub const SESSION_COOKIE_BUDGET: usize = 7168;
/// The most chunks a session is read from: one digit, and far above what the budget allows.
pub const MAX_CHUNKS: usize = 8;
/// The longest `Path` a session cookie carries (`APP_BASE_URL`'s path; longer ones are refused
/// when the configuration is read).
pub const MAX_PATH_BYTES: usize = crate::config::MAX_BASE_PATH_BYTES;
/// Upper bound of `; Path=P; Max-Age=86400; HttpOnly; SameSite=Lax; Secure` (54 bytes and the
/// path's).
const ATTRIBUTE_BYTES: usize = 64 + MAX_PATH_BYTES;
/// The longest chunk name plus `=`: `__Secure-auth0_session.8=`.
const NAME_BYTES: usize = super::super::SECURE_SUB_PATH_COOKIE_NAME.len() + 3;
/// The most value bytes in one chunk, so that its Set-Cookie stays within 4,096 bytes.
pub const CHUNK_CAPACITY: usize = MAX_SET_COOKIE_BYTES - NAME_BYTES - ATTRIBUTE_BYTES;
/// The count prefix on the first chunk of a split session: `N.`.
const COUNT_PREFIX: usize = 2;

/// The cookie name of chunk `i` (0 is the base name).
pub fn chunk_name(base: &str, i: usize) -> String {
    if i == 0 {
        base.to_string()
    } else {
        format!("{base}.{i}")
    }
}

/// How many chunks a sealed value of `len` bytes needs.
pub const fn chunk_count(len: usize) -> usize {
    if len <= CHUNK_CAPACITY {
        1
    } else {
        (len + COUNT_PREFIX).div_ceil(CHUNK_CAPACITY)
    }
}

/// What the session's cookies add to the Cookie header for a sealed value of `len` bytes (with
/// the longest name: the `__Secure-` one), or `None` beyond [`MAX_CHUNKS`].
pub const fn cookie_header_bytes(len: usize) -> Option<usize> {
    let n = chunk_count(len);
    if n > MAX_CHUNKS {
        return None;
    }
    let prefix = if n > 1 { COUNT_PREFIX } else { 0 };
    // Each `name=value`, and `; ` between cookies.
    Some(len + prefix + n * NAME_BYTES + 2 * n)
}

/// Whether a sealed value of `len` bytes can be written.
pub const fn fits(len: usize) -> bool {
    match cookie_header_bytes(len) {
        Some(bytes) => bytes <= SESSION_COOKIE_BUDGET,
        None => false,
    }
}

/// A sealed value cut into chunk values (the first carrying the count when there are several).
pub fn split(value: &str) -> Vec<String> {
    let n = chunk_count(value.len());
    if n == 1 {
        return vec![value.to_string()];
    }
    let first = CHUNK_CAPACITY - COUNT_PREFIX;
    let mut chunks = vec![format!("{n}.{}", &value[..first])];
    // base64url is ASCII: any byte offset is a char boundary.
    chunks.extend(
        value.as_bytes()[first..]
            .chunks(CHUNK_CAPACITY)
            .map(|c| String::from_utf8_lossy(c).into_owned()),
    );
    chunks
}

/// The session's cookies as a request carries them.
#[derive(Debug, Default)]
pub struct RequestChunks {
    values: [Option<String>; MAX_CHUNKS],
}

/// Why the request's chunks do not make a value.
#[derive(Debug, PartialEq, Eq)]
pub enum JoinError {
    /// A chunk the first one announces is missing, or the count is not one we write.
    Incomplete,
}

impl RequestChunks {
    /// Reads cookies `base`, `base.1`, … from the Cookie headers.
    pub fn read(headers: &HeaderMap, base: &str) -> Self {
        let mut chunks = Self::default();
        for pair in super::super::cookie_pairs(headers) {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let Some(rest) = name.strip_prefix(base) else {
                continue;
            };
            let index = match rest.strip_prefix('.') {
                None if rest.is_empty() => 0,
                Some(digit) if digit.len() == 1 => match digit.parse::<usize>() {
                    Ok(i) if (1..MAX_CHUNKS).contains(&i) => i,
                    _ => continue,
                },
                _ => continue,
            };
            chunks.values[index] = Some(value.to_string());
        }
        chunks
    }

    /// The indices the request carried.
    pub fn present(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_CHUNKS).filter(|&i| self.values[i].is_some())
    }

    /// The sealed value, and how many chunks it was read from (the rest are stale). `Ok(None)`
    /// when there is no first cookie.
    pub fn join(&self) -> Result<Option<(String, usize)>, JoinError> {
        let Some(first) = &self.values[0] else {
            return Ok(None);
        };
        let Some((count, head)) = first.split_once('.') else {
            return Ok(Some((first.clone(), 1)));
        };
        let n = match count.parse::<usize>() {
            Ok(n) if (2..=MAX_CHUNKS).contains(&n) => n,
            _ => return Err(JoinError::Incomplete),
        };
        let mut value = String::with_capacity(n * CHUNK_CAPACITY);
        value.push_str(head);
        for chunk in &self.values[1..n] {
            value.push_str(chunk.as_deref().ok_or(JoinError::Incomplete)?);
        }
        Ok(Some((value, n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, cookie.parse().unwrap());
        h
    }

    fn as_cookie_header(base: &str, chunks: &[String]) -> String {
        chunks
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{}={v}", chunk_name(base, i)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn a_value_splits_and_joins_back_for_every_size_up_to_the_budget() {
        for len in [
            1,
            100,
            CHUNK_CAPACITY,
            CHUNK_CAPACITY + 1,
            2 * CHUNK_CAPACITY,
        ] {
            let value: String = "abcdefghij".repeat(len / 10 + 1)[..len].to_string();
            let chunks = split(&value);
            assert_eq!(chunks.len(), chunk_count(len), "len {len}");
            // The worst case: the longest name, under the longest sub-path.
            let base = crate::session::SECURE_SUB_PATH_COOKIE_NAME;
            let longest_path = format!("/{}", "p".repeat(MAX_PATH_BYTES - 1));
            for (i, chunk) in chunks.iter().enumerate() {
                let set_cookie = format!(
                    "{}={chunk}; Path={}; Max-Age=86400; HttpOnly; SameSite=Lax; Secure",
                    chunk_name(base, i),
                    longest_path
                );
                assert!(
                    set_cookie.len() <= MAX_SET_COOKIE_BYTES,
                    "len {len} chunk {i}"
                );
            }
            let header = as_cookie_header(base, &chunks);
            let projected = cookie_header_bytes(len).unwrap();
            assert!(
                header.len() + 2 <= projected,
                "len {len}: never an underestimate"
            );
            assert!(
                projected <= header.len() + 2 + 2,
                "len {len}: tight (the base name is 2 bytes shorter)"
            );
            let read = RequestChunks::read(&headers(&header), base);
            assert_eq!(read.join(), Ok(Some((value, chunks.len()))), "len {len}");
        }
    }

    #[test]
    fn the_budget_keeps_the_whole_cookie_header_under_8190_bytes() {
        let largest = (0..3 * CHUNK_CAPACITY).rev().find(|&n| fits(n)).unwrap();
        assert!(largest > 7000, "{largest}");
        let header_bytes = cookie_header_bytes(largest).unwrap();
        assert!(header_bytes + "Cookie: ".len() < MAX_COOKIE_HEADER_BYTES);
        assert!(!fits(largest + 1));
    }

    #[test]
    fn a_missing_or_miscounted_chunk_does_not_join() {
        let value = "x".repeat(CHUNK_CAPACITY + 10);
        let chunks = split(&value);
        let base = "auth0_session";
        let only_first = format!("{base}={}", chunks[0]);
        assert_eq!(
            RequestChunks::read(&headers(&only_first), base).join(),
            Err(JoinError::Incomplete)
        );
        for count in ["1", "9", "x", ""] {
            let bad = format!("{base}={count}.abc");
            assert_eq!(
                RequestChunks::read(&headers(&bad), base).join(),
                Err(JoinError::Incomplete),
                "{count}"
            );
        }
    }

    #[test]
    fn other_cookies_and_lookalike_names_are_ignored() {
        let h = headers(
            "a=1; auth0_session_x=2; auth0_session.x=3; auth0_session.10=4; auth0_session=v; auth0_session.2=s",
        );
        let read = RequestChunks::read(&h, "auth0_session");
        assert_eq!(read.join(), Ok(Some(("v".to_string(), 1))));
        assert_eq!(read.present().collect::<Vec<_>>(), vec![0, 2]);
    }
}
