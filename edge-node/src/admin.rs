//! The admin listener (a separate address from viewers): health and CloudFront-style
//! invalidation. Every route but `/__edge/health` needs `Authorization: Bearer TOKEN` (the
//! node's `--admin-token`; for an edge following a control node, the cluster's token by
//! default); without it the answer is 401.
//!
//! - `GET /__edge/health` → `{"status":"ok","pop":…,"objects":…,"bytes":…}`
//! - `POST /__edge/invalidate` with `{"paths":["/a/*","/b.html"],"distribution":"ID"?}` →
//!   `{"invalidated":N}`; a path must start with `/` and may only end in `*`.
//! - `POST /__edge/reload` → re-reads the `--config` file and makes it live atomically:
//!   `{"functions":[{"name","version","sha256"}]}`, or 400 naming what is wrong (the running
//!   configuration stays).
//! - `GET /__edge/metrics` → the node's metrics in the Prometheus text format
//!   (docs/metrics.md): stage and function duration histograms, answers by X-Cache result and
//!   status class, function invocations, errors and throttles, the cache, the build.
//! - `GET /__edge/logs?function=NAME&after=SEQ&since_ms=MS&filter=TEXT&wait=S&limit=N` →
//!   `{"pop":…,"next":SEQ,"records":[{seq,time_ms,pop,log_group,function,version,stage,
//!   request_id,level,message}]}`: the function log records kept in memory (START, console
//!   lines, END, REPORT as Lambda writes them), waiting up to `wait` seconds (at most 25) for
//!   a first one; ask again with `after=next` to follow.
//! - `POST /__edge/recycle` → evicts every isolate and creates fresh ones, as when execution
//!   environments are recycled (the old ones serve until replaced): `{"isolates":N,"ms":T}`.

use crate::driver::NodeShared;
use crate::error::NodeError;
use crate::server::NodeHandle;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Where `POST /__edge/reload` reads the configuration from.
#[derive(Clone)]
pub struct Reload {
    /// The `--config` file; without one only the geo databases are re-opened.
    pub path: Option<std::path::PathBuf>,
    pub handle: NodeHandle,
}

/// Whether an `Authorization` header carries `Bearer TOKEN` for this `token` (compared in
/// constant time).
pub fn bearer_matches(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (given.as_bytes(), token.as_bytes());
    !b.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves the admin API until `shutdown` turns true; every route but health needs `token`.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<NodeShared>,
    reload: Option<Reload>,
    token: Arc<str>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.changed() => return,
            r = listener.accept() => match r {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    continue;
                }
            },
        };
        let (shared, reload, token) = (shared.clone(), reload.clone(), token.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let (shared, reload, token) = (shared.clone(), reload.clone(), token.clone());
                async move {
                    let auth = req
                        .headers()
                        .get(http::header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok());
                    if req.uri().path() != "/__edge/health" && !bearer_matches(auth, &token) {
                        let mut r = reply(
                            StatusCode::UNAUTHORIZED,
                            json!({ "error": "the admin API needs Authorization: Bearer TOKEN (the node's --admin-token)" }),
                        );
                        r.headers_mut().insert(
                            http::header::WWW_AUTHENTICATE,
                            http::HeaderValue::from_static("Bearer"),
                        );
                        return Ok::<_, std::convert::Infallible>(r);
                    }
                    Ok(handle(&shared, reload.as_ref(), req).await)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invalidation {
    paths: Vec<String>,
    distribution: Option<String>,
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn bad(msg: impl Into<String>) -> Response<Full<Bytes>> {
    reply(StatusCode::BAD_REQUEST, json!({ "error": msg.into() }))
}

async fn handle(
    shared: &NodeShared,
    reload: Option<&Reload>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::POST, "/__edge/reload") => match reload {
            None => bad("reload is not available on this node"),
            Some(Reload { path: None, handle }) => match handle.reload_geo() {
                Ok(()) => reply(
                    StatusCode::OK,
                    json!({ "functions": [], "geo": shared.node.geo_db.len() }),
                ),
                Err(e) => bad(e.to_string()),
            },
            Some(Reload {
                path: Some(path),
                handle,
            }) => match handle.reload_file(path).await {
                Ok(functions) => {
                    let list: Vec<_> = functions.into_iter().map(|(name, version, sha256)| json!({"name": name, "version": version, "sha256": sha256})).collect();
                    tracing::info!(path = %path.display(), functions = list.len(), "configuration reloaded");
                    reply(StatusCode::OK, json!({ "functions": list }))
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "reload refused; the running configuration stays");
                    bad(e.to_string())
                }
            },
        },
        (&Method::POST, "/__edge/recycle") => match reload {
            None => bad("recycling is not available on this node"),
            Some(Reload { handle, .. }) => {
                let start = std::time::Instant::now();
                match handle.recycle().await {
                    Ok(n) => reply(
                        StatusCode::OK,
                        json!({ "isolates": n, "ms": start.elapsed().as_secs_f64() * 1e3 }),
                    ),
                    Err(e) => reply(e.status_code(), json!({ "error": e.to_string() })),
                }
            }
        },
        (&Method::GET, "/__edge/metrics") => {
            let mut r = Response::new(Full::new(Bytes::from(
                shared
                    .metrics
                    .prometheus(&shared.node.pop, &shared.cache.figures()),
            )));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        (&Method::GET, "/__edge/logs") => logs(shared, req.uri().query().unwrap_or("")).await,
        (&Method::GET, "/__edge/health") => reply(
            StatusCode::OK,
            json!({
                "status": "ok",
                "pop": shared.node.pop,
                "objects": shared.cache.len(),
                "bytes": shared.cache.weight(),
            }),
        ),
        (&Method::POST, "/__edge/invalidate") => {
            let body = match Limited::new(req.into_body(), 1 << 20).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return bad(format!("could not read the body: {e}")),
            };
            let inv: Invalidation = match serde_json::from_slice(&body) {
                Ok(i) => i,
                Err(e) => return bad(format!("expected {{\"paths\": [...]}}: {e}")),
            };
            if let Err(e) = check_paths(&inv.paths) {
                return bad(e.to_string());
            }
            let Some(invalidated) = shared.invalidate(inv.distribution.as_deref(), &inv.paths)
            else {
                return reply(
                    StatusCode::NOT_FOUND,
                    json!({ "error": format!("no distribution has the id {:?}", inv.distribution) }),
                );
            };
            tracing::info!(paths = ?inv.paths, invalidated, "invalidation");
            reply(StatusCode::OK, json!({ "invalidated": invalidated }))
        }
        (_, path) => reply(
            StatusCode::NOT_FOUND,
            json!({ "error": format!("no admin endpoint {path}") }),
        ),
    }
}

