//! The control node's HTTP JSON API (docs/control-api.md). Every route but `/v1/health` needs
//! `Authorization: Bearer TOKEN`. Errors are `{"error": {"code", "message"}}` with the status of
//! [`ControlError::status_code`].

use crate::{
    AssociateRequest, CfFunctionRequest, Control, ControlError, DistributionRequest,
    DistributionsRequest, FnStage, Slot,
};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;
use tokio::net::TcpListener;

type Result<T> = std::result::Result<T, ControlError>;

/// Marks a request that came over TLS (`edge status` shows how each edge connects).
#[derive(Clone, Copy)]
struct OverTls;

/// The address a request came from.
#[derive(Clone, Copy)]
struct Peer(std::net::IpAddr);

/// How long a connection may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the API on `listener` until `stop` turns true: over TLS with `tls`, else plain.
pub async fn serve(
    listener: TcpListener,
    control: Arc<Control>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let (control, tls) = (control.clone(), tls.clone());
        tokio::spawn(async move {
            let over_tls = tls.is_some();
            let service = service_fn(move |mut req: Request<Incoming>| {
                let control = control.clone();
                if over_tls {
                    req.extensions_mut().insert(OverTls);
                }
                req.extensions_mut().insert(Peer(peer.ip().to_canonical()));
                async move { Ok::<_, std::convert::Infallible>(handle(&control, req).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => {
                            let _ = http.serve_connection(TokioIo::new(s), service).await;
                        }
                        Ok(Err(e)) => tracing::info!(error = %e, "TLS handshake refused"),
                        Err(_) => tracing::info!("TLS handshake not finished within 10 s"),
                    }
                }
            }
        });
    }
}

async fn handle(control: &Control, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    match route(control, req).await {
        Ok(resp) => resp,
        Err(e) => {
            if e.status_code().is_server_error() {
                tracing::error!(%method, %path, error = %e, "control API error");
            } else {
                tracing::info!(%method, %path, error = %e, "control API refused");
            }
            reply(
                e.status_code(),
                &json!({"error": {"code": e.code(), "message": e.message()}}),
            )
        }
    }
}

fn reply(status: StatusCode, v: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn ok(v: serde_json::Value) -> Result<Response<Full<Bytes>>> {
    Ok(reply(StatusCode::OK, &v))
}

fn raw(body: Vec<u8>) -> Result<Response<Full<Bytes>>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/javascript"),
    );
    Ok(r)
}

async fn body(req: Request<Incoming>, limit: usize) -> Result<Bytes> {
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ControlError::TooLarge(
            format!("the request body is over {limit} bytes"),
        )),
        Err(e) => Err(ControlError::invalid(
            "InvalidRequest",
            format!("could not read the body: {e}"),
        )),
    }
}

async fn json_body<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T> {
    json_body_up_to(req, 1 << 20).await
}

/// An import file (5 MB) with room for its JSON wrapping and escapes.
fn kvs_body_limit() -> usize {
    edge_node::cloudfront::kvs::STORE_BYTES * 2 + (64 << 10)
}

async fn json_body_up_to<T: DeserializeOwned>(req: Request<Incoming>, limit: usize) -> Result<T> {
    let b = body(req, limit).await?;
    serde_json::from_slice(&b).map_err(|e| {
        ControlError::invalid(
            "InvalidRequest",
            format!("the body is not the JSON expected: {e}"),
        )
    })
}

/// A query parameter's value (`?stage=LIVE`); names are matched without case, as AWS's are.
fn query(req: &Request<Incoming>, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        k.eq_ignore_ascii_case(key).then(|| v.to_string())
    })
}

