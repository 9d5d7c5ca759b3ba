//! Origin failures map to CloudFront's answers: refused/reset → 502, timeout → 504.

use crate::harness::*;

fn assert_cloudfront_error(r: &Resp, status: u16) {
    assert_eq!(r.status, status);
    assert_eq!(r.x_cache(), x_cache::ERROR);
    assert_eq!(r.header("server"), "CloudFront");
    let text = r.text();
    assert!(text.contains(&format!("<H1>{status} ERROR</H1>")), "{text}");
    assert!(
        text.contains(&format!("Request ID: {}", r.header("x-amz-cf-id"))),
        "{text}"
    );
}

#[tokio::test]
async fn refused_origin_is_502() {
    let port = closed_port();
    let edge = Proc::spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--origin",
        &format!("http://127.0.0.1:{port}"),
    ]);
    let r = get(&format!("http://{}/x", edge.addr("http"))).await;
    assert_cloudfront_error(&r, 502);
}

#[tokio::test]
async fn reset_by_origin_is_502_and_the_node_keeps_serving() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    assert_cloudfront_error(&get(&format!("{}/x?fail=reset", edge.base)).await, 502);
    assert_eq!(get(&format!("{}/ok", edge.base)).await.status, 200);
}

#[tokio::test]
async fn origin_timeout_is_504() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .custom_origin("OriginReadTimeout", 0.5)
        .cache_policy("QueryStringBehavior", "all")
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    assert_cloudfront_error(&get(&format!("{}/x?fail=hang", edge.base)).await, 504);
    let logs = edge.proc.wait_for_log("did not answer within 500 ms");
    assert!(logs.contains("did not answer within 500 ms"), "{logs}");
}

#[tokio::test]
async fn origin_errors_are_cached_briefly() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/e?status=503", edge.base);
    let first = get(&url).await;
    assert_eq!(first.status, 503);
    assert_eq!(first.x_cache(), x_cache::ERROR);
    assert_eq!(get(&url).await.status, 503);
    assert_eq!(
        origin.total().await,
        1,
        "503 is cached for the error-caching minimum TTL"
    );
}

#[tokio::test]
async fn disallowed_method_is_403() {
    let origin = origin();
    let (edge, _cfg) = edge_with_config(
        &NodeToml::for_origin(&origin)
            .behavior("AllowedMethods", vec!["GET", "HEAD"])
            .text(),
        &[],
    );
    let r = request(
        http::Method::POST,
        &format!("{}/x", edge.base),
        &[],
        bytes::Bytes::new(),
    )
    .await;
    assert_cloudfront_error(&r, 403);
    assert_eq!(origin.total().await, 0);
}
