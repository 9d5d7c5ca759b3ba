//! KeyValueStores on the control node (docs/cloudfront-functions.md: "KeyValueStore"): made,
//! filled and changed here, replicated to every edge as a snapshot in each revision, so data
//! changes reach functions without a code publish. Limits and the import format are
//! `edge_node::cloudfront::kvs`'s. Errors carry the codes of CloudFront's and the KeyValueStore
//! API's references (`EntityAlreadyExists`, `EntityNotFound`, `CannotDeleteEntityWhileInUse`,
//! `ValidationException`, `ServiceQuotaExceededException`, and `ResourceNotFoundException` for
//! a missing key: <https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_kvs_GetKey.html>).

use crate::*;
use edge_node::cloudfront::kvs;
use serde_json::{json, Value};
use store::KvsRow;

fn not_found(name: &str) -> ControlError {
    ControlError::Missing {
        code: "EntityNotFound",
        what: format!("KeyValueStore {name}"),
    }
}

fn validation(e: kvs::Refused) -> ControlError {
    ControlError::invalid("ValidationException", e.0)
}

fn now_ms() -> u64 {
    store::now() * 1000
}

/// The store a function names (by name or ARN): its name; `None` for none or `""`.
pub(crate) fn store_named(
    tx: &rusqlite::Connection,
    given: Option<&str>,
) -> Result<Option<String>> {
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Ok(None);
    };
    let stores = store::kv_stores(tx)?;
    let found = match kvs::id_of_arn(given) {
        Some(id) => stores.into_iter().find(|s| s.id == id),
        None => stores.into_iter().find(|s| s.name == given),
    };
    found.map(|s| Some(s.name)).ok_or_else(|| not_found(given))
}

