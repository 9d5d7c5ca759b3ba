//! The one per-request value the stages pass along: the request as they see it (after any
//! viewer-request function), where it came from, the distribution and behavior it matched,
//! and its timings. Also the helpers that build it from what the viewer sent.

use super::metrics::Phase;
use crate::config::{defaults, Behavior, Distribution, Distributions, NodeSettings, Protocol};
use crate::error::EdgeError;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Method, Uri, Version};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Where a request came from.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub peer: SocketAddr,
    pub protocol: Protocol,
    /// The viewer's IP: the peer's, unless a trusted proxy or (dev mode) the request names one.
    pub viewer: IpAddr,
    /// What TLS the viewer negotiated (HTTPS only).
    pub tls: Option<TlsInfo>,
}

/// A viewer connection's TLS version and cipher, named as CloudFront's logs name them
/// (`TLSv1.3`, OpenSSL's cipher names).
#[derive(Debug, Clone, Copy)]
pub struct TlsInfo {
    pub protocol: &'static str,
    pub cipher: &'static str,
    /// How this request's connection was set up, as `CloudFront-Viewer-TLS` says it:
    /// `fullHandshake`, `sessionResumed`, or `connectionReused` after its first request.
    pub handshake: &'static str,
}

impl TlsInfo {
    pub fn of(c: &rustls::ServerConnection) -> TlsInfo {
        use rustls::CipherSuite as C;
        let protocol = match c.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "-",
        };
        let cipher = match c.negotiated_cipher_suite().map(|s| s.suite()) {
            Some(C::TLS13_AES_128_GCM_SHA256) => "TLS_AES_128_GCM_SHA256",
            Some(C::TLS13_AES_256_GCM_SHA384) => "TLS_AES_256_GCM_SHA384",
            Some(C::TLS13_CHACHA20_POLY1305_SHA256) => "TLS_CHACHA20_POLY1305_SHA256",
            Some(C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) => "ECDHE-RSA-AES128-GCM-SHA256",
            Some(C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) => "ECDHE-RSA-AES256-GCM-SHA384",
            Some(C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256) => "ECDHE-RSA-CHACHA20-POLY1305",
            Some(C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) => "ECDHE-ECDSA-AES128-GCM-SHA256",
            Some(C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) => "ECDHE-ECDSA-AES256-GCM-SHA384",
            Some(C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) => {
                "ECDHE-ECDSA-CHACHA20-POLY1305"
            }
            _ => "-",
        };
        let handshake = match c.handshake_kind() {
            Some(rustls::HandshakeKind::Resumed) => "sessionResumed",
            _ => "fullHandshake",
        };
        TlsInfo {
            protocol,
            cipher,
            handshake,
        }
    }
}

/// One request on its way through the stages.
pub(crate) struct RequestCtx {
    /// Held for the request's life: the worker drops a replaced configuration's isolates only
    /// once no request holds it.
    pub config: Arc<Distributions>,
    /// Index of the matched distribution in `config` (no per-request reference count).
    pub(crate) dist_index: usize,
    /// Index of the matched behavior in its `behaviors`.
    pub behavior: usize,
    pub method: Method,
    /// The URI and headers as the cache and the origin see them: the viewer's, then whatever a
    /// viewer-request function returned, plus the CloudFront-* headers in the cache key.
    pub uri: Uri,
    pub headers: HeaderMap,
    /// The viewer's URI when a function replaced it (the access log records what was asked).
    pub viewer_uri: Option<Uri>,
    pub version: Version,
    pub conn: Conn,
    pub request_id: Box<str>,
    /// Stage durations for `Server-Timing` or trace spans, when the node makes either.
    pub timing: Option<Timing>,
    /// The request's trace ids, with `--otlp`.
    pub trace: Option<crate::trace::TraceIds>,
    /// The origin a CloudFront function chose at viewer-request (instead of the behavior's).
    pub origin: Option<Box<crate::cloudfront::origin::OriginChoice>>,
    /// CloudFront's viewer header values for CloudFront functions' events, made on first use
    /// (driver `cloudfront_header_values`).
    pub(crate) viewer_values: std::cell::OnceCell<ViewerValues>,
}

