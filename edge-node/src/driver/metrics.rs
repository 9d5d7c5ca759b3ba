//! Stage timings as metrics: every worker counts, per stage, how many times it ran and how long
//! it took in total (the same durations Server-Timing reports, recorded whether or not a
//! request asked for them). Each worker writes only its own counters, so recording is two
//! uncontended atomic adds; the admin's `GET /__edge/metrics` sums the workers.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::lambda::Stage;

/// The phases of a request that are timed, in request order: the four function stages, the
/// cache lookup, the origin fetch, and the whole request. Metrics and `Server-Timing` name
/// them the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    ViewerRequest,
    Cache,
    OriginRequest,
    Origin,
    OriginResponse,
    ViewerResponse,
    Request,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::ViewerRequest,
        Phase::Cache,
        Phase::OriginRequest,
        Phase::Origin,
        Phase::OriginResponse,
        Phase::ViewerResponse,
        Phase::Request,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::ViewerRequest => "viewer-request",
            Phase::Cache => "cache",
            Phase::OriginRequest => "origin-request",
            Phase::Origin => "origin",
            Phase::OriginResponse => "origin-response",
            Phase::ViewerResponse => "viewer-response",
            Phase::Request => "request",
        }
    }
}

impl From<Stage> for Phase {
    fn from(stage: Stage) -> Phase {
        match stage {
            Stage::ViewerRequest => Phase::ViewerRequest,
            Stage::OriginRequest => Phase::OriginRequest,
            Stage::OriginResponse => Phase::OriginResponse,
            Stage::ViewerResponse => Phase::ViewerResponse,
        }
    }
}

const PHASES: usize = Phase::ALL.len();

/// One worker's counters.
#[derive(Default)]
pub struct StageCounters {
    calls: [AtomicU64; PHASES],
    nanos: [AtomicU64; PHASES],
}

impl StageCounters {
    pub fn record(&self, phase: Phase, d: Duration) {
        let i = phase as usize;
        self.calls[i].fetch_add(1, Ordering::Relaxed);
        self.nanos[i].fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
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
    pub fn totals(&self) -> [(u64, Duration); PHASES] {
        let mut out = [(0, Duration::ZERO); PHASES];
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
        for (phase, (calls, _)) in Phase::ALL.iter().zip(&totals) {
            let stage = phase.as_str();
            let _ = writeln!(
                out,
                "edge_stage_calls_total{{pop=\"{pop}\",stage=\"{stage}\"}} {calls}"
            );
        }
        out.push_str("# HELP edge_stage_seconds_total Time spent in each request stage.\n# TYPE edge_stage_seconds_total counter\n");
        for (phase, (_, time)) in Phase::ALL.iter().zip(&totals) {
            let stage = phase.as_str();
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
    fn sums_every_worker_per_phase() {
        let m = Metrics::default();
        let (a, b) = (m.worker(), m.worker());
        a.record(Phase::Cache, Duration::from_micros(3));
        b.record(Phase::Cache, Duration::from_micros(5));
        b.record(Stage::ViewerResponse.into(), Duration::from_millis(1));
        let t = m.totals();
        assert_eq!(t[Phase::Cache as usize], (2, Duration::from_micros(8)));
        assert_eq!(
            t[Phase::ViewerResponse as usize],
            (1, Duration::from_millis(1))
        );
        assert_eq!(t.iter().map(|x| x.0).sum::<u64>(), 3);
        let text = m.prometheus("T1");
        assert!(text.contains("edge_stage_calls_total{pop=\"T1\",stage=\"cache\"} 2\n"));
        assert!(text.contains(
            "edge_stage_seconds_total{pop=\"T1\",stage=\"viewer-response\"} 0.001000000\n"
        ));
    }

    #[test]
    fn phases_are_in_request_order_and_index_their_counters() {
        for (i, p) in Phase::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i, "{p:?}");
        }
    }
}
