//! The control node: function code (`$LATEST`), immutable numbered versions, distributions,
//! associations of versions with cache-behavior stages, invalidations, and a revision counter,
//! all in one SQLite file; replication to edges by long poll (see `edge_node::replica`); each
//! edge's applied revision for `edge status`. The HTTP API is in `api` and documented in
//! docs/control-api.md.

pub mod api;
mod associations;
mod cloudfront;
mod kvs;
pub use cloudfront::{CfFunctionRequest, FnStage};
mod functions;
mod replication;
pub use edge_client::control as client;
pub mod error;
pub mod store;

pub use error::ControlError;

use edge_node::lambda::Stage;
use edge_node::replica::State;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use store::Store;

type Result<T> = std::result::Result<T, ControlError>;

/// Lambda@Edge's largest package (origin stages); viewer stages are checked at association.
pub const MAX_CODE_BYTES: usize = edge_node::config::defaults::ORIGIN_CODE_BYTES;

pub struct Control {
    store: Mutex<Store>,
    revision: tokio::sync::watch::Sender<u64>,
    /// The state at the current revision and its digest, built once for all the edges that ask.
    state: Mutex<Option<(Arc<State>, String)>>,
    /// Edges seen since this process started: polls in flight, and when the last one ended.
    /// Every edge the store knows starts as just seen, so that right after a restart, before
    /// the edges have polled again (they retry within a second), `--wait` still waits for them;
    /// one that does not come back stops counting after `RECONNECT_GRACE`.
    seen: Mutex<HashMap<String, Seen>>,
    token: String,
    /// Signs every state sent to an edge (`edge_node::signing`); made with the store.
    key: edge_node::signing::SigningKey,
    cluster: String,
    /// Edges the operator asked to take this node's state whatever they serve (`edge resync`),
    /// and a counter bumped with each ask to wake their held polls.
    resync: Mutex<std::collections::HashSet<String>>,
    resync_asked: tokio::sync::watch::Sender<u64>,
}

/// An edge's polls as this control node saw them.
#[derive(Clone)]
struct Seen {
    in_flight: usize,
    last: Instant,
    /// Polled this process: until then its revision is the store's record of it, which a
    /// restored store may have wrong, so it does not count as Deployed.
    reported: bool,
    /// The edge's admin API, as its last poll gave it.
    admin: Option<String>,
    /// Why the edge does not follow this node's state, as its last poll said.
    diverged: Option<String>,
    /// Whether its last poll came over TLS (`None`: not polled since this process started).
    tls: Option<bool>,
}

/// An edge counts as connected while a poll of it is held, and for this long after one ends
/// (it polls again at once when answered).
const RECONNECT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Marks a poll ended when dropped: answered, timed out, or abandoned by an edge that went away.
struct PollGuard<'a> {
    seen: &'a Mutex<HashMap<String, Seen>>,
    pop: String,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = seen.get_mut(&self.pop) {
            s.in_flight = s.in_flight.saturating_sub(1);
            s.last = Instant::now();
        }
    }
}

/// `POST /v1/associations`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct AssociateRequest {
    /// `NAME:VERSION` or a versioned Lambda ARN.
    pub function: String,
    #[serde(default)]
    pub distribution: Option<String>,
    /// A cache behavior's PathPattern, or `default`.
    #[serde(default)]
    pub behavior: Option<String>,
    pub stage: String,
    #[serde(default)]
    pub include_body: bool,
    /// `NAME:VERSION` serving `canary_percent` of viewers.
    #[serde(default)]
    pub canary: Option<String>,
    #[serde(default)]
    pub canary_percent: Option<u8>,
}

/// Where an association sits.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Slot {
    #[serde(default)]
    pub distribution: Option<String>,
    #[serde(default)]
    pub behavior: Option<String>,
    pub stage: String,
}

/// `PUT /v1/distributions`: the distributions `edge deploy` puts in one change; with
/// `replace`, the ones not given are removed in it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DistributionsRequest {
    pub distributions: Vec<NamedDistribution>,
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct NamedDistribution {
    pub id: String,
    #[serde(flatten)]
    pub request: DistributionRequest,
}

/// `PUT /v1/distributions/{id}`: one `[[distributions]]` table (TOML, CloudFront names) and,
/// when given, the complete set of its associations (replacing the old set in the same change).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DistributionRequest {
    pub config: String,
    #[serde(default)]
    pub associations: Option<Vec<AssociateRequest>>,
}

pub use edge_client::control::{ClusterStatus, EdgeStatus, Published, StoreStatus};

/// 16 random bytes as hex.
pub(crate) fn random_hex() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ControlError::invalid(
            "InvalidParameterValueException",
            format!("function name {name:?} must be 1 to 64 letters, digits, '-' or '_'"),
        ));
    }
    Ok(())
}

