//! lookup: the cache key, the stored object, and request collapsing. A fresh object is a hit;
//! a stale one inside stale-while-revalidate is a hit that starts one background refresh; else
//! the request goes to the origin — as the one leader for its key, or after waiting once for
//! the leader already on its way.

use super::metrics::Phase;
use super::{RequestCtx, Worker};
use crate::cache::{primary_key, FlightGuard, Join, Stored};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

pub(crate) enum Lookup {
    /// Fresh: answer it.
    Fresh(Arc<Stored>),
    /// Stale within stale-while-revalidate: answer it; `refresh` is set when this request is
    /// the one to refresh it.
    Revalidate {
        obj: Arc<Stored>,
        key: Box<str>,
        refresh: Option<FlightGuard>,
    },
    /// Go to the origin; `flight` is held while this request leads the fill for `key`.
    Miss {
        key: Box<str>,
        stale: Option<Arc<Stored>>,
        flight: Option<FlightGuard>,
    },
}

impl Worker {
    pub(crate) async fn lookup(&self, ctx: &RequestCtx) -> Lookup {
        let start = Instant::now();
        let cache = &self.shared.cache;
        let (found, key) = {
            let mut key = self.key_buf.borrow_mut();
            let behavior = ctx.behavior();
            primary_key(
                &mut key,
                ctx.dist().index,
                behavior,
                &ctx.method,
                &ctx.uri,
                &ctx.headers,
            );
            let found = cache.lookup(&key, &ctx.headers, &mut self.variant_buf.borrow_mut());
            if let Some(obj) = found.as_ref().filter(|o| o.is_fresh(Instant::now())) {
                self.observe(ctx, Phase::Cache, start.elapsed());
                return Lookup::Fresh(obj.clone());
            }
            (found, Box::<str>::from(key.as_str()))
        };
        self.observe(ctx, Phase::Cache, start.elapsed());
        if let Some(obj) = found
            .as_ref()
            .filter(|o| o.within_stale_while_revalidate(Instant::now()))
        {
            let refresh = match cache.flights.join(&key) {
                Join::Leader(guard) => Some(guard),
                Join::Follower(_) => None,
            };
            return Lookup::Revalidate {
                obj: obj.clone(),
                key,
                refresh,
            };
        }
        let mut stale = found;
        let mut waited = false;
        loop {
            match cache.flights.join(&key) {
                Join::Leader(guard) => {
                    return Lookup::Miss {
                        key,
                        stale,
                        flight: Some(guard),
                    }
                }
                Join::Follower(_) if waited => {
                    return Lookup::Miss {
                        key,
                        stale,
                        flight: None,
                    }
                }
                Join::Follower(flight) => {
                    flight.wait().await;
                    waited = true;
                    stale = cache.lookup(&key, &ctx.headers, &mut self.variant_buf.borrow_mut());
                    if let Some(obj) = stale.as_ref().filter(|o| o.is_fresh(Instant::now())) {
                        return Lookup::Fresh(obj.clone());
                    }
                }
            }
        }
    }

    /// Refreshes a stale object off the request path; `ctx` is the request's own copy.
    pub(crate) fn revalidate_in_background(
        self: &Rc<Self>,
        ctx: RequestCtx,
        key: Box<str>,
        stale: Arc<Stored>,
        flight: FlightGuard,
    ) {
        let worker = self.clone();
        tokio::task::spawn_local(async move {
            let _flight = flight;
            if let Err(e) = worker.fill(&ctx, &key, Some(stale)).await {
                tracing::warn!(request_id = %ctx.request_id, error = %e, "background revalidation failed");
            }
        });
    }
}
