//! Signed URLs and signed cookies (docs/cloudfront-behaviour.md: "Signed URLs and cookies"): a
//! cache behavior with `TrustedKeyGroups` serves only requests that carry a policy signed by one
//! of the groups' keys — in the query (`Expires` or `Policy`, `Signature`, `Key-Pair-Id`) or in
//! cookies (`CloudFront-Expires` or `CloudFront-Policy`, `CloudFront-Signature`,
//! `CloudFront-Key-Pair-Id`) — whose conditions hold. The signature is RSA with SHA-1 over the
//! policy statement, in CloudFront's URL-safe base64 (`+` `=` `/` written `-` `_` `~`).

use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use sha1::Sha1;
use std::net::IpAddr;

/// The public keys a behavior trusts, by their IDs (a key group's public keys).
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(String, VerifyingKey<Sha1>)>,
}

impl TrustedKeys {
    /// Adds `id`'s PEM public key (`-----BEGIN PUBLIC KEY-----`, as CloudFront takes it).
    pub fn add(&mut self, id: &str, pem: &str) -> Result<(), String> {
        let key = RsaPublicKey::from_public_key_pem(pem.trim())
            .map_err(|e| format!("not an RSA public key in PEM (BEGIN PUBLIC KEY): {e}"))?;
        self.keys.push((id.to_string(), VerifyingKey::new(key)));
        Ok(())
    }

    /// Adds every key of `other` (a behavior trusts all its key groups' keys).
    pub fn extend(&mut self, other: &TrustedKeys) {
        self.keys.extend(other.keys.iter().cloned());
    }

    fn key(&self, id: &str) -> Option<&VerifyingKey<Sha1>> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }
}

/// Why a request is refused, as CloudFront's 403 says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No `Key-Pair-Id` in the query or the cookies.
    MissingKey,
    /// A `Key-Pair-Id` that none of the trusted key groups has.
    UnknownKey,
    /// Anything else: no or a bad signature, a malformed policy, expired, not yet valid, another
    /// resource or another viewer address.
    AccessDenied,
}

impl Denied {
    /// (`Code`, `Message`) of CloudFront's XML error body.
    pub fn code_and_message(self) -> (&'static str, &'static str) {
        match self {
            Denied::MissingKey => (
                "MissingKey",
                "Missing Key-Pair-Id query parameter or cookie value",
            ),
            Denied::UnknownKey => ("InvalidKey", "Unknown Key"),
            Denied::AccessDenied => ("AccessDenied", "Access denied"),
        }
    }
}

/// The query parameters a signed URL adds (never the viewer's own).
const SIGNING_PARAMS: [&str; 4] = ["Expires", "Policy", "Signature", "Key-Pair-Id"];

/// What a request must show for `keys` to let it in.
pub struct Request<'a> {
    /// `http` or `https`, as the viewer connected.
    pub scheme: &'a str,
    /// The Host the viewer asked for.
    pub host: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// `Cookie` header values.
    pub cookies: &'a [&'a str],
    pub viewer: IpAddr,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

