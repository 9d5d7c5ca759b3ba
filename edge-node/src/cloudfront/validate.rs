//! What a CloudFront function may return (docs/cloudfront-functions.md: "What a function may
//! return"): at viewer-request the request (changed) or a response it generates, at
//! viewer-response the response (headers, cookies, status and body may all change). Anything
//! else is CloudFront's `FunctionValidationError` (502); `Invalid` carries the page's sentence
//! and a log line naming exactly what was wrong.

use super::{event, BODY_BYTES};
use crate::lambda::event::{FnRequest, FnResponse};
use crate::lambda::validate::{check_headers, merge_hidden, Invalid, RequestOutcome};
use crate::lambda::Stage;
use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, COOKIE, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

const FAILED: &str = "The CloudFront function returned an invalid value";

fn invalid(detail: impl Into<String>) -> Invalid {
    Invalid {
        message: format!("{FAILED}."),
        detail: detail.into(),
    }
}

/// Lambda@Edge's header checks, in CloudFront Functions' words.
fn reworded(mut inv: Invalid) -> Invalid {
    inv.message = inv.message.replace(
        "The Lambda function result failed validation",
        "The CloudFront function result failed validation",
    );
    inv
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Invalid> {
    match v {
        Value::Object(o) => Ok(o),
        Value::Null => Err(invalid(format!(
            "the function returned no {what} (undefined or null)"
        ))),
        other => Err(invalid(format!(
            "the function returned {} instead of the {what} object",
            kind(other)
        ))),
    }
}

use crate::lambda::validate::type_name as kind;

/// The result of a viewer-request function: the request to go on with, or the response it
/// generated (an object with a `statusCode`).
pub fn request_result(input: &FnRequest, result: &Value) -> Result<RequestOutcome, Invalid> {
    let obj = object(result, "request")?;
    if obj.contains_key("statusCode") {
        return response(Stage::ViewerRequest, None, obj).map(RequestOutcome::Respond);
    }
    let uri = match obj.get("uri") {
        Some(Value::String(u)) => u.as_str(),
        None => input.uri.as_str(),
        Some(other) => {
            return Err(invalid(format!(
                "request.uri is {}, not a string",
                kind(other)
            )))
        }
    };
    if !uri.starts_with('/') || uri.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid(format!(
            "request.uri {uri:?} must start with '/' and have no spaces or control characters"
        )));
    }
    let querystring = match obj.get("querystring") {
        None => input.querystring.clone(),
        Some(Value::String(s)) => s.strip_prefix('?').unwrap_or(s).to_string(),
        Some(Value::Object(q)) => {
            // Unchanged parameters keep the viewer's bytes (order, a bare `name`).
            let q = query_of(q)?;
            if q == as_given(event::query_pairs(&input.querystring), "&") {
                input.querystring.clone()
            } else {
                q
            }
        }
        Some(other) => return Err(invalid(format!("request.querystring is {}", kind(other)))),
    };
    if querystring
        .chars()
        .any(|c| c.is_control() || c == ' ' || c == '#')
    {
        return Err(invalid(format!(
            "request.querystring {querystring:?} has a space, '#' or a control character"
        )));
    }
    if uri.len() + querystring.len() >= 8192 {
        return Err(invalid(format!(
            "uri + querystring is {} characters; the limit is 8,192",
            uri.len() + querystring.len()
        )));
    }
    // Headers left out are the request's own (already valid); new ones are checked and the
    // headers functions never see come back.
    let mut headers = match obj.get("headers") {
        None => input.headers.clone(),
        Some(h) => {
            let new = headers_of(h, "request.headers")?;
            check_headers(Stage::ViewerRequest, &input.headers, &new).map_err(reworded)?;
            merge_hidden(&input.headers, new)
        }
    };
    // Cookies left out, or returned as they came, are the viewer's `Cookie` headers as sent.
    let keep = match obj.get("cookies") {
        None => None,
        Some(c) => match cookie_header(c)? {
            Some(c)
                if c.as_bytes()
                    == as_given(event::cookie_pairs(&input.headers), "; ").as_bytes() =>
            {
                None
            }
            other => Some(other),
        },
    };
    headers.remove(COOKIE);
    match keep {
        None => {
            for c in input.headers.get_all(COOKIE) {
                headers.append(COOKIE, c.clone());
            }
        }
        Some(Some(c)) => {
            headers.insert(COOKIE, c);
        }
        Some(None) => {}
    }
    Ok(RequestOutcome::Continue(FnRequest {
        client_ip: input.client_ip.clone(),
        method: input.method.clone(),
        uri: uri.to_string(),
        querystring,
        headers,
        body: input.body.clone(),
        origin: None,
    }))
}

