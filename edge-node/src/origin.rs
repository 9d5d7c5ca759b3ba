//! The origin side: one pooled hyper-util client per origin per worker thread, the request
//! CloudFront sends to a custom origin (docs/cloudfront-behaviour.md: "Requests to a custom
//! origin"), and the response read back with connect/read timeouts mapped to 502/504.

use crate::cache::{cookie_pairs, normalized_accept_encoding};
use crate::config::{Behavior, Origin, Protocol, Selection};
use crate::error::EdgeError;
use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::net::IpAddr;

pub type OriginClient = crate::http::client::HttpsClient;

/// One worker's origin clients, made on first use per origin settings (building a client does
/// no I/O) so a configuration swap can bring new origins.
pub struct OriginClients {
    workers: usize,
    clients: std::cell::RefCell<std::collections::HashMap<String, OriginClient>>,
}

impl OriginClients {
    /// `workers` divides each origin's keep-alive pool between the node's workers.
    pub fn new(workers: usize) -> OriginClients {
        OriginClients {
            workers,
            clients: Default::default(),
        }
    }

    pub fn get(&self, origin: &Origin) -> OriginClient {
        if let Some(c) = self.clients.borrow().get(&origin.client_key) {
            return c.clone();
        }
        let c = client(origin, self.workers);
        self.clients
            .borrow_mut()
            .insert(origin.client_key.clone(), c.clone());
        c
    }
}

fn client(origin: &Origin, workers: usize) -> OriginClient {
    let https =
        crate::http::client::connector(origin.verify_certificate, Some(origin.connection_timeout));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(origin.keepalive_timeout)
        .pool_max_idle_per_host(origin.keepalive_pool_size.div_ceil(workers.max(1)))
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(https)
}

/// What the request to the origin is built from.
pub struct Forward<'a> {
    pub behavior: &'a Behavior,
    pub viewer_protocol: Protocol,
    pub viewer_ip: IpAddr,
    pub request_id: &'a str,
    pub via: &'a HeaderValue,
    /// Drop the viewer's If-* headers (the cache fetches whole objects and answers them itself).
    pub strip_conditionals: bool,
    /// With tracing on, the W3C `traceparent` naming the request's span (replaces the viewer's).
    pub traceparent: Option<HeaderValue>,
}

static X_AMZ_CF_ID: HeaderName = HeaderName::from_static("x-amz-cf-id");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Headers CloudFront forwards to a custom origin whatever the policies say.
fn always_forwarded(name: &str) -> bool {
    matches!(
        name,
        "cache-control"
            | "content-type"
            | "content-encoding"
            | "content-language"
            | "content-md5"
            | "if-match"
            | "if-none-match"
            | "if-modified-since"
            | "if-unmodified-since"
            | "if-range"
            | "range"
            | "origin"
            | "pragma"
    )
}

/// Headers that never reach the origin from the viewer.
fn never_forwarded(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "expect"
            | "content-length"
            | "x-forwarded-proto"
            | "x-real-ip"
            | "x-http-method-override"
    ) || name.starts_with("x-edge-")
        || name.starts_with("x-amz-cf-")
}

/// Whether `name` is one of the headers the message's `Connection` field nominates: they
/// describe this connection only and go no further (RFC 9110 §7.6.1).
pub fn nominated(connection: &[&str], name: &str) -> bool {
    connection.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// The field names listed in `headers`' `Connection` fields.
pub fn connection_options(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

/// Builds the request CloudFront sends to the behavior's origin for a viewer request.
pub fn origin_request(
    f: &Forward<'_>,
    method: &Method,
    uri: &Uri,
    viewer: &HeaderMap,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, EdgeError> {
    let origin = &*f.behavior.origin;
    let (proto, port) = origin.endpoint(f.viewer_protocol);
    let scheme = if proto == Protocol::Https {
        "https"
    } else {
        "http"
    };
    let host = if origin.domain_name.contains(':') {
        format!("[{}]", origin.domain_name)
    } else {
        origin.domain_name.clone()
    };
    let mut target = format!(
        "{scheme}://{host}:{port}{}{}",
        origin.origin_path,
        uri.path()
    );
    forwarded_query(&mut target, f.behavior, uri.query());
    let target: Uri = target
        .parse()
        .map_err(|e| EdgeError::BadRequest(format!("bad URI: {e}")))?;

    let mut headers = HeaderMap::with_capacity(viewer.len() + 6);
    let behavior = f.behavior;
    let connection = connection_options(viewer);
    for (name, value) in viewer {
        let n = name.as_str();
        if never_forwarded(n) || nominated(&connection, n) {
            continue;
        }
        let keep = match n {
            "host" | "user-agent" | "authorization" => {
                behavior.forwards_header(n) || (n == "authorization" && !is_get_or_head(method))
            }
            "cookie" | "accept-encoding" | "via" | "x-forwarded-for" => false, // rebuilt below
            _ if n.starts_with("if-") && f.strip_conditionals => false,
            // A fill fetches the whole object; the cache answers the range from it.
            "range" if f.strip_conditionals => false,
            _ => always_forwarded(n) || behavior.forwards_header(n),
        };
        if keep {
            headers.append(name.clone(), value.clone());
        }
    }
    if !headers.contains_key(header::HOST) {
        let h = if port == default_port(proto) {
            host
        } else {
            format!("{host}:{port}")
        };
        if let Ok(v) = HeaderValue::from_str(&h) {
            headers.insert(header::HOST, v);
        }
    }
    if !headers.contains_key(header::USER_AGENT) {
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Amazon CloudFront"),
        );
    }
    let policy = &behavior.cache_policy;
    if let Some(ae) = normalized_accept_encoding(
        viewer,
        policy.accept_encoding_gzip,
        policy.accept_encoding_brotli,
    ) {
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(ae));
    } else if behavior.forwards_header("accept-encoding") {
        for v in viewer.get_all(header::ACCEPT_ENCODING) {
            headers.append(header::ACCEPT_ENCODING, v.clone());
        }
    }
    if behavior.forwards_cookies() {
        let cookies: Vec<String> = cookie_pairs(viewer)
            .filter(|(n, _)| behavior.forwards_cookie(n))
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        if !cookies.is_empty() {
            if let Ok(v) = HeaderValue::from_str(&cookies.join("; ")) {
                headers.insert(header::COOKIE, v);
            }
        }
    }
    let mut via = viewer
        .get_all(header::VIA)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    if !via.is_empty() {
        via.push_str(", ");
    }
    via.push_str(f.via.to_str().unwrap_or_default());
    if let Ok(v) = HeaderValue::from_str(&via) {
        headers.insert(header::VIA, v);
    }
    let ip = f.viewer_ip.to_string();
    let xff = match viewer.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(prev) if !prev.trim().is_empty() => format!("{prev}, {ip}"),
        _ => ip,
    };
    if let Ok(v) = HeaderValue::from_str(&xff) {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
    if let Ok(v) = HeaderValue::from_str(f.request_id) {
        headers.insert(X_AMZ_CF_ID.clone(), v);
    }
    for (n, v) in &origin.custom_headers {
        headers.insert(n.clone(), v.clone());
    }
    if let Some(tp) = &f.traceparent {
        headers.insert(HeaderName::from_static("traceparent"), tp.clone());
    }
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = method.clone();
    *req.uri_mut() = target;
    *req.headers_mut() = headers;
    Ok(req)
}

fn is_get_or_head(m: &Method) -> bool {
    m == Method::GET || m == Method::HEAD
}

pub(crate) fn default_port(p: Protocol) -> u16 {
    match p {
        Protocol::Http => 80,
        Protocol::Https => 443,
    }
}

fn forwarded_query(target: &mut String, behavior: &Behavior, query: Option<&str>) {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return;
    };
    let all = behavior.cache_policy.query_strings == Selection::All
        || behavior.origin_policy.query_strings == Selection::All;
    crate::config::append_query(target, q, all, |n| behavior.forwards_query(n));
}

