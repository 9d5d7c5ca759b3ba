//! The admin listener (a separate address from viewers): health and CloudFront-style
//! invalidation.
//!
//! - `GET /__edge/health` → `{"status":"ok","pop":…,"objects":…,"bytes":…}`
//! - `POST /__edge/invalidate` with `{"paths":["/a/*","/b.html"],"distribution":"ID"?}` →
//!   `{"invalidated":N}`; a path must start with `/` and may only end in `*`.

use crate::driver::NodeShared;
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

/// Serves the admin API until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<NodeShared>,
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
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&shared, req).await) }
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

async fn handle(shared: &NodeShared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/__edge/health") => reply(
            StatusCode::OK,
            json!({
                "status": "ok",
                "pop": shared.identity.pop_name,
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
            if let Err(msg) = check_paths(&inv.paths) {
                return bad(msg);
            }
            let targets: Vec<usize> = shared
                .config
                .distributions
                .iter()
                .filter(|d| inv.distribution.as_deref().is_none_or(|id| id == d.id))
                .map(|d| d.index)
                .collect();
            if targets.is_empty() {
                return reply(
                    StatusCode::NOT_FOUND,
                    json!({ "error": format!("no distribution has the id {:?}", inv.distribution) }),
                );
            }
            let invalidated: usize = targets
                .into_iter()
                .map(|d| shared.cache.invalidate(d, &inv.paths))
                .sum();
            tracing::info!(paths = ?inv.paths, invalidated, "invalidation");
            reply(StatusCode::OK, json!({ "invalidated": invalidated }))
        }
        (_, path) => reply(
            StatusCode::NOT_FOUND,
            json!({ "error": format!("no admin endpoint {path}") }),
        ),
    }
}

/// CloudFront's rules for invalidation paths (REFERENCE.md §6.5).
pub fn check_paths(paths: &[String]) -> Result<(), String> {
    if paths.is_empty() {
        return Err("paths must name at least one path".into());
    }
    for p in paths {
        if !p.starts_with('/') {
            return Err(format!("path {p:?} must start with '/'"));
        }
        if p.len() > 4000 {
            return Err(format!("path {p:?} is longer than 4,000 characters"));
        }
        if p.find('*').is_some_and(|i| i != p.len() - 1) {
            return Err(format!(
                "path {p:?} may only have '*' as its last character"
            ));
        }
    }
    Ok(())
}
