//! The load generator: N connections (HTTP/1.1 or HTTP/2, plain or TLS), closed loop (each
//! sends its next request when the last one is answered) or open loop at a constant arrival
//! rate, where every latency is measured from the request's intended send time so a stalled
//! server cannot hide its queue (no coordinated omission, as wrk2). Over HTTP/2 each
//! connection carries one request at a time, so the two protocols are compared on equal terms.

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to send and how.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub addr: SocketAddr,
    /// Path and query; `{n}` is replaced by the request's sequence number (unique URLs).
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Requests per second for an open loop; `None` for a closed loop.
    pub rate: Option<f64>,
    pub http2: bool,
    /// TLS with this client configuration (its ALPN is set per connection).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// A client TLS configuration that trusts exactly `cert_pem` (the server's self-signed
/// certificate, made by the bench), so the handshake measured is a fully verified one.
pub fn tls_trusting(cert_pem: &str) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut cert_pem.as_bytes()) {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// One connection's request sender, whichever protocol it speaks.
enum Sender {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    async fn send(
        &mut self,
        req: http::Request<Empty<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, &'static str> {
        match self {
            Sender::H1(s) => {
                s.ready().await.map_err(|_| "connection closed")?;
                s.send_request(req).await.map_err(|_| "request failed")
            }
            Sender::H2(s) => {
                s.ready().await.map_err(|_| "connection closed")?;
                s.send_request(req).await.map_err(|_| "request failed")
            }
        }
    }
}

/// What a run measured (after warm-up).
#[derive(Debug)]
pub struct LoadResult {
    pub requests: u64,
    pub elapsed: Duration,
    /// Latency in microseconds.
    pub latency: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    /// X-Cache values seen, with counts.
    pub x_cache: BTreeMap<String, u64>,
    /// Mean time per stage from `Server-Timing` (µs), when the server sends it.
    pub stages_us: BTreeMap<String, f64>,
}

impl LoadResult {
    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

struct Shared {
    next: AtomicU64,
    hist: Mutex<Histogram<u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    x_cache: Mutex<BTreeMap<String, u64>>,
    /// Sum of microseconds per stage, and how many responses reported it.
    stages: Mutex<BTreeMap<String, (f64, u64)>>,
    requests: AtomicU64,
}

/// Runs `spec` and returns what was measured after the warm-up.
pub async fn run(spec: &LoadSpec) -> LoadResult {
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        hist: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")),
        errors: Mutex::new(BTreeMap::new()),
        x_cache: Mutex::new(BTreeMap::new()),
        stages: Mutex::new(BTreeMap::new()),
        requests: AtomicU64::new(0),
    });
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let end = measure_from + spec.duration;
    let tasks: Vec<_> = (0..spec.connections.max(1))
        .map(|_| {
            tokio::spawn(connection(
                spec.clone(),
                shared.clone(),
                start,
                measure_from,
                end,
            ))
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let latency = shared.hist.lock().unwrap().clone();
    let errors = shared.errors.lock().unwrap().clone();
    let x_cache = shared.x_cache.lock().unwrap().clone();
    let requests = shared.requests.load(Ordering::Relaxed).max(1) as f64;
    // Averaged over every measured request (a stage that did not run counts as zero).
    let stages_us = shared
        .stages
        .lock()
        .unwrap()
        .iter()
        .map(|(k, (sum, _))| (k.clone(), sum / requests))
        .collect();
    LoadResult {
        stages_us,
        requests: shared.requests.load(Ordering::Relaxed),
        elapsed: spec.duration,
        latency,
        errors,
        x_cache,
    }
}

fn count(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    *map.lock().unwrap().entry(key.to_string()).or_default() += 1;
}

async fn connection(
    spec: LoadSpec,
    shared: Arc<Shared>,
    start: Instant,
    measure_from: Instant,
    end: Instant,
) {
    let mut sender: Option<Sender> = None;
    let scheme = if spec.tls.is_some() { "https" } else { "http" };
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        // Open loop: request n is due at start + n / rate; latency counts from then.
        let intended = match spec.rate {
            Some(rate) => start + Duration::from_secs_f64(n as f64 / rate),
            None => Instant::now(),
        };
        if intended >= end {
            return;
        }
        if intended > Instant::now() {
            tokio::time::sleep_until(intended.into()).await;
        }
        if sender.as_ref().is_none_or(|s| s.is_closed()) {
            sender = match connect(spec.addr, spec.http2, spec.tls.as_ref()).await {
                Ok(s) => Some(s),
                Err(kind) => {
                    if intended >= measure_from {
                        count(&shared.errors, kind);
                    }
                    continue;
                }
            };
        }
        let s = sender.as_mut().expect("connected above");
        let path = spec.path.replace("{n}", &n.to_string());
        // HTTP/2 takes :scheme and :authority from an absolute URI; HTTP/1.1 sends Host.
        let mut req = if spec.http2 {
            http::Request::get(format!("{scheme}://{}{path}", spec.addr))
        } else {
            http::Request::get(path).header(http::header::HOST, spec.addr.to_string())
        };
        for (k, v) in &spec.headers {
            req = req.header(k, v);
        }
        let req = req.body(Empty::new()).expect("valid request");
        let outcome = match s.send(req).await {
            Err(e) => Err(e),
            Ok(resp) => {
                let status = resp.status();
                let header = |name: &str| {
                    resp.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let (xc, timing) = (header("x-cache"), header("server-timing"));
                match resp.into_body().collect().await {
                    Err(_) => Err("body failed"),
                    Ok(_) if status.is_server_error() => Err("5xx"),
                    Ok(_) if status.is_client_error() => Err("4xx"),
                    Ok(_) => Ok((xc, timing)),
                }
            }
        };
        let done = Instant::now();
        if intended < measure_from {
            continue;
        }
        match outcome {
            Ok((xc, timing)) => {
                shared.requests.fetch_add(1, Ordering::Relaxed);
                if let Some(t) = timing {
                    record_stages(&shared.stages, &t);
                }
                let us = done.saturating_duration_since(intended).as_micros().max(1) as u64;
                let _ = shared.hist.lock().unwrap().record(us.min(60_000_000));
                if let Some(xc) = xc {
                    count(&shared.x_cache, &xc);
                }
            }
            Err(kind) => {
                count(&shared.errors, kind);
                sender = None;
            }
        }
    }
}

/// Adds `name;dur=MS` entries of a Server-Timing value to the per-stage sums.
fn record_stages(stages: &Mutex<BTreeMap<String, (f64, u64)>>, header: &str) {
    let mut map = stages.lock().unwrap();
    for entry in header.split(',') {
        let mut parts = entry.trim().split(';');
        let name = parts.next().unwrap_or("").trim();
        let dur = parts.find_map(|p| {
            p.trim()
                .strip_prefix("dur=")
                .and_then(|d| d.parse::<f64>().ok())
        });
        if let (false, Some(ms)) = (name.is_empty(), dur) {
            let e = map.entry(name.to_string()).or_default();
            e.0 += ms * 1000.0;
            e.1 += 1;
        }
    }
}

async fn connect(
    addr: SocketAddr,
    h2: bool,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Sender, &'static str> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|_| "connect failed")?;
    let _ = tcp.set_nodelay(true);
    match tls {
        None => handshake(tcp, h2).await,
        Some(cfg) => {
            let mut cfg = (**cfg).clone();
            cfg.alpn_protocols = vec![if h2 {
                b"h2".to_vec()
            } else {
                b"http/1.1".to_vec()
            }];
            let name = rustls::pki_types::ServerName::from(addr.ip());
            let stream = tokio_rustls::TlsConnector::from(Arc::new(cfg))
                .connect(name, tcp)
                .await
                .map_err(|_| "tls handshake failed")?;
            handshake(stream, h2).await
        }
    }
}

async fn handshake<S>(io: S, h2: bool) -> Result<Sender, &'static str>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    if h2 {
        let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|_| "handshake failed")?;
        tokio::spawn(conn);
        Ok(Sender::H2(sender))
    } else {
        let (sender, conn) = http1::handshake(io).await.map_err(|_| "handshake failed")?;
        tokio::spawn(conn);
        Ok(Sender::H1(sender))
    }
}

