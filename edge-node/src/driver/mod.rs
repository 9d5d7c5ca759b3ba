//! The request driver: one linear path per viewer request, one module per stage, one owned
//! `RequestCtx` passed down (stage matrix: docs/cloudfront-behaviour.md: "Which stages run";
//! the path in prose: docs/request-path.md).
//!
//! ```text
//! serve (the funnel: errors → error page, access log)
//!  └ drive
//!     ├ viewer_request ──── generated ───────────────────────────────────────────────▶ viewer
//!     ├ cacheable: lookup ─┬─ fresh / stale within stale-while-revalidate ─────────┐
//!     │                    └─ miss ─▶ fill ─▶ exchange ─▶ store ───────────────────┤
//!     ├ pass ───────────────────────────────▶ exchange ─────────────────────────────┤
//!     │     exchange = origin_request ─┬─ generated ──────────────────────────┐    │
//!     │                                └─▶ fetch ─▶ origin_response ──────────┘    │
//!     └ viewer_response (status < 400) ◀────────────────────────────────────────────┘
//! ```
//!
//! Every stage returns its result; every failure is an `EdgeError` that reaches `serve`, the
//! one funnel that turns it into CloudFront's error page and writes the one access-log line.
//! Every answer is built by `Worker::reply` (respond.rs). A `Worker` lives on one thread
//! (thread-per-core), shared by `Rc`; its function runner and isolates live there too.

mod compress;
mod context;
mod error_page;
mod fetch;
mod functions;
mod lifecycle;
mod lookup;
pub mod metrics;
mod origin_request;
mod origin_response;
mod respond;
mod response_headers;
mod shared;
mod store;
mod viewer_request;
mod viewer_response;

pub(crate) use context::RequestCtx;
pub use context::{Conn, TlsInfo};
pub use shared::NodeShared;

use crate::cache::{primary_key, Stored};
use crate::config::Distributions;
use crate::error::EdgeError;
use crate::http::body::EdgeBody;
use crate::http::ids;
use crate::http::respond::XCache;
use crate::js::Runner;
use crate::lambda::Stage;
use crate::origin::{OriginBody, OriginClients};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use lookup::Lookup;
use metrics::Phase;
use origin_request::{OriginRequest, ToOrigin};
use respond::To;
use std::cell::RefCell;
use std::convert::Infallible;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use viewer_request::ViewerRequest;

/// One worker thread's request handler.
pub struct Worker {
    pub shared: Arc<NodeShared>,
    clients: OriginClients,
    runner: Runner,
    /// Configurations replaced while requests may still run on them.
    retired: RefCell<Vec<Arc<Distributions>>>,
    current: RefCell<Option<Arc<Distributions>>>,
    /// Loaded but not yet swapped in: its isolates must survive a collection meanwhile.
    pending: RefCell<Option<Arc<Distributions>>>,
    key_buf: RefCell<String>,
    variant_buf: RefCell<String>,
    /// This worker's stage counters (part of `shared.metrics`).
    stages: Arc<metrics::StageCounters>,
    /// This worker's access-log buffer, when the node writes one.
    access: Option<crate::access_log::WorkerLog>,
}

/// What came back from the origin side of a request: the origin's answer after any
/// origin-response function, or an origin-request function's own answer.
pub(crate) struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: OriginBody,
    /// The age the origin reported (RFC 9111 §4.2.3); zero for a generated answer.
    pub initial_age: Duration,
    /// `Miss` for the origin's answer, `LambdaGenerated` for a function's.
    pub x_cache: XCache,
}

impl Worker {
    pub fn new(shared: Arc<NodeShared>, workers: usize) -> Worker {
        let mut runner = Runner::new(
            shared.node.functions.limits.clone(),
            shared.watchdog.clone(),
            shared.inflight.clone(),
            &shared.node.pop,
        );
        if let Some(lane) = &shared.lane {
            runner = runner.with_lane(lane.clone());
        }
        Worker {
            stages: shared.metrics.worker(),
            access: shared.access_log.as_ref().map(|l| l.worker()),
            clients: OriginClients::new(workers),
            shared,
            runner,
            retired: RefCell::new(Vec::new()),
            current: RefCell::new(None),
            pending: RefCell::new(None),
            key_buf: RefCell::new(String::with_capacity(256)),
            variant_buf: RefCell::new(String::with_capacity(256)),
        }
    }

