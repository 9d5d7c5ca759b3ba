//! What a function's result may be, per stage (docs/cloudfront-behaviour.md: "What a function may
//! return"): a changed request, a generated response, or a changed response. Anything else is a
//! validation failure that CloudFront answers with 502 — `Invalid` carries the viewer-facing
//! sentence and a log line naming exactly what was wrong.

use super::event::{FnRequest, FnResponse};
use super::headers::{self, is_disallowed, is_read_only};
use super::Stage;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// A result CloudFront would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The sentence on the error page (AWS's wording where known).
    pub message: String,
    /// What exactly was wrong, for the log.
    pub detail: String,
}

fn invalid(message: impl Into<String>, detail: impl Into<String>) -> Invalid {
    Invalid {
        message: message.into(),
        detail: detail.into(),
    }
}

const FAILED: &str = "The Lambda function result failed validation";

/// What a request-stage function decided.
#[derive(Debug)]
// Returned once per call and matched at once; boxing would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub enum RequestOutcome {
    Continue(FnRequest),
    Respond(FnResponse),
}

/// Checks the result of a function that must be an object at all.
fn object(result: &Value) -> Result<&serde_json::Map<String, Value>, Invalid> {
    match result {
        Value::Null => Err(invalid(
            "The Lambda function returned invalid JSON: The JSON output is not parsable.",
            "the function returned no result (null or undefined)",
        )),
        Value::Object(o) => Ok(o),
        other => Err(invalid(
            "The Lambda function returned invalid JSON: The JSON output must be an object type.",
            format!("the function returned {}", type_name(other)),
        )),
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates the result of a viewer-request or origin-request function. `untouched_headers`:
/// the result is the request the event gave and its headers were never read (they are not in
/// `result`; `input`'s stand, already valid).
pub fn request_result(
    stage: Stage,
    input: &FnRequest,
    include_body: bool,
    result: &Value,
    untouched_headers: bool,
) -> Result<RequestOutcome, Invalid> {
    let obj = object(result)?;
    if obj.contains_key("status") {
        return generated(stage, obj).map(RequestOutcome::Respond);
    }
    let uri = obj.get("uri").and_then(Value::as_str).ok_or_else(|| {
        invalid(
            format!("{FAILED}: The request object is missing a valid uri."),
            "request.uri is missing or not a string",
        )
    })?;
    if !uri.starts_with('/') || uri.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid(
            "The Lambda function returned an invalid URI format.",
            format!(
                "request.uri {uri:?} must start with '/' and have no spaces or control characters"
            ),
        ));
    }
    let querystring = match obj.get("querystring") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(invalid(
                format!("{FAILED}: The querystring must be a string."),
                format!("request.querystring is {}", type_name(other)),
            ))
        }
    };
    if querystring
        .chars()
        .any(|c| c.is_control() || c == ' ' || c == '#')
    {
        return Err(invalid(
            format!("{FAILED}: The query string contains invalid characters."),
            format!("request.querystring {querystring:?} has a space, '#' or a control character"),
        ));
    }
    if uri.len() + querystring.len() >= 8192 {
        return Err(invalid(
            format!("{FAILED}: The URI and query string are too long."),
            format!(
                "uri + querystring is {} characters; the limit is 8,192",
                uri.len() + querystring.len()
            ),
        ));
    }
    let mut out = input.clone();
    if !untouched_headers {
        let new_headers = required_headers(obj, "request")?;
        check_headers(stage, &input.headers, &new_headers)?;
        out.headers = merge_hidden(&input.headers, new_headers);
    }
    out.uri = uri.to_string();
    out.querystring = querystring.to_string();
    if include_body {
        if let Some(b) = obj
            .get("body")
            .filter(|b| b.get("action").and_then(Value::as_str) == Some("replace"))
        {
            out.body = replacement_body(stage, b)?;
        }
    }
    if stage == Stage::OriginRequest {
        if let Some(o) = obj.get("origin") {
            out.origin = Some(super::origin::FnOrigin::from_event(o)?);
        }
    }
    Ok(RequestOutcome::Continue(out))
}