/// The result of a viewer-response function: the response to send.
pub fn response_result(input: &FnResponse, result: &Value) -> Result<FnResponse, Invalid> {
    let obj = object(result, "response")?;
    response(Stage::ViewerResponse, Some(input), obj)
}

/// A response object: generated at viewer-request (`input` None) or the changed response at
/// viewer-response. A missing field keeps what `input` had.
fn response(
    stage: Stage,
    input: Option<&FnResponse>,
    obj: &Map<String, Value>,
) -> Result<FnResponse, Invalid> {
    let status = match (obj.get("statusCode"), input) {
        (None, Some(i)) => i.status,
        (v, _) => {
            let n = match v {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            match n
                .and_then(|n| u16::try_from(n).ok())
                .and_then(|n| StatusCode::from_u16(n).ok())
            {
                Some(s) if (200..=599).contains(&s.as_u16()) => s,
                _ => {
                    return Err(invalid(format!(
                        "response.statusCode {} is not a number from 200 to 599",
                        v.map_or("(missing)".into(), |v| v.to_string())
                    )))
                }
            }
        }
    };
    let status_description = match obj.get("statusDescription") {
        Some(Value::String(s)) => s.clone(),
        _ if input.is_some_and(|i| i.status == status) => input
            .map(|i| i.status_description.clone())
            .unwrap_or_default(),
        _ => status.canonical_reason().unwrap_or("").to_string(),
    };
    // Headers left out are the response's own (already valid); new ones are checked, and the
    // headers functions never see come back.
    let empty = HeaderMap::new();
    let before = input.map_or(&empty, |i| &i.headers);
    let mut headers = match obj.get("headers") {
        None | Some(Value::Null) => {
            let mut h = before.clone();
            h.remove(SET_COOKIE);
            h
        }
        Some(h) => {
            let new = headers_of(h, "response.headers")?;
            check_headers(stage, before, &new).map_err(reworded)?;
            merge_hidden(before, new)
        }
    };
    match obj.get("cookies") {
        None | Some(Value::Null) => {
            for v in before.get_all(SET_COOKIE) {
                headers.append(SET_COOKIE, v.clone());
            }
        }
        Some(c) => set_cookies(c, &mut headers)?,
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Bytes::copy_from_slice(s.as_bytes())),
        Some(Value::Object(b)) => {
            let data = match b.get("data") {
                Some(Value::String(d)) => d.as_str(),
                None => "",
                Some(other) => {
                    return Err(invalid(format!("response.body.data is {}", kind(other))))
                }
            };
            match b.get("encoding").and_then(Value::as_str).unwrap_or("text") {
                "text" => Some(Bytes::copy_from_slice(data.as_bytes())),
                "base64" => Some(Bytes::from(
                    base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .map_err(|e| {
                            invalid(format!("response.body.data is not valid base64: {e}"))
                        })?,
                )),
                other => {
                    return Err(invalid(format!(
                        "response.body.encoding {other:?} is neither \"text\" nor \"base64\""
                    )))
                }
            }
        }
        Some(other) => return Err(invalid(format!("response.body is {}", kind(other)))),
    };
    if let Some(b) = &body {
        if b.len() > BODY_BYTES {
            return Err(invalid(format!(
                "response.body is {} bytes; the limit is {BODY_BYTES} bytes (40 KB)",
                b.len()
            )));
        }
    }
    Ok(FnResponse {
        status,
        status_description,
        headers,
        body,
    })
}

/// The request of a CloudFront Functions event as the node would hold it (for running a
/// function on an event file: `edge invoke --runtime`).
pub fn request_from_event(v: &Value, viewer_ip: &str) -> Result<FnRequest, Invalid> {
    let obj = object(v, "request")?;
    let method = obj
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .parse::<http::Method>()
        .map_err(|_| invalid("request.method is not an HTTP method"))?;
    let uri = obj
        .get("uri")
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_string();
    let querystring = match obj.get("querystring") {
        Some(Value::Object(q)) => query_of(q)?,
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut headers = match obj.get("headers") {
        Some(h) => headers_of(h, "request.headers")?,
        None => HeaderMap::new(),
    };
    if let Some(c) = obj.get("cookies").map(cookie_header).transpose()?.flatten() {
        headers.insert(COOKIE, c);
    }
    Ok(FnRequest {
        client_ip: viewer_ip.to_string(),
        method,
        uri,
        querystring,
        headers,
        body: Bytes::new(),
        origin: None,
    })
}

/// The response of a viewer-response event as the node would hold it.
pub fn response_from_event(v: &Value) -> Result<FnResponse, Invalid> {
    let obj = object(v, "response")?;
    let status = obj
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok())
        .and_then(|n| StatusCode::from_u16(n).ok())
        .ok_or_else(|| invalid("response.statusCode is not an HTTP status"))?;
    let mut headers = match obj.get("headers") {
        Some(h) => headers_of(h, "response.headers")?,
        None => HeaderMap::new(),
    };
    if let Some(c) = obj.get("cookies") {
        set_cookies(c, &mut headers)?;
    }
    Ok(FnResponse {
        status,
        status_description: obj
            .get("statusDescription")
            .and_then(Value::as_str)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or(""))
            .to_string(),
        headers,
        body: None,
    })
}

