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
        let mut resp = origin::fetch(
            &client,
            &behavior.origin,
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
