//! The JavaScript function runtime on deno_core (QuickJS by default, V8 behind the `v8`
//! feature). Thread-per-core: every worker thread owns a pool of warm isolates per function
//! version, created when the function is loaded and never on the request path, so invoking a
//! hook is a call on the same thread. One watchdog thread per node terminates runaways.

mod check;
pub mod egress;
mod isolate;
mod lane;
pub mod logs;
mod modules;
mod ops;
pub mod package;
// The engine reached directly (QuickJS-ng only; with V8 every call takes the JSON path).
#[cfg(all(feature = "quickjs", not(feature = "v8")))]
pub mod qjs;
#[cfg(not(all(feature = "quickjs", not(feature = "v8"))))]
#[path = "qjs_none.rs"]
pub mod qjs;
mod sign;
pub(crate) mod watchdog;

pub use check::{check_cloudfront, check_code};
pub use egress::Egress;
pub use isolate::{is_es_module, Input, Isolate, Returned};
pub use lane::Lane;
pub use ops::{forbid_fetch, LogContext};
pub use watchdog::Watchdog;

use crate::lambda::Stage;
use bytes::Bytes;
use deno_core::{JsRuntime, RuntimeOptions};
pub use package::Package;
use serde_json::{json, Value};
use sha2::Digest;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Which engine this build runs.
pub fn engine() -> &'static str {
    if cfg!(feature = "v8") {
        "v8"
    } else {
        "quickjs"
    }
}

/// Hex SHA-256 of `bytes`: how function code is named everywhere (versions, replication).
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One immutable function version: its identity and its code.
#[derive(Debug)]
pub struct FunctionCode {
    pub name: String,
    pub version: u64,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    /// The code as published: a JavaScript file's text or a package's zip. Its length is
    /// what Lambda@Edge's size limits count (the compressed package).
    pub bytes: Bytes,
    /// Its files and handler.
    pub package: Package,
    /// Where the code came from (for messages).
    pub file: String,
    /// `Some` for a CloudFront function (its runtime), `None` for Lambda@Edge (Node.js).
    pub cloudfront: Option<crate::cloudfront::Runtime>,
    /// The KeyValueStore (its id) a CloudFront function's `cf.kvs()` reads.
    pub kvs: Option<String>,
    /// `name:version:sha256`, made once: pools are keyed by it on every call.
    key: String,
}

/// `name:version:sha256`, and `:runtime` for a CloudFront function (the same code under the
/// other kind is another function).
fn pool_key(
    name: &str,
    version: u64,
    sha256: &str,
    cloudfront: Option<crate::cloudfront::Runtime>,
) -> String {
    match cloudfront {
        None => format!("{name}:{version}:{sha256}"),
        Some(rt) => format!("{name}:{version}:{sha256}:{rt}"),
    }
}

impl FunctionCode {
    /// A function of one JavaScript file.
    pub fn new(
        name: impl Into<String>,
        version: u64,
        file: impl Into<String>,
        source: impl Into<Arc<str>>,
    ) -> FunctionCode {
        let source: Arc<str> = source.into();
        let file = file.into();
        let bytes = Bytes::from(source.as_bytes().to_vec());
        let (name, sha256) = (name.into(), sha256_hex(&bytes));
        FunctionCode {
            key: pool_key(&name, version, &sha256, None),
            name,
            version,
            sha256,
            package: Package::single(&file, bytes.clone()),
            bytes,
            file,
            cloudfront: None,
            kvs: None,
        }
    }

    /// A CloudFront function: one file of code for `runtime`, checked as CloudFront checks it
    /// (size, runtime 1.0 syntax, a `handler`).
    pub fn cloudfront(
        name: impl Into<String>,
        version: u64,
        file: impl Into<String>,
        bytes: Bytes,
        runtime: crate::cloudfront::Runtime,
    ) -> Result<FunctionCode, String> {
        let file = file.into();
        crate::cloudfront::check_code(&file, &bytes, runtime)?;
        let (name, sha256) = (name.into(), sha256_hex(&bytes));
        Ok(FunctionCode {
            key: pool_key(&name, version, &sha256, Some(runtime)),
            name,
            version,
            sha256,
            package: Package::single(&file, bytes.clone()),
            bytes,
            file,
            cloudfront: Some(runtime),
            kvs: None,
        })
    }

