//! The node's one shared cache: byte-bounded quick-cache holding stored responses, with Vary
//! handled by a marker entry under the primary key that names the varying headers, request
//! collapsing, and CloudFront-style invalidation.

mod collapse;
mod key;
pub mod policy;

pub use collapse::{Flight, FlightGuard, Flights, Join};
pub use key::{cookie_pairs, normalized_accept_encoding, primary_key};
pub use policy::{Freshness, NoStoreReason};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use quick_cache::sync::Cache as QuickCache;
use quick_cache::Weighter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A response as stored: immutable; a revalidation makes a new one.
#[derive(Debug)]
pub struct Stored {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub stored_at: Instant,
    pub initial_age: Duration,
    pub freshness: Freshness,
}

impl Stored {
    /// Current age (RFC 9111 §4.2.3, with the origin's Age as the corrected initial age).
    pub fn age(&self, now: Instant) -> Duration {
        self.initial_age + now.saturating_duration_since(self.stored_at)
    }

    pub fn is_fresh(&self, now: Instant) -> bool {
        self.age(now) < self.freshness.ttl
    }

    /// How long past its freshness lifetime the object is (zero while fresh).
    pub fn staleness(&self, now: Instant) -> Duration {
        self.age(now).saturating_sub(self.freshness.ttl)
    }

    pub fn etag(&self) -> Option<&HeaderValue> {
        self.headers.get(http::header::ETAG)
    }

    pub fn last_modified(&self) -> Option<&HeaderValue> {
        self.headers.get(http::header::LAST_MODIFIED)
    }

    pub fn has_validators(&self) -> bool {
        self.etag().is_some() || self.last_modified().is_some()
    }

    /// May be served while a background revalidation runs.
    pub fn within_stale_while_revalidate(&self, now: Instant) -> bool {
        self.staleness(now) <= self.freshness.stale_while_revalidate
            && !self.freshness.stale_while_revalidate.is_zero()
    }

    /// May be served because the origin failed.
    pub fn within_stale_if_error(&self, now: Instant) -> bool {
        self.freshness
            .stale_if_error
            .is_some_and(|limit| self.staleness(now) <= limit)
    }

    /// A copy with headers updated from a 304 (RFC 9111 §3.2) and a fresh clock.
    pub fn refreshed(
        &self,
        not_modified: &HeaderMap,
        freshness: Freshness,
        initial_age: Duration,
    ) -> Stored {
        let mut headers = self.headers.clone();
        for name in not_modified.keys() {
            if is_304_excluded(name) {
                continue;
            }
            headers.remove(name);
            for v in not_modified.get_all(name) {
                headers.append(name.clone(), v.clone());
            }
        }
        Stored {
            status: self.status,
            headers,
            body: self.body.clone(),
            stored_at: Instant::now(),
            initial_age,
            freshness,
        }
    }

    fn weight(&self, key_len: usize) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 32)
            .sum();
        (key_len + self.body.len() + headers + 128) as u64
    }
}

/// Headers a 304 must not overwrite in the stored response.
fn is_304_excluded(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "content-length"
            | "content-encoding"
            | "transfer-encoding"
            | "content-range"
            | "age"
            | "connection"
    )
}

#[derive(Clone)]
enum Entry {
    Object {
        stored: Arc<Stored>,
        weight: u64,
    },
    /// Under a primary key whose responses vary: the header names, and a generation so that a
    /// removed and re-created marker never resurrects old variants.
    Vary {
        names: Arc<[HeaderName]>,
        generation: u64,
    },
}

#[derive(Clone)]
struct EntryWeighter;

impl Weighter<Box<str>, Entry> for EntryWeighter {
    fn weight(&self, key: &Box<str>, val: &Entry) -> u64 {
        match val {
            Entry::Object { weight, .. } => *weight,
            Entry::Vary { names, .. } => (key.len() + names.len() * 16 + 64) as u64,
        }
    }
}