/// The values of every CloudFront-* header the behavior's policies name (those in the cache
/// key, then the forwarded ones from `forwarded_from`), and the user agent they were made for
/// (the device headers follow it; the rest follow the connection).
pub(crate) struct ViewerValues {
    pub user_agent: Option<http::HeaderValue>,
    pub values: Vec<(http::HeaderName, http::HeaderValue)>,
    pub forwarded_from: usize,
}

impl RequestCtx {
    /// The request as the viewer sent it, with the distribution and behavior `route` found.
    pub fn new(
        config: Arc<Distributions>,
        (dist_index, behavior): (usize, usize),
        parts: Parts,
        conn: Conn,
        request_id: Box<str>,
        timing: bool,
    ) -> RequestCtx {
        let mut headers = parts.headers;
        // CloudFront serves HTTP/1.0 viewers uncompressed: their Accept-Encoding is removed
        // (docs/cloudfront-behaviour.md: "Compression").
        if parts.version == Version::HTTP_10 {
            headers.remove(http::header::ACCEPT_ENCODING);
        }
        RequestCtx {
            config,
            dist_index,
            behavior,
            method: parts.method,
            uri: parts.uri,
            headers,
            viewer_uri: None,
            version: parts.version,
            conn,
            request_id,
            timing: timing.then(Timing::default),
            origin: None,
            trace: None,
            viewer_values: std::cell::OnceCell::new(),
        }
    }

    /// A copy for a background refresh of the same object, with its own request id.
    pub fn for_revalidation(&self) -> RequestCtx {
        RequestCtx {
            config: self.config.clone(),
            dist_index: self.dist_index,
            behavior: self.behavior,
            method: self.method.clone(),
            uri: self.uri.clone(),
            headers: self.headers.clone(),
            viewer_uri: None,
            version: self.version,
            conn: self.conn,
            request_id: crate::http::ids::request_id().into(),
            timing: None,
            trace: None,
            origin: self.origin.clone(),
            viewer_values: std::cell::OnceCell::new(),
        }
    }

    pub fn dist(&self) -> &Distribution {
        &self.config[self.dist_index]
    }

    pub fn behavior(&self) -> &Behavior {
        &self.dist().behaviors[self.behavior]
    }

    /// The URI the viewer asked for (before any rewrite).
    pub fn asked_uri(&self) -> &Uri {
        self.viewer_uri.as_ref().unwrap_or(&self.uri)
    }

    pub fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }
}

/// Stage durations (and when each ended) for `Server-Timing` and trace spans.
#[derive(Default)]
pub(crate) struct Timing(RefCell<Vec<(Phase, Duration, std::time::Instant)>>);

impl Timing {
    pub fn add(&self, phase: Phase, d: Duration) {
        self.0
            .borrow_mut()
            .push((phase, d, std::time::Instant::now()));
    }

    pub fn header(&self) -> Option<HeaderValue> {
        let parts: Vec<String> = self
            .0
            .borrow()
            .iter()
            .map(|(p, d, _)| format!("{};dur={:.3}", p.as_str(), d.as_secs_f64() * 1000.0))
            .collect();
        HeaderValue::from_str(&parts.join(", ")).ok()
    }

    /// Each phase with when it started and ended.
    pub fn phases(&self) -> Vec<(Phase, std::time::Instant, std::time::Instant)> {
        self.0
            .borrow()
            .iter()
            .map(|(p, d, end)| (*p, end.checked_sub(*d).unwrap_or(*end), *end))
            .collect()
    }
}

static X_EDGE_VIEWER_IP: http::header::HeaderName =
    http::header::HeaderName::from_static("x-edge-viewer-ip");

