//! CloudFront Functions through a real edge node: the event against AWS's sample, rewrites,
//! generated answers, a changed response, every error CloudFront names, and the refusals of
//! code and associations CloudFront would refuse.

use crate::configs::{x_cache, NodeToml};
use crate::harness::*;
use serde_json::Value;

fn js(source: &str) -> (String, tempfile::TempPath) {
    let p = write_temp(source);
    (p.to_str().unwrap().to_string(), p)
}

fn aws_sample() -> Value {
    let path = format!(
        "{}/../../shared/lambda-edge/events/aws-docs/cloudfront-functions-viewer-response-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// MaxMind's test city database beside the repository (81.2.69.142 is in GB in it).
fn maxmind_city() -> String {
    format!(
        "{}/../../shared/geo/maxmind-test-data/GeoIP2-City-Test.mmdb",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn events_have_the_shape_of_aws_sample_at_both_stages() {
    let origin = origin();
    // viewer-request answers /vreq itself with its event; viewer-response replaces the body
    // with its event (CloudFront Functions may change a response's body).
    let (vreq, _a) = js("function handler(event) {\n  if (event.request.uri === '/vreq') return { statusCode: 200, body: JSON.stringify(event) };\n  return event.request;\n}");
    let (vres, _b) = js("async function handler(event) {\n  const r = event.response;\n  r.body = { data: JSON.stringify(event), encoding: 'text' };\n  return r;\n}");
    // The query string and cookies forwarded, so the origin's Set-Cookie reaches the viewer (and viewer-response).
    let cfg = NodeToml::for_origin(&origin)
        .cache_policy("QueryStringBehavior", "all")
        .origin_request_policy("CookieBehavior", "all")
        .cloudfront_function("viewer-request", &vreq, "cloudfront-js-1.0")
        .cloudfront_function("viewer-response", &vres, "cloudfront-js-2.0");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    let aws = aws_sample();
    let viewer = [
        ("accept", "application/json"),
        ("cookie", "Cookie1=value1; cookiemv=value3; cookiemv=value4"),
        ("x-Mixed-Case", "kept"),
    ];
    let r = get_with(
        &format!(
            "{}/vreq?ID=42&NoValue=&querymv=val1&querymv=val2,val3",
            edge.base
        ),
        &viewer,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.x_cache(), x_cache::FUNCTION_GENERATED);
    let e: Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(
        keys(&e),
        keys(&aws)[..4],
        "version, context, viewer, request"
    );
    assert_eq!(keys(&e["context"]), keys(&aws["context"]));
    assert_eq!(e["context"]["eventType"], "viewer-request");
    assert_eq!(keys(&e["request"]), keys(&aws["request"]));
    assert_eq!(
        e["request"]["querystring"]["ID"],
        serde_json::json!({"value": "42"})
    );
    assert_eq!(
        e["request"]["querystring"]["NoValue"],
        serde_json::json!({"value": ""})
    );
    assert_eq!(
        e["request"]["querystring"]["querymv"],
        aws["request"]["querystring"]["querymv"]
    );
    assert_eq!(
        e["request"]["cookies"]["cookiemv"],
        aws["request"]["cookies"]["cookiemv"]
    );
    assert_eq!(
        e["request"]["cookies"]["Cookie1"],
        aws["request"]["cookies"]["Cookie1"]
    );
    let headers = e["request"]["headers"].as_object().unwrap();
    assert!(
        headers.get("cookie").is_none(),
        "cookies are not headers: {headers:?}"
    );
    assert_eq!(
        headers["x-mixed-case"],
        serde_json::json!({"value": "kept"}),
        "names are lowercase"
    );
    assert!(
        headers.keys().all(|k| !k.starts_with("x-amz-cf-")),
        "{headers:?}"
    );

    let r = get_with(
        &format!("{}/page?set_cookie=ID%3Did1234%3B%20Path%3D%2F", edge.base),
        &viewer,
    )
    .await;
    assert_eq!(r.status, 200);
    let e: Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(keys(&e), keys(&aws));
    assert_eq!(e["context"]["eventType"], "viewer-response");
    assert_eq!(keys(&e["response"]), keys(&aws["response"]));
    assert_eq!(
        e["response"]["statusCode"], 200,
        "a number: {}",
        e["response"]
    );
    assert_eq!(
        e["response"]["cookies"]["ID"],
        serde_json::json!({"value": "id1234", "attributes": "Path=/"}),
        "{}",
        e["response"]
    );
    assert!(e["response"]["headers"].get("set-cookie").is_none());
    assert!(e["response"]["headers"].get("content-type").is_some());
}

#[tokio::test]
async fn rewrites_redirects_and_changed_responses() {
    let origin = origin();
    // A URL rewrite (directory → index.html) and a redirect for /old.
    let (vreq, _a) = js(r#"function handler(event) {
  var request = event.request;
  if (request.uri === '/old') {
    return { statusCode: 301, statusDescription: 'Moved Permanently',
             headers: { location: { value: '/new' } },
             cookies: { seen: { value: '1', attributes: 'Path=/' } } };
  }
  if (request.uri.endsWith('/')) request.uri += 'index.html';
  request.headers['x-rewritten'] = { value: 'yes' };
  request.querystring = 'echo=1';
  return request;
}"#);
    // viewer-response: a 404 becomes a friendlier 200 body; every answer gets a header.
    let (vres, _b) = js(r#"function handler(event) {
  var response = event.response;
  response.headers['x-cff'] = { value: 'on' };
  if (event.request.uri === '/gone/index.html') {
    response.statusCode = 410;
    response.statusDescription = 'Gone';
    response.body = 'gone for good';
  }
  return response;
}"#);
    // What the function sets is forwarded as a viewer's would be: the query string by the cache
    // policy, the header by the origin request policy.
    let cfg = NodeToml::for_origin(&origin)
        .cache_policy("QueryStringBehavior", "all")
        .origin_request_policy("HeaderBehavior", "allViewer")
        .cloudfront_function("viewer-request", &vreq, "cloudfront-js-1.0")
        .cloudfront_function("viewer-response", &vres, "cloudfront-js-1.0");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);

    let r = get(&format!("{}/old", edge.base)).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), "/new");
    assert_eq!(r.header("set-cookie"), "seen=1; Path=/");
    assert_eq!(r.x_cache(), x_cache::FUNCTION_GENERATED);
    assert_eq!(
        r.header("x-cff"),
        "",
        "a generated answer skips viewer-response"
    );

    // The rewritten request reaches the origin: /echo/ → /echo/index.html with the header.
    let r = get(&format!("{}/echo/", edge.base)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let echo: Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(echo["path"], "/echo/index.html", "{echo}");
    assert_eq!(echo["headers"]["x-rewritten"], "yes", "{echo}");
    assert_eq!(echo["query"], "echo=1", "{echo}");
    assert_eq!(r.header("x-cff"), "on");

    let r = get(&format!("{}/gone/", edge.base)).await;
    assert_eq!(
        (r.status.as_u16(), r.text().as_str()),
        (410, "gone for good")
    );
    assert_eq!(r.header("content-length"), "13");
}

/// A function that changes only the URI (it never reads the query string, headers or cookies:
/// they stay in the node, js/runtime.js "lazy"), or reads them and gives them back unchanged,
/// forwards the viewer's bytes: the query string in its order with a bare `flag`, the cookies
/// and the headers as sent.
#[tokio::test]
async fn a_request_changed_only_in_its_uri_forwards_the_viewers_bytes() {
    let origin = origin();
    let (vreq, _a) = js(r#"function handler(event) {
  var request = event.request;
  if (request.uri === '/read') { var seen = [request.querystring, request.cookies, request.headers]; }
  request.uri = '/echo' + request.uri;
  return request;
}"#);
    let cfg = NodeToml::for_origin(&origin)
        .cache_policy("QueryStringBehavior", "all")
        .origin_request_policy("CookieBehavior", "all")
        .origin_request_policy("HeaderBehavior", "allViewer")
        .cloudfront_function("viewer-request", &vreq, "cloudfront-js-1.0");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    for path in ["/untouched", "/read"] {
        let r = get_with(
            &format!("{}{path}?b=2&flag&a=1&b=3", edge.base),
            &[("cookie", "s=1; t=2; s=3"), ("x-viewer", "As Sent")],
        )
        .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let echo: Value = serde_json::from_str(&r.text()).unwrap();
        assert_eq!(echo["path"], format!("/echo{path}"), "{echo}");
        assert_eq!(echo["query"], "b=2&flag&a=1&b=3", "{path}: {echo}");
        assert_eq!(echo["headers"]["cookie"], "s=1; t=2; s=3", "{path}: {echo}");
        assert_eq!(echo["headers"]["x-viewer"], "As Sent", "{path}: {echo}");
    }
}

#[tokio::test]
async fn failures_answer_as_cloudfront_names_them() {
    let origin = origin();
    let (vreq, _a) = js(r#"function handler(event) {
  var uri = event.request.uri;
  if (uri === '/throw') throw new Error('boom');
  if (uri === '/nothing') return undefined;
  if (uri === '/upper') { event.request.headers['X-Upper'] = { value: '1' }; return event.request; }
  if (uri === '/host') { event.request.headers.host = { value: 'elsewhere' }; return event.request; }
  if (uri === '/loop') { while (true) {} }
  if (uri === '/timer') { setTimeout(function () {}, 1); }
  return event.request;
}"#);
    let cfg = NodeToml::for_origin(&origin)
        .node("viewer_function_timeout", 0.3)
        .cloudfront_function("viewer-request", &vreq, "cloudfront-js-1.0");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    for (path, status, xc) in [
        ("/throw", 503, x_cache::FUNCTION_EXECUTION_ERROR),
        ("/timer", 503, x_cache::FUNCTION_EXECUTION_ERROR),
        ("/nothing", 502, x_cache::FUNCTION_VALIDATION_ERROR),
        ("/upper", 502, x_cache::FUNCTION_VALIDATION_ERROR),
        ("/host", 502, x_cache::FUNCTION_VALIDATION_ERROR),
        ("/loop", 503, x_cache::FUNCTION_THROTTLED_ERROR),
    ] {
        let r = get(&format!("{}{path}", edge.base)).await;
        assert_eq!(
            (r.status.as_u16(), r.x_cache()),
            (status, xc),
            "{path}: {}",
            r.text()
        );
        assert!(
            r.text().contains("CloudFront function"),
            "{path}: {}",
            r.text()
        );
    }
    // The node keeps serving.
    let r = get(&format!("{}/fine", edge.base)).await;
    assert_eq!(r.status, 200);
    let logs = edge.proc.wait_for_log("setTimeout is not defined");
    assert!(logs.contains("ReferenceError"), "{logs}");
}

#[tokio::test]
async fn code_and_associations_cloudfront_refuses_are_refused() {
    let origin = origin();
    let refused = |cfg: NodeToml| {
        let path = write_temp(&cfg.text());
        config_refused(&path)
    };
    let (v2, _a) = js("function handler(event) {\n  const r = event.request;\n  return r;\n}");
    let err = refused(NodeToml::for_origin(&origin).cloudfront_function(
        "viewer-request",
        &v2,
        "cloudfront-js-1.0",
    ));
    assert!(
        err.contains(":2:3: SyntaxError: Token \"const\" not supported in this version"),
        "{err}"
    );
    let (big, _b) = js(&format!(
        "function handler(e) {{ return e.request; }}\n// {}",
        "x".repeat(10 * 1024)
    ));
    let err = refused(NodeToml::for_origin(&origin).cloudfront_function(
        "viewer-request",
        &big,
        "cloudfront-js-2.0",
    ));
    assert!(
        err.contains("FunctionSizeLimitExceeded") && err.contains("10240"),
        "{err}"
    );
    let (ok, _c) = js("function handler(e) { return e.request; }");
    let err = refused(NodeToml::for_origin(&origin).cloudfront_function(
        "origin-request",
        &ok,
        "cloudfront-js-2.0",
    ));
    assert!(
        err.contains("InvalidFunctionAssociation")
            && err.contains("viewer-request and viewer-response"),
        "{err}"
    );
    let err = refused(NodeToml::for_origin(&origin).cloudfront_function(
        "viewer-request",
        &ok,
        "cloudfront-js-3.0",
    ));
    assert!(
        err.contains("cloudfront-js-1.0 or cloudfront-js-2.0"),
        "{err}"
    );
    let (nohandler, _d) = js("function main(e) { return e.request; }");
    let err = refused(NodeToml::for_origin(&origin).cloudfront_function(
        "viewer-request",
        &nohandler,
        "cloudfront-js-2.0",
    ));
    assert!(err.contains("no function named handler"), "{err}");
    // Lambda@Edge and CloudFront Functions do not mix in viewer events...
    let (lambda, _e) = js("exports.handler = async (e) => e.Records[0].cf.response;");
    let err = refused(
        NodeToml::for_origin(&origin)
            .cloudfront_function("viewer-request", &ok, "cloudfront-js-2.0")
            .function("viewer-response", &lambda),
    );
    assert!(
        err.contains("can't combine CloudFront Functions and Lambda@Edge in viewer events"),
        "{err}"
    );
    // ...but a CloudFront function at viewer-request pairs with Lambda@Edge at origin-response.
    let cfg = NodeToml::for_origin(&origin)
        .cloudfront_function("viewer-request", &ok, "cloudfront-js-2.0")
        .function("origin-response", &lambda);
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    assert_eq!(get(&format!("{}/both", edge.base)).await.status, 200);
}

#[tokio::test]
async fn the_examples_rewrite_and_redirect_through_an_edge() {
    let origin = origin();
    let geo = maxmind_city();
    let rewrite = format!("viewer-request={}", example("cff-url-rewrite.js"));
    let edge = edge_for(
        &origin,
        &[
            "--cloudfront-function",
            &rewrite,
            "--cloudfront-runtime",
            "cloudfront-js-1.0",
        ],
    );
    for (asked, origin_path) in [
        ("/echo/docs/", "/echo/docs/index.html"),
        ("/echo/docs", "/echo/docs/index.html"),
        ("/echo/app.js", "/echo/app.js"),
    ] {
        let r = get(&format!("{}{asked}", edge.base)).await;
        let echo: Value = serde_json::from_str(&r.text()).unwrap();
        assert_eq!(echo["path"], origin_path, "{asked}");
    }

    // The country redirect sees CloudFront-Viewer-Country at viewer-request (`--origin` names
    // every CloudFront-* header as forwarded). 81.2.69.142 is in GB in MaxMind's test data.
    let redirect = format!("viewer-request={}", example("cff-redirect-by-country.js"));
    let edge = edge_for(
        &origin,
        &[
            "--cloudfront-function",
            &redirect,
            "--geo-db",
            &geo,
            "--dev",
        ],
    );
    let gb = [("x-edge-viewer-ip", "81.2.69.142")];
    let r = get_with(&format!("{}/shop/boots?size=9", edge.base), &gb).await;
    assert_eq!(r.status, 302, "{}", r.text());
    assert_eq!(r.header("location"), "/uk/shop/boots?size=9");
    assert_eq!(r.x_cache(), x_cache::FUNCTION_GENERATED);
    let r = get_with(&format!("{}/uk/shop/boots", edge.base), &gb).await;
    assert_eq!(r.status, 200, "already on the country's path");
    let r = get_with(
        &format!("{}/shop/boots", edge.base),
        &[("x-edge-viewer-ip", "8.8.8.8")],
    )
    .await;
    assert_eq!(r.status, 200, "no store for this country: {}", r.text());
}

/// CloudFront's viewer headers in both events: the viewer's location at viewer-request (read
/// and returned with the request, which CloudFront accepts) and at viewer-response, CloudFront's
/// value in place of one the viewer sent itself, and none where the location is unknown.
#[tokio::test]
async fn both_stages_see_cloudfronts_viewer_headers_not_the_viewers_own() {
    let origin = origin();
    let geo = maxmind_city();
    let (vreq, _a) = js(r#"function handler(event) {
  var request = event.request, c = request.headers['cloudfront-viewer-country'];
  request.headers['x-vreq-saw'] = { value: c ? c.value : 'none' };
  if (request.headers['x-become-phone']) {
    request.headers['user-agent'] = { value: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148' };
  }
  return request;
}"#);
    let (vres, _b) = js(r#"function handler(event) {
  var response = event.response, h = event.request.headers, c = h['cloudfront-viewer-country'];
  response.headers['x-vres-saw'] = { value: c ? c.value : 'none' };
  response.headers['x-vres-mobile'] = { value: h['cloudfront-is-mobile-viewer'].value };
  return response;
}"#);
    let vreq = format!("viewer-request={vreq}");
    let vres = format!("viewer-response={vres}");
    let edge = edge_for(
        &origin,
        &[
            "--cloudfront-function",
            &vreq,
            "--cloudfront-function",
            &vres,
            "--geo-db",
            &geo,
            "--dev",
        ],
    );
    // 81.2.69.142 is in GB in MaxMind's test data; 8.8.8.8 is in none of it.
    // (Each on its own path: the country is forwarded, not in the cache key.)
    for (i, (ip, sent, country)) in [
        ("81.2.69.142", None, "GB"),
        ("81.2.69.142", Some("XX"), "GB"),
        ("8.8.8.8", Some("XX"), "none"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut headers = vec![("x-edge-viewer-ip", ip)];
        headers.extend(sent.map(|c| ("cloudfront-viewer-country", c)));
        let r = get_with(&format!("{}/echo/where/{i}", edge.base), &headers).await;
        assert_eq!(r.status, 200, "{ip} {sent:?}: {}", r.text());
        let echo: Value = serde_json::from_str(&r.text()).unwrap();
        assert_eq!(
            echo["headers"]["x-vreq-saw"], country,
            "{ip} {sent:?}: {echo}"
        );
        assert_eq!(r.header("x-vres-saw"), country, "{ip} {sent:?}");
        assert_eq!(r.header("x-vres-mobile"), "false", "{ip} {sent:?}");
    }
    // A user agent the viewer-request function changed is the one viewer-response's device
    // headers describe.
    let phone = [("x-edge-viewer-ip", "81.2.69.142"), ("x-become-phone", "1")];
    let r = get_with(&format!("{}/echo/where/phone", edge.base), &phone).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-vres-mobile"), "true");
    assert_eq!(r.header("x-vres-saw"), "GB");
}

/// With CloudFront-* headers both in the cache key and only forwarded, each stage's event
/// shows its own: viewer-request all the policies name, viewer-response the forwarded ones on
/// top of the request's (which carries the cache key's by then).
#[tokio::test]
async fn viewer_headers_in_the_cache_key_and_forwarded_reach_each_stage() {
    let origin = origin();
    let (vreq, _a) = js(r#"function handler(event) {
  var h = event.request.headers;
  return { statusCode: 200, statusDescription: 'OK', headers: {
    'x-country': { value: h['cloudfront-viewer-country'] ? h['cloudfront-viewer-country'].value : 'missing' },
    'x-mobile': { value: h['cloudfront-is-mobile-viewer'] ? h['cloudfront-is-mobile-viewer'].value : 'missing' } } };
}"#);
    let (vreq_pass, _b) = js("function handler(event) { return event.request; }");
    let (vres, _c) = js(r#"function handler(event) {
  var response = event.response, h = event.request.headers;
  response.headers['x-country'] = { value: h['cloudfront-viewer-country'] ? h['cloudfront-viewer-country'].value : 'missing' };
  response.headers['x-mobile'] = { value: h['cloudfront-is-mobile-viewer'] ? h['cloudfront-is-mobile-viewer'].value : 'missing' };
  return response;
}"#);
    let geo = maxmind_city();
    let gb = [("x-edge-viewer-ip", "81.2.69.142")];
    for (vreq, vres) in [(&vreq, None), (&vreq_pass, Some(&vres))] {
        let mut cfg = NodeToml::for_origin(&origin)
            .cache_policy("HeaderBehavior", "whitelist")
            .cache_policy("Headers", vec!["cloudfront-viewer-country"])
            .origin_request_policy("HeaderBehavior", "whitelist")
            .origin_request_policy("Headers", vec!["cloudfront-is-mobile-viewer"])
            .cloudfront_function("viewer-request", vreq, "cloudfront-js-2.0");
        if let Some(vres) = vres {
            cfg = cfg.cloudfront_function("viewer-response", vres, "cloudfront-js-2.0");
        }
        let (edge, _cfg) = edge_with_config(&cfg.text(), &["--geo-db", &geo, "--dev"]);
        let r = get_with(&format!("{}/echo/both", edge.base), &gb).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.header("x-country"),
            "GB",
            "viewer-response: {}",
            vres.is_some()
        );
        assert_eq!(
            r.header("x-mobile"),
            "false",
            "viewer-response: {}",
            vres.is_some()
        );
    }
}

#[tokio::test]
async fn compute_utilization_is_reported_and_a_function_always_over_budget_is_throttled() {
    let origin = origin();
    let (ok, _a) = js("function handler(event) { return event.request; }");
    // A generous budget: a trivial function stays far under it.
    let cfg = NodeToml::for_origin(&origin)
        .node("cloudfront_function_budget_us", 1_000_000)
        .cloudfront_function("viewer-request", &ok, "cloudfront-js-2.0");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    for _ in 0..30 {
        assert_eq!(get(&format!("{}/ok", edge.base)).await.status, 200);
    }
    let m = edge
        .admin_call(http::Method::GET, "/__edge/metrics", "")
        .await
        .text();
    let line = m
        .lines()
        .find(|l| l.starts_with("edge_function_compute_utilization{"))
        .unwrap_or_else(|| panic!("no utilization in\n{m}"));
    let value: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value < 100, "{line}");
    assert!(
        m.contains("edge_function_compute_utilization_sum_total{"),
        "{m}"
    );

    // A 1 µs budget: every call is over it; after 20 in a row the function is throttled (each
    // worker counts its own calls: one worker here).
    let cfg = NodeToml::for_origin(&origin)
        .node("cloudfront_function_budget_us", 1)
        .cloudfront_function("viewer-request", &ok, "cloudfront-js-2.0");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &["--workers", "1"]);
    for i in 0..20 {
        assert_eq!(
            get(&format!("{}/ok", edge.base)).await.status,
            200,
            "call {i}"
        );
    }
    let r = get(&format!("{}/ok", edge.base)).await;
    assert_eq!(
        (r.status.as_u16(), r.x_cache()),
        (503, x_cache::FUNCTION_THROTTLED_ERROR),
        "{}",
        r.text()
    );
    let m = edge
        .admin_call(http::Method::GET, "/__edge/metrics", "")
        .await
        .text();
    assert!(
        m.lines()
            .any(|l| l.starts_with("edge_function_compute_utilization{") && l.ends_with(" 100")),
        "{m}"
    );
    assert!(
        m.lines()
            .any(|l| l.starts_with("edge_function_throttles_total{") && !l.ends_with(" 0")),
        "{m}"
    );
    assert!(
        m.lines()
            .any(|l| l.starts_with("edge_function_errors_total{")
                && l.contains("kind=\"FunctionThrottledError\"")
                && !l.ends_with(" 0")),
        "errors of a CloudFront function carry CloudFront Functions' names: {m}"
    );
    // A budget that is not a number of microseconds is refused.
    let bad = NodeToml::for_origin(&origin).node("cloudfront_function_budget_us", 0);
    let path = write_temp(&bad.text());
    assert!(config_refused(&path).contains("cloudfront_function_budget_us"));
}

#[tokio::test]
async fn a_configuration_file_fills_key_value_stores_that_functions_read() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("redirects.json");
    std::fs::write(&store, r#"{"data":[{"key":"/go/a","value":"/a"}]}"#).unwrap();
    let write_cfg = |store_name: &str| {
        let mut doc: toml::Table = toml::from_str(
            &NodeToml::for_origin(&origin)
                .cloudfront_function(
                    "viewer-request",
                    &example("cff-kvs-redirects.js"),
                    "cloudfront-js-2.0",
                )
                .text(),
        )
        .unwrap();
        let b = doc["distributions"].as_array_mut().unwrap()[0]["DefaultCacheBehavior"]
            .as_table_mut()
            .unwrap();
        b["FunctionAssociations"].as_array_mut().unwrap()[0]
            .as_table_mut()
            .unwrap()
            .insert("KeyValueStore".into(), store_name.into());
        let mut s = toml::Table::new();
        s.insert("Name".into(), "redirects".into());
        s.insert("File".into(), store.to_str().unwrap().into());
        doc.insert(
            "key_value_stores".into(),
            toml::Value::Array(vec![s.into()]),
        );
        toml::to_string(&doc).unwrap()
    };
    let (edge, _cfg) = edge_with_config(&write_cfg("redirects"), &[]);
    let r = get(&format!("{}/go/a", edge.base)).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), "/a");
    assert_eq!(r.x_cache(), x_cache::FUNCTION_GENERATED);
    assert_eq!(get(&format!("{}/go/b", edge.base)).await.status, 200);

    // Refused, naming the item: an unknown store, a bad store file.
    let bad = write_temp(&write_cfg("nope"));
    let err = config_refused(bad.as_ref());
    assert!(
        err.contains("KeyValueStore") && err.contains("\"nope\""),
        "{err}"
    );
    std::fs::write(
        &store,
        r#"{"data":[{"key":"k","value":"1"},{"key":"k","value":"2"}]}"#,
    )
    .unwrap();
    let dup = write_temp(&write_cfg("redirects"));
    let err = config_refused(dup.as_ref());
    assert!(
        err.contains("key_value_stores[0].File") && err.contains("twice"),
        "{err}"
    );
}

