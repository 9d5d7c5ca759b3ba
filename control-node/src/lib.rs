//! The control node: function code (`$LATEST`), immutable numbered versions, distributions,
//! associations of versions with cache-behavior stages, invalidations, and a revision counter,
//! all in one SQLite file; replication to edges by long poll (see `edge_node::replica`); each
//! edge's applied revision for `edge status`. The HTTP API is in `api` and documented in
//! docs/control-api.md.

pub mod api;
pub use edge_client::control as client;
pub mod error;
pub mod store;

pub use error::ControlError;

use edge_node::lambda::Stage;
use edge_node::replica::{Poll, State, POLL_HOLD};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use store::{AssociationRow, EdgeRow, Store};

type Result<T> = std::result::Result<T, ControlError>;

/// Lambda@Edge's largest package (origin stages); viewer stages are checked at association.
pub const MAX_CODE_BYTES: usize = edge_node::config::defaults::ORIGIN_CODE_BYTES;

pub struct Control {
    store: Mutex<Store>,
    revision: tokio::sync::watch::Sender<u64>,
    /// The state at the current revision, built once for all the edges that ask.
    state: Mutex<Option<Arc<State>>>,
    /// Edges seen since this process started: polls in flight, and when the last one ended.
    /// Every edge the store knows starts as just seen, so that right after a restart, before
    /// the edges have polled again (they retry within a second), `--wait` still waits for them;
    /// one that does not come back stops counting after `RECONNECT_GRACE`.
    seen: Mutex<HashMap<String, Seen>>,
    token: String,
}

/// An edge's polls as this control node saw them.
#[derive(Clone, Copy)]
struct Seen {
    in_flight: usize,
    last: Instant,
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

/// `PUT /v1/distributions/{id}`: one `[[distributions]]` table (TOML, CloudFront names) and,
/// when given, the complete set of its associations (replacing the old set in the same change).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DistributionRequest {
    pub config: String,
    #[serde(default)]
    pub associations: Option<Vec<AssociateRequest>>,
}

pub use edge_client::control::{ClusterStatus, EdgeStatus, Published};

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

fn behavior_key(b: Option<&str>) -> String {
    match b {
        None | Some("default") | Some("") => String::new(),
        Some(p) => p.to_string(),
    }
}

