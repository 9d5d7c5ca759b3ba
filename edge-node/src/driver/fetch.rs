//! fetch: the request on the wire to the origin through this worker's pooled client, read
//! back within the origin's timeouts, with the headers CloudFront does not pass on removed;
//! and the origin group a request fails over in (the driver's `exchange` sends it on).

use super::metrics::Phase;
use super::{RequestCtx, Worker};
use crate::cache::policy;
use crate::config::Origin;
use crate::error::EdgeError;
use crate::lambda::origin::FnOrigin;
use crate::origin::{self, OriginResponse};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;
use std::borrow::Cow;
use std::time::{Duration, Instant};

impl Worker {
    /// One request to an origin (`settings`: whose timeouts and TLS apply) and the age it
    /// reported (RFC 9111 §4.2.3).
    pub(crate) async fn fetch(
        &self,
        ctx: &RequestCtx,
        req: Request<Full<Bytes>>,
        settings: &Origin,
    ) -> Result<(OriginResponse, Duration), EdgeError> {
        let behavior = ctx.behavior();
        let client = self.clients.get(settings);
        let start = Instant::now();
        let head = req.method() == Method::HEAD;
        // A simulated distance to the origin: one round trip per fetch (connections are pooled).
        let rtt = self.shared.node.origin_rtt;
        if !rtt.is_zero() {
            tokio::time::sleep(rtt).await;
        }
        let mut resp = origin::fetch(
            &client,
            settings,
            req,
            self.shared.node.max_object_bytes,
            head,
        )
        .await?;
        self.observe(ctx, Phase::Origin, start.elapsed());
        let initial_age = policy::initial_age(&resp.parts.headers);
        origin::clean_response_headers(&mut resp.parts.headers, behavior);
        Ok((resp, initial_age))
    }
}

/// Where a request goes when its origin group's primary fails it.
pub(crate) struct Group<'a> {
    secondary: Secondary<'a>,
    pub codes: &'a [u16],
    /// Whose timeouts and TLS apply to the secondary: its own for the behavior's group; a
    /// group a function made uses the behavior's origin's.
    pub settings: &'a Origin,
}

/// A group's secondary: a CloudFront function's choice, or the behavior's configured origin
/// (made into an `FnOrigin` only when a request fails over).
enum Secondary<'a> {
    Chosen(&'a FnOrigin),
    Configured(&'a Origin),
}

impl<'a> Group<'a> {
    /// Whether the primary's outcome sends the request on to the secondary: a failover status,
    /// or no answer at all (refused, unreachable, timed out).
    pub fn fails_over<T>(&self, first: &Result<(OriginResponse, T), EdgeError>) -> bool {
        match first {
            Ok((r, _)) => self.codes.contains(&r.parts.status.as_u16()),
            Err(e) => e.is_origin_failure(),
        }
    }

    /// The secondary as the viewer's protocol reaches it.
    pub fn secondary(&self, viewer: crate::config::Protocol) -> Cow<'a, FnOrigin> {
        match self.secondary {
            Secondary::Chosen(o) => Cow::Borrowed(o),
            Secondary::Configured(o) => Cow::Owned(FnOrigin::custom(o, viewer)),
        }
    }
}

/// The origin group of this request, if it has one and its method may fail over (GET, HEAD,
/// OPTIONS: CloudFront never fails over another): a CloudFront function's, else the
/// behavior's. A function that chose a single origin takes the request out of the behavior's
/// group.
pub(crate) fn group(ctx: &RequestCtx) -> Option<Group<'_>> {
    if !matches!(ctx.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let behavior = ctx.behavior();
    if let Some(chosen) = &ctx.origin {
        let (to, codes) = chosen.failover.as_ref()?;
        return Some(Group {
            secondary: Secondary::Chosen(to),
            codes,
            settings: &behavior.origin,
        });
    }
    let f = behavior.failover.as_ref()?;
    Some(Group {
        secondary: Secondary::Configured(&f.origin),
        codes: &f.codes,
        settings: &f.origin,
    })
}
