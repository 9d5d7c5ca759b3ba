//! The request and response a function sees and returns, and the event built from them
//! (REFERENCE.md §1), with keys in AWS's order.

use super::headers;
use super::Stage;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Map, Value};

/// A request as functions see it and as the driver carries it between stages.
#[derive(Debug, Clone)]
pub struct FnRequest {
    pub client_ip: String,
    pub method: Method,
    /// The path, starting with `/`.
    pub uri: String,
    /// The query string without `?` ("" when none).
    pub querystring: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `{"custom": {...}}` or `{"s3": {...}}` in origin stages.
    pub origin: Option<Value>,
}

/// A response as functions see it, or as a function generated it.
#[derive(Debug, Clone)]
pub struct FnResponse {
    pub status: StatusCode,
    pub status_description: String,
    pub headers: HeaderMap,
    /// `Some` when a function set (or generated) the body.
    pub body: Option<Bytes>,
}

/// The `config` part of every event.
#[derive(Debug, Clone, Copy)]
pub struct EventConfig<'a> {
    pub distribution_domain: &'a str,
    pub distribution_id: &'a str,
    pub request_id: &'a str,
}

impl FnRequest {
    /// `uri` plus `?querystring` when there is one.
    pub fn path_and_query(&self) -> String {
        if self.querystring.is_empty() {
            self.uri.clone()
        } else {
            format!("{}?{}", self.uri, self.querystring)
        }
    }
}

/// Builds the event for `stage`. `include_body` exposes the request body (request stages only),
/// truncated at the stage's limit.
pub fn build(
    stage: Stage,
    cfg: EventConfig<'_>,
    req: &FnRequest,
    resp: Option<&FnResponse>,
    include_body: bool,
) -> Value {
    let mut config = Map::with_capacity(4);
    config.insert(
        "distributionDomainName".into(),
        json!(cfg.distribution_domain),
    );
    config.insert("distributionId".into(), json!(cfg.distribution_id));
    config.insert("eventType".into(), json!(stage.as_str()));
    config.insert("requestId".into(), json!(cfg.request_id));

    let mut request = Map::with_capacity(7);
    if include_body && stage.is_request() {
        let limit = stage.size_limit();
        let truncated = req.body.len() > limit;
        let data = &req.body[..req.body.len().min(limit)];
        request.insert(
            "body".into(),
            json!({
                "inputTruncated": truncated,
                "action": "read-only",
                "encoding": "base64",
                "data": base64::engine::general_purpose::STANDARD.encode(data),
            }),
        );
    }
    request.insert("clientIp".into(), json!(req.client_ip));
    request.insert("headers".into(), headers::to_event(&req.headers));
    request.insert("method".into(), json!(req.method.as_str()));
    if matches!(stage, Stage::OriginRequest | Stage::OriginResponse) {
        if let Some(o) = &req.origin {
            request.insert("origin".into(), o.clone());
        }
    }
    request.insert("querystring".into(), json!(req.querystring));
    request.insert("uri".into(), json!(req.uri));

    let mut cf = Map::with_capacity(3);
    cf.insert("config".into(), Value::Object(config));
    cf.insert("request".into(), Value::Object(request));
    if let Some(r) = resp {
        let mut response = Map::with_capacity(3);
        response.insert("headers".into(), headers::to_event(&r.headers));
        response.insert("status".into(), json!(r.status.as_str()));
        response.insert("statusDescription".into(), json!(r.status_description));
        cf.insert("response".into(), Value::Object(response));
    }
    json!({ "Records": [ { "cf": Value::Object(cf) } ] })
}

