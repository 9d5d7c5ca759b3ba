//! viewer-response: the function sees the answer on its way to the viewer (not generated at
//! viewer-request, not an origin error) and may change its headers and body; a CloudFront
//! function may change its status too.

use super::functions::{fn_response, viewer_fn_request};
use super::{RequestCtx, Worker};
use crate::config::Association;
use crate::error::EdgeError;
use crate::http::body::EdgeBody;
use crate::lambda::Stage;
use crate::viewer::headers::Added;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::Response;

impl Worker {
    pub(crate) async fn viewer_response(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        resp: Response<EdgeBody>,
    ) -> Result<Response<EdgeBody>, EdgeError> {
        // The request as the function sees it: with the CloudFront-* headers the origin
        // request policy forwards (a CloudFront function's event shows them without the
        // request being copied with them).
        let names = &ctx.behavior().cloudfront_forward_headers;
        let cloudfront = assoc.code_for(ctx.conn.viewer).cloudfront.is_some();
        let headers = if names.is_empty() || cloudfront {
            ctx.headers.clone()
        } else {
            self.with_cloudfront_headers(ctx, &ctx.headers, names)
        };
        let shown: &[http::HeaderName] = if cloudfront { names } else { &[] };
        let values = match cloudfront {
            true => self.cloudfront_header_values(ctx, true),
            false => std::borrow::Cow::Borrowed(&[][..]),
        };
        let added = Added {
            names: shown,
            values: &values,
        };
        let req = viewer_fn_request(ctx, headers, Bytes::new());
        let (mut parts, body) = resp.into_parts();
        let input = fn_response(parts.status, std::mem::take(&mut parts.headers));
        let out = self
            .response_fn(ctx, assoc, Stage::ViewerResponse, &req, &input, added)
            .await?;
        parts.headers = out.headers;
        // A CloudFront function may change the status too (Lambda@Edge may not: its result's
        // status was checked against the input).
        if assoc.code_for(ctx.conn.viewer).cloudfront.is_some() {
            parts.status = out.status;
        }
        let body = match out.body {
            Some(b) => {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(b.len()));
                EdgeBody::full(if ctx.is_head() { Bytes::new() } else { b })
            }
            None => body,
        };
        Ok(Response::from_parts(parts, body))
    }
}
