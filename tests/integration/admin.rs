//! The admin listener: health, invalidation and recycling isolates.

use crate::harness::*;
use bytes::Bytes;
use http::Method;

async fn invalidate(edge: &Edge, body: &str) -> Resp {
    edge.admin_call(Method::POST, "/__edge/invalidate", body)
        .await
}

#[tokio::test]
async fn health_answers() {
    let origin = origin();
    let edge = edge_for(&origin, &["--pop", "FRA56-C1"]);
    let r = get(&format!("{}/__edge/health", edge.admin)).await;
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["pop"], "FRA56-C1");
    assert_eq!(
        get(&format!("{}/x", edge.base))
            .await
            .header("x-amz-cf-pop"),
        "FRA56-C1"
    );
}

#[tokio::test]
async fn invalidation_drops_matching_objects() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    for p in ["/a/1", "/a/2", "/b.html"] {
        get(&format!("{}{p}", edge.base)).await;
    }
    let r = invalidate(&edge, r#"{"paths": ["/a/*"]}"#).await;
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["invalidated"], 2);
    assert_eq!(
        get(&format!("{}/a/1", edge.base)).await.x_cache(),
        x_cache::MISS
    );
    assert_eq!(
        get(&format!("{}/b.html", edge.base)).await.x_cache(),
        x_cache::HIT
    );
    let exact = invalidate(&edge, r#"{"paths": ["/b.html"]}"#).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&exact.body).unwrap()["invalidated"],
        1
    );
}

