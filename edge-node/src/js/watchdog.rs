//! Terminates JavaScript that runs past its deadline. A worker thread blocked in a runaway
//! loop cannot time itself out, so one watchdog thread per node scans every isolate's deadline
//! slot and calls `terminate_execution` through the isolate's thread-safe handle.
//!
//! Arming and disarming are atomic stores (no lock, no system call on the hook path): the
//! watchdog ticks every few milliseconds while invocations come, and only after a second
//! without any does it sleep; only an invocation that finds it asleep wakes it.

use deno_core::v8;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

/// Timeouts are enforced to within this.
const TICK: Duration = Duration::from_millis(5);

/// One isolate's deadline, in nanoseconds since the watchdog's epoch (0: disarmed).
///
/// A call on a serving thread is armed with a short slice first (`later` holds its real
/// deadline): past the slice it is stopped, to run again on a function thread, unless it
/// has `committed` something that must not happen twice (a `fetch`), in which case it runs on
/// to its real deadline.
pub struct Slot {
    deadline: AtomicU64,
    later: AtomicU64,
    committed: AtomicBool,
    fired: AtomicBool,
    on_slice: AtomicBool,
    handle: v8::IsolateHandle,
}

impl Slot {
    /// The running call did something that must not be repeated: no longer stop it at its
    /// slice.
    pub fn commit(&self) {
        self.committed.store(true, Ordering::Release);
    }
}

struct Shared {
    epoch: Instant,
    slots: Mutex<Vec<Weak<Slot>>>,
    armed: AtomicUsize,
    /// Set while the watchdog waits on `idle` (it then needs a wake-up to see new deadlines).
    sleeping: AtomicBool,
    idle: (Mutex<()>, Condvar),
}

/// How long the watchdog keeps ticking after the last armed invocation before it sleeps.
const LINGER: Duration = Duration::from_secs(1);

/// A watchdog that sleeps as soon as nothing is armed (tests of the wake-up path).
#[cfg(test)]
pub(crate) fn eager_sleeper() -> Watchdog {
    Watchdog::start_lingering(Duration::ZERO)
}

#[derive(Clone)]
pub struct Watchdog {
    shared: Arc<Shared>,
}

/// Disarms on drop; `fired()` says whether the deadline passed first.
pub struct Guard<'a> {
    slot: &'a Slot,
    shared: &'a Shared,
}

