//! The function threads: where a function goes once one of its calls ran past its slice on a
//! thread that serves viewers (docs/request-path.md: "Long-running functions"). Each thread
//! has its own runtime and isolates (made there, never on a serving thread) and runs at the
//! lowest scheduling priority, so even a loop that spins to its deadline takes CPU only
//! when the serving threads leave it some. A call goes to the thread with the fewest calls
//! among those not held by a call that runs synchronously (a loop until its deadline), so
//! other calls of the same function never queue behind a runaway one.

use super::{Call, FnError, FunctionCode, FunctionLimits, Returned, Runner, Watchdog};
use crate::lambda::Stage;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub struct Lane {
    threads: Vec<LaneThread>,
    epoch: Instant,
}

struct LaneThread {
    jobs: mpsc::UnboundedSender<Job>,
    /// Calls sent and not yet answered.
    calls: Arc<AtomicUsize>,
    /// When the thread last showed it was free to run something (ms since `Lane::epoch`): a
    /// task of its own beats every `BEAT`; a thread whose beat is older is held by a call
    /// running synchronously (a loop), and new calls go elsewhere rather than queue behind it.
    beat: Arc<AtomicU64>,
}

/// How often a function thread shows it is not blocked, and how old a beat may be.
const BEAT: Duration = Duration::from_millis(5);
const BLOCKED_AFTER: Duration = Duration::from_millis(25);

enum Job {
    Call {
        code: Arc<FunctionCode>,
        stage: Stage,
        event: String,
        parts: String,
        request_id: String,
        deadline: Instant,
        done: oneshot::Sender<Result<Returned, FnError>>,
    },
    /// Drop the isolates of functions not in the list.
    Retain(Vec<String>),
}

impl Lane {
    /// Starts `threads` function threads.
    pub fn start(
        threads: usize,
        limits: &FunctionLimits,
        watchdog: &Watchdog,
        pop: &str,
    ) -> Arc<Lane> {
        let limits = FunctionLimits {
            slice: Duration::ZERO,
            ..limits.clone()
        };
        let epoch = Instant::now();
        let threads = (0..threads.max(1))
            .map(|i| {
                let (tx, rx) = mpsc::unbounded_channel();
                let calls = Arc::new(AtomicUsize::new(0));
                let beat = Arc::new(AtomicU64::new(0));
                let (limits, watchdog, pop, count, b) = (
                    limits.clone(),
                    watchdog.clone(),
                    pop.to_string(),
                    calls.clone(),
                    beat.clone(),
                );
                std::thread::Builder::new()
                    .name(format!("edge-fn-{i}"))
                    .spawn(move || serve(rx, limits, watchdog, pop, count, (b, epoch)))
                    .expect("function thread");
                LaneThread {
                    jobs: tx,
                    calls,
                    beat,
                }
            })
            .collect();
        Arc::new(Lane { threads, epoch })
    }

    /// Runs one call on a function thread; the outcome as `Isolate::invoke` gives it.
    pub(crate) async fn call(
        &self,
        code: &Arc<FunctionCode>,
        call: Call<'_>,
    ) -> Result<Returned, FnError> {
        // The least busy thread that is not held by a running loop (any, if all are).
        let now = self.epoch.elapsed().as_millis() as u64;
        let blocked = |t: &LaneThread| {
            now.saturating_sub(t.beat.load(Ordering::Acquire)) > BLOCKED_AFTER.as_millis() as u64
        };
        let t = self
            .threads
            .iter()
            .min_by_key(|t| (blocked(t), t.calls.load(Ordering::Acquire)))
            .expect("at least one function thread");
        let (done, answer) = oneshot::channel();
        t.calls.fetch_add(1, Ordering::AcqRel);
        let job = Job::Call {
            code: code.clone(),
            stage: call.stage,
            event: call.event.to_string(),
            parts: call.parts.to_string(),
            request_id: call.request_id.to_string(),
            deadline: call.deadline,
            done,
        };
        if t.jobs.send(job).is_err() {
            t.calls.fetch_sub(1, Ordering::AcqRel);
            return Err(FnError::Threw("the function threads have stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(FnError::Threw("a function thread stopped".into())))
    }

    /// Drops, on every function thread, the isolates of functions not in `keep`.
    pub fn retain(&self, keep: &[String]) {
        for t in &self.threads {
            let _ = t.jobs.send(Job::Retain(keep.to_vec()));
        }
    }
}

/// One function thread: lowest priority, its own runtime, one task per call.
fn serve(
    mut jobs: mpsc::UnboundedReceiver<Job>,
    limits: FunctionLimits,
    watchdog: Watchdog,
    pop: String,
    calls: Arc<AtomicUsize>,
    (beat, epoch): (Arc<AtomicU64>, Instant),
) {
    lowest_priority();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "a function thread could not start its runtime");
            return;
        }
    };
    // Calls are counted by the serving thread that made them; here nothing is throttled.
    let runner = std::rc::Rc::new(Runner::new(
        limits,
        watchdog,
        Arc::new(AtomicUsize::new(0)),
        &pop,
    ));
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        // The beat: runs whenever nothing holds the thread.
        tokio::task::spawn_local(async move {
            let mut tick = tokio::time::interval(BEAT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                beat.store(epoch.elapsed().as_millis() as u64, Ordering::Release);
            }
        });
        while let Some(job) = jobs.recv().await {
            match job {
                Job::Retain(keep) => runner.retain(&keep),
                Job::Call {
                    code,
                    stage,
                    event,
                    parts,
                    request_id,
                    deadline,
                    done,
                } => {
                    let (runner, calls) = (runner.clone(), calls.clone());
                    tokio::task::spawn_local(async move {
                        let out = runner
                            .invoke_here(
                                &code,
                                Call {
                                    stage,
                                    event: &event,
                                    parts: &parts,
                                    request_id: &request_id,
                                    deadline,
                                },
                            )
                            .await;
                        calls.fetch_sub(1, Ordering::AcqRel);
                        let _ = done.send(out);
                    });
                }
            }
        }
    });
}

/// Nice 19 for the calling thread (Linux applies `setpriority` to one thread).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: setpriority only reads its integer arguments; `who` 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}
