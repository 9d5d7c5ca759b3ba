//! Replication: the state edges poll for (held until a different revision), and each edge's
//! status as the control node sees it.

use crate::*;
use edge_node::replica::{Poll, State, POLL_HOLD};
use std::sync::Arc;
use std::time::Instant;
use store::EdgeRow;

impl Control {
    fn current_state(&self) -> Result<(Arc<State>, String)> {
        let mut cached = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = cached.as_ref().filter(|s| s.0.revision == self.revision()) {
            return Ok(s.clone());
        }
        let s = Arc::new(self.store().state()?);
        let digest = s.digest();
        *cached = Some((s.clone(), digest.clone()));
        Ok((s, digest))
    }

    fn resync_asked(&self, pop: &str) -> bool {
        self.resync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(pop)
    }

    /// `edge resync`: the edges named (every edge the store knows when `pops` is empty) take
    /// this node's state with their next poll, whatever they serve. Unknown POPs are refused.
    pub fn ask_resync(&self, pops: &[String]) -> Result<Vec<String>> {
        let known: Vec<String> = self.store().edges()?.into_iter().map(|e| e.pop).collect();
        let asked: Vec<String> = if pops.is_empty() {
            known
        } else {
            if let Some(p) = pops.iter().find(|p| !known.contains(p)) {
                return Err(ControlError::NotFound(format!(
                    "no edge {p:?} has polled this control node (edges: {})",
                    known.join(", ")
                )));
            }
            pops.to_vec()
        };
        self.resync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(asked.iter().cloned());
        // What they said no longer stands: until they poll again they are InProgress.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for pop in &asked {
            if let Some(s) = seen.get_mut(pop) {
                s.diverged = None;
            }
        }
        drop(seen);
        self.resync_asked.send_modify(|n| *n += 1);
        tracing::info!(edges = ?asked, "resync asked");
        Ok(asked)
    }

    /// An edge's long poll: records where it stands, then answers with the state once the
    /// revision differs from `after` (or `None` when the hold runs out).
    pub async fn poll(&self, p: &Poll, tls: bool) -> Result<Option<edge_node::signing::Signed>> {
        if p.pop.is_empty() {
            return Err(ControlError::invalid("InvalidArgument", "pop is empty"));
        }
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.get(&p.pop).is_none_or(|s| !s.reported) {
                tracing::info!(pop = %p.pop, url = %p.url, tls, applied = p.applied, "edge connected");
            }
            seen.entry(p.pop.clone())
                .and_modify(|s| {
                    s.in_flight += 1;
                    s.last = Instant::now();
                    s.reported = true;
                    s.admin.clone_from(&p.admin);
                    s.diverged.clone_from(&p.diverged);
                    s.tls = Some(tls);
                })
                .or_insert(Seen {
                    in_flight: 1,
                    last: Instant::now(),
                    reported: true,
                    admin: p.admin.clone(),
                    diverged: p.diverged.clone(),
                    tls: Some(tls),
                });
        }
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
        let mut asked = self.resync_asked.subscribe();
        let after = p.after;
        // An edge at this revision whose state is not this one (a store restored to an older
        // copy and changed since) hears it at once, unless it already said it diverged.
        let (current, digest) = self.current_state()?;
        let differs = p.diverged.is_none()
            && p.after == p.applied
            && p.after == current.revision
            && p.digest.as_ref().is_some_and(|d| *d != digest);
        if !differs && !self.resync_asked(&p.pop) {
            // Any other revision, not only a newer one: a store restored to an older revision
            // must be seen by the edges (they report Diverged), not hidden from them.
            let resync = async {
                while asked.changed().await.is_ok() {
                    if self.resync_asked(&p.pop) {
                        return;
                    }
                }
                std::future::pending::<()>().await
            };
            let woken = tokio::time::timeout(POLL_HOLD, async {
                tokio::select! {
                    r = rx.wait_for(|r| *r != after) => r.is_ok(),
                    () = resync => true,
                }
            })
            .await;
            if !matches!(woken, Ok(true)) {
                return Ok(None);
            }
        }
        let resync = self
            .resync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&p.pop);
        let mut state = (*self.current_state()?.0).clone();
        state.invalidations = self.store().invalidations_after(p.applied)?;
        state.nonce.clone_from(&p.nonce);
        state.resync = resync;
        Ok(Some(self.key.sign(&state)))
    }

    /// `edge forget POP`: an edge that is gone for good leaves `edge status` and `--wait`.
    /// Refused while it still polls (it would come back with its next poll).
    pub fn forget(&self, pop: &str) -> Result<()> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = seen
            .get(pop)
            .filter(|s| s.in_flight > 0 || (s.reported && s.last.elapsed() < RECONNECT_GRACE))
        {
            return Err(ControlError::Conflict(format!(
                "edge {pop} is still connected (it polled {} ms ago): stop it first",
                if s.in_flight > 0 {
                    0
                } else {
                    s.last.elapsed().as_millis()
                }
            )));
        }
        // Writes go through the store's checks (a removed or replaced file refuses them).
        let removed = self.store().tx(|tx| store::delete_edge(tx, pop))?;
        if !removed {
            return Err(ControlError::NotFound(format!("edge {pop}")));
        }
        seen.remove(pop);
        tracing::info!(pop, "edge forgotten");
        Ok(())
    }

    pub fn status(&self) -> Result<ClusterStatus> {
        let revision = self.revision();
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let edges: Vec<EdgeStatus> = self
            .store()
            .edges()?
            .into_iter()
            .map(|e| EdgeStatus {
                state: if seen.get(&e.pop).is_some_and(|s| s.diverged.is_some()) {
                    "Diverged"
                } else if e.applied == revision
                    && e.error.is_none()
                    && seen.get(&e.pop).is_some_and(|s| s.reported)
                {
                    "Deployed"
                } else {
                    "InProgress"
                }
                .to_string(),
                lag: revision.abs_diff(e.applied),
                connected: seen
                    .get(&e.pop)
                    .is_some_and(|s| s.in_flight > 0 || s.last.elapsed() < RECONNECT_GRACE),
                admin: seen.get(&e.pop).and_then(|s| s.admin.clone()),
                tls: seen.get(&e.pop).and_then(|s| s.tls),
                error: seen
                    .get(&e.pop)
                    .and_then(|s| s.diverged.clone())
                    .or(e.error),
                pop: e.pop,
                url: e.url,
                revision: e.applied,
            })
            .collect();
        let key_value_stores = self
            .store()
            .kv_stores()?
            .into_iter()
            .map(|s| {
                let deployed = edges
                    .iter()
                    .filter(|e| e.revision >= s.revision)
                    .map(|e| e.pop.clone())
                    .collect();
                StoreStatus {
                    name: s.name,
                    id: s.id,
                    revision: s.revision,
                    deployed,
                }
            })
            .collect();
        Ok(ClusterStatus {
            revision,
            cluster: self.cluster.clone(),
            key: self.key_fingerprint(),
            edges,
            key_value_stores,
        })
    }

    /// The replication metrics in the Prometheus text format (docs/metrics.md): the current
    /// revision, and per edge its applied revision, lag, whether it is Deployed and how long
    /// since it last polled.
    pub fn metrics(&self) -> Result<String> {
        let status = self.status()?;
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let edges = status
            .edges
            .iter()
            .map(|e| {
                let age = seen.get(&e.pop).map_or(f64::NAN, |s| {
                    if s.in_flight > 0 {
                        0.0
                    } else {
                        s.last.elapsed().as_secs_f64()
                    }
                });
                EdgeFigures {
                    pop: e.pop.clone(),
                    revision: e.revision,
                    lag: e.lag,
                    deployed: e.state == "Deployed",
                    age,
                }
            })
            .collect();
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(Replication {
            revision: status.revision,
            edges,
        }));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        Ok(out)
    }
}

