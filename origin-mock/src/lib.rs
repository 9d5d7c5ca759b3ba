//! A mock origin whose answers are shaped by query parameters, so tests and demos can make an
//! origin send any caching headers, latency or failure (`headers=Name:Value|…` adds any
//! response headers):
//!
//! - `GET /bytes/N`: N deterministic bytes; `/echo` and `/echo/*`: JSON of the request received;
//!   files under `--root`; any other path: a short text body.
//! - `GET /__stats` → `{"total": N, "paths": {"/p": N}}`; `POST /__stats/reset`.
//! - On any path: `cache_control`, `cdn_cache_control`, `expires`, `etag`, `last_modified`
//!   (with real 304s to If-None-Match / If-Modified-Since), `vary`, `age`, `status`, `delay_ms`,
//!   `size`, `set_cookie`, `content_type`, and `fail=reset|hang`.
//! - Every answer carries `X-Origin-Request: N`, the count of requests received so far.

mod s3;
pub mod tls;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How the mock origin runs.
#[derive(Debug, Clone, Default)]
pub struct OriginOptions {
    pub root: Option<PathBuf>,
    /// Act as an S3 bucket whose keys are the files under this directory (s3.rs).
    pub s3_root: Option<PathBuf>,
    /// As that bucket, answer a missing key 403 AccessDenied (no s3:ListBucket), not 404.
    pub s3_private: bool,
    /// Serve TLS (with these PEM files, or a self-signed certificate when `None`).
    pub tls: Option<(Option<String>, Option<String>)>,
}

#[derive(Default)]
struct Stats {
    total: AtomicU64,
    paths: Mutex<BTreeMap<String, u64>>,
}

struct Origin {
    root: Option<PathBuf>,
    s3: Option<(PathBuf, bool)>,
    stats: Stats,
}

/// Deterministic body bytes: the alphabet and digits, repeated.
pub fn pattern_bytes(n: usize) -> Bytes {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    Bytes::from(
        (0..n)
            .map(|i| ALPHABET[i % ALPHABET.len()])
            .collect::<Vec<u8>>(),
    )
}

/// Serves on `listener` forever.
pub async fn serve(listener: TcpListener, opts: OriginOptions) -> anyhow::Result<()> {
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tokio_rustls::TlsAcceptor::from(tls::server_config(
            cert.as_deref(),
            key.as_deref(),
        )?)),
        None => None,
    };
    let origin = Arc::new(Origin {
        root: opts.root,
        s3: opts.s3_root.map(|r| (r, opts.s3_private)),
        stats: Stats::default(),
    });
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "origin accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let origin = origin.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let origin = origin.clone();
                async move { origin.handle(req).await }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let _ = match tls {
                None => builder.serve_connection(TokioIo::new(stream), svc).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), svc).await,
                    Err(_) => return,
                },
            };
        });
    }
}

/// A failure the origin was asked to simulate; returning it closes the connection.
#[derive(Debug, thiserror::Error)]
#[error("simulated origin failure: connection reset")]
struct Reset;

type Reply = Result<Response<Full<Bytes>>, Reset>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