/// One GET on a new connection; the answer's headers.
pub async fn get_headers(url: &str) -> anyhow::Result<http::HeaderMap> {
    fetch(http::Method::GET, url).await.map(|(_, h, _)| h)
}

/// One request without a body on a new HTTP/1.1 connection: status, headers and body.
pub async fn fetch(
    method: http::Method,
    url: &str,
) -> anyhow::Result<(http::StatusCode, http::HeaderMap, Bytes)> {
    fetch_with(method, url, &[]).await
}

/// `fetch` with these request headers.
pub async fn fetch_with(
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(http::StatusCode, http::HeaderMap, Bytes)> {
    let uri: http::Uri = url.parse().map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let addr: SocketAddr = uri
        .authority()
        .map(|a| a.as_str())
        .unwrap_or("")
        .parse()
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let mut send = connect(addr, false, None)
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Empty::<Bytes>::new())?;
    let resp = send
        .send(req)
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?
        .to_bytes();
    Ok((parts.status, parts.headers, body))
}

/// The duration (µs) of stage `stage` in a Server-Timing header.
pub fn stage_us(headers: &http::HeaderMap, stage: &str) -> Option<f64> {
    let v = headers.get("server-timing")?.to_str().ok()?;
    v.split(',').find_map(|part| {
        let (name, dur) = part.trim().split_once(";dur=")?;
        (name == stage).then(|| dur.parse::<f64>().ok().map(|ms| ms * 1000.0))?
    })
}
