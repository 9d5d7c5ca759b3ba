//! The node's metrics (docs/metrics.md): every worker records, per stage, a duration histogram
//! (the same durations Server-Timing reports, recorded whether or not a request asked for
//! them) and counts its answers by `X-Cache` result and status class. Each worker writes only
//! its own counters, so recording is a few uncontended atomic adds; `GET /__edge/metrics` sums
//! the workers and the function pools (crate::metrics) and writes them with prometheus-client.

use crate::metrics::{Histogram, HistogramSum};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::borrow::Cow;
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

/// `X-Cache` results the request counter tells apart (its first word), and the rest.
pub const RESULTS: [&str; 13] = [
    "Hit",
    "RefreshHit",
    "Miss",
    "LambdaGeneratedResponse",
    "Error",
    "LambdaValidationError",
    "LambdaExecutionError",
    "LambdaLimitExceeded",
    "FunctionGeneratedResponse",
    "FunctionValidationError",
    "FunctionExecutionError",
    "FunctionThrottledError",
    "other",
];

/// Status classes: 1xx to 5xx.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One worker's counters: a duration histogram per phase, and answers by `X-Cache` result and
/// status class.
#[derive(Default)]
pub struct StageCounters {
    phases: [Histogram; PHASES],
    answers: [[AtomicU64; 5]; RESULTS.len()],
}

impl StageCounters {
    pub fn record(&self, phase: Phase, d: Duration) {
        self.phases[phase as usize].observe(d);
    }

    /// Counts one answer by its `X-Cache` value and status.
    pub fn answered(&self, x_cache: Option<&[u8]>, status: u16) {
        let word = x_cache
            .and_then(|v| v.split(|&b| b == b' ').next())
            .unwrap_or_default();
        let r = RESULTS
            .iter()
            .position(|r| r.as_bytes() == word)
            .unwrap_or(RESULTS.len() - 1);
        let class = ((status / 100).clamp(1, 5) - 1) as usize;
        self.answers[r][class].fetch_add(1, Ordering::Relaxed);
    }
}

/// Every worker's counters.
#[derive(Default)]
pub struct Metrics {
    workers: Mutex<Vec<Arc<StageCounters>>>,
}

/// What a scrape reports besides the workers' counters: the cache's gauges and counters.
#[derive(Debug, Clone, Copy)]
pub struct CacheFigures {
    pub objects: u64,
    pub bytes: u64,
    pub capacity: u64,
    pub insertions: u64,
    pub evictions: u64,
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

    /// Per phase, every worker's histogram summed.
    pub fn phases(&self) -> Vec<HistogramSum> {
        let mut out = vec![HistogramSum::default(); PHASES];
        for w in self
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            for (o, h) in out.iter_mut().zip(&w.phases) {
                o.add(h);
            }
        }
        out
    }

    /// Answers per (result, class), summed over the workers.
    pub fn answers(&self) -> [[u64; 5]; RESULTS.len()] {
        let mut out = [[0; 5]; RESULTS.len()];
        for w in self
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            for (o, a) in out.iter_mut().zip(&w.answers) {
                for (o, a) in o.iter_mut().zip(a) {
                    *o += a.load(Ordering::Relaxed);
                }
            }
        }
        out
    }

    /// The Prometheus text exposition (docs/metrics.md), written by prometheus-client.
    pub fn prometheus(&self, pop: &str, cache: &CacheFigures) -> String {
        let mut registry = Registry::with_labels(
            [(Cow::Borrowed("pop"), Cow::Owned(pop.to_string()))].into_iter(),
        );
        registry.register_collector(Box::new(Scrape {
            phases: self.phases(),
            answers: self.answers(),
            functions: crate::metrics::function_totals(),
            cache: *cache,
        }));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

/// One scrape's figures, encoded by prometheus-client.
#[derive(Debug)]
struct Scrape {
    phases: Vec<HistogramSum>,
    answers: [[u64; 5]; RESULTS.len()],
    functions: Vec<crate::metrics::FnTotals>,
    cache: CacheFigures,
}

impl std::fmt::Debug for HistogramSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HistogramSum({})", self.count())
    }
}

