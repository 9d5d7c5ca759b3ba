//! TLS for the viewer listener (rustls with ALPN h2 + http/1.1, from PEM files or a
//! self-signed certificate made at start) and the origin side's opt-out verifier for local
//! self-signed origins.

use crate::error::NodeError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// A rustls server configuration offering h2 and http/1.1.
pub fn server_config(
    cert: Option<&str>,
    key: Option<&str>,
) -> Result<Arc<rustls::ServerConfig>, NodeError> {
    let (certs, key) = match (cert, key) {
        (Some(c), Some(k)) => load_pem(c, k)?,
        _ => self_signed(&["localhost", "127.0.0.1", "::1"])?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NodeError::Startup(format!("tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| NodeError::Startup(format!("tls certificate: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A rustls server configuration speaking HTTP/1.1 only, from a PEM certificate (chain) and
/// key held in memory (`what` names them in errors): the control API's.
pub fn http1_server_config(
    cert: &str,
    key: &str,
    what: &str,
) -> Result<Arc<rustls::ServerConfig>, NodeError> {
    let (certs, key) = parse_pem(cert.as_bytes(), key.as_bytes(), what)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NodeError::Startup(format!("tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| NodeError::Startup(format!("tls certificate {what}: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A self-signed certificate for `names` (PEM pair), for local use.
pub fn self_signed_pem(names: &[&str]) -> Result<(String, String), NodeError> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names)
        .map_err(|e| NodeError::Startup(format!("self-signed certificate: {e}")))?;
    Ok((ck.cert.pem(), ck.key_pair.serialize_pem()))
}

fn self_signed(
    names: &[&str],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NodeError> {
    let (cert, key) = self_signed_pem(names)?;
    parse_pem(cert.as_bytes(), key.as_bytes(), "self-signed")
}

fn load_pem(
    cert: &str,
    key: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NodeError> {
    let c = std::fs::read(cert)
        .map_err(|e| NodeError::Startup(format!("tls certificate {cert}: {e}")))?;
    let k = std::fs::read(key).map_err(|e| NodeError::Startup(format!("tls key {key}: {e}")))?;
    parse_pem(&c, &k, cert)
}

fn parse_pem(
    cert: &[u8],
    key: &[u8],
    what: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NodeError> {
    let certs = rustls_pemfile::certs(&mut &*cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| NodeError::Startup(format!("tls certificate {what}: {e}")))?;
    if certs.is_empty() {
        return Err(NodeError::Startup(format!(
            "tls certificate {what}: no certificate found"
        )));
    }
    let key = rustls_pemfile::private_key(&mut &*key)
        .map_err(|e| NodeError::Startup(format!("tls key {what}: {e}")))?
        .ok_or_else(|| NodeError::Startup(format!("tls key {what}: no private key found")))?;
    Ok((certs, key))
}

/// Accepts any origin certificate (signatures are still checked). Only for origins configured
/// with `VerifyCertificate = false`, such as a local mock origin with a self-signed certificate.
#[derive(Debug)]
pub struct AcceptAnyCert(pub Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
