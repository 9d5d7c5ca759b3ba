//! The admin listener: health, invalidation and recycling isolates.

use crate::harness::*;
use bytes::Bytes;
use http::Method;

async fn invalidate(edge: &Edge, body: &str) -> Resp {
    request(
        Method::POST,
        &format!("{}/__edge/invalidate", edge.admin),
        &[("content-type", "application/json")],
        Bytes::from(body.to_string()),
    )
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
    let r = request(
        Method::POST,
        &format!("{}/__edge/recycle", edge.admin),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["isolates"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(get(&url).await.header("x-count"), "1");
}

#[tokio::test]
async fn metrics_count_and_time_every_stage() {
    let f = write_temp("exports.handler = async (e) => e.Records[0].cf.response;");
    let origin = origin();
    let edge = edge_with_functions(&origin, &[("viewer-response", f.to_str().unwrap())], &[]);
    // One miss, then two hits (over any worker).
    for _ in 0..3 {
        assert_eq!(
            get(&format!("{}/m?cache_control=max-age%3D60", edge.base))
                .await
                .status,
            200
        );
    }
    let r = get(&format!("{}/__edge/metrics", edge.admin)).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/plain"));
    let text = r.text();
    let value = |name: &str, stage: &str| -> f64 {
        let prefix = format!("{name}{{pop=\"LOCAL1-C1\",stage=\"{stage}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .parse()
            .unwrap()
    };
    for (stage, calls) in [
        ("request", 3.0),
        ("cache", 3.0),
        ("origin", 1.0),
        ("viewer-response", 3.0),
        ("viewer-request", 0.0),
    ] {
        assert_eq!(
            value("edge_stage_calls_total", stage),
            calls,
            "{stage}\n{text}"
        );
    }
    assert!(
        value("edge_stage_seconds_total", "viewer-response") > 0.0,
        "{text}"
    );
    assert!(
        value("edge_stage_seconds_total", "request") >= value("edge_stage_seconds_total", "origin")
    );
}