    /// Records a phase's duration in the metrics, and for Server-Timing when it was asked for.
    pub(crate) fn observe(&self, ctx: &RequestCtx, phase: Phase, d: Duration) {
        self.stages.record(phase, d);
        if let Some(t) = &ctx.timing {
            t.add(phase, d);
        }
    }

    /// Serves one viewer request: the only place errors become responses and logs are written.
    pub async fn serve(
        self: Rc<Self>,
        req: Request<Incoming>,
        mut conn: Conn,
    ) -> Result<Response<EdgeBody>, Infallible> {
        let start = Instant::now();
        let node = &self.shared.node;
        conn.viewer = context::viewer_ip(node, conn.peer.ip(), req.headers());
        let request_id: Box<str> = ids::request_id().into();
        let (parts, body) = req.into_parts();
        let config = self.shared.config.load_full();
        let server_timing = node.functions.server_timing;
        let tracing = self.shared.tracer.is_some();
        let started = tracing.then(std::time::SystemTime::now);
        let route = match context::route(&config, &parts) {
            Ok(route) => route,
            Err(e) => {
                let to = To {
                    request_id: &request_id,
                    version: parts.version,
                    head: parts.method == Method::HEAD,
                };
                let resp = self.failed(to, &e);
                self.count(&resp);
                let asked = LoggedRequest {
                    method: &parts.method,
                    uri: &parts.uri,
                    headers: &parts.headers,
                    version: parts.version,
                    conn: &conn,
                    request_id: &request_id,
                    route: None,
                };
                self.log(&asked, &resp, start, start.elapsed(), Some(&e));
                return Ok(resp);
            }
        };
        let trace = tracing.then(|| crate::trace::TraceIds::from_headers(&parts.headers));
        let (mut parts, mut route) = (parts, route);
        let asked = context::default_root_object(&config[route.0], &mut parts);
        if asked.is_some() {
            route.1 = config[route.0].behavior_index(parts.uri.path());
        }
        let mut ctx = RequestCtx::new(
            config,
            route,
            parts,
            conn,
            request_id,
            server_timing || tracing,
        );
        ctx.trace = trace;
        ctx.viewer_uri = asked;
        let mut error = None;
        let mut resp = match self.drive(&mut ctx, body).await {
            Ok(r) => r,
            Err(e) => {
                let r = self.failed(ctx.to(), &e);
                error = Some(e);
                r
            }
        };
        // The behavior's response headers policy, on every answer it sends.
        if let Some(policy) = &ctx.behavior().response_headers {
            response_headers::apply(policy, &ctx, &mut resp, &node.pop, start);
        }
        let first_byte = start.elapsed();
        self.stages.record(Phase::Request, first_byte);
        self.count(&resp);
        if server_timing {
            if let Some(v) = ctx.timing.as_ref().and_then(context::Timing::header) {
                // After CloudFront's own metrics when a policy added them.
                resp.headers_mut()
                    .append(http::header::HeaderName::from_static("server-timing"), v);
            }
        }
        if let (Some(t), Some(ids), Some(at)) = (&self.shared.tracer, &ctx.trace, started) {
            t.record(spans(&ctx, ids, &resp, start, at));
        }
        // A simulated distance to the viewer: the request and the answer cross it once each.
        let rtt = self.shared.node.viewer_rtt;
        if !rtt.is_zero() {
            tokio::time::sleep(rtt).await;
        }
        if self.access.is_some() {
            let asked = LoggedRequest {
                method: &ctx.method,
                uri: ctx.asked_uri(),
                headers: &ctx.headers,
                version: ctx.version,
                conn: &ctx.conn,
                request_id: &ctx.request_id,
                route: Some((ctx.dist(), ctx.behavior())),
            };
            self.log(&asked, &resp, start, first_byte, error.as_ref());
        }
        Ok(resp)
    }

