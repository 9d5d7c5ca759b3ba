//! compress: a behavior with `Compress` gzips or Brotli-compresses what its origin sent, after
//! origin-response and before the cache stores it, under CloudFront's conditions
//! (docs/cloudfront-behaviour.md: "Compression"): the viewer accepts the coding, the response
//! has no `Content-Encoding`, has a `Content-Length` of 1,000 to 10,000,000 bytes and a
//! `Content-Type` CloudFront compresses. The compressed object is cached under the viewer's
//! normalised `Accept-Encoding` (the cache key has it whenever `Compress` is on), so each coding
//! is its own variant; `Vary: Accept-Encoding` says so downstream and a strong `ETag` becomes
//! weak.

use crate::config::Behavior;
use crate::origin::{OriginBody, OriginResponse};
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::StatusCode;
use std::io::Write;

/// What CloudFront compresses: bodies of this many bytes.
const SIZES: std::ops::RangeInclusive<u64> = 1_000..=10_000_000;

/// Bodies at least this big are compressed on the blocking pool, not on the worker serving
/// viewers (10 MB of Brotli takes a good part of a second).
const OFF_THREAD_BYTES: usize = 256 * 1024;

/// The media types (without parameters, lowercase) CloudFront compresses, sorted.
const TYPES: &[&str] = &[
    "application/dash+xml",
    "application/eot",
    "application/font",
    "application/font-sfnt",
    "application/javascript",
    "application/json",
    "application/opentype",
    "application/otf",
    "application/pkcs7-mime",
    "application/protobuf",
    "application/rss+xml",
    "application/truetype",
    "application/ttf",
    "application/vnd.apple.mpegurl",
    "application/vnd.ms-fontobject",
    "application/x-font-opentype",
    "application/x-font-truetype",
    "application/x-font-ttf",
    "application/x-httpd-cgi",
    "application/x-javascript",
    "application/x-mpegurl",
    "application/x-opentype",
    "application/x-otf",
    "application/x-perl",
    "application/x-ttf",
    "application/xhtml+xml",
    "application/xml",
    "font/eot",
    "font/opentype",
    "font/otf",
    "font/ttf",
    "image/svg+xml",
    "text/css",
    "text/csv",
    "text/html",
    "text/javascript",
    "text/js",
    "text/plain",
    "text/richtext",
    "text/tab-separated-values",
    "text/x-component",
    "text/x-java-source",
    "text/x-script",
    "text/xml",
    "vnd.apple.mpegurl",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Brotli,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
        }
    }
}

/// The coding a viewer's request gets under `behavior`: Brotli when both are accepted and the
/// cache policy enables Brotli, else gzip when accepted; `None` without `Compress`.
pub(crate) fn coding_for(behavior: &Behavior, viewer: &HeaderMap) -> Option<Coding> {
    if !behavior.compress {
        return None;
    }
    let accepted = crate::cache::normalized_accept_encoding(
        viewer,
        behavior.cache_policy.accept_encoding_gzip,
        behavior.cache_policy.accept_encoding_brotli,
    )?;
    Some(if accepted.starts_with("br") {
        Coding::Brotli
    } else {
        Coding::Gzip
    })
}

/// Whether CloudFront would compress a response with this status and these headers.
fn compressible(status: StatusCode, headers: &HeaderMap, body_len: usize) -> bool {
    // No body, or a part of one: nothing to compress as a whole.
    if matches!(
        status,
        StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    ) || status.is_informational()
    {
        return false;
    }
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if !length.is_some_and(|n| SIZES.contains(&n) && n == body_len as u64) {
        return false;
    }
    let Some(media) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim())
    else {
        return false;
    };
    TYPES
        .binary_search_by(|t| cmp_ignore_case(t, media))
        .is_ok()
}

fn cmp_ignore_case(table: &str, media: &str) -> std::cmp::Ordering {
    table
        .bytes()
        .cmp(media.bytes().map(|b| b.to_ascii_lowercase()))
}

/// Compresses `resp` with `coding` when CloudFront would; leaves it as it is otherwise.
pub(crate) async fn apply(resp: &mut OriginResponse, coding: Coding) {
    let OriginBody::Full(body) = &resp.body else {
        return;
    };
    if !compressible(resp.parts.status, &resp.parts.headers, body.len()) {
        return;
    }
    let body = body.clone();
    let packed = if body.len() >= OFF_THREAD_BYTES {
        match tokio::task::spawn_blocking(move || encode(&body, coding)).await {
            Ok(p) => p,
            Err(_) => return,
        }
    } else {
        encode(&body, coding)
    };
    let Ok(packed) = packed else { return };
    let headers = &mut resp.parts.headers;
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(coding.token()),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(packed.len()));
    add_vary_accept_encoding(headers);
    weaken_etag(headers);
    resp.body = OriginBody::Full(packed);
}

