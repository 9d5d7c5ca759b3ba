//! response headers: a behavior's response headers policy applied to every answer it sends,
//! from the cache, the origin, a function or an error (docs/cloudfront-behaviour.md: "Response
//! headers policies"): listed headers removed first, then security and custom headers, CORS
//! headers for a request with an `Origin` the policy allows, and CloudFront's `Server-Timing`.

use super::RequestCtx;
use crate::config::response_headers::{Cors, ResponseHeadersPolicy};
use crate::http::body::EdgeBody;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response};
use std::fmt::Write;
use std::time::Instant;

static SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

pub(crate) fn apply(
    p: &ResponseHeadersPolicy,
    ctx: &RequestCtx,
    resp: &mut Response<EdgeBody>,
    pop: &str,
    start: Instant,
) {
    let h = resp.headers_mut();
    for name in &p.remove {
        h.remove(name);
        // CloudFront puts its own Server and Date in place of the origin's.
        if name == header::SERVER {
            h.insert(header::SERVER, HeaderValue::from_static("CloudFront"));
        } else if name == header::DATE {
            if let Ok(v) =
                HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
            {
                h.insert(header::DATE, v);
            }
        }
    }
    for a in &p.add {
        if a.origin_override || !h.contains_key(&a.name) {
            h.insert(a.name.clone(), a.value.clone());
        }
    }
    if let Some(c) = &p.cors {
        cors(c, &ctx.method, &ctx.headers, h);
    }
    if let Some(rate) = p.server_timing {
        let asked = ctx
            .headers
            .get_all(header::PRAGMA)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|d| d.trim().eq_ignore_ascii_case("server-timing"));
        if asked || fastrand::f64() * 100.0 < rate {
            server_timing(h, pop, &ctx.request_id, start);
        }
    }
}

/// CORS headers for a request whose `Origin` the policy allows: on a preflight (OPTIONS with
/// `Access-Control-Request-Method`) the allowed methods, headers and max age too.
fn cors(c: &Cors, method: &Method, request: &HeaderMap, h: &mut HeaderMap) {
    let Some(origin) = request.get(header::ORIGIN) else {
        return;
    };
    if !origin.to_str().is_ok_and(|o| c.allows(o)) {
        return;
    }
    let mut set = |name: HeaderName, value: HeaderValue| {
        if c.origin_override || !h.contains_key(&name) {
            h.insert(name, value);
        }
    };
    // `*` cannot go with credentials (browsers refuse it): the viewer's origin is named then.
    let allow_origin = if c.any_origin && !c.allow_credentials {
        HeaderValue::from_static("*")
    } else {
        origin.clone()
    };
    set(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    if c.allow_credentials {
        set(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    let preflight =
        method == Method::OPTIONS && request.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !c.allow_methods.is_empty() {
            set(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                c.allow_methods.clone(),
            );
        }
        if !c.allow_headers.is_empty() {
            set(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                c.allow_headers.clone(),
            );
        }
        if let Some(age) = &c.max_age {
            set(header::ACCESS_CONTROL_MAX_AGE, age.clone());
        }
    } else if let Some(expose) = &c.expose_headers {
        set(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
    }
}

/// CloudFront's `Server-Timing` metrics: how the cache answered, the POP, the request id and
/// the time to the first byte; after the origin's own `Server-Timing` on a miss, alone on a hit.
fn server_timing(h: &mut HeaderMap, pop: &str, request_id: &str, start: Instant) {
    let x_cache = h
        .get(&crate::http::respond::X_CACHE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut v = String::with_capacity(160);
    let origin: Vec<String> = h
        .get_all(&SERVER_TIMING)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let hit = x_cache.starts_with("Hit ");
    if x_cache.starts_with("Miss ") {
        for o in &origin {
            let _ = write!(v, "{o},");
        }
        v.push_str("cdn-upstream-layer;desc=\"EDGE\",cdn-cache-miss,");
    } else if hit {
        v.push_str("cdn-cache-hit,");
    } else if x_cache.starts_with("RefreshHit ") {
        v.push_str("cdn-cache-refresh,");
    }
    let _ = write!(v, "cdn-pop;desc=\"{pop}\",cdn-rid;desc=\"{request_id}\",");
    if hit {
        v.push_str("cdn-hit-layer;desc=\"EDGE\",");
    }
    let _ = write!(v, "cdn-downstream-fbl;dur={}", start.elapsed().as_millis());
    h.remove(&SERVER_TIMING);
    if let Ok(v) = HeaderValue::from_str(&v) {
        h.insert(SERVER_TIMING.clone(), v);
    }
}
