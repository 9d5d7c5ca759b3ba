//! The event a CloudFront function receives, written straight to JSON text in AWS's key order
//! (`../shared/lambda-edge/events/aws-docs/cloudfront-functions-viewer-response-event.json`
//! is AWS's sample): `{version, context, viewer, request, response}`, each query parameter,
//! header and cookie as `{value}` plus `multiValue` when it occurs more than once, lowercase
//! header names, `Cookie` and `Set-Cookie` only as `cookies`.
//!
//! Query string names and values are passed as the viewer sent them (not decoded), so a
//! function that returns them unchanged forwards the same bytes.

use crate::lambda::event::{
    part, string, utf16_at, write_config, EventConfig, FnRequest, FnResponse,
};
use crate::lambda::Stage;
use crate::viewer::headers::Added;
use http::header::{COOKIE, SET_COOKIE};
use http::HeaderMap;

/// Writes the event for `stage` into `out` (cleared first).
pub fn write(
    out: &mut String,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
) {
    write_parts(out, None, stage, cfg, req, resp);
}

/// Like `write`, but the query string, headers and cookies of the request go into `parts`,
/// each replaced in `out` by its `[start,end]` byte range there: the runtime parses a part
/// only when the function first reads it, and leaves the parts it never read out of the
/// request it returns (docs/request-path.md: "A hook pays for what it touches").
pub fn write_lazy(
    out: &mut String,
    parts: &mut String,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
) {
    parts.clear();
    write_parts(out, Some(parts), stage, cfg, req, resp);
}

