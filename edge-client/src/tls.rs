//! How a client trusts the control node over TLS.
//!
//! The control node's own certificate is made from its signing key (ed25519), so the key an
//! edge already pins for signed revisions (`--control-key`, `sha256:` of the 32 key bytes)
//! also authenticates the connection: the certificate must carry exactly that key, and the
//! handshake must be signed by it. Names and validity dates do not matter then (the key is the
//! identity, as with SSH host keys). A control node serving a certificate of the user's own is
//! trusted through the CA (or certificate) given as `--control-ca`, verified as any web
//! server is; without either, the public web roots.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use std::sync::Arc;

/// What a client believes the control node's certificate by.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The control node's key: `sha256:HEX` of its 32 ed25519 key bytes.
    Key(String),
    /// These CA (or self-signed) certificates, PEM.
    Roots(Vec<CertificateDer<'static>>),
    /// The public web roots.
    Web,
}

impl Trust {
    /// The certificates in a PEM file, for `--control-ca`.
    pub fn roots_from(path: &std::path::Path) -> Result<Trust, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let certs = rustls_pemfile::certs(&mut &*text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
        Ok(Trust::Roots(certs))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client configuration trusting `trust` (ALPN is left to the connector).
pub fn client_config(trust: &Trust) -> rustls::ClientConfig {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    match trust {
        Trust::Key(fingerprint) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedKey {
                fingerprint: fingerprint.to_ascii_lowercase(),
                provider,
            }))
            .with_no_client_auth(),
        Trust::Roots(certs) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs {
                let _ = roots.add(c.clone());
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Web => builder
            .with_root_certificates(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth(),
    }
}

/// The DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow.
const ED25519_SPKI: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// `sha256:HEX` of the ed25519 key a certificate carries, if it carries one.
pub fn key_fingerprint(cert: &CertificateDer<'_>) -> Option<String> {
    let ee = webpki::EndEntityCert::try_from(cert).ok()?;
    let spki = ee.subject_public_key_info();
    let key = spki.as_ref().strip_prefix(&ED25519_SPKI[..])?;
    if key.len() != 32 {
        return None;
    }
    let d = ring::digest::digest(&ring::digest::SHA256, key);
    Some(format!(
        "sha256:{}",
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

/// Accepts the one certificate that carries the pinned key (the handshake signature, checked
/// by rustls with the same key, proves the server holds it).
#[derive(Debug)]
struct PinnedKey {
    fingerprint: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedKey {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match key_fingerprint(end_entity) {
            Some(f) if f == self.fingerprint => Ok(ServerCertVerified::assertion()),
            Some(f) => Err(Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(KeyMismatch(format!(
                    "the control node's certificate carries key {f}, not the pinned {}",
                    self.fingerprint
                )))),
            ))),
            None => Err(Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(KeyMismatch(format!(
                    "the control node's certificate is not made from its signing key (pinned {}): give --control-ca for a certificate of your own",
                    self.fingerprint
                )))),
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
struct KeyMismatch(String);

impl std::fmt::Display for KeyMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyMismatch {}
