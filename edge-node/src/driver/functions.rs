//! Calling a function from a stage: build its event from what the node holds, invoke it on
//! this thread's isolates, time it, validate its result and map every failure to CloudFront's
//! status and X-Cache. The stage modules say what goes in and what to do with what comes out.

use super::metrics::Phase;
use super::{RequestCtx, Worker};
use crate::cloudfront;
use crate::config::Association;
use crate::error::EdgeError;
use crate::js::{qjs, FnError, FunctionCode, Input, Outcome};
use crate::lambda::event::{self, EventConfig, FnRequest, FnResponse};
use crate::lambda::validate::{self, RequestOutcome};
use crate::lambda::Stage;
use crate::viewer::headers::Added;
use bytes::Bytes;
use http::HeaderMap;
use std::sync::Arc;
use std::time::Instant;

impl Worker {
    /// Invokes `assoc`'s function (its canary's for viewers in the canary slice) and times it.
    async fn call(
        &self,
        ctx: &RequestCtx,
        code: &Arc<FunctionCode>,
        stage: Stage,
        input: Input<'_>,
    ) -> Result<Outcome, EdgeError> {
        let start = Instant::now();
        let result = self
            .runner
            .invoke_input(
                code,
                stage,
                input,
                &ctx.request_id,
                Some(&ctx.dist().egress),
            )
            .await;
        self.observe(ctx, Phase::from(stage), start.elapsed());
        result.map_err(|e| self.fn_error(e, code, stage))
    }

    /// A CloudFront function's call: its event built as engine objects where the engine
    /// allows (js/qjs.rs), as JSON text elsewhere (cloudfront::event).
    async fn cloudfront_call(
        &self,
        ctx: &RequestCtx,
        code: &Arc<FunctionCode>,
        stage: Stage,
        req: &FnRequest,
        resp: Option<&FnResponse>,
        added: Added<'_>,
    ) -> Result<Outcome, EdgeError> {
        let config = EventConfig {
            viewer_headers: added,
            ..event_config(ctx)
        };
        let build = |b: &mut qjs::Builder, parts: &mut String| {
            cloudfront::event::build(b, parts, stage, config, req, resp)
        };
        let json = || {
            let mut text = String::with_capacity(1024);
            cloudfront::event::write(&mut text, stage, config, req, resp);
            text
        };
        let input = Input::Built {
            build: &build,
            json: &json,
        };
        self.call(ctx, code, stage, input).await
    }

    /// A request-stage function (viewer-request, origin-request): event, call, validation.
    pub(crate) async fn request_fn(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        stage: Stage,
        req: &FnRequest,
    ) -> Result<RequestOutcome, EdgeError> {
        let code = assoc.code_for(ctx.conn.viewer);
        if code.cloudfront.is_some() {
            return Ok(self
                .cloudfront_request_fn(ctx, code, stage, req, Added::NONE)
                .await?
                .0);
        }
        let event = event_text(ctx, stage, req, None, assoc.include_body);
        let out = self.call(ctx, code, stage, event.input()).await?;
        validate::request_result(
            stage,
            req,
            assoc.include_body,
            &out.value,
            out.untouched_headers,
        )
        .map_err(|inv| invalid(assoc, stage, inv))
    }

    /// A CloudFront function at viewer-request: its outcome, and the origin it chose with the
    /// origin helpers, if it did. Its event shows `added` on top of the request's headers.
    pub(crate) async fn cloudfront_request_fn(
        &self,
        ctx: &RequestCtx,
        code: &Arc<FunctionCode>,
        stage: Stage,
        req: &FnRequest,
        added: Added<'_>,
    ) -> Result<(RequestOutcome, Option<cloudfront::origin::OriginChoice>), EdgeError> {
        let out = self
            .cloudfront_call(ctx, code, stage, req, None, added)
            .await?;
        // Headers it returned are checked against those it was shown.
        let shown;
        let given = if out.value.get("headers").is_some() && !added.names.is_empty() {
            shown = FnRequest {
                headers: added.applied_to(&req.headers),
                ..req.clone()
            };
            &shown
        } else {
            req
        };
        let outcome = cloudfront::validate::request_result(given, &out.value)
            .map_err(|inv| invalid_cloudfront(code, stage, inv))?;
        let choice = match &out.origin {
            Some(change) if matches!(outcome, RequestOutcome::Continue(_)) => Some(
                cloudfront::origin::choice(
                    change,
                    ctx.dist(),
                    &ctx.behavior().origin,
                    ctx.conn.protocol,
                )
                .map_err(|inv| invalid_cloudfront(code, stage, inv))?,
            ),
            _ => None,
        };
        Ok((outcome, choice))
    }

    /// A response-stage function (origin-response, viewer-response): event, call, validation
    /// (a CloudFront function's event shows `added` on top of the request's headers).
    pub(crate) async fn response_fn(
        &self,
        ctx: &RequestCtx,
        assoc: &Association,
        stage: Stage,
        req: &FnRequest,
        input: &FnResponse,
        added: Added<'_>,
    ) -> Result<FnResponse, EdgeError> {
        let code = assoc.code_for(ctx.conn.viewer);
        if code.cloudfront.is_some() {
            let out = self
                .cloudfront_call(ctx, code, stage, req, Some(input), added)
                .await?;
            return cloudfront::validate::response_result(input, &out.value)
                .map_err(|inv| invalid_cloudfront(code, stage, inv));
        }
        let event = event_text(ctx, stage, req, Some(input), false);
        let out = self.call(ctx, code, stage, event.input()).await?;
        let strict = stage == Stage::ViewerResponse
            && self.shared.node.functions.strict_viewer_response_status;
        validate::response_result(stage, input, &out.value, strict, out.untouched_headers)
            .map_err(|inv| invalid(assoc, stage, inv))
    }

    fn fn_error(&self, e: FnError, code: &FunctionCode, stage: Stage) -> EdgeError {
        let function = code.name.clone();
        let detail = e.to_string();
        if code.cloudfront.is_some() {
            return match e {
                FnError::Throttled | FnError::Timeout(_) => EdgeError::FunctionThrottled {
                    function,
                    stage,
                    detail,
                },
                FnError::Unserializable(_) => EdgeError::FunctionValidation {
                    function,
                    stage,
                    message: "The CloudFront function returned an invalid value.".into(),
                    detail,
                },
                _ => EdgeError::FunctionExecution {
                    function,
                    stage,
                    detail,
                },
            };
        }
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

impl Event {
    fn input(&self) -> Input<'_> {
        Input::Json {
            event: &self.text,
            parts: &self.parts,
        }
    }
}

/// The event for `stage`.
fn event_text(
    ctx: &RequestCtx,
    stage: Stage,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) -> Event {
    let config = event_config(ctx);
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

/// The distribution and request ids every event names.
fn event_config(ctx: &RequestCtx) -> EventConfig<'_> {
    EventConfig {
        distribution_domain: &ctx.dist().domain_name,
        distribution_id: &ctx.dist().id,
        request_id: &ctx.request_id,
        viewer_headers: Added::NONE,
    }
}

/// A CloudFront function's result that failed validation: `FunctionValidationError`, 502.
fn invalid_cloudfront(code: &FunctionCode, stage: Stage, inv: validate::Invalid) -> EdgeError {
    crate::metrics::validation_error(&code.name, code.version);
    EdgeError::FunctionValidation {
        function: code.name.clone(),
        stage,
        message: inv.message,
        detail: inv.detail,
    }
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
