//! TLS with ALPN: an HTTP/2 request through a rustls client.

use crate::harness::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;

#[tokio::test]
async fn tls_http2_request_through_rustls() {
    let origin = origin();
    let edge = Proc::spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--tls-listen",
        "127.0.0.1:0",
        "--origin",
        &origin.base,
    ]);
    let addr = edge.addr("tls");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(edge_node::tls::AcceptAnyCert(provider)))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    for expected in [x_cache::MISS, x_cache::HIT] {
        let req = http::Request::get(format!(
            "https://{addr}/bytes/100?cache_control=max-age%3D60"
        ))
        .body(Empty::<Bytes>::new())
        .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.version(), http::Version::HTTP_2);
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-cache"], expected);
        assert!(resp.headers()["via"].to_str().unwrap().starts_with("2.0 "));
        assert_eq!(
            resp.into_body().collect().await.unwrap().to_bytes().len(),
            100
        );
    }
    assert_eq!(origin.total().await, 1);
}

#[tokio::test]
async fn http2_prior_knowledge_on_the_plain_listener() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let tcp = tokio::net::TcpStream::connect(edge.proc.addr("http"))
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(format!("{}/h2c", edge.base))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["via"].to_str().unwrap().starts_with("2.0 "));
}

#[tokio::test]
async fn https_origins_with_self_signed_certificates() {
    let origin = Proc::spawn(&["origin", "--listen", "127.0.0.1:0", "--tls"]);
    let port = origin.addr("https").rsplit(':').next().unwrap().to_string();
    let cfg = format!(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "tls"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPSPort = {port}
OriginProtocolPolicy = "https-only"
VerifyCertificate = false
[distributions.DefaultCacheBehavior]
"#
    );
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let r = get(&format!("{}/bytes/10", edge.base)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body.len(), 10);
    // Verification on (the default) refuses the self-signed certificate: 502.
    let strict = cfg.replace("VerifyCertificate = false\n", "");
    let (edge, _cfg) = edge_with_config(&strict, &[]);
    assert_eq!(get(&format!("{}/bytes/10", edge.base)).await.status, 502);
}
