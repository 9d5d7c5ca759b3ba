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

/// A slot's deadline once the watchdog has taken it to stop the call: at its slice, or at its
/// real deadline (never a time: both lie past any the watchdog compares).
const TAKEN_SLICE: u64 = u64::MAX;
const TAKEN_DEADLINE: u64 = u64::MAX - 1;

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
    /// The first deadline armed (the slice's, when there is one).
    first: u64,
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
    /// synchronous part: it now waits without blocking anyone). False when the watchdog has
    /// already taken the slice (its termination is on its way): the call counts as stopped
    /// at its slice.
    #[must_use]
    pub fn unslice(&self) -> bool {
        let later = self.slot.later.swap(0, Ordering::AcqRel);
        if later == 0 {
            return true;
        }
        match self.slot.deadline.compare_exchange(
            self.first,
            later,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            // A committed call the watchdog moved on to its real deadline, or took there.
            Err(now) => now != TAKEN_SLICE,
        }
    }

    /// Disarms, and says whether the watchdog took this call's deadline (it has asked, or
    /// is about to ask, the engine to terminate): the isolate must not run another call.
    /// The watchdog takes a deadline by swapping in `TAKEN_*` before it terminates, so a
    /// termination can never reach a later call on the same isolate unnoticed.
    pub fn finish(&self) -> bool {
        let d = self.slot.deadline.swap(0, Ordering::AcqRel);
        d == TAKEN_SLICE || d == TAKEN_DEADLINE || self.fired()
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
            first,
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
            // Take the deadline first: if the call finished (or moved past its slice) since
            // the load above, it is not this one to stop.
            let taken = if later > d {
                TAKEN_SLICE
            } else {
                TAKEN_DEADLINE
            };
            if slot
                .deadline
                .compare_exchange(d, taken, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (at most 10 s) until the watchdog has fired on `guard`'s slot.
    fn wait_fired(guard: &Guard<'_>) {
        let until = Instant::now() + Duration::from_secs(10);
        while !guard.fired() {
            assert!(Instant::now() < until, "the watchdog never fired");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A deadline the watchdog took is reported when the call finishes, even when nothing
    /// was running to be stopped: that isolate has a termination pending and must not be
    /// given another call (seen as a healthy call failing "the runtime could not call the
    /// handler" right after a call that finished at its slice).
    #[test]
    fn a_deadline_taken_by_the_watchdog_is_never_lost() {
        crate::js::pin_platform();
        let mut rt = deno_core::JsRuntime::new(Default::default());
        let dog = Watchdog::start();
        let slot = dog.slot(rt.v8_isolate().thread_safe_handle());
        let far = Instant::now() + Duration::from_secs(60);

        let guard = dog.arm(&slot, Instant::now());
        wait_fired(&guard);
        assert!(guard.finish(), "a fired deadline is reported");
        drop(guard);

        let guard = dog.arm(&slot, far);
        assert!(!guard.fired(), "arming starts clean");
        assert!(
            !guard.finish(),
            "a call that finished first was not stopped"
        );
        drop(guard);

        // A slice the watchdog took cannot be traded for the real deadline.
        let guard = dog.arm_sliced(&slot, Some(Instant::now()), far);
        wait_fired(&guard);
        assert!(guard.sliced());
        assert!(!guard.unslice());
        drop(guard);

        // A committed call runs past its slice to its real deadline, where it is stopped as a
        // timeout, not a slice.
        let guard = dog.arm_sliced(
            &slot,
            Some(Instant::now() + Duration::from_millis(200)),
            Instant::now() + Duration::from_millis(300),
        );
        slot.commit();
        wait_fired(&guard);
        assert!(!guard.sliced());
        assert!(guard.unslice());
        assert!(guard.finish());
        drop(guard);

        // One it has not reached can.
        let guard = dog.arm_sliced(&slot, Some(far - Duration::from_secs(1)), far);
        assert!(guard.unslice());
        assert!(!guard.finish());
    }
}
