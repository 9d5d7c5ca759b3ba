//! What CloudFront adds to every viewer response and its generated error page
//! (docs/cloudfront-behaviour.md: "Response headers CloudFront adds", "Error page").

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, SERVER, VIA};
use http::{HeaderMap, StatusCode, Version};

pub static X_CACHE: HeaderName = HeaderName::from_static("x-cache");
pub static X_AMZ_CF_POP: HeaderName = HeaderName::from_static("x-amz-cf-pop");
pub static X_AMZ_CF_ID: HeaderName = HeaderName::from_static("x-amz-cf-id");

/// The `X-Cache` result types (the access log's `x-edge-result-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XCache {
    Hit,
    RefreshHit,
    Miss,
    Error,
    LambdaGenerated,
    /// A redirect CloudFront made itself (redirect-to-https).
    Redirect,
    /// A function's result failed validation (502).
    LambdaValidationError,
    /// A function threw, rejected, never settled or ran out of memory.
    LambdaExecutionError,
    /// A function timed out or was throttled (503).
    LambdaLimitExceeded,
    /// A CloudFront function generated the answer.
    FunctionGenerated,
    /// A CloudFront function's result failed validation (502).
    FunctionValidationError,
    /// A CloudFront function threw (503).
    FunctionExecutionError,
    /// A CloudFront function ran past its limit (503).
    FunctionThrottledError,
}

impl XCache {
    pub fn as_str(&self) -> &'static str {
        match self {
            XCache::Hit => "Hit from cloudfront",
            XCache::RefreshHit => "RefreshHit from cloudfront",
            XCache::Miss => "Miss from cloudfront",
            XCache::Error => "Error from cloudfront",
            XCache::LambdaGenerated => "LambdaGeneratedResponse from cloudfront",
            XCache::Redirect => "Redirect from cloudfront",
            XCache::LambdaValidationError => "LambdaValidationError from CloudFront",
            XCache::LambdaExecutionError => "LambdaExecutionError from CloudFront",
            XCache::LambdaLimitExceeded => "LambdaLimitExceeded from CloudFront",
            XCache::FunctionGenerated => "FunctionGeneratedResponse from cloudfront",
            XCache::FunctionValidationError => "FunctionValidationError from cloudfront",
            XCache::FunctionExecutionError => "FunctionExecutionError from cloudfront",
            XCache::FunctionThrottledError => "FunctionThrottledError from cloudfront",
        }
    }

    /// CloudFront reports any 4xx/5xx answer from the origin or the cache as an error.
    pub fn for_status(self, status: StatusCode) -> XCache {
        let from_cache_or_origin = matches!(self, XCache::Hit | XCache::RefreshHit | XCache::Miss);
        if status.as_u16() >= 400 && from_cache_or_origin {
            XCache::Error
        } else {
            self
        }
    }
}

/// The headers this POP stamps on every answer, built once per node.
#[derive(Debug, Clone)]
pub struct PopStamp {
    pub pop: HeaderValue,
    /// `<hex>.cloudfront.net (CloudFront)`, prefixed with the protocol version per message.
    via_10: HeaderValue,
    via_11: HeaderValue,
    via_2: HeaderValue,
    pub via_origin: HeaderValue,
}

impl PopStamp {
    pub fn new(pop: &str) -> PopStamp {
        let host = format!("{}.cloudfront.net (CloudFront)", super::ids::node_hex());
        let v = |p: &str| HeaderValue::from_str(&format!("{p} {host}")).expect("ascii");
        PopStamp {
            pop: HeaderValue::from_str(pop).expect("pop validated as ascii"),
            via_10: v("1.0"),
            via_11: v("1.1"),
            via_2: v("2.0"),
            via_origin: v("1.1"),
        }
    }

    pub fn via(&self, version: Version) -> &HeaderValue {
        match version {
            Version::HTTP_2 | Version::HTTP_3 => &self.via_2,
            Version::HTTP_10 | Version::HTTP_09 => &self.via_10,
            _ => &self.via_11,
        }
    }

    /// Adds CloudFront's viewer-side headers to `headers`.
    pub fn stamp(
        &self,
        headers: &mut HeaderMap,
        x_cache: XCache,
        request_id: &str,
        version: Version,
    ) {
        headers.insert(VIA, self.via(version).clone());
        headers.insert(X_CACHE.clone(), HeaderValue::from_static(x_cache.as_str()));
        headers.insert(X_AMZ_CF_POP.clone(), self.pop.clone());
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert(X_AMZ_CF_ID.clone(), id);
        }
        if !headers.contains_key(SERVER) {
            headers.insert(SERVER, HeaderValue::from_static("CloudFront"));
        }
    }
}

/// CloudFront's generated error page (docs/cloudfront-behaviour.md: "Error page").
pub fn error_page(status: StatusCode, text: &str, request_id: &str) -> Bytes {
    let code = status.as_u16();
    Bytes::from(format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n\
<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n\
<TITLE>ERROR: The request could not be satisfied</TITLE>\n\
</HEAD><BODY>\n\
<H1>{code} ERROR</H1>\n\
<H2>The request could not be satisfied.</H2>\n\
<HR noshade size=\"1px\">\n\
{text}\n\
<BR clear=\"all\">\n\
If you provide content to customers through CloudFront, you can find steps to troubleshoot and help prevent this error by reviewing the CloudFront documentation.\n\
<BR clear=\"all\">\n\
<HR noshade size=\"1px\">\n\
<PRE>\n\
Generated by cloudfront (CloudFront)\n\
Request ID: {request_id}\n\
</PRE>\n\
<ADDRESS>\n\
</ADDRESS>\n\
</BODY></HTML>"
    ))
}
