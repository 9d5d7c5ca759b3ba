//! Signed revisions. The control node holds an ed25519 key made with its store and signs the
//! exact bytes of every state it sends (the state names each function package and store
//! snapshot by SHA-256, so the signature covers the code too). An edge is given the public key
//! or its fingerprint (`--control-key`) and applies, saves and reloads nothing that does not
//! verify. Formats are the standard ones, so `openssl pkey -pubin -in control.pub` reads the
//! public key: a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RFC 8410) and a PEM `PRIVATE KEY`
//! (PKCS#8).

use crate::replica::State;
use base64::Engine;
use ring::signature::{self, KeyPair};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The DER of an ed25519 SubjectPublicKeyInfo up to the 32 key bytes (RFC 8410 §4).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    pub fn from_bytes(b: &[u8]) -> Option<PublicKey> {
        b.try_into().ok().map(PublicKey)
    }

    /// `sha256:` and the hex SHA-256 of the 32 key bytes: what `--control-key` accepts.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", crate::js::sha256_hex(&self.0))
    }

    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.0);
        pem("PUBLIC KEY", &der)
    }

    pub fn from_pem(text: &str) -> Result<PublicKey, String> {
        let der = unpem(text, "PUBLIC KEY")?;
        der.strip_prefix(&SPKI_PREFIX[..])
            .and_then(PublicKey::from_bytes)
            .ok_or_else(|| "not an ed25519 public key (SubjectPublicKeyInfo)".to_string())
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

/// What an edge trusts: the control node's public key, or only its fingerprint (the key then
/// comes with each state and must hash to it).
#[derive(Debug, Clone)]
pub enum Pin {
    Key(PublicKey),
    Fingerprint(String),
}

impl Pin {
    /// `sha256:HEX` (or bare HEX) is a fingerprint; anything else names a PEM file.
    pub fn parse(arg: &str) -> Result<Pin, String> {
        let hex = arg.strip_prefix("sha256:").unwrap_or(arg);
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Pin::Fingerprint(format!(
                "sha256:{}",
                hex.to_ascii_lowercase()
            )));
        }
        let text = std::fs::read_to_string(arg).map_err(|e| {
            format!(
                "--control-key {arg}: cannot read it ({e}); give the control node's public key \
                 file (DATA_DIR/control.pub) or its fingerprint (sha256:HEX, in its ready line)"
            )
        })?;
        PublicKey::from_pem(&text)
            .map(Pin::Key)
            .map_err(|e| format!("--control-key {arg}: {e}"))
    }

    pub fn fingerprint(&self) -> String {
        match self {
            Pin::Key(k) => k.fingerprint(),
            Pin::Fingerprint(f) => f.clone(),
        }
    }

    fn accepts(&self, key: &PublicKey) -> bool {
        match self {
            Pin::Key(k) => k == key,
            Pin::Fingerprint(f) => key.fingerprint() == *f,
        }
    }
}

/// A state as the control node sends it and an edge saves it: the state's JSON text exactly as
/// signed, the signature over those bytes, and the signer's public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signed {
    pub key: String,
    pub signature: String,
    pub state: String,
}

impl Signed {
    /// The state, if `pin` trusts the key and the signature over the text verifies.
    pub fn open(&self, pin: &Pin) -> Result<State, String> {
        let key = B64
            .decode(&self.key)
            .ok()
            .and_then(|b| PublicKey::from_bytes(&b))
            .ok_or("the signing key is not an ed25519 key")?;
        if !pin.accepts(&key) {
            return Err(format!(
                "signed by {}, not by the pinned control key {}: refused",
                key.fingerprint(),
                pin.fingerprint()
            ));
        }
        let sig = B64
            .decode(&self.signature)
            .map_err(|_| "the signature is not base64")?;
        if !key.verify(self.state.as_bytes(), &sig) {
            return Err("the signature does not verify: the state was altered; refused".into());
        }
        serde_json::from_str(&self.state).map_err(|e| format!("bad state: {e}"))
    }

    /// The revision the text claims, before it is verified (only to know what was refused).
    pub fn claimed_revision(&self) -> Option<u64> {
        #[derive(Deserialize)]
        struct Claim {
            revision: u64,
        }
        serde_json::from_str::<Claim>(&self.state)
            .ok()
            .map(|c| c.revision)
    }
}

