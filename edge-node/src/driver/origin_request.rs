//! origin-request: the request CloudFront sends to the origin (docs/cloudfront-behaviour.md:
//! "Requests to a custom origin"), then the origin-request function, which may rewrite it,
//! send it to another origin, or answer itself (an answer that is cached like the origin's).

use super::functions::invalid;
use super::{RequestCtx, Worker};
use crate::cache::Stored;
use crate::config::Behavior;
use crate::error::EdgeError;
use crate::lambda::event::{FnRequest, FnResponse};
use crate::lambda::origin::FnOrigin;
use crate::lambda::validate::{self, RequestOutcome};
use crate::lambda::Stage;
use crate::origin::{self, Forward};
use bytes::Bytes;
use http::header;
use http::{Method, Request};
use http_body_util::Full;

/// Why the request goes to the origin.
#[derive(Clone)]
pub(crate) enum ToOrigin<'a> {
    /// To fill the cache: a HEAD is fetched as a GET (so later GETs can be answered too), and
    /// the viewer's conditionals are replaced by the stale object's validators, if any.
    Fill { validators: Option<&'a Stored> },
    /// A request the behavior does not cache: forwarded with its method and body.
    Pass { body: Bytes },
}

// Made and matched once per origin request; boxing the request would cost more than its size.
#[allow(clippy::large_enum_variant)]
pub(crate) enum OriginRequest {
    /// Send `req`; `sent` is that request as functions see it, when an origin-side function
    /// needs it (origin-response gets the request as origin-request left it).
    Send {
        req: Request<Full<Bytes>>,
        sent: Option<FnRequest>,
    },
    /// The origin-request function's own answer.
    Generated(FnResponse),
}

impl Worker {
    /// The request for the behavior's origin, or for `secondary` when an origin group fails
    /// over (the origin-request function runs again for it, as on CloudFront).
    pub(crate) async fn origin_request(
        &self,
        ctx: &RequestCtx,
        to: ToOrigin<'_>,
        secondary: Option<&FnOrigin>,
    ) -> Result<OriginRequest, EdgeError> {
        let behavior = ctx.behavior();
        let (method, body, validators, strip_conditionals) = match to {
            ToOrigin::Fill { validators } if ctx.is_head() => {
                (Method::GET, Bytes::new(), validators, true)
            }
            ToOrigin::Fill { validators } => (ctx.method.clone(), Bytes::new(), validators, true),
            ToOrigin::Pass { body } => (ctx.method.clone(), body, None, false),
        };
        let forward = Forward {
            behavior,
            viewer_protocol: ctx.conn.protocol,
            viewer_ip: ctx.conn.viewer,
            request_id: &ctx.request_id,
            via: &self.shared.stamp.via_origin,
            strip_conditionals,
            traceparent: ctx.trace.as_ref().map(crate::trace::TraceIds::traceparent),
        };
        let added;
        let viewer_headers = if behavior.cloudfront_forward_headers.is_empty() {
            &ctx.headers
        } else {
            added = self.with_cloudfront_headers(
                ctx,
                &ctx.headers,
                &behavior.cloudfront_forward_headers,
            );
            &added
        };
        let mut req =
            origin::origin_request(&forward, &method, &ctx.uri, viewer_headers, body.clone())?;
        if let Some(s) = validators {
            let h = req.headers_mut();
            if let Some(etag) = s.etag() {
                h.insert(header::IF_NONE_MATCH, etag.clone());
            }
            if let Some(lm) = s.last_modified() {
                h.insert(header::IF_MODIFIED_SINCE, lm.clone());
            }
        }
        // A CloudFront function chose another origin at viewer-request, or an origin group
        // fails over: the request goes there (and an origin-request function sees that origin).
        let chosen = secondary.or(ctx.origin.as_ref().map(|c| &c.primary));
        if let Some(o) = chosen {
            let from = FnOrigin::custom(&behavior.origin, ctx.conn.protocol);
            req = redirect(req, behavior, &from, o).map_err(EdgeError::BadRequest)?;
        }
        let oreq = behavior.function(Stage::OriginRequest);
        let needs_fn_view = oreq.is_some() || behavior.function(Stage::OriginResponse).is_some();
        let sent = needs_fn_view.then(|| as_function_request(&req, behavior, ctx, body, chosen));
        let (Some(assoc), Some(fnreq)) = (oreq, sent.as_ref()) else {
            return Ok(OriginRequest::Send { req, sent });
        };
        match self
            .request_fn(ctx, assoc, Stage::OriginRequest, fnreq)
            .await?
        {
            RequestOutcome::Respond(g) => Ok(OriginRequest::Generated(g)),
            RequestOutcome::Continue(mut r) => {
                if let Some(o) = r.origin.as_mut() {
                    o.keep_endpoint_of(fnreq.origin.as_ref());
                }
                let req = rebuild(req, &r).map_err(|detail| {
                    invalid(assoc, Stage::OriginRequest, validate::Invalid {
                        message: "The Lambda function returned an invalid origin configuration: One or more HeaderName or HeaderValue values are invalid.".into(),
                        detail,
                    })
                })?;
                Ok(OriginRequest::Send { req, sent: Some(r) })
            }
        }
    }
}

