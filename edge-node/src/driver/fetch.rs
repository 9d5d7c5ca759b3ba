//! fetch: the request on the wire to the origin through this worker's pooled client, read
//! back within the origin's timeouts, with the headers CloudFront does not pass on removed.

use super::metrics::Phase;
use super::{RequestCtx, Worker};
use crate::cache::policy;
use crate::error::EdgeError;
use crate::origin::{self, OriginResponse};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;
use std::time::{Duration, Instant};

impl Worker {
    /// The origin's response and the age it reported (RFC 9111 §4.2.3).
    pub(crate) async fn fetch(
        &self,
        ctx: &RequestCtx,
        req: Request<Full<Bytes>>,
    ) -> Result<(OriginResponse, Duration), EdgeError> {
        let behavior = ctx.behavior();
        let client = self.clients.get(&behavior.origin);
        let start = Instant::now();
        let head = req.method() == Method::HEAD;
        // A simulated distance to the origin: one round trip per fetch (connections are pooled).
        let rtt = self.shared.node.origin_rtt;
        if !rtt.is_zero() {
            tokio::time::sleep(rtt).await;
        }
        // An origin group a CloudFront function made: a GET, HEAD or OPTIONS that fails to
        // connect or answers one of the failover statuses goes to the second origin (as
        // CloudFront's origin failover does).
        let failover = ctx
            .origin
            .as_ref()
            .and_then(|c| c.failover.as_ref())
            .filter(|_| matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS));
        let retry = failover.map(|(to, _)| {
            let mut again = Request::new(req.body().clone());
            *again.method_mut() = req.method().clone();
            *again.uri_mut() = req.uri().clone();
            *again.headers_mut() = req.headers().clone();
            let from = ctx.origin.as_deref().map(|c| &c.primary);
            super::origin_request::redirect(again, behavior, from.unwrap_or(to), to)
        });
        let first = origin::fetch(
            &client,
            &behavior.origin,
            req,
            self.shared.node.max_object_bytes,
            head,
        )
        .await;
        let fail_over = match (&first, failover) {
            (Ok(r), Some((_, codes))) => codes.contains(&r.parts.status.as_u16()),
            (Err(_), Some(_)) => true,
            _ => false,
        };
        let mut resp = match retry {
            Some(Ok(again)) if fail_over => {
                tracing::debug!("origin group: failing over to its second origin");
                origin::fetch(
                    &client,
                    &behavior.origin,
                    again,
                    self.shared.node.max_object_bytes,
                    head,
                )
                .await?
            }
            _ => first?,
        };
        self.observe(ctx, Phase::Origin, start.elapsed());
        let initial_age = policy::initial_age(&resp.parts.headers);
        origin::clean_response_headers(&mut resp.parts.headers, behavior);
        Ok((resp, initial_age))
    }
}
