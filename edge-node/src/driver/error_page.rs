//! Custom error responses: an error answer from the origin or the cache (or a failed origin,
//! or a viewer refused by country) replaced by the distribution's page for that code
//! (docs/cloudfront-behaviour.md: "Custom error responses").

use super::{RequestCtx, Worker};
use crate::error::EdgeError;
use crate::http::body::EdgeBody;
use crate::http::respond::{XCache, X_CACHE};
use http::{header, HeaderValue, Method, Response, StatusCode};
use std::rc::Rc;

/// The status of an answer a custom error page may replace: an error from the origin or the
/// cache (`X-Cache: Error`, not a function's answer) or an origin that could not be reached.
pub(super) fn failed_status(resp: &Result<Response<EdgeBody>, EdgeError>) -> Option<StatusCode> {
    match resp {
        Ok(r)
            if r.headers().get(&X_CACHE).map(HeaderValue::as_bytes)
                == Some(XCache::Error.as_str().as_bytes()) =>
        {
            Some(r.status())
        }
        Err(e) if e.is_origin_failure() => Some(e.status_code()),
        _ => None,
    }
}

impl Worker {
    /// The page for an error with `status`, when the distribution names one.
    pub(crate) fn error_page_for(
        ctx: &RequestCtx,
        status: StatusCode,
    ) -> Option<(http::uri::PathAndQuery, StatusCode)> {
        ctx.dist().custom_error(status).and_then(|e| e.page.clone())
    }

    /// Serves `page` with `code` instead of an error. The page is fetched as a GET (HEAD for a
    /// HEAD) of its path through the behavior that path matches, from the cache or its origin,
    /// without the viewer's conditional or range headers and without viewer-request or
    /// viewer-response functions (CloudFront runs neither for an error page). A page that
    /// cannot be had is answered as its origin answered it (CloudFront: "the status code that
    /// CloudFront received from the origin that contains the custom error pages").
    pub(crate) async fn error_page(
        self: &Rc<Self>,
        ctx: &RequestCtx,
        (path, code): (http::uri::PathAndQuery, StatusCode),
    ) -> Result<Response<EdgeBody>, EdgeError> {
        let mut sub = ctx.for_revalidation();
        sub.request_id = ctx.request_id.clone();
        sub.method = if ctx.is_head() {
            Method::HEAD
        } else {
            Method::GET
        };
        sub.behavior = ctx.dist().behavior_index(path.path());
        let mut uri = http::uri::Parts::default();
        uri.path_and_query = Some(path);
        sub.uri = http::Uri::from_parts(uri).expect("a path is a URI");
        for h in [
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_MATCH,
            header::IF_UNMODIFIED_SINCE,
            header::RANGE,
            header::IF_RANGE,
        ] {
            sub.headers.remove(h);
        }
        sub.origin = None;
        let mut resp = self.cacheable(&sub).await?;
        if resp.status().as_u16() >= 400 {
            return Ok(resp);
        }
        *resp.status_mut() = code;
        resp.headers_mut().insert(
            X_CACHE.clone(),
            HeaderValue::from_static(XCache::Error.as_str()),
        );
        Ok(resp)
    }
}
