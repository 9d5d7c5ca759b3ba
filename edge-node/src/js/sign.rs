//! Signatures for `crypto.createSign` / `createVerify` (and `crypto.sign` / `verify`): RSA
//! PKCS#1 v1.5 and ECDSA (P-256, P-384) with SHA-256/384/512 — what JWT libraries use for
//! RS256/384/512 and ES256/384 — through `ring`. Keys are PEM: `PUBLIC KEY` (SPKI),
//! `RSA PUBLIC KEY` (PKCS#1), `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).

use base64::Engine;
use deno_core::op2;
use deno_error::JsErrorBox;
use ring::signature::{self, KeyPair};

fn bad(msg: impl Into<String>) -> JsErrorBox {
    JsErrorBox::type_error(msg.into())
}

/// The PEM's label and its DER.
fn pem(text: &str) -> Result<(String, Vec<u8>), JsErrorBox> {
    let text = text.trim();
    let label = text
        .strip_prefix("-----BEGIN ")
        .and_then(|r| r.split_once("-----"))
        .map(|(l, _)| l.to_string())
        .ok_or_else(|| bad("the key is not a PEM (-----BEGIN ...-----)"))?;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.trim().chars())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| bad("the key's PEM body is not base64"))?;
    Ok((label, der))
}

/// One DER element at the start of `der`: (tag, contents, rest).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const P256_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

#[derive(Clone, Copy)]
enum Kind {
    Rsa,
    P256,
    P384,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A public key: its kind and the bytes ring verifies with (PKCS#1 RSAPublicKey, or the EC point).
fn public_key(text: &str) -> Result<(Kind, Vec<u8>), JsErrorBox> {
    let (label, der) = pem(text)?;
    match label.as_str() {
        "RSA PUBLIC KEY" => Ok((Kind::Rsa, der)),
        "PUBLIC KEY" => {
            let (_, spki, _) = tlv(&der).ok_or_else(|| bad("the public key is not DER"))?;
            let (_, alg, rest) = tlv(spki).ok_or_else(|| bad("the public key has no algorithm"))?;
            let (tag, bits, _) = tlv(rest).ok_or_else(|| bad("the public key has no key"))?;
            if tag != 0x03 || bits.is_empty() {
                return Err(bad("the public key's key is not a bit string"));
            }
            let kind = if contains(alg, RSA_OID) {
                Kind::Rsa
            } else if contains(alg, P256_OID) {
                Kind::P256
            } else if contains(alg, P384_OID) {
                Kind::P384
            } else {
                return Err(bad("unsupported key type (RSA, EC P-256 and P-384 are)"));
            };
            Ok((kind, bits[1..].to_vec()))
        }
        other => Err(bad(format!("a {other} cannot verify; give a public key"))),
    }
}

/// SHA-256, -384 or -512 from Node's algorithm names (`RSA-SHA256`, `sha256`, `SHA256`, …).
fn hash_of(alg: &str) -> Result<u16, JsErrorBox> {
    let a = alg.to_ascii_lowercase();
    let a = a
        .trim_start_matches("rsa-")
        .trim_start_matches("ecdsa-with-");
    match a.replace('-', "").as_str() {
        "sha256" => Ok(256),
        "sha384" => Ok(384),
        "sha512" => Ok(512),
        _ => Err(bad(format!("Invalid digest: {alg}"))),
    }
}

#[op2(fast)]
pub fn op_edge_verify(
    #[string] alg: &str,
    #[string] key: &str,
    #[buffer] data: &[u8],
    #[buffer] sig: &[u8],
    ieee: bool,
) -> Result<bool, JsErrorBox> {
    let hash = hash_of(alg)?;
    let (kind, key) = public_key(key)?;
    let algorithm: &dyn signature::VerificationAlgorithm = match (kind, hash, ieee) {
        (Kind::Rsa, 256, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (Kind::Rsa, 384, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (Kind::Rsa, _, _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (Kind::P256, 256, false) => &signature::ECDSA_P256_SHA256_ASN1,
        (Kind::P256, 256, true) => &signature::ECDSA_P256_SHA256_FIXED,
        (Kind::P384, 384, false) => &signature::ECDSA_P384_SHA384_ASN1,
        (Kind::P384, 384, true) => &signature::ECDSA_P384_SHA384_FIXED,
        _ => return Err(bad(format!("{alg} does not go with this EC key"))),
    };
    Ok(signature::UnparsedPublicKey::new(algorithm, key)
        .verify(data, sig)
        .is_ok())
}

#[op2]
#[buffer]
pub fn op_edge_sign(
    #[string] alg: &str,
    #[string] key: &str,
    #[buffer] data: &[u8],
    ieee: bool,
) -> Result<Vec<u8>, JsErrorBox> {
    let hash = hash_of(alg)?;
    let (label, der) = pem(key)?;
    let rng = ring::rand::SystemRandom::new();
    let rsa = match label.as_str() {
        "RSA PRIVATE KEY" => Some(signature::RsaKeyPair::from_der(&der)),
        "PRIVATE KEY" => {
            let (_, inner, _) = tlv(&der).ok_or_else(|| bad("the private key is not DER"))?;
            contains(inner, RSA_OID).then(|| signature::RsaKeyPair::from_pkcs8(&der))
        }
        other => return Err(bad(format!("a {other} cannot sign; give a private key"))),
    };
    if let Some(pair) = rsa {
        let pair = pair.map_err(|e| bad(format!("the RSA private key: {e}")))?;
        let padding: &dyn signature::RsaEncoding = match hash {
            256 => &signature::RSA_PKCS1_SHA256,
            384 => &signature::RSA_PKCS1_SHA384,
            _ => &signature::RSA_PKCS1_SHA512,
        };
        let mut out = vec![0u8; pair.public().modulus_len()];
        pair.sign(padding, &rng, data, &mut out)
            .map_err(|_| bad("signing failed"))?;
        return Ok(out);
    }
    let (_, inner, _) = tlv(&der).ok_or_else(|| bad("the private key is not DER"))?;
    let algorithm = match (
        contains(inner, P256_OID),
        contains(inner, P384_OID),
        hash,
        ieee,
    ) {
        (true, _, 256, false) => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        (true, _, 256, true) => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        (_, true, 384, false) => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        (_, true, 384, true) => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => {
            return Err(bad(
                "unsupported private key (RSA, EC P-256 and P-384 are) or digest",
            ))
        }
    };
    let pair = signature::EcdsaKeyPair::from_pkcs8(algorithm, &der, &rng)
        .map_err(|e| bad(format!("the EC private key: {e}")))?;
    let _ = pair.public_key();
    Ok(pair
        .sign(&rng, data)
        .map_err(|_| bad("signing failed"))?
        .as_ref()
        .to_vec())
}
