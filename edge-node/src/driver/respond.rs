//! Every answer leaves through `Worker::reply`: one place that stamps CloudFront's headers
//! (Via, X-Cache, X-Amz-Cf-Pop, X-Amz-Cf-Id, Server) and drops the body of a HEAD answer,
//! whether the answer came from the cache, the origin, a function or an error.

use super::{RequestCtx, Worker};
use crate::cache::Stored;
use crate::error::EdgeError;
use crate::http::body::EdgeBody;
use crate::http::respond::{error_page, XCache};
use crate::lambda::event::FnResponse;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Response, StatusCode, Version};
use std::time::Instant;

/// Who an answer goes to: what the stamp and HEAD handling need (known before the request is
/// routed, so an error can be answered before there is a `RequestCtx`).
#[derive(Clone, Copy)]
pub(crate) struct To<'a> {
    pub request_id: &'a str,
    pub version: Version,
    pub head: bool,
}

impl RequestCtx {
    pub fn to(&self) -> To<'_> {
        To {
            request_id: &self.request_id,
            version: self.version,
            head: self.is_head(),
        }
    }
}

impl Worker {
    /// The one response builder. `x_cache` is what the answer is (a 4xx/5xx from the origin or
    /// the cache is reported as `Error`, as CloudFront does).
    pub(crate) fn reply(
        &self,
        to: To<'_>,
        status: StatusCode,
        mut headers: HeaderMap,
        body: EdgeBody,
        x_cache: XCache,
    ) -> Response<EdgeBody> {
        self.shared.stamp.stamp(
            &mut headers,
            x_cache.for_status(status),
            to.request_id,
            to.version,
        );
        let mut resp = Response::new(if to.head { EdgeBody::empty() } else { body });
        *resp.status_mut() = status;
        *resp.headers_mut() = headers;
        resp
    }