/// `{name: {value, multiValue}}` as values: `multiValue` wins when present, else `value`.
/// Where a value sits in the result (`response.headers` + `.x-hook`), written out only for an
/// error message: a valid result formats nothing.
struct At<'a>(&'a str, &'a str);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

fn values<'a>(entry: &'a Value, at: At<'_>) -> Result<Vec<(&'a str, Option<&'a str>)>, Invalid> {
    let o = entry.as_object().ok_or_else(|| {
        invalid(format!(
            "{at} is {}, not an object with a value",
            kind(entry)
        ))
    })?;
    let one =
        |v: &'a Value, at: &dyn std::fmt::Display| -> Result<(&'a str, Option<&'a str>), Invalid> {
            let value = match v.get("value") {
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    return Err(invalid(format!(
                        "{at}.value is {}, not a string",
                        kind(other)
                    )))
                }
                None => return Err(invalid(format!("{at} has no value"))),
            };
            let attributes = match v.get("attributes") {
                Some(Value::String(a)) => Some(a.as_str()),
                _ => None,
            };
            Ok((value, attributes))
        };
    match o.get("multiValue") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, v)| one(v, &format_args!("{at}.multiValue[{i}]")))
            .collect(),
        _ => Ok(vec![one(entry, &at)?]),
    }
}

fn headers_of(v: &Value, at: &str) -> Result<HeaderMap, Invalid> {
    let o = v
        .as_object()
        .ok_or_else(|| invalid(format!("{at} is {}, not an object", kind(v))))?;
    let mut out = HeaderMap::with_capacity(o.len());
    for (name, entry) in o {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid(format!(
                "{at}: header name {name:?} must be lowercase (CloudFront Functions take lowercase header names)"
            )));
        }
        let hn = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("{at}: {name:?} is not a valid header name")))?;
        for (value, _) in values(entry, At(at, name))? {
            let hv = HeaderValue::from_str(value).map_err(|_| {
                invalid(format!(
                    "{at}.{name}: the value {value:?} has characters a header cannot carry"
                ))
            })?;
            out.append(hn.clone(), hv);
        }
    }
    Ok(out)
}

