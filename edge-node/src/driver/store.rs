//! store: what came back for a cache fill is kept when CloudFront's and RFC 9111's rules allow
//! (docs/cloudfront-behaviour.md: "TTLs"), merged into the stale object on a 304, replaced by
//! the stale object when stale-if-error allows, or streamed past the cache when too large.

use super::{Fetched, RequestCtx, Worker};
use crate::cache::{policy, Stored};
use crate::http::body::EdgeBody;
use crate::http::respond::XCache;
use crate::origin::OriginBody;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

impl Worker {
    pub(crate) fn store(
        &self,
        ctx: &RequestCtx,
        key: &str,
        stale: Option<Arc<Stored>>,
        fetched: Fetched,
    ) -> Response<EdgeBody> {
        let behavior = ctx.behavior();
        let cache = &self.shared.cache;
        let Fetched {
            status,
            mut headers,
            body,
            initial_age,
            x_cache,
        } = fetched;
        let revalidated = stale.as_ref().filter(|s| s.has_validators());
        if let (StatusCode::NOT_MODIFIED, Some(s)) = (status, revalidated) {
            let mut merged = s.refreshed(&headers, s.freshness, initial_age);
            merged.freshness = match policy::decide(
                merged.status,
                &ctx.headers,
                &merged.headers,
                &behavior.ttl,
                ctx.dist().error_ttl(merged.status),
                SystemTime::now(),
            ) {
                Ok(f) => f,
                Err(_) => policy::Freshness {
                    ttl: Duration::ZERO,
                    ..merged.freshness
                },
            };
            let stored = cache.store(key, &ctx.headers, merged);
            return self.reply_cached(ctx, &stored, XCache::RefreshHit);
        }
        if status.is_server_error() {
            if let Some(s) = stale
                .as_ref()
                .filter(|s| s.within_stale_if_error(Instant::now()))
            {
                return self.reply_cached(ctx, s, XCache::Hit);
            }
        }
        let bytes = match body {
            OriginBody::TooBig { prefix, rest } => {
                cache.remove(key);
                let body = EdgeBody::streaming(prefix, rest, behavior.origin.read_timeout);
                return self.reply(ctx.to(), status, headers, body, XCache::Miss);
            }
            OriginBody::Full(b) => b,
        };
        match policy::decide(
            status,
            &ctx.headers,
            &headers,
            &behavior.ttl,
            ctx.dist().error_ttl(status),
            SystemTime::now(),
        ) {
            Ok(freshness) => {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                let stored = cache.store(
                    key,
                    &ctx.headers,
                    Stored {
                        status,
                        headers,
                        body: bytes,
                        stored_at: Instant::now(),
                        initial_age,
                        freshness,
                    },
                );
                self.reply_cached(ctx, &stored, x_cache)
            }
            Err(reason) => {
                tracing::debug!(request_id = %ctx.request_id, reason = reason.as_str(), "not stored");
                if stale.is_some() {
                    cache.remove(key);
                }
                self.reply(ctx.to(), status, headers, EdgeBody::full(bytes), x_cache)
            }
        }
    }
}
