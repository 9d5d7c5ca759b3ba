//! OpenTelemetry traces through a real edge node (`--otlp`): an in-test OTLP/HTTP receiver
//! gets one SERVER span per request with a child per stage, in the viewer's trace, and the
//! origin is given a `traceparent` naming the origin fetch's span.

use crate::harness::*;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// An OTLP/HTTP receiver on a free port: every body POSTed to /v1/traces, as JSON.
async fn receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Value)>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let tx = tx.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let _ = tx.send((path, v));
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            bytes::Bytes::from_static(b"{}"),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn each_request_is_a_trace_with_a_span_per_stage_and_the_origin_joins_it() {
    let (collector, mut rx) = receiver().await;
    let origin = origin();
    let f = write_temp("exports.handler = async (e) => e.Records[0].cf.request;");
    let vreq = format!("viewer-request={}", f.to_str().unwrap());
    let edge = edge_for(&origin, &["--otlp", &collector, "--function", &vreq]);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let tp = format!("00-{trace}-{parent}-01");
    let r = get_with(&format!("{}/echo?x=1", edge.base), &[("traceparent", &tp)]).await;
    assert_eq!(r.status, 200);
    // The origin's /echo answers with the headers it was sent.
    let echoed: Value = serde_json::from_slice(&r.body).unwrap();
    let sent = echoed["headers"]["traceparent"]
        .as_str()
        .unwrap_or_else(|| panic!("{echoed}"));
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(
        (parts[0], parts[1], parts[3]),
        ("00", trace, "01"),
        "{sent}"
    );
    assert_ne!(
        parts[2], parent,
        "the origin's parent is our span, not the viewer's"
    );

    // The exporter sends within its second; a SIGTERM would send what is left.
    let (path, body) = tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
        .await
        .expect("the collector got spans")
        .unwrap();
    assert_eq!(path, "/v1/traces");
    let rs = &body["resourceSpans"][0];
    let service = rs["resource"]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "service.name")
        .unwrap();
    assert_eq!(service["value"]["stringValue"], "edge");
    let spans = rs["scopeSpans"][0]["spans"].as_array().unwrap();
    let root = spans
        .iter()
        .find(|s| s["kind"] == 2)
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(root["traceId"], trace);
    assert_eq!(root["parentSpanId"], parent);
    assert_eq!(root["name"], "GET *");
    let attr = |s: &Value, k: &str| {
        s["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == k)
            .map(|a| a["value"].clone())
    };
    assert_eq!(
        attr(root, "http.response.status_code").unwrap()["intValue"],
        "200"
    );
    assert_eq!(attr(root, "url.path").unwrap()["stringValue"], "/echo");
    let children: Vec<&Value> = spans
        .iter()
        .filter(|s| s["parentSpanId"] == root["spanId"])
        .collect();
    let names: Vec<&str> = children
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for stage in ["viewer-request", "cache", "origin"] {
        assert!(names.contains(&stage), "{stage} in {names:?}");
    }
    let origin_span = children.iter().find(|s| s["name"] == "origin").unwrap();
    assert_eq!(origin_span["kind"], 3, "the origin fetch is a CLIENT span");
    assert_eq!(
        origin_span["spanId"], parts[2],
        "the origin was told this span is its parent"
    );
    for s in &children {
        let (a, b): (u64, u64) = (
            s["startTimeUnixNano"].as_str().unwrap().parse().unwrap(),
            s["endTimeUnixNano"].as_str().unwrap().parse().unwrap(),
        );
        let (ra, rb): (u64, u64) = (
            root["startTimeUnixNano"].as_str().unwrap().parse().unwrap(),
            root["endTimeUnixNano"].as_str().unwrap().parse().unwrap(),
        );
        assert!(ra <= a && a <= b && b <= rb, "{s} within {root}");
    }
    // Without a traceparent the request starts its own trace.
    assert_eq!(get(&format!("{}/bytes/8", edge.base)).await.status, 200);
    let (_, body) = tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let root = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == 2)
        .cloned()
        .unwrap();
    assert_ne!(root["traceId"], trace);
    assert!(root.get("parentSpanId").is_none(), "{root}");
}

#[test]
fn a_collector_url_it_cannot_use_is_refused_at_start() {
    let origin = origin();
    for (url, says) in [
        ("not a url", "is not a URL"),
        ("https://collector:4318", "only http://"),
    ] {
        let err = match Proc::try_spawn(&[
            "node",
            "--listen",
            "127.0.0.1:0",
            "--origin",
            &origin.base,
            "--otlp",
            url,
        ]) {
            Ok(_) => panic!("--otlp {url:?} was accepted"),
            Err(e) => e,
        };
        assert!(err.contains(says) && err.contains("--otlp"), "{url}: {err}");
    }
}