#[derive(Debug)]
struct EdgeFigures {
    pop: String,
    revision: u64,
    lag: u64,
    deployed: bool,
    /// Seconds since its last poll (0 while one is held; NaN when not seen since start).
    age: f64,
}

#[derive(Debug)]
struct Replication {
    revision: u64,
    edges: Vec<EdgeFigures>,
}

impl prometheus_client::collector::Collector for Replication {
    fn encode(
        &self,
        mut e: prometheus_client::encoding::DescriptorEncoder<'_>,
    ) -> std::fmt::Result {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::gauge::ConstGauge;
        use prometheus_client::metrics::MetricType::Gauge;
        use prometheus_client::registry::Unit;
        let m = e.encode_descriptor(
            "edge_control_revision",
            "The control node's current revision.",
            None,
            Gauge,
        )?;
        ConstGauge::new(self.revision as i64).encode(m)?;
        type Pick = fn(&EdgeFigures) -> i64;
        let whole: [(&str, &str, Pick); 3] = [
            ("edge_control_edge_revision", "The revision each edge serves.", |f| f.revision as i64),
            ("edge_control_edge_lag", "Revisions each edge is behind the control node (CloudFront: a distribution InProgress).", |f| f.lag as i64),
            ("edge_control_edge_deployed", "1 when the edge serves the current revision (Deployed), else 0.", |f| i64::from(f.deployed)),
        ];
        for (name, help, pick) in whole {
            let mut m = e.encode_descriptor(name, help, None, Gauge)?;
            for f in &self.edges {
                let labels = [("pop", f.pop.as_str())];
                ConstGauge::new(pick(f)).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = e.encode_descriptor(
            "edge_control_edge_last_sync_age",
            "Time since each edge last polled (0 while a poll is held open).",
            Some(&Unit::Seconds),
            Gauge,
        )?;
        for f in &self.edges {
            let labels = [("pop", f.pop.as_str())];
            ConstGauge::new(f.age).encode(m.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// An edge's `http://ADDR:PORT` as another host can use it: an edge listening on every
/// address (`0.0.0.0`, `[::]`) reports that address, which means nothing elsewhere, so it
/// is replaced by the address its poll came from (`edge status` shows it, `edge logs` calls
/// it). Any other URL is kept as the edge gave it.
pub(crate) fn as_seen_from(url: &str, peer: std::net::IpAddr) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            format!(
                "{scheme}://{}",
                std::net::SocketAddr::new(peer, addr.port())
            )
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::as_seen_from;

    #[test]
    fn an_edge_on_every_address_is_named_by_where_its_poll_came_from() {
        let peer = "10.0.0.7".parse().unwrap();
        assert_eq!(
            as_seen_from("http://0.0.0.0:8080", peer),
            "http://10.0.0.7:8080"
        );
        assert_eq!(
            as_seen_from("http://[::]:8180", peer),
            "http://10.0.0.7:8180"
        );
        let v6 = "fd00::7".parse().unwrap();
        assert_eq!(as_seen_from("http://0.0.0.0:80", v6), "http://[fd00::7]:80");
        for kept in [
            "http://127.0.0.1:8080",
            "http://[::1]:1",
            "http://edge.example:80",
            "x",
        ] {
            assert_eq!(as_seen_from(kept, peer), kept);
        }
    }
}