    /// The same CloudFront function reading the KeyValueStore `id` (part of its pool key: the
    /// association is loaded with the code).
    pub fn with_kvs(mut self, id: Option<String>) -> FunctionCode {
        if let Some(id) = &id {
            self.key = format!("{}:kvs={id}", self.key);
        }
        self.kvs = id;
        self
    }

    /// A function from its published form (a file's text or a package's zip).
    pub fn from_bytes(
        name: impl Into<String>,
        version: u64,
        file: impl Into<String>,
        bytes: Bytes,
    ) -> Result<FunctionCode, String> {
        let file = file.into();
        let package = Package::from_bytes(&file, bytes.clone())?;
        let (name, sha256) = (name.into(), sha256_hex(&bytes));
        Ok(FunctionCode {
            key: pool_key(&name, version, &sha256, None),
            name,
            version,
            sha256,
            package,
            bytes,
            file,
            cloudfront: None,
            kvs: None,
        })
    }

    /// The same code under another name.
    pub fn renamed(&self, name: impl Into<String>) -> FunctionCode {
        self.as_version(name, self.version)
    }

    /// The same code as another name and version (a version an ARN names).
    pub fn as_version(&self, name: impl Into<String>, version: u64) -> FunctionCode {
        let name = name.into();
        FunctionCode {
            key: pool_key(&name, version, &self.sha256, self.cloudfront),
            cloudfront: self.cloudfront,
            name,
            version,
            sha256: self.sha256.clone(),
            bytes: self.bytes.clone(),
            package: self.package.clone(),
            file: self.file.clone(),
            kvs: None,
        }
        .with_kvs(self.kvs.clone())
    }

    /// Pools are keyed by this: the same code under the same name shares isolates.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Limits for every function on a node.
#[derive(Debug, Clone)]
pub struct FunctionLimits {
    pub viewer_timeout: Duration,
    pub origin_timeout: Duration,
    /// How long a function's top level may run when an isolate loads it (Lambda's Init phase).
    pub init_timeout: Duration,
    pub heap_bytes: usize,
    /// Invocations in flight per node before new ones are throttled.
    pub concurrency: usize,
    /// Warm isolates per function per worker thread.
    pub isolates_per_worker: usize,
    /// How long a call may run synchronously on a thread that serves viewers before it is
    /// stopped and run again on a function thread, where the function's calls then stay
    /// (zero: never; calls always run inline).
    pub slice: Duration,
    /// A CloudFront function's compute budget per call: its 100% compute utilization.
    pub cloudfront_budget: Duration,
}

impl FunctionLimits {
    pub fn timeout(&self, stage: Stage) -> Duration {
        if stage.is_viewer() {
            self.viewer_timeout
        } else {
            self.origin_timeout
        }
    }
}

/// Everything that goes wrong with a function: at load (the node refuses the version) or on
/// a call (the viewer gets CloudFront's 502/503).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FnError {
    /// Loading failed: the code does not compile, its top level threw, ran past the init limit
    /// or out of memory.
    #[error("function {function} ({file}): {reason}")]
    Load {
        function: String,
        file: String,
        reason: String,
    },
    #[error("throttled: the node's concurrency limit or every isolate is busy")]
    Throttled,
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The function threw, rejected or called back with an error.
    #[error("the function failed: {0}")]
    Threw(String),
    /// Its promise never settled and nothing was left to run.
    #[error("the handler's promise never settled")]
    NeverSettled,
    /// The heap limit was reached (bytes).
    #[error("the function ran out of memory ({} MB heap limit)", .0 >> 20)]
    Memory(usize),
    /// The result could not be turned into JSON (a BigInt, a cycle).
    #[error("the result is not JSON-serializable: {0}")]
    Unserializable(String),
    #[error("function {0} is not loaded on this node")]
    NotLoaded(String),
    /// Stopped at its slice on a serving thread, to run again on a function thread (never
    /// reaches a viewer: the runner runs the call again).
    #[error("stopped at its slice on a serving thread")]
    Sliced,
}