/// An origin's answer with its body read (or, past the object limit, still streaming).
pub struct OriginResponse {
    pub parts: http::response::Parts,
    pub body: OriginBody,
}

pub enum OriginBody {
    Full(Bytes),
    TooBig { prefix: Bytes, rest: Incoming },
}

/// Sends `req` and reads the answer, applying the origin's timeouts.
pub async fn fetch(
    client: &OriginClient,
    origin: &Origin,
    req: Request<Full<Bytes>>,
    max_object: usize,
    head: bool,
) -> Result<OriginResponse, EdgeError> {
    let name = || format!("{}:{}", origin.domain_name, origin.http_port);
    let wait = origin.connection_timeout + origin.read_timeout;
    let resp = match tokio::time::timeout(wait, client.request(req)).await {
        Err(_) => {
            return Err(EdgeError::OriginTimeout {
                origin: name(),
                timeout_ms: origin.read_timeout.as_millis() as u64,
            })
        }
        Ok(Err(e)) => return Err(classify(e, origin, name())),
        Ok(Ok(r)) => r,
    };
    let (parts, mut incoming) = resp.into_parts();
    if head {
        return Ok(OriginResponse {
            parts,
            body: OriginBody::Full(Bytes::new()),
        });
    }
    let mut buf = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(origin.read_timeout, incoming.frame()).await {
            Err(_) => {
                return Err(EdgeError::OriginTimeout {
                    origin: name(),
                    timeout_ms: origin.read_timeout.as_millis() as u64,
                })
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(EdgeError::OriginConnect {
                    origin: name(),
                    reason: format!("body: {e}"),
                })
            }
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            if buf.len() > max_object {
                return Ok(OriginResponse {
                    parts,
                    body: OriginBody::TooBig {
                        prefix: buf.freeze(),
                        rest: incoming,
                    },
                });
            }
        }
    }
    Ok(OriginResponse {
        parts,
        body: OriginBody::Full(buf.freeze()),
    })
}

fn classify(e: hyper_util::client::legacy::Error, origin: &Origin, name: String) -> EdgeError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    let mut timed_out = false;
    while let Some(s) = source {
        let text = s.to_string();
        timed_out |= text.contains("timed out") || text.contains("timeout");
        reason = format!("{reason}: {text}");
        source = s.source();
    }
    if timed_out {
        EdgeError::OriginTimeout {
            origin: name,
            timeout_ms: origin.connection_timeout.as_millis() as u64,
        }
    } else {
        EdgeError::OriginConnect {
            origin: name,
            reason,
        }
    }
}

/// Removes what must not be stored or passed to the viewer from an origin response: hop-by-hop
/// headers, the origin's Via and Age (ours replace them) and, when cookies are not forwarded,
/// Set-Cookie (docs/cloudfront-behaviour.md: "Response headers CloudFront adds").
pub fn clean_response_headers(headers: &mut HeaderMap, behavior: &Behavior) {
    let connection: Vec<HeaderName> = connection_options(headers)
        .into_iter()
        .filter_map(|n| HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()).ok())
        .collect();
    for name in connection {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::TRAILER,
        header::UPGRADE,
        header::VIA,
        header::AGE,
        header::PROXY_AUTHENTICATE,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    if !behavior.forwards_cookies() {
        headers.remove(header::SET_COOKIE);
    }
}