/// The shared cache of one node.
pub struct Cache {
    inner: QuickCache<Box<str>, Entry, EntryWeighter, quick_cache::DefaultHashBuilder, Evictions>,
    generation: AtomicU64,
    pub flights: Arc<Flights>,
    capacity: u64,
    /// Objects stored (not the Vary markers), for the metrics.
    insertions: AtomicU64,
    evictions: Evictions,
}

/// Counts objects the cache evicts to make room (quick-cache tells its lifecycle).
#[derive(Clone, Default)]
struct Evictions(Arc<AtomicU64>);

impl quick_cache::Lifecycle<Box<str>, Entry> for Evictions {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    fn on_evict(&self, _: &mut (), _key: Box<str>, val: Entry) {
        if matches!(val, Entry::Object { .. }) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Separates a primary key from the variant part of a secondary key.
const VARIANT_MARK: char = '\u{1}';

impl Cache {
    pub fn new(capacity_bytes: u64) -> Cache {
        let items = (capacity_bytes / 2048).clamp(1024, 4_000_000) as usize;
        let evictions = Evictions::default();
        Cache {
            inner: QuickCache::with(
                items,
                capacity_bytes,
                EntryWeighter,
                quick_cache::DefaultHashBuilder::default(),
                evictions.clone(),
            ),
            generation: AtomicU64::new(1),
            flights: Arc::new(Flights::default()),
            capacity: capacity_bytes,
            insertions: AtomicU64::new(0),
            evictions,
        }
    }

    /// The stored response for `primary` that matches the request's `headers`, if any.
    /// `scratch` is reused for the secondary key so a lookup allocates nothing.
    pub fn lookup(
        &self,
        primary: &str,
        headers: &HeaderMap,
        scratch: &mut String,
    ) -> Option<Arc<Stored>> {
        match self.inner.get(primary)? {
            Entry::Object { stored, .. } => Some(stored),
            Entry::Vary { names, generation } => {
                variant_key(scratch, primary, generation, &names, headers);
                match self.inner.get(scratch.as_str())? {
                    Entry::Object { stored, .. } => Some(stored),
                    Entry::Vary { .. } => None,
                }
            }
        }
    }

    /// Stores `stored` as the answer for `primary` given the request's `headers`.
    pub fn store(&self, primary: &str, headers: &HeaderMap, stored: Stored) -> Arc<Stored> {
        let names = vary_names(&stored.headers);
        let stored = Arc::new(stored);
        self.insertions.fetch_add(1, Ordering::Relaxed);
        if names.is_empty() {
            let weight = stored.weight(primary.len());
            self.inner.insert(
                primary.into(),
                Entry::Object {
                    stored: stored.clone(),
                    weight,
                },
            );
            return stored;
        }
        let generation = match self.inner.get(primary) {
            Some(Entry::Vary {
                names: old,
                generation,
            }) if *old == *names => generation,
            _ => {
                let generation = self.generation.fetch_add(1, Ordering::Relaxed);
                let marker = Entry::Vary {
                    names: names.clone().into(),
                    generation,
                };
                self.inner.insert(primary.into(), marker);
                generation
            }
        };
        let mut key = String::new();
        variant_key(&mut key, primary, generation, &names, headers);
        let weight = stored.weight(key.len());
        self.inner.insert(
            key.into_boxed_str(),
            Entry::Object {
                stored: stored.clone(),
                weight,
            },
        );
        stored
    }

    /// Drops what `primary` answers (all its variants become unreachable).
    pub fn remove(&self, primary: &str) {
        self.inner.remove(primary);
    }

    /// CloudFront invalidation over one distribution: `patterns` are paths (with query string
    /// when one was cached) where `*` may only be the last character. Returns objects dropped.
    pub fn invalidate(&self, distribution: usize, patterns: &[String]) -> usize {
        let prefix = key::distribution_prefix(distribution);
        let dropped = AtomicU64::new(0);
        self.inner.retain(|k, _| {
            let Some(rest) = k.strip_prefix(prefix.as_str()) else {
                return true;
            };
            let target = rest.split(['\0', VARIANT_MARK]).next().unwrap_or("");
            let hit = patterns.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => target.starts_with(prefix),
                None => target == p,
            });
            if hit {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
            !hit
        });
        dropped.into_inner() as usize
    }