impl Guard<'_> {
    pub fn fired(&self) -> bool {
        self.slot.fired.load(Ordering::Acquire)
    }

    /// Whether it was stopped at its slice (to run again elsewhere), not at its deadline.
    pub fn sliced(&self) -> bool {
        self.fired() && self.slot.on_slice.load(Ordering::Acquire)
    }

    /// From here on only the real deadline applies (the call left the serving thread's
    /// synchronous part: it now waits without blocking anyone).
    pub fn unslice(&self) {
        let later = self.slot.later.swap(0, Ordering::AcqRel);
        if later != 0 {
            self.slot.deadline.store(later, Ordering::Release);
        }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.slot.deadline.store(0, Ordering::Release);
        self.slot.later.store(0, Ordering::Release);
        self.shared.armed.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Watchdog {
    pub fn start() -> Watchdog {
        Watchdog::start_lingering(LINGER)
    }

    fn start_lingering(linger: Duration) -> Watchdog {
        let shared = Arc::new(Shared {
            epoch: Instant::now(),
            slots: Mutex::new(Vec::new()),
            armed: AtomicUsize::new(0),
            sleeping: AtomicBool::new(false),
            idle: (Mutex::new(()), Condvar::new()),
        });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("edge-js-watchdog".into())
            .spawn(move || run(weak, linger))
            .expect("watchdog thread");
        Watchdog { shared }
    }

    /// A slot for one isolate (registered once, when the isolate is made).
    pub fn slot(&self, handle: v8::IsolateHandle) -> Arc<Slot> {
        let slot = Arc::new(Slot {
            deadline: AtomicU64::new(0),
            later: AtomicU64::new(0),
            committed: AtomicBool::new(false),
            fired: AtomicBool::new(false),
            on_slice: AtomicBool::new(false),
            handle,
        });
        let mut slots = self.shared.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|s| s.strong_count() > 0);
        slots.push(Arc::downgrade(&slot));
        slot
    }

    /// Terminates the slot's isolate at `deadline` unless the guard is dropped first.
    pub fn arm<'a>(&'a self, slot: &'a Slot, deadline: Instant) -> Guard<'a> {
        self.arm_sliced(slot, None, deadline)
    }

    /// Like `arm`, but stops the call at `slice` already (when earlier than `deadline`)
    /// unless it commits first.
    pub fn arm_sliced<'a>(
        &'a self,
        slot: &'a Slot,
        slice: Option<Instant>,
        deadline: Instant,
    ) -> Guard<'a> {
        let ns = |t: Instant| {
            t.saturating_duration_since(self.shared.epoch)
                .as_nanos()
                .max(1) as u64
        };
        let (first, later) = match slice.filter(|s| *s < deadline) {
            Some(s) => (ns(s), ns(deadline)),
            None => (ns(deadline), 0),
        };
        slot.fired.store(false, Ordering::Relaxed);
        slot.on_slice.store(false, Ordering::Relaxed);
        slot.committed.store(false, Ordering::Relaxed);
        slot.later.store(later, Ordering::Release);
        slot.deadline.store(first, Ordering::Release);
        self.shared.armed.fetch_add(1, Ordering::SeqCst);
        if self.shared.sleeping.load(Ordering::SeqCst) {
            // Asleep after a quiet second: wake it. It holds the lock from deciding to sleep
            // until it waits, so this wake-up cannot fall in between and be lost.
            let _lock = self.shared.idle.0.lock().unwrap_or_else(|p| p.into_inner());
            self.shared.idle.1.notify_one();
        }
        Guard {
            slot,
            shared: &self.shared,
        }
    }
}

/// Whether the watchdog is waiting for a wake-up (nothing armed for a while).
#[cfg(test)]
impl Watchdog {
    pub(crate) fn asleep(&self) -> bool {
        self.shared.sleeping.load(Ordering::SeqCst)
    }
}

fn run(shared: Weak<Shared>, linger: Duration) {
    let mut busy = Instant::now();
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.armed.load(Ordering::SeqCst) == 0 {
            if busy.elapsed() < linger {
                drop(s);
                std::thread::sleep(TICK);
                continue;
            }
            let guard = s.idle.0.lock().unwrap_or_else(|p| p.into_inner());
            s.sleeping.store(true, Ordering::SeqCst);
            if s.armed.load(Ordering::SeqCst) == 0 {
                // Woken by `arm`; the timeout only bounds how long a dropped watchdog's thread lives.
                let _ = s.idle.1.wait_timeout(guard, Duration::from_secs(5));
            }
            s.sleeping.store(false, Ordering::SeqCst);
            continue;
        }
        busy = Instant::now();
        let now = s.epoch.elapsed().as_nanos() as u64;
        for slot in s
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
        {
            let d = slot.deadline.load(Ordering::Acquire);
            if d == 0 || d > now {
                continue;
            }
            let later = slot.later.load(Ordering::Acquire);
            if later > d && slot.committed.load(Ordering::Acquire) {
                // Past its slice but committed: it runs on to its real deadline.
                let _ =
                    slot.deadline
                        .compare_exchange(d, later, Ordering::AcqRel, Ordering::Relaxed);
                continue;
            }
            slot.on_slice.store(later > d, Ordering::Release);
            if !slot.fired.swap(true, Ordering::AcqRel) {
                slot.handle.terminate_execution();
            }
        }
        drop(s);
        std::thread::sleep(TICK);
    }
}
