//! CloudFront distribution features through a real edge node (issue #15's list): what a
//! distribution's settings do to requests, each as CloudFront documents it.

use crate::configs::NodeToml;
use crate::harness::*;
use serde_json::Value;

/// A node refuses the configuration `text`, naming `field` and saying `says`.
fn refused_naming(text: &str, field: &str, says: &str) {
    let err = config_refused(&write_temp(text));
    assert!(err.contains(field) && err.contains(says), "{says}: {err}");
}

#[tokio::test]
async fn the_root_url_gets_the_default_root_object() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .distribution_key("DefaultRootObject", "echo/root.html")
        .cache_policy("QueryStringBehavior", "all");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    for (asked, path, query) in [
        ("/", "/echo/root.html", ""),
        ("/?lang=de", "/echo/root.html", "lang=de"),
    ] {
        let r = get(&format!("{}{asked}", edge.base)).await;
        assert_eq!(r.status, 200, "{asked}: {}", r.text());
        let echo: Value = serde_json::from_str(&r.text()).unwrap();
        assert_eq!(
            (
                echo["path"].as_str().unwrap(),
                echo["query"].as_str().unwrap()
            ),
            (path, query),
            "{asked}"
        );
    }
    // Only the root: a directory is asked for as it is.
    let r = get(&format!("{}/echo/sub/", edge.base)).await;
    let echo: Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(echo["path"], "/echo/sub/");
    // CloudFront refuses a name with a leading slash.
    let bad = NodeToml::for_origin(&origin).distribution_key("DefaultRootObject", "/index.html");
    let path = write_temp(&bad.text());
    let err = config_refused(&path);
    assert!(
        err.contains("DefaultRootObject") && err.contains("starts with '/'"),
        "{err}"
    );
}

/// `OPTIONS *` (RFC 9110 §9.3.7) is about the server: answered at the edge with what the
/// default behavior allows, never sent to the origin.
#[tokio::test]
async fn options_asterisk_is_answered_at_the_edge() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let before = origin.total().await;
    let addr = edge.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let lower = out.to_ascii_lowercase();
    assert!(lower.contains("\r\nallow: get, head"), "{out}");
    assert!(lower.contains("\r\ncontent-length: 0\r\n"), "{out}");
    assert_eq!(origin.total().await, before, "the origin saw nothing");
}

/// `Restrictions.GeoRestriction`: a whitelist serves only its countries, a blacklist every
/// country but its own; refused viewers get CloudFront's 403, a viewer the databases cannot
/// place is served. Countries from MaxMind's test data: 81.2.69.142 GB, 89.160.20.112 SE.
#[tokio::test]
async fn geo_restrictions_refuse_viewers_by_country() {
    let origin = origin();
    let geo = format!(
        "{}/../../shared/geo/maxmind-test-data/GeoIP2-City-Test.mmdb",
        env!("CARGO_MANIFEST_DIR")
    );
    let with = |kind: &str, items: &[&str]| {
        let mut text = NodeToml::for_origin(&origin).text();
        text.push_str(&format!(
            "[distributions.Restrictions.GeoRestriction]\nRestrictionType = {kind:?}\nQuantity = {}\nItems = {items:?}\n",
            items.len()
        ));
        text
    };
    let gb = [("x-edge-viewer-ip", "81.2.69.142")];
    let se = [("x-edge-viewer-ip", "89.160.20.112")];
    let unknown = [("x-edge-viewer-ip", "192.0.2.7")];
    let (edge, _a) = edge_with_config(&with("whitelist", &["GB"]), &["--geo-db", &geo, "--dev"]);
    assert_eq!(get_with(&format!("{}/x", edge.base), &gb).await.status, 200);
    let r = get_with(&format!("{}/x", edge.base), &se).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.x_cache(), "Error from cloudfront");
    assert!(
        r.text()
            .contains("configured to block access from your country"),
        "{}",
        r.text()
    );
    assert_eq!(
        get_with(&format!("{}/x", edge.base), &unknown).await.status,
        200
    );
    let (edge, _b) = edge_with_config(&with("blacklist", &["GB"]), &["--geo-db", &geo, "--dev"]);
    assert_eq!(get_with(&format!("{}/x", edge.base), &gb).await.status, 403);
    assert_eq!(get_with(&format!("{}/x", edge.base), &se).await.status, 200);
    // A custom error response for 403 serves its page to refused viewers.
    let page = with("blacklist", &["GB"])
        + "[distributions.CustomErrorResponses]\n[[distributions.CustomErrorResponses.Items]]\nErrorCode = 403\nResponsePagePath = \"/echo/not-here\"\nResponseCode = 403\n";
    let (edge, _c) = edge_with_config(&page, &["--geo-db", &geo, "--dev"]);
    let r = get_with(&format!("{}/x", edge.base), &gb).await;
    assert_eq!(r.status, 403);
    let echo: Value = serde_json::from_str(&r.text()).expect("the page, from the origin");
    assert_eq!(echo["path"], "/echo/not-here");
    // What CloudFront would refuse is refused, naming the field.
    for (text, says) in [
        (with("whitelist", &["gb"]), "not an ISO 3166-1 alpha-2"),
        (with("whitelist", &["XX"]), "not an ISO 3166-1 alpha-2"),
        (
            with("allowlist", &["GB"]),
            "not one of whitelist, blacklist, none",
        ),
        (with("whitelist", &[]), "at least one country"),
        (with("none", &["GB"]), "RestrictionType is none"),
        (
            with("whitelist", &["GB"]).replace("Quantity = 1", "Quantity = 2"),
            "does not match",
        ),
    ] {
        refused_naming(&text, "GeoRestriction", says);
    }
}

/// ViewerProtocolPolicy: `redirect-to-https` answers plain HTTP with a 301 to the TLS listener,
/// `https-only` with a 403; over HTTPS both serve. Nothing reaches the origin over HTTP.
#[tokio::test]
async fn viewer_protocol_policy_redirects_or_refuses_plain_http() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::TokioIo;
    use std::sync::Arc;
    let origin = origin();
    let mut text = NodeToml::for_origin(&origin)
        .behavior("ViewerProtocolPolicy", "redirect-to-https")
        .text();
    text.push_str("[[distributions.CacheBehaviors]]\nPathPattern = \"/secure/*\"\nTargetOriginId = \"mock\"\nViewerProtocolPolicy = \"https-only\"\n");
    let (edge, _cfg) = edge_with_config(&text, &["--tls-listen", "127.0.0.1:0"]);
    let tls = edge.proc.addr("tls");
    let before = origin.total().await;
    let r = get(&format!("{}/page?a=1", edge.base)).await;
    assert_eq!(r.status, 301);
    let port = tls.rsplit(':').next().unwrap();
    assert_eq!(
        r.header("location"),
        format!("https://127.0.0.1:{port}/page?a=1")
    );
    assert_eq!(r.x_cache(), "Redirect from cloudfront");
    let r = request(
        http::Method::POST,
        &format!("{}/form", edge.base),
        &[],
        bytes::Bytes::from_static(b"a=1"),
    )
    .await;
    assert_eq!(r.status, 307, "a method with a body keeps it: 307");
    let r = get(&format!("{}/secure/x", edge.base)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        origin.total().await,
        before,
        "nothing went to the origin over HTTP"
    );

    // Over HTTPS both behaviors serve.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(edge_node::tls::AcceptAnyCert(provider)))
        .with_no_client_auth();
    for path in ["/page?a=1", "/secure/x"] {
        let tcp = tokio::net::TcpStream::connect(&tls).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = tokio_rustls::TlsConnector::from(Arc::new(cfg.clone()))
            .connect(name, tcp)
            .await
            .unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get(path)
            .header("host", "127.0.0.1")
            .body(Empty::<bytes::Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let _ = resp.into_body().collect().await;
    }
    // A policy CloudFront does not have is refused with the field.
    let bad = NodeToml::for_origin(&origin).behavior("ViewerProtocolPolicy", "https");
    let path = write_temp(&bad.text());
    assert!(config_refused(&path).contains("ViewerProtocolPolicy"));
}