fn json_reply(value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Decodes `application/x-www-form-urlencoded` query parameters.
fn params(query: Option<&str>) -> BTreeMap<String, String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Query parameters that become response headers as they are.
const HEADER_PARAMS: [(&str, HeaderName); 8] = [
    ("cache_control", header::CACHE_CONTROL),
    (
        "cdn_cache_control",
        HeaderName::from_static("cdn-cache-control"),
    ),
    ("expires", header::EXPIRES),
    ("etag", header::ETAG),
    ("last_modified", header::LAST_MODIFIED),
    ("vary", header::VARY),
    ("age", header::AGE),
    ("set_cookie", header::SET_COOKIE),
];

impl Origin {
    async fn handle(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_string();
        match (req.method(), path.as_str()) {
            (&Method::GET, "/__stats") => return Ok(self.stats()),
            (&Method::POST, "/__stats/reset") => {
                self.stats.total.store(0, Ordering::SeqCst);
                self.stats
                    .paths
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
                return Ok(json_reply(json!({"reset": true})));
            }
            _ => {}
        }
        let seq = self.stats.total.fetch_add(1, Ordering::SeqCst) + 1;
        *self
            .stats
            .paths
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(path.clone())
            .or_default() += 1;

        if let Some((root, private)) = &self.s3 {
            return Ok(s3::answer(root, *private, req.method(), &path, req.headers(), seq).await);
        }
        let q = params(req.uri().query());
        if let Some(ms) = q.get("delay_ms") {
            match ms.parse::<u64>() {
                Ok(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Err(_) => {
                    return Ok(text(
                        StatusCode::BAD_REQUEST,
                        format!("delay_ms {ms:?} is not a number of milliseconds\n"),
                    ))
                }
            }
        }
        match q.get("fail").map(String::as_str) {
            Some("reset") => return Err(Reset),
            Some("hang") => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Err(Reset);
            }
            Some(other) => {
                return Ok(text(
                    StatusCode::BAD_REQUEST,
                    format!("fail={other:?}: use reset or hang\n"),
                ))
            }
            None => {}
        }
        let status = match q.get("status").map(|s| {
            s.parse::<u16>()
                .ok()
                .and_then(|n| StatusCode::from_u16(n).ok())
        }) {
            None => StatusCode::OK,
            Some(Some(s)) if s.as_u16() >= 200 => s,
            Some(_) => {
                return Ok(text(
                    StatusCode::BAD_REQUEST,
                    "status must be a number from 200 to 999\n",
                ))
            }
        };
        let mut headers = HeaderMap::new();
        // Which request this answer belongs to, so a client can tell a stored answer from a new one.
        headers.insert(
            HeaderName::from_static("x-origin-request"),
            HeaderValue::from(seq),
        );
        for (param, name) in HEADER_PARAMS.iter() {
            if let Some(v) = q.get(*param) {
                match HeaderValue::from_str(v) {
                    Ok(v) => {
                        headers.append(name.clone(), v);
                    }
                    Err(_) => {
                        return Ok(text(
                            StatusCode::BAD_REQUEST,
                            format!("{param}: not a valid header value\n"),
                        ))
                    }
                }
            }
        }
        // `headers=Name:Value|Name:Value`: any response headers.
        for pair in q.get("headers").into_iter().flat_map(|l| l.split('|')) {
            let parsed = pair.split_once(':').and_then(|(n, v)| {
                Some((
                    HeaderName::from_bytes(n.trim().as_bytes()).ok()?,
                    HeaderValue::from_str(v.trim()).ok()?,
                ))
            });
            match parsed {
                Some((n, v)) => {
                    headers.append(n, v);
                }
                None => {
                    return Ok(text(
                        StatusCode::BAD_REQUEST,
                        format!("headers: {pair:?} is not Name:Value\n"),
                    ))
                }
            }
        }
        if is_not_modified(req.headers(), &headers) {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            headers.remove(header::SET_COOKIE);
            *r.headers_mut() = headers;
            return Ok(r);
        }
        let mut resp = match self.body(req, &path, &q).await {
            Ok(r) => r,
            Err(r) => return Ok(r),
        };
        *resp.status_mut() = status;
        if let Some(ct) = q
            .get("content_type")
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            resp.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        resp.headers_mut().extend(headers);
        resp.headers_mut()
            .insert(header::SERVER, HeaderValue::from_static("edge-origin"));
        Ok(resp)
    }

    /// The body for `path`; an `Err` is a complete answer (bad input, missing file).
    #[allow(clippy::result_large_err)]
    async fn body(
        &self,
        req: Request<Incoming>,
        path: &str,
        q: &BTreeMap<String, String>,
    ) -> Result<Response<Full<Bytes>>, Response<Full<Bytes>>> {
        const MAX: usize = 1 << 30;
        let size = |s: &str| match s.parse::<usize>() {
            Ok(n) if n <= MAX => Ok(n),
            _ => Err(text(
                StatusCode::BAD_REQUEST,
                format!("size {s:?} must be a number of bytes up to {MAX}\n"),
            )),
        };
        if let Some(s) = q.get("size") {
            return Ok(octets(pattern_bytes(size(s)?)));
        }
        if let Some(n) = path.strip_prefix("/bytes/") {
            return Ok(octets(pattern_bytes(size(n)?)));
        }
        if path == "/echo" || path.starts_with("/echo/") {
            return Ok(echo(req).await);
        }
        if let Some(root) = &self.root {
            return serve_file(root, path).await;
        }
        Ok(text(
            StatusCode::OK,
            format!("origin says hello from {path}\n"),
        ))
    }

    fn stats(&self) -> Response<Full<Bytes>> {
        let paths = self
            .stats
            .paths
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        json_reply(json!({"total": self.stats.total.load(Ordering::SeqCst), "paths": paths}))
    }
}

fn octets(b: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(b));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    r
}

async fn echo(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, 16 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return text(StatusCode::PAYLOAD_TOO_LARGE, format!("body: {e}\n")),
    };
    let mut headers = serde_json::Map::new();
    for name in parts.headers.keys() {
        let joined = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        headers.insert(name.as_str().to_string(), json!(joined));
    }
    json_reply(json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

// The error side is a complete (small) answer, not an error value worth boxing.
#[allow(clippy::result_large_err)]
async fn serve_file(
    root: &Path,
    path: &str,
) -> Result<Response<Full<Bytes>>, Response<Full<Bytes>>> {
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) && !rel.as_os_str().is_empty() {
        return Err(text(StatusCode::BAD_REQUEST, "path escapes the root\n"));
    }
    let mut file = root.join(rel);
    if file.is_dir() {
        file = file.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(data) => {
            let mut r = Response::new(Full::new(Bytes::from(data)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            );
            Ok(r)
        }
        Err(_) => Err(text(StatusCode::NOT_FOUND, format!("{path} not found\n"))),
    }
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn is_not_modified(req: &HeaderMap, resp: &HeaderMap) -> bool {
    if let (Some(inm), Some(etag)) = (req.get(header::IF_NONE_MATCH), resp.get(header::ETAG)) {
        let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
        let etag = strip(etag.to_str().unwrap_or(""));
        return inm
            .to_str()
            .is_ok_and(|v| v.trim() == "*" || v.split(',').any(|t| strip(t) == etag));
    }
    if let (Some(ims), Some(lm)) = (
        req.get(header::IF_MODIFIED_SINCE),
        resp.get(header::LAST_MODIFIED),
    ) {
        let parse = |v: &HeaderValue| {
            v.to_str()
                .ok()
                .and_then(|s| httpdate::parse_http_date(s).ok())
        };
        return matches!((parse(ims), parse(lm)), (Some(since), Some(modified)) if modified <= since);
    }
    false
}

/// Binds `addr` and returns the listener with its bound address.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let a = l.local_addr()?;
    Ok((l, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let p = params(Some(
            "cache_control=max-age%3D60%2C%20public&a=b+c&bad=%zz&end=%4",
        ));
        assert_eq!(p["cache_control"], "max-age=60, public");
        assert_eq!(p["a"], "b c");
        assert_eq!(p["bad"], "%zz");
        assert_eq!(p["end"], "%4");
    }

    #[test]
    fn pattern_is_deterministic() {
        assert_eq!(
            &pattern_bytes(40)[..],
            &b"abcdefghijklmnopqrstuvwxyz0123456789abcd"[..]
        );
    }
}