fn encode(body: &[u8], coding: Coding) -> std::io::Result<Bytes> {
    let mut out = Vec::with_capacity(body.len() / 3 + 64);
    match coding {
        Coding::Gzip => {
            let mut w = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(6));
            w.write_all(body)?;
            w.finish()?;
        }
        Coding::Brotli => {
            // Quality 5 of 11: most of Brotli's gain at a fraction of its top level's CPU.
            let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 5, 22);
            w.write_all(body)?;
            // Ends the stream (its last meta-block).
            w.into_inner();
        }
    }
    Ok(Bytes::from(out))
}

/// Adds `Accept-Encoding` to `Vary` unless it (or `*`) is already there.
fn add_vary_accept_encoding(headers: &mut HeaderMap) {
    let already = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.eq_ignore_ascii_case("accept-encoding")
        });
    if !already {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// CloudFront's `ETag` conversion for compressed objects: a strong tag (`"…"`) gets `W/`, a weak
/// one is kept, anything else is removed.
fn weaken_etag(headers: &mut HeaderMap) {
    let Some(tag) = headers.get(header::ETAG) else {
        return;
    };
    let bytes = tag.as_bytes();
    if bytes.starts_with(b"W/") {
        return;
    }
    let weak = bytes
        .starts_with(b"\"")
        .then(|| {
            let mut v = Vec::with_capacity(bytes.len() + 2);
            v.extend_from_slice(b"W/");
            v.extend_from_slice(bytes);
            HeaderValue::from_bytes(&v).ok()
        })
        .flatten();
    match weak {
        Some(v) => {
            headers.insert(header::ETAG, v);
        }
        None => {
            headers.remove(header::ETAG);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_table_is_sorted_and_lowercase() {
        assert!(TYPES.windows(2).all(|w| w[0] < w[1]));
        assert!(TYPES.iter().all(|t| t.to_ascii_lowercase() == *t));
    }

    #[test]
    fn only_what_cloudfront_compresses() {
        let ok = |ct: &str, len: usize| {
            let l = len.to_string();
            compressible(
                StatusCode::OK,
                &headers(&[("content-type", ct), ("content-length", &l)]),
                len,
            )
        };
        assert!(ok("text/html; charset=utf-8", 1_000));
        assert!(ok("Application/JSON", 10_000_000));
        assert!(!ok("text/html", 999));
        assert!(!ok("text/html", 10_000_001));
        assert!(!ok("image/png", 5_000));
        assert!(!ok("application/octet-stream", 5_000));
        let h = headers(&[("content-type", "text/css"), ("content-length", "5000")]);
        assert!(!compressible(StatusCode::PARTIAL_CONTENT, &h, 5_000));
        let mut encoded = h.clone();
        encoded.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(!compressible(StatusCode::OK, &encoded, 5_000));
        let mut no_length = h.clone();
        no_length.remove(header::CONTENT_LENGTH);
        assert!(!compressible(StatusCode::OK, &no_length, 5_000));
    }

    #[test]
    fn etags_and_vary_as_cloudfront_converts_them() {
        let mut h = headers(&[("etag", "\"abc\""), ("vary", "Origin")]);
        weaken_etag(&mut h);
        add_vary_accept_encoding(&mut h);
        assert_eq!(h["etag"], "W/\"abc\"");
        let vary: Vec<_> = h.get_all("vary").iter().collect();
        assert_eq!(vary, ["Origin", "Accept-Encoding"]);
        let mut h = headers(&[("etag", "W/\"abc\""), ("vary", "accept-encoding")]);
        weaken_etag(&mut h);
        add_vary_accept_encoding(&mut h);
        assert_eq!(h["etag"], "W/\"abc\"");
        assert_eq!(h.get_all("vary").iter().count(), 1);
        let mut h = headers(&[("etag", "abc")]);
        weaken_etag(&mut h);
        assert!(!h.contains_key("etag"));
    }

    #[test]
    fn both_codings_round_trip() {
        use std::io::Read;
        let text = "hello edge ".repeat(500);
        let gz = encode(text.as_bytes(), Coding::Gzip).unwrap();
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        let br = encode(text.as_bytes(), Coding::Brotli).unwrap();
        let mut back = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert!(br.len() < text.len() / 10 && gz.len() < text.len() / 10);
    }
}