    pub fn weight(&self) -> u64 {
        self.inner.weight()
    }

    /// What the metrics report of the cache.
    pub fn figures(&self) -> crate::driver::metrics::CacheFigures {
        crate::driver::metrics::CacheFigures {
            objects: self.len() as u64,
            bytes: self.weight(),
            capacity: self.capacity,
            insertions: self.insertions.load(Ordering::Relaxed),
            evictions: self.evictions.0.load(Ordering::Relaxed),
        }
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// Lowercase names from the response's Vary (without `*`, which is handled by freshness).
fn vary_names(headers: &HeaderMap) -> Vec<HeaderName> {
    let mut names: Vec<HeaderName> = headers
        .get_all(http::header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "*")
        .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
        .collect();
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    names.dedup();
    names
}

fn variant_key(
    buf: &mut String,
    primary: &str,
    generation: u64,
    names: &[HeaderName],
    headers: &HeaderMap,
) {
    use std::fmt::Write;
    buf.clear();
    buf.push_str(primary);
    let _ = write!(buf, "{VARIANT_MARK}{generation}");
    for name in names {
        buf.push(VARIANT_MARK);
        for (i, v) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            buf.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(headers: &[(&'static str, &'static str)], ttl: u64) -> Stored {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(*k, HeaderValue::from_static(v));
        }
        Stored {
            status: StatusCode::OK,
            headers: h,
            body: Bytes::from_static(b"x"),
            stored_at: Instant::now(),
            initial_age: Duration::ZERO,
            freshness: Freshness {
                ttl: Duration::from_secs(ttl),
                stale_while_revalidate: Duration::ZERO,
                stale_if_error: None,
            },
        }
    }

    fn req(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn vary_keeps_variants_apart() {
        let c = Cache::new(1 << 20);
        let mut s = String::new();
        let en = req(&[("accept-language", "en")]);
        let de = req(&[("accept-language", "de")]);
        c.store("0:/a", &en, stored(&[("vary", "Accept-Language")], 60));
        assert!(c.lookup("0:/a", &en, &mut s).is_some());
        assert!(c.lookup("0:/a", &de, &mut s).is_none());
        c.store("0:/a", &de, stored(&[("vary", "Accept-Language")], 60));
        assert!(c.lookup("0:/a", &de, &mut s).is_some());
        assert!(c.lookup("0:/a", &en, &mut s).is_some());
        c.remove("0:/a");
        c.store("0:/a", &de, stored(&[("vary", "accept-language")], 60));
        assert!(
            c.lookup("0:/a", &en, &mut s).is_none(),
            "old variant resurrected"
        );
    }

    #[test]
    fn invalidation_matches_prefix_and_exact() {
        let c = Cache::new(1 << 20);
        let h = HeaderMap::new();
        for k in [
            "0:/a/1",
            "0:/a/2?x=1",
            "0:/b.html",
            "0:/b.html?v=2",
            "1:/a/1",
        ] {
            c.store(k, &h, stored(&[], 60));
        }
        assert_eq!(c.invalidate(0, &["/a/*".into()]), 2);
        assert_eq!(c.invalidate(0, &["/b.html".into()]), 1);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn refresh_updates_headers_but_not_length() {
        let s = stored(
            &[("etag", "\"1\""), ("content-length", "1"), ("x-v", "old")],
            0,
        );
        let mut nm = HeaderMap::new();
        nm.insert("x-v", HeaderValue::from_static("new"));
        nm.insert("content-length", HeaderValue::from_static("0"));
        let r = s.refreshed(&nm, s.freshness, Duration::ZERO);
        assert_eq!(r.headers["x-v"], "new");
        assert_eq!(r.headers["content-length"], "1");
    }
}
