//! origin-response: the function sees the origin's answer (not a 304 to a revalidation) with
//! the request as origin-request left it, and may replace its status, headers and body before
//! the cache stores it.

use super::functions::fn_response;
use super::{RequestCtx, Worker};
use crate::config::Association;
use crate::error::EdgeError;
use crate::lambda::event::FnRequest;
use crate::lambda::Stage;
use crate::origin::{OriginBody, OriginResponse};
use http::{header, StatusCode};

impl Worker {
    pub(crate) async fn origin_response(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        sent: &FnRequest,
        resp: &mut OriginResponse,
    ) -> Result<(), EdgeError> {
        if resp.parts.status == StatusCode::NOT_MODIFIED {
            return Ok(());
        }
        let input = fn_response(resp.parts.status, resp.parts.headers.clone());
        let out = self
            .response_fn(
                ctx,
                assoc,
                Stage::OriginResponse,
                sent,
                &input,
                crate::viewer::headers::Added::NONE,
            )
            .await?;
        resp.parts.status = out.status;
        resp.parts.headers = out.headers;
        if let Some(b) = out.body {
            resp.parts.headers.remove(header::CONTENT_LENGTH);
            resp.body = OriginBody::Full(b);
        }
        Ok(())
    }
}