fn write_parts(
    out: &mut String,
    mut parts: Option<&mut String>,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
) {
    out.clear();
    out.push_str(r#"{"version":"1.0","context":"#);
    write_config(out, stage, cfg);
    out.push_str(r#","viewer":{"ip":"#);
    string(out, &req.client_ip);
    out.push_str(r#"},"request":{"method":"#);
    string(out, req.method.as_str());
    out.push_str(r#","uri":"#);
    string(out, &req.uri);
    out.push_str(r#","querystring":"#);
    part(out, &mut parts, |out| {
        write_values(out, query_pairs(&req.querystring))
    });
    out.push_str(r#","headers":"#);
    part(out, &mut parts, |out| {
        write_headers(out, &req.headers, &COOKIE, cfg.viewer_headers)
    });
    out.push_str(r#","cookies":"#);
    part(out, &mut parts, |out| {
        write_values(out, cookie_pairs(&req.headers))
    });
    out.push('}');
    if let Some(resp) = resp {
        out.push_str(r#","response":{"statusCode":"#);
        out.push_str(itoa::Buffer::new().format(resp.status.as_u16()));
        out.push_str(r#","statusDescription":"#);
        string(out, &resp.status_description);
        // The response is written whole: a viewer-response function nearly always reads its
        // headers, and lazy parts measured slower there (bench/RESULTS.md, 2026-12-03).
        out.push_str(r#","headers":"#);
        write_headers(out, &resp.headers, &SET_COOKIE, Added::NONE);
        out.push_str(r#","cookies":"#);
        write_values(out, set_cookie_items(&resp.headers));
        out.push('}');
    }
    out.push('}');
}

/// The same event as `write` builds it, made as engine objects (js/qjs.rs): no JSON text on
/// either side of the call. Keys, order and values are `write`'s. The request's query string,
/// headers and cookies go into `parts` as `write_lazy` puts them (the runtime makes them on
/// first read: a viewer-response function seldom reads them); the response is built whole
/// (its function nearly always reads its headers). The fidelity table (js/lazy_tests.rs) runs
/// every case built and as plain JSON.
pub fn build(
    b: &mut crate::js::qjs::Builder,
    parts: &mut String,
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
) -> Option<crate::js::qjs::JsValue> {
    b.object();
    b.key("version");
    b.string("1.0");
    b.key("context");
    b.object();
    b.key("distributionDomainName");
    b.string(cfg.distribution_domain);
    b.key("distributionId");
    b.string(cfg.distribution_id);
    b.key("eventType");
    b.string(stage.as_str());
    b.key("requestId");
    b.string(cfg.request_id);
    b.close();
    b.key("viewer");
    b.object();
    b.key("ip");
    b.string(&req.client_ip);
    b.close();
    b.key("request");
    b.object();
    b.key("method");
    b.string(req.method.as_str());
    b.key("uri");
    b.string(&req.uri);
    // The lazy parts: accessors of the runtime (runtime.js `built`), their JSON text in
    // `parts`, and where each is, stamped on the request as `lazy()` in runtime.js would.
    let start = parts.len();
    b.key("querystring");
    b.lazy(0);
    write_values(parts, query_pairs(&req.querystring));
    let querystring = parts.len();
    b.key("headers");
    b.lazy(1);
    write_headers(parts, &req.headers, &COOKIE, cfg.viewer_headers);
    let headers = parts.len();
    b.key("cookies");
    b.lazy(2);
    write_values(parts, cookie_pairs(&req.headers));
    b.close();
    // `[text, end of the query string, end of the headers]` (runtime.js `part`).
    let at = |i: usize| (utf16_at(parts, i) - utf16_at(parts, start)) as i32;
    b.array();
    b.string(&parts[start..]);
    b.number(at(querystring));
    b.number(at(headers));
    b.stamp();
    if let Some(resp) = resp {
        b.key("response");
        b.object();
        b.key("statusCode");
        b.number(i32::from(resp.status.as_u16()));
        b.key("statusDescription");
        b.string(&resp.status_description);
        b.key("headers");
        build_headers(b, &resp.headers, &SET_COOKIE);
        b.key("cookies");
        build_values(b, set_cookie_items(&resp.headers));
        b.close();
    }
    b.close()
}

fn build_values<'a>(b: &mut crate::js::qjs::Builder, items: impl Iterator<Item = Item<'a>>) {
    b.object();
    for (name, values) in grouped(items) {
        b.name(name);
        // `write_values`' shape: the first value, and `multiValue` with all when several.
        b.object();
        value_fields(b, values[0]);
        if values.len() > 1 {
            b.key("multiValue");
            b.array();
            for v in &values {
                b.object();
                value_fields(b, *v);
                b.close();
            }
            b.close();
        }
        b.close();
    }
    b.close();
}

/// `build_values` for headers, which the map already groups by name: nothing allocated.
fn build_headers(b: &mut crate::js::qjs::Builder, headers: &HeaderMap, skip: &http::HeaderName) {
    b.object();
    for k in headers
        .keys()
        .filter(|k| *k != skip && !crate::lambda::headers::is_disallowed(k.as_str()))
    {
        let mut values = headers.get_all(k).iter();
        let Some(first) = values.next() else { continue };
        b.name(k.as_str());
        b.object();
        value_fields(b, (header_text(first), None));
        if values.next().is_some() {
            b.key("multiValue");
            b.array();
            for v in headers.get_all(k) {
                b.object();
                value_fields(b, (header_text(v), None));
                b.close();
            }
            b.close();
        }
        b.close();
    }
    b.close();
}

fn header_text(v: &http::HeaderValue) -> &str {
    std::str::from_utf8(v.as_bytes()).unwrap_or("")
}

fn value_fields(b: &mut crate::js::qjs::Builder, (value, attributes): Entry<'_>) {
    b.key("value");
    b.string(value);
    if let Some(a) = attributes {
        b.key("attributes");
        b.string(a);
    }
}

/// A response's `Set-Cookie` headers as the event's cookies: (name, value, attributes).
fn set_cookie_items(headers: &HeaderMap) -> impl Iterator<Item = Item<'_>> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| {
            let (pair, attributes) = match c.split_once(';') {
                Some((p, a)) => (p, Some(a.trim())),
                None => (c, Some("")),
            };
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.trim(), v.trim(), attributes)
        })
}

/// A query string's parameters as the event names them: (name, value, no attributes).
pub(crate) fn query_pairs(querystring: &str) -> impl Iterator<Item = Item<'_>> {
    querystring.split('&').filter(|p| !p.is_empty()).map(pair)
}

/// The cookies of a request's `Cookie` headers, in order.
pub(crate) fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = Item<'_>> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(pair)
}

/// (name, value, cookie attributes).
pub(crate) type Item<'a> = (&'a str, &'a str, Option<&'a str>);

/// `name=value` (or a bare `name`, value "") as an entry without attributes.
fn pair(p: &str) -> (&str, &str, Option<&str>) {
    p.split_once('=')
        .map_or((p, "", None), |(k, v)| (k, v, None))
}

/// Headers but `skip` and those functions never see, each name once: `{value}` of the first,
/// `multiValue` of all when there are several.
/// The headers as `write_values` writes them, straight from the map (which already groups values by
/// name: nothing allocated), with `viewer`'s headers in place of the request's own of those
/// names, after the rest.
fn write_headers(
    out: &mut String,
    headers: &HeaderMap,
    skip: &http::HeaderName,
    viewer: Added<'_>,
) {
    out.push('{');
    let mut first = true;
    let mut entry =
        |out: &mut String, name: &str, values: &mut dyn Iterator<Item = &http::HeaderValue>| {
            let Some(one) = values.next() else { return };
            if !std::mem::take(&mut first) {
                out.push(',');
            }
            string(out, name);
            out.push(':');
            write_value(out, (header_text(one), None));
            if let Some(two) = values.next() {
                out.pop();
                out.push_str(r#","multiValue":["#);
                write_value(out, (header_text(one), None));
                for v in std::iter::once(two).chain(values) {
                    out.push(',');
                    write_value(out, (header_text(v), None));
                }
                out.push_str("]}");
            }
        };
    for k in headers.keys().filter(|k| {
        *k != skip && !crate::lambda::headers::is_disallowed(k.as_str()) && !viewer.hides(k)
    }) {
        entry(out, k.as_str(), &mut headers.get_all(k).iter());
    }
    for (k, v) in viewer.values {
        entry(out, k.as_str(), &mut std::iter::once(v));
    }
    out.push('}');
}

/// One value and its cookie attributes.
pub(crate) type Entry<'a> = (&'a str, Option<&'a str>);

/// `{name: {value, [attributes], [multiValue]}}` from (name, value, attributes) in order; the
/// entries of one name need not be next to each other.
fn write_values<'a>(out: &mut String, items: impl Iterator<Item = Item<'a>>) {
    let grouped = grouped(items);
    out.push('{');
    for (i, (name, values)) in grouped.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, name);
        out.push(':');
        write_value(out, values[0]);
        if values.len() > 1 {
            out.pop();
            out.push_str(r#","multiValue":["#);
            for (j, v) in values.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_value(out, *v);
            }
            out.push_str("]}");
        }
    }
    out.push('}');
}

/// Entries grouped by name in the order each name first occurs: the event's keys.
pub(crate) fn grouped<'a>(items: impl Iterator<Item = Item<'a>>) -> Vec<(&'a str, Vec<Entry<'a>>)> {
    let mut grouped: Vec<(&str, Vec<Entry<'_>>)> = Vec::new();
    for (k, v, a) in items {
        match grouped.iter_mut().find(|(name, _)| *name == k) {
            Some((_, vs)) => vs.push((v, a)),
            None => grouped.push((k, vec![(v, a)])),
        }
    }
    grouped
}

fn write_value(out: &mut String, (value, attributes): Entry<'_>) {
    out.push_str(r#"{"value":"#);
    string(out, value);
    if let Some(a) = attributes {
        out.push_str(r#","attributes":"#);
        string(out, a);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{HeaderValue, Method, StatusCode};
    use serde_json::Value;

    fn sample() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/lambda-edge/events/aws-docs/cloudfront-functions-viewer-response-event.json"
        );
        serde_json::from_str(
            &std::fs::read_to_string(path).expect("the AWS sample beside the repository"),
        )
        .unwrap()
    }

    /// The request and response of AWS's sample, as the node would hold them.
    fn held() -> (FnRequest, FnResponse) {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("host", "video.example.com"),
            ("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:83.0) Gecko/20100101 Firefox/83.0"),
            ("accept", "application/json"),
            ("accept", "application/xml"),
            ("accept", "text/html"),
            ("accept-language", "en-GB,en;q=0.5"),
            ("accept-encoding", "gzip, deflate, br"),
            ("origin", "https://website.example.com"),
            ("referer", "https://website.example.com/videos/12345678?action=play"),
            ("cloudfront-viewer-country", "GB"),
            ("cookie", "Cookie1=value1; Cookie2=value2; cookie_consent=true; cookiemv=value3; cookiemv=value4"),
        ] {
            h.append(k, HeaderValue::from_static(v));
        }
        let mut r = HeaderMap::new();
        for (k, v) in [
            ("date", "Mon, 04 Apr 2021 18:57:56 GMT"),
            ("server", "gunicorn/19.9.0"),
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
            ("content-type", "application/json"),
            ("content-length", "701"),
            ("set-cookie", "ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT"),
            ("set-cookie", "Cookie1=val1; Secure; Path=/; Domain=example.com; Expires=Wed, 05 Apr 2021 07:28:00 GMT"),
            ("set-cookie", "Cookie1=val2; Path=/cat; Domain=example.com; Expires=Wed, 10 Jan 2021 07:28:00 GMT"),
        ] {
            r.append(k, HeaderValue::from_static(v));
        }
        (
            FnRequest {
                client_ip: "198.51.100.11".into(),
                method: Method::GET,
                uri: "/media/index.mpd".into(),
                querystring:
                    "ID=42&Exp=1619740800&TTL=1440&NoValue=&querymv=val1&querymv=val2,val3".into(),
                headers: h,
                body: Bytes::new(),
                origin: None,
            },
            FnResponse {
                status: StatusCode::OK,
                status_description: "OK".into(),
                headers: r,
                body: None,
            },
        )
    }

    #[test]
    fn the_event_is_aws_sample_byte_for_byte_as_json() {
        let (req, resp) = held();
        let mut out = String::new();
        let cfg = EventConfig {
            distribution_domain: "d111111abcdef8.cloudfront.net",
            distribution_id: "EDFDVBD6EXAMPLE",
            request_id: "EXAMPLEntjQpEXAMPLE_SG5Z-EXAMPLEPmPfEXAMPLEu3EqEXAMPLE==",
            viewer_headers: crate::viewer::headers::Added::NONE,
        };
        write(&mut out, Stage::ViewerResponse, cfg, &req, Some(&resp));
        let ours: Value = serde_json::from_str(&out).unwrap();
        let aws = sample();
        // Same values and the same key order everywhere.
        assert_eq!(
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&aws).unwrap()
        );
        // A viewer-request event has no response.
        write(&mut out, Stage::ViewerRequest, cfg, &req, None);
        let vr: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(vr["context"]["eventType"], "viewer-request");
        assert!(vr.get("response").is_none());
        assert_eq!(vr["request"], aws["request"]);
    }
}