/// The stage's size limit (docs/cloudfront-behaviour.md: "Size limits") for `what`.
fn within_limit(stage: Stage, size: usize, what: &str) -> Result<(), Invalid> {
    let limit = stage.size_limit();
    if size <= limit {
        return Ok(());
    }
    Err(invalid(
        format!(
            "{FAILED}: The {what} is larger than the {} KB limit.",
            limit / 1024
        ),
        format!("{what} is {size} bytes; the {stage} limit is {limit} bytes"),
    ))
}

/// The `headers` a request or response object must have.
fn required_headers(
    obj: &serde_json::Map<String, Value>,
    what: &str,
) -> Result<HeaderMap, Invalid> {
    match obj.get("headers") {
        Some(h) => headers::from_event(h)
            .map_err(|e| invalid(e.message(), format!("{what}.headers: {e:?}"))),
        None => Err(invalid(
            format!("{FAILED}: The {what} object is missing headers."),
            format!("{what}.headers is missing"),
        )),
    }
}

/// Headers functions never see (disallowed ones) stay as they were.
pub(crate) fn merge_hidden(input: &HeaderMap, mut new: HeaderMap) -> HeaderMap {
    for (n, v) in input.iter().filter(|(n, _)| is_disallowed(n.as_str())) {
        new.append(n.clone(), v.clone());
    }
    new
}

/// Read-only headers must come back exactly as they went in; disallowed ones may not appear.
pub(crate) fn check_headers(
    stage: Stage,
    before: &HeaderMap,
    after: &HeaderMap,
) -> Result<(), Invalid> {
    for name in after.keys() {
        let n = name.as_str();
        if is_disallowed(n) {
            return Err(invalid(
                format!(
                    "{FAILED}: The function tried to add, delete, or change a disallowed header."
                ),
                format!(
                    "the function tried to add disallowed header, headerName : {}",
                    headers::title_case(n)
                ),
            ));
        }
        if stage == Stage::ViewerRequest
            && n == "cloudfront-viewer-country"
            && !before.contains_key(n)
        {
            return Err(invalid(
                format!("{FAILED}: The function tried to add a header that can't be added in a viewer request."),
                "the function tried to add CloudFront-Viewer-Country at viewer-request",
            ));
        }
    }
    let names = before
        .keys()
        .chain(after.keys())
        .filter(|n| is_read_only(stage, n.as_str()));
    for name in names {
        let a: Vec<_> = before.get_all(name).iter().collect();
        let b: Vec<_> = after.get_all(name).iter().collect();
        if a != b {
            let verb = if b.is_empty() {
                "delete"
            } else if a.is_empty() {
                "add"
            } else {
                "change"
            };
            return Err(invalid(
                format!(
                    "{FAILED}: The function tried to add, delete, or change a read-only header."
                ),
                format!(
                    "the function tried to {verb} read-only header, headerName : {}",
                    headers::title_case(name.as_str())
                ),
            ));
        }
    }
    Ok(())
}

fn decode_body(data: &str, encoding: &str, field: &str) -> Result<Bytes, Invalid> {
    match encoding {
        "text" => Ok(Bytes::copy_from_slice(data.as_bytes())),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(data)
            .map(Bytes::from)
            .map_err(|e| {
                invalid(
                    format!("{FAILED}: The body is not valid base64."),
                    format!("{field}: {e}"),
                )
            }),
        other => Err(invalid(
            format!("{FAILED}: The body encoding must be text or base64."),
            format!("{field} encoding {other:?}"),
        )),
    }
}

/// A replaced request body, truncated at the stage's limit as CloudFront documents.
fn replacement_body(stage: Stage, b: &Value) -> Result<Bytes, Invalid> {
    let data = b.get("data").and_then(Value::as_str).unwrap_or("");
    let encoding = b
        .get("encoding")
        .and_then(Value::as_str)
        .unwrap_or("base64");
    let limit = stage.size_limit();
    let max = if encoding == "base64" {
        limit * 133 / 100
    } else {
        limit
    };
    let data = if data.len() > max {
        tracing::warn!(stage = %stage, size = data.len(), limit = max, "replacement body truncated at the stage limit");
        // Stay on a character boundary.
        let mut end = max;
        while !data.is_char_boundary(end) {
            end -= 1;
        }
        &data[..end - if encoding == "base64" { end % 4 } else { 0 }]
    } else {
        data
    };
    decode_body(data, encoding, "request.body.data")
}

