//! The durable store: one SQLite database. Every change is one transaction, so a kill -9 at any
//! moment leaves either all of a change or none of it (a version with its code, an
//! association with the revision it bumped).

use crate::error::ControlError;
use edge_node::replica::{FnRef, State, WireAssociation, WireCanary, WireInvalidation, WireKvs};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, ControlError>;

pub struct Store {
    conn: Connection,
    /// The database file and the identity (device, inode) it had when opened: a write is
    /// refused once the file is gone or replaced, since it would be lost at the next restart.
    path: PathBuf,
    identity: (u64, u64),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0);
CREATE TABLE IF NOT EXISTS code (sha256 TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    latest_sha256 TEXT NOT NULL REFERENCES code(sha256),
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL REFERENCES functions(name),
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES code(sha256),
    published_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS distributions (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS associations (
    distribution TEXT NOT NULL,
    behavior TEXT NOT NULL,
    stage TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    include_body INTEGER NOT NULL,
    canary_name TEXT,
    canary_version INTEGER,
    canary_percent INTEGER,
    previous_version INTEGER,
    PRIMARY KEY (distribution, behavior, stage)
);
CREATE TABLE IF NOT EXISTS invalidations (
    revision INTEGER PRIMARY KEY,
    distribution TEXT,
    paths TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cf_functions (
    name TEXT PRIMARY KEY,
    comment TEXT NOT NULL,
    runtime TEXT NOT NULL,
    dev_sha256 TEXT NOT NULL REFERENCES code(sha256),
    dev_etag INTEGER NOT NULL,
    live_sha256 TEXT REFERENCES code(sha256),
    live_runtime TEXT,
    live_version INTEGER NOT NULL DEFAULT 0,
    kvs TEXT,
    live_kvs TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    published_at INTEGER
);
CREATE TABLE IF NOT EXISTS kv_stores (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    comment TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES code(sha256),
    etag INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS kv_items (
    store TEXT NOT NULL REFERENCES kv_stores(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (store, key)
);
CREATE TABLE IF NOT EXISTS function_associations (
    distribution TEXT NOT NULL,
    behavior TEXT NOT NULL,
    stage TEXT NOT NULL,
    name TEXT NOT NULL REFERENCES cf_functions(name),
    PRIMARY KEY (distribution, behavior, stage)
);
CREATE TABLE IF NOT EXISTS cluster (id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS edges (
    pop TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    applied INTEGER NOT NULL,
    error TEXT
);
";

/// One association as stored (behavior `""` is the default behavior).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AssociationRow {
    pub distribution: String,
    pub behavior: String,
    pub stage: String,
    pub name: String,
    pub version: u64,
    pub include_body: bool,
    pub canary: Option<(String, u64, u8)>,
    pub previous_version: Option<u64>,
}

/// A CloudFront function: its DEVELOPMENT stage (editable, testable) and, once published,
/// its LIVE stage (what associations run).
#[derive(Debug, Clone)]
pub struct CfFunctionRow {
    pub name: String,
    pub comment: String,
    pub runtime: String,
    pub dev_sha256: String,
    /// Bumped by every change of the DEVELOPMENT stage (and publish): the ETag.
    pub dev_etag: u64,
    pub live: Option<(String, String)>,
    pub live_version: u64,
    pub created_at: u64,
    pub updated_at: u64,
    pub published_at: Option<u64>,
    /// The KeyValueStore (its name) each stage's `cf.kvs()` reads.
    pub kvs: Option<String>,
    pub live_kvs: Option<String>,
}

/// A KeyValueStore as stored; its items are rows of `kv_items`, its snapshot (AWS's import
/// format, keys sorted) is in `code` under `sha256`.
#[derive(Debug, Clone)]
pub struct KvsRow {
    pub name: String,
    pub id: String,
    pub comment: String,
    pub sha256: String,
    pub etag: u64,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// The revision that last changed it.
    pub revision: u64,
}

pub fn kv_stores(conn: &Connection) -> Result<Vec<KvsRow>> {
    let mut st = conn
        .prepare("SELECT name, id, comment, sha256, etag, created_ms, updated_ms, revision FROM kv_stores ORDER BY name")
        .map_err(db)?;
    let rows = st
        .query_map([], |r| {
            Ok(KvsRow {
                name: r.get(0)?,
                id: r.get(1)?,
                comment: r.get(2)?,
                sha256: r.get(3)?,
                etag: r.get::<_, i64>(4)? as u64,
                created_ms: r.get::<_, i64>(5)? as u64,
                updated_ms: r.get::<_, i64>(6)? as u64,
                revision: r.get::<_, i64>(7)? as u64,
            })
        })
        .map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn kv_store(conn: &Connection, name: &str) -> Result<Option<KvsRow>> {
    Ok(kv_stores(conn)?.into_iter().find(|s| s.name == name))
}

pub fn put_kv_store(tx: &Transaction<'_>, s: &KvsRow) -> Result<()> {
    tx.execute(
        "INSERT INTO kv_stores (name, id, comment, sha256, etag, created_ms, updated_ms, revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(name) DO UPDATE SET comment = ?3, sha256 = ?4, etag = ?5, updated_ms = ?7, revision = ?8",
        params![s.name, s.id, s.comment, s.sha256, s.etag as i64, s.created_ms as i64, s.updated_ms as i64, s.revision as i64],
    )
    .map_err(db)?;
    Ok(())
}

pub fn delete_kv_store(tx: &Transaction<'_>, name: &str) -> Result<()> {
    tx.execute("DELETE FROM kv_items WHERE store = ?1", [name])
        .map_err(db)?;
    tx.execute("DELETE FROM kv_stores WHERE name = ?1", [name])
        .map_err(db)?;
    Ok(())
}

pub fn kv_items(conn: &Connection, store: &str) -> Result<Vec<(String, String)>> {
    let mut st = conn
        .prepare("SELECT key, value FROM kv_items WHERE store = ?1 ORDER BY key")
        .map_err(db)?;
    let rows = st
        .query_map([store], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn put_kv_item(tx: &Transaction<'_>, store: &str, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO kv_items (store, key, value) VALUES (?1, ?2, ?3)",
        params![store, key, value],
    )
    .map_err(db)?;
    Ok(())
}

pub fn delete_kv_item(tx: &Transaction<'_>, store: &str, key: &str) -> Result<bool> {
    let n = tx
        .execute(
            "DELETE FROM kv_items WHERE store = ?1 AND key = ?2",
            params![store, key],
        )
        .map_err(db)?;
    Ok(n > 0)
}

/// A CloudFront function associated with a viewer event of a cache behavior.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionAssociationRow {
    pub distribution: String,
    pub behavior: String,
    pub stage: String,
    pub name: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionRow {
    pub version: u64,
    pub sha256: String,
    pub size: usize,
    pub published_at: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EdgeRow {
    pub pop: String,
    pub url: String,
    pub applied: u64,
    pub error: Option<String>,
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `body` if its SHA-256 is `sha256`; otherwise the store was altered: logged and refused.
fn verified(sha256: &str, body: Vec<u8>) -> Result<Vec<u8>> {
    let actual = edge_node::replica::sha256_hex(&body);
    if actual != sha256 {
        tracing::error!(expected = sha256, actual = %actual, "stored code does not match its hash: the store was altered; refusing to serve it");
        return Err(ControlError::Store(format!(
            "the code stored as {sha256} has the SHA-256 {actual}: the store was altered; it is not served"
        )));
    }
    Ok(body)
}

/// (device, inode) of the file at `path`, if there is one.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn db(e: rusqlite::Error) -> ControlError {
    ControlError::Store(e.to_string())
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ControlError::Store(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("control.sqlite3");
        let conn = Connection::open(&path)
            .map_err(|e| ControlError::Store(format!("{}: {e}", path.display())))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )
        .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        // The cluster id is made with the store: a store rebuilt from nothing is another
        // cluster, and edges that served the old one say so instead of following it.
        let cluster: Option<String> = conn
            .query_row("SELECT id FROM cluster", [], |r| r.get(0))
            .optional()
            .map_err(db)?;
        if cluster.is_none() {
            conn.execute(
                "INSERT INTO cluster (id) VALUES (?1)",
                [crate::random_hex()],
            )
            .map_err(db)?;
        }
        let identity = file_identity(&path).ok_or_else(|| {
            ControlError::Store(format!("{} is not there after opening it", path.display()))
        })?;
        Ok(Store {
            conn,
            path,
            identity,
        })
    }

    /// Runs `f` in one transaction (committed only if it returns Ok). Refused when the
    /// database file was removed or replaced since it was opened: the change would not
    /// survive a restart.
    pub fn tx<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if file_identity(&self.path) != Some(self.identity) {
            tracing::error!(path = %self.path.display(), "the control store's file was removed or replaced while running: refusing changes; restart the control node");
            return Err(ControlError::Store(format!(
                "the store's file {} was removed or replaced while the control node runs; nothing more is accepted until it restarts",
                self.path.display()
            )));
        }
        let tx = self.conn.transaction().map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    pub fn revision(&self) -> Result<u64> {
        revision(&self.conn)
    }

    /// The code stored under `sha256`, re-hashed: a row whose body no longer has its hash (an
    /// edited or damaged store) is an error, never served under the old name.
    pub fn code(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let body: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT body FROM code WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        body.map(|b| verified(sha256, b)).transpose()
    }

    pub fn latest(&self, name: &str) -> Result<Option<(String, usize)>> {
        self.conn
            .query_row(
                "SELECT f.latest_sha256, length(c.body) FROM functions f JOIN code c ON c.sha256 = f.latest_sha256 WHERE f.name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)),
            )
            .optional()
            .map_err(db)
    }

    pub fn function_names(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM functions ORDER BY name")
            .map_err(db)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(db)?;
        rows.collect::<std::result::Result<_, _>>().map_err(db)
    }

    pub fn versions(&self, name: &str) -> Result<Vec<VersionRow>> {
        versions(&self.conn, name)
    }

    pub fn version(&self, name: &str, version: u64) -> Result<Option<VersionRow>> {
        Ok(versions(&self.conn, name)?
            .into_iter()
            .find(|v| v.version == version))
    }

    pub fn associations(&self) -> Result<Vec<AssociationRow>> {
        associations(&self.conn)
    }

    pub fn distributions(&self) -> Result<Vec<(String, String)>> {
        distributions(&self.conn)
    }

    pub fn cf_function(&self, name: &str) -> Result<Option<CfFunctionRow>> {
        cf_function(&self.conn, name)
    }

    pub fn cf_functions(&self) -> Result<Vec<CfFunctionRow>> {
        cf_functions(&self.conn)
    }

    pub fn function_associations(&self) -> Result<Vec<FunctionAssociationRow>> {
        function_associations(&self.conn)
    }

    /// The connection, for reads shared with transactions.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn kv_store(&self, name: &str) -> Result<Option<KvsRow>> {
        kv_store(&self.conn, name)
    }

    pub fn kv_stores(&self) -> Result<Vec<KvsRow>> {
        kv_stores(&self.conn)
    }

    pub fn kv_items(&self, store: &str) -> Result<Vec<(String, String)>> {
        kv_items(&self.conn, store)
    }

    pub fn edges(&self) -> Result<Vec<EdgeRow>> {
        let mut st = self
            .conn
            .prepare("SELECT pop, url, applied, error FROM edges ORDER BY pop")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| {
                Ok(EdgeRow {
                    pop: r.get(0)?,
                    url: r.get(1)?,
                    applied: r.get::<_, i64>(2)? as u64,
                    error: r.get(3)?,
                })
            })
            .map_err(db)?;
        rows.collect::<std::result::Result<_, _>>().map_err(db)
    }

    pub fn save_edge(&self, e: &EdgeRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO edges (pop, url, applied, error) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(pop) DO UPDATE SET url = ?2, applied = ?3, error = ?4",
                params![e.pop, e.url, e.applied as i64, e.error],
            )
            .map_err(db)?;
        Ok(())
    }

    /// The state every edge should serve at the current revision (without invalidations).
    pub fn state(&self) -> Result<State> {
        state(&self.conn)
    }

    /// Invalidations newer than `after`.
    pub fn invalidations_after(&self, after: u64) -> Result<Vec<WireInvalidation>> {
        let mut st = self
            .conn
            .prepare("SELECT revision, distribution, paths FROM invalidations WHERE revision > ?1 ORDER BY revision")
            .map_err(db)?;
        let rows = st
            .query_map([after as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (revision, distribution, paths) = row.map_err(db)?;
            out.push(WireInvalidation {
                revision,
                distribution,
                paths: serde_json::from_str(&paths).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

pub fn revision(conn: &Connection) -> Result<u64> {
    conn.query_row("SELECT value FROM meta WHERE key = 'revision'", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|v| v as u64)
    .map_err(db)
}

/// Bumps the revision inside a transaction; returns the new one.
pub fn bump(tx: &Transaction<'_>) -> Result<u64> {
    tx.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'revision'",
        [],
    )
    .map_err(db)?;
    revision(tx)
}

pub fn put_code(tx: &Transaction<'_>, sha256: &str, body: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO code (sha256, body) VALUES (?1, ?2)",
        params![sha256, body],
    )
    .map_err(db)?;
    Ok(())
}

pub fn set_latest(tx: &Transaction<'_>, name: &str, sha256: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO functions (name, latest_sha256, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET latest_sha256 = ?2, updated_at = ?3",
        params![name, sha256, now() as i64],
    )
    .map_err(db)?;
    Ok(())
}

pub fn versions(conn: &Connection, name: &str) -> Result<Vec<VersionRow>> {
    let mut st = conn
        .prepare(
            "SELECT v.version, v.sha256, length(c.body), v.published_at FROM versions v
             JOIN code c ON c.sha256 = v.sha256 WHERE v.name = ?1 ORDER BY v.version",
        )
        .map_err(db)?;
    let rows = st
        .query_map([name], |r| {
            Ok(VersionRow {
                version: r.get::<_, i64>(0)? as u64,
                sha256: r.get(1)?,
                size: r.get::<_, i64>(2)? as usize,
                published_at: r.get::<_, i64>(3)? as u64,
            })
        })
        .map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn insert_version(tx: &Transaction<'_>, name: &str, version: u64, sha256: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO versions (name, version, sha256, published_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, version as i64, sha256, now() as i64],
    )
    .map_err(db)?;
    Ok(())
}

/// Removes a function and its versions: how many versions it had, `None` when there was no
/// such function.
pub fn delete_function(tx: &Transaction<'_>, name: &str) -> Result<Option<usize>> {
    let versions = tx
        .execute("DELETE FROM versions WHERE name = ?1", [name])
        .map_err(db)?;
    let n = tx
        .execute("DELETE FROM functions WHERE name = ?1", [name])
        .map_err(db)?;
    Ok((n > 0).then_some(versions))
}

/// Removes an edge's record; whether there was one.
pub fn delete_edge(conn: &Connection, pop: &str) -> Result<bool> {
    let n = conn
        .execute("DELETE FROM edges WHERE pop = ?1", [pop])
        .map_err(db)?;
    Ok(n > 0)
}

pub fn delete_version(tx: &Transaction<'_>, name: &str, version: u64) -> Result<bool> {
    let n = tx
        .execute(
            "DELETE FROM versions WHERE name = ?1 AND version = ?2",
            params![name, version as i64],
        )
        .map_err(db)?;
    Ok(n > 0)
}

pub fn associations(conn: &Connection) -> Result<Vec<AssociationRow>> {
    let mut st = conn
        .prepare(
            "SELECT a.distribution, a.behavior, a.stage, a.name, a.version, a.include_body,
                    a.canary_name, a.canary_version, a.canary_percent, a.previous_version
             FROM associations a LEFT JOIN distributions d ON d.id = a.distribution
             ORDER BY d.position, a.distribution, a.behavior, a.stage",
        )
        .map_err(db)?;
    let rows = st
        .query_map([], |r| {
            let canary = match (
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, Option<i64>>(8)?,
            ) {
                (Some(n), Some(v), Some(p)) => Some((n, v as u64, p as u8)),
                _ => None,
            };
            Ok(AssociationRow {
                distribution: r.get(0)?,
                behavior: r.get(1)?,
                stage: r.get(2)?,
                name: r.get(3)?,
                version: r.get::<_, i64>(4)? as u64,
                include_body: r.get::<_, i64>(5)? != 0,
                canary,
                previous_version: r.get::<_, Option<i64>>(9)?.map(|v| v as u64),
            })
        })
        .map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn upsert_association(tx: &Transaction<'_>, a: &AssociationRow) -> Result<()> {
    let (cn, cv, cp) = match &a.canary {
        Some((n, v, p)) => (Some(n.clone()), Some(*v as i64), Some(*p as i64)),
        None => (None, None, None),
    };
    tx.execute(
        "INSERT INTO associations (distribution, behavior, stage, name, version, include_body,
                                   canary_name, canary_version, canary_percent, previous_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(distribution, behavior, stage) DO UPDATE SET
           name = ?4, version = ?5, include_body = ?6, canary_name = ?7, canary_version = ?8,
           canary_percent = ?9, previous_version = ?10",
        params![
            a.distribution,
            a.behavior,
            a.stage,
            a.name,
            a.version as i64,
            a.include_body as i64,
            cn,
            cv,
            cp,
            a.previous_version.map(|v| v as i64)
        ],
    )
    .map_err(db)?;
    Ok(())
}

/// Removes the Lambda@Edge association at a slot; whether there was one.
pub fn delete_association(
    tx: &Transaction<'_>,
    distribution: &str,
    behavior: &str,
    stage: &str,
) -> Result<bool> {
    delete_slot(tx, "associations", distribution, behavior, stage)
}

/// Removes the CloudFront function association at a slot; whether there was one.
pub fn delete_function_association(
    tx: &Transaction<'_>,
    distribution: &str,
    behavior: &str,
    stage: &str,
) -> Result<bool> {
    delete_slot(tx, "function_associations", distribution, behavior, stage)
}

fn delete_slot(
    tx: &Transaction<'_>,
    table: &str,
    distribution: &str,
    behavior: &str,
    stage: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            &format!(
                "DELETE FROM {table} WHERE distribution = ?1 AND behavior = ?2 AND stage = ?3"
            ),
            params![distribution, behavior, stage],
        )
        .map_err(db)?;
    Ok(n > 0)
}

/// Removes every association (Lambda@Edge and CloudFront Functions) of a distribution.
pub fn delete_associations_of(tx: &Transaction<'_>, distribution: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM associations WHERE distribution = ?1",
        [distribution],
    )
    .map_err(db)?;
    tx.execute(
        "DELETE FROM function_associations WHERE distribution = ?1",
        [distribution],
    )
    .map_err(db)?;
    Ok(())
}

pub fn distributions(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut st = conn
        .prepare("SELECT id, config FROM distributions ORDER BY position, id")
        .map_err(db)?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn put_distribution(tx: &Transaction<'_>, id: &str, config: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO distributions (id, position, config)
         VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM distributions), ?2)
         ON CONFLICT(id) DO UPDATE SET config = ?2",
        params![id, config],
    )
    .map_err(db)?;
    Ok(())
}

/// Removes a distribution and its associations; whether there was one.
pub fn delete_distribution(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    delete_associations_of(tx, id)?;
    let n = tx
        .execute("DELETE FROM distributions WHERE id = ?1", [id])
        .map_err(db)?;
    Ok(n > 0)
}

pub fn insert_invalidation(
    tx: &Transaction<'_>,
    revision: u64,
    distribution: Option<&str>,
    paths: &[String],
) -> Result<()> {
    tx.execute(
        "INSERT INTO invalidations (revision, distribution, paths, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            revision as i64,
            distribution,
            serde_json::to_string(paths).unwrap_or_default(),
            now() as i64
        ],
    )
    .map_err(db)?;
    Ok(())
}

const CF_COLUMNS: &str = "name, comment, runtime, dev_sha256, dev_etag, live_sha256, live_runtime, live_version, created_at, updated_at, published_at, kvs, live_kvs";

fn cf_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CfFunctionRow> {
    let live = match (
        r.get::<_, Option<String>>(5)?,
        r.get::<_, Option<String>>(6)?,
    ) {
        (Some(sha), Some(rt)) => Some((sha, rt)),
        _ => None,
    };
    Ok(CfFunctionRow {
        name: r.get(0)?,
        comment: r.get(1)?,
        runtime: r.get(2)?,
        dev_sha256: r.get(3)?,
        dev_etag: r.get::<_, i64>(4)? as u64,
        live,
        live_version: r.get::<_, i64>(7)? as u64,
        created_at: r.get::<_, i64>(8)? as u64,
        updated_at: r.get::<_, i64>(9)? as u64,
        published_at: r.get::<_, Option<i64>>(10)?.map(|v| v as u64),
        kvs: r.get(11)?,
        live_kvs: r.get(12)?,
    })
}

pub fn cf_functions(conn: &Connection) -> Result<Vec<CfFunctionRow>> {
    let mut st = conn
        .prepare(&format!(
            "SELECT {CF_COLUMNS} FROM cf_functions ORDER BY name"
        ))
        .map_err(db)?;
    let rows = st.query_map([], cf_row).map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn cf_function(conn: &Connection, name: &str) -> Result<Option<CfFunctionRow>> {
    conn.query_row(
        &format!("SELECT {CF_COLUMNS} FROM cf_functions WHERE name = ?1"),
        [name],
        cf_row,
    )
    .optional()
    .map_err(db)
}

/// Inserts or replaces a CloudFront function's row.
pub fn put_cf_function(tx: &Transaction<'_>, f: &CfFunctionRow) -> Result<()> {
    let (live_sha, live_rt) = match &f.live {
        Some((s, r)) => (Some(s.as_str()), Some(r.as_str())),
        None => (None, None),
    };
    tx.execute(
        &format!(
            "INSERT OR REPLACE INTO cf_functions ({CF_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            f.name,
            f.comment,
            f.runtime,
            f.dev_sha256,
            f.dev_etag as i64,
            live_sha,
            live_rt,
            f.live_version as i64,
            f.created_at as i64,
            f.updated_at as i64,
            f.published_at.map(|v| v as i64),
            f.kvs,
            f.live_kvs
        ],
    )
    .map_err(db)?;
    Ok(())
}

pub fn delete_cf_function(tx: &Transaction<'_>, name: &str) -> Result<bool> {
    let n = tx
        .execute("DELETE FROM cf_functions WHERE name = ?1", [name])
        .map_err(db)?;
    Ok(n > 0)
}

pub fn function_associations(conn: &Connection) -> Result<Vec<FunctionAssociationRow>> {
    let mut st = conn
        .prepare(
            "SELECT a.distribution, a.behavior, a.stage, a.name FROM function_associations a
             LEFT JOIN distributions d ON d.id = a.distribution
             ORDER BY d.position, a.distribution, a.behavior, a.stage",
        )
        .map_err(db)?;
    let rows = st
        .query_map([], |r| {
            Ok(FunctionAssociationRow {
                distribution: r.get(0)?,
                behavior: r.get(1)?,
                stage: r.get(2)?,
                name: r.get(3)?,
            })
        })
        .map_err(db)?;
    rows.collect::<std::result::Result<_, _>>().map_err(db)
}

pub fn upsert_function_association(tx: &Transaction<'_>, a: &FunctionAssociationRow) -> Result<()> {
    tx.execute(
        "INSERT INTO function_associations (distribution, behavior, stage, name) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(distribution, behavior, stage) DO UPDATE SET name = ?4",
        params![a.distribution, a.behavior, a.stage, a.name],
    )
    .map_err(db)?;
    Ok(())
}

fn fn_ref(conn: &Connection, name: &str, version: u64) -> Result<FnRef> {
    let sha256: String = conn
        .query_row(
            "SELECT sha256 FROM versions WHERE name = ?1 AND version = ?2",
            params![name, version as i64],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?
        .ok_or_else(|| ControlError::NotFound(format!("function version {name}:{version}")))?;
    Ok(FnRef {
        name: name.to_string(),
        version,
        sha256,
        runtime: None,
        kvs: None,
    })
}

pub fn cluster(conn: &Connection) -> Result<String> {
    conn.query_row("SELECT id FROM cluster", [], |r| r.get(0))
        .map_err(db)
}

pub fn state(conn: &Connection) -> Result<State> {
    let revision = revision(conn)?;
    let cluster = cluster(conn)?;
    let distributions: String = distributions(conn)?
        .into_iter()
        .map(|(_, c)| c)
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    for a in associations(conn)? {
        out.push(WireAssociation {
            function: fn_ref(conn, &a.name, a.version)?,
            canary: match &a.canary {
                Some((n, v, p)) => Some(WireCanary {
                    function: fn_ref(conn, n, *v)?,
                    percent: *p,
                }),
                None => None,
            },
            distribution: a.distribution,
            behavior: (!a.behavior.is_empty()).then_some(a.behavior),
            stage: a.stage,
            include_body: a.include_body,
        });
    }
    for a in function_associations(conn)? {
        let f = cf_function(conn, &a.name)?.ok_or_else(|| {
            ControlError::Store(format!(
                "CloudFront function {} is associated but missing",
                a.name
            ))
        })?;
        let (sha256, runtime) = f.live.ok_or_else(|| {
            ControlError::Store(format!(
                "CloudFront function {} is associated but has no LIVE stage",
                a.name
            ))
        })?;
        out.push(WireAssociation {
            function: FnRef {
                name: f.name,
                version: f.live_version,
                sha256,
                runtime: Some(runtime),
                kvs: match &f.live_kvs {
                    Some(n) => Some(
                        kv_store(conn, n)?
                            .ok_or_else(|| {
                                ControlError::Store(format!(
                                    "KeyValueStore {n} is associated but missing"
                                ))
                            })?
                            .id,
                    ),
                    None => None,
                },
            },
            canary: None,
            distribution: a.distribution,
            behavior: (!a.behavior.is_empty()).then_some(a.behavior),
            stage: a.stage,
            include_body: false,
        });
    }
    let key_value_stores = kv_stores(conn)?
        .into_iter()
        .map(|s| WireKvs {
            id: s.id,
            name: s.name,
            sha256: s.sha256,
            created_ms: s.created_ms,
            updated_ms: s.updated_ms,
        })
        .collect();
    Ok(State {
        revision,
        cluster,
        distributions,
        associations: out,
        key_value_stores,
        ..State::default()
    })
}

/// The code of every function version `state` names.
pub fn code_of(conn: &Connection, state: &State) -> Result<edge_node::replica::CodeByHash> {
    let mut out = HashMap::new();
    for sha in state.blobs() {
        let body: Vec<u8> = conn
            .query_row("SELECT body FROM code WHERE sha256 = ?1", [sha], |r| {
                r.get(0)
            })
            .map_err(db)?;
        out.insert(sha.to_string(), bytes::Bytes::from(verified(sha, body)?));
    }
    Ok(out)
}