/// `CustomErrorResponses`: an origin's 404 answered with the app's page and 200 (a
/// single-page app), an unreachable origin with an error page and another code, a page that
/// cannot be had answered as the page's origin answered, error caching per code, and no
/// viewer-response function on an error page.
#[tokio::test]
async fn custom_error_responses_serve_the_distributions_pages() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "<p>the app</p>").unwrap();
    std::fs::create_dir(root.path().join("errors")).unwrap();
    std::fs::write(root.path().join("errors/5xx.html"), "<p>we are down</p>").unwrap();
    let origin = origin_with_root(root.path());
    let vres = write_temp(
        "exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-vres'] = [{ key: 'X-Vres', value: 'ran' }]; return r; };",
    );
    let items = r#"
[distributions.CustomErrorResponses]
Quantity = 4
[[distributions.CustomErrorResponses.Items]]
ErrorCode = 404
ResponsePagePath = "/index.html"
ResponseCode = "200"
[[distributions.CustomErrorResponses.Items]]
ErrorCode = 502
ResponsePagePath = "/errors/5xx.html"
ResponseCode = 503
[[distributions.CustomErrorResponses.Items]]
ErrorCode = 403
ResponsePagePath = "/errors/missing.html"
ResponseCode = "403"
[[distributions.CustomErrorResponses.Items]]
ErrorCode = 500
ErrorCachingMinTTL = 0
"#;
    let base_cfg = NodeToml::for_origin(&origin)
        .cache_policy("QueryStringBehavior", "all")
        .function("viewer-response", vres.to_str().unwrap());
    let cfg = base_cfg.text() + items;
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let url = |p: &str| format!("{}{p}", edge.base);
    // A route of the app: the origin has no such file; the viewer gets the app with 200.
    let r = get(&url("/app/settings")).await;
    assert_eq!(
        (r.status.as_u16(), r.text().as_str()),
        (200, "<p>the app</p>")
    );
    assert_eq!(r.x_cache(), "Error from cloudfront");
    assert_eq!(
        r.header("x-vres"),
        "",
        "no viewer-response on an error page"
    );
    let ok = get(&url("/index.html")).await;
    assert_eq!(
        ok.header("x-vres"),
        "ran",
        "viewer-response runs on the page itself"
    );
    let head = request(
        http::Method::HEAD,
        &url("/app/other"),
        &[],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!((head.status.as_u16(), head.body.len()), (200, 0));
    // The 404 is cached (10 s by default): asked again, the origin does not see it again.
    let seen = |stats: &Value, path: &str| stats["paths"][path].as_u64().unwrap_or(0);
    let before = seen(&origin.stats().await, "/app/settings");
    assert_eq!(get(&url("/app/settings")).await.status, 200);
    assert_eq!(seen(&origin.stats().await, "/app/settings"), before);
    // An origin that resets the connection (502): the 5xx page with 503.
    let r = get(&url("/index.html?fail=reset")).await;
    assert_eq!(
        (r.status.as_u16(), r.text().as_str()),
        (503, "<p>we are down</p>")
    );
    // A page the origin does not have: the viewer gets what the origin answered for it.
    let r = get(&url("/index.html?status=403")).await;
    assert_eq!(r.status, 404, "{}", r.text());
    // ErrorCachingMinTTL 0 for 500: every request goes to the origin.
    let before = origin.total().await;
    for _ in 0..2 {
        assert_eq!(get(&url("/index.html?status=500")).await.status, 500);
    }
    assert_eq!(
        origin.total().await,
        before + 2,
        "a 500 is kept 10 s by default"
    );
    // What CloudFront refuses is refused, naming the field.
    let one = |item: &str| {
        format!(
            "{}\n[distributions.CustomErrorResponses]\n[[distributions.CustomErrorResponses.Items]]\n{item}\n",
            base_cfg.text()
        )
    };
    for (text, says) in [
        (one("ErrorCode = 418"), "ErrorCode"),
        (
            one("ErrorCode = 404\nResponseCode = \"200\""),
            "ResponsePagePath",
        ),
        (
            one("ErrorCode = 404\nResponsePagePath = \"/a.html\""),
            "ResponseCode",
        ),
        (
            one("ErrorCode = 404\nResponsePagePath = \"a.html\"\nResponseCode = 200"),
            "starts with '/'",
        ),
        (
            one("ErrorCode = 404\nResponsePagePath = \"/a.html\"\nResponseCode = 201"),
            "not one of 200",
        ),
        (
            cfg.replace("Quantity = 4", "Quantity = 3"),
            "does not match",
        ),
        (
            cfg.replace("ErrorCode = 403", "ErrorCode = 404"),
            "more than once",
        ),
    ] {
        refused_naming(&text, "CustomErrorResponses", says);
    }
}