/// One call as it goes from the runner to an isolate, here or on a function thread.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub stage: Stage,
    /// The event: JSON and its parts kept aside (lambda::event::write_lazy), or built.
    pub input: Input<'a>,
    pub request_id: &'a str,
    pub deadline: Instant,
    /// Where the call's requests may go (origin stages; `None` at the viewer stages, which
    /// have no network).
    pub egress: Option<&'a Arc<Egress>>,
    /// Told when the call has its isolate and is about to run (the function threads take
    /// their next call only then: js/lane.rs).
    pub started: Option<&'a dyn Fn()>,
}

/// A function's result: its value, and whether it is the object the event gave with that
/// object's headers never read (they are then missing from `value`: the node keeps its own).
#[derive(Debug)]
pub struct Outcome {
    pub value: Value,
    pub untouched_headers: bool,
    /// A CloudFront function's origin change (JSON), checked by the driver.
    pub origin: Option<String>,
}

/// Warm isolates of one function on one worker thread.
pub struct Pool {
    pub code: Arc<FunctionCode>,
    idle: RefCell<Vec<Isolate>>,
    freed: Notify,
    limits: FunctionLimits,
    watchdog: Watchdog,
    /// The static part of the handler's `context` (JSON), set once per isolate.
    context: String,
    pop: Arc<str>,
    /// Set once a call ran past its slice: this function's calls run on the function
    /// threads from then on.
    moved: std::cell::Cell<bool>,
    /// The function's name for its log lines (made once, not per call).
    name: Arc<str>,
    /// This pool's call counters (crate::metrics).
    stats: Arc<crate::metrics::FnStats>,
    /// A CloudFront function's calls in a row over its compute budget, and until when it is
    /// throttled after too many.
    over_budget: std::cell::Cell<u32>,
    throttled_until: std::cell::Cell<Option<Instant>>,
}

/// A CloudFront function whose calls run over their compute budget this many times in a row
/// is throttled (`FunctionThrottledError`) for `THROTTLE_FOR`, then tried again. AWS says only
/// that a function continuously over its maximum is throttled; these numbers are ours.
const OVER_BUDGET_IN_A_ROW: u32 = 20;
const THROTTLE_FOR: Duration = Duration::from_secs(1);

/// Lambda's context fields that do not change between invocations.
fn context_json(code: &FunctionCode, heap_bytes: usize, pop: &str) -> String {
    json!({
        "functionName": format!("us-east-1.{}", code.name),
        "functionVersion": code.version.to_string(),
        "invokedFunctionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{}:{}", code.name, code.version),
        "memoryLimitInMB": (heap_bytes >> 20).to_string(),
        "logGroupName": format!("/aws/lambda/us-east-1.{}", code.name),
        "logStreamName": format!("{pop}/[{}]{}", code.version, &code.sha256[..12]),
    })
    .to_string()
}

impl Pool {
    /// Creates `size` loaded isolates (so load errors surface here, not on a request).
    pub async fn new(
        code: Arc<FunctionCode>,
        limits: &FunctionLimits,
        watchdog: Watchdog,
        pop: &Arc<str>,
    ) -> Result<Rc<Pool>, FnError> {
        let context = context_json(&code, limits.heap_bytes, pop);
        let name: Arc<str> = code.name.as_str().into();
        let size = limits.isolates_per_worker.max(1);
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size {
            idle.push(Isolate::load(code.clone(), limits, &watchdog, &context, pop).await?);
        }
        let stats = crate::metrics::register(&name, code.version, code.cloudfront.is_some());
        Ok(Rc::new(Pool {
            code,
            idle: RefCell::new(idle),
            freed: Notify::new(),
            limits: limits.clone(),
            watchdog,
            context,
            pop: pop.clone(),
            moved: std::cell::Cell::new(false),
            over_budget: std::cell::Cell::new(0),
            throttled_until: std::cell::Cell::new(None),
            stats,
            name,
        }))
    }

    /// An idle isolate, waiting for one until `deadline` (`Throttled` past it). A call waiting
    /// here when the function moves to the function threads is sent there (`Sliced`).
    async fn acquire(&self, deadline: Instant) -> Result<Isolate, FnError> {
        loop {
            if self.moved.get() {
                return Err(FnError::Sliced);
            }
            if let Some(i) = self.idle.borrow_mut().pop() {
                return Ok(i);
            }
            tokio::time::timeout_at(deadline.into(), self.freed.notified())
                .await
                .map_err(|_| FnError::Throttled)?;
        }
    }