/// The origin request as an origin-request function sees it: CloudFront's rewritten headers
/// (without the origin's custom headers, which live in `origin.custom.customHeaders`).
fn as_function_request(
    req: &Request<Full<Bytes>>,
    behavior: &Behavior,
    ctx: &RequestCtx,
    body: Bytes,
    chosen: Option<&FnOrigin>,
) -> FnRequest {
    let mut headers = req.headers().clone();
    for (n, _) in &behavior.origin.custom_headers {
        headers.remove(n);
    }
    for (n, _) in chosen.map(FnOrigin::custom_headers).into_iter().flatten() {
        headers.remove(n);
    }
    FnRequest {
        client_ip: ctx.conn.viewer.to_string(),
        method: req.method().clone(),
        uri: ctx.uri.path().to_string(),
        querystring: req.uri().query().unwrap_or("").to_string(),
        headers,
        body,
        origin: Some(match chosen {
            Some(o) => o.clone(),
            None => FnOrigin::custom(&behavior.origin, ctx.conn.protocol),
        }),
    }
}

/// The origin request made for `from` sent to `to` instead: the same path (without `from`'s
/// origin path) and query under `to`'s base, `Host` naming `to`, and `to`'s custom headers in
/// place of `from`'s.
pub(crate) fn redirect(
    req: Request<Full<Bytes>>,
    behavior: &Behavior,
    from: &FnOrigin,
    to: &FnOrigin,
) -> Result<Request<Full<Bytes>>, String> {
    let (mut parts, body) = req.into_parts();
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let from_path = match from {
        FnOrigin::Custom { path, .. } | FnOrigin::S3 { path, .. } => path.as_str(),
    };
    let pq = pq.strip_prefix(from_path).unwrap_or(pq);
    let target = format!("{}{pq}", to.base_url());
    parts.uri = target
        .parse()
        .map_err(|e| format!("origin URL {target:?}: {e}"))?;
    for n in from.custom_headers().keys() {
        parts.headers.remove(n);
    }
    if let Some(host) = parts.uri.authority().map(|a| a.as_str().to_string()) {
        let host = match to {
            FnOrigin::Custom { port, protocol, .. }
                if *port == crate::origin::default_port(*protocol) =>
            {
                parts.uri.host().unwrap_or(&host).to_string()
            }
            _ => host,
        };
        if !behavior.forwards_header("host") {
            if let Ok(v) = http::HeaderValue::from_str(&host) {
                parts.headers.insert(header::HOST, v);
            }
        }
    }
    for (n, v) in to.custom_headers() {
        parts.headers.insert(n.clone(), v.clone());
    }
    Ok(Request::from_parts(parts, body))
}
/// The origin request after an origin-request function: its uri, query string, headers, body
/// and (possibly different) origin.
fn rebuild(req: Request<Full<Bytes>>, r: &FnRequest) -> Result<Request<Full<Bytes>>, String> {
    let (mut parts, _) = req.into_parts();
    let origin = r
        .origin
        .as_ref()
        .ok_or("the request has no origin to send it to")?;
    let target = format!("{}{}", origin.base_url(), r.path_and_query());
    parts.uri = target
        .parse()
        .map_err(|e| format!("origin URL {target:?}: {e}"))?;
    parts.headers = r.headers.clone();
    for (n, v) in origin.custom_headers() {
        parts.headers.insert(n.clone(), v.clone());
    }
    Ok(Request::from_parts(parts, Full::new(r.body.clone())))
}