/// `OriginGroups`: a GET, HEAD or OPTIONS the primary answers with a failover status, or that
/// cannot reach it, is sent to the secondary; other methods are not; bad groups are refused.
#[tokio::test]
async fn origin_groups_fail_over_to_their_secondary_as_cloudfront_does() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("here.txt"), "from the primary").unwrap();
    let primary = origin_with_root(root.path());
    let secondary = origin();
    let port = |o: &Origin| o.base.rsplit(':').next().unwrap().to_string();
    let (p1, p2, down) = (port(&primary), port(&secondary), closed_port());
    let origins = format!(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "primary"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {p1}
OriginProtocolPolicy = "http-only"
[[distributions.Origins]]
Id = "secondary"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {p2}
OriginProtocolPolicy = "http-only"
[[distributions.Origins]]
Id = "down"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {down}
OriginProtocolPolicy = "http-only"
"#
    );
    let group = |id: &str, members: [&str; 2], codes: &str| {
        format!(
            r#"
[[distributions.OriginGroups.Items]]
Id = "{id}"
[distributions.OriginGroups.Items.FailoverCriteria.StatusCodes]
Quantity = {}
Items = [{codes}]
[distributions.OriginGroups.Items.Members]
Quantity = 2
Items = [{{ OriginId = "{}" }}, {{ OriginId = "{}" }}]
"#,
            codes.split(',').count(),
            members[0],
            members[1]
        )
    };
    // An origin-request function runs for each origin a request is sent to.
    let oreq = write_temp(
        "exports.handler = async (e) => { const r = e.Records[0].cf.request; console.log('origin-request to port ' + r.origin.custom.port + ' for ' + r.uri); return r; };",
    );
    let behaviors = format!(
        r#"
[[distributions.CacheBehaviors]]
PathPattern = "/down/*"
TargetOriginId = "down-group"
[distributions.DefaultCacheBehavior]
TargetOriginId = "group"
AllowedMethods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "origin-request"
File = "{}"
"#,
        oreq.display()
    );
    let cfg = format!(
        "{origins}[distributions.OriginGroups]\nQuantity = 2\n{}{}{behaviors}",
        group("group", ["primary", "secondary"], "404, 503"),
        group("down-group", ["down", "secondary"], "500"),
    );
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let url = |p: &str| format!("{}{p}", edge.base);

    // The primary serves what it has; nothing reaches the secondary.
    let r = get(&url("/here.txt")).await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (200, "from the primary".into())
    );
    assert_eq!(secondary.total().await, 0);
    // A 404 of the primary (a failover status): the secondary's answer.
    let r = get(&url("/missing")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "origin says hello from /missing\n");
    assert_eq!(primary.stats().await["paths"]["/missing"], 1);
    let logs = edge
        .proc
        .wait_for_log(&format!("origin-request to port {p2} for /missing"));
    assert!(
        logs.contains(&format!("origin-request to port {p1} for /missing")),
        "the function ran for the primary, then again for the secondary: {logs}"
    );
    // A primary that cannot be reached: the secondary, for GET and HEAD.
    let r = get(&url("/down/x")).await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (200, "origin says hello from /down/x\n".into())
    );
    let head = request(
        http::Method::HEAD,
        &url("/down/y"),
        &[],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(head.status, 200);
    // A POST is not failed over: the primary's 404 is the answer.
    let post = request(
        http::Method::POST,
        &url("/missing-post"),
        &[],
        bytes::Bytes::from_static(b"x"),
    )
    .await;
    assert_eq!(post.status, 404, "{}", post.text());
    assert!(secondary.stats().await["paths"]
        .get("/missing-post")
        .is_none());

    // Refused at load, naming the field.
    refused_naming(
        &format!(
            "{origins}[distributions.OriginGroups]\nQuantity = 1\n{}{behaviors}",
            group("group", ["primary", "primary"], "404")
        ),
        "Members.Items[1].OriginId",
        "another origin",
    );
    refused_naming(
        &format!(
            "{origins}[distributions.OriginGroups]\nQuantity = 1\n{}{behaviors}",
            group("group", ["primary", "nowhere"], "404")
        ),
        "Members.Items[1].OriginId",
        "no origin has the Id \"nowhere\"",
    );
    refused_naming(
        &format!(
            "{origins}[distributions.OriginGroups]\nQuantity = 1\n{}{behaviors}",
            group("group", ["primary", "secondary"], "404, 200")
        ),
        "FailoverCriteria.StatusCodes.Items[1]",
        "200 is not one of the codes CloudFront fails over on",
    );
    refused_naming(
        &format!(
            "{origins}[distributions.OriginGroups]\nQuantity = 2\n{}{behaviors}",
            group("group", ["primary", "secondary"], "404")
        ),
        "OriginGroups.Quantity",
        "does not match",
    );
    refused_naming(
        &format!(
            "{origins}[distributions.OriginGroups]\nQuantity = 1\n{}{behaviors}",
            group("primary", ["primary", "secondary"], "404")
        ),
        "OriginGroups.Items[0].Id",
        "already the Id of an origin",
    );
    refused_naming(
        &format!("{origins}{behaviors}"),
        "CacheBehaviors[0].TargetOriginId",
        "no origin or origin group has the Id \"down-group\"",
    );
}