/// The `origin` object of an origin-request event for a configured custom origin.
pub fn custom_origin(o: &crate::config::Origin, protocol: crate::config::Protocol) -> Value {
    let (proto, port) = o.endpoint(protocol);
    let mut custom_headers = HeaderMap::new();
    for (n, v) in &o.custom_headers {
        custom_headers.append(n.clone(), v.clone());
    }
    json!({
        "custom": {
            "customHeaders": headers::to_event(&custom_headers),
            "domainName": o.domain_name,
            "keepaliveTimeout": o.keepalive_timeout.as_secs(),
            "path": o.origin_path,
            "port": port,
            "protocol": if proto == crate::config::Protocol::Https { "https" } else { "http" },
            "readTimeout": o.read_timeout.as_secs(),
            "sslProtocols": ["TLSv1.2"],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn aws(name: &str) -> Value {
        let path = format!(
            "{}/../../shared/lambda-edge/events/aws-docs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The same keys, in the same order, at every level (values may differ; arrays compare
    /// their first element).
    fn same_shape(a: &Value, b: &Value, at: &str) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let kx: Vec<_> = x.keys().collect();
                let ky: Vec<_> = y.keys().collect();
                if at.ends_with(".headers") {
                    return; // header names are data
                }
                assert_eq!(kx, ky, "keys at {at}");
                for k in x.keys() {
                    same_shape(&x[k], &y[k], &format!("{at}.{k}"));
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if let (Some(p), Some(q)) = (x.first(), y.first()) {
                    same_shape(p, q, &format!("{at}[0]"));
                }
            }
            (x, y) => assert_eq!(
                std::mem::discriminant(x),
                std::mem::discriminant(y),
                "type at {at}: {x} vs {y}"
            ),
        }
    }

    fn sample_request() -> FnRequest {
        let mut h = HeaderMap::new();
        h.insert(
            "host",
            HeaderValue::from_static("d111111abcdef8.cloudfront.net"),
        );
        h.insert("user-agent", HeaderValue::from_static("curl/7.66.0"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        FnRequest {
            client_ip: "203.0.113.178".into(),
            method: Method::GET,
            uri: "/".into(),
            querystring: String::new(),
            headers: h,
            body: Bytes::new(),
            origin: None,
        }
    }

    const CFG: EventConfig<'static> = EventConfig {
        distribution_domain: "d111111abcdef8.cloudfront.net",
        distribution_id: "EDFDVBD6EXAMPLE",
        request_id: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
    };

    #[test]
    fn events_have_the_shape_of_aws_samples() {
        let req = sample_request();
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("text/html"));
        let resp = FnResponse {
            status: StatusCode::OK,
            status_description: "OK".into(),
            headers: h,
            body: None,
        };
        same_shape(
            &build(Stage::ViewerRequest, CFG, &req, None, false),
            &aws("viewer-request.json"),
            "",
        );
        same_shape(
            &build(Stage::ViewerResponse, CFG, &req, Some(&resp), false),
            &aws("viewer-response.json"),
            "",
        );
        let origin = crate::config::from_origin_url("https://example.org").unwrap();
        let mut oreq = req.clone();
        oreq.origin = Some(custom_origin(
            &origin.distributions[0].origins[0],
            crate::config::Protocol::Https,
        ));
        same_shape(
            &build(Stage::OriginResponse, CFG, &oreq, Some(&resp), false),
            &aws("origin-response.json"),
            "",
        );
        same_shape(
            &build(Stage::OriginRequest, CFG, &oreq, None, false),
            &aws("origin-request.json"),
            "",
        );
        let e = build(Stage::ViewerRequest, CFG, &req, None, false);
        assert_eq!(
            e["Records"][0]["cf"]["config"]["eventType"],
            "viewer-request"
        );
        assert_eq!(
            e["Records"][0]["cf"]["request"]["headers"]["user-agent"][0]["key"],
            "User-Agent"
        );
        assert_eq!(
            build(Stage::OriginResponse, CFG, &req, Some(&resp), false)["Records"][0]["cf"]
                ["response"]["status"],
            "200"
        );
    }

    #[test]
    fn body_is_exposed_base64_and_truncated() {
        let mut req = sample_request();
        req.body = Bytes::from(vec![b'a'; 50 * 1024]);
        let e = build(Stage::ViewerRequest, CFG, &req, None, true);
        let body = &e["Records"][0]["cf"]["request"]["body"];
        assert_eq!(body["inputTruncated"], true);
        assert_eq!(body["action"], "read-only");
        assert_eq!(body["encoding"], "base64");
        let data = base64::engine::general_purpose::STANDARD
            .decode(body["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(data.len(), 40 * 1024);
        assert!(
            build(Stage::ViewerResponse, CFG, &req, None, true)["Records"][0]["cf"]["request"]
                .get("body")
                .is_none()
        );
    }
}
