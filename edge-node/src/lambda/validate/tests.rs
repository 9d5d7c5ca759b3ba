//! What a function may return, case by case (docs/cloudfront-behaviour.md: "What a function
//! may return").

use super::*;
use http::{HeaderValue, Method};
use serde_json::json;

fn req() -> FnRequest {
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static("example.org"));
    h.insert(
        "via",
        HeaderValue::from_static("1.1 x.cloudfront.net (CloudFront)"),
    );
    h.insert("accept", HeaderValue::from_static("*/*"));
    FnRequest {
        client_ip: "192.0.2.1".into(),
        method: Method::GET,
        uri: "/".into(),
        querystring: "".into(),
        headers: h,
        body: Bytes::new(),
        origin: None,
    }
}

fn event_request(r: &FnRequest) -> Value {
    json!({"clientIp": r.client_ip, "method": "GET", "uri": r.uri, "querystring": r.querystring, "headers": headers::to_event(&r.headers)})
}

#[test]
fn unchanged_request_continues_and_changes_apply() {
    let r = req();
    let mut v = event_request(&r);
    v["uri"] = json!("/index.html");
    v["querystring"] = json!("a=1");
    v["headers"]["x-new"] = json!([{"value": "1"}]);
    let RequestOutcome::Continue(out) =
        request_result(Stage::ViewerRequest, &r, false, &v, false).unwrap()
    else {
        panic!()
    };
    assert_eq!(out.uri, "/index.html");
    assert_eq!(out.querystring, "a=1");
    assert_eq!(out.headers["x-new"], "1");
}

#[test]
fn null_and_non_objects_are_invalid_json() {
    let e = request_result(Stage::ViewerRequest, &req(), false, &Value::Null, false).unwrap_err();
    assert!(e.message.contains("not parsable"));
    let e = request_result(Stage::ViewerRequest, &req(), false, &json!("x"), false).unwrap_err();
    assert!(e.message.contains("must be an object type"));
}

#[test]
fn read_only_headers_cannot_change_or_be_deleted() {
    let r = req();
    let mut v = event_request(&r);
    v["headers"]["host"] = json!([{"value": "evil.example"}]);
    let e = request_result(Stage::ViewerRequest, &r, false, &v, false).unwrap_err();
    assert!(
        e.detail
            .contains("change read-only header, headerName : Host"),
        "{e:?}"
    );
    let mut v = event_request(&r);
    v["headers"].as_object_mut().unwrap().remove("via");
    let e = request_result(Stage::ViewerRequest, &r, false, &v, false).unwrap_err();
    assert!(
        e.detail
            .contains("delete read-only header, headerName : Via"),
        "{e:?}"
    );
    // Host is writable at origin-request.
    let mut v = event_request(&r);
    v["headers"]["host"] = json!([{"value": "other.example"}]);
    assert!(request_result(Stage::OriginRequest, &r, false, &v, false).is_ok());
}

#[test]
fn disallowed_headers_and_viewer_country_are_refused() {
    let r = req();
    for (name, stage) in [
        ("x-cache", Stage::OriginRequest),
        ("x-amz-cf-foo", Stage::ViewerRequest),
        ("connection", Stage::ViewerRequest),
        ("cloudfront-viewer-country", Stage::ViewerRequest),
    ] {
        let mut v = event_request(&r);
        v["headers"][name] = json!([{"value": "1"}]);
        assert!(
            request_result(stage, &r, false, &v, false).is_err(),
            "{name}"
        );
    }
    let mut v = event_request(&r);
    v["headers"]["cloudfront-viewer-country"] = json!([{"value": "DE"}]);
    assert!(request_result(Stage::OriginRequest, &r, false, &v, false).is_ok());
}