/// CloudFront's rules for invalidation paths (docs/cloudfront-behaviour.md: "Invalidation paths").
pub fn check_paths(paths: &[String]) -> Result<(), NodeError> {
    let refuse = |reason: String| Err(NodeError::Invalidation(reason));
    if paths.is_empty() {
        return refuse("paths must name at least one path".into());
    }
    for p in paths {
        if !p.starts_with('/') {
            return refuse(format!("path {p:?} must start with '/'"));
        }
        if p.len() > 4000 {
            return refuse(format!("path {p:?} is longer than 4,000 characters"));
        }
        if p.find('*').is_some_and(|i| i != p.len() - 1) {
            return refuse(format!(
                "path {p:?} may only have '*' as its last character"
            ));
        }
    }
    Ok(())
}

/// `GET /__edge/logs`: the function log records a query selects.
async fn logs(shared: &NodeShared, query: &str) -> Response<Full<Bytes>> {
    let mut q = crate::js::logs::Query {
        limit: 1000,
        ..Default::default()
    };
    let mut wait = 0.0f64;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let number = || v.parse::<u64>().ok();
        let not_number = || bad(format!("{k} must be a whole number, got {v:?}"));
        match &*k {
            "function" => q.function = Some(v.to_string()),
            "filter" if !v.is_empty() => q.filter = Some(v.to_string()),
            "filter" => {}
            "after" => match number() {
                Some(n) => q.after = n,
                None => return not_number(),
            },
            "since_ms" => match number() {
                Some(n) => q.since_ms = n,
                None => return not_number(),
            },
            "limit" => match number() {
                Some(n) => q.limit = (n as usize).clamp(1, 10_000),
                None => return not_number(),
            },
            "wait" => match v.parse::<f64>() {
                Ok(w) if (0.0..=25.0).contains(&w) => wait = w,
                _ => return bad(format!("wait must be 0 to 25 seconds, got {v:?}")),
            },
            other => {
                return bad(format!(
                    "unknown parameter {other:?} (function, after, since_ms, filter, wait, limit)"
                ))
            }
        }
    }
    let logs = crate::js::logs::logs();
    let (records, next) = logs
        .wait(&q, std::time::Duration::from_secs_f64(wait))
        .await;
    let pop = &shared.node.pop;
    reply(
        StatusCode::OK,
        json!({
            "pop": pop,
            "next": next,
            "records": records.iter().map(|r| r.to_json(pop)).collect::<Vec<_>>(),
        }),
    )
}
