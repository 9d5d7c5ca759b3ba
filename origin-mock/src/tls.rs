//! The mock origin's TLS: a PEM certificate and key, or a self-signed certificate for the
//! loopback names (the edge reaches a self-signed origin with `VerifyCertificate = false`).
//! Written here rather than borrowed from the edge node: the mock depends on nothing of ours.

use anyhow::{anyhow, Context};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

pub fn server_config(
    cert: Option<&str>,
    key: Option<&str>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let (cert_pem, key_pem) = match (cert, key) {
        (Some(c), Some(k)) => (
            std::fs::read(c).with_context(|| format!("tls certificate {c}"))?,
            std::fs::read(k).with_context(|| format!("tls key {k}"))?,
        ),
        _ => {
            let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
            let ck =
                rcgen::generate_simple_self_signed(names).context("self-signed certificate")?;
            (
                ck.cert.pem().into_bytes(),
                ck.key_pair.serialize_pem().into_bytes(),
            )
        }
    };
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &*cert_pem)
        .collect::<Result<_, _>>()
        .context("tls certificate")?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &*key_pem)
        .context("tls key")?
        .ok_or_else(|| anyhow!("tls key: no private key found"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("tls certificate")?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
