//! The request driver: one linear path per viewer request (stage matrix:
//! docs/cloudfront-behaviour.md: "Which stages run")
//!
//! ```text
//! viewer ─▶ behavior ─▶ [viewer-request] ─┬─ generated ──────────────────────────────────────▶ viewer
//!                                         └─▶ cache ─┬─ fresh / stale+swr ───────────────┐
//!                                                    └─ miss ─▶ collapse ─▶ [origin-request] ─┬─ generated ─▶ store ─┤
//!                                                                          └─▶ origin ─▶ [origin-response] ─▶ store ─┤
//!                                                           viewer ◀── [viewer-response] (status < 400) ◀─────────────┘
//! ```
//!
//! Every failure returns an `EdgeError` to `Worker::serve`, the one funnel that turns it into
//! CloudFront's error page and writes the one access-log line. A `Worker` lives on one thread
//! (thread-per-core), shared by `Rc`; its function runner and isolates live there too.

mod hooks;
pub mod metrics;

use crate::cache::Cache;
use crate::cache::{policy, primary_key, Join, Stored};
use crate::config::{Behavior, Distribution, NodeConfig, NodeSettings, Protocol};
use crate::error::EdgeError;
use crate::http::body::EdgeBody;
use crate::http::ids;
use crate::http::respond::{Identity, XCache, X_CACHE};
use crate::js::{Runner, Watchdog};
use crate::lambda::event::FnResponse;
use crate::lambda::Stage;
use crate::origin::{OriginBody, OriginClients, OriginResponse};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// State shared by every worker thread of a node.
pub struct NodeShared {
    /// Distributions, behaviors and functions: swapped whole by `server::NodeHandle::apply`.
    pub config: ArcSwap<NodeConfig>,
    /// This node's own settings, fixed for its life.
    pub node: NodeSettings,
    pub cache: Cache,
    pub identity: Identity,
    pub watchdog: Watchdog,
    /// Function invocations in flight on the node (for throttling).
    pub inflight: Arc<AtomicUsize>,
    /// The geo databases; swapped whole when they are reloaded.
    pub geo: arc_swap::ArcSwapOption<crate::geo::GeoDb>,
    /// Stage counts and times of every worker.
    pub metrics: metrics::Metrics,
}

impl NodeShared {
    /// Drops cached objects matching `paths` (CloudFront's invalidation rules) in the
    /// distribution with Id `distribution`, or in all; `None` when no distribution has that Id.
    pub fn invalidate(&self, distribution: Option<&str>, paths: &[String]) -> Option<usize> {
        let config = self.config.load();
        let mut matched = false;
        let mut dropped = 0;
        for d in config
            .distributions
            .iter()
            .filter(|d| distribution.is_none_or(|id| id == d.id))
        {
            matched = true;
            dropped += self.cache.invalidate(d.index, paths);
        }
        matched.then_some(dropped)
    }