/// Re-makes a store's snapshot from its items (checking the 5 MB) and moves its ETag.
fn rewrite(tx: &rusqlite::Transaction<'_>, mut row: KvsRow) -> Result<KvsRow> {
    let items = store::kv_items(tx, &row.name)?;
    let size = kvs::size_of(items.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if size > kvs::STORE_BYTES {
        return Err(ControlError::invalid(
            "ServiceQuotaExceededException",
            format!(
                "KeyValueStore {} would hold {size} bytes of keys and values; a store may hold at most {} (5 MB)",
                row.name,
                kvs::STORE_BYTES
            ),
        ));
    }
    let snapshot = kvs::snapshot(items.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    row.sha256 = edge_node::replica::sha256_hex(&snapshot);
    store::put_code(tx, &row.sha256, &snapshot)?;
    row.etag += 1;
    row.updated_ms = now_ms();
    // `change` bumps the revision after this: the store changes at the next one.
    row.revision = store::revision(tx)? + 1;
    store::put_kv_store(tx, &row)?;
    Ok(row)
}

fn existing(tx: &rusqlite::Connection, name: &str) -> Result<KvsRow> {
    store::kv_store(tx, name)?.ok_or_else(|| not_found(name))
}

impl Control {
    /// CreateKeyValueStore, with the items of an import file when given (all or nothing).
    pub fn kvs_create(
        &self,
        name: &str,
        comment: &str,
        data: Option<&[u8]>,
    ) -> Result<(Value, u64)> {
        check_name(name)?;
        let items = data
            .map(kvs::parse_import)
            .transpose()
            .map_err(validation)?;
        let (row, revision) = self.change(|tx| {
            if store::kv_store(tx, name)?.is_some() {
                return Err(ControlError::InUse {
                    code: "EntityAlreadyExists",
                    message: format!("a KeyValueStore named {name} already exists"),
                });
            }
            let now = now_ms();
            let empty = kvs::snapshot([]);
            let row = KvsRow {
                name: name.to_string(),
                id: kvs::id_from(&format!("{name}:{now}:{}", crate::random_hex())),
                comment: comment.to_string(),
                sha256: edge_node::replica::sha256_hex(&empty),
                etag: 0,
                created_ms: now,
                updated_ms: now,
                revision: 0,
            };
            store::put_code(tx, &row.sha256, &empty)?;
            store::put_kv_store(tx, &row)?;
            for (k, v) in items.iter().flatten() {
                store::put_kv_item(tx, name, k, v)?;
            }
            rewrite(tx, row)
        })?;
        Ok((self.kvs_summary(&row)?, revision))
    }

    /// Replaces every item of a store with an import file's (all or nothing).
    pub fn kvs_import(&self, name: &str, data: &[u8]) -> Result<(Value, u64)> {
        let items = kvs::parse_import(data).map_err(validation)?;
        let (row, revision) = self.change(|tx| {
            let row = existing(tx, name)?;
            tx.execute("DELETE FROM kv_items WHERE store = ?1", [name])
                .map_err(|e| ControlError::Store(e.to_string()))?;
            for (k, v) in &items {
                store::put_kv_item(tx, name, k, v)?;
            }
            rewrite(tx, row)
        })?;
        Ok((self.kvs_summary(&row)?, revision))
    }

    pub fn kvs_describe(&self, name: &str) -> Result<Value> {
        let row = self
            .store()
            .kv_store(name)?
            .ok_or_else(|| not_found(name))?;
        self.kvs_summary(&row)
    }

    pub fn kvs_list(&self) -> Result<Value> {
        let rows = self.store().kv_stores()?;
        let items: Vec<Value> = rows
            .iter()
            .map(|r| self.kvs_summary(r).map(|v| v["KeyValueStore"].clone()))
            .collect::<Result<_>>()?;
        Ok(json!({"KeyValueStoreList": {"Quantity": items.len(), "Items": items}}))
    }

    /// DeleteKeyValueStore: refused while a function (either stage) reads it.
    pub fn kvs_delete(&self, name: &str) -> Result<u64> {
        Ok(self
            .change(|tx| {
                existing(tx, name)?;
                if let Some(f) = store::cf_functions(tx)?
                    .into_iter()
                    .find(|f| f.kvs.as_deref() == Some(name) || f.live_kvs.as_deref() == Some(name))
                {
                    return Err(ControlError::InUse {
                        code: "CannotDeleteEntityWhileInUse",
                        message: format!(
                            "KeyValueStore {name} is associated with the CloudFront function {}: update the function without it (and publish) first",
                            f.name
                        ),
                    });
                }
                store::delete_kv_store(tx, name)
            })?
            .1)
    }

    /// PutKey: one item, replacing its value; every edge has it at the revision returned.
    pub fn kvs_put(&self, name: &str, key: &str, value: &str) -> Result<(Value, u64)> {
        kvs::check_item(key, value).map_err(validation)?;
        let (row, revision) = self.change(|tx| {
            let row = existing(tx, name)?;
            store::put_kv_item(tx, name, key, value)?;
            rewrite(tx, row)
        })?;
        Ok((self.kvs_counts(&row)?, revision))
    }

    /// DeleteKey.
    pub fn kvs_delete_key(&self, name: &str, key: &str) -> Result<(Value, u64)> {
        let (row, revision) = self.change(|tx| {
            let row = existing(tx, name)?;
            if !store::delete_kv_item(tx, name, key)? {
                return Err(ControlError::NotFound(format!(
                    "key {key:?} of KeyValueStore {name}"
                )));
            }
            rewrite(tx, row)
        })?;
        Ok((self.kvs_counts(&row)?, revision))
    }

    /// GetKey: the value and the store's counts; a missing key is 404.
    pub fn kvs_get(&self, name: &str, key: &str) -> Result<Value> {
        let store = self.store();
        let row = store.kv_store(name)?.ok_or_else(|| not_found(name))?;
        let items = store.kv_items(name)?;
        drop(store);
        let value = items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                ControlError::NotFound(format!("key {key:?} of KeyValueStore {name}"))
            })?;
        let mut v = self.kvs_counts(&row)?;
        v["Key"] = json!(key);
        v["Value"] = json!(value);
        Ok(v)
    }

    /// ListKeys.
    pub fn kvs_list_keys(&self, name: &str) -> Result<Value> {
        let store = self.store();
        store.kv_store(name)?.ok_or_else(|| not_found(name))?;
        let items: Vec<Value> = store
            .kv_items(name)?
            .into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        Ok(json!({ "Items": items }))
    }

    fn kvs_counts(&self, row: &KvsRow) -> Result<Value> {
        let items = self.store().kv_items(&row.name)?;
        Ok(json!({
            "ItemCount": items.len(),
            "TotalSizeInBytes": kvs::size_of(items.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            "ETag": format!("E{}", row.etag),
        }))
    }

    fn kvs_summary(&self, row: &KvsRow) -> Result<Value> {
        let mut v = self.kvs_counts(row)?;
        v["KeyValueStore"] = json!({
            "Name": row.name,
            "Id": row.id,
            "Comment": row.comment,
            "ARN": kvs::arn(&row.id),
            "Status": "READY",
            "LastModifiedTime": edge_node::js::logs::rfc3339_ms(row.updated_ms),
        });
        Ok(v)
    }
}