/// Managed cache and origin request policies by the IDs AWS publishes (or their names): their
/// cache keys, forwarding and TTLs as if written inline; what cannot be used is refused.
#[tokio::test]
async fn managed_policies_by_id_key_forward_and_expire_as_aws_documents() {
    let origin = origin();
    let port = origin.base.rsplit(':').next().unwrap().to_string();
    let cfg = |default: &str, extra: &str| {
        format!(
            r#"
[[distributions]]
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[[distributions.CachePolicies]]
Name = "ByVersion"
MinTTL = 0
DefaultTTL = 600
MaxTTL = 3600
[distributions.CachePolicies.ParametersInCacheKeyAndForwardedToOrigin]
EnableAcceptEncodingGzip = false
EnableAcceptEncodingBrotli = false
HeadersConfig = {{ HeaderBehavior = "none" }}
CookiesConfig = {{ CookieBehavior = "none" }}
QueryStringsConfig = {{ QueryStringBehavior = "whitelist", QueryStrings = {{ Quantity = 1, Items = ["v"] }} }}
[[distributions.OriginRequestPolicies]]
Id = "fwd-all-queries"
Name = "ForwardQueries"
QueryStringsConfig = {{ QueryStringBehavior = "all" }}
[[distributions.CacheBehaviors]]
PathPattern = "/echo/named/*"
TargetOriginId = "mock"
CachePolicyId = "ByVersion"
OriginRequestPolicyId = "fwd-all-queries"
[[distributions.CacheBehaviors]]
PathPattern = "/nocache/*"
TargetOriginId = "mock"
CachePolicyId = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
[[distributions.CacheBehaviors]]
PathPattern = "/echo/by-name/*"
TargetOriginId = "mock"
CachePolicyId = "Managed-CachingOptimized"
OriginRequestPolicyId = "AllViewerExceptHostHeader"
[[distributions.CacheBehaviors]]
PathPattern = "/echo/origin-cc/*"
TargetOriginId = "mock"
CachePolicyId = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
OriginRequestPolicyId = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
[[distributions.CacheBehaviors]]
PathPattern = "/echo/host-only/*"
TargetOriginId = "mock"
CachePolicyId = "UseOriginCacheControlHeaders"
OriginRequestPolicyId = "HostHeaderOnly"
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
{default}
{extra}
"#
        )
    };
    let good = cfg(
        "CachePolicyId = \"658327ea-f89d-4fab-a63d-7e88639e58f6\"\nOriginRequestPolicyId = \"216adef6-5c7f-47e4-b989-5492eafa07d3\"",
        "",
    );
    let (edge, _cfg) = edge_with_config(&good, &["--tls-listen", "127.0.0.1:0"]);
    let url = |p: &str| format!("{}{p}", edge.base);
    // CachingOptimized + AllViewer: the query is forwarded but not in the key, so a second
    // query string is a hit on the first one's object; gzip/br are in the key.
    let first = get_with(&url("/echo/a?v=1"), &[("x-extra", "yes")]).await;
    assert_eq!(first.x_cache(), "Miss from cloudfront");
    let echo: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(echo["query"], "v=1", "AllViewer forwards the query: {echo}");
    assert_eq!(
        echo["headers"]["x-extra"], "yes",
        "and every viewer header: {echo}"
    );
    let second = get(&url("/echo/a?v=2")).await;
    assert_eq!(second.x_cache(), "Hit from cloudfront");
    assert_eq!(second.body, first.body);
    let gz = get_with(&url("/echo/a?v=3"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(
        gz.x_cache(),
        "Miss from cloudfront",
        "Accept-Encoding is in the key"
    );
    // CachingOptimized's DefaultTTL is a day: an answer without freshness is cached.
    let r = get(&url("/echo/a")).await;
    assert_eq!(r.x_cache(), "Hit from cloudfront");
    // CachingDisabled: every request goes to the origin, even one that says max-age.
    let nocache = url("/nocache/x?cache_control=max-age%3D600");
    for _ in 0..2 {
        assert_eq!(get(&nocache).await.x_cache(), "Miss from cloudfront");
    }
    assert_eq!(origin.stats().await["paths"]["/nocache/x"], 2);
    // The distribution's own policies, by Name and by Id: `v` is the key, every query is
    // forwarded.
    let first = get(&url("/echo/named/a?v=1&x=1")).await;
    assert_eq!(first.x_cache(), "Miss from cloudfront");
    let echo: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(echo["query"], "v=1&x=1", "{echo}");
    assert_eq!(
        get(&url("/echo/named/a?v=1&x=2")).await.x_cache(),
        "Hit from cloudfront"
    );
    assert_eq!(
        get(&url("/echo/named/a?v=2&x=1")).await.x_cache(),
        "Miss from cloudfront"
    );
    // By name; AllViewerExceptHostHeader: the origin gets its own host, not the viewer's.
    let r = get_with(&url("/echo/by-name/x?q=1"), &[("host", "viewer.example")]).await;
    let echo: Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {} {}", r.status, r.text()));
    assert_eq!(echo["query"], "q=1", "{echo}");
    assert_ne!(echo["headers"]["host"], "viewer.example", "{echo}");
    // UseOriginCacheControlHeaders-QueryStrings: nothing cached the origin did not ask for
    // (DefaultTTL 0); the query and Origin are in the key.
    let cc = url("/echo/origin-cc/a?q=1&cache_control=max-age%3D600");
    assert_eq!(get(&cc).await.x_cache(), "Miss from cloudfront");
    assert_eq!(get(&cc).await.x_cache(), "Hit from cloudfront");
    let r = get_with(&cc, &[("origin", "https://other.test")]).await;
    assert_eq!(r.x_cache(), "Miss from cloudfront", "Origin is in the key");
    let other = url("/echo/origin-cc/a?q=2&cache_control=max-age%3D600");
    assert_eq!(get(&other).await.x_cache(), "Miss from cloudfront");
    let plain = url("/echo/origin-cc/plain");
    assert_eq!(get(&plain).await.x_cache(), "Miss from cloudfront");
    assert_ne!(
        get(&plain).await.x_cache(),
        "Hit from cloudfront",
        "DefaultTTL 0"
    );
    // AllViewerAndCloudFrontHeaders-2022-06: every viewer header and CloudFront's own,
    // CloudFront-Viewer-TLS among them over HTTPS.
    let tls = format!("https://{}", edge.proc.addr("tls"));
    let r = get_with(
        &format!("{tls}/echo/origin-cc/b?q=1"),
        &[("x-extra", "yes"), ("user-agent", "Mozilla/5.0 (iPhone)")],
    )
    .await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    let h = &echo["headers"];
    assert_eq!(h["x-extra"], "yes", "{echo}");
    assert_eq!(h["cloudfront-forwarded-proto"], "https", "{echo}");
    assert_eq!(h["cloudfront-is-ios-viewer"], "true", "{echo}");
    assert_eq!(h["cloudfront-viewer-http-version"], "1.1", "{echo}");
    let viewer_tls = h["cloudfront-viewer-tls"].as_str().unwrap_or("");
    assert!(
        viewer_tls.starts_with("TLSv1.3:TLS_") && viewer_tls.ends_with(":fullHandshake"),
        "{echo}"
    );
    // The connection's next request reuses it.
    let again = format!("{tls}/echo/origin-cc/c");
    let both = get_on_one_connection(&[&again, &again]).await;
    let handshake = |r: &Resp| {
        let echo: Value = serde_json::from_slice(&r.body).unwrap();
        let v = echo["headers"]["cloudfront-viewer-tls"]
            .as_str()
            .unwrap_or("")
            .to_string();
        v.rsplit(':').next().unwrap_or("").to_string()
    };
    assert_eq!(
        (handshake(&both[0]), handshake(&both[1])),
        ("fullHandshake".to_string(), "connectionReused".to_string())
    );
    // UseOriginCacheControlHeaders + HostHeaderOnly: the viewer's Host goes to the origin (it
    // is in the key), nothing else of the viewer's.
    let r = get_with(
        &url("/echo/host-only/x?q=1"),
        &[("host", "viewer.example"), ("x-extra", "yes")],
    )
    .await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["headers"]["host"], "viewer.example", "{echo}");
    assert_eq!(echo["headers"]["x-extra"], Value::Null, "{echo}");
    assert_eq!(echo["query"], "", "{echo}");

    let refused = |default: &str, extra: &str, field: &str, says: &str| {
        refused_naming(&cfg(default, extra), field, says)
    };
    refused(
        "CachePolicyId = \"00000000-0000-0000-0000-000000000000\"",
        "",
        "DefaultCacheBehavior.CachePolicyId",
        "nor a managed cache policy known here (658327ea-f89d-4fab-a63d-7e88639e58f6 (CachingOptimized)",
    );
    refused(
        "CachePolicyId = \"CachingOptimized\"\nMinTTL = 5",
        "",
        "DefaultCacheBehavior.MinTTL",
        "a cache policy sets the TTLs",
    );
    refused(
        "CachePolicyId = \"CachingOptimized\"",
        "[distributions.DefaultCacheBehavior.CachePolicy]\nQueryStringBehavior = \"all\"",
        "DefaultCacheBehavior.CachePolicyId",
        "not both",
    );
    refused(
        "OriginRequestPolicyId = \"nope\"",
        "",
        "DefaultCacheBehavior.OriginRequestPolicyId",
        "nor a managed origin request policy known here",
    );
}

/// Response headers policies: removed headers, security and custom headers with their origin
/// override, CORS for allowed origins (preflights included), CloudFront's Server-Timing on
/// request; a managed policy by ID; what CloudFront refuses is refused.
#[tokio::test]
async fn response_headers_policies_shape_every_answer_as_cloudfront_does() {
    let origin = origin();
    let port = origin.base.rsplit(':').next().unwrap().to_string();
    let cfg = |policy: &str| {
        format!(
            r#"
[[distributions]]
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[[distributions.CacheBehaviors]]
PathPattern = "/simple/*"
TargetOriginId = "mock"
ResponseHeadersPolicyId = "60669652-455b-4ae9-85a4-c4c02393f86c"
[[distributions.CacheBehaviors]]
PathPattern = "/secure/*"
TargetOriginId = "mock"
ResponseHeadersPolicyId = "67f7725c-6f97-4210-82d7-5512b31e9d03"
CachePolicy = {{ QueryStringBehavior = "all" }}
[[distributions.CacheBehaviors]]
PathPattern = "/preflight/*"
TargetOriginId = "mock"
AllowedMethods = ["GET", "HEAD", "OPTIONS"]
ResponseHeadersPolicyId = "Managed-CORS-with-preflight-and-SecurityHeadersPolicy"
CachePolicy = {{ QueryStringBehavior = "all" }}
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
AllowedMethods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
{policy}
[distributions.DefaultCacheBehavior.CachePolicy]
QueryStringBehavior = "all"
"#
        )
    };
    let policy = r#"
[distributions.DefaultCacheBehavior.ResponseHeadersPolicy.SecurityHeadersConfig]
FrameOptions = { Override = true, FrameOption = "DENY" }
ContentTypeOptions = { Override = false }
ReferrerPolicy = { Override = false, ReferrerPolicy = "same-origin" }
StrictTransportSecurity = { Override = false, AccessControlMaxAgeSec = 63072000, IncludeSubdomains = true, Preload = true }
XSSProtection = { Override = true, Protection = true, ModeBlock = true }
[distributions.DefaultCacheBehavior.ResponseHeadersPolicy.CustomHeadersConfig]
Quantity = 2
Items = [{ Header = "X-Custom", Value = "policy", Override = false }, { Header = "X-Forced", Value = "policy", Override = true }]
[distributions.DefaultCacheBehavior.ResponseHeadersPolicy.RemoveHeadersConfig]
Quantity = 2
Items = [{ Header = "X-Powered-By" }, { Header = "Server" }]
[distributions.DefaultCacheBehavior.ResponseHeadersPolicy.CorsConfig]
AccessControlAllowOrigins = { Quantity = 2, Items = ["https://app.example.com", "https://*.example.org"] }
AccessControlAllowHeaders = { Quantity = 1, Items = ["X-Token"] }
AccessControlAllowMethods = { Quantity = 2, Items = ["GET", "POST"] }
AccessControlAllowCredentials = true
AccessControlExposeHeaders = { Quantity = 1, Items = ["X-Custom"] }
AccessControlMaxAgeSec = 600
OriginOverride = true
[distributions.DefaultCacheBehavior.ResponseHeadersPolicy.ServerTimingHeadersConfig]
Enabled = true
SamplingRate = 0
"#;
    let (edge, _cfg) = edge_with_config(&cfg(policy), &[]);
    let url = |p: &str| format!("{}{p}", edge.base);
    let page = url("/page?cache_control=max-age%3D600&headers=X-Powered-By:PHP|X-Custom:origin|X-Forced:origin|Referrer-Policy:no-referrer");
    for x_cache in ["Miss from cloudfront", "Hit from cloudfront"] {
        let r = get(&page).await;
        assert_eq!(r.x_cache(), x_cache);
        let h = |n: &str| r.header(n).to_string();
        assert_eq!(h("x-powered-by"), "", "removed");
        assert_eq!(
            h("server"),
            "CloudFront",
            "CloudFront's own Server replaces a removed one"
        );
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(
            h("referrer-policy"),
            "no-referrer",
            "the origin's kept (no override)"
        );
        assert_eq!(
            h("strict-transport-security"),
            "max-age=63072000; includeSubDomains; preload"
        );
        assert_eq!(h("x-xss-protection"), "1; mode=block");
        assert_eq!(h("x-custom"), "origin", "no override: the origin's");
        assert_eq!(h("x-forced"), "policy", "override: the policy's");
        assert_eq!(h("access-control-allow-origin"), "", "no Origin, no CORS");
        assert_eq!(h("server-timing"), "", "sampling rate 0 and no Pragma");
    }
    // CORS: an allowed origin is named (credentials allowed), others get nothing.
    let r = get_with(&page, &[("origin", "https://app.example.com")]).await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert_eq!(r.header("access-control-allow-credentials"), "true");
    assert_eq!(r.header("access-control-expose-headers"), "X-Custom");
    assert_eq!(
        r.header("access-control-allow-methods"),
        "",
        "only on preflights"
    );
    let r = get_with(&page, &[("origin", "https://evil.test")]).await;
    assert_eq!(r.header("access-control-allow-origin"), "");
    let preflight = request(
        http::Method::OPTIONS,
        &url("/api"),
        &[
            ("origin", "https://a.example.org"),
            ("access-control-request-method", "POST"),
        ],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "https://a.example.org"
    );
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        "GET, POST"
    );
    assert_eq!(preflight.header("access-control-allow-headers"), "X-Token");
    assert_eq!(preflight.header("access-control-max-age"), "600");
    // Server-Timing on request: a hit names the cache, the POP and the request id.
    let r = get_with(&page, &[("pragma", "server-timing")]).await;
    let st = r.header("server-timing");
    assert!(
        st.starts_with("cdn-cache-hit,cdn-pop;desc=\"")
            && st.contains(",cdn-rid;desc=\"")
            && st.contains("cdn-hit-layer;desc=\"EDGE\",cdn-downstream-fbl;dur="),
        "{st}"
    );
    let r = get_with(
        &url("/fresh?headers=Server-Timing:app;dur=5"),
        &[("pragma", "server-timing")],
    )
    .await;
    let st = r.header("server-timing");
    assert!(
        st.starts_with("app;dur=5,cdn-upstream-layer;desc=\"EDGE\",cdn-cache-miss,"),
        "{st}"
    );
    // Errors get the policy too.
    let r = get(&url("/missing?status=404")).await;
    assert_eq!(
        (r.status.as_u16(), r.header("x-frame-options")),
        (404, "DENY")
    );
    // The managed SimpleCORS: `*` for any origin.
    let r = get_with(&url("/simple/x"), &[("origin", "https://anyone.test")]).await;
    assert_eq!(r.header("access-control-allow-origin"), "*");
    // The managed SecurityHeadersPolicy: the origin's headers win, but for nosniff.
    let r = get(&url(
        "/secure/x?headers=X-Frame-Options:DENY|X-Content-Type-Options:sniff",
    ))
    .await;
    for (name, value) in [
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("strict-transport-security", "max-age=31536000"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("x-xss-protection", "1; mode=block"),
        ("access-control-allow-origin", ""),
    ] {
        assert_eq!(r.header(name), value, "{name}");
    }
    // CORS-with-preflight-and-SecurityHeadersPolicy by name: a preflight gets the allowed
    // methods, every CORS answer Allow-Origin and Expose-Headers; the origin's win.
    let preflight = request(
        http::Method::OPTIONS,
        &url("/preflight/x"),
        &[
            ("origin", "https://anyone.test"),
            ("access-control-request-method", "PUT"),
        ],
        bytes::Bytes::new(),
    )
    .await;
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        (
            "access-control-allow-methods",
            "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
        ),
        ("access-control-allow-headers", ""),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(preflight.header(name), value, "{name}");
    }
    let r = get_with(
        &url("/preflight/y?headers=Access-Control-Allow-Origin:https://mine.test"),
        &[("origin", "https://anyone.test")],
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), "https://mine.test");
    assert_eq!(r.header("access-control-expose-headers"), "*");
    assert_eq!(r.header("access-control-allow-methods"), "");
    assert_eq!(r.header("x-frame-options"), "SAMEORIGIN");

    let at = "DefaultCacheBehavior.ResponseHeadersPolicy";
    for (policy, field, says) in [
        (
            "RemoveHeadersConfig = { Quantity = 1, Items = [{ Header = \"Content-Length\" }] }",
            format!("{at}.RemoveHeadersConfig.Items[0].Header"),
            "does not let a policy remove content-length",
        ),
        (
            "SecurityHeadersConfig = { FrameOptions = { Override = true, FrameOption = \"ALLOW\" } }",
            format!("{at}.SecurityHeadersConfig.FrameOptions.FrameOption"),
            "is not one of DENY, SAMEORIGIN",
        ),
        (
            "SecurityHeadersConfig = { XSSProtection = { Override = true, Protection = true, ModeBlock = true, ReportUri = \"https://r.test\" } }",
            format!("{at}.SecurityHeadersConfig.XSSProtection.ReportUri"),
            "cannot be given together",
        ),
        (
            "CorsConfig = { AccessControlAllowOrigins = { Items = [\"https://exa*mple.org\"] }, AccessControlAllowHeaders = { Items = [] }, AccessControlAllowMethods = { Items = [\"GET\"] }, AccessControlAllowCredentials = false, OriginOverride = true }",
            format!("{at}.CorsConfig.AccessControlAllowOrigins.Items[0]"),
            "only as the leftmost label",
        ),
        (
            "CustomHeadersConfig = { Quantity = 2, Items = [{ Header = \"X-A\", Value = \"1\", Override = true }] }",
            format!("{at}.CustomHeadersConfig.Quantity"),
            "does not match",
        ),
    ] {
        refused_naming(
            &cfg(&format!(
                "[distributions.DefaultCacheBehavior.ResponseHeadersPolicy]\n{policy}"
            )),
            &field,
            says,
        );
    }
    refused_naming(
        &cfg("ResponseHeadersPolicyId = \"00000000-0000-0000-0000-000000000000\""),
        "DefaultCacheBehavior.ResponseHeadersPolicyId",
        "nor a managed response headers policy known here (60669652-455b-4ae9-85a4-c4c02393f86c (SimpleCORS), 5cc3b908-e619-4b99-88e5-2cf7f45965bd (CORS-With-Preflight)",
    );
}

