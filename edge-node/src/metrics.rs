//! Function metrics, recorded where calls run (a worker's or a function thread's pool) and
//! read when `/__edge/metrics` is scraped (docs/metrics.md). Each pool records into its own
//! counters (no lock, no shared cache line between threads); pools register their counters
//! once, and a scrape sums them per function version, so counts only grow, across recycles
//! and a version's retirement alike.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds (seconds) of the duration histograms: 50 µs to 30 s, the range between a
/// cache hit and Lambda@Edge's longest origin-side function.
pub const BUCKETS: [f64; 18] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0, 30.0,
];
const BUCKET_NANOS: [u64; 18] = {
    let mut out = [0u64; 18];
    let mut i = 0;
    while i < 18 {
        out[i] = (BUCKETS[i] * 1e9) as u64;
        i += 1;
    }
    out
};

/// A duration histogram one thread writes: a count per bucket (the last for +Inf) and the sum.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; 19],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let n = d.as_nanos() as u64;
        let i = BUCKET_NANOS.partition_point(|&b| b < n);
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(n, Relaxed);
    }
}

/// Several threads' histograms summed: what a scrape encodes.
#[derive(Default, Clone)]
pub struct HistogramSum {
    counts: [u64; 19],
    sum_nanos: u64,
}

impl HistogramSum {
    pub fn add(&mut self, h: &Histogram) {
        for (c, h) in self.counts.iter_mut().zip(&h.counts) {
            *c += h.load(Relaxed);
        }
        self.sum_nanos += h.sum_nanos.load(Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos as f64 / 1e9
    }

    /// The count in each bucket by its upper bound, +Inf (f64::MAX, as prometheus-client writes it) last (it adds them up
    /// into Prometheus's cumulative buckets).
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, c)| (BUCKETS.get(i).copied().unwrap_or(f64::MAX), *c))
            .collect()
    }
}

/// How a call failed, in CloudFront's words (the `X-Cache` of the error answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnErrorKind {
    /// It threw, rejected, never settled, ran out of memory or returned what is not JSON.
    Execution,
    /// Its result failed CloudFront's validation.
    Validation,
    /// It timed out.
    LimitExceeded,
}

impl FnErrorKind {
    pub const ALL: [FnErrorKind; 3] = [
        FnErrorKind::Execution,
        FnErrorKind::Validation,
        FnErrorKind::LimitExceeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FnErrorKind::Execution => "LambdaExecutionError",
            FnErrorKind::Validation => "LambdaValidationError",
            FnErrorKind::LimitExceeded => "LambdaLimitExceeded",
        }
    }

    /// The kind as CloudFront names it for a CloudFront function.
    pub fn as_function_str(self) -> &'static str {
        match self {
            FnErrorKind::Execution => "FunctionExecutionError",
            FnErrorKind::Validation => "FunctionValidationError",
            FnErrorKind::LimitExceeded => "FunctionThrottledError",
        }
    }
}

/// One pool's counters for one function version.
#[derive(Default)]
pub struct FnStats {
    pub invocations: AtomicU64,
    errors: [AtomicU64; 3],
    pub throttles: AtomicU64,
    pub duration: Histogram,
    /// A CloudFront function's compute utilization: of its last call, and summed over calls.
    utilization_last: AtomicU64,
    utilization_sum: AtomicU64,
    utilization_calls: AtomicU64,
}

impl FnStats {
    pub fn utilization(&self, percent: u64) {
        self.utilization_last.store(percent, Relaxed);
        self.utilization_sum.fetch_add(percent, Relaxed);
        self.utilization_calls.fetch_add(1, Relaxed);
    }

    pub fn error(&self, kind: FnErrorKind) {
        self.errors[kind as usize].fetch_add(1, Relaxed);
    }
}

/// Every pool's counters ever registered, with the function version they count.
struct Registered {
    function: Arc<str>,
    version: u64,
    cloudfront: bool,
    stats: Arc<FnStats>,
}

fn registry() -> &'static Mutex<Vec<Registered>> {
    static R: OnceLock<Mutex<Vec<Registered>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Vec::new()))
}

/// Counters for a new pool of `function` version `version`.
pub fn register(function: &Arc<str>, version: u64, cloudfront: bool) -> Arc<FnStats> {
    let stats = Arc::new(FnStats::default());
    let mut r = registry().lock().unwrap_or_else(|p| p.into_inner());
    r.push(Registered {
        function: function.clone(),
        version,
        cloudfront,
        stats: stats.clone(),
    });
    stats
}

/// A validation error, counted where the driver finds it (off the pool that ran the call):
/// on the first registered counters of that version.
pub fn validation_error(function: &str, version: u64) {
    let r = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = r
        .iter()
        .find(|e| &*e.function == function && e.version == version)
    {
        e.stats.error(FnErrorKind::Validation);
    }
}

/// One function version's counters summed over its pools.
pub struct FnTotals {
    pub function: Arc<str>,
    pub version: u64,
    /// A CloudFront function (its errors are named as CloudFront names them).
    pub cloudfront: bool,
    pub invocations: u64,
    pub errors: [u64; 3],
    pub throttles: u64,
    pub duration: HistogramSum,
    /// CloudFront functions only: the last call's compute utilization (the highest of the
    /// pools) and the sum over calls.
    pub utilization: Option<(u64, u64)>,
}

/// Every function version's totals, by name and version.
pub fn function_totals() -> Vec<FnTotals> {
    let r = registry().lock().unwrap_or_else(|p| p.into_inner());
    let mut out: Vec<FnTotals> = Vec::new();
    for e in r.iter() {
        let i = match out
            .iter()
            .position(|t| t.function == e.function && t.version == e.version)
        {
            Some(i) => i,
            None => {
                out.push(FnTotals {
                    function: e.function.clone(),
                    version: e.version,
                    cloudfront: e.cloudfront,
                    invocations: 0,
                    errors: [0; 3],
                    throttles: 0,
                    duration: HistogramSum::default(),
                    utilization: None,
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        t.invocations += e.stats.invocations.load(Relaxed);
        for (a, b) in t.errors.iter_mut().zip(&e.stats.errors) {
            *a += b.load(Relaxed);
        }
        t.throttles += e.stats.throttles.load(Relaxed);
        t.duration.add(&e.stats.duration);
        let (last, sum) = (
            e.stats.utilization_last.load(Relaxed),
            e.stats.utilization_sum.load(Relaxed),
        );
        if e.stats.utilization_calls.load(Relaxed) > 0 {
            let (l, s) = t.utilization.unwrap_or((0, 0));
            t.utilization = Some((l.max(last), s + sum));
        }
    }
    out.sort_by(|a, b| (&*a.function, a.version).cmp(&(&*b.function, b.version)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_into_the_first_bucket_that_holds_it() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(30)); // ≤ 50 µs
        h.observe(Duration::from_micros(50)); // ≤ 50 µs (bounds are inclusive)
        h.observe(Duration::from_millis(3)); // ≤ 5 ms
        h.observe(Duration::from_secs(60)); // +Inf
        let mut s = HistogramSum::default();
        s.add(&h);
        let c = s.buckets();
        assert_eq!(c[0], (0.00005, 2));
        assert_eq!(c[5], (0.0025, 0));
        assert_eq!(c[6], (0.005, 1));
        assert_eq!(c[17], (30.0, 0));
        assert_eq!(c[18].1, 1);
        assert_eq!(c[18].0, f64::MAX);
        assert_eq!(s.count(), 4);
        assert!((s.sum_seconds() - 60.00308).abs() < 1e-9);
    }
}
