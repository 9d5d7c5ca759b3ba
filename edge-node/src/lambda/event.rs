//! The request and response a function sees and returns, and the event built from them
//! (docs/cloudfront-behaviour.md: "Event shape"), with keys in AWS's order.

use super::headers;
use super::Stage;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// A request as functions see it and as the driver carries it between stages.
#[derive(Debug, Clone)]
pub struct FnRequest {
    pub client_ip: String,
    pub method: Method,
    /// The path, starting with `/`.
    pub uri: String,
    /// The query string without `?` ("" when none).
    pub querystring: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `{"custom": {...}}` or `{"s3": {...}}` in origin stages.
    pub origin: Option<super::origin::FnOrigin>,
}

/// A response as functions see it, or as a function generated it.
#[derive(Debug, Clone)]
pub struct FnResponse {
    pub status: StatusCode,
    pub status_description: String,
    pub headers: HeaderMap,
    /// `Some` when a function set (or generated) the body.
    pub body: Option<Bytes>,
}

/// The `config` part of every event.
#[derive(Debug, Clone, Copy)]
pub struct EventConfig<'a> {
    pub distribution_domain: &'a str,
    pub distribution_id: &'a str,
    pub request_id: &'a str,
    /// CloudFront Functions only: the CloudFront-Viewer-* headers their event shows on top of
    /// the request's (at viewer-request, those the behavior's policies name; at
    /// viewer-response, those its origin request policy forwards).
    pub viewer_headers: crate::viewer::headers::Added<'a>,
}

impl FnRequest {
    /// `uri` plus `?querystring` when there is one.
    pub fn path_and_query(&self) -> String {
        if self.querystring.is_empty() {
            self.uri.clone()
        } else {
            format!("{}?{}", self.uri, self.querystring)
        }
    }
}

/// Builds the event for `stage`. `include_body` exposes the request body (request stages only),
/// truncated at the stage's limit.
pub fn build(
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) -> Value {
    let mut text = String::new();
    write(&mut text, stage, cfg, req, resp, include_body);
    serde_json::from_str(&text).expect("the event writer writes JSON")
}

/// Writes the event as JSON text into `out` (cleared first): what the runtime hands to the
/// function, without building a `Value` on the hook path.
pub fn write(
    out: &mut String,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) {
    write_parts(out, None, stage, cfg, req, resp, include_body);
}

/// Like `write`, but the parts a function may never read (the request's headers, body and
/// origin, the response's headers) go into `parts` instead, each replaced in `out` by its
/// `[start,end]` byte range there: the runtime parses a part only when the function first
/// reads it (docs/request-path.md: "A hook pays for what it touches").
pub fn write_lazy(
    out: &mut String,
    parts: &mut String,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) {
    parts.clear();
    write_parts(out, Some(parts), stage, cfg, req, resp, include_body);
}

/// Writes one lazy part: into `parts` (with its range in `out`) or straight into `out`.
pub(crate) fn part(
    out: &mut String,
    parts: &mut Option<&mut String>,
    write: impl FnOnce(&mut String),
) {
    match parts {
        None => write(out),
        Some(p) => {
            let start = p.len();
            write(p);
            use std::fmt::Write;
            let _ = write!(out, "[{},{}]", utf16_at(p, start), utf16_at(p, p.len()));
        }
    }
}

/// Where byte `at` of `text` is in JavaScript's terms (UTF-16 code units): the runtime cuts
/// a part out of the parts text with `String.prototype.slice`. A header value beyond ASCII
/// (`José`) shifted every later part when the byte offset was given.
pub(crate) fn utf16_at(text: &str, at: usize) -> usize {
    let before = &text[..at];
    if before.is_ascii() {
        at
    } else {
        before.encode_utf16().count()
    }
}

