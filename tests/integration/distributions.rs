//! CloudFront distribution features through a real edge node (issue #15's list): what a
//! distribution's settings do to requests, each as CloudFront documents it.

use crate::configs::NodeToml;
use crate::harness::*;
use serde_json::Value;

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
        let path = write_temp(&text);
        let err = config_refused(&path);
        assert!(
            err.contains("GeoRestriction") && err.contains(says),
            "{says}: {err}"
        );
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