    pub fn new(config: NodeConfig, geo: Option<crate::geo::GeoDb>) -> NodeShared {
        NodeShared {
            geo: arc_swap::ArcSwapOption::from(geo.map(Arc::new)),
            cache: Cache::new(config.node.cache_bytes),
            identity: Identity::new(&config.node.pop),
            node: config.node.clone(),
            config: ArcSwap::from_pointee(config),
            watchdog: Watchdog::start(),
            inflight: Arc::new(AtomicUsize::new(0)),
            metrics: metrics::Metrics::default(),
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub peer: SocketAddr,
    pub protocol: Protocol,
    /// The viewer's IP: the peer's, unless a trusted proxy or (dev mode) the request names one.
    pub viewer: std::net::IpAddr,
}

/// One worker thread's request handler.
pub struct Worker {
    pub shared: Arc<NodeShared>,
    clients: OriginClients,
    runner: Runner,
    /// Configurations replaced while requests may still run on them.
    retired: RefCell<Vec<Arc<NodeConfig>>>,
    current: RefCell<Option<Arc<NodeConfig>>>,
    /// Loaded but not yet swapped in: its isolates must survive a collection meanwhile.
    pending: RefCell<Option<Arc<NodeConfig>>>,
    key_buf: RefCell<String>,
    variant_buf: RefCell<String>,
    /// This worker's stage counters (part of `shared.metrics`).
    stages: Arc<metrics::StageCounters>,
}

/// Stage durations for `Server-Timing`, when enabled.
#[derive(Default)]
pub(crate) struct Timing(RefCell<Vec<(&'static str, Duration)>>);

impl Timing {
    pub(crate) fn add(&self, name: &'static str, d: Duration) {
        self.0.borrow_mut().push((name, d));
    }

    fn header(&self) -> Option<HeaderValue> {
        let parts: Vec<String> = self
            .0
            .borrow()
            .iter()
            .map(|(n, d)| format!("{n};dur={:.3}", d.as_secs_f64() * 1000.0))
            .collect();
        HeaderValue::from_str(&parts.join(", ")).ok()
    }
}

/// The request as the cache and origin stages see it (after any viewer-request function).
pub(crate) struct Viewer<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub version: Version,
    pub conn: Conn,
    pub request_id: &'a str,
    pub timing: Option<&'a Timing>,
}

/// A response on its way out, with what decides whether viewer-response runs.
pub(crate) struct Answer {
    resp: Response<EdgeBody>,
    /// Generated at viewer-request: no viewer-response function (docs/cloudfront-behaviour.md:
    /// "Which stages run").
    generated_at_viewer: bool,
}

impl From<Response<EdgeBody>> for Answer {
    fn from(resp: Response<EdgeBody>) -> Answer {
        Answer {
            resp,
            generated_at_viewer: false,
        }
    }
}

impl Worker {
    pub fn new(shared: Arc<NodeShared>, workers: usize) -> Worker {
        let clients = OriginClients::new(workers);
        let settings = &shared.node.functions;
        let runner = Runner::new(
            settings.limits.clone(),
            shared.watchdog.clone(),
            shared.inflight.clone(),
            &shared.node.pop,
        );
        Worker {
            stages: shared.metrics.worker(),
            shared,
            clients,
            runner,
            retired: RefCell::new(Vec::new()),
            current: RefCell::new(None),
            pending: RefCell::new(None),
            key_buf: RefCell::new(String::with_capacity(256)),
            variant_buf: RefCell::new(String::with_capacity(256)),
        }
    }

    /// Creates and warms this worker's isolates for every function `config` associates.
    pub async fn load_functions(&self, config: &Arc<NodeConfig>) -> Result<(), String> {
        *self.pending.borrow_mut() = Some(config.clone());
        for code in config.functions() {
            self.runner.load(&code).await?;
        }
        Ok(())
    }

    /// Marks the isolates of functions `current` no longer associates for removal once no
    /// request still runs on `retired` (the configuration it replaced).
    pub fn retire(&self, current: Arc<NodeConfig>, retired: Arc<NodeConfig>) {
        self.retired.borrow_mut().push(retired);
        if self
            .pending
            .borrow()
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &current))
        {
            *self.pending.borrow_mut() = None;
        }
        *self.current.borrow_mut() = Some(current);
        self.collect_retired();
    }

    /// Records a stage's duration in the metrics, and for Server-Timing when it was asked for.
    pub(crate) fn observe(&self, timing: Option<&Timing>, stage: &'static str, d: Duration) {
        self.stages.record(stage, d);
        if let Some(t) = timing {
            t.add(stage, d);
        }
    }

    /// Replaces every isolate of this worker with a fresh one; how many were created.
    pub async fn recycle_isolates(&self) -> Result<usize, String> {
        self.runner.recycle().await
    }

    /// Drops isolates no configuration in use needs any more.
    pub fn collect_retired(&self) {
        let mut retired = self.retired.borrow_mut();
        // Held only here (and not by any request): nothing can invoke its functions again.
        retired.retain(|c| Arc::strong_count(c) > 1);
        let Some(current) = self.current.borrow().clone() else {
            return;
        };
        let mut keep: Vec<String> = current.functions().iter().map(|c| c.key()).collect();
        let pending = self.pending.borrow();
        for c in retired.iter().chain(pending.iter()) {
            keep.extend(c.functions().iter().map(|f| f.key()));
        }
        if self.runner.loaded().iter().any(|k| !keep.contains(k)) {
            self.runner.retain(&keep);
        }
    }

    /// Serves one viewer request: the only place errors become responses and logs are written.
    pub async fn serve(
        self: Rc<Self>,
        req: Request<Incoming>,
        mut conn: Conn,
    ) -> Result<Response<EdgeBody>, Infallible> {
        let start = Instant::now();
        conn.viewer = viewer_ip(&self.shared.node, conn.peer.ip(), req.headers());
        let request_id = ids::request_id();
        let (parts, body) = req.into_parts();
        let timing = self
            .shared
            .node
            .functions
            .server_timing
            .then(Timing::default);
        let mut resp = match self
            .drive(&parts, body, conn, &request_id, timing.as_ref())
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(request_id = %request_id, error = %e, "request failed");
                self.shared.identity.error_response(
                    e.status_code(),
                    &e.page_text(),
                    e.x_cache(),
                    &request_id,
                    parts.version,
                )
            }
        };
        self.stages.record("request", start.elapsed());
        if let Some(v) = timing.as_ref().and_then(Timing::header) {
            resp.headers_mut()
                .insert(http::header::HeaderName::from_static("server-timing"), v);
        }
        // A simulated distance to the viewer: the request and the answer cross it once each.
        let rtt = self.shared.node.viewer_rtt;
        if !rtt.is_zero() {
            tokio::time::sleep(rtt).await;
        }
        if self.shared.node.access_log {
            let x_cache = resp
                .headers()
                .get(&X_CACHE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info!(
                target: "edge::access",
                method = %parts.method,
                path = parts.uri.path(),
                status = resp.status().as_u16(),
                x_cache,
                duration_us = start.elapsed().as_micros() as u64,
                request_id = %request_id,
                pop = %self.shared.identity.pop_name,
            );
        }
        Ok(resp)
    }