    /// Checks a request to a behavior that requires signed URLs or cookies; `Some(query)`: the
    /// query without the signing parameters.
    fn signed(
        &self,
        ctx: &RequestCtx,
        keys: &crate::viewer::signed::TrustedKeys,
    ) -> Result<Option<String>, EdgeError> {
        use crate::viewer::signed;
        let cookies: Vec<&str> = ctx
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let host = ctx
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| ctx.uri.authority().map(|a| a.as_str()))
            .unwrap_or("");
        let scheme = match ctx.conn.protocol {
            crate::config::Protocol::Http => "http",
            crate::config::Protocol::Https => "https",
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let request = signed::Request {
            scheme,
            host,
            path: ctx.uri.path(),
            query: ctx.uri.query(),
            cookies: &cookies,
            viewer: ctx.conn.viewer,
            now,
        };
        signed::check(keys, &request).map_err(EdgeError::SignedUrl)
    }

    /// `redirect-to-https`: 301 (307 for methods other than GET and HEAD) to the same host,
    /// path and query over HTTPS (on the node's TLS port when it has one, else 443).
    fn to_https(&self, ctx: &RequestCtx) -> Response<EdgeBody> {
        let host = ctx
            .uri
            .host()
            .or_else(|| {
                ctx.headers
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
            })
            .unwrap_or("");
        let host = context::strip_port(host);
        let port = match self.shared.https_port {
            Some(p) if p != 443 => format!(":{p}"),
            _ => String::new(),
        };
        // The URL the viewer asked for (`/`, not the DefaultRootObject it stands for).
        let pq = ctx.asked_uri().path_and_query().map_or("/", |p| p.as_str());
        let mut h = HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(&format!("https://{host}{port}{pq}")) {
            h.insert(http::header::LOCATION, v);
        }
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/html"),
        );
        let body = Bytes::from_static(b"<html>\r\n<head><title>Redirect</title></head>\r\n<body>\r\n<center><h1>Use HTTPS</h1></center>\r\n<hr><center>CloudFront</center>\r\n</body>\r\n</html>\r\n");
        h.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(body.len()),
        );
        let body = if ctx.is_head() {
            EdgeBody::empty()
        } else {
            EdgeBody::full(body)
        };
        // GET and HEAD get 301; a method with a body 307, so the viewer sends it again as it was.
        let status = if ctx.method == Method::GET || ctx.is_head() {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::TEMPORARY_REDIRECT
        };
        self.reply(ctx.to(), status, h, body, XCache::Redirect)
    }

    /// Counts an answer by its `X-Cache` result and status class.
    fn count(&self, resp: &Response<EdgeBody>) {
        let x_cache = resp.headers().get(&crate::http::respond::X_CACHE);
        self.stages
            .answered(x_cache.map(|v| v.as_bytes()), resp.status().as_u16());
    }

    /// Hands this worker's buffered access-log records to the writer.
    pub fn flush_access_log(&self) {
        if let Some(a) = &self.access {
            a.flush();
        }
    }

    /// A failed request's answer, logged with its cause.
    fn failed(&self, to: To<'_>, e: &EdgeError) -> Response<EdgeBody> {
        tracing::warn!(request_id = %to.request_id, error = %e, "request failed");
        self.reply_error(to, e)
    }

    /// The access-log record, when the node writes one.
    fn log(
        &self,
        asked: &LoggedRequest<'_>,
        resp: &Response<EdgeBody>,
        start: Instant,
        first_byte: Duration,
        error: Option<&EdgeError>,
    ) {
        let Some(access) = &self.access else {
            return;
        };
        let (domain, distribution_id, behavior) = match asked.route {
            Some((d, b)) => (
                d.domain_name.as_str(),
                d.id.as_str(),
                b.path_pattern.as_deref().unwrap_or("*"),
            ),
            None => ("-", "-", "-"),
        };
        access.write(&crate::access_log::Entry {
            pop: &self.shared.node.pop,
            method: asked.method,
            domain,
            uri: asked.uri,
            headers: asked.headers,
            version: asked.version,
            conn: asked.conn,
            request_id: asked.request_id,
            status: resp.status(),
            response_headers: resp.headers(),
            response_body: http_body::Body::size_hint(resp.body()).exact().unwrap_or(0),
            error: error.map(EdgeError::log_result),
            time_to_first_byte: first_byte,
            // The simulated viewer distance is the only wait after the first byte is ready.
            time_taken: if self.shared.node.viewer_rtt.is_zero() {
                first_byte
            } else {
                start.elapsed()
            },
            distribution_id,
            behavior,
        });
    }

    /// The stages in order.
    async fn drive(
        self: &Rc<Self>,
        ctx: &mut RequestCtx,
        body: Incoming,
    ) -> Result<Response<EdgeBody>, EdgeError> {
        // A field borrow (not a method): the stages below still rewrite the request's fields.
        let behavior = &ctx.config[ctx.dist_index].behaviors[ctx.behavior];
        // ViewerProtocolPolicy: plain HTTP is redirected or refused before anything runs.
        if ctx.conn.protocol == crate::config::Protocol::Http {
            use crate::config::ViewerProtocolPolicy as P;
            match behavior.viewer_protocol_policy {
                P::AllowAll => {}
                P::HttpsOnly => return Err(EdgeError::HttpsOnly),
                P::RedirectToHttps => return Ok(self.to_https(ctx)),
            }
        }
        // A geographic restriction refuses a viewer before anything else runs.
        if let Some(g) = &ctx.config[ctx.dist_index].geo_restriction {
            if let Some(db) = self.shared.geo.load().as_deref() {
                let country = db.lookup(ctx.conn.viewer).country;
                if g.blocks(country.as_deref()) {
                    if let Some(page) = Self::error_page_for(ctx, StatusCode::FORBIDDEN) {
                        return self.error_page(ctx, page).await;
                    }
                    return Err(EdgeError::GeoBlocked(country.unwrap_or_default()));
                }
            }
        }
        // A behavior with trusted key groups serves only signed URLs and cookies; the signing
        // parameters are not part of the request from here on (cache key, origin, functions).
        if let Some(keys) = &behavior.trusted_keys {
            if let Some(query) = self.signed(ctx, keys)? {
                ctx.uri = context::with_query(&ctx.uri, &query)?;
            }
        }
        // `OPTIONS *` asks about the server, not a resource (RFC 9110 §9.3.7): answered here
        // with what the default behavior allows; it never goes to an origin or a function.
        if ctx.method == Method::OPTIONS && ctx.uri.path() == "*" {
            let default = ctx.dist().behaviors.last().expect("a default behavior");
            let mut h = HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&default.allowed_methods.allow()) {
                h.insert(http::header::ALLOW, v);
            }
            h.insert(
                http::header::CONTENT_LENGTH,
                http::HeaderValue::from_static("0"),
            );
            return Ok(self.reply(
                ctx.to(),
                http::StatusCode::OK,
                h,
                EdgeBody::empty(),
                XCache::Miss,
            ));
        }
        if !behavior.allowed_methods.contains(&ctx.method) {
            return Err(EdgeError::MethodNotAllowed(ctx.method.to_string()));
        }
        let limit = self.shared.node.max_request_body_bytes;
        let mut body = context::read_body(body, &ctx.headers, limit).await?;
        if let Some(assoc) = behavior.function(Stage::ViewerRequest) {
            match self.viewer_request(ctx, assoc, body).await? {
                ViewerRequest::Respond(resp) => return Ok(resp),
                ViewerRequest::Continue {
                    uri,
                    headers,
                    body: b,
                    origin,
                } => {
                    let replaced = std::mem::replace(&mut ctx.uri, uri);
                    ctx.viewer_uri.get_or_insert(replaced);
                    ctx.headers = headers;
                    ctx.origin = origin;
                    body = b;
                }
            }
        }
        // CloudFront adds its viewer headers after viewer-request; those in the cache key now.
        if !behavior.cloudfront_key_headers.is_empty() {
            ctx.headers =
                self.with_cloudfront_headers(ctx, &ctx.headers, &behavior.cloudfront_key_headers);
        }
        let ctx = &*ctx;
        let resp = if behavior.cached_methods.contains(&ctx.method) {
            self.cacheable(ctx).await
        } else {
            self.pass(ctx, body).await
        };
        // An error from the origin or the cache, or an origin that could not be reached, gets
        // the distribution's custom error page for its code (error_page.rs).
        if !ctx.dist().custom_errors.is_empty() {
            let page = error_page::failed_status(&resp).and_then(|s| Self::error_page_for(ctx, s));
            if let Some(page) = page {
                if let Err(e) = &resp {
                    tracing::info!(request_id = %ctx.request_id, error = %e, "serving the custom error page");
                }
                return self.error_page(ctx, page).await;
            }
        }
        let resp = resp?;
        match behavior.function(Stage::ViewerResponse) {
            Some(assoc) if resp.status().as_u16() < 400 => {
                self.viewer_response(ctx, assoc, resp).await
            }
            _ => Ok(resp),
        }
    }

    /// A request the behavior caches: a hit, or a fill (one leader per key).
    async fn cacheable(self: &Rc<Self>, ctx: &RequestCtx) -> Result<Response<EdgeBody>, EdgeError> {
        match self.lookup(ctx).await {
            Lookup::Fresh(obj) => Ok(self.reply_cached(ctx, &obj, XCache::Hit)),
            Lookup::Revalidate { obj, key, refresh } => {
                if let Some(flight) = refresh {
                    let copy = ctx.for_revalidation();
                    self.revalidate_in_background(copy, key, obj.clone(), flight);
                }
                Ok(self.reply_cached(ctx, &obj, XCache::Hit))
            }
            Lookup::Miss {
                key,
                stale,
                flight: _flight,
            } => self.fill(ctx, &key, stale).await,
        }
    }

    /// Goes to the origin for a cacheable request and stores what may be stored; on an origin
    /// failure, serves the stale object where stale-if-error allows.
    async fn fill(
        &self,
        ctx: &RequestCtx,
        key: &str,
        stale: Option<Arc<Stored>>,
    ) -> Result<Response<EdgeBody>, EdgeError> {
        let validators = stale.as_deref().filter(|s| s.has_validators());
        match self.exchange(ctx, ToOrigin::Fill { validators }).await {
            Ok(fetched) => Ok(self.store(ctx, key, stale, fetched)),
            Err(e) => {
                let now = Instant::now();
                match stale.filter(|s| e.is_origin_failure() && s.within_stale_if_error(now)) {
                    Some(s) => {
                        tracing::info!(request_id = %ctx.request_id, error = %e, "serving stale object");
                        Ok(self.reply_cached(ctx, &s, XCache::Hit))
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// A request the behavior does not cache: forward it, and after an unsafe method that
    /// succeeded drop what the cache holds for its URI (RFC 9111 §4.4).
    async fn pass(&self, ctx: &RequestCtx, body: Bytes) -> Result<Response<EdgeBody>, EdgeError> {
        let f = self.exchange(ctx, ToOrigin::Pass { body }).await?;
        let unsafe_method = !matches!(ctx.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && (f.status.is_success() || f.status.is_redirection()) {
            let mut key = String::new();
            let behavior = ctx.behavior();
            primary_key(
                &mut key,
                ctx.dist().index,
                behavior,
                &Method::GET,
                &ctx.uri,
                &ctx.headers,
            );
            self.shared.cache.remove(&key);
        }
        let body = match f.body {
            OriginBody::Full(b) => EdgeBody::full(b),
            OriginBody::TooBig { prefix, rest } => {
                EdgeBody::streaming(prefix, rest, ctx.behavior().origin.read_timeout)
            }
        };
        Ok(self.reply(ctx.to(), f.status, f.headers, body, f.x_cache))
    }

    /// The origin side: origin-request, the fetch (again through origin-request to an origin
    /// group's secondary when the primary fails it), origin-response.
    async fn exchange(&self, ctx: &RequestCtx, to: ToOrigin<'_>) -> Result<Fetched, EdgeError> {
        let group = fetch::group(ctx);
        let again = group.as_ref().map(|_| to.clone());
        let (req, sent) = match self.origin_request(ctx, to, None).await? {
            OriginRequest::Generated(g) => return Ok(Fetched::generated(g)),
            OriginRequest::Send { req, sent } => (req, sent),
        };
        let behavior = ctx.behavior();
        let first = self.fetch(ctx, req, &behavior.origin).await;
        let (mut resp, initial_age, sent) = match (group, again) {
            (Some(g), Some(to)) if g.fails_over(&first) => {
                tracing::debug!(request_id = %ctx.request_id, "origin group: failing over to its secondary origin");
                let secondary = g.secondary(ctx.conn.protocol);
                match self.origin_request(ctx, to, Some(&secondary)).await? {
                    OriginRequest::Generated(g) => return Ok(Fetched::generated(g)),
                    OriginRequest::Send { req, sent } => {
                        let (resp, age) = self.fetch(ctx, req, g.settings).await?;
                        (resp, age, sent)
                    }
                }
            }
            _ => {
                let (resp, age) = first?;
                (resp, age, sent)
            }
        };
        if let (Some(assoc), Some(sent)) = (behavior.function(Stage::OriginResponse), sent.as_ref())
        {
            self.origin_response(ctx, assoc, sent, &mut resp).await?;
        }
        // (A HEAD that misses is filled with a GET: its body is here to compress and store.)
        if matches!(ctx.method, Method::GET | Method::HEAD) {
            if let Some(coding) = compress::coding_for(behavior, &ctx.headers) {
                compress::apply(&mut resp, coding).await;
            }
        }
        Ok(Fetched {
            status: resp.parts.status,
            headers: resp.parts.headers,
            body: resp.body,
            initial_age,
            x_cache: XCache::Miss,
        })
    }
}

impl Fetched {
    /// An origin-request function's own answer, cached like the origin's.
    fn generated(g: crate::lambda::event::FnResponse) -> Fetched {
        Fetched {
            status: g.status,
            headers: g.headers,
            body: OriginBody::Full(g.body.unwrap_or_default()),
            initial_age: Duration::ZERO,
            x_cache: XCache::LambdaGenerated,
        }
    }
}

impl Worker {
    /// `headers` plus the CloudFront-* headers `names` (docs/cloudfront-behaviour.md: "Viewer
    /// headers").
    pub(crate) fn with_cloudfront_headers(
        &self,
        ctx: &RequestCtx,
        headers: &HeaderMap,
        names: &[http::HeaderName],
    ) -> HeaderMap {
        let mut out = headers.clone();
        let geo = self.shared.geo.load();
        crate::viewer::headers::add(&mut out, names, geo.as_deref(), &viewer_facts(ctx, headers));
        out
    }

    /// The values `with_cloudfront_headers` would set on the request's headers, without
    /// touching them: what a CloudFront function's event shows (viewer::headers::Added).
    /// Those of the behavior's policy headers (viewer-request) or, `forwarded_only`, of its
    /// forwarded ones (viewer-response): the values of both are made once per request (the
    /// cache key's, then the forwarded ones), and again only for a user agent a function
    /// changed.
    pub(crate) fn cloudfront_header_values<'c>(
        &self,
        ctx: &'c RequestCtx,
        forwarded_only: bool,
    ) -> std::borrow::Cow<'c, [(http::HeaderName, http::HeaderValue)]> {
        use std::borrow::Cow;
        let behavior = ctx.behavior();
        let names = match forwarded_only {
            true => &behavior.cloudfront_forward_headers,
            false => &behavior.cloudfront_policy_headers,
        };
        if names.is_empty() {
            return Cow::Borrowed(&[]);
        }
        let make = |names: &[http::HeaderName]| {
            let geo = self.shared.geo.load();
            crate::viewer::headers::values(names, geo.as_deref(), &viewer_facts(ctx, &ctx.headers))
        };
        let user_agent = ctx.headers.get(http::header::USER_AGENT);
        let all = ctx.viewer_values.get_or_init(|| {
            let values = make(&behavior.cloudfront_policy_headers);
            let forwarded_from = values
                .iter()
                .take_while(|(n, _)| behavior.cloudfront_key_headers.contains(n))
                .count();
            context::ViewerValues {
                user_agent: user_agent.cloned(),
                values,
                forwarded_from,
            }
        });
        if all.user_agent.as_ref() != user_agent {
            Cow::Owned(make(names))
        } else if forwarded_only {
            Cow::Borrowed(&all.values[all.forwarded_from..])
        } else {
            Cow::Borrowed(&all.values)
        }
    }
}

/// The viewer as the CloudFront-* headers describe it.
fn viewer_facts<'a>(
    ctx: &RequestCtx,
    headers: &'a HeaderMap,
) -> crate::viewer::headers::ViewerFacts<'a> {
    crate::viewer::headers::ViewerFacts {
        ip: ctx.conn.viewer,
        port: ctx.conn.peer.port(),
        protocol: ctx.conn.protocol,
        version: ctx.version,
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        tls: ctx.conn.tls,
    }
}

/// The viewer's request as the access log records it.
struct LoggedRequest<'a> {
    method: &'a Method,
    uri: &'a http::Uri,
    headers: &'a HeaderMap,
    version: http::Version,
    conn: &'a Conn,
    request_id: &'a str,
    route: Option<(&'a crate::config::Distribution, &'a crate::config::Behavior)>,
}