/// Checks a request against `keys`. `Ok` carries the query without the signing parameters
/// (`None` when the URL had none): what the cache key and the origin see.
pub fn check(keys: &TrustedKeys, r: &Request<'_>) -> Result<Option<String>, Denied> {
    let pairs: Vec<(&str, &str)> = r
        .query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let signed_url = pairs.iter().any(|(n, _)| SIGNING_PARAMS.contains(n));
    let own_query = signed_url.then(|| {
        r.query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| !SIGNING_PARAMS.contains(&p.split_once('=').map_or(*p, |(n, _)| n)))
            .collect::<Vec<_>>()
            .join("&")
    });
    let cookie = |name: &str| {
        r.cookies
            .iter()
            .flat_map(|c| c.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    };
    let get = |name: &str| -> Option<&str> {
        if signed_url {
            pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        } else {
            cookie(&format!("CloudFront-{name}"))
        }
    };
    let key_id = get("Key-Pair-Id")
        .filter(|k| !k.is_empty())
        .ok_or(Denied::MissingKey)?;
    let key = keys.key(key_id).ok_or(Denied::UnknownKey)?;
    let signature = get("Signature")
        .and_then(|s| decode(s).ok())
        .and_then(|s| Signature::try_from(s.as_slice()).ok())
        .ok_or(Denied::AccessDenied)?;
    // The URL the policy is about: the viewer's own query without the signing parameters.
    let query = match &own_query {
        Some(q) => Some(q.as_str()),
        None => r.query,
    }
    .filter(|q| !q.is_empty());
    let url = match query {
        Some(q) => format!("{}://{}{}?{q}", r.scheme, r.host, r.path),
        None => format!("{}://{}{}", r.scheme, r.host, r.path),
    };
    let (statement, canned_expires) = match (get("Policy"), get("Expires")) {
        (Some(p), _) => (decode(p).map_err(|_| Denied::AccessDenied)?, None),
        (None, Some(e)) => {
            let expires: u64 = e.parse().map_err(|_| Denied::AccessDenied)?;
            (canned_policy(&url, expires).into_bytes(), Some(expires))
        }
        (None, None) => return Err(Denied::AccessDenied),
    };
    key.verify(&statement, &signature)
        .map_err(|_| Denied::AccessDenied)?;
    if let Some(expires) = canned_expires {
        return if r.now < expires {
            Ok(own_query)
        } else {
            Err(Denied::AccessDenied)
        };
    }
    let policy: Value = serde_json::from_slice(&statement).map_err(|_| Denied::AccessDenied)?;
    if custom_policy_allows(&policy, &url, r.viewer, r.now) {
        Ok(own_query)
    } else {
        Err(Denied::AccessDenied)
    }
}

/// A custom policy's one statement: its resource (wildcards `*` and `?`), its dates and its
/// source address.
fn custom_policy_allows(policy: &Value, url: &str, viewer: IpAddr, now: u64) -> bool {
    let Some([s]) = policy["Statement"].as_array().map(Vec::as_slice) else {
        return false;
    };
    if let Some(resource) = s.get("Resource") {
        match resource.as_str() {
            Some(pattern) if wildcard(pattern, url) => {}
            _ => return false,
        }
    }
    let c = &s["Condition"];
    let epoch = |v: &Value| v["AWS:EpochTime"].as_u64();
    let Some(until) = epoch(&c["DateLessThan"]) else {
        return false;
    };
    if now >= until {
        return false;
    }
    if let Some(after) = c.get("DateGreaterThan") {
        match epoch(after) {
            Some(t) if now >= t => {}
            _ => return false,
        }
    }
    if let Some(ip) = c.get("IpAddress") {
        let allowed = ip["AWS:SourceIp"].as_str().and_then(parse_cidr);
        match allowed {
            Some((net, bits)) if in_network(viewer, net, bits) => {}
            _ => return false,
        }
    }
    true
}

/// `pattern` with `*` (any run of characters) and `?` (one character) against `text`.
fn wildcard(pattern: &str, text: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(text)
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = s.split_once('/').unwrap_or((s, ""));
    let addr: IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = if bits.is_empty() {
        max
    } else {
        bits.trim().parse().ok().filter(|b| *b <= max)?
    };
    Some((addr, bits))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The statement of a canned policy for `url` until `expires`, byte for byte as CloudFront
/// builds it to check the signature.
pub fn canned_policy(url: &str, expires: u64) -> String {
    format!(
        "{{\"Statement\":[{{\"Resource\":\"{url}\",\"Condition\":{{\"DateLessThan\":{{\"AWS:EpochTime\":{expires}}}}}}}]}}"
    )
}

/// CloudFront's URL-safe base64 of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('+', "-")
        .replace('=', "_")
        .replace('/', "~")
}

fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let std = s.replace('-', "+").replace('_', "=").replace('~', "/");
    base64::engine::general_purpose::STANDARD.decode(std)
}