    async fn drive(
        &self,
        parts: &Parts,
        body: Incoming,
        conn: Conn,
        request_id: &str,
        timing: Option<&Timing>,
    ) -> Result<Response<EdgeBody>, EdgeError> {
        let config = self.shared.config.load_full();
        let dist = distribution_for(&config, parts)?;
        let behavior = dist.behavior_for(parts.uri.path());
        if !behavior.allowed_methods.contains(&parts.method) {
            return Err(EdgeError::MethodNotAllowed(parts.method.to_string()));
        }
        let mut body = read_body(
            body,
            &parts.headers,
            self.shared.node.max_request_body_bytes,
        )
        .await?;
        let mut viewer = Viewer {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            version: parts.version,
            conn,
            request_id,
            timing,
        };

        // viewer-request: may rewrite the request (and so the cache key) or answer itself.
        let mut rewritten = None;
        if let Some(assoc) = behavior.function(Stage::ViewerRequest) {
            match self.viewer_request(dist, assoc, &viewer, body).await? {
                hooks::ViewerRequest::Respond(answer) => return Ok(answer.resp),
                hooks::ViewerRequest::Continue {
                    uri,
                    headers,
                    body: b,
                } => {
                    rewritten = Some((uri, headers));
                    body = b;
                }
            }
        }
        // CloudFront adds its viewer headers after viewer-request; those in the cache key now.
        if !behavior.cloudfront_key_headers.is_empty() {
            let (uri, headers) = rewritten
                .take()
                .unwrap_or_else(|| (parts.uri.clone(), parts.headers.clone()));
            let headers = self.with_cloudfront_headers(
                &headers,
                &behavior.cloudfront_key_headers,
                conn,
                parts.version,
            );
            rewritten = Some((uri, headers));
        }
        if let Some((uri, headers)) = &rewritten {
            viewer.uri = uri;
            viewer.headers = headers;
        }
        let answer = if behavior.cached_methods.contains(&parts.method) {
            self.cached(dist, behavior, &viewer).await?
        } else {
            self.pass(dist, behavior, &viewer, body).await?
        };
        // viewer-response: on every answer but generated ones and origin errors.
        match behavior.function(Stage::ViewerResponse) {
            Some(assoc) if !answer.generated_at_viewer && answer.resp.status().as_u16() < 400 => {
                self.viewer_response(
                    dist,
                    assoc,
                    &viewer,
                    answer.resp,
                    &behavior.cloudfront_forward_headers,
                )
                .await
            }
            _ => Ok(answer.resp),
        }
    }