#[tokio::test]
async fn bad_invalidations_are_refused_with_a_reason() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    for (body, needle) in [
        (r#"{"paths": ["/a*b"]}"#, "last character"),
        (r#"{"paths": ["a"]}"#, "must start with '/'"),
        (r#"{"paths": []}"#, "at least one"),
        (r#"{"path": ["/a"]}"#, "expected"),
        ("not json", "expected"),
    ] {
        let r = invalidate(&edge, body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.text().contains(needle), "{body}: {}", r.text());
    }
}

#[tokio::test]
async fn recycling_replaces_every_isolate_and_the_function_keeps_serving() {
    // Module state lives as long as its isolate: a fresh isolate counts from 1 again.
    let f = write_temp(
        "let n = 0; exports.handler = async (e) => { const r = e.Records[0].cf.response; n += 1; r.headers['x-count'] = [{ value: String(n) }]; return r; };",
    );
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-response", f.to_str().unwrap())],
        &["--workers", "1"],
    );
    let url = format!("{}/x", edge.base);
    let mut counts = Vec::new();
    for _ in 0..5 {
        counts.push(get(&url).await.header("x-count").parse::<u32>().unwrap());
    }
    assert!(counts.iter().any(|c| *c > 1), "{counts:?}");
    let r = edge.admin_call(Method::POST, "/__edge/recycle", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["isolates"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(get(&url).await.header("x-count"), "1");
}

#[tokio::test]
async fn metrics_count_and_time_every_stage() {
    let f = write_temp(
        "exports.handler = async (e) => { const r = e.Records[0].cf.response; if (e.Records[0].cf.request.uri === '/boom') throw new Error('x'); return r; };",
    );
    let origin = origin();
    let edge = edge_with_functions(&origin, &[("viewer-response", f.to_str().unwrap())], &[]);
    // One miss, then two hits (over any worker), then a function error (a 404 from the
    // origin skips viewer-response, so the error comes from a cached 200).
    for _ in 0..3 {
        assert_eq!(
            get(&format!("{}/m?cache_control=max-age%3D60", edge.base))
                .await
                .status,
            200
        );
    }
    assert_eq!(get(&format!("{}/boom", edge.base)).await.status, 503);
    let r = edge.admin_call(Method::GET, "/__edge/metrics", "").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/plain"));
    let text = r.text();
    let value = |series: &str| -> f64 {
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .parse()
            .unwrap()
    };
    let stage =
        |s: &str| format!("edge_stage_duration_seconds_count{{pop=\"LOCAL1-C1\",stage=\"{s}\"}}");
    for (s, calls) in [
        ("request", 4.0),
        ("cache", 4.0),
        ("origin", 2.0),
        ("viewer-response", 4.0),
        ("viewer-request", 0.0),
    ] {
        assert_eq!(value(&stage(s)), calls, "{s}\n{text}");
    }
    let sum = |s: &str| {
        value(&format!(
            "edge_stage_duration_seconds_sum{{pop=\"LOCAL1-C1\",stage=\"{s}\"}}"
        ))
    };
    assert!(sum("viewer-response") > 0.0, "{text}");
    assert!(sum("request") >= sum("origin"));
    // p99 is computable: the +Inf bucket holds every request.
    assert_eq!(
        value(
            "edge_stage_duration_seconds_bucket{pop=\"LOCAL1-C1\",le=\"+Inf\",stage=\"request\"}"
        ),
        4.0
    );
    let answers = |x: &str, c: &str| {
        value(&format!(
            "edge_requests_total{{pop=\"LOCAL1-C1\",x_cache=\"{x}\",status_class=\"{c}\"}}"
        ))
    };
    assert_eq!(answers("Miss", "2xx"), 1.0, "{text}");
    assert_eq!(answers("Hit", "2xx"), 2.0, "{text}");
    assert_eq!(answers("LambdaExecutionError", "5xx"), 1.0, "{text}");
    // The function is named after its file (a temp file here): take its labels as written.
    let invocations = text
        .lines()
        .find(|l| l.starts_with("edge_function_invocations_total{"))
        .unwrap_or_else(|| panic!("no function in\n{text}"));
    let fnl = invocations["edge_function_invocations_total{".len()..]
        .split('}')
        .next()
        .unwrap()
        .to_string();
    assert!(
        fnl.starts_with("pop=\"LOCAL1-C1\",function=\"") && fnl.ends_with(",version=\"1\""),
        "{fnl}"
    );
    assert_eq!(
        value(&format!("edge_function_invocations_total{{{fnl}}}")),
        4.0,
        "{text}"
    );
    assert_eq!(
        value(&format!(
            "edge_function_errors_total{{{fnl},kind=\"LambdaExecutionError\"}}"
        )),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&format!("edge_function_throttles_total{{{fnl}}}")),
        0.0
    );
    assert_eq!(
        value(&format!("edge_function_duration_seconds_count{{{fnl}}}")),
        4.0
    );
    assert_eq!(
        value("edge_cache_objects{pop=\"LOCAL1-C1\"}"),
        2.0,
        "{text}"
    );
    assert_eq!(
        value("edge_cache_insertions_total{pop=\"LOCAL1-C1\"}"),
        2.0,
        "{text}"
    );
    assert!(value("edge_cache_size_bytes{pop=\"LOCAL1-C1\"}") > 0.0);
    assert!(
        text.contains("edge_build_info{pop=\"LOCAL1-C1\",version=\""),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn every_admin_route_but_health_needs_the_token() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    get(&format!("{}/a", edge.base)).await;
    for (method, path) in [
        (Method::POST, "/__edge/invalidate"),
        (Method::POST, "/__edge/reload"),
        (Method::POST, "/__edge/recycle"),
        (Method::GET, "/__edge/metrics"),
        (Method::GET, "/__edge/logs?function=x"),
        (Method::GET, "/__edge/nothing"),
    ] {
        let url = format!("{}{path}", edge.admin);
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("test-admin-token"),
            Some("Bearer "),
        ] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("authorization", a)).into_iter().collect();
            let r = request(
                method.clone(),
                &url,
                &headers,
                Bytes::from(r#"{"paths":["/*"]}"#),
            )
            .await;
            assert_eq!(r.status, 401, "{method} {path} with {auth:?}: {}", r.text());
            assert_eq!(r.header("www-authenticate"), "Bearer");
            assert!(r.text().contains("--admin-token"), "{}", r.text());
        }
    }
    // Nothing was invalidated by the refused calls; with the token it is.
    assert_eq!(
        get(&format!("{}/a", edge.base)).await.x_cache(),
        x_cache::HIT
    );
    let r = invalidate(&edge, r#"{"paths": ["/*"]}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(&format!("{}/a", edge.base)).await.x_cache(),
        x_cache::MISS
    );
    // Health is for load balancers: it needs nothing.
    assert_eq!(
        get(&format!("{}/__edge/health", edge.admin)).await.status,
        200
    );
}

#[test]
fn an_admin_listener_without_a_token_is_refused() {
    let origin = origin();
    let err = Proc::try_spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--origin",
        &origin.base,
    ])
    .err()
    .expect("the node refuses an admin listener without a token");
    assert!(err.contains("--admin-listen needs --admin-token"), "{err}");
}