/// The `Signature` of `statement` with an RSA private key in PEM (PKCS#1 `BEGIN RSA PRIVATE
/// KEY`, as CloudFront's key pairs come, or PKCS#8 `BEGIN PRIVATE KEY`).
pub fn sign(statement: &[u8], private_pem: &str) -> Result<String, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let pem = private_pem.trim();
    let key = RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
        .map_err(|e| format!("not an RSA private key in PEM: {e}"))?;
    let signature = SigningKey::<Sha1>::new(key).sign(statement);
    Ok(encode(&signature.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = include_str!("../../../tests/data/signed-urls/private_key.pem");
    const PUBLIC: &str = include_str!("../../../tests/data/signed-urls/public_key.pem");

    fn keys() -> TrustedKeys {
        let mut k = TrustedKeys::default();
        k.add("K1", PUBLIC).unwrap();
        k
    }

    fn request<'a>(query: Option<&'a str>, cookies: &'a [&'a str], now: u64) -> Request<'a> {
        Request {
            scheme: "https",
            host: "d111111abcdef8.cloudfront.net",
            path: "/private/a.jpg",
            query,
            cookies,
            viewer: "192.0.2.10".parse().unwrap(),
            now,
        }
    }

    #[test]
    fn a_canned_url_is_good_until_it_expires_and_only_for_its_url() {
        let url = "https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large";
        let sig = sign(canned_policy(url, 2_000).as_bytes(), PRIVATE).unwrap();
        let q = format!("size=large&Expires=2000&Signature={sig}&Key-Pair-Id=K1");
        assert_eq!(
            check(&keys(), &request(Some(&q), &[], 1_999)),
            Ok(Some("size=large".into()))
        );
        assert_eq!(
            check(&keys(), &request(Some(&q), &[], 2_000)),
            Err(Denied::AccessDenied)
        );
        let other = q.replace("size=large", "size=small");
        assert_eq!(
            check(&keys(), &request(Some(&other), &[], 1)),
            Err(Denied::AccessDenied)
        );
        let later = q.replace("Expires=2000", "Expires=9999");
        assert_eq!(
            check(&keys(), &request(Some(&later), &[], 1)),
            Err(Denied::AccessDenied)
        );
        let no_key = q.replace("&Key-Pair-Id=K1", "");
        assert_eq!(
            check(&keys(), &request(Some(&no_key), &[], 1)),
            Err(Denied::MissingKey)
        );
        let stranger = q.replace("Key-Pair-Id=K1", "Key-Pair-Id=K9");
        assert_eq!(
            check(&keys(), &request(Some(&stranger), &[], 1)),
            Err(Denied::UnknownKey)
        );
        assert_eq!(
            check(&keys(), &request(None, &[], 1)),
            Err(Denied::MissingKey)
        );
    }

    #[test]
    fn custom_policies_in_cookies_check_resource_dates_and_address() {
        let policy = r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/private/*","Condition":{"DateLessThan":{"AWS:EpochTime":2000},"DateGreaterThan":{"AWS:EpochTime":1000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}"#;
        let sig = sign(policy.as_bytes(), PRIVATE).unwrap();
        let cookie = format!(
            "CloudFront-Policy={}; CloudFront-Signature={sig}; CloudFront-Key-Pair-Id=K1",
            encode(policy.as_bytes())
        );
        let cookies = [cookie.as_str()];
        assert_eq!(check(&keys(), &request(None, &cookies, 1_500)), Ok(None));
        assert_eq!(
            check(&keys(), &request(None, &cookies, 999)),
            Err(Denied::AccessDenied)
        );
        assert_eq!(
            check(&keys(), &request(None, &cookies, 2_000)),
            Err(Denied::AccessDenied)
        );
        let mut far = request(None, &cookies, 1_500);
        far.viewer = "198.51.100.1".parse().unwrap();
        assert_eq!(check(&keys(), &far), Err(Denied::AccessDenied));
        let mut elsewhere = request(None, &cookies, 1_500);
        elsewhere.path = "/public/a.jpg";
        assert_eq!(check(&keys(), &elsewhere), Err(Denied::AccessDenied));
        let tampered = cookie.replace("CloudFront-Policy=", "CloudFront-Policy=x");
        assert_eq!(
            check(&keys(), &request(None, &[tampered.as_str()], 1_500)),
            Err(Denied::AccessDenied)
        );
    }

    #[test]
    fn cloudfronts_base64_round_trips() {
        for bytes in [&b"\xfb\xff\xfe"[..], b"a", b"ab", b"abc"] {
            let e = encode(bytes);
            assert!(!e.contains(['+', '/', '=']), "{e}");
            assert_eq!(decode(&e).unwrap(), bytes);
        }
    }
}
