//! Function code and versions: `$LATEST`, publish (one immutable version per distinct code),
//! listing, fetching by hash, and deleting a version no association uses.

use crate::associations::{slot_name, uses};
use crate::*;

/// How long a function's top level may run when the control node loads it to check it
/// (Lambda's Init limit, as on every edge by default).
const INIT_LIMIT: std::time::Duration =
    std::time::Duration::from_secs(edge_node::config::defaults::FUNCTION_INIT_TIMEOUT_S as u64);

impl Control {
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
        // Loaded, as every edge would load it, before anything is stored: no edge ever
        // receives code it would refuse. On a thread of its own: the check makes an engine
        // with its own runtime.
        let bytes = bytes::Bytes::copy_from_slice(code);
        let checked = std::thread::scope(|s| {
            s.spawn(|| edge_node::js::check_code(name, bytes, INIT_LIMIT))
                .join()
                .unwrap_or_else(|_| {
                    Err(edge_node::js::FnError::Threw(
                        "the code check failed".into(),
                    ))
                })
        });
        if let Err(e) = checked {
            let reason = match e {
                edge_node::js::FnError::Load { reason, .. } => reason,
                other => other.to_string(),
            };
            return Err(ControlError::invalid(
                "InvalidParameterValueException",
                format!("the function code does not load: {reason}"),
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
    /// has not changed since, as Lambda's PublishVersion does). With `expected` (PublishVersion's
    /// CodeSha256), only if `$LATEST` is still that code: a publisher whose upload another one
    /// replaced in between gets PreconditionFailedException, never a version of someone
    /// else's code.
    pub fn publish(&self, name: &str, expected: Option<&str>) -> Result<(Published, bool)> {
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
            if let Some(want) = expected.filter(|w| *w != sha) {
                return Err(ControlError::PreconditionFailed(format!(
                    "$LATEST of {name} is no longer the code with SHA-256 {want} (it is {sha}): it was replaced after that upload; upload and publish again"
                )));
            }
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

    /// Deletes a function with every version (Lambda's DeleteFunction); refused while any
    /// association uses one of them. Returns how many versions went with it.
    pub fn delete_function(&self, name: &str) -> Result<usize> {
        self.store().tx(|tx| {
            if let Some(a) = store::associations(tx)?.iter().find(|a| {
                a.name == name || a.canary.as_ref().is_some_and(|c| c.0 == name)
            }) {
                return Err(ControlError::Conflict(format!(
                    "Lambda was unable to delete {name} because it is a replicated function: it is associated with {}. Remove the association first.",
                    slot_name(a)
                )));
            }
            store::delete_function(tx, name)?
                .ok_or_else(|| ControlError::NotFound(format!("function {name}")))
        })
    }
}
