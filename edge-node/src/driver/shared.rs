//! What every worker thread of a node shares: the configuration (swapped whole), the cache,
//! the POP's stamp, the function watchdog, the geo databases and the metrics.

use super::metrics;
use crate::cache::Cache;
use crate::config::{Distributions, NodeConfig, NodeSettings};
use crate::http::respond::PopStamp;
use crate::js::{Lane, Watchdog};
use arc_swap::ArcSwap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// State shared by every worker thread of a node.
pub struct NodeShared {
    /// Distributions, behaviors and functions: swapped whole by `server::NodeHandle::apply`.
    pub config: ArcSwap<Distributions>,
    /// This node's own settings, fixed for its life.
    pub node: NodeSettings,
    pub cache: Cache,
    pub stamp: PopStamp,
    pub watchdog: Watchdog,
    /// Function invocations in flight on the node (for throttling).
    pub inflight: Arc<AtomicUsize>,
    /// The geo databases; swapped whole when they are reloaded.
    pub geo: arc_swap::ArcSwapOption<crate::viewer::GeoDb>,
    /// Stage counts and times of every worker.
    pub metrics: metrics::Metrics,
    /// The function threads, for functions that ran past their slice (none when the slice
    /// is zero).
    pub lane: Option<Arc<Lane>>,
    /// The access log's writer, when the node writes one.
    pub access_log: Option<crate::access_log::AccessLog>,
    /// The span exporter, with `--otlp`.
    pub tracer: Option<crate::trace::Exporter>,
    /// The TLS listener's port, where `redirect-to-https` sends viewers (443 without one).
    pub https_port: Option<u16>,
}

impl NodeShared {
    pub fn new(
        config: NodeConfig,
        geo: Option<crate::viewer::GeoDb>,
        access_log: Option<crate::access_log::AccessLog>,
        tracer: Option<crate::trace::Exporter>,
    ) -> NodeShared {
        let watchdog = Watchdog::start();
        let limits = &config.node.functions.limits;
        let lane = (!limits.slice.is_zero()).then(|| {
            Lane::start(
                crate::config::defaults::FUNCTION_THREADS,
                limits,
                &watchdog,
                &config.node.pop,
            )
        });
        NodeShared {
            lane,
            access_log,
            tracer,
            https_port: None,
            geo: arc_swap::ArcSwapOption::from(geo.map(Arc::new)),
            cache: Cache::new(config.node.cache_bytes),
            stamp: PopStamp::new(&config.node.pop),
            node: config.node,
            config: ArcSwap::from_pointee(config.distributions),
            watchdog,
            inflight: Arc::new(AtomicUsize::new(0)),
            metrics: metrics::Metrics::default(),
        }
    }

    /// Drops cached objects matching `paths` (CloudFront's invalidation rules) in the
    /// distribution with Id `distribution`, or in all; `None` when no distribution has that Id.
    pub fn invalidate(&self, distribution: Option<&str>, paths: &[String]) -> Option<usize> {
        let config = self.config.load();
        let mut matched = false;
        let mut dropped = 0;
        for d in config
            .iter()
            .filter(|d| distribution.is_none_or(|id| id == d.id))
        {
            matched = true;
            dropped += self.cache.invalidate(d.index, paths);
        }
        matched.then_some(dropped)
    }
}
