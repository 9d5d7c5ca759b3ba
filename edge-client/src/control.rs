//! A client of the control API (docs/control-api.md) and the answers it reads, for the `edge`
//! CLI, `edge up` and the benchmarks. It depends on nothing else of ours, so a program that
//! drives a cluster links only this.

pub use crate::tls::Trust;
use anyhow::Result;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client as HyperClient};
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A published function version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    pub name: String,
    pub version: u64,
    pub sha256: String,
}

/// One edge as the control node sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EdgeStatus {
    pub pop: String,
    pub url: String,
    /// The edge's admin API, once it polled this control node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    pub revision: u64,
    /// `Deployed` once the edge applied the current revision, `InProgress` before, `Diverged`
    /// when the edge serves a state this control node's store does not lead to (another
    /// cluster, or a store restored to an older copy): `error` says why.
    pub state: String,
    /// Revisions behind.
    pub lag: u64,
    /// Polled within the last hold period (since this control node started).
    pub connected: bool,
    /// Whether its last poll came over TLS (absent until it polled this control node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The cluster: the current revision, every edge, and where each KeyValueStore is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub revision: u64,
    /// The id made with the control store.
    #[serde(default)]
    pub cluster: String,
    /// The fingerprint of the key that signs every revision (`--control-key`).
    #[serde(default)]
    pub key: String,
    pub edges: Vec<EdgeStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_value_stores: Vec<StoreStatus>,
}

/// A KeyValueStore: the revision that last changed it and the edges that have applied it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreStatus {
    pub name: String,
    pub id: String,
    pub revision: u64,
    /// POPs whose applied revision holds this store's current items.
    pub deployed: Vec<String>,
}

/// The control API refused a request: its AWS-style error code and message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The control node did not answer (not running, wrong address, or too slow).
#[derive(Debug, Clone)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

#[derive(Clone)]
pub struct Client {
    base: String,
    token: String,
    http: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    /// A client of `base` (an `https://` URL trusted by the public web roots, or `http://`).
    pub fn new(base: &str, token: &str) -> Client {
        Client::trusting(base, token, &Trust::Web)
    }

    /// A client of `base` that believes its certificate by `trust`.
    pub fn trusting(base: &str, token: &str, trust: &Trust) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: HyperClient::builder(TokioExecutor::new()).build(https_connector(trust)),
        }
    }

    /// Sends a request; a non-2xx answer becomes an error carrying the API's message.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes)> {
        self.send_if_match(method, path, content_type, body, None)
            .await
    }

    /// `send`, only if the resource's ETag is still `if_match` (when given).
    pub async fn send_if_match(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        if_match: Option<&str>,
    ) -> Result<(StatusCode, Bytes)> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, content_type);
        if let Some(tag) = if_match {
            req = req.header(http::header::IF_MATCH, tag);
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        let resp = tokio::time::timeout(std::time::Duration::from_secs(60), self.http.request(req))
            .await
            .map_err(|_| {
                Unreachable(format!(
                    "the control node at {} did not answer within 60 s",
                    self.base
                ))
            })?
            .map_err(|e| {
                Unreachable(format!(
                    "cannot reach the control node at {}: {}",
                    self.base,
                    causes(&e)
                ))
            })?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let code = v["error"]["code"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {status} on {method} {path}"));
            let message = v["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ApiError {
                status: status.as_u16(),
                code,
                message,
            }
            .into());
        }
        Ok((status, bytes))
    }

    pub async fn json(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        self.json_if_match(method, path, body, None).await
    }

    /// `json`, only if the resource's ETag is still `if_match` (when given).
    pub async fn json_if_match(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Value> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (status, out) = self
            .send_if_match(method, path, "application/json", bytes, if_match)
            .await?;
        if status == StatusCode::NO_CONTENT || out.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&out)?)
    }

    /// `$LATEST` := code, then publish it: the new (or unchanged newest) version. The publish
    /// names the uploaded code's SHA-256 (as Lambda's PublishVersion takes CodeSha256), so
    /// when another publisher replaced `$LATEST` in between, this one uploads again rather
    /// than taking a version of the other's code.
    pub async fn publish(&self, name: &str, code: &[u8]) -> Result<Published> {
        let mut attempts = 0;
        loop {
            let (_, put) = self
                .send(
                    Method::PUT,
                    &format!("/v1/functions/{name}"),
                    "application/javascript",
                    code.to_vec(),
                )
                .await?;
            let sha: Value = serde_json::from_slice(&put)?;
            let body = serde_json::json!({ "sha256": sha["sha256"] });
            match self
                .json(
                    Method::POST,
                    &format!("/v1/functions/{name}/versions"),
                    Some(&body),
                )
                .await
            {
                Ok(v) => return Ok(serde_json::from_value(v)?),
                Err(e)
                    if attempts < 20
                        && e.downcast_ref::<ApiError>()
                            .is_some_and(|a| a.code == "PreconditionFailedException") =>
                {
                    // Publishers that keep replacing each other's upload take turns: each
                    // waits a random while, longer with every lost round.
                    attempts += 1;
                    let ms = fastrand::u64(0..=10 * (1 << attempts.min(6)));
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn status(&self) -> Result<ClusterStatus> {
        Ok(serde_json::from_value(
            self.json(Method::GET, "/v1/status", None).await?,
        )?)
    }
}

/// A connector for `http://` and `https://` URLs, trusting certificates by `trust`.
///
/// A control node's host can go away without a word (power lost, rebooted, cut off): nothing
/// then ends a connection that waits for an answer, such as an edge's held poll, and a connect
/// to it is never refused. So a connect gives up after 5 s, and an idle connection is probed
/// (TCP keepalive after 2 s idle, every second, 3 unanswered probes end it): a peer that is gone
/// is noticed within about 5 s, and one that came back with a new network stack answers the
/// first probe with a reset. Either way the caller sees an error and connects again, well inside
/// the control node's 5 s reconnect grace (`control-node/src/lib.rs`).
pub fn https_connector(trust: &Trust) -> hyper_rustls::HttpsConnector<HttpConnector> {
    use std::time::Duration;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    http.set_keepalive(Some(Duration::from_secs(2)));
    http.set_keepalive_interval(Some(Duration::from_secs(1)));
    http.set_keepalive_retries(Some(3));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(crate::tls::client_config(trust))
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// An error and every cause under it, `: `-joined (hyper's own text is only "client error
/// (Connect)"; the cause says which certificate was refused, or why the connection failed).
pub fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut at = e.source();
    while let Some(c) = at {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        at = c.source();
    }
    s
}
