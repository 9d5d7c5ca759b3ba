//! Terminates JavaScript that runs past its deadline. A worker thread blocked in a runaway
//! loop cannot time itself out, so one watchdog thread per node holds every armed deadline and
//! calls `terminate_execution` through the isolate's thread-safe handle.

use deno_core::v8;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

struct Armed {
    id: u64,
    deadline: Instant,
    handle: v8::IsolateHandle,
    fired: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    next: u64,
    armed: Vec<Armed>,
}

#[derive(Clone)]
pub struct Watchdog {
    shared: Arc<(Mutex<State>, Condvar)>,
}

/// Disarms on drop; `fired()` says whether the deadline passed first.
pub struct Guard {
    dog: Watchdog,
    id: u64,
    fired: Arc<AtomicBool>,
}

impl Guard {
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let (lock, _) = &*self.dog.shared;
        lock.lock()
            .unwrap_or_else(|p| p.into_inner())
            .armed
            .retain(|a| a.id != self.id);
    }
}

impl Watchdog {
    pub fn start() -> Watchdog {
        let dog = Watchdog {
            shared: Arc::new((Mutex::new(State::default()), Condvar::new())),
        };
        let weak = Arc::downgrade(&dog.shared);
        std::thread::Builder::new()
            .name("edge-js-watchdog".into())
            .spawn(move || Self::run(weak))
            .expect("watchdog thread");
        dog
    }

    fn run(shared: std::sync::Weak<(Mutex<State>, Condvar)>) {
        loop {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let (lock, cv) = &*shared;
            let mut st = lock.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            st.armed.retain(|a| {
                if a.deadline <= now {
                    a.fired.store(true, Ordering::Release);
                    a.handle.terminate_execution();
                    false
                } else {
                    true
                }
            });
            let wait = st
                .armed
                .iter()
                .map(|a| a.deadline - now)
                .min()
                .unwrap_or(std::time::Duration::from_millis(500));
            let _ = cv.wait_timeout(st, wait).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Terminates `handle`'s execution at `deadline` unless the guard is dropped first.
    pub fn arm(&self, deadline: Instant, handle: v8::IsolateHandle) -> Guard {
        let (lock, cv) = &*self.shared;
        let fired = Arc::new(AtomicBool::new(false));
        let mut st = lock.lock().unwrap_or_else(|p| p.into_inner());
        st.next += 1;
        let id = st.next;
        st.armed.push(Armed {
            id,
            deadline,
            handle,
            fired: fired.clone(),
        });
        cv.notify_one();
        Guard {
            dog: self.clone(),
            id,
            fired,
        }
    }
}
