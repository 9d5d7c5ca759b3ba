//! Calling a function from a stage: build its event from what the node holds, invoke it on
//! this thread's isolates, time it, validate its result and map every failure to CloudFront's
//! status and X-Cache. The stage modules say what goes in and what to do with what comes out.

use super::metrics::Phase;
use super::{RequestCtx, Worker};
use crate::config::Association;
use crate::error::EdgeError;
use crate::js::{FnError, FunctionCode, Outcome};
use crate::lambda::event::{self, EventConfig, FnRequest, FnResponse};
use crate::lambda::validate::{self, RequestOutcome};
use crate::lambda::Stage;
use bytes::Bytes;
use http::HeaderMap;
use std::time::Instant;

impl Worker {
    /// Invokes `assoc`'s function (its canary's for viewers in the canary slice) and times it.
    async fn call(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        stage: Stage,
        event: &Event,
    ) -> Result<Outcome, EdgeError> {
        let start = Instant::now();
        let code = assoc.code_for(ctx.conn.viewer);
        let result = self
            .runner
            .invoke(code, stage, &event.text, &event.parts, &ctx.request_id)
            .await;
        self.observe(ctx, Phase::from(stage), start.elapsed());
        result.map_err(|e| self.fn_error(e, code, stage))
    }

    /// A request-stage function (viewer-request, origin-request): event, call, validation.
    pub(crate) async fn request_fn(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        stage: Stage,
        req: &FnRequest,
    ) -> Result<RequestOutcome, EdgeError> {
        let event = event_text(ctx, stage, req, None, assoc.include_body);
        let out = self.call(ctx, assoc, stage, &event).await?;
        validate::request_result(
            stage,
            req,
            assoc.include_body,
            &out.value,
            out.untouched_headers,
        )
        .map_err(|inv| invalid(assoc, stage, inv))
    }

    /// A response-stage function (origin-response, viewer-response): event, call, validation.
    pub(crate) async fn response_fn(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        stage: Stage,
        req: &FnRequest,
        input: &FnResponse,
    ) -> Result<FnResponse, EdgeError> {
        let event = event_text(ctx, stage, req, Some(input), false);
        let out = self.call(ctx, assoc, stage, &event).await?;
        let strict = stage == Stage::ViewerResponse
            && self.shared.node.functions.strict_viewer_response_status;
        validate::response_result(stage, input, &out.value, strict, out.untouched_headers)
            .map_err(|inv| invalid(assoc, stage, inv))
    }

    fn fn_error(&self, e: FnError, code: &FunctionCode, stage: Stage) -> EdgeError {
        let function = code.name.clone();
        let detail = e.to_string();
        match e {
            FnError::Throttled | FnError::Timeout(_) => EdgeError::LambdaLimitExceeded {
                function,
                stage,
                detail,
            },
            FnError::Unserializable(_) => EdgeError::LambdaValidation {
                function,
                stage,
                message:
                    "The Lambda function returned invalid JSON: The JSON output is not parsable."
                        .into(),
                detail,
            },
            FnError::Threw(_)
            | FnError::Load { .. }
            | FnError::Sliced
            | FnError::NeverSettled
            | FnError::Memory(_)
            | FnError::NotLoaded(_) => EdgeError::LambdaExecution {
                function,
                stage,
                detail,
                status: self.shared.node.functions.execution_error_status,
            },
        }
    }
}

/// An event as the runtime gets it: its JSON with the parts a function may never read
/// kept aside in `parts` (lambda::event::write_lazy).
struct Event {
    text: String,
    parts: String,
}

/// The event for `stage`.
fn event_text(
    ctx: &RequestCtx,
    stage: Stage,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) -> Event {
    let config = EventConfig {
        distribution_domain: &ctx.dist().domain_name,
        distribution_id: &ctx.dist().id,
        request_id: &ctx.request_id,
    };
    let mut event = Event {
        text: String::with_capacity(512),
        parts: String::with_capacity(1536),
    };
    event::write_lazy(
        &mut event.text,
        &mut event.parts,
        stage,
        config,
        req,
        resp,
        include_body,
    );
    event
}

/// A result that failed CloudFront's validation, as the viewer's 502.
pub(crate) fn invalid(assoc: &Association, stage: Stage, inv: validate::Invalid) -> EdgeError {
    crate::metrics::validation_error(&assoc.code.name, assoc.code.version);
    EdgeError::LambdaValidation {
        function: assoc.code.name.clone(),
        stage,
        message: inv.message,
        detail: inv.detail,
    }
}

/// The viewer's request (after any viewer-request function) as functions see it.
pub(crate) fn viewer_fn_request(ctx: &RequestCtx, headers: HeaderMap, body: Bytes) -> FnRequest {
    FnRequest {
        client_ip: ctx.conn.viewer.to_string(),
        method: ctx.method.clone(),
        uri: ctx.uri.path().to_string(),
        querystring: ctx.uri.query().unwrap_or("").to_string(),
        headers,
        body,
        origin: None,
    }
}

/// A response as a response-stage function sees it.
pub(crate) fn fn_response(status: http::StatusCode, headers: HeaderMap) -> FnResponse {
    FnResponse {
        status,
        status_description: status.canonical_reason().unwrap_or("").to_string(),
        headers,
        body: None,
    }
}