    /// Answers from a stored object, honouring the viewer's conditional headers.
    pub(crate) fn reply_cached(
        &self,
        ctx: &RequestCtx,
        obj: &Stored,
        x_cache: XCache,
    ) -> Response<EdgeBody> {
        let mut headers = obj.headers.clone();
        if !matches!(
            x_cache,
            XCache::Miss | XCache::LambdaGenerated | XCache::FunctionGenerated
        ) {
            headers.insert(
                header::AGE,
                HeaderValue::from(obj.age(Instant::now()).as_secs()),
            );
        }
        if obj.status == StatusCode::OK && not_modified(&ctx.headers, obj) {
            headers.remove(header::CONTENT_LENGTH);
            return self.reply(
                ctx.to(),
                StatusCode::NOT_MODIFIED,
                headers,
                EdgeBody::empty(),
                x_cache,
            );
        }
        if obj.status == StatusCode::OK && ctx.method == http::Method::GET {
            if let Some(r) = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
                if let Some(resp) = self.reply_range(ctx, obj, &mut headers, r, x_cache) {
                    return resp;
                }
            }
        }
        self.reply(
            ctx.to(),
            obj.status,
            headers,
            EdgeBody::full(obj.body.clone()),
            x_cache,
        )
    }

    /// A range of a stored 200 (docs/cloudfront-behaviour.md: "Range requests"): 206 with one
    /// part or `multipart/byteranges`, 416 when nothing asked is there, or None to answer with
    /// the whole object.
    fn reply_range(
        &self,
        ctx: &RequestCtx,
        obj: &Stored,
        headers: &mut HeaderMap,
        range: &str,
        x_cache: XCache,
    ) -> Option<Response<EdgeBody>> {
        use crate::http::range::{asked, if_range_holds, Asked};
        if let Some(v) = ctx.headers.get(header::IF_RANGE) {
            let etag = obj.etag().and_then(|e| e.to_str().ok());
            let last_modified = obj.last_modified().and_then(|l| l.to_str().ok());
            let holds = v
                .to_str()
                .is_ok_and(|v| if_range_holds(v, etag, last_modified));
            if !holds {
                return None;
            }
        }
        let size = obj.body.len() as u64;
        let (status, body) = match asked(range, size) {
            Asked::Whole => return None,
            Asked::Part(r) => {
                let content_range = format!("bytes {}-{}/{size}", r.start, r.end - 1);
                headers.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&content_range).ok()?,
                );
                let part = obj.body.slice(r.start as usize..r.end as usize);
                (StatusCode::PARTIAL_CONTENT, part)
            }
            Asked::Parts(parts) => {
                // RFC 9110 §14.6: each part with its Content-Type and Content-Range. The
                // request id is random; without its base64 padding it is a token.
                let boundary = ctx.request_id.trim_end_matches('=');
                let content_type = headers.remove(header::CONTENT_TYPE);
                let mut body = Vec::with_capacity(
                    parts.iter().map(|r| (r.end - r.start) as usize + 128).sum(),
                );
                for r in &parts {
                    body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
                    if let Some(ct) = &content_type {
                        body.extend_from_slice(b"Content-Type: ");
                        body.extend_from_slice(ct.as_bytes());
                        body.extend_from_slice(b"\r\n");
                    }
                    let range = format!(
                        "Content-Range: bytes {}-{}/{size}\r\n\r\n",
                        r.start,
                        r.end - 1
                    );
                    body.extend_from_slice(range.as_bytes());
                    body.extend_from_slice(&obj.body[r.start as usize..r.end as usize]);
                }
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                let multipart = format!("multipart/byteranges; boundary={boundary}");
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&multipart).ok()?,
                );
                (StatusCode::PARTIAL_CONTENT, bytes::Bytes::from(body))
            }
            Asked::Unsatisfiable => {
                let content_range = format!("bytes */{size}");
                headers.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&content_range).ok()?,
                );
                (StatusCode::RANGE_NOT_SATISFIABLE, bytes::Bytes::new())
            }
        };
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        Some(self.reply(
            ctx.to(),
            status,
            std::mem::take(headers),
            EdgeBody::full(body),
            x_cache,
        ))
    }

    /// A function-generated response as the viewer gets it.
    pub(crate) fn reply_generated(
        &self,
        ctx: &RequestCtx,
        g: FnResponse,
        x_cache: XCache,
    ) -> Response<EdgeBody> {
        let body = EdgeBody::full(g.body.unwrap_or_default());
        self.reply(ctx.to(), g.status, g.headers, body, x_cache)
    }

    /// CloudFront's error page for a failed request (docs/cloudfront-behaviour.md: "Error page").
    pub(crate) fn reply_error(&self, to: To<'_>, e: &EdgeError) -> Response<EdgeBody> {
        let status = e.status_code();
        // A refused signed URL or cookie is answered in XML, as CloudFront answers it.
        let (page, content_type) = match e {
            EdgeError::SignedUrl(d) => {
                let (code, message) = d.code_and_message();
                let xml = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
                );
                (Bytes::from(xml), "text/xml")
            }
            _ => (
                error_page(status, &e.page_text(), to.request_id),
                "text/html",
            ),
        };
        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(header::SERVER, HeaderValue::from_static("CloudFront"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(page.len()));
        self.reply(to, status, headers, EdgeBody::full(page), e.x_cache())
    }
}

/// RFC 9110 §13.1.2–13.1.3 evaluated against a stored 200.
fn not_modified(req: &HeaderMap, obj: &Stored) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let Some(etag) = obj.etag().and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let weak = |t: &str| t.trim().trim_start_matches("W/").to_string();
        return inm.trim() == "*" || inm.split(',').any(|t| weak(t) == weak(etag));
    }
    if let Some(ims) = req
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
    {
        let since = httpdate::parse_http_date(ims).ok();
        let lm = obj
            .last_modified()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        return matches!((since, lm), (Some(s), Some(l)) if l <= s);
    }
    false
}
