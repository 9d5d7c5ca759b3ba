//! viewer-request: the function sees the request as the viewer sent it and either passes it
//! on (possibly rewritten, which changes the cache key) or answers itself; a generated answer
//! goes straight back to the viewer, without viewer-response (docs/cloudfront-behaviour.md:
//! "Which stages run"). A CloudFront function also sees the viewer's location headers here.

use super::functions::{invalid, viewer_fn_request};
use super::{RequestCtx, Worker};
use crate::config::Association;
use crate::error::EdgeError;
use crate::http::body::EdgeBody;
use crate::http::respond::XCache;
use crate::lambda::validate::{self, RequestOutcome};
use crate::lambda::Stage;
use crate::viewer::headers::Added;
use bytes::Bytes;
use http::{HeaderMap, Response, Uri};

pub(crate) enum ViewerRequest {
    /// Go on with this request.
    Continue {
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
        /// Where a CloudFront function's origin helpers sent the request.
        origin: Option<Box<crate::cloudfront::origin::OriginChoice>>,
    },
    /// The function's own answer, stamped.
    Respond(Response<EdgeBody>),
}

impl Worker {
    pub(crate) async fn viewer_request(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        body: Bytes,
    ) -> Result<ViewerRequest, EdgeError> {
        let req = viewer_fn_request(ctx, ctx.headers.clone(), body);
        let code = assoc.code_for(ctx.conn.viewer);
        let (outcome, origin) = if code.cloudfront.is_some() {
            // A CloudFront function sees the CloudFront-Viewer-* headers its behavior's
            // policies name, already at viewer-request (Lambda@Edge gets them from
            // origin-request on); the request goes on without them unless the function
            // returns them, and they are added after viewer-request as for any function.
            let names = &ctx.behavior().cloudfront_policy_headers;
            let values = self.cloudfront_header_values(ctx, false);
            let added = Added {
                names,
                values: &values,
            };
            self.cloudfront_request_fn(ctx, code, Stage::ViewerRequest, &req, added)
                .await?
        } else {
            (
                self.request_fn(ctx, assoc, Stage::ViewerRequest, &req)
                    .await?,
                None,
            )
        };
        match outcome {
            RequestOutcome::Continue(r) => {
                let uri = r.path_and_query().parse::<Uri>().map_err(|e| {
                    invalid(
                        assoc,
                        Stage::ViewerRequest,
                        validate::Invalid {
                            message: "The Lambda function returned an invalid URI format.".into(),
                            detail: format!("{:?}: {e}", r.path_and_query()),
                        },
                    )
                })?;
                Ok(ViewerRequest::Continue {
                    uri,
                    headers: r.headers,
                    body: r.body,
                    origin: origin.map(Box::new),
                })
            }
            RequestOutcome::Respond(g) => {
                let x_cache = if assoc.code_for(ctx.conn.viewer).cloudfront.is_some() {
                    XCache::FunctionGenerated
                } else {
                    XCache::LambdaGenerated
                };
                Ok(ViewerRequest::Respond(
                    self.reply_generated(ctx, g, x_cache),
                ))
            }
        }
    }
}
