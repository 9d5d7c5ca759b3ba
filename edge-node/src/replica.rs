//! Replication from a control node. The edge long-polls the control node for the desired state
//! (distributions, associations of published function versions, invalidations) at a revision
//! newer than the one it has; fetches code it lacks by SHA-256 and verifies it; warms isolates
//! and swaps atomically ([`NodeHandle::apply`]); persists the state and code locally; then
//! reports the revision it applied with its next poll. A node restarted while the control node
//! is down serves from what it persisted.
//!
//! The wire types here are the protocol: the control node serializes the same structs.

use crate::config::{self, Association, Canary, NodeConfig, NodeSettings};
use crate::error::NodeError;
use crate::js::FunctionCode;
use crate::lambda::Stage;
use crate::server::NodeHandle;
use crate::signing::{Pin, Signed};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The desired state of every edge at one revision.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub revision: u64,
    /// The control store's cluster id, made when the store was created: a store rebuilt from
    /// nothing has another one.
    #[serde(default)]
    pub cluster: String,
    /// `[[distributions]]` tables (CloudFront names, no function associations).
    pub distributions: String,
    pub associations: Vec<WireAssociation>,
    /// Invalidations newer than the revision the edge said it had applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalidations: Vec<WireInvalidation>,
    /// Every KeyValueStore, by the hash of its snapshot (AWS's import format), fetched like code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_value_stores: Vec<WireKvs>,
    /// The nonce of the poll this state answers (signed with it, so it cannot be replayed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// The operator asked this edge to take the state even if it diverges from its own
    /// (`edge resync`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resync: bool,
}

/// A KeyValueStore at one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireKvs {
    pub id: String,
    pub name: String,
    pub sha256: String,
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// A published function version, named by its code's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnRef {
    pub name: String,
    /// A Lambda version; for a CloudFront function, how many times its LIVE stage was
    /// published.
    pub version: u64,
    pub sha256: String,
    /// A CloudFront function's runtime (`cloudfront-js-1.0` or `cloudfront-js-2.0`); absent
    /// for Lambda@Edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The KeyValueStore id a CloudFront function reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kvs: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireAssociation {
    pub distribution: String,
    /// The cache behavior's PathPattern; absent for the default behavior.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
    pub stage: String,
    pub function: FnRef,
    #[serde(default)]
    pub include_body: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<WireCanary>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireCanary {
    pub function: FnRef,
    pub percent: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireInvalidation {
    pub revision: u64,
    /// A distribution Id; absent for every distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    pub paths: Vec<String>,
}

/// What an edge sends with every poll: who it is and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Poll {
    pub pop: String,
    pub url: String,
    /// The edge's admin API (`http://ADDR`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    /// The revision this edge serves.
    pub applied: u64,
    /// Answer when the control node's revision is another than this (a newer one, or an older
    /// one after its store was restored).
    pub after: u64,
    /// Why the last revision offered could not be applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Fresh for every poll; the answer is signed with it.
    #[serde(default)]
    pub nonce: String,
    /// [`State::digest`] of the state this edge serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Why this edge does not follow the control node's state: it comes from another cluster,
    /// or is older than (or differs at the revision of) the one the edge serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged: Option<String>,
}

impl State {
    /// The SHA-256 of what the state describes, leaving out what belongs to one answer (its
    /// invalidations, nonce and resync flag): two states with one digest serve the same.
    pub fn digest(&self) -> String {
        let base = State {
            invalidations: Vec::new(),
            nonce: String::new(),
            resync: false,
            ..self.clone()
        };
        sha256_hex(&serde_json::to_vec(&base).unwrap_or_default())
    }