/// The control node's signing key.
pub struct SigningKey {
    pair: signature::Ed25519KeyPair,
    /// The key as stored (PKCS#8 DER), to make the TLS certificate from.
    pkcs8: Vec<u8>,
}

impl SigningKey {
    /// The key in `path` (PEM PKCS#8), made there (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), String> {
        let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let der = unpem(&text, "PRIVATE KEY").map_err(|e| at(&e))?;
                let pair = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map_err(|e| at(&format!("not an ed25519 PKCS#8 key ({e})")))?;
                Ok((SigningKey { pair, pkcs8: der }, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let rng = ring::rand::SystemRandom::new();
                let der = signature::Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|e| at(&format!("cannot make a key ({e})")))?;
                let pair =
                    signature::Ed25519KeyPair::from_pkcs8(der.as_ref()).map_err(|e| at(&e))?;
                write_private(path, pem("PRIVATE KEY", der.as_ref()).as_bytes())
                    .map_err(|e| at(&e))?;
                Ok((
                    SigningKey {
                        pair,
                        pkcs8: der.as_ref().to_vec(),
                    },
                    true,
                ))
            }
            Err(e) => Err(at(&e)),
        }
    }

    /// A self-signed TLS certificate for `names` carrying this key (PEM certificate and key):
    /// a client that pins the key's fingerprint trusts it (edge_client::tls).
    pub fn certificate(&self, names: &[String]) -> Result<(String, String), String> {
        let der = rustls::pki_types::PrivatePkcs8KeyDer::from(self.pkcs8.clone());
        let kp = rcgen::KeyPair::from_der_and_sign_algo(&der.into(), &rcgen::PKCS_ED25519)
            .map_err(|e| format!("the signing key cannot make a certificate: {e}"))?;
        let mut params = rcgen::CertificateParams::new(names.to_vec())
            .map_err(|e| format!("certificate names {names:?}: {e}"))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "edge control node");
        let cert = params
            .self_signed(&kp)
            .map_err(|e| format!("cannot make the certificate: {e}"))?;
        Ok((cert.pem(), kp.serialize_pem()))
    }

    pub fn public(&self) -> PublicKey {
        let mut b = [0u8; 32];
        b.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(b)
    }

    pub fn sign(&self, state: &State) -> Signed {
        // Serializing a struct of strings, numbers and vectors cannot fail.
        let text = serde_json::to_string(state).unwrap_or_default();
        Signed {
            key: B64.encode(self.pair.public_key().as_ref()),
            signature: B64.encode(self.pair.sign(text.as_bytes()).as_ref()),
            state: text,
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(text: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(b, _)| b)
        .ok_or_else(|| format!("no PEM {label} block"))?;
    let b64: String = body.split_whitespace().collect();
    B64.decode(b64)
        .map_err(|e| format!("the PEM {label} block is not base64 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_verifies_only_unaltered_and_under_the_pinned_key() {
        let dir = tempfile::tempdir().unwrap();
        let (key, made) = SigningKey::load_or_create(&dir.path().join("k")).unwrap();
        assert!(made);
        let (again, made) = SigningKey::load_or_create(&dir.path().join("k")).unwrap();
        assert!(!made);
        assert_eq!(key.public(), again.public());
        let pem = key.public().to_pem();
        assert_eq!(PublicKey::from_pem(&pem).unwrap(), key.public());

        let state = State {
            revision: 7,
            ..Default::default()
        };
        let signed = key.sign(&state);
        let by_key = Pin::Key(key.public());
        let by_print = Pin::parse(&key.public().fingerprint()).unwrap();
        assert_eq!(signed.open(&by_key).unwrap().revision, 7);
        assert_eq!(signed.open(&by_print).unwrap().revision, 7);

        let mut altered = signed.clone();
        altered.state = altered.state.replace("7", "8");
        assert!(altered
            .open(&by_key)
            .unwrap_err()
            .contains("does not verify"));
        assert_eq!(altered.claimed_revision(), Some(8));

        let (other, _) = SigningKey::load_or_create(&dir.path().join("other")).unwrap();
        let foreign = other.sign(&state);
        assert!(foreign
            .open(&by_key)
            .unwrap_err()
            .contains("not by the pinned"));
        assert!(foreign
            .open(&by_print)
            .unwrap_err()
            .contains("not by the pinned"));
        assert!(Pin::parse("/nonexistent/key.pub")
            .unwrap_err()
            .contains("cannot read"));
    }
}