    /// Returns an isolate; a tainted one is replaced in the background (unless the function
    /// has moved to the function threads: this pool is not used again).
    fn release(self: &Rc<Self>, iso: Isolate) {
        if !iso.tainted {
            self.idle.borrow_mut().push(iso);
            self.freed.notify_one();
            return;
        }
        drop(iso);
        collect_this_thread();
        let pool = self.clone();
        tokio::task::spawn_local(async move {
            // A terminated isolate is usually one that filled its heap: give that memory back
            // (off this thread, which serves viewers meanwhile).
            let _ = tokio::task::spawn_blocking(return_freed_memory).await;
            if pool.moved.get() {
                return;
            }
            match Isolate::load(
                pool.code.clone(),
                &pool.limits,
                &pool.watchdog,
                &pool.context,
                &pool.pop,
            )
            .await
            {
                Ok(fresh) => {
                    pool.idle.borrow_mut().push(fresh);
                    pool.freed.notify_one();
                    tracing::info!(function = %pool.code.name, version = pool.code.version, "replaced a terminated isolate");
                }
                Err(e) => {
                    tracing::error!(function = %pool.code.name, error = %e, "could not replace a terminated isolate")
                }
            }
        });
    }
}

/// Returns what this thread freed to the system at once when the binary runs on mimalloc
/// (`edge` does): mimalloc keeps a thread's freed pages in that thread's heap, so only the
/// thread that dropped an isolate can give its heap back, and without this a stopped 32 MiB
/// isolate left RSS ~24 MB higher each time (tests/integration/realm.rs). Under another
/// allocator it finds nothing to do.
fn collect_this_thread() {
    #[allow(unsafe_code)]
    // SAFETY: mi_collect has no preconditions; it acts on the calling thread's own heap.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Returns memory that freed isolates left in glibc's allocator to the system (for builds of
/// this library without mimalloc: tests and benches; `edge` itself gives its memory back
/// through `collect_this_thread`). glibc keeps freed
/// heap memory in its arenas for reuse, so without this an isolate stopped at its heap limit
/// leaves the node's RSS higher by about that limit (measured: 33 MB before ten 128 MB memory
/// bombs, 226 MB after).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim has no preconditions; it takes glibc's own arena locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Every function pool of one worker thread, and what invoking needs.
pub struct Runner {
    pools: RefCell<HashMap<String, Rc<Pool>>>,
    pub limits: FunctionLimits,
    watchdog: Watchdog,
    inflight: Arc<AtomicUsize>,
    pop: Arc<str>,
    /// Where functions that ran past their slice go (none: every call runs here).
    lane: Option<Arc<Lane>>,
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Runner {
    pub fn new(
        limits: FunctionLimits,
        watchdog: Watchdog,
        inflight: Arc<AtomicUsize>,
        pop: &str,
    ) -> Runner {
        Runner {
            pools: RefCell::new(HashMap::new()),
            limits,
            watchdog,
            inflight,
            pop: pop.into(),
            lane: None,
        }
    }

    /// Calls that run past `limits.slice` here move to `lane` (a serving thread's runner).
    pub fn with_lane(mut self, lane: Arc<Lane>) -> Runner {
        self.lane = Some(lane);
        self
    }

    /// Loads (and warms) `code` unless it is loaded already.
    pub async fn load(&self, code: &Arc<FunctionCode>) -> Result<(), FnError> {
        if self.pools.borrow().contains_key(code.key()) {
            return Ok(());
        }
        let pool = self.new_pool(code).await?;
        self.pools.borrow_mut().insert(code.key().to_string(), pool);
        Ok(())
    }

    /// A pool of freshly created isolates of `code`; a load error names the function.
    async fn new_pool(&self, code: &Arc<FunctionCode>) -> Result<Rc<Pool>, FnError> {
        Pool::new(code.clone(), &self.limits, self.watchdog.clone(), &self.pop).await
    }

    /// Replaces every pool with freshly created isolates of the same code, as when execution
    /// environments are recycled; the old isolates serve until their replacements are ready.
    /// Returns how many isolates were created.
    pub async fn recycle(&self) -> Result<usize, FnError> {
        let codes: Vec<Arc<FunctionCode>> = self
            .pools
            .borrow()
            .values()
            .map(|p| p.code.clone())
            .collect();
        let mut created = 0;
        for code in codes {
            let pool = self.new_pool(&code).await?;
            created += pool.idle.borrow().len();
            self.pools.borrow_mut().insert(code.key().to_string(), pool);
        }
        Ok(created)
    }

    /// Drops the pools whose keys are not in `keep`.
    pub fn retain(&self, keep: &[String]) {
        self.pools.borrow_mut().retain(|k, _| keep.contains(k));
        if let Some(lane) = &self.lane {
            lane.retain(keep);
        }
    }

    /// Keys of every loaded pool.
    pub fn loaded(&self) -> Vec<String> {
        self.pools.borrow().keys().cloned().collect()
    }

    /// Invokes `code` on `event` (JSON text) and returns its result. On a serving thread
    /// (a runner with a lane) the call runs here unless its function has moved; a call that
    /// runs past its slice is stopped, its function moves, and the call runs again on the
    /// function threads with what is left of its deadline.
    pub async fn invoke(
        &self,
        code: &Arc<FunctionCode>,
        stage: Stage,
        event: &str,
        parts: &str,
        request_id: &str,
        egress: Option<&Arc<Egress>>,
    ) -> Result<Outcome, FnError> {
        let input = Input::Json { event, parts };
        self.invoke_input(code, stage, input, request_id, egress)
            .await
    }

    /// `invoke` with the event as `input` (JSON text, or built as engine objects).
    pub async fn invoke_input(
        &self,
        code: &Arc<FunctionCode>,
        stage: Stage,
        input: Input<'_>,
        request_id: &str,
        egress: Option<&Arc<Egress>>,
    ) -> Result<Outcome, FnError> {
        let pool = self
            .pools
            .borrow()
            .get(code.key())
            .cloned()
            .ok_or_else(|| FnError::NotLoaded(code.key().to_string()))?;
        if self.inflight.fetch_add(1, Ordering::AcqRel) >= self.limits.concurrency {
            self.inflight.fetch_sub(1, Ordering::AcqRel);
            pool.stats.throttles.fetch_add(1, Ordering::Relaxed);
            pool.stats.error(crate::metrics::FnErrorKind::LimitExceeded);
            return Err(FnError::Throttled);
        }
        let _inflight = InFlight(&self.inflight);
        let start = Instant::now();
        if let Some(until) = pool.throttled_until.get() {
            if start < until {
                pool.stats.throttles.fetch_add(1, Ordering::Relaxed);
                pool.stats.error(crate::metrics::FnErrorKind::LimitExceeded);
                return Err(FnError::Throttled);
            }
            pool.throttled_until.set(None);
        }
        let deadline = start + self.limits.timeout(stage);
        let call = Call {
            stage,
            input,
            request_id,
            deadline,
            egress,
            started: None,
        };
        let returned = match &self.lane {
            Some(lane) if pool.moved.get() => lane.call(code, call).await,
            Some(lane) if !self.limits.slice.is_zero() => {
                let slice = Some(start + self.limits.slice);
                match self.run(&pool, call, slice).await {
                    Err(FnError::Sliced) => {
                        if !pool.moved.replace(true) {
                            // Calls waiting for this pool's isolate go to the lane too.
                            pool.freed.notify_waiters();
                            tracing::warn!(function = %code.name, version = code.version, stage = stage.as_str(), slice_ms = self.limits.slice.as_millis() as u64, "a call ran past its slice on a serving thread: this function's calls now run on the function threads");
                        }
                        lane.call(code, call).await
                    }
                    other => other,
                }
            }
            _ => self.run(&pool, call, None).await,
        }?;
        let value: Value = match returned.value {
            Some(value) => value,
            None => serde_json::from_str(&returned.json)
                .map_err(|e| FnError::Unserializable(e.to_string()))?,
        };
        if let Some(msg) = value.get("__edge_unserializable") {
            return Err(FnError::Unserializable(
                msg.as_str().unwrap_or("").to_string(),
            ));
        }
        Ok(Outcome {
            value,
            untouched_headers: returned.untouched_headers,
            origin: returned.origin,
        })
    }

    /// A call on a function thread: loads the function here first if needed (never on a
    /// serving thread), no slice. Throttling was done by the serving thread.
    pub(crate) async fn invoke_here(
        &self,
        code: &Arc<FunctionCode>,
        call: Call<'_>,
    ) -> Result<Returned, FnError> {
        let fresh = !self.pools.borrow().contains_key(code.key());
        let loading = Instant::now();
        self.load(code).await?;
        // The Init phase has its own limit, the timeout is the Invoke phase's
        // (docs/cloudfront-behaviour.md "Init limit"): a call that first had to make its
        // isolates here (a function thread at the lowest priority; on a busy machine maybe
        // seconds) keeps its whole deadline.
        let call = match fresh {
            true => Call {
                deadline: call.deadline + loading.elapsed(),
                ..call
            },
            false => call,
        };
        let pool = self.pools.borrow().get(code.key()).cloned();
        let pool = pool.ok_or_else(|| FnError::NotLoaded(code.key().to_string()))?;
        self.run(&pool, call, None).await
    }

    /// A CloudFront function's compute utilization for one call (0–100 of its budget, as
    /// CloudFront reports it), counted; too many calls over budget in a row throttle it.
    fn compute_utilization(&self, pool: &Pool, took: Duration) {
        let budget = self.limits.cloudfront_budget.as_nanos().max(1);
        let percent = (took.as_nanos() * 100 / budget).min(100) as u64;
        pool.stats.utilization(percent);
        if percent < 100 {
            pool.over_budget.set(0);
            return;
        }
        let n = pool.over_budget.get() + 1;
        pool.over_budget.set(n);
        if n >= OVER_BUDGET_IN_A_ROW {
            pool.over_budget.set(0);
            pool.throttled_until
                .set(Some(Instant::now() + THROTTLE_FOR));
            tracing::warn!(function = %pool.code.name, version = pool.code.version, calls = n, budget_us = self.limits.cloudfront_budget.as_micros() as u64, "a CloudFront function ran over its compute budget {n} times in a row: throttled for {} s", THROTTLE_FOR.as_secs());
        }
    }

    /// One call on one of `pool`'s isolates, with Lambda's START / END / REPORT lines.
    async fn run(
        &self,
        pool: &Rc<Pool>,
        call: Call<'_>,
        slice: Option<Instant>,
    ) -> Result<Returned, FnError> {
        let Call {
            stage,
            input,
            request_id,
            deadline,
            egress,
            ..
        } = call;
        let code = &pool.code;
        let start = Instant::now();
        let mut iso = match pool.acquire(deadline).await {
            Ok(iso) => iso,
            Err(FnError::Throttled) => {
                pool.stats.throttles.fetch_add(1, Ordering::Relaxed);
                pool.stats.error(crate::metrics::FnErrorKind::LimitExceeded);
                return Err(FnError::Throttled);
            }
            Err(e) => return Err(e),
        };
        if let Some(started) = call.started {
            started();
        }
        let ctx = LogContext {
            function: pool.name.clone(),
            version: code.version,
            stage: stage.as_str(),
            request_id: request_id.to_string(),
            pop: self.pop.clone(),
            // Origin stages only; a caller that gives no rules gets the defaults.
            egress: (!stage.is_viewer()).then(|| {
                egress
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Egress::default()))
            }),
            held: None,
        };
        tracing::info!(target: "edge::lambda", function = %code.name, version = code.version, stage = stage.as_str(), request_id, pop = %self.pop, "START RequestId: {request_id} Version: {}", code.version);
        let init = iso.take_init();
        let timeout_ms = self.limits.timeout(stage).as_millis() as u64;
        let outcome = iso
            .invoke(
                input,
                request_id,
                ctx,
                timeout_ms,
                deadline,
                slice,
                &self.watchdog,
            )
            .await;
        let max_memory_mb = iso.max_heap_mb();
        pool.release(iso);
        if matches!(outcome, Err(FnError::Sliced)) {
            return outcome;
        }
        let took = start.elapsed();
        pool.stats.invocations.fetch_add(1, Ordering::Relaxed);
        pool.stats.duration.observe(took);
        if code.cloudfront.is_some() {
            self.compute_utilization(pool, took);
        }
        if let Err(e) = &outcome {
            use crate::metrics::FnErrorKind as K;
            pool.stats.error(match e {
                FnError::Timeout(_) | FnError::Throttled => K::LimitExceeded,
                FnError::Unserializable(_) => K::Validation,
                _ => K::Execution,
            });
        }
        tracing::info!(target: "edge::lambda", function = %code.name, version = code.version, stage = stage.as_str(), request_id, pop = %self.pop, "END RequestId: {request_id}");
        let report = logs::Report {
            duration: took,
            memory_mb: (self.limits.heap_bytes >> 20) as u64,
            max_memory_mb,
            init,
        };
        if tracing::enabled!(target: "edge::lambda", tracing::Level::INFO) {
            let r = logs::Record {
                seq: 0,
                time_us: 0,
                function: pool.name.clone(),
                version: code.version,
                stage: stage.as_str(),
                request_id: request_id.into(),
                line: logs::Line::Report(report),
            };
            tracing::info!(
                target: "edge::lambda", function = %code.name, version = code.version, stage = stage.as_str(), request_id, pop = %self.pop,
                duration_ms = took.as_secs_f64() * 1000.0, max_memory_mb,
                "{}", r.message()
            );
        }
        let writer = logs::Writer {
            function: &pool.name,
            version: code.version,
            stage: stage.as_str(),
            request_id,
        };
        logs::logs().call(writer, report);
        outcome
    }
}