/// `NAME:VERSION` or `arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION` → (name, version).
/// `$LATEST`, aliases and unqualified names are refused as CloudFront refuses them.
pub fn parse_qualified(s: &str) -> Result<(String, u64)> {
    let plain = match s.strip_prefix("arn:aws:lambda:") {
        Some(rest) => rest.splitn(4, ':').nth(3).unwrap_or(""),
        None => s,
    };
    let plain = plain.strip_prefix("function:").unwrap_or(plain);
    let refuse = || {
        ControlError::invalid(
            "InvalidLambdaFunctionAssociation",
            format!("The function ARN must reference a specific function version. (The ARN must end with the version number.) Got {s:?}"),
        )
    };
    let (name, qualifier) = plain.rsplit_once(':').ok_or_else(refuse)?;
    check_name(name)?;
    let version: u64 = qualifier.parse().map_err(|_| refuse())?;
    if version == 0 {
        return Err(refuse());
    }
    Ok((name.to_string(), version))
}

fn stage_of(s: &str) -> Result<Stage> {
    Stage::parse(s).ok_or_else(|| {
        ControlError::invalid(
            "InvalidLambdaFunctionAssociation",
            format!("EventType {s:?} is not one of viewer-request, origin-request, origin-response, viewer-response"),
        )
    })
}

pub(crate) fn behavior_key(b: Option<&str>) -> String {
    match b {
        None | Some("default") | Some("") => String::new(),
        Some(p) => p.to_string(),
    }
}

impl Control {
    pub fn open(dir: &Path, token: String) -> Result<Control> {
        let store = Store::open(dir)?;
        let key_path = dir.join("control.key");
        let (key, made) = edge_node::signing::SigningKey::load_or_create(&key_path)
            .map_err(ControlError::Store)?;
        if made {
            tracing::info!(path = %key_path.display(), fingerprint = %key.public().fingerprint(), "made the signing key of this control store");
        }
        // The public half, for edges (`edge node --control-key DIR/control.pub`).
        let public = dir.join("control.pub");
        std::fs::write(&public, key.public().to_pem())
            .map_err(|e| ControlError::Store(format!("{}: {e}", public.display())))?;
        let cluster = store::cluster(store.conn())?;
        let revision = store.revision()?;
        let now = Instant::now();
        let seen = store
            .edges()?
            .into_iter()
            .map(|e| {
                (
                    e.pop,
                    Seen {
                        in_flight: 0,
                        last: now,
                        reported: false,
                        admin: None,
                        tls: None,
                        diverged: None,
                    },
                )
            })
            .collect();
        Ok(Control {
            store: Mutex::new(store),
            revision: tokio::sync::watch::Sender::new(revision),
            state: Mutex::new(None),
            seen: Mutex::new(seen),
            token,
            key,
            cluster,
            resync: Mutex::default(),
            resync_asked: tokio::sync::watch::Sender::new(0),
        })
    }

    pub fn authorized(&self, header: Option<&str>) -> bool {
        edge_node::admin::bearer_matches(header, &self.token)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn revision(&self) -> u64 {
        *self.revision.borrow()
    }

    /// The fingerprint of the key that signs every state (`sha256:HEX`).
    /// A TLS certificate for `names` made from the signing key (PEM certificate and key), which
    /// clients pinning the key trust.
    pub fn certificate(&self, names: &[String]) -> std::result::Result<(String, String), String> {
        self.key.certificate(names)
    }

    pub fn key_fingerprint(&self) -> String {
        self.key.public().fingerprint()
    }

    /// The id made with the store.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// A change that edges must see: runs `f` in a transaction that also bumps the revision
    /// and checks that the resulting state composes into a valid edge configuration.
    fn change<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<(T, u64)> {
        let mut store = self.store();
        let out = store.tx(|tx| {
            let out = f(tx)?;
            let revision = store::bump(tx)?;
            let state = store::state(tx)?;
            let code = store::code_of(tx, &state)?;
            let node = edge_node::config::parse_distributions("")
                .map_err(|e| ControlError::Store(e.to_string()))?
                .node;
            state.compose(&node, &code).map_err(|e| {
                let code = match e {
                    edge_node::NodeError::Association { .. } => "InvalidLambdaFunctionAssociation",
                    edge_node::NodeError::FunctionAssociation { .. } => {
                        "InvalidFunctionAssociation"
                    }
                    _ => "InvalidArgument",
                };
                ControlError::invalid(code, e.to_string())
            })?;
            Ok((out, revision))
        })?;
        drop(store);
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.revision.send_replace(out.1);
        Ok(out)
    }
}