/// The viewer's IP (docs/cloudfront-behaviour.md: "Viewer headers"): in dev mode `X-Edge-Viewer-Ip`
/// or the configured default; behind a trusted proxy the nearest untrusted `X-Forwarded-For` entry;
/// else the peer.
pub(crate) fn viewer_ip(node: &NodeSettings, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if node.dev {
        if let Some(ip) = headers
            .get(&X_EDGE_VIEWER_IP)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    let trusted = |ip: &IpAddr| node.trusted_proxies.iter().any(|n| n.contains(ip));
    if trusted(&peer) {
        let chain: Vec<IpAddr> = headers
            .get_all(http::header::HeaderName::from_static("x-forwarded-for"))
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        if let Some(ip) = chain.iter().rev().find(|ip| !trusted(ip)) {
            return *ip;
        }
    }
    match node.viewer_ip {
        Some(ip) if node.dev => ip,
        _ => peer,
    }
}

/// The index of the distribution whose domain or alias is the request's host (else the first
/// one) and of its behavior whose path pattern matches first.
pub(crate) fn route(config: &Distributions, parts: &Parts) -> Result<(usize, usize), EdgeError> {
    // CloudFront's URL limit (docs/cloudfront-behaviour.md: "Request size limits").
    let len = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if len > defaults::MAX_URI_BYTES {
        return Err(EdgeError::UriTooLong {
            len,
            limit: defaults::MAX_URI_BYTES,
        });
    }
    // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host (none at all, or two, is a 400);
    // no request may carry two.
    let hosts = parts.headers.get_all(header::HOST).iter().count();
    if hosts > 1
        || (hosts == 0 && parts.version == Version::HTTP_11 && parts.uri.authority().is_none())
    {
        return Err(EdgeError::BadRequest(if hosts > 1 {
            "the request has more than one Host header".into()
        } else {
            "an HTTP/1.1 request needs a Host header".into()
        }));
    }
    let host = parts
        .uri
        .host()
        .or_else(|| {
            parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
        })
        .unwrap_or("");
    let host = strip_port(host);
    let named = (config.len() > 1).then(|| {
        config.iter().position(|d| {
            d.domain_name.eq_ignore_ascii_case(host)
                || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(host))
        })
    });
    let i = match named.flatten() {
        Some(i) => i,
        None if !config.is_empty() => 0,
        None => return Err(EdgeError::UnknownHost(host.to_string())),
    };
    Ok((i, config[i].behavior_index(parts.uri.path())))
}

/// The root URL (`/`, with or without a query string) becomes the distribution's
/// DefaultRootObject before anything else sees it, as CloudFront requests that object instead
/// (docs/cloudfront-behaviour.md: "DefaultRootObject"); the viewer's URI, when replaced.
pub(crate) fn default_root_object(d: &Distribution, parts: &mut Parts) -> Option<Uri> {
    let root = d.default_root_object.as_ref()?;
    if parts.uri.path() != "/" {
        return None;
    }
    let mut p = parts.uri.clone().into_parts();
    p.path_and_query = Some(match parts.uri.query() {
        None => root.clone(),
        Some(q) => format!("{}?{q}", root.as_str()).parse().ok()?,
    });
    let uri = Uri::from_parts(p).ok()?;
    Some(std::mem::replace(&mut parts.uri, uri))
}

pub(crate) fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| &h[1..]);
    }
    host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

/// Reads the viewer's body up to `limit` bytes.
pub(crate) async fn read_body(
    body: Incoming,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, EdgeError> {
    use http_body::Body as _;
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(EdgeError::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(EdgeError::BodyTooLarge { limit })
        }
        Err(e) => Err(EdgeError::BadRequest(e.to_string())),
    }
}

/// `uri` with its query replaced by `query` (none when empty), scheme and authority kept.
pub(crate) fn with_query(uri: &http::Uri, query: &str) -> Result<http::Uri, EdgeError> {
    let pq = if query.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{query}", uri.path())
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        pq.parse()
            .map_err(|e| EdgeError::BadRequest(format!("URI {pq:?}: {e}")))?,
    );
    http::Uri::from_parts(parts).map_err(|e| EdgeError::BadRequest(format!("URI: {e}")))
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("example.com"), "example.com");
        assert_eq!(strip_port("[::1]:80"), "::1");
    }
}