impl Control {
    pub fn open(dir: &Path, token: String) -> Result<Control> {
        let store = Store::open(dir)?;
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
        })
    }

    pub fn authorized(&self, header: Option<&str>) -> bool {
        let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        let (a, b) = (given.as_bytes(), self.token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn revision(&self) -> u64 {
        *self.revision.borrow()
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

    /// `$LATEST` := `code`.
    pub fn put_code(&self, name: &str, code: &[u8]) -> Result<(String, usize)> {
        check_name(name)?;
        if code.is_empty() {
            return Err(ControlError::invalid(
                "InvalidParameterValueException",
                "the function code is empty",
            ));
        }
        if code.len() > MAX_CODE_BYTES {
            return Err(ControlError::TooLarge(format!(
                "the function code is {} bytes; Lambda@Edge functions may be at most {MAX_CODE_BYTES} bytes",
                code.len()
            )));
        }
        if std::str::from_utf8(code).is_err() {
            return Err(ControlError::invalid(
                "InvalidParameterValueException",
                "the function code must be UTF-8 JavaScript",
            ));
        }
        let sha = edge_node::replica::sha256_hex(code);
        self.store().tx(|tx| {
            store::put_code(tx, &sha, code)?;
            store::set_latest(tx, name, &sha)
        })?;
        Ok((sha, code.len()))
    }

    /// Publishes `$LATEST` as the next version (or returns the newest version when `$LATEST`
    /// has not changed since, as Lambda's PublishVersion does).
    pub fn publish(&self, name: &str) -> Result<(Published, bool)> {
        check_name(name)?;
        self.store().tx(|tx| {
            let latest: Option<String> = tx
                .query_row(
                    "SELECT latest_sha256 FROM functions WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .ok();
            let sha = latest.ok_or_else(|| ControlError::NotFound(format!("function {name}")))?;
            let versions = store::versions(tx, name)?;
            if let Some(last) = versions.last() {
                if last.sha256 == sha {
                    return Ok((
                        Published {
                            name: name.to_string(),
                            version: last.version,
                            sha256: sha,
                        },
                        false,
                    ));
                }
            }
            let version: u64 =
                tx.query_row(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE name = ?1",
                    [name],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(|e| ControlError::Store(e.to_string()))? as u64;
            store::insert_version(tx, name, version, &sha)?;
            Ok((
                Published {
                    name: name.to_string(),
                    version,
                    sha256: sha,
                },
                true,
            ))
        })
    }

    pub fn functions(&self) -> Result<Vec<String>> {
        self.store().function_names()
    }

    pub fn versions(&self, name: &str) -> Result<serde_json::Value> {
        let store = self.store();
        let latest = store
            .latest(name)?
            .ok_or_else(|| ControlError::NotFound(format!("function {name}")))?;
        let assoc = store.associations()?;
        let versions: Vec<serde_json::Value> = store
            .versions(name)?
            .into_iter()
            .map(|v| {
                let used: Vec<String> = assoc
                    .iter()
                    .filter(|a| uses(a, name, v.version))
                    .map(slot_name)
                    .collect();
                serde_json::json!({
                    "version": v.version, "sha256": v.sha256, "size": v.size,
                    "published_at": v.published_at, "associations": used,
                })
            })
            .collect();
        Ok(serde_json::json!({
            "name": name,
            "latest": {"sha256": latest.0, "size": latest.1},
            "versions": versions,
        }))
    }

    pub fn version_code(&self, name: &str, version: u64) -> Result<Vec<u8>> {
        let store = self.store();
        let v = store
            .version(name, version)?
            .ok_or_else(|| ControlError::NotFound(format!("function version {name}:{version}")))?;
        store
            .code(&v.sha256)?
            .ok_or_else(|| ControlError::NotFound(format!("code {}", v.sha256)))
    }

    pub fn code(&self, sha256: &str) -> Result<Vec<u8>> {
        self.store()
            .code(sha256)?
            .ok_or_else(|| ControlError::NotFound(format!("code {sha256}")))
    }

    /// Deletes a version; refused while any association uses it.
    pub fn delete_version(&self, name: &str, version: u64) -> Result<()> {
        // The check and the delete are one transaction: an association made in between cannot
        // end up naming a deleted version.
        self.store().tx(|tx| {
            if let Some(a) = store::associations(tx)?.iter().find(|a| uses(a, name, version)) {
                return Err(ControlError::Conflict(format!(
                    "Lambda was unable to delete {name}:{version} because it is a replicated function: it is associated with {}. Remove the association first.",
                    slot_name(a)
                )));
            }
            if !store::delete_version(tx, name, version)? {
                return Err(ControlError::NotFound(format!(
                    "function version {name}:{version}"
                )));
            }
            Ok(())
        })
    }

    fn distribution_id(&self, tx: &rusqlite::Connection, given: Option<&str>) -> Result<String> {
        let ids: Vec<String> = store::distributions(tx)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        match given {
            Some(id) if ids.iter().any(|i| i == id) => Ok(id.to_string()),
            Some(id) => Err(ControlError::NotFound(format!("distribution {id}"))),
            None if ids.len() == 1 => Ok(ids[0].clone()),
            None if ids.is_empty() => Err(ControlError::invalid(
                "InvalidArgument",
                "there is no distribution yet: deploy one first (edge deploy --config edge.toml)",
            )),
            None => Err(ControlError::invalid(
                "InvalidArgument",
                format!(
                    "name the distribution (--distribution): one of {}",
                    ids.join(", ")
                ),
            )),
        }
    }

    fn association_row(
        &self,
        tx: &rusqlite::Transaction<'_>,
        distribution: &str,
        r: &AssociateRequest,
    ) -> Result<AssociationRow> {
        let stage = stage_of(&r.stage)?;
        let (name, version) = parse_qualified(&r.function)?;
        if r.include_body && !stage.is_request() {
            return Err(ControlError::invalid(
                "InvalidLambdaFunctionAssociation",
                "The IncludeBody option can only be used with viewer-request or origin-request events.",
            ));
        }
        if store::versions(tx, &name)?
            .iter()
            .all(|v| v.version != version)
        {
            return Err(ControlError::NotFound(format!(
                "function version {name}:{version}"
            )));
        }
        let canary = match (&r.canary, r.canary_percent) {
            (None, None) => None,
            (Some(c), Some(p)) if (1..=99).contains(&p) => {
                let (cn, cv) = parse_qualified(c)?;
                if store::versions(tx, &cn)?.iter().all(|v| v.version != cv) {
                    return Err(ControlError::NotFound(format!("function version {cn}:{cv}")));
                }
                Some((cn, cv, p))
            }
            _ => {
                return Err(ControlError::invalid(
                    "InvalidArgument",
                    "a canary needs both a function version and a percent from 1 to 99 (NAME:VERSION=PERCENT)",
                ))
            }
        };
        let behavior = behavior_key(r.behavior.as_deref());
        let existing = store::associations(tx)?.into_iter().find(|a| {
            a.distribution == distribution && a.behavior == behavior && a.stage == stage.as_str()
        });
        let previous_version = match existing {
            Some(e) if e.name == name && e.version != version => Some(e.version),
            Some(e) if e.name == name => e.previous_version,
            _ => None,
        };
        Ok(AssociationRow {
            distribution: distribution.to_string(),
            behavior,
            stage: stage.as_str().to_string(),
            name,
            version,
            include_body: r.include_body,
            canary,
            previous_version,
        })
    }

    /// Associates a version (and maybe a canary) with a stage; replaces what was there.
    pub fn associate(&self, r: &AssociateRequest) -> Result<u64> {
        Ok(self
            .change(|tx| {
                let d = self.distribution_id(tx, r.distribution.as_deref())?;
                let row = self.association_row(tx, &d, r)?;
                store::upsert_association(tx, &row)
            })?
            .1)
    }

    pub fn disassociate(&self, s: &Slot) -> Result<u64> {
        Ok(self
            .change(|tx| {
                let d = self.distribution_id(tx, s.distribution.as_deref())?;
                let stage = stage_of(&s.stage)?;
                let b = behavior_key(s.behavior.as_deref());
                if !store::delete_association(tx, &d, &b, stage.as_str())? {
                    return Err(ControlError::NotFound(format!(
                        "association at {d}:{}:{stage}",
                        if b.is_empty() { "default" } else { &b }
                    )));
                }
                Ok(())
            })?
            .1)
    }

    pub fn associations(&self) -> Result<Vec<AssociationRow>> {
        self.store().associations()
    }

    /// Undoes a canary (the main version keeps all traffic) or, without one, returns each of
    /// the function's associations to the version it had before its last change.
    pub fn rollback(&self, name: &str) -> Result<(u64, Vec<String>)> {
        self.change(|tx| {
            let mut changed = Vec::new();
            for mut a in store::associations(tx)? {
                let involved = a.name == name || a.canary.as_ref().is_some_and(|c| c.0 == name);
                if !involved {
                    continue;
                }
                if a.canary.take().is_some() {
                    changed.push(format!("{}: canary removed, {}:{} serves all", slot_name(&a), a.name, a.version));
                } else if let Some(p) = a.previous_version.take() {
                    changed.push(format!("{}: {}:{} → {}:{p}", slot_name(&a), a.name, a.version, a.name));
                    a.version = p;
                } else {
                    continue;
                }
                store::upsert_association(tx, &a)?;
            }
            if changed.is_empty() {
                return Err(ControlError::Conflict(format!(
                    "nothing to roll back: no association of {name} has a canary or an earlier version"
                )));
            }
            Ok(changed)
        })
        .map(|(c, r)| (r, c))
    }

    /// Puts a distribution (and, when given, all its associations) in one change.
    pub fn put_distribution(&self, id: &str, r: &DistributionRequest) -> Result<u64> {
        let value: toml::Value = toml::from_str(&r.config).map_err(|e| {
            ControlError::invalid(
                "InvalidArgument",
                format!("config is not TOML: {}", e.message()),
            )
        })?;
        let list = value
            .get("distributions")
            .and_then(|d| d.as_array())
            .filter(|d| d.len() == 1)
            .ok_or_else(|| {
                ControlError::invalid(
                    "InvalidArgument",
                    "config must hold exactly one [[distributions]] table",
                )
            })?;
        let mut table = list[0].clone();
        match table.get("Id").and_then(|v| v.as_str()) {
            Some(given) if given != id => {
                return Err(ControlError::invalid(
                    "InvalidArgument",
                    format!("the config's Id {given:?} is not the Id in the URL {id:?}"),
                ))
            }
            Some(_) => {}
            None => {
                if let Some(t) = table.as_table_mut() {
                    t.insert("Id".into(), toml::Value::String(id.to_string()));
                }
            }
        }
        let mut doc = toml::map::Map::new();
        doc.insert("distributions".into(), toml::Value::Array(vec![table]));
        let text = toml::to_string(&toml::Value::Table(doc))
            .map_err(|e| ControlError::invalid("InvalidArgument", e.to_string()))?;
        edge_node::config::parse_distributions(&text)
            .map_err(|e| ControlError::invalid("InvalidDistributionConfig", e.to_string()))?;
        Ok(self
            .change(|tx| {
                store::put_distribution(tx, id, &text)?;
                if let Some(assocs) = &r.associations {
                    tx.execute("DELETE FROM associations WHERE distribution = ?1", [id])
                        .map_err(|e| ControlError::Store(e.to_string()))?;
                    for a in assocs {
                        let row = self.association_row(tx, id, a)?;
                        store::upsert_association(tx, &row)?;
                    }
                }
                Ok(())
            })?
            .1)
    }

    pub fn distributions(&self) -> Result<Vec<(String, String)>> {
        self.store().distributions()
    }

    pub fn invalidate(&self, distribution: Option<&str>, paths: &[String]) -> Result<u64> {
        edge_node::admin::check_paths(paths)
            .map_err(|e| ControlError::invalid("InvalidArgument", e.to_string()))?;
        Ok(self
            .change(|tx| {
                let d = match distribution {
                    Some(id) => Some(self.distribution_id(tx, Some(id))?),
                    None => None,
                };
                let revision = store::revision(tx)? + 1;
                store::insert_invalidation(tx, revision, d.as_deref(), paths)
            })?
            .1)
    }

    fn current_state(&self) -> Result<Arc<State>> {
        let mut cached = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = cached.as_ref().filter(|s| s.revision == self.revision()) {
            return Ok(s.clone());
        }
        let s = Arc::new(self.store().state()?);
        *cached = Some(s.clone());
        Ok(s)
    }

    /// An edge's long poll: records where it stands, then answers with the state once the
    /// revision is newer than `after` (or `None` when the hold runs out).
    pub async fn poll(&self, p: &Poll) -> Result<Option<State>> {
        if p.pop.is_empty() {
            return Err(ControlError::invalid("InvalidArgument", "pop is empty"));
        }
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(p.pop.clone())
            .and_modify(|s| {
                s.in_flight += 1;
                s.last = Instant::now();
            })
            .or_insert(Seen {
                in_flight: 1,
                last: Instant::now(),
            });
        let _polling = PollGuard {
            seen: &self.seen,
            pop: p.pop.clone(),
        };
        let row = EdgeRow {
            pop: p.pop.clone(),
            url: p.url.clone(),
            applied: p.applied,
            error: p.error.clone(),
        };
        let changed = {
            let store = self.store();
            let known = store.edges()?.into_iter().find(|e| e.pop == p.pop);
            let changed = known.is_none_or(|k| {
                k.url != row.url || k.applied != row.applied || k.error != row.error
            });
            if changed {
                store.save_edge(&row)?;
            }
            changed
        };
        if changed {
            tracing::info!(pop = %p.pop, applied = p.applied, error = p.error.as_deref().unwrap_or(""), "edge reported");
        }
        let mut rx = self.revision.subscribe();
        let after = p.after;
        let newer = tokio::time::timeout(POLL_HOLD, rx.wait_for(|r| *r > after)).await;
        if !matches!(newer, Ok(Ok(_))) {
            return Ok(None);
        }
        let mut state = (*self.current_state()?).clone();
        state.invalidations = self.store().invalidations_after(p.applied)?;
        Ok(Some(state))
    }

    pub fn status(&self) -> Result<ClusterStatus> {
        let revision = self.revision();
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let edges = self
            .store()
            .edges()?
            .into_iter()
            .map(|e| EdgeStatus {
                state: if e.applied >= revision && e.error.is_none() {
                    "Deployed"
                } else {
                    "InProgress"
                }
                .to_string(),
                lag: revision.saturating_sub(e.applied),
                connected: seen
                    .get(&e.pop)
                    .is_some_and(|s| s.in_flight > 0 || s.last.elapsed() < RECONNECT_GRACE),
                pop: e.pop,
                url: e.url,
                revision: e.applied,
                error: e.error,
            })
            .collect();
        Ok(ClusterStatus { revision, edges })
    }
}

fn uses(a: &AssociationRow, name: &str, version: u64) -> bool {
    (a.name == name && a.version == version)
        || a.canary
            .as_ref()
            .is_some_and(|c| c.0 == name && c.1 == version)
}

fn slot_name(a: &AssociationRow) -> String {
    format!(
        "{}:{}:{}",
        a.distribution,
        if a.behavior.is_empty() {
            "default"
        } else {
            &a.behavior
        },
        a.stage
    )
}