    /// `headers` plus the CloudFront-* headers `names` (docs/cloudfront-behaviour.md: "Viewer
    /// headers").
    pub(crate) fn with_cloudfront_headers(
        &self,
        headers: &HeaderMap,
        names: &[http::HeaderName],
        conn: Conn,
        version: Version,
    ) -> HeaderMap {
        let mut out = headers.clone();
        let facts = crate::geo::headers::ViewerFacts {
            ip: conn.viewer,
            port: conn.peer.port(),
            protocol: conn.protocol,
            version,
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
        };
        let geo = self.shared.geo.load();
        crate::geo::headers::add(&mut out, names, geo.as_deref(), &facts);
        out
    }

    /// A cacheable request: answer from the cache, or fill it (one leader per key).
    async fn cached(
        &self,
        dist: &Arc<Distribution>,
        behavior: &Behavior,
        v: &Viewer<'_>,
    ) -> Result<Answer, EdgeError> {
        let lookup_start = Instant::now();
        let found = {
            let mut key = self.key_buf.borrow_mut();
            primary_key(&mut key, dist.index, behavior, v.method, v.uri, v.headers);
            let found =
                self.shared
                    .cache
                    .lookup(&key, v.headers, &mut self.variant_buf.borrow_mut());
            if let Some(obj) = &found {
                if obj.is_fresh(Instant::now()) {
                    self.observe(v.timing, "cache", lookup_start.elapsed());
                    return Ok(self.cached_answer(obj, XCache::Hit, v).into());
                }
            }
            found.map(|obj| (obj, Box::<str>::from(key.as_str())))
        };
        self.observe(v.timing, "cache", lookup_start.elapsed());
        let (mut stale, key) = match found {
            Some((obj, key)) => (Some(obj), key),
            None => (None, Box::from(self.key_buf.borrow().as_str())),
        };
        if let Some(obj) = &stale {
            if obj.within_stale_while_revalidate(Instant::now()) {
                if let Join::Leader(guard) = self.shared.cache.flights.join(&key) {
                    self.spawn_revalidation(dist, behavior, v, key, obj.clone(), guard);
                }
                return Ok(self.cached_answer(obj, XCache::Hit, v).into());
            }
        }
        let mut followed = false;
        loop {
            match self.shared.cache.flights.join(&key) {
                Join::Follower(flight) if !followed => {
                    flight.wait().await;
                    followed = true;
                    stale = self.shared.cache.lookup(
                        &key,
                        v.headers,
                        &mut self.variant_buf.borrow_mut(),
                    );
                    if let Some(obj) = &stale {
                        if obj.is_fresh(Instant::now()) {
                            return Ok(self.cached_answer(obj, XCache::Hit, v).into());
                        }
                    }
                }
                Join::Follower(_) => return self.fill(dist, behavior, v, &key, stale).await,
                Join::Leader(_guard) => return self.fill(dist, behavior, v, &key, stale).await,
            }
        }
    }