impl std::fmt::Debug for crate::metrics::FnTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FnTotals({}:{})", self.function, self.version)
    }
}

type Labels<'a> = [(&'static str, Cow<'a, str>)];
/// One series: its labels and its value.
type Series<'a, V> = (Vec<(&'static str, Cow<'a, str>)>, V);

fn histogram(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[Series<'_, &HistogramSum>],
) -> std::fmt::Result {
    let mut m = e.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?;
    for (labels, h) in series {
        let labels: &Labels = labels;
        let mut m = m.encode_family(&labels)?;
        m.encode_histogram::<NoLabelSet>(h.sum_seconds(), h.count(), &h.buckets(), None)?;
    }
    Ok(())
}

fn counter(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[Series<'_, u64>],
) -> std::fmt::Result {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in series {
        let labels: &Labels = labels;
        ConstCounter::new(*v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

fn gauge(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    v: u64,
) -> std::fmt::Result {
    let m = e.encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
    ConstGauge::new(v as i64).encode(m)
}

fn gauge_labelled(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[Series<'_, u64>],
) -> std::fmt::Result {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in series {
        let labels: &Labels = labels;
        ConstGauge::new(*v as i64).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Scrape {
    fn encode(&self, mut e: DescriptorEncoder<'_>) -> std::fmt::Result {
        let stage = |p: &Phase| vec![("stage", Cow::Borrowed(p.as_str()))];
        let phases: Vec<_> = Phase::ALL
            .iter()
            .map(stage)
            .zip(self.phases.iter())
            .collect();
        histogram(
            &mut e,
            "edge_stage_duration",
            "Time spent in each request stage (request: the whole request to its answer's headers).",
            &phases,
        )?;
        let mut answers = vec![];
        for (r, row) in RESULTS.iter().zip(&self.answers) {
            for (c, v) in CLASSES.iter().zip(row) {
                if *v > 0 {
                    answers.push((
                        vec![
                            ("x_cache", Cow::Borrowed(*r)),
                            ("status_class", Cow::Borrowed(*c)),
                        ],
                        *v,
                    ));
                }
            }
        }
        counter(
            &mut e,
            "edge_requests",
            "Viewer requests answered, by X-Cache result and status class (CloudWatch: Requests, 4xxErrorRate, 5xxErrorRate; hit ratio = Hit+RefreshHit over all).",
            &answers,
        )?;
        let f = |t: &crate::metrics::FnTotals| {
            vec![
                ("function", Cow::Owned(t.function.to_string())),
                ("version", Cow::Owned(t.version.to_string())),
            ]
        };
        let invocations: Vec<_> = self
            .functions
            .iter()
            .map(|t| (f(t), t.invocations))
            .collect();
        counter(
            &mut e,
            "edge_function_invocations",
            "Function calls (Lambda: Invocations).",
            &invocations,
        )?;
        let mut errors = vec![];
        for t in &self.functions {
            for (k, v) in crate::metrics::FnErrorKind::ALL.iter().zip(t.errors) {
                let mut l = f(t);
                let kind = if t.cloudfront {
                    k.as_function_str()
                } else {
                    k.as_str()
                };
                l.push(("kind", Cow::Borrowed(kind)));
                errors.push((l, v));
            }
        }
        counter(&mut e, "edge_function_errors", "Function calls that failed, by kind (CloudFront: LambdaExecutionError, LambdaValidationError, LambdaLimitExceeded, and for CloudFront Functions FunctionExecutionError, FunctionValidationError, FunctionThrottledError; Lambda: Errors).", &errors)?;
        let throttles: Vec<_> = self.functions.iter().map(|t| (f(t), t.throttles)).collect();
        counter(&mut e, "edge_function_throttles", "Function calls refused because every isolate was busy or the node's concurrency limit was reached (Lambda: Throttles).", &throttles)?;
        let last: Vec<_> = self
            .functions
            .iter()
            .filter_map(|t| t.utilization.map(|(l, _)| (f(t), l)))
            .collect();
        gauge_labelled(&mut e, "edge_function_compute_utilization", "A CloudFront function's compute utilization of its last call, 0-100 of its budget (node.cloudfront_function_budget_us; CloudFront: FunctionComputeUtilization).", &last)?;
        let sum: Vec<_> = self
            .functions
            .iter()
            .filter_map(|t| t.utilization.map(|(_, s)| (f(t), s)))
            .collect();
        counter(&mut e, "edge_function_compute_utilization_sum", "A CloudFront function's compute utilization summed over its calls (divided by edge_function_invocations: the mean).", &sum)?;
        let durations: Vec<_> = self.functions.iter().map(|t| (f(t), &t.duration)).collect();
        histogram(&mut e, "edge_function_duration", "Function call durations, from taking an isolate to its result (Lambda: Duration; _sum is the compute time).", &durations)?;
        let c = &self.cache;
        gauge(
            &mut e,
            "edge_cache_objects",
            "Objects in the cache.",
            None,
            c.objects,
        )?;
        gauge(
            &mut e,
            "edge_cache_size",
            "Bytes the cache holds (weighted size).",
            Some(Unit::Bytes),
            c.bytes,
        )?;
        gauge(
            &mut e,
            "edge_cache_capacity",
            "The cache's size limit.",
            Some(Unit::Bytes),
            c.capacity,
        )?;
        let m = e.encode_descriptor(
            "edge_cache_insertions",
            "Objects stored.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(c.insertions).encode(m)?;
        let m = e.encode_descriptor(
            "edge_cache_evictions",
            "Objects evicted to make room.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(c.evictions).encode(m)?;
        let info = Info::new(vec![
            ("version", env!("CARGO_PKG_VERSION").to_string()),
            ("engine", crate::js::engine().to_string()),
        ]);
        let m = e.encode_descriptor("edge_build", "This build.", None, MetricType::Info)?;
        info.encode(m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_worker_per_phase_and_writes_prometheus_text() {
        let m = Metrics::default();
        let (a, b) = (m.worker(), m.worker());
        a.record(Phase::Cache, Duration::from_micros(3));
        b.record(Phase::Cache, Duration::from_micros(5));
        b.record(Stage::ViewerResponse.into(), Duration::from_millis(1));
        a.answered(Some(b"Hit from cloudfront"), 200);
        b.answered(Some(b"Hit from cloudfront"), 200);
        b.answered(Some(b"LambdaExecutionError from CloudFront"), 503);
        b.answered(None, 404);
        let p = m.phases();
        assert_eq!(p[Phase::Cache as usize].count(), 2);
        assert_eq!(p[Phase::ViewerResponse as usize].count(), 1);
        let cache = CacheFigures {
            objects: 3,
            bytes: 4096,
            capacity: 1 << 20,
            insertions: 5,
            evictions: 2,
        };
        let text = m.prometheus("T1", &cache);
        for line in [
            "# TYPE edge_stage_duration_seconds histogram",
            "edge_stage_duration_seconds_count{pop=\"T1\",stage=\"cache\"} 2",
            "edge_stage_duration_seconds_bucket{pop=\"T1\",le=\"0.00005\",stage=\"cache\"} 2",
            "edge_stage_duration_seconds_bucket{pop=\"T1\",le=\"+Inf\",stage=\"cache\"} 2",
            "edge_stage_duration_seconds_bucket{pop=\"T1\",le=\"0.001\",stage=\"viewer-response\"} 1",
            "edge_stage_duration_seconds_sum{pop=\"T1\",stage=\"viewer-response\"} 0.001",
            "edge_requests_total{pop=\"T1\",x_cache=\"Hit\",status_class=\"2xx\"} 2",
            "edge_requests_total{pop=\"T1\",x_cache=\"LambdaExecutionError\",status_class=\"5xx\"} 1",
            "edge_requests_total{pop=\"T1\",x_cache=\"other\",status_class=\"4xx\"} 1",
            "edge_cache_objects{pop=\"T1\"} 3",
            "edge_cache_size_bytes{pop=\"T1\"} 4096",
            "edge_cache_evictions_total{pop=\"T1\"} 2",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        assert!(text.contains("edge_build_info{"), "{text}");
    }

    #[test]
    fn phases_are_in_request_order_and_index_their_counters() {
        for (i, p) in Phase::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i, "{p:?}");
        }
    }
}