/// The origin helpers of runtime 2.0 at viewer-request, against real origins: the mock origin
/// `mock` of the behavior, a second one, a bucket-like one that has no files (404s), and one
/// that is not listening.
#[tokio::test]
async fn origin_helpers_send_requests_to_the_origins_they_name() {
    let first = origin();
    let second = origin();
    let empty = tempfile::tempdir().unwrap();
    let files = origin_with_root(empty.path());
    let files_port: i64 = files
        .proc
        .addr("http")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let port = |o: &Origin| -> i64 { o.base.rsplit(':').next().unwrap().parse().unwrap() };
    let function = r#"import cf from 'cloudfront';
async function handler(event) {
  const r = event.request;
  const how = r.uri.split('/')[1];
  if (how === 'update') cf.updateRequestOrigin({ customOriginConfig: { port: SECOND, protocol: 'http' }, customHeaders: { 'x-chosen': 'update' } });
  if (how === 'select') cf.selectRequestOriginById('second');
  if (how === 'unknown') cf.selectRequestOriginById('nowhere');
  if (how === 'group-down') cf.createRequestOriginGroup({ originIds: ['down', 'second'], failoverCriteria: { statusCodes: [503] } });
  if (how === 'group-404') cf.createRequestOriginGroup({ originIds: ['files', 'second'], failoverCriteria: { statusCodes: [404] } });
  if (how === 'group-bad') cf.createRequestOriginGroup({ originIds: ['files', 'second'], failoverCriteria: { statusCodes: [200] } });
  if (how === 'nosuch') cf.updateRequestOrigin({ colour: 'blue' });
  r.uri = r.uri.slice(how.length + 1) || '/';
  return r;
}"#
    .replace("SECOND", &port(&second).to_string());
    let (file, _f) = js(&function);
    let mut doc: toml::Table = toml::from_str(
        &NodeToml::for_origin(&first)
            .behavior("MinTTL", 0)
            .behavior("DefaultTTL", 0)
            .behavior("MaxTTL", 0)
            .cloudfront_function("viewer-request", &file, "cloudfront-js-2.0")
            .text(),
    )
    .unwrap();
    let origins = doc["distributions"].as_array_mut().unwrap()[0]["Origins"]
        .as_array_mut()
        .unwrap();
    for (id, p) in [
        ("second", port(&second)),
        ("down", closed_port() as i64),
        ("files", files_port),
    ] {
        origins.push(
            toml::from_str::<toml::Table>(&format!(
                "Id = \"{id}\"\nDomainName = \"127.0.0.1\"\n[CustomOriginConfig]\nHTTPPort = {p}\nOriginProtocolPolicy = \"http-only\""
            ))
            .unwrap()
            .into(),
        );
    }
    let (edge, _cfg) = edge_with_config(&toml::to_string(&doc).unwrap(), &[]);
    let url = |p: &str| format!("{}{p}", edge.base);

    let (before_first, before_second) = (first.total().await, second.total().await);
    assert_eq!(get(&url("/stay/x")).await.status, 200);
    assert_eq!(
        first.total().await,
        before_first + 1,
        "no helper: the behavior's origin"
    );
    for (path, n) in [
        ("/update/x", 1),
        ("/select/x", 2),
        ("/group-down/x", 3),
        ("/group-404/x", 4),
    ] {
        let r = get(&url(path)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(
            second.total().await,
            before_second + n,
            "{path} reached the second origin"
        );
    }
    assert_eq!(
        first.total().await,
        before_first + 1,
        "the first origin saw none of them"
    );
    // The custom header the update named went along.
    let echo: Value = serde_json::from_str(&get(&url("/update/echo")).await.text()).unwrap();
    assert_eq!(echo["headers"]["x-chosen"], "update", "{echo}");

    // What CloudFront would refuse: the node names it.
    for (path, want) in [
        ("/unknown/x", "no origin with the Id \"nowhere\""),
        ("/group-bad/x", "200 is not one of"),
        ("/nosuch/x", "no setting \"colour\""),
    ] {
        let r = get(&url(path)).await;
        assert_eq!(r.status, 502, "{path}");
        assert_eq!(r.x_cache(), x_cache::FUNCTION_VALIDATION_ERROR, "{path}");
        let logs = edge.proc.wait_for_log(want);
        assert!(logs.contains(want), "{path}");
    }
}