    /// Every function version the state names (each once).
    pub fn functions(&self) -> Vec<&FnRef> {
        let mut out: Vec<&FnRef> = Vec::new();
        for a in &self.associations {
            for f in std::iter::once(&a.function).chain(a.canary.as_ref().map(|c| &c.function)) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// The hash of everything the state names that is fetched by hash: function code and
    /// store snapshots (each once).
    pub fn blobs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.functions().iter().map(|f| f.sha256.as_str()).collect();
        for s in &self.key_value_stores {
            if !out.contains(&s.sha256.as_str()) {
                out.push(&s.sha256);
            }
        }
        out
    }

    /// The KeyValueStores, parsed from their snapshots in `code`.
    pub fn stores(
        &self,
        code: &CodeByHash,
    ) -> Result<Vec<Arc<crate::cloudfront::kvs::Store>>, NodeError> {
        let mut out = Vec::with_capacity(self.key_value_stores.len());
        for s in &self.key_value_stores {
            let at = format!("KeyValueStore {}", s.name);
            let bytes = code.get(&s.sha256).ok_or_else(|| {
                NodeError::config(&at, format!("snapshot {} is missing", s.sha256))
            })?;
            let items = crate::cloudfront::kvs::parse_import(bytes)
                .map_err(|e| NodeError::config(&at, e.to_string()))?;
            out.push(Arc::new(crate::cloudfront::kvs::Store {
                id: s.id.clone(),
                name: s.name.clone(),
                created_ms: s.created_ms,
                updated_ms: s.updated_ms,
                items: items.into_iter().collect(),
            }));
        }
        Ok(out)
    }

    /// The node configuration this state describes, with `node`'s own settings; `code` gives
    /// the verified source of each hash.
    pub fn compose(&self, node: &NodeSettings, code: &CodeByHash) -> Result<NodeConfig, NodeError> {
        let mut cfg = config::parse_distributions(&self.distributions)?;
        cfg.node = node.clone();
        let function = |f: &FnRef| -> Result<Arc<FunctionCode>, NodeError> {
            let bytes = code.get(&f.sha256).ok_or_else(|| {
                NodeError::config(
                    format!("{}:{}", f.name, f.version),
                    format!("code {} is missing", f.sha256),
                )
            })?;
            let at = format!("{}:{}", f.name, f.version);
            let c = match &f.runtime {
                None => {
                    FunctionCode::from_bytes(f.name.clone(), f.version, at.clone(), bytes.clone())
                }
                Some(r) => {
                    let runtime = crate::cloudfront::Runtime::parse(r).ok_or_else(|| {
                        NodeError::config(
                            &at,
                            format!("{r:?} is not a CloudFront Functions runtime"),
                        )
                    })?;
                    let file = format!("{}.js", f.name);
                    FunctionCode::cloudfront(
                        f.name.clone(),
                        f.version,
                        file,
                        bytes.clone(),
                        runtime,
                    )
                    .map(|c| c.with_kvs(f.kvs.clone()))
                }
            }
            .map_err(|e| NodeError::config(&at, e))?;
            if c.sha256 != f.sha256 {
                return Err(NodeError::config(
                    format!("{}:{}", f.name, f.version),
                    format!(
                        "code hash mismatch: expected {}, got {}",
                        f.sha256, c.sha256
                    ),
                ));
            }
            Ok(Arc::new(c))
        };
        for a in &self.associations {
            let stage = Stage::parse(&a.stage).ok_or_else(|| {
                NodeError::config("associations", format!("unknown stage {:?}", a.stage))
            })?;
            let mut assoc = Association::new(function(&a.function)?, a.include_body);
            if assoc.code.cloudfront.is_some() {
                config::check_free(&cfg, &a.distribution, a.behavior.as_deref(), stage)?;
            }
            if let Some(c) = &a.canary {
                assoc.canary = Some(Canary {
                    code: function(&c.function)?,
                    percent: c.percent.min(100),
                });
            }
            config::associate(
                &mut cfg,
                &a.distribution,
                a.behavior.as_deref(),
                stage,
                assoc,
            )?;
        }
        Ok(cfg)
    }
}

pub use crate::js::sha256_hex;

/// Function code (as published: a file's text or a package's zip) by hex SHA-256.
pub type CodeByHash = HashMap<String, Bytes>;

/// The edge's local copy: `state.json` and `code/SHA256.js` (a package's zip too), written so that a crash leaves
/// either the old or the new state (code first, then the state file renamed into place).
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    pub fn open(dir: &Path) -> Result<LocalStore, NodeError> {
        std::fs::create_dir_all(dir.join("code")).map_err(|e| {
            NodeError::config(
                "--state-dir",
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        Ok(LocalStore {
            dir: dir.to_path_buf(),
        })
    }

    /// The last applied state and its code, if any was saved; refused unless its signature
    /// verifies under `pin`. Code whose bytes no longer have their hash is left out (the
    /// state then does not compose, and the edge starts empty).
    pub fn load(&self, pin: &Pin) -> Result<Option<(State, CodeByHash)>, NodeError> {
        let path = self.dir.join("state.json");
        let at = || path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(NodeError::config(at(), format!("cannot read: {e}"))),
        };
        let signed: Signed = serde_json::from_str(&text)
            .map_err(|e| NodeError::config(at(), format!("not a signed state ({e})")))?;
        let state = signed.open(pin).map_err(|e| NodeError::config(at(), e))?;
        let mut code = HashMap::new();
        for sha in state.blobs() {
            if let Ok(bytes) = std::fs::read(self.code_path(sha)) {
                if sha256_hex(&bytes) == sha {
                    code.insert(sha.to_string(), Bytes::from(bytes));
                } else {
                    tracing::error!(file = %self.code_path(sha).display(), "saved code does not match its hash: left out");
                }
            }
        }
        Ok(Some((state, code)))
    }

    fn code_path(&self, sha256: &str) -> PathBuf {
        self.dir.join("code").join(format!("{sha256}.js"))
    }

    /// Saves `signed` as it came (its invalidations are not applied again at load) and the
    /// code `state`, its content, names.
    pub fn save(&self, signed: &Signed, state: &State, code: &CodeByHash) -> std::io::Result<()> {
        for sha in state.blobs() {
            let path = self.code_path(sha);
            if !path.exists() {
                if let Some(bytes) = code.get(sha) {
                    write_atomically(&path, bytes)?;
                }
            }
        }
        let text = serde_json::to_vec_pretty(signed).map_err(std::io::Error::other)?;
        write_atomically(&self.dir.join("state.json"), &text)?;
        // Drop code no state names any more.
        let keep: Vec<String> = state
            .blobs()
            .iter()
            .map(|sha| format!("{sha}.js"))
            .collect();
        if let Ok(entries) = std::fs::read_dir(self.dir.join("code")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.ends_with(".js") && !keep.contains(&name) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Where this edge's replication comes from and who it is.
pub struct Replica {
    pub control: String,
    pub token: String,
    pub pop: String,
    pub url: String,
    /// This edge's admin API, when it has one (for `edge logs`).
    pub admin: Option<String>,
    pub store: LocalStore,
    pub handle: NodeHandle,
    /// The control node's key (or its fingerprint): only states it signed are applied.
    pub pin: Pin,
    /// How an `https://` control node's certificate is believed: by `pin` (the certificate
    /// made from its signing key), or by `--control-ca`.
    pub trust: edge_client::tls::Trust,
    /// Take every verified state at once, even one older than or foreign to what serves (a
    /// restored or rebuilt control store); otherwise such a state is reported `Diverged` and
    /// waits for `edge resync`.
    pub follow_restores: bool,
    /// The state already serving (from the local store), and its code.
    pub serving: Option<Serving>,
    pub code: CodeByHash,
    /// Why the saved state was not served at start, reported with the first poll.
    pub error: Option<String>,
}

/// What identifies the state an edge serves.
#[derive(Debug, Clone)]
pub struct Serving {
    pub revision: u64,
    pub cluster: String,
    pub digest: String,
}

impl Serving {
    pub fn of(state: &State) -> Serving {
        Serving {
            revision: state.revision,
            cluster: state.cluster.clone(),
            digest: state.digest(),
        }
    }
}

/// How long the control node holds a poll open; the client waits a little longer.
pub const POLL_HOLD: Duration = Duration::from_secs(20);

type HttpClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

fn nonce() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Replica {
    fn applied(&self) -> u64 {
        self.serving.as_ref().map_or(0, |s| s.revision)
    }

    /// Why `state` should not replace the one serving without the operator's word, if it
    /// should not: it comes from another cluster, is older, or differs at the same revision.
    fn diverges(&self, state: &State) -> Option<String> {
        let s = self.serving.as_ref()?;
        let fix = format!(
            "the edge keeps serving revision {}; `edge resync {}` takes the control node's state (or start the edge with --follow-restores)",
            s.revision, self.pop
        );
        if !s.cluster.is_empty() && s.cluster != state.cluster {
            return Some(format!(
                "the control node's store is another cluster ({:?}, this edge's is {:?}): was it rebuilt? {fix}",
                state.cluster, s.cluster
            ));
        }
        if state.revision < s.revision {
            return Some(format!(
                "the control node is at revision {}, older than the edge's: was its store restored? {fix}",
                state.revision
            ));
        }
        if state.revision == s.revision && state.digest() != s.digest {
            return Some(format!(
                "the control node's revision {} is not the one the edge applied: was its store restored? {fix}",
                state.revision
            ));
        }
        None
    }

    /// Follows the control node forever: reconnects with backoff when it is unreachable.
    pub async fn run(mut self) {
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .build(edge_client::control::https_connector(&self.trust));
        let mut after = self.applied();
        let mut error: Option<String> = self.error.take();
        let mut diverged: Option<String> = None;
        let mut backoff = Duration::from_millis(50);
        // Whether the last poll reached the control node (`None` before the first): each change
        // is logged once, the first failure included.
        let mut connected: Option<bool> = None;
        // After a refused revision: when to offer it to ourselves again.
        let mut retry: Option<Instant> = None;
        loop {
            let poll = Poll {
                pop: self.pop.clone(),
                url: self.url.clone(),
                admin: self.admin.clone(),
                applied: self.applied(),
                after,
                error: error.clone(),
                nonce: nonce(),
                digest: self.serving.as_ref().map(|s| s.digest.clone()),
                diverged: diverged.clone(),
            };
            let polled = match retry {
                None => self.poll(&client, &poll).await,
                Some(at) => {
                    match tokio::time::timeout_at(at.into(), self.poll(&client, &poll)).await {
                        Ok(r) => r,
                        Err(_) => {
                            retry = None;
                            after = self.applied();
                            continue;
                        }
                    }
                }
            };
            let signed = match polled {
                Ok(s) => {
                    if connected != Some(true) {
                        tracing::info!(control = %self.control, applied = self.applied(), "connected to the control node");
                        connected = Some(true);
                    }
                    backoff = Duration::from_millis(50);
                    s
                }
                Err(e) => {
                    if connected != Some(false) {
                        tracing::warn!(control = %self.control, error = %e, "control node unreachable; serving revision {} meanwhile", self.applied());
                        connected = Some(false);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let Some(signed) = signed else { continue };
            let opened = signed.open(&self.pin).and_then(|s| {
                if s.nonce == poll.nonce {
                    Ok(s)
                } else {
                    Err("the state answers another poll (replayed?): refused".to_string())
                }
            });
            let state = match opened {
                Ok(s) => s,
                Err(e) => {
                    let claimed = signed.claimed_revision();
                    tracing::error!(revision = claimed, error = %e, "state from the control node refused; the previous one keeps serving");
                    error = Some(match claimed {
                        Some(r) => format!("revision {r}: {e}"),
                        None => e,
                    });
                    after = claimed.unwrap_or(after);
                    retry = Some(Instant::now() + Duration::from_secs(2));
                    continue;
                }
            };
            let revision = state.revision;
            if let Some(why) = self.diverges(&state) {
                if !state.resync && !self.follow_restores {
                    if diverged.as_ref() != Some(&why) {
                        tracing::error!(revision, serving = self.applied(), reason = %why, "diverged from the control node");
                    }
                    diverged = Some(why);
                    after = revision;
                    continue;
                }
                let by = if state.resync {
                    "edge resync"
                } else {
                    "--follow-restores"
                };
                tracing::warn!(revision, serving = self.applied(), reason = %why, by, "taking the control node's state");
            }
            diverged = None;
            if self
                .serving
                .as_ref()
                .is_some_and(|s| s.revision == revision && s.digest == state.digest())
            {
                // Already serving it: only its invalidations are news.
                self.invalidate(&state);
                after = revision;
                error = None;
                retry = None;
                continue;
            }
            let start = Instant::now();
            match self.apply(&client, &signed, &state).await {
                Ok(()) => {
                    tracing::info!(
                        revision,
                        functions = state.functions().len(),
                        invalidations = state.invalidations.len(),
                        ms = start.elapsed().as_millis() as u64,
                        "applied revision from the control node"
                    );
                    self.serving = Some(Serving::of(&state));
                    after = revision;
                    error = None;
                    retry = None;
                }
                Err(e) => {
                    tracing::error!(revision, error = %e, "revision refused; the previous one keeps serving");
                    self.invalidate(&state);
                    // Report it with the next poll, which waits for another revision; try
                    // this one again in a while.
                    error = Some(format!("revision {revision}: {e}"));
                    after = revision;
                    retry = Some(Instant::now() + Duration::from_secs(2));
                }
            }
        }
    }

    /// One long poll: `Some(state)` when there is another revision, `None` when the hold ran out.
    async fn poll(&self, client: &HttpClient, poll: &Poll) -> Result<Option<Signed>, String> {
        let body = serde_json::to_vec(poll).map_err(|e| e.to_string())?;
        let req = http::Request::post(format!("{}/v1/edge/poll", self.control))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, bytes) = send(client, req, POLL_HOLD + Duration::from_secs(10)).await?;
        match status.as_u16() {
            200 => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("bad answer from the control node: {e}")),
            204 => Ok(None),
            s => Err(format!(
                "control node answered {s}: {}",
                String::from_utf8_lossy(&bytes)
            )),
        }
    }

    /// Fetches and verifies missing code, then swaps the node to `state` and saves it.
    async fn apply(
        &mut self,
        client: &HttpClient,
        signed: &Signed,
        state: &State,
    ) -> Result<(), String> {
        let mut code = CodeByHash::new();
        for sha in state.blobs() {
            if let Some(src) = self.code.get(sha) {
                code.insert(sha.to_string(), src.clone());
                continue;
            }
            let req = http::Request::get(format!("{}/v1/code/{sha}", self.control))
                .header(
                    http::header::AUTHORIZATION,
                    format!("Bearer {}", self.token),
                )
                .body(Full::new(Bytes::new()))
                .map_err(|e| e.to_string())?;
            let (status, bytes) = send(client, req, Duration::from_secs(30)).await?;
            if status != http::StatusCode::OK {
                return Err(format!("fetching {sha} answered {status}"));
            }
            let got = sha256_hex(&bytes);
            if got != sha {
                return Err(format!(
                    "the code or store snapshot {sha} does not match its hash (got {got}): refused"
                ));
            }
            code.insert(sha.to_string(), bytes);
        }
        let cfg = state
            .compose(&self.handle.settings(), &code)
            .map_err(|e| e.to_string())?;
        let stores = state.stores(&code).map_err(|e| e.to_string())?;
        self.handle
            .apply(cfg.distributions)
            .await
            .map_err(|e| e.to_string())?;
        crate::cloudfront::kvs::install(stores);
        self.invalidate(state);
        if let Err(e) = self.store.save(signed, state, &code) {
            tracing::warn!(error = %e, "could not save the applied state locally");
        }
        self.code = code;
        Ok(())
    }

    fn invalidate(&self, state: &State) {
        for inv in &state.invalidations {
            let n = self
                .handle
                .invalidate(inv.distribution.as_deref(), &inv.paths);
            tracing::info!(revision = inv.revision, paths = ?inv.paths, invalidated = n, "invalidation from the control node");
        }
    }
}

async fn send(
    client: &HttpClient,
    req: http::Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(http::StatusCode, Bytes), String> {
    let fut = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| edge_client::control::causes(&e))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| "timed out".to_string())?
}