fn query_of(q: &Map<String, Value>) -> Result<String, Invalid> {
    let mut out = String::new();
    for (name, entry) in q {
        for (value, _) in values(entry, At("request.querystring", name))? {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }
    Ok(out)
}

/// What a function that returns the event's query parameters or cookies unchanged sends back
/// (`name=value` joined by `sep`, grouped by name as the event carries them).
fn as_given<'a>(items: impl Iterator<Item = event::Item<'a>>, sep: &str) -> String {
    let mut out = String::new();
    for (name, values) in event::grouped(items) {
        for (value, _) in values {
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// `cookies` of a request as one `Cookie` header (None when there are none).
fn cookie_header(v: &Value) -> Result<Option<HeaderValue>, Invalid> {
    let o = v
        .as_object()
        .ok_or_else(|| invalid(format!("request.cookies is {}, not an object", kind(v))))?;
    let mut out = String::new();
    for (name, entry) in o {
        for (value, _) in values(entry, At("request.cookies", name))? {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(&out)
        .map(Some)
        .map_err(|_| invalid("request.cookies: a cookie has characters a header cannot carry"))
}

/// `cookies` of a response as `Set-Cookie` headers (`name=value; attributes`).
fn set_cookies(v: &Value, headers: &mut HeaderMap) -> Result<(), Invalid> {
    let o = v
        .as_object()
        .ok_or_else(|| invalid(format!("response.cookies is {}, not an object", kind(v))))?;
    for (name, entry) in o {
        for (value, attributes) in values(entry, At("response.cookies", name))? {
            let mut line = format!("{name}={value}");
            if let Some(a) = attributes.filter(|a| !a.is_empty()) {
                line.push_str("; ");
                line.push_str(a);
            }
            let hv = HeaderValue::from_str(&line).map_err(|_| {
                invalid(format!(
                    "response.cookies.{name}: characters a header cannot carry"
                ))
            })?;
            headers.append(SET_COOKIE, hv);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    use serde_json::json;

    fn req() -> FnRequest {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("example.com"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        h.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        h.insert("x-amz-cf-id", HeaderValue::from_static("hidden"));
        FnRequest {
            client_ip: "192.0.2.1".into(),
            method: Method::GET,
            uri: "/index.html".into(),
            querystring: "x=1".into(),
            headers: h,
            body: Bytes::new(),
            origin: None,
        }
    }

    fn cont(r: Result<RequestOutcome, Invalid>) -> FnRequest {
        match r {
            Ok(RequestOutcome::Continue(r)) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn a_returned_request_changes_uri_query_headers_and_cookies() {
        let r = cont(request_result(
            &req(),
            &json!({"method": "POST", "uri": "/new", "querystring": {"q": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}},
                    "headers": {"host": {"value": "example.com"}, "x-added": {"value": "yes"}},
                    "cookies": {"a": {"value": "9"}}}),
        ));
        assert_eq!(r.method, Method::GET, "the method cannot change");
        assert_eq!(
            (r.uri.as_str(), r.querystring.as_str()),
            ("/new", "q=1&q=2")
        );
        assert_eq!(r.headers["x-added"], "yes");
        assert!(
            r.headers.get("accept").is_none(),
            "a header left out is removed"
        );
        assert_eq!(r.headers["cookie"], "a=9");
        assert_eq!(
            r.headers["x-amz-cf-id"], "hidden",
            "what functions never see stays"
        );
        // A string query string, as AWS's own examples set it.
        let r = cont(request_result(
            &req(),
            &json!({"uri": "/", "querystring": "b=2&a=1", "headers": {"host": {"value": "example.com"}}}),
        ));
        assert_eq!(r.querystring, "b=2&a=1");
        assert_eq!(r.headers["cookie"], "a=1; b=2", "cookies left out are kept");
    }

    #[test]
    fn bad_results_are_named() {
        for (result, says) in [
            (json!(null), "no request"),
            (json!("x"), "a string instead"),
            (json!({"uri": "nope", "headers": {}}), "must start with '/'"),
            (
                json!({"uri": "/", "headers": {"X-Up": {"value": "1"}, "host": {"value": "example.com"}}}),
                "must be lowercase",
            ),
            (
                json!({"uri": "/", "headers": {"host": {"value": "other"}}}),
                "read-only header",
            ),
            (
                json!({"uri": "/", "headers": {"host": {"value": "example.com"}, "x-cache": {"value": "1"}}}),
                "disallowed header",
            ),
            (
                json!({"uri": "/", "headers": {"host": {"value": 1}}}),
                "not a string",
            ),
            (json!({"statusCode": 700}), "from 200 to 599"),
            (
                json!({"statusCode": 200, "body": {"data": "!!", "encoding": "base64"}}),
                "not valid base64",
            ),
        ] {
            let err = match request_result(&req(), &result) {
                Err(e) => e,
                Ok(o) => panic!("{result} was accepted: {o:?}"),
            };
            assert!(
                format!("{} {}", err.message, err.detail).contains(says),
                "{result}: {err:?}"
            );
        }
    }

    #[test]
    fn generated_and_changed_responses() {
        match request_result(
            &req(),
            &json!({"statusCode": 302, "statusDescription": "Found", "headers": {"location": {"value": "https://example.com/"}}, "cookies": {"s": {"value": "1", "attributes": "Path=/"}}}),
        ) {
            Ok(RequestOutcome::Respond(r)) => {
                assert_eq!(r.status, 302);
                assert_eq!(r.headers["location"], "https://example.com/");
                assert_eq!(r.headers["set-cookie"], "s=1; Path=/");
            }
            other => panic!("{other:?}"),
        }
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        h.append("set-cookie", HeaderValue::from_static("old=1"));
        let input = FnResponse {
            status: StatusCode::OK,
            status_description: "OK".into(),
            headers: h,
            body: None,
        };
        let out = response_result(&input, &json!({"statusCode": 404, "headers": {"content-type": {"value": "text/html"}}, "body": "gone"})).unwrap();
        assert_eq!(out.status, 404, "viewer-response may change the status");
        assert_eq!(out.status_description, "Not Found");
        assert_eq!(out.headers["content-type"], "text/html");
        assert_eq!(
            out.headers["set-cookie"], "old=1",
            "cookies left out are kept"
        );
        assert_eq!(out.body.as_deref(), Some(&b"gone"[..]));
        let big = "x".repeat(BODY_BYTES + 1);
        assert!(response_result(&input, &json!({"body": big})).is_err());
    }
}
