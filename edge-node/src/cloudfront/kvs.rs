//! CloudFront KeyValueStore: the data a CloudFront function reads with `cf.kvs()`, changed
//! without a code publish (docs/cloudfront-functions.md: "KeyValueStore"). The control node
//! keeps the stores and replicates each one as a snapshot in AWS's import format; every edge
//! holds the snapshots in memory, in one process-wide registry that functions read without a
//! lock (an `ArcSwap` of every store by a slot number, replaced when a revision changes one).
//!
//! Facts relied on, from AWS's pages:
//! - the import format `{"data":[{"key":"k1","value":"v"}, …]}`, UTF-8, no duplicate keys; a
//!   file of at most 5 MB, keys of at most 512 characters, values of at most 1,024 characters
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions-create-s3-kvp.html>);
//! - a store holds at most 5 MB in all
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-keyvaluestores>);
//! - names are 1–64 of `[a-zA-Z0-9-_]`
//!   (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateKeyValueStore.html>);
//! - `get(key, {format})` with `string`, `json` or `bytes`, throwing for a missing key;
//!   `exists(key)`; `meta()` with `creationDateTime`, `lastUpdatedDateTime` and `keyCount`
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-custom-methods.html>).

use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// The longest key, in characters.
pub const KEY_CHARS: usize = 512;
/// The longest value, in characters.
pub const VALUE_CHARS: usize = 1024;
/// The most a store (and an import file) may hold: keys and values, in bytes.
pub const STORE_BYTES: usize = 5 * 1024 * 1024;

/// One store as an edge holds it.
#[derive(Debug, Default)]
pub struct Store {
    pub id: String,
    pub name: String,
    /// Milliseconds since the epoch.
    pub created_ms: u64,
    pub updated_ms: u64,
    pub items: HashMap<String, String>,
}

/// Why data is refused: what is wrong, naming the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key and a value within CloudFront's limits.
pub fn check_item(key: &str, value: &str) -> Result<(), Refused> {
    if key.is_empty() {
        return Err(Refused("a key may not be empty".into()));
    }
    let k = key.chars().count();
    if k > KEY_CHARS {
        return Err(Refused(format!(
            "the key {:?}… is {k} characters; keys may have at most {KEY_CHARS}",
            key.chars().take(20).collect::<String>()
        )));
    }
    let v = value.chars().count();
    if v > VALUE_CHARS {
        return Err(Refused(format!(
            "the value of {key:?} is {v} characters; values may have at most {VALUE_CHARS}"
        )));
    }
    Ok(())
}

/// The size a store's items count against its 5 MB.
pub fn size_of<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> usize {
    items.into_iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// Items of a file in AWS's import format, checked: JSON of that shape, no duplicate keys,
/// every key and value within the limits, at most 5 MB. In the file's order.
pub fn parse_import(bytes: &[u8]) -> Result<Vec<(String, String)>, Refused> {
    if bytes.len() > STORE_BYTES {
        return Err(Refused(format!(
            "the file is {} bytes; an import file may be at most {STORE_BYTES} bytes (5 MB)",
            bytes.len()
        )));
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        data: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        key: String,
        value: String,
    }
    let file: File = serde_json::from_slice(bytes).map_err(|e| {
        Refused(format!(
            "not AWS's import format {{\"data\":[{{\"key\":\"…\",\"value\":\"…\"}}]}}: {e}"
        ))
    })?;
    let mut seen = std::collections::HashSet::with_capacity(file.data.len());
    let mut out = Vec::with_capacity(file.data.len());
    for (i, it) in file.data.into_iter().enumerate() {
        check_item(&it.key, &it.value).map_err(|e| Refused(format!("data[{i}]: {e}")))?;
        if !seen.insert(it.key.clone()) {
            return Err(Refused(format!(
                "data[{i}]: the key {:?} is there twice; keys must be unique",
                it.key
            )));
        }
        out.push((it.key, it.value));
    }
    Ok(out)
}

/// A snapshot in the import format, keys sorted: the same items always give the same bytes
/// (and hash).
pub fn snapshot<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = items.into_iter().collect();
    sorted.sort_unstable();
    let data: Vec<serde_json::Value> = sorted
        .into_iter()
        .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
        .collect();
    serde_json::to_vec(&serde_json::json!({ "data": data })).unwrap_or_default()
}

/// A store's ARN (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_KeyValueStore.html>).
pub fn arn(id: &str) -> String {
    format!(
        "arn:aws:cloudfront::{}:key-value-store/{id}",
        super::ACCOUNT
    )
}