fn write_parts(
    out: &mut String,
    mut parts: Option<&mut String>,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) {
    out.clear();
    out.push_str(r#"{"Records":[{"cf":{"config":"#);
    write_config(out, stage, cfg);
    out.push_str(r#","request":{"#);
    if include_body && stage.is_request() {
        let limit = stage.size_limit();
        let data = &req.body[..req.body.len().min(limit)];
        out.push_str(r#""body":"#);
        part(out, &mut parts, |out| {
            out.push_str(r#"{"inputTruncated":"#);
            out.push_str(if req.body.len() > limit {
                "true"
            } else {
                "false"
            });
            out.push_str(r#","action":"read-only","encoding":"base64","data":""#);
            base64::engine::general_purpose::STANDARD.encode_string(data, out);
            out.push_str(r#""}"#);
        });
        out.push(',');
    }
    out.push_str(r#""clientIp":"#);
    string(out, &req.client_ip);
    out.push_str(r#","headers":"#);
    part(out, &mut parts, |out| {
        headers::write_event(out, &req.headers)
    });
    out.push_str(r#","method":"#);
    string(out, req.method.as_str());
    if matches!(stage, Stage::OriginRequest | Stage::OriginResponse) {
        if let Some(o) = &req.origin {
            out.push_str(r#","origin":"#);
            part(out, &mut parts, |out| {
                out.push_str(&o.to_event().to_string())
            });
        }
    }
    out.push_str(r#","querystring":"#);
    string(out, &req.querystring);
    out.push_str(r#","uri":"#);
    string(out, &req.uri);
    out.push('}');
    if let Some(r) = resp {
        out.push_str(r#","response":{"headers":"#);
        part(out, &mut parts, |out| headers::write_event(out, &r.headers));
        out.push_str(r#","status":""#);
        out.push_str(r.status.as_str());
        out.push_str(r#"","statusDescription":"#);
        string(out, &r.status_description);
        out.push('}');
    }
    out.push_str("}}]}");
}

/// A JSON string literal.
/// `{distributionDomainName, distributionId, eventType, requestId}`: Lambda@Edge's `config`
/// and CloudFront Functions' `context` alike.
pub(crate) fn write_config(out: &mut String, stage: Stage, cfg: EventConfig<'_>) {
    out.push_str(r#"{"distributionDomainName":"#);
    string(out, cfg.distribution_domain);
    out.push_str(r#","distributionId":"#);
    string(out, cfg.distribution_id);
    out.push_str(r#","eventType":""#);
    out.push_str(stage.as_str());
    out.push_str(r#"","requestId":"#);
    string(out, cfg.request_id);
    out.push('}');
}

pub(crate) fn string(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn aws(name: &str) -> Value {
        let path = format!(
            "{}/../../shared/lambda-edge/events/aws-docs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The same keys, in the same order, at every level (values may differ; arrays compare
    /// their first element).
    fn same_shape(a: &Value, b: &Value, at: &str) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let kx: Vec<_> = x.keys().collect();
                let ky: Vec<_> = y.keys().collect();
                if at.ends_with(".headers") {
                    return; // header names are data
                }
                assert_eq!(kx, ky, "keys at {at}");
                for k in x.keys() {
                    same_shape(&x[k], &y[k], &format!("{at}.{k}"));
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if let (Some(p), Some(q)) = (x.first(), y.first()) {
                    same_shape(p, q, &format!("{at}[0]"));
                }
            }
            (x, y) => assert_eq!(
                std::mem::discriminant(x),
                std::mem::discriminant(y),
                "type at {at}: {x} vs {y}"
            ),
        }
    }

    fn sample_request() -> FnRequest {
        let mut h = HeaderMap::new();
        h.insert(
            "host",
            HeaderValue::from_static("d111111abcdef8.cloudfront.net"),
        );
        h.insert("user-agent", HeaderValue::from_static("curl/7.66.0"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        FnRequest {
            client_ip: "203.0.113.178".into(),
            method: Method::GET,
            uri: "/".into(),
            querystring: String::new(),
            headers: h,
            body: Bytes::new(),
            origin: None,
        }
    }

    const CFG: EventConfig<'static> = EventConfig {
        distribution_domain: "d111111abcdef8.cloudfront.net",
        distribution_id: "EDFDVBD6EXAMPLE",
        request_id: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
        viewer_headers: crate::viewer::headers::Added::NONE,
    };

    #[test]
    fn events_have_the_shape_of_aws_samples() {
        let req = sample_request();
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("text/html"));
        let resp = FnResponse {
            status: StatusCode::OK,
            status_description: "OK".into(),
            headers: h,
            body: None,
        };
        same_shape(
            &build(Stage::ViewerRequest, CFG, &req, None, false),
            &aws("viewer-request.json"),
            "",
        );
        same_shape(
            &build(Stage::ViewerResponse, CFG, &req, Some(&resp), false),
            &aws("viewer-response.json"),
            "",
        );
        let origin = crate::config::from_origin_url("https://example.org").unwrap();
        let mut oreq = req.clone();
        oreq.origin = Some(super::super::origin::FnOrigin::custom(
            &origin.distributions[0].origins[0],
            crate::config::Protocol::Https,
        ));
        same_shape(
            &build(Stage::OriginResponse, CFG, &oreq, Some(&resp), false),
            &aws("origin-response.json"),
            "",
        );
        same_shape(
            &build(Stage::OriginRequest, CFG, &oreq, None, false),
            &aws("origin-request.json"),
            "",
        );
        let e = build(Stage::ViewerRequest, CFG, &req, None, false);
        assert_eq!(
            e["Records"][0]["cf"]["config"]["eventType"],
            "viewer-request"
        );
        assert_eq!(
            e["Records"][0]["cf"]["request"]["headers"]["user-agent"][0]["key"],
            "User-Agent"
        );
        assert_eq!(
            build(Stage::OriginResponse, CFG, &req, Some(&resp), false)["Records"][0]["cf"]
                ["response"]["status"],
            "200"
        );
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(
            serde_json::from_str::<String>(&out).unwrap(),
            "a\"b\\c\nd\u{1}é"
        );
    }

    #[test]
    fn body_is_exposed_base64_and_truncated() {
        let mut req = sample_request();
        req.body = Bytes::from(vec![b'a'; 50 * 1024]);
        let e = build(Stage::ViewerRequest, CFG, &req, None, true);
        let body = &e["Records"][0]["cf"]["request"]["body"];
        assert_eq!(body["inputTruncated"], true);
        assert_eq!(body["action"], "read-only");
        assert_eq!(body["encoding"], "base64");
        let data = base64::engine::general_purpose::STANDARD
            .decode(body["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(data.len(), 40 * 1024);
        assert!(
            build(Stage::ViewerResponse, CFG, &req, None, true)["Records"][0]["cf"]["request"]
                .get("body")
                .is_none()
        );
    }
}