/// One request's spans: the SERVER span of the whole request, and a child per stage that ran
/// (the origin fetch as a CLIENT span). `start`/`at` are the request's start on the monotonic
/// and the wall clock.
fn spans(
    ctx: &RequestCtx,
    ids: &crate::trace::TraceIds,
    resp: &Response<EdgeBody>,
    start: Instant,
    at: std::time::SystemTime,
) -> Vec<crate::trace::Span> {
    use crate::trace::Span;
    use serde_json::json;
    let base = at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let unix = |i: Instant| base + i.saturating_duration_since(start).as_nanos() as u64;
    let now = Instant::now();
    let behavior = ctx.behavior().path_pattern.as_deref().unwrap_or("*");
    let status = resp.status().as_u16();
    let x_cache = resp
        .headers()
        .get(&crate::http::respond::X_CACHE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut root = Span {
        trace: ids.trace,
        id: ids.span,
        parent: ids.parent,
        name: format!("{} {behavior}", ctx.method),
        kind: 2,
        start_unix_ns: base,
        end_unix_ns: unix(now),
        attributes: vec![
            ("http.request.method", json!(ctx.method.as_str())),
            ("url.path", json!(ctx.asked_uri().path())),
            ("http.route", json!(behavior)),
            ("http.response.status_code", json!(status)),
            ("cloudfront.x_cache", json!(x_cache)),
            ("cloudfront.request_id", json!(&*ctx.request_id)),
            ("cloudfront.distribution_id", json!(ctx.dist().id)),
            ("client.address", json!(ctx.conn.viewer.to_string())),
        ],
        error: status >= 500,
    };
    if let Some(q) = ctx.asked_uri().query() {
        root.attributes.push(("url.query", json!(q)));
    }
    let mut out = vec![root];
    for (phase, from, to) in ctx.timing.as_ref().map(|t| t.phases()).unwrap_or_default() {
        let kind = if phase == Phase::Origin { 3 } else { 1 };
        out.push(Span::child(ids, phase.as_str(), kind, unix(from), unix(to)));
    }
    out
}