fn if_match(req: &Request<Incoming>) -> Option<String> {
    req.headers()
        .get(http::header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn version_of(s: &str) -> Result<u64> {
    s.parse().map_err(|_| {
        ControlError::invalid(
            "InvalidParameterValueException",
            format!("{s:?} is not a version number"),
        )
    })
}

/// A function body: raw JavaScript, or JSON `{"code": "...", "environment": {...}}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
    #[serde(default)]
    environment: Option<serde_json::Map<String, serde_json::Value>>,
}

async fn route(control: &Control, req: Request<Incoming>) -> Result<Response<Full<Bytes>>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segs.as_slice() == ["v1", "health"] {
        return ok(json!({"status": "ok", "revision": control.revision()}));
    }
    let auth = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !control.authorized(auth) {
        return Err(ControlError::Unauthorized);
    }
    match (&method, segs.as_slice()) {
        (&Method::POST, ["v1", "edge", "poll"]) => {
            let tls = req.extensions().get::<OverTls>().is_some();
            let peer = req.extensions().get::<Peer>().map(|p| p.0);
            let mut poll: edge_node::replica::Poll = json_body(req).await?;
            if let Some(peer) = peer {
                poll.url = crate::replication::as_seen_from(&poll.url, peer);
                poll.admin = poll
                    .admin
                    .map(|a| crate::replication::as_seen_from(&a, peer));
            }
            match control.poll(&poll, tls).await? {
                Some(state) => ok(serde_json::to_value(state).unwrap_or_default()),
                None => {
                    let mut r = Response::new(Full::new(Bytes::new()));
                    *r.status_mut() = StatusCode::NO_CONTENT;
                    Ok(r)
                }
            }
        }
        (&Method::POST, ["v1", "resync"]) => {
            #[derive(serde::Deserialize)]
            struct Resync {
                #[serde(default)]
                pops: Vec<String>,
            }
            let r: Resync = json_body(req).await?;
            ok(json!({"requested": control.ask_resync(&r.pops)?}))
        }
        (&Method::DELETE, ["v1", "edges", pop]) => {
            control.forget(pop)?;
            ok(json!({"forgotten": pop}))
        }
        (&Method::DELETE, ["v1", "functions", name]) => {
            ok(json!({"deleted": name, "versions": control.delete_function(name)?}))
        }
        (&Method::GET, ["v1", "metrics"]) => {
            let mut r = Response::new(Full::new(Bytes::from(control.metrics()?)));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            Ok(r)
        }
        (&Method::GET, ["v1", "status"]) => {
            ok(serde_json::to_value(control.status()?).unwrap_or_default())
        }
        (&Method::GET, ["v1", "functions"]) => ok(json!({"functions": control.functions()?})),
        (&Method::PUT, ["v1", "functions", name]) => {
            let name = name.to_string();
            let is_json = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let b = body(req, crate::MAX_CODE_BYTES + (1 << 20)).await?;
            let code = if is_json {
                let c: CodeBody = serde_json::from_slice(&b).map_err(|e| {
                    ControlError::invalid(
                        "InvalidRequest",
                        format!("expected {{\"code\": \"...\"}}: {e}"),
                    )
                })?;
                if c.environment.is_some_and(|e| !e.is_empty()) {
                    return Err(ControlError::invalid(
                        "InvalidParameterValueException",
                        format!("Lambda@Edge does not support environment variables: environment variables is not allowed for this function ({name})"),
                    ));
                }
                Bytes::from(c.code)
            } else {
                b
            };
            let (sha256, size) = control.put_code(&name, &code)?;
            ok(json!({"name": name, "version": "$LATEST", "sha256": sha256, "size": size}))
        }
        (&Method::POST, ["v1", "functions", name, "versions"]) => {
            let name = name.to_string();
            let b = body(req, 64 << 10).await?;
            let expected: Option<String> = if b.is_empty() {
                None
            } else {
                let v: serde_json::Value = serde_json::from_slice(&b).map_err(|e| {
                    ControlError::invalid(
                        "InvalidRequest",
                        format!("expected {{\"sha256\": \"...\"}} or no body: {e}"),
                    )
                })?;
                v.get("sha256").and_then(|s| s.as_str()).map(str::to_string)
            };
            let (p, created) = control.publish(&name, expected.as_deref())?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(reply(status, &serde_json::to_value(p).unwrap_or_default()))
        }
        (&Method::GET, ["v1", "functions", name, "versions"]) => ok(control.versions(name)?),
        (&Method::GET, ["v1", "functions", name, "versions", v, "code"]) => {
            raw(control.version_code(name, version_of(v)?)?)
        }
        (&Method::DELETE, ["v1", "functions", name, "versions", v]) => {
            control.delete_version(name, version_of(v)?)?;
            ok(json!({"deleted": format!("{name}:{v}")}))
        }
        (&Method::POST, ["v1", "functions", name, "rollback"]) => {
            let (revision, changed) = control.rollback(name)?;
            ok(json!({"revision": revision, "changed": changed}))
        }
        (&Method::GET, ["v1", "cloudfront-functions"]) => ok(control.cf_list()?),
        (&Method::POST, ["v1", "cloudfront-functions", name]) => {
            let name = name.to_string();
            let r: CfFunctionRequest = json_body(req).await?;
            Ok(reply(StatusCode::CREATED, &control.cf_create(&name, &r)?))
        }
        (&Method::PUT, ["v1", "cloudfront-functions", name]) => {
            let name = name.to_string();
            let tag = if_match(&req);
            let r: CfFunctionRequest = json_body(req).await?;
            ok(control.cf_update(&name, &r, tag.as_deref())?)
        }
        (&Method::POST, ["v1", "cloudfront-functions", name, "publish"]) => {
            let (mut v, revision) = control.cf_publish(name, if_match(&req).as_deref())?;
            v["revision"] = json!(revision);
            ok(v)
        }
        (&Method::GET, ["v1", "cloudfront-functions", name]) => {
            ok(control.cf_describe(name, FnStage::parse(query(&req, "stage").as_deref())?)?)
        }
        (&Method::GET, ["v1", "cloudfront-functions", name, "code"]) => {
            let stage = FnStage::parse(query(&req, "stage").as_deref())?;
            let (code, _, summary) = control.cf_code(name, stage)?;
            ok(json!({
                "FunctionSummary": summary["FunctionSummary"],
                "ETag": summary["ETag"],
                "code": String::from_utf8_lossy(&code),
            }))
        }
        (&Method::DELETE, ["v1", "cloudfront-functions", name]) => {
            control.cf_delete(name, if_match(&req).as_deref())?;
            ok(json!({"deleted": name}))
        }
        (&Method::GET, ["v1", "kvs"]) => ok(control.kvs_list()?),
        (&Method::POST, ["v1", "kvs", name]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Create {
                #[serde(default)]
                comment: String,
                /// An import file's text (AWS's format).
                #[serde(default)]
                data: Option<String>,
            }
            let name = name.to_string();
            let c: Create = json_body_up_to(req, kvs_body_limit()).await?;
            let (mut v, revision) =
                control.kvs_create(&name, &c.comment, c.data.as_deref().map(str::as_bytes))?;
            v["revision"] = json!(revision);
            Ok(reply(StatusCode::CREATED, &v))
        }
        (&Method::GET, ["v1", "kvs", name]) => ok(control.kvs_describe(name)?),
        (&Method::DELETE, ["v1", "kvs", name]) => {
            ok(json!({"revision": control.kvs_delete(name)?}))
        }
        (&Method::PUT, ["v1", "kvs", name, "data"]) => {
            let name = name.to_string();
            let b = body(req, kvs_body_limit()).await?;
            let (mut v, revision) = control.kvs_import(&name, &b)?;
            v["revision"] = json!(revision);
            ok(v)
        }
        (&Method::GET, ["v1", "kvs", name, "keys"]) => ok(control.kvs_list_keys(name)?),
        (&Method::POST, ["v1", "kvs", name, op @ ("put" | "get" | "delete-key")]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields, rename_all = "PascalCase")]
            struct Item {
                key: String,
                #[serde(default)]
                value: Option<String>,
            }
            let (name, op) = (name.to_string(), op.to_string());
            let i: Item = json_body(req).await?;
            let (mut v, revision) = match (op.as_str(), i.value) {
                ("put", Some(value)) => control.kvs_put(&name, &i.key, &value)?,
                ("put", None) => {
                    return Err(ControlError::invalid(
                        "ValidationException",
                        "put needs a Value",
                    ))
                }
                ("get", _) => (control.kvs_get(&name, &i.key)?, 0),
                _ => control.kvs_delete_key(&name, &i.key)?,
            };
            if revision > 0 {
                v["revision"] = json!(revision);
            }
            ok(v)
        }
        (&Method::GET, ["v1", "code", sha]) => raw(control.code(sha)?),
        (&Method::GET, ["v1", "distributions"]) => {
            let list: Vec<serde_json::Value> = control
                .distributions()?
                .into_iter()
                .map(|(id, config)| json!({"id": id, "config": config}))
                .collect();
            ok(json!({"distributions": list}))
        }
        (&Method::PUT, ["v1", "distributions"]) => {
            let r: DistributionsRequest = json_body_up_to(req, 16 << 20).await?;
            ok(json!({"revision": control.put_distributions(&r)?}))
        }
        (&Method::PUT, ["v1", "distributions", id]) => {
            let id = id.to_string();
            let r: DistributionRequest = json_body_up_to(req, 4 << 20).await?;
            ok(json!({"revision": control.put_distribution(&id, &r)?}))
        }
        (&Method::DELETE, ["v1", "distributions", id]) => {
            ok(json!({"revision": control.delete_distribution(id)?}))
        }
        (&Method::GET, ["v1", "associations"]) => ok(json!({
            "associations": control.associations()?,
            "function_associations": control.function_associations()?,
        })),
        (&Method::POST, ["v1", "associations"]) => {
            let r: AssociateRequest = json_body(req).await?;
            ok(json!({"revision": control.associate(&r)?}))
        }
        (&Method::DELETE, ["v1", "associations"]) => {
            let s: Slot = json_body(req).await?;
            ok(json!({"revision": control.disassociate(&s)?}))
        }
        (&Method::POST, ["v1", "invalidations"]) => {
            #[derive(serde::Deserialize)]
            struct Inv {
                #[serde(default)]
                distribution: Option<String>,
                paths: Vec<String>,
            }
            let i: Inv = json_body(req).await?;
            ok(json!({"revision": control.invalidate(i.distribution.as_deref(), &i.paths)?}))
        }
        _ => Err(ControlError::NotFound(format!("route {method} {path}"))),
    }
}