    fn spawn_revalidation(
        &self,
        dist: &Arc<Distribution>,
        behavior: &Behavior,
        v: &Viewer<'_>,
        key: Box<str>,
        stale: Arc<Stored>,
        guard: crate::cache::FlightGuard,
    ) {
        let Some(worker) = WORKER.with(|w| w.borrow().as_ref().and_then(|w| w.upgrade())) else {
            return;
        };
        let dist = dist.clone();
        let index = dist
            .behaviors
            .iter()
            .position(|b| std::ptr::eq(b, behavior))
            .unwrap_or(0);
        let (method, uri, headers) = (v.method.clone(), v.uri.clone(), v.headers.clone());
        let (version, conn, request_id) = (v.version, v.conn, ids::request_id());
        tokio::task::spawn_local(async move {
            let _guard = guard;
            let v = Viewer {
                method: &method,
                uri: &uri,
                headers: &headers,
                version,
                conn,
                request_id: &request_id,
                timing: None,
            };
            if let Err(e) = worker
                .fill(&dist, &dist.behaviors[index], &v, &key, Some(stale))
                .await
            {
                tracing::warn!(error = %e, "background revalidation failed");
            }
        });
    }

    /// Goes to the origin for a cacheable request, stores what may be stored, and answers.
    async fn fill(
        &self,
        dist: &Distribution,
        behavior: &Behavior,
        v: &Viewer<'_>,
        key: &str,
        stale: Option<Arc<Stored>>,
    ) -> Result<Answer, EdgeError> {
        // A HEAD miss fetches the whole object so the cache can answer later GETs too.
        let method = if v.method == Method::HEAD {
            Method::GET
        } else {
            v.method.clone()
        };
        let validators = stale.as_ref().filter(|s| s.has_validators());
        let now = Instant::now();
        let exchange = match self
            .exchange(
                dist,
                behavior,
                v,
                &method,
                Bytes::new(),
                true,
                validators.map(|s| &**s),
            )
            .await
        {
            Ok(x) => x,
            Err(e) => {
                return match stale.filter(|s| e.is_origin_failure() && s.within_stale_if_error(now))
                {
                    Some(s) => {
                        tracing::info!(request_id = %v.request_id, error = %e, "serving stale object");
                        Ok(self.cached_answer(&s, XCache::Hit, v).into())
                    }
                    None => Err(e),
                };
            }
        };
        let cache = &self.shared.cache;
        let (mut op, body, initial_age, x_cache) = match exchange {
            hooks::Exchange::Generated(g) => {
                let (op, body) = generated_parts(g);
                (
                    op,
                    OriginBody::Full(body),
                    Duration::ZERO,
                    XCache::LambdaGenerated,
                )
            }
            hooks::Exchange::Origin(OriginResponse { parts: op, body }, initial_age) => {
                (op, body, initial_age, XCache::Miss)
            }
        };
        if let (StatusCode::NOT_MODIFIED, Some(s)) = (op.status, validators) {
            let mut merged = s.refreshed(&op.headers, s.freshness, initial_age);
            match policy::decide(
                merged.status,
                v.headers,
                &merged.headers,
                &behavior.ttl,
                dist.error_caching_min_ttl,
                SystemTime::now(),
            ) {
                Ok(f) => merged.freshness = f,
                Err(_) => merged.freshness.ttl = Duration::ZERO,
            }
            let stored = cache.store(key, v.headers, merged);
            return Ok(self.cached_answer(&stored, XCache::RefreshHit, v).into());
        }
        if op.status.is_server_error() {
            if let Some(s) = stale
                .as_ref()
                .filter(|s| s.within_stale_if_error(Instant::now()))
            {
                return Ok(self.cached_answer(s, XCache::Hit, v).into());
            }
        }
        let bytes = match body {
            OriginBody::TooBig { prefix, rest } => {
                cache.remove(key);
                return Ok(self.streamed(op, prefix, rest, behavior, v).into());
            }
            OriginBody::Full(b) => b,
        };
        match policy::decide(
            op.status,
            v.headers,
            &op.headers,
            &behavior.ttl,
            dist.error_caching_min_ttl,
            SystemTime::now(),
        ) {
            Ok(freshness) => {
                op.headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                let stored = cache.store(
                    key,
                    v.headers,
                    Stored {
                        status: op.status,
                        headers: op.headers,
                        body: bytes,
                        stored_at: Instant::now(),
                        initial_age,
                        freshness,
                    },
                );
                Ok(self.cached_answer(&stored, x_cache, v).into())
            }
            Err(reason) => {
                tracing::debug!(request_id = %v.request_id, reason = reason.as_str(), "not stored");
                if stale.is_some() {
                    cache.remove(key);
                }
                Ok(self.direct(op, bytes, x_cache, v).into())
            }
        }
    }