#[test]
fn generated_responses_are_checked() {
    let r = req();
    let ok = request_result(
        Stage::ViewerRequest,
        &r,
        false,
        &json!({"status": "302", "headers": {"location": [{"value": "/x"}]}}),
        false,
    )
    .unwrap();
    let RequestOutcome::Respond(resp) = ok else {
        panic!()
    };
    assert_eq!(resp.status, 302);
    assert_eq!(resp.headers["location"], "/x");
    for bad in [
        json!({"status": 199}),
        json!({"status": "600"}),
        json!({"status": "abc"}),
        json!({"status": 204, "body": "x"}),
        json!({"status": 200, "body": "%%%", "bodyEncoding": "base64"}),
        json!({"status": 200, "body": "a".repeat(41 * 1024)}),
    ] {
        assert!(
            request_result(Stage::ViewerRequest, &r, false, &bad, false).is_err(),
            "{bad}"
        );
    }
    // 1 MB at origin-request.
    assert!(request_result(
        Stage::OriginRequest,
        &r,
        false,
        &json!({"status": 200, "body": "a".repeat(41 * 1024)}),
        false
    )
    .is_ok());
    let b64 = request_result(
        Stage::ViewerRequest,
        &r,
        false,
        &json!({"status": 200, "body": "aGk=", "bodyEncoding": "base64"}),
        false,
    )
    .unwrap();
    let RequestOutcome::Respond(resp) = b64 else {
        panic!()
    };
    assert_eq!(resp.body.unwrap(), "hi");
}

#[test]
fn uri_and_querystring_rules() {
    let r = req();
    for (uri, qs) in [("nope", ""), ("/a b", ""), ("/a", "x y"), ("/a", "x#y")] {
        let mut v = event_request(&r);
        v["uri"] = json!(uri);
        v["querystring"] = json!(qs);
        assert!(
            request_result(Stage::ViewerRequest, &r, false, &v, false).is_err(),
            "{uri}?{qs}"
        );
    }
    let mut v = event_request(&r);
    v["uri"] = json!(format!("/{}", "a".repeat(8200)));
    assert!(request_result(Stage::ViewerRequest, &r, false, &v, false).is_err());
}

#[test]
fn origin_objects_are_checked() {
    let r = req();
    let with = |o: Value| {
        let mut v = event_request(&r);
        v["origin"] = o;
        request_result(Stage::OriginRequest, &r, false, &v, false)
    };
    assert!(with(json!({"custom": {"domainName": "example.com", "port": 443, "protocol": "https", "path": ""}})).is_ok());
    assert!(with(
        json!({"custom": {"domainName": "example.com", "port": 22, "protocol": "https"}})
    )
    .is_err());
    assert!(
        with(json!({"custom": {"domainName": "a:1", "port": 443, "protocol": "https"}})).is_err()
    );
    assert!(with(json!({"custom": {}, "s3": {}})).is_err());
    let e = with(json!({"custom": {"domainName": "example.com", "port": 443, "protocol": "ftp"}}))
        .unwrap_err();
    assert!(e.message.contains("invalid origin configuration"));
}

#[test]
fn replaced_body_with_include_body() {
    let r = req();
    let mut v = event_request(&r);
    v["body"] = json!({"action": "replace", "encoding": "text", "data": "new body"});
    let RequestOutcome::Continue(out) =
        request_result(Stage::ViewerRequest, &r, true, &v, false).unwrap()
    else {
        panic!()
    };
    assert_eq!(out.body, "new body");
    v["body"]["action"] = json!("read-only");
    let RequestOutcome::Continue(out) =
        request_result(Stage::ViewerRequest, &r, true, &v, false).unwrap()
    else {
        panic!()
    };
    assert!(out.body.is_empty());
}

#[test]
fn response_stage_rules() {
    let mut h = HeaderMap::new();
    h.insert("via", HeaderValue::from_static("1.1 x"));
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    let input = FnResponse {
        status: StatusCode::OK,
        status_description: "OK".into(),
        headers: h.clone(),
        body: None,
    };
    let mut v =
        json!({"status": "200", "statusDescription": "OK", "headers": headers::to_event(&h)});
    v["headers"]["strict-transport-security"] = json!([{"value": "max-age=63072000"}]);
    let out = response_result(Stage::ViewerResponse, &input, &v, false, false).unwrap();
    assert_eq!(out.headers["strict-transport-security"], "max-age=63072000");
    v["status"] = json!(404);
    assert_eq!(
        response_result(Stage::ViewerResponse, &input, &v, false, false)
            .unwrap()
            .status,
        200
    );
    assert!(response_result(Stage::ViewerResponse, &input, &v, true, false).is_err());
    assert_eq!(
        response_result(Stage::OriginResponse, &input, &v, false, false)
            .unwrap()
            .status,
        404
    );
    v["headers"].as_object_mut().unwrap().remove("via");
    assert!(response_result(Stage::OriginResponse, &input, &v, false, false).is_err());
}
