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

/// The RSA key pair a private-key PEM (`label`, `der`) holds, or `None` for another kind of
/// private key; `not_private` ends the message for a PEM that is no private key.
fn rsa_private(
    label: &str,
    der: &[u8],
    not_private: &str,
) -> Result<Option<signature::RsaKeyPair>, JsErrorBox> {
    let pair = match label {
        "RSA PRIVATE KEY" => signature::RsaKeyPair::from_der(der),
        "PRIVATE KEY" => {
            let (_, inner, _) = tlv(der).ok_or_else(|| bad("the private key is not DER"))?;
            if !contains(inner, RSA_OID) {
                return Ok(None);
            }
            signature::RsaKeyPair::from_pkcs8(der)
        }
        other => return Err(bad(format!("a {other} {not_private}"))),
    };
    pair.map(Some)
        .map_err(|e| bad(format!("the RSA private key: {e}")))
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
    if let Some(pair) = rsa_private(&label, &der, "cannot sign; give a private key")? {
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

const EC_PUBLIC_KEY_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// A DER element: `tag`, its length, `body`.
fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

/// A DER INTEGER of the unsigned big-endian `v`.
fn der_uint(v: &[u8]) -> Vec<u8> {
    let v: &[u8] = &v[v
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(v.len().saturating_sub(1))..];
    let mut body = Vec::with_capacity(v.len() + 1);
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(v);
    der(0x02, &body)
}

fn spki(alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key);
    der(0x30, &[der(0x30, alg), der(0x03, &bits)].concat())
}

fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    spki(&[der(0x06, RSA_OID), vec![0x05, 0x00]].concat(), pkcs1)
}

fn ec_spki(curve: &[u8], point: &[u8]) -> Vec<u8> {
    spki(
        &[der(0x06, EC_PUBLIC_KEY_OID), der(0x06, curve)].concat(),
        point,
    )
}

/// What `crypto.createPublicKey` and `KeyObject.export` need to know about a public key.
#[derive(serde::Serialize)]
pub struct PublicKeyInfo {
    /// `rsa` or `ec`.
    kind: &'static str,
    /// The key as SPKI DER.
    spki: deno_core::ToJsBuffer,
    /// RSA: modulus and exponent; EC: the curve and the point's coordinates (big-endian).
    n: Option<deno_core::ToJsBuffer>,
    e: Option<deno_core::ToJsBuffer>,
    crv: Option<&'static str>,
    x: Option<deno_core::ToJsBuffer>,
    y: Option<deno_core::ToJsBuffer>,
}

/// The public key in `pem` (SPKI or PKCS#1), described.
#[op2]
#[serde]
pub fn op_edge_public_key(#[string] pem_text: &str) -> Result<PublicKeyInfo, JsErrorBox> {
    let (kind, key) = public_key(pem_text)?;
    describe(kind, key)
}

/// A public key of `kind` (PKCS#1 RSAPublicKey, or the EC point), described.
fn describe(kind: Kind, key: Vec<u8>) -> Result<PublicKeyInfo, JsErrorBox> {
    Ok(match kind {
        Kind::Rsa => {
            let (_, seq, _) = tlv(&key).ok_or_else(|| bad("the RSA key is not DER"))?;
            let (_, n, rest) = tlv(seq).ok_or_else(|| bad("the RSA key has no modulus"))?;
            let (_, e, _) = tlv(rest).ok_or_else(|| bad("the RSA key has no exponent"))?;
            let strip = |v: &[u8]| v[v.iter().take_while(|b| **b == 0).count()..].to_vec();
            PublicKeyInfo {
                kind: "rsa",
                spki: rsa_spki(&key).into(),
                n: Some(strip(n).into()),
                e: Some(strip(e).into()),
                crv: None,
                x: None,
                y: None,
            }
        }
        Kind::P256 | Kind::P384 => {
            let (crv, oid, size) = match kind {
                Kind::P256 => ("P-256", P256_OID, 32),
                _ => ("P-384", P384_OID, 48),
            };
            if key.len() != 1 + 2 * size || key[0] != 4 {
                return Err(bad("only uncompressed EC points are supported"));
            }
            PublicKeyInfo {
                kind: "ec",
                spki: ec_spki(oid, &key).into(),
                n: None,
                e: None,
                crv: Some(crv),
                x: Some(key[1..1 + size].to_vec().into()),
                y: Some(key[1 + size..].to_vec().into()),
            }
        }
    })
}

/// SPKI DER of a JWK public key: RSA from `n` and `e`, EC from `crv`, `x` and `y` (each
/// base64url, as JWK has them).
#[op2]
#[buffer]
pub fn op_edge_jwk_spki(
    #[string] kty: &str,
    #[string] a: &str,
    #[string] b: &str,
    #[string] c: &str,
) -> Result<Vec<u8>, JsErrorBox> {
    let b64 = |s: &str, what: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| bad(format!("Invalid JWK {kty} key: {what} is not base64url")))
    };
    match kty {
        "RSA" => {
            let (n, e) = (b64(a, "n")?, b64(b, "e")?);
            if n.is_empty() || e.is_empty() {
                return Err(bad("Invalid JWK RSA key"));
            }
            let pkcs1 = der(0x30, &[der_uint(&n), der_uint(&e)].concat());
            Ok(rsa_spki(&pkcs1))
        }
        "EC" => {
            let (oid, size) = match a {
                "P-256" => (P256_OID, 32),
                "P-384" => (P384_OID, 48),
                other => return Err(bad(format!("Unsupported JWK EC curve: {other}"))),
            };
            let (x, y) = (b64(b, "x")?, b64(c, "y")?);
            if x.len() != size || y.len() != size {
                return Err(bad("Invalid JWK EC key"));
            }
            let point = [&[4u8][..], &x, &y].concat();
            Ok(ec_spki(oid, &point))
        }
        other => Err(bad(format!("Unsupported JWK key type: {other}"))),
    }
}

/// The public half of the private key in `pem` (PKCS#8 or PKCS#1 RSA), described as
/// `op_edge_public_key` describes a public key.
#[op2]
#[serde]
pub fn op_edge_private_key(#[string] pem_text: &str) -> Result<PublicKeyInfo, JsErrorBox> {
    let (label, der_bytes) = pem(pem_text)?;
    let rng = ring::rand::SystemRandom::new();
    if let Some(pair) = rsa_private(&label, &der_bytes, "is not a private key")? {
        return describe(Kind::Rsa, pair.public().as_ref().to_vec());
    }
    let (_, inner, _) = tlv(&der_bytes).ok_or_else(|| bad("the private key is not DER"))?;
    let (alg, kind) = if contains(inner, P256_OID) {
        (&signature::ECDSA_P256_SHA256_ASN1_SIGNING, Kind::P256)
    } else if contains(inner, P384_OID) {
        (&signature::ECDSA_P384_SHA384_ASN1_SIGNING, Kind::P384)
    } else {
        return Err(bad("unsupported private key (RSA, EC P-256 and P-384 are)"));
    };
    let pair = signature::EcdsaKeyPair::from_pkcs8(alg, &der_bytes, &rng)
        .map_err(|e| bad(format!("the EC private key: {e}")))?;
    describe(kind, pair.public_key().as_ref().to_vec())
}
