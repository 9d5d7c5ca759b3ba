//! The function threads: where a function goes once one of its calls ran past its slice on a
//! thread that serves viewers (docs/request-path.md: "Long-running functions"). Each thread
//! has its own runtime and isolates (made there, never on a serving thread) and runs at the
//! lowest scheduling priority (nice `NICE`), so a loop that spins to its deadline takes CPU
//! only when the serving threads leave it some. The price: on a machine busy with other work
//! a thread at nice 19 gets ~1.5% of a core, so a moved function's calls (and the isolate its
//! first call makes there, tens of ms of CPU) can take seconds and reach their deadline (seen
//! at 4.7 s while a release build ran). Nice 10 kept healthy hits' p99 at 2.7-3.0x idle under
//! `edge bench --scenario runaway`, over the 2x target, so 19 it stays (bench/RESULTS.md).
//!
//! Calls wait in one queue that every thread takes from when it is free, and a thread lets
//! the call it took run before it takes another: a thread held by a call that runs
//! synchronously (a loop until its deadline) takes nothing more, so other calls of the same
//! function never queue behind a runaway one.

use super::{Call, FnError, FunctionCode, FunctionLimits, Input, Returned, Runner, Watchdog};
use crate::lambda::Stage;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Mutex};

pub struct Lane {
    /// The calls' queue, shared by every function thread.
    calls: mpsc::UnboundedSender<Job>,
    /// Each thread's own orders: the functions whose isolates it keeps.
    retain: Vec<mpsc::UnboundedSender<Vec<String>>>,
}

struct Job {
    code: Arc<FunctionCode>,
    stage: Stage,
    event: String,
    parts: String,
    request_id: String,
    deadline: Instant,
    egress: Option<Arc<super::Egress>>,
    done: oneshot::Sender<Result<Returned, FnError>>,
}

type Queue = Arc<Mutex<mpsc::UnboundedReceiver<Job>>>;

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
        let (calls, queue) = mpsc::unbounded_channel();
        let queue: Queue = Arc::new(Mutex::new(queue));
        let retain = (0..threads.max(1))
            .map(|i| {
                let (tx, rx) = mpsc::unbounded_channel();
                let (limits, watchdog, pop, queue) = (
                    limits.clone(),
                    watchdog.clone(),
                    pop.to_string(),
                    queue.clone(),
                );
                std::thread::Builder::new()
                    .name(format!("edge-fn-{i}"))
                    .spawn(move || serve(queue, rx, limits, watchdog, pop))
                    .expect("function thread");
                tx
            })
            .collect();
        Arc::new(Lane { calls, retain })
    }

    /// Runs one call on a function thread; the outcome as `Isolate::invoke` gives it.
    pub(crate) async fn call(
        &self,
        code: &Arc<FunctionCode>,
        call: Call<'_>,
    ) -> Result<Returned, FnError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            code: code.clone(),
            stage: call.stage,
            event: match call.input {
                Input::Json { event, .. } => event.to_string(),
                Input::Built { json, .. } => json(),
            },
            parts: match call.input {
                Input::Json { parts, .. } => parts.to_string(),
                Input::Built { .. } => String::new(),
            },
            request_id: call.request_id.to_string(),
            deadline: call.deadline,
            egress: call.egress.cloned(),
            done,
        };
        if self.calls.send(job).is_err() {
            return Err(FnError::Threw("the function threads have stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(FnError::Threw("a function thread stopped".into())))
    }

    /// Drops, on every function thread, the isolates of functions not in `keep`.
    pub fn retain(&self, keep: &[String]) {
        for t in &self.retain {
            let _ = t.send(keep.to_vec());
        }
    }
}

/// One function thread: lowest priority, its own runtime, one task per call.
fn serve(
    queue: Queue,
    mut retain: mpsc::UnboundedReceiver<Vec<String>>,
    limits: FunctionLimits,
    watchdog: Watchdog,
    pop: String,
) {
    low_priority();
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
        loop {
            // Taking a call holds the queue only while waiting for one (dropping the guard
            // when a retain order wins is safe: `recv` loses nothing when cancelled).
            let job = tokio::select! {
                keep = retain.recv() => match keep {
                    Some(keep) => { runner.retain(&keep); continue; }
                    None => break,
                },
                job = async { queue.lock().await.recv().await } => match job {
                    Some(job) => job,
                    None => break,
                },
            };
            let (began, has_isolate) = oneshot::channel::<()>();
            let runner = runner.clone();
            tokio::task::spawn_local(async move {
                let Job {
                    code,
                    stage,
                    event,
                    parts,
                    request_id,
                    deadline,
                    egress,
                    done,
                } = job;
                let began = std::cell::Cell::new(Some(began));
                let started = || {
                    if let Some(b) = began.take() {
                        let _ = b.send(());
                    }
                };
                let call = Call {
                    stage,
                    input: Input::Json {
                        event: &event,
                        parts: &parts,
                    },
                    request_id: &request_id,
                    deadline,
                    egress: egress.as_ref(),
                    started: Some(&started),
                };
                let out = runner.invoke_here(&code, call).await;
                let _ = done.send(out);
            });
            // This thread takes another call only once the one it took has its isolate and
            // has run up to its first wait: a call that loops holds only itself, never a call
            // queued behind it (the others go to the threads that are free).
            // (An error when the call ended without an isolate: its sender is dropped.)
            let _ = has_isolate.await;
            tokio::task::yield_now().await;
        }
    });
}

/// The function threads' niceness.
const NICE: i32 = 19;

/// Nice `NICE` for the calling thread (Linux applies `setpriority` to one thread).
fn low_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: setpriority only reads its integer arguments; `who` 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
    }
}
