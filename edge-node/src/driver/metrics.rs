//! Stage timings as metrics: every worker counts, per stage, how many times it ran and how long
//! it took in total (the same durations Server-Timing reports, recorded whether or not a
//! request asked for them). Each worker writes only its own counters, so recording is two
//! uncontended atomic adds; the admin's `GET /__edge/metrics` sums the workers.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The stages, in request order; `request` is the whole request.
pub const STAGES: [&str; 7] = [
    "viewer-request",
    "cache",
    "origin-request",
    "origin",
    "origin-response",
    "viewer-response",
    "request",
];

fn index(stage: &str) -> Option<usize> {
    STAGES.iter().position(|s| *s == stage)
}

/// One worker's counters.
#[derive(Default)]
pub struct StageCounters {
    calls: [AtomicU64; STAGES.len()],
    nanos: [AtomicU64; STAGES.len()],
}

impl StageCounters {
    pub fn record(&self, stage: &str, d: Duration) {
        if let Some(i) = index(stage) {
            self.calls[i].fetch_add(1, Ordering::Relaxed);
            self.nanos[i].fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        }
    }
}

/// Every worker's counters.
#[derive(Default)]
pub struct Metrics {
    workers: Mutex<Vec<Arc<StageCounters>>>,
}

impl Metrics {
    /// Counters for a new worker.
    pub fn worker(&self) -> Arc<StageCounters> {
        let c = Arc::new(StageCounters::default());
        self.workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(c.clone());
        c
    }

    /// Per stage: (calls, total time), summed over the workers.
    pub fn totals(&self) -> [(u64, Duration); STAGES.len()] {
        let mut out = [(0, Duration::ZERO); STAGES.len()];
        for w in self
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            for (i, o) in out.iter_mut().enumerate() {
                o.0 += w.calls[i].load(Ordering::Relaxed);
                o.1 += Duration::from_nanos(w.nanos[i].load(Ordering::Relaxed));
            }
        }
        out
    }

    /// The Prometheus text exposition of the totals.
    pub fn prometheus(&self, pop: &str) -> String {
        let totals = self.totals();
        let mut out = String::from("# HELP edge_stage_calls_total Times each request stage ran.\n# TYPE edge_stage_calls_total counter\n");
        for (stage, (calls, _)) in STAGES.iter().zip(&totals) {
            let _ = writeln!(
                out,
                "edge_stage_calls_total{{pop=\"{pop}\",stage=\"{stage}\"}} {calls}"
            );
        }
        out.push_str("# HELP edge_stage_seconds_total Time spent in each request stage.\n# TYPE edge_stage_seconds_total counter\n");
        for (stage, (_, time)) in STAGES.iter().zip(&totals) {
            let _ = writeln!(
                out,
                "edge_stage_seconds_total{{pop=\"{pop}\",stage=\"{stage}\"}} {:.9}",
                time.as_secs_f64()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_worker_and_ignores_unknown_stages() {
        let m = Metrics::default();
        let (a, b) = (m.worker(), m.worker());
        a.record("cache", Duration::from_micros(3));
        b.record("cache", Duration::from_micros(5));
        b.record("viewer-response", Duration::from_millis(1));
        a.record("nonsense", Duration::from_secs(1));
        let t = m.totals();
        assert_eq!(t[1], (2, Duration::from_micros(8)));
        assert_eq!(t[5], (1, Duration::from_millis(1)));
        assert_eq!(t.iter().map(|x| x.0).sum::<u64>(), 3);
        let text = m.prometheus("T1");
        assert!(text.contains("edge_stage_calls_total{pop=\"T1\",stage=\"cache\"} 2\n"));
        assert!(text.contains(
            "edge_stage_seconds_total{pop=\"T1\",stage=\"viewer-response\"} 0.001000000\n"
        ));
    }
}
