//! The one way the node builds an HTTP(S) client connector: rustls with the web PKI roots
//! (or, for an origin configured with `VerifyCertificate = false`, any certificate), HTTP/1.1,
//! plain `http://` allowed. Used by the origin clients and by functions' `fetch`.

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use std::sync::Arc;
use std::time::Duration;

pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A connector for `http://` and `https://` URLs.
pub fn connector(
    verify_certificate: bool,
    connect_timeout: Option<Duration>,
) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(connect_timeout);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(verify_certificate))
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

fn tls_config(verify: bool) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    // hyper-rustls sets ALPN (http/1.1) itself.
    if verify {
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(crate::tls::AcceptAnyCert(provider)))
            .with_no_client_auth()
    }
}
