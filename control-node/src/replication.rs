//! Replication: the state edges poll for (held until a different revision), and each edge's
//! status as the control node sees it.

use crate::*;
use edge_node::replica::{Poll, State, POLL_HOLD};
use std::sync::Arc;
use std::time::Instant;
use store::EdgeRow;

impl Control {
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
    /// revision differs from `after` (or `None` when the hold runs out).
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
                s.reported = true;
                s.admin.clone_from(&p.admin);
            })
            .or_insert(Seen {
                in_flight: 1,
                last: Instant::now(),
                reported: true,
                admin: p.admin.clone(),
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
        // Any other revision, not only a newer one: a store restored to an older revision
        // must bring edges back to it, not leave them serving what it no longer has.
        let newer = tokio::time::timeout(POLL_HOLD, rx.wait_for(|r| *r != after)).await;
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
                state: if e.applied == revision
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
                pop: e.pop,
                url: e.url,
                revision: e.applied,
                error: e.error,
            })
            .collect();
        Ok(ClusterStatus { revision, edges })
    }
}