fn status_of(v: Option<&Value>) -> Result<StatusCode, Invalid> {
    let n = match v {
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    };
    match n.and_then(|n| StatusCode::from_u16(n).ok()) {
        Some(s) if (200..=599).contains(&s.as_u16()) => Ok(s),
        _ => Err(invalid(
            format!("{FAILED}: The status code must be between 200 and 599."),
            format!(
                "status {} is not a number from 200 to 599",
                v.map_or("missing".into(), |v| v.to_string())
            ),
        )),
    }
}

fn response_headers(obj: &serde_json::Map<String, Value>) -> Result<HeaderMap, Invalid> {
    match obj.get("headers") {
        None | Some(Value::Null) => Ok(HeaderMap::new()),
        Some(h) => headers::from_event(h)
            .map_err(|e| invalid(e.message(), format!("response.headers: {e:?}"))),
    }
}

fn response_body(obj: &serde_json::Map<String, Value>) -> Result<Option<Bytes>, Invalid> {
    match obj.get("body") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let enc = obj
                .get("bodyEncoding")
                .and_then(Value::as_str)
                .unwrap_or("text");
            decode_body(s, enc, "response.body").map(Some)
        }
        Some(other) => Err(invalid(
            format!("{FAILED}: The body must be a string."),
            format!("response.body is {}", type_name(other)),
        )),
    }
}

/// A response generated by a request-stage function.
fn generated(stage: Stage, obj: &serde_json::Map<String, Value>) -> Result<FnResponse, Invalid> {
    let status = status_of(obj.get("status"))?;
    let headers = response_headers(obj)?;
    if let Some(n) = headers.keys().find(|n| is_disallowed(n.as_str())) {
        return Err(invalid(
            format!("{FAILED}: The function tried to add, delete, or change a disallowed header."),
            format!(
                "generated response has disallowed header, headerName : {}",
                headers::title_case(n.as_str())
            ),
        ));
    }
    let body = response_body(obj)?;
    if stage == Stage::ViewerRequest
        && status == StatusCode::NO_CONTENT
        && body.as_ref().is_some_and(|b| !b.is_empty())
    {
        return Err(invalid(
            format!("{FAILED}: A 204 response can't have a body."),
            "viewer-request generated status 204 with a body",
        ));
    }
    let size = body.as_ref().map_or(0, |b| b.len())
        + headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    within_limit(stage, size, "generated response")?;
    Ok(FnResponse {
        status,
        status_description: obj
            .get("statusDescription")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        headers,
        body: Some(body.unwrap_or_default()),
    })
}

/// Validates the result of an origin-response or viewer-response function. A viewer-response
/// function may not change the status: the change is ignored with a warning, or refused when
/// `strict`.
pub fn response_result(
    stage: Stage,
    input: &FnResponse,
    result: &Value,
    strict: bool,
    untouched_headers: bool,
) -> Result<FnResponse, Invalid> {
    let obj = object(result)?;
    let mut status = status_of(obj.get("status"))?;
    if stage == Stage::ViewerResponse && status != input.status {
        if strict {
            return Err(invalid(
                format!("{FAILED}: The function tried to change the status of a viewer response."),
                format!(
                    "status changed from {} to {}",
                    input.status.as_u16(),
                    status.as_u16()
                ),
            ));
        }
        tracing::warn!(
            from = input.status.as_u16(),
            to = status.as_u16(),
            "viewer-response function changed the status; CloudFront ignores that"
        );
        status = input.status;
    }
    let headers = if untouched_headers {
        None
    } else {
        let headers = required_headers(obj, "response")?;
        check_headers(stage, &input.headers, &headers)?;
        Some(headers)
    };
    let body = response_body(obj)?;
    if let Some(b) = &body {
        within_limit(stage, b.len(), "response body")?;
    }
    Ok(FnResponse {
        status,
        status_description: obj
            .get("statusDescription")
            .and_then(Value::as_str)
            .map_or_else(|| input.status_description.clone(), str::to_string),
        headers: match headers {
            Some(h) => merge_hidden(&input.headers, h),
            None => input.headers.clone(),
        },
        body: body.or_else(|| input.body.clone()),
    })
}

#[cfg(test)]
mod tests;
