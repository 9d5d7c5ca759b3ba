//! Request collapsing: concurrent misses for one cache key make one origin request. The first
//! becomes the leader; the others wait for it to finish and then look in the cache again. A
//! leader that goes away (viewer disconnected, error) releases its followers on drop.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

const SHARDS: usize = 16;

/// In-flight origin fetches by cache key, shared by every worker of the node.
pub struct Flights {
    shards: [Mutex<HashMap<Box<str>, Arc<Flight>>>; SHARDS],
    hasher: RandomState,
}

impl Default for Flights {
    fn default() -> Self {
        Flights {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: RandomState::new(),
        }
    }
}

/// One origin fetch that others may wait on.
#[derive(Default)]
pub struct Flight {
    done: AtomicBool,
    notify: Notify,
}

impl Flight {
    /// Resolves when the leader has finished (stored a response or given up).
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.done.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

pub enum Join {
    Leader(FlightGuard),
    Follower(Arc<Flight>),
}

/// Held by the leader; dropping it ends the flight and wakes the followers.
pub struct FlightGuard {
    flights: Arc<Flights>,
    key: Box<str>,
    flight: Arc<Flight>,
}

impl Flights {
    fn shard(&self, key: &str) -> &Mutex<HashMap<Box<str>, Arc<Flight>>> {
        &self.shards[self.hasher.hash_one(key) as usize % SHARDS]
    }

    /// Becomes the leader for `key`, or follows the fetch already under way.
    pub fn join(self: &Arc<Self>, key: &str) -> Join {
        let mut map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = map.get(key) {
            return Join::Follower(f.clone());
        }
        let flight = Arc::new(Flight::default());
        map.insert(key.into(), flight.clone());
        Join::Leader(FlightGuard {
            flights: self.clone(),
            key: key.into(),
            flight,
        })
    }

    /// Whether a fetch for `key` is under way.
    pub fn in_flight(&self, key: &str) -> bool {
        self.shard(key)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(key)
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut map = self
            .flights
            .shard(&self.key)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
        drop(map);
        self.flight.done.store(true, Ordering::Release);
        self.flight.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_wake_when_leader_drops() {
        let flights = Arc::new(Flights::default());
        let Join::Leader(guard) = flights.join("k") else {
            panic!("first join leads")
        };
        let Join::Follower(f) = flights.join("k") else {
            panic!("second join follows")
        };
        let waiter = tokio::spawn(async move { f.wait().await });
        tokio::task::yield_now().await;
        drop(guard);
        waiter.await.unwrap();
        assert!(!flights.in_flight("k"));
        assert!(matches!(flights.join("k"), Join::Leader(_)));
    }
}