    /// A request the behavior does not cache: forward it, and after an unsafe method that
    /// succeeded drop what the cache holds for its URI (RFC 9111 §4.4).
    async fn pass(
        &self,
        dist: &Distribution,
        behavior: &Behavior,
        v: &Viewer<'_>,
        body: Bytes,
    ) -> Result<Answer, EdgeError> {
        let (op, body, x_cache) = match self
            .exchange(dist, behavior, v, v.method, body, false, None)
            .await?
        {
            hooks::Exchange::Generated(g) => {
                let (op, body) = generated_parts(g);
                (op, OriginBody::Full(body), XCache::LambdaGenerated)
            }
            hooks::Exchange::Origin(OriginResponse { parts, body }, _) => {
                (parts, body, XCache::Miss)
            }
        };
        let unsafe_method = !matches!(*v.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && (op.status.is_success() || op.status.is_redirection()) {
            let mut key = String::new();
            primary_key(
                &mut key,
                dist.index,
                behavior,
                &Method::GET,
                v.uri,
                v.headers,
            );
            self.shared.cache.remove(&key);
        }
        Ok(match body {
            OriginBody::Full(b) => self.direct(op, b, x_cache, v),
            OriginBody::TooBig { prefix, rest } => self.streamed(op, prefix, rest, behavior, v),
        }
        .into())
    }

    /// Answers from a stored object, honouring the viewer's conditional headers and HEAD.
    fn cached_answer(&self, obj: &Stored, x_cache: XCache, v: &Viewer<'_>) -> Response<EdgeBody> {
        let not_modified = obj.status == StatusCode::OK && not_modified(v.headers, obj);
        let mut headers = obj.headers.clone();
        if !matches!(x_cache, XCache::Miss | XCache::LambdaGenerated) {
            headers.insert(
                header::AGE,
                HeaderValue::from(obj.age(Instant::now()).as_secs()),
            );
        }
        self.shared.identity.stamp(
            &mut headers,
            x_cache.for_status(obj.status),
            v.request_id,
            v.version,
        );
        let (status, body) = if not_modified {
            headers.remove(header::CONTENT_LENGTH);
            (StatusCode::NOT_MODIFIED, EdgeBody::empty())
        } else if v.method == Method::HEAD {
            (obj.status, EdgeBody::empty())
        } else {
            (obj.status, EdgeBody::full(obj.body.clone()))
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        *resp.headers_mut() = headers;
        resp
    }

    /// Answers with an origin (or function) response that was not stored.
    fn direct(
        &self,
        op: http::response::Parts,
        body: Bytes,
        x_cache: XCache,
        v: &Viewer<'_>,
    ) -> Response<EdgeBody> {
        let mut resp = Response::from_parts(
            op,
            EdgeBody::full(if v.method == Method::HEAD {
                Bytes::new()
            } else {
                body
            }),
        );
        let status = resp.status();
        self.shared.identity.stamp(
            resp.headers_mut(),
            x_cache.for_status(status),
            v.request_id,
            v.version,
        );
        resp
    }

    /// Answers with an object too large to cache, streaming the rest from the origin.
    fn streamed(
        &self,
        op: http::response::Parts,
        prefix: Bytes,
        rest: Incoming,
        behavior: &Behavior,
        v: &Viewer<'_>,
    ) -> Response<EdgeBody> {
        let mut resp = Response::from_parts(
            op,
            EdgeBody::streaming(prefix, rest, behavior.origin.read_timeout),
        );
        let status = resp.status();
        self.shared.identity.stamp(
            resp.headers_mut(),
            XCache::Miss.for_status(status),
            v.request_id,
            v.version,
        );
        resp
    }
}

/// A function-generated response as origin-response parts and body.
fn generated_parts(g: FnResponse) -> (http::response::Parts, Bytes) {
    let mut resp = Response::new(());
    *resp.status_mut() = g.status;
    *resp.headers_mut() = g.headers;
    let body = g.body.unwrap_or_default();
    let (parts, ()) = resp.into_parts();
    (parts, body)
}

thread_local! {
    /// This thread's worker, for tasks spawned from a request (background revalidation).
    pub(crate) static WORKER: RefCell<Option<std::rc::Weak<Worker>>> = const { RefCell::new(None) };
}

static X_EDGE_VIEWER_IP: http::header::HeaderName =
    http::header::HeaderName::from_static("x-edge-viewer-ip");

/// The viewer's IP (docs/cloudfront-behaviour.md: "Viewer headers"): in dev mode `X-Edge-Viewer-Ip`
/// or the configured default; behind a trusted proxy the nearest untrusted `X-Forwarded-For` entry;
/// else the peer.
fn viewer_ip(node: &NodeSettings, peer: std::net::IpAddr, headers: &HeaderMap) -> std::net::IpAddr {
    if node.dev {
        if let Some(ip) = headers
            .get(&X_EDGE_VIEWER_IP)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    let trusted = |ip: &std::net::IpAddr| node.trusted_proxies.iter().any(|n| n.contains(ip));
    if trusted(&peer) {
        let chain: Vec<std::net::IpAddr> = headers
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

/// The distribution whose domain or alias is the request's host, else the first one.
fn distribution_for<'c>(
    config: &'c NodeConfig,
    parts: &Parts,
) -> Result<&'c Arc<Distribution>, EdgeError> {
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
    if config.distributions.len() > 1 {
        if let Some(d) = config.distributions.iter().find(|d| {
            d.domain_name.eq_ignore_ascii_case(host)
                || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(host))
        }) {
            return Ok(d);
        }
    }
    config
        .distributions
        .first()
        .ok_or_else(|| EdgeError::UnknownHost(host.to_string()))
}

fn strip_port(host: &str) -> &str {
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
async fn read_body(body: Incoming, headers: &HeaderMap, limit: usize) -> Result<Bytes, EdgeError> {
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

/// RFC 9110 §13.1.2–13.1.3 evaluated against a stored 200.
fn not_modified(req: &HeaderMap, obj: &Stored) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let Some(etag) = obj.etag().and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let weak = |t: &str| t.trim().trim_start_matches("W/").to_string();
        return inm.trim() == "*" || inm.split(',').any(|t| weak(t) == weak(etag));
    }
    if let Some(ims) = req
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
    {
        let since = httpdate::parse_http_date(ims).ok();
        let lm = obj
            .last_modified()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        return matches!((since, lm), (Some(s), Some(l)) if l <= s);
    }
    false
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

    /// A collection between loading a new configuration and swapping it in must not drop the
    /// new configuration's isolates (found by the publish benchmark: a request right after a
    /// change failed with "not loaded").
    #[test]
    fn a_collection_while_a_change_is_pending_keeps_its_isolates() {
        use crate::config::{add_function, from_origin_url};
        use crate::js::FunctionCode;
        use crate::lambda::Stage;
        use std::sync::Arc;
        let with = |v: u64| {
            let mut c = from_origin_url("http://127.0.0.1:9").unwrap();
            let code = FunctionCode::new(
                "f",
                v,
                "f.js",
                format!("exports.handler = async (e) => e.Records[0].cf.response; // {v}"),
            );
            add_function(&mut c, Stage::ViewerResponse, Arc::new(code), false).unwrap();
            Arc::new(c)
        };
        let (one, two) = (with(1), with(2));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let shared = Arc::new(super::NodeShared::new((*one).clone(), None));
            let w = super::Worker::new(shared, 1);
            w.load_functions(&one).await.unwrap();
            w.retire(one.clone(), Arc::new((*one).clone()));
            w.load_functions(&two).await.unwrap();
            w.collect_retired();
            let key = two.functions()[0].key();
            assert!(w.runner.loaded().contains(&key), "pending version dropped");
            w.retire(two.clone(), one.clone());
            drop(one);
            w.collect_retired();
            assert_eq!(w.runner.loaded(), vec![key]);
        });
    }
}