/// Keeps the engine's process-wide platform alive for the process's life. The QuickJS backend
/// (the `v8x` crate's shim of V8's API) counts references to it without atomics (`*refcount
/// += 1`, `-= 1`), and isolates made and dropped on several threads at once race that count:
/// a lost increment let a dropped isolate free the platform while others used it (SIGSEGV in
/// `drop_platform`, seen about once in 30 runs of the engine's unit tests and possible on a
/// node warming isolates on every worker). The platform is never meant to go away, so many
/// references that are never dropped keep the count far from zero whatever the races lose.
/// Called before every runtime is made.
pub fn pin_platform() {
    static PINNED: std::sync::Once = std::sync::Once::new();
    PINNED.call_once(|| {
        JsRuntime::init_platform(None);
        for _ in 0..(1 << 16) {
            std::mem::forget(deno_core::v8::V8::get_current_platform());
        }
    });
}

/// Starts making the isolates' startup snapshot on a thread of its own, so that no thread
/// serving viewers pays for it (~0.3 s) when its first function arrives after the node
/// started (a replica's first publish). An isolate wanted meanwhile waits for it.
pub fn make_startup_snapshot() {
    let spawned = std::thread::Builder::new()
        .name("edge-snapshot".into())
        .spawn(|| {
            isolate::startup_snapshot();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no thread for the isolates' startup snapshot; the first isolate makes it");
    }
}

/// For a program that makes one isolate and exits (`edge invoke`): its isolates run the
/// runtime's scripts themselves (~24 ms) rather than first making the startup snapshot
/// (~0.3 s) that only pays off from the second isolate on.
pub fn without_startup_snapshot() {
    isolate::skip_startup_snapshot();
}

/// This process's resident memory (VmRSS), in KiB; 0 where /proc cannot tell. For the
/// programs that measure what isolates cost (examples, the hooks benchmark).
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Evaluates a script in a fresh runtime and returns its result as JSON text.
pub fn eval_json(source: &'static str) -> Result<String, FnError> {
    pin_platform();
    let mut rt = JsRuntime::new(RuntimeOptions::default());
    let wrapped = format!("JSON.stringify((() => {{ return ({source}); }})())");
    let value = rt
        .execute_script("<eval>", wrapped)
        .map_err(|e| FnError::Threw(e.to_string()))?;
    deno_core::scope!(scope, rt);
    let local = deno_core::v8::Local::new(scope, value);
    Ok(local.to_rust_string_lossy(scope))
}

#[cfg(test)]
mod cloudfront_tests;
#[cfg(test)]
mod lazy_tests;
#[cfg(test)]
mod node_parity;
#[cfg(test)]
mod package_tests;
#[cfg(test)]
mod tests;