/// `edge sign-url` / `edge sign-cookies` output.
fn sign(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(EDGE)
        .arg(cmd)
        .args(args)
        .output()
        .expect("run edge");
    assert!(
        out.status.success(),
        "edge {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Signed URLs and cookies: a behavior with TrustedKeyGroups serves only what a trusted key
/// signed (canned or custom policy, in the query or in cookies), answers the rest with
/// CloudFront's 403s, and passes neither the signing parameters to the cache key nor the origin.
#[tokio::test]
async fn signed_urls_and_cookies_gate_a_behavior_as_cloudfront_does() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/signed-urls");
    let public = std::fs::read_to_string(data.join("public_key.pem")).unwrap();
    let private = data.join("private_key.pem");
    let private = private.to_str().unwrap();
    let origin = origin();
    let port = origin.base.rsplit(':').next().unwrap().to_string();
    let cfg = |behavior_extra: &str, groups: &str| {
        format!(
            r#"
[[distributions]]
{groups}
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[[distributions.CacheBehaviors]]
PathPattern = "/echo/private/*"
TargetOriginId = "mock"
{behavior_extra}
[distributions.CacheBehaviors.CachePolicy]
QueryStringBehavior = "all"
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
"#
        )
    };
    let groups = format!(
        "[[distributions.KeyGroups]]\nId = \"kg\"\n[[distributions.KeyGroups.PublicKeys]]\nId = \"K2JCJMDEHXQW5F\"\nEncodedKey = \"\"\"\n{public}\"\"\"\n"
    );
    let trusted = "TrustedKeyGroups = { Enabled = true, Quantity = 1, Items = [\"kg\"] }";
    let (edge, _cfg) = edge_with_config(&cfg(trusted, &groups), &[]);
    let base = &edge.base;
    let signed = |url: &str, extra: &[&str]| {
        let mut args = vec![
            url,
            "--key-pair-id",
            "K2JCJMDEHXQW5F",
            "--private-key",
            private,
        ];
        args.extend_from_slice(extra);
        sign("sign-url", &args)
    };
    let denied = |r: &Resp, code: &str, message: &str| {
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(r.header("content-type"), "text/xml");
        assert!(
            r.text()
                .contains(&format!("<Code>{code}</Code><Message>{message}</Message>")),
            "{}",
            r.text()
        );
    };

    // Not signed: CloudFront's MissingKey; a path outside the behavior is served.
    let url = format!("{base}/echo/private/a?v=large");
    denied(
        &get(&url).await,
        "MissingKey",
        "Missing Key-Pair-Id query parameter or cookie value",
    );
    assert_eq!(get(&format!("{base}/public")).await.status, 200);
    // A canned policy: served, and the origin sees the viewer's query without the signature.
    let good = signed(&url, &["--expires-in", "600"]);
    assert!(
        good.contains("&Expires=") && good.contains("&Key-Pair-Id=K2JCJMDEHXQW5F"),
        "{good}"
    );
    let r = get(&good).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["query"], "v=large", "{echo}");
    // Another URL, another key, a later expiry written in, an expired one.
    denied(
        &get(&good.replace("v=large", "v=small")).await,
        "AccessDenied",
        "Access denied",
    );
    denied(
        &get(&good.replace("Key-Pair-Id=K2JCJMDEHXQW5F", "Key-Pair-Id=APKAOTHER")).await,
        "InvalidKey",
        "Unknown Key",
    );
    let expires = good
        .split("Expires=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    denied(
        &get(&good.replace(expires, "2147483647")).await,
        "AccessDenied",
        "Access denied",
    );
    denied(
        &get(&signed(&url, &["--date-less-than", "1000"])).await,
        "AccessDenied",
        "Access denied",
    );
    // A custom policy for every private object, for viewers on loopback only.
    let every = format!("{base}/echo/private/*");
    let cookie = sign(
        "sign-cookies",
        &[
            &every,
            "--key-pair-id",
            "K2JCJMDEHXQW5F",
            "--private-key",
            private,
            "--ip-address",
            "127.0.0.0/8",
            "--cookie-header",
        ],
    );
    assert!(cookie.starts_with("CloudFront-Policy="), "{cookie}");
    for path in ["/echo/private/b", "/echo/private/c/d?x=1"] {
        let r = get_with(&format!("{base}{path}"), &[("cookie", &cookie)]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let elsewhere = sign(
        "sign-cookies",
        &[
            &every,
            "--key-pair-id",
            "K2JCJMDEHXQW5F",
            "--private-key",
            private,
            "--ip-address",
            "192.0.2.0/24",
            "--cookie-header",
        ],
    );
    denied(
        &get_with(&format!("{base}/echo/private/b"), &[("cookie", &elsewhere)]).await,
        "AccessDenied",
        "Access denied",
    );
    // Set-Cookie lines as a server would send them.
    let lines = sign(
        "sign-cookies",
        &[
            &url,
            "--key-pair-id",
            "K2JCJMDEHXQW5F",
            "--private-key",
            private,
        ],
    );
    assert!(
        lines.lines().count() == 3 && lines.starts_with("Set-Cookie: CloudFront-Expires="),
        "{lines}"
    );

    // Refused at load, naming the field.
    refused_naming(
        &cfg(
            "TrustedKeyGroups = { Enabled = true, Quantity = 1, Items = [\"nope\"] }",
            &groups,
        ),
        "CacheBehaviors[0].TrustedKeyGroups.Items[0]",
        "no key group has the Id \"nope\"",
    );
    refused_naming(
        &cfg(
            "TrustedSigners = { Enabled = true, Quantity = 1, Items = [\"self\"] }",
            &groups,
        ),
        "CacheBehaviors[0].TrustedSigners",
        "not emulated",
    );
    refused_naming(
        &cfg(trusted, "[[distributions.KeyGroups]]\nId = \"kg\"\n[[distributions.KeyGroups.PublicKeys]]\nId = \"K\"\nEncodedKey = \"not a key\"\n"),
        "KeyGroups[0].PublicKeys[0].EncodedKey",
        "not an RSA public key",
    );
}

/// S3 origins: `edge origin --s3-root` answers as a bucket does (MD5 ETag, metadata from a
/// sidecar, NoSuchKey or AccessDenied XML, 304s, nothing read outside the root), an edge reaches
/// it through `S3OriginConfig`, and an origin-request function sees `origin.s3`.
#[tokio::test]
async fn s3_origins_answer_as_a_bucket_and_functions_see_origin_s3() {
    let bucket = tempfile::tempdir().unwrap();
    std::fs::write(bucket.path().join("index.html"), "<p>from the bucket</p>").unwrap();
    std::fs::write(
        bucket.path().join("index.html.s3meta"),
        "Content-Type: text/html\nx-amz-meta-owner: ada\nx-not-kept: no\n",
    )
    .unwrap();
    let s3 = |private: bool| {
        let root = bucket.path().to_str().unwrap();
        let mut args = vec!["origin", "--listen", "127.0.0.1:0", "--s3-root", root];
        if private {
            args.push("--s3-private");
        }
        let proc = Proc::spawn(&args);
        let port = proc.addr("http").rsplit(':').next().unwrap().to_string();
        (proc, port)
    };
    let ((_public, port), (_private, private_port)) = (s3(false), s3(true));
    let oreq = write_temp(
        "exports.handler = async (e) => { const r = e.Records[0].cf.request; console.log('origin ' + JSON.stringify(r.origin)); return r; };",
    );
    let cfg = format!(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "bucket"
DomainName = "127.0.0.1"
OriginPath = ""
[distributions.Origins.S3OriginConfig]
OriginAccessIdentity = "origin-access-identity/cloudfront/E127EXAMPLE51Z"
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[[distributions.Origins]]
Id = "private"
DomainName = "127.0.0.1"
[distributions.Origins.S3OriginConfig]
HTTPPort = {private_port}
OriginProtocolPolicy = "http-only"
[[distributions.CacheBehaviors]]
PathPattern = "/private/*"
TargetOriginId = "private"
[distributions.DefaultCacheBehavior]
TargetOriginId = "bucket"
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "origin-request"
File = "{}"
"#,
        oreq.display()
    );
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let url = |p: &str| format!("{}{p}", edge.base);

    let r = get(&url("/index.html")).await;
    assert_eq!(
        (r.status.as_u16(), r.text()),
        (200, "<p>from the bucket</p>".into())
    );
    assert_eq!(
        r.header("etag"),
        format!("\"{}\"", md5_of(b"<p>from the bucket</p>"))
    );
    assert_eq!(r.header("content-type"), "text/html");
    assert_eq!(r.header("x-amz-meta-owner"), "ada");
    assert_eq!(r.header("x-not-kept"), "");
    assert!(!r.header("last-modified").is_empty());
    let logs = edge.proc.wait_for_log("origin {\"s3\"");
    assert!(
        logs.contains("\"authMethod\":\"origin-access-identity\"")
            && logs.contains("\"domainName\":\"127.0.0.1\"")
            && logs.contains("\"region\":\"us-east-1\""),
        "{logs}"
    );
    // A conditional request is answered 304 by the cache; a missing key is S3's XML.
    let etag = r.header("etag").to_string();
    let again = get_with(&url("/index.html"), &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    let missing = get(&url("/nope.txt")).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.text().contains("<Code>NoSuchKey</Code>"),
        "{}",
        missing.text()
    );
    // A key outside the bucket's root is just another missing key.
    let escape = get(&url("/%2e%2e/%2e%2e/etc/passwd")).await;
    assert!(
        matches!(escape.status.as_u16(), 400 | 403 | 404),
        "{}",
        escape.status
    );
    assert!(!escape.text().contains("root:"), "{}", escape.text());
    // Without s3:ListBucket (--s3-private) a missing key is 403 AccessDenied.
    let denied = get(&url("/private/nope.txt")).await;
    assert_eq!(denied.status, 403);
    assert!(
        denied.text().contains("<Code>AccessDenied</Code>"),
        "{}",
        denied.text()
    );

    refused_naming(
        &cfg.replacen(
            "[distributions.Origins.S3OriginConfig]\nOriginAccessIdentity",
            "[distributions.Origins.CustomOriginConfig]\nHTTPPort = 1\n[distributions.Origins.S3OriginConfig]\nOriginAccessIdentity",
            1,
        ),
        "Origins[0].S3OriginConfig",
        "not both",
    );
}

fn md5_of(bytes: &[u8]) -> String {
    use md5::Digest;
    format!("{:x}", md5::Md5::digest(bytes))
}

/// AWS's own JSON: `get-distribution-config`'s output (ETag wrapper, Quantity/Items lists,
/// CustomHeaders items, legacy ForwardedValues and TTLs, fields with no local meaning) loads
/// and serves; a bare DistributionConfig and get-distribution's wrapper too; a wrong Quantity
/// is refused with its path.
#[tokio::test]
async fn a_distribution_in_aws_json_loads_as_get_distribution_config_prints_it() {
    let origin = origin();
    let port = origin.base.rsplit(':').next().unwrap().to_string();
    let config = format!(
        r#"{{
    "CallerReference": "cli-example",
    "Aliases": {{ "Quantity": 0 }},
    "DefaultRootObject": "",
    "Origins": {{
        "Quantity": 1,
        "Items": [{{
            "Id": "mock",
            "DomainName": "127.0.0.1",
            "OriginPath": "",
            "CustomHeaders": {{ "Quantity": 1, "Items": [{{ "HeaderName": "X-From-Edge", "HeaderValue": "yes" }}] }},
            "CustomOriginConfig": {{
                "HTTPPort": {port},
                "HTTPSPort": 443,
                "OriginProtocolPolicy": "http-only",
                "OriginSslProtocols": {{ "Quantity": 1, "Items": ["TLSv1.2"] }},
                "OriginReadTimeout": 30,
                "OriginKeepaliveTimeout": 5
            }},
            "ConnectionAttempts": 3,
            "ConnectionTimeout": 10,
            "OriginShield": {{ "Enabled": false }}
        }}]
    }},
    "OriginGroups": {{ "Quantity": 0 }},
    "DefaultCacheBehavior": {{
        "TargetOriginId": "mock",
        "TrustedSigners": {{ "Enabled": false, "Quantity": 0 }},
        "TrustedKeyGroups": {{ "Enabled": false, "Quantity": 0 }},
        "ViewerProtocolPolicy": "allow-all",
        "AllowedMethods": {{
            "Quantity": 2, "Items": ["HEAD", "GET"],
            "CachedMethods": {{ "Quantity": 2, "Items": ["HEAD", "GET"] }}
        }},
        "SmoothStreaming": false,
        "Compress": false,
        "LambdaFunctionAssociations": {{ "Quantity": 0 }},
        "FunctionAssociations": {{ "Quantity": 0 }},
        "FieldLevelEncryptionId": "",
        "ForwardedValues": {{
            "QueryString": true,
            "Cookies": {{ "Forward": "none" }},
            "Headers": {{ "Quantity": 0 }},
            "QueryStringCacheKeys": {{ "Quantity": 0 }}
        }},
        "MinTTL": 0,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000
    }},
    "CacheBehaviors": {{
        "Quantity": 1,
        "Items": [{{
            "PathPattern": "/nocache/*",
            "TargetOriginId": "mock",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0,
            "LambdaFunctionAssociations": {{ "Quantity": 1, "Items": [{{
                "LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:stamp:3",
                "EventType": "origin-response",
                "IncludeBody": false
            }}] }},
            "FunctionAssociations": {{ "Quantity": 1, "Items": [{{
                "FunctionARN": "arn:aws:cloudfront::123456789012:function/lower",
                "EventType": "viewer-request"
            }}] }}
        }}]
    }},
    "CustomErrorResponses": {{ "Quantity": 0 }},
    "Comment": "",
    "Logging": {{ "Enabled": false, "IncludeCookies": false, "Bucket": "", "Prefix": "" }},
    "PriceClass": "PriceClass_All",
    "Enabled": true,
    "ViewerCertificate": {{ "CloudFrontDefaultCertificate": true, "MinimumProtocolVersion": "TLSv1" }},
    "Restrictions": {{ "GeoRestriction": {{ "RestrictionType": "none", "Quantity": 0 }} }},
    "WebACLId": "",
    "HttpVersion": "http2",
    "IsIPV6Enabled": true
}}"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("distribution.json");
    std::fs::write(
        &file,
        format!("{{\"ETag\": \"E2QWRUHEXAMPLE\", \"DistributionConfig\": {config}}}"),
    )
    .unwrap();
    // The functions its ARNs name, from functions/ beside it.
    let functions = dir.path().join("functions");
    std::fs::create_dir(&functions).unwrap();
    std::fs::write(
        functions.join("stamp.js"),
        "exports.handler = async (event, context) => { const r = event.Records[0].cf.response; r.headers['x-stamp'] = [{ key: 'X-Stamp', value: context.invokedFunctionArn }]; return r; };\n",
    )
    .unwrap();
    std::fs::write(
        functions.join("lower.js"),
        "function handler(event) { event.request.uri = event.request.uri.toLowerCase(); return event.request; }\n",
    )
    .unwrap();
    let edge = edge_with_config_file(&file, &[]);
    let logs = edge.proc.wait_for_log("accepted, not emulated");
    for field in [
        "DistributionConfig.PriceClass",
        "DistributionConfig.ViewerCertificate",
        "DistributionConfig.Origins.Items[0].OriginShield",
        "DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginSslProtocols",
        "DistributionConfig.DefaultCacheBehavior.SmoothStreaming",
    ] {
        assert!(logs.contains(field), "{field} in\n{logs}");
    }
    // ForwardedValues QueryString: the query is forwarded (and keyed); CustomHeaders go along.
    let r = get(&format!("{}/echo/a?q=1", edge.base)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (
            echo["query"].as_str(),
            echo["headers"]["x-from-edge"].as_str()
        ),
        (Some("q=1"), Some("yes")),
        "{echo}"
    );
    assert_eq!(
        get(&format!("{}/echo/a?q=1", edge.base)).await.x_cache(),
        "Hit from cloudfront"
    );
    // CachingDisabled by ID on the other behavior, whose functions are named by ARN: the
    // Lambda@Edge function runs as the version its ARN names.
    for _ in 0..2 {
        let r = get(&format!("{}/nocache/X", edge.base)).await;
        assert_eq!(r.x_cache(), "Miss from cloudfront");
        assert_eq!(
            r.header("x-stamp"),
            "arn:aws:lambda:us-east-1:123456789012:function:stamp:3"
        );
    }
    let echo = get(&format!("{}/nocache/echo/ABC", edge.base)).await;
    assert_eq!(
        echo.text().trim_end(),
        "origin says hello from /nocache/echo/abc",
        "lowercased"
    );
    drop(edge);
    // get-distribution's wrapper (its Id and DomainName) and a bare DistributionConfig load too.
    for text in [
        format!("{{\"ETag\": \"E1\", \"Distribution\": {{\"Id\": \"EDFDVBD6EXAMPLE\", \"DomainName\": \"d111111abcdef8.cloudfront.net\", \"Status\": \"Deployed\", \"DistributionConfig\": {config}}}}}"),
        config.clone(),
    ] {
        std::fs::write(&file, text).unwrap();
        let e = edge_with_config_file(&file, &[]);
        assert_eq!(get(&format!("{}/echo/b", e.base)).await.status, 200);
    }
    // A Quantity that does not match its Items, and a field CloudFront does not have.
    std::fs::write(
        &file,
        config.replacen(
            "\"Quantity\": 1,\n        \"Items\": [{",
            "\"Quantity\": 2,\n        \"Items\": [{",
            1,
        ),
    )
    .unwrap();
    let e = config_refused(&file);
    assert!(
        e.contains("DistributionConfig.Origins.Quantity") && e.contains("does not match"),
        "{e}"
    );
    std::fs::write(
        &file,
        config.replacen("\"PriceClass\"", "\"PriceKlass\"", 1),
    )
    .unwrap();
    let e = config_refused(&file);
    assert!(e.contains("PriceKlass"), "{e}");
    // An unknown field nested in a list: its JSON path, its line and the nearest name.
    std::fs::write(&file, config.replacen("\"HTTPSPort\"", "\"HTTPSPrt\"", 1)).unwrap();
    let e = config_refused(&file);
    assert!(
        e.contains("line 14, column 17 (Origins.Items[0].CustomOriginConfig.HTTPSPrt)")
            && e.contains("did you mean `HTTPSPort`"),
        "{e}"
    );
    // Errors found after the conversion name the JSON's path too.
    std::fs::write(
        &file,
        config.replacen(
            "\"TargetOriginId\": \"mock\"",
            "\"TargetOriginId\": \"nowhere\"",
            1,
        ),
    )
    .unwrap();
    let e = config_refused(&file);
    assert!(
        e.contains("DistributionConfig.DefaultCacheBehavior.TargetOriginId")
            && e.contains("nowhere"),
        "{e}"
    );
    // A function ARN with no local source is refused, naming where it was looked for.
    std::fs::remove_file(functions.join("stamp.js")).unwrap();
    std::fs::write(&file, &config).unwrap();
    let e = config_refused(&file);
    assert!(
        e.contains("DistributionConfig.CacheBehaviors.Items[0].LambdaFunctionAssociations.Items[0].LambdaFunctionARN")
            && e.contains("functions/stamp.js"),
        "{e}"
    );
}