/// The store id an ARN names, if `s` is a KeyValueStore ARN.
pub fn id_of_arn(s: &str) -> Option<&str> {
    s.strip_prefix("arn:aws:cloudfront::")?
        .split_once(":key-value-store/")
        .map(|(_, id)| id)
}

/// A store id shaped like AWS's (a UUID), made from `seed` so the same seed gives the same id.
pub fn id_from(seed: &str) -> String {
    let h = crate::js::sha256_hex(seed.as_bytes());
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Every store id this process has seen gets a slot for the process's life, so a function
/// names its store by a small number (cheaper to pass into an op than the id): `SLOTS[slot]` is
/// the store's current items, or `None` while this node has none under that id.
static SLOTS: LazyLock<ArcSwap<Vec<Option<Arc<Store>>>>> =
    LazyLock::new(|| ArcSwap::from_pointee(Vec::new()));
static IDS: LazyLock<std::sync::Mutex<HashMap<String, u32>>> = LazyLock::new(Default::default);
static GENERATION: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The slot of store `id` (made on first use).
pub fn slot_of(id: &str) -> u32 {
    let mut ids = IDS.lock().unwrap_or_else(|p| p.into_inner());
    let next = ids.len() as u32;
    *ids.entry(id.to_string()).or_insert(next)
}

/// The stores this process serves, replaced as a whole: a function sees either the old set or
/// the new one.
pub fn install(stores: Vec<Arc<Store>>) {
    let mut slots: Vec<Option<Arc<Store>>> = Vec::new();
    for s in stores {
        let slot = slot_of(&s.id) as usize;
        if slots.len() <= slot {
            slots.resize(slot + 1, None);
        }
        slots[slot] = Some(s);
    }
    SLOTS.store(Arc::new(slots));
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Release);
}

/// Moves on every `install`: isolates drop the values they cached when it does.
pub fn generation() -> u32 {
    GENERATION.load(std::sync::atomic::Ordering::Acquire)
}

/// The store in `slot`, if this process serves it.
pub fn store_at(slot: u32) -> Option<Arc<Store>> {
    SLOTS.load().get(slot as usize).cloned().flatten()
}

/// The store `id`, if this process serves it.
pub fn store(id: &str) -> Option<Arc<Store>> {
    store_at(slot_of(id))
}

/// `key` of the store in `slot`: `None` when the store or the key is not there. One lock-free
/// load and one hash lookup.
pub fn with_value<T>(slot: u32, key: &str, f: impl FnOnce(Option<&str>) -> T) -> T {
    let slots = SLOTS.load();
    f(slots
        .get(slot as usize)
        .and_then(Option::as_ref)
        .and_then(|s| s.items.get(key))
        .map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_format_is_checked_item_by_item() {
        let ok =
            parse_import(br#"{"data":[{"key":"a","value":"1"},{"key":"b","value":"2"}]}"#).unwrap();
        assert_eq!(ok, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        let dup = parse_import(br#"{"data":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}"#);
        assert!(dup
            .unwrap_err()
            .0
            .contains("data[1]: the key \"a\" is there twice"));
        let long = format!(
            r#"{{"data":[{{"key":"{}","value":"1"}}]}}"#,
            "k".repeat(513)
        );
        assert!(parse_import(long.as_bytes())
            .unwrap_err()
            .0
            .contains("513 characters"));
        let value = format!(
            r#"{{"data":[{{"key":"k","value":"{}"}}]}}"#,
            "é".repeat(1025)
        );
        assert!(parse_import(value.as_bytes())
            .unwrap_err()
            .0
            .contains("1025 characters"));
        // Characters, not bytes: 1,024 two-byte characters are fine.
        let fine = format!(
            r#"{{"data":[{{"key":"k","value":"{}"}}]}}"#,
            "é".repeat(1024)
        );
        assert!(parse_import(fine.as_bytes()).is_ok());
        assert!(parse_import(br#"{"items":[]}"#)
            .unwrap_err()
            .0
            .contains("import format"));
        let big = vec![b' '; STORE_BYTES + 1];
        assert!(parse_import(&big).unwrap_err().0.contains("5 MB"));
    }

    #[test]
    fn a_snapshot_reads_back_and_does_not_depend_on_order() {
        let a = snapshot([("b", "2"), ("a", "1")]);
        assert_eq!(a, snapshot([("a", "1"), ("b", "2")]));
        assert_eq!(parse_import(&a).unwrap()[0], ("a".into(), "1".into()));
    }

    #[test]
    fn arns_and_ids() {
        let id = id_from("redirects");
        assert_eq!(id.len(), 36);
        assert_eq!(id_of_arn(&arn(&id)), Some(id.as_str()));
        assert_eq!(id_of_arn("arn:aws:cloudfront::1:function/x"), None);
    }
}
