//! Cache keys as CloudFront builds them (docs/cloudfront-behaviour.md: "Cache key"): distribution +
//! URL path, plus the query strings, headers and cookies the behavior's cache policy names, the
//! normalised Accept-Encoding when compression caching is on, and OPTIONS kept apart.
//!
//! Layout: `{distribution}:{path}[?{query}]` then `\0`-separated extras. Invalidation reads the
//! part before the first `\0`, so it must stay first.

use crate::config::{Behavior, Selection};
use http::{HeaderMap, Method, Uri};
use std::fmt::Write;

pub fn distribution_prefix(index: usize) -> String {
    format!("{index}:")
}

/// Writes the primary cache key for a request into `buf` (cleared first).
pub fn primary_key(
    buf: &mut String,
    distribution: usize,
    behavior: &Behavior,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) {
    buf.clear();
    let _ = write!(buf, "{distribution}:");
    buf.push_str(uri.path());
    let policy = &behavior.cache_policy;
    if let Some(q) = uri.query() {
        let sel = &policy.query_strings;
        crate::config::append_query(buf, q, *sel == Selection::All, |n| sel.selects(n));
    }
    for name in &policy.headers {
        buf.push_str("\0h");
        buf.push_str(name.as_str());
        buf.push('=');
        for (i, v) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            buf.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
    }
    if policy.cookies != Selection::None {
        let mut cookies: Vec<(&str, &str)> = cookie_pairs(headers)
            .filter(|(n, _)| policy.cookies.selects(n))
            .collect();
        cookies.sort_unstable();
        for (n, v) in cookies {
            let _ = write!(buf, "\0c{n}={v}");
        }
    }
    if let Some(ae) = normalized_accept_encoding(
        headers,
        policy.accept_encoding_gzip,
        policy.accept_encoding_brotli,
    ) {
        buf.push_str("\0ae=");
        buf.push_str(ae);
    }
    if method == Method::OPTIONS {
        buf.push_str("\0OPTIONS");
    }
}

/// `(name, value)` pairs of every Cookie header.
pub fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            let c = c.trim();
            let (n, v) = c.split_once('=').unwrap_or((c, ""));
            (!n.is_empty()).then_some((n, v))
        })
}

/// CloudFront's Accept-Encoding normalisation when compression caching is enabled:
/// `br,gzip`, `br`, `gzip`, or nothing (identity).
pub fn normalized_accept_encoding(
    headers: &HeaderMap,
    gzip: bool,
    brotli: bool,
) -> Option<&'static str> {
    if !gzip && !brotli {
        return None;
    }
    let (mut has_gzip, mut has_br) = (false, false);
    for v in headers.get_all(http::header::ACCEPT_ENCODING) {
        let Ok(v) = v.to_str() else { continue };
        for item in v.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            if refused {
                continue;
            }
            has_gzip |= coding.eq_ignore_ascii_case("gzip");
            has_br |= coding.eq_ignore_ascii_case("br");
        }
    }
    match (gzip && has_gzip, brotli && has_br) {
        (true, true) => Some("br,gzip"),
        (false, true) => Some("br"),
        (true, false) => Some("gzip"),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_toml;
    use http::HeaderValue;

    #[test]
    fn key_follows_the_cache_policy() {
        let cfg = parse_toml(
            r#"
            [[distributions]]
            [[distributions.Origins]]
            Id = "o"
            DomainName = "example.org"
            [distributions.DefaultCacheBehavior]
            [distributions.DefaultCacheBehavior.CachePolicy]
            QueryStringBehavior = "whitelist"
            QueryStrings = ["a", "c"]
            HeaderBehavior = "whitelist"
            Headers = ["X-Lang"]
            CookieBehavior = "whitelist"
            Cookies = ["s"]
            EnableAcceptEncodingGzip = true
            "#,
        )
        .unwrap();
        let b = cfg.distributions[0].behavior_for("/");
        let mut h = HeaderMap::new();
        h.insert("x-lang", HeaderValue::from_static("de"));
        h.insert("cookie", HeaderValue::from_static("z=1; s=abc"));
        h.insert(
            "accept-encoding",
            HeaderValue::from_static("gzip, deflate, br"),
        );
        let mut k = String::new();
        let uri: Uri = "/p?b=2&a=1&c=3".parse().unwrap();
        primary_key(&mut k, 0, b, &Method::GET, &uri, &h);
        assert_eq!(k, "0:/p?a=1&c=3\0hx-lang=de\0cs=abc\0ae=gzip");
        primary_key(&mut k, 0, b, &Method::OPTIONS, &uri, &h);
        assert!(k.ends_with("\0OPTIONS"));
    }

    #[test]
    fn accept_encoding_normalised() {
        let mut h = HeaderMap::new();
        h.insert("accept-encoding", HeaderValue::from_static("br;q=0, gzip"));
        assert_eq!(normalized_accept_encoding(&h, true, true), Some("gzip"));
        h.insert("accept-encoding", HeaderValue::from_static("br, gzip"));
        assert_eq!(normalized_accept_encoding(&h, true, true), Some("br,gzip"));
        assert_eq!(normalized_accept_encoding(&h, false, false), None);
    }
}
