//! The `CloudFront-*` viewer headers (docs/cloudfront-behaviour.md: "Viewer headers"): which ones a
//! behavior asks for, their values and formats, added to the request after viewer-request.

use super::{device, GeoDb, GeoInfo};
use crate::config::Protocol;
use http::{HeaderMap, HeaderName, HeaderValue, Version};
use std::net::{IpAddr, SocketAddr};

/// Every CloudFront header this node can add (lowercase).
pub const SUPPORTED: [&str; 21] = [
    "cloudfront-viewer-address",
    "cloudfront-viewer-asn",
    "cloudfront-viewer-country",
    "cloudfront-viewer-country-name",
    "cloudfront-viewer-country-region",
    "cloudfront-viewer-country-region-name",
    "cloudfront-viewer-city",
    "cloudfront-viewer-postal-code",
    "cloudfront-viewer-time-zone",
    "cloudfront-viewer-latitude",
    "cloudfront-viewer-longitude",
    "cloudfront-viewer-metro-code",
    "cloudfront-viewer-http-version",
    "cloudfront-viewer-tls",
    "cloudfront-forwarded-proto",
    "cloudfront-is-mobile-viewer",
    "cloudfront-is-desktop-viewer",
    "cloudfront-is-tablet-viewer",
    "cloudfront-is-smarttv-viewer",
    "cloudfront-is-ios-viewer",
    "cloudfront-is-android-viewer",
];

/// Headers only an origin request policy may add (not a cache policy).
pub fn origin_policy_only(name: &str) -> bool {
    matches!(
        name,
        "cloudfront-viewer-address"
            | "cloudfront-viewer-asn"
            | "cloudfront-viewer-tls"
            | "cloudfront-viewer-ja3-fingerprint"
            | "cloudfront-viewer-ja4-fingerprint"
            | "cloudfront-viewer-header-order"
            | "cloudfront-viewer-header-count"
    )
}

fn needs_geo(name: &str) -> bool {
    name.starts_with("cloudfront-viewer-")
        && !matches!(
            name,
            "cloudfront-viewer-address"
                | "cloudfront-viewer-http-version"
                | "cloudfront-viewer-tls"
        )
}

/// Who is asking, for the headers that do not come from the databases.
pub struct ViewerFacts<'a> {
    pub ip: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    pub version: Version,
    pub user_agent: Option<&'a str>,
    /// The connection's TLS (HTTPS only).
    pub tls: Option<crate::driver::TlsInfo>,
}

/// CloudFront's viewer headers as a CloudFront function's event shows them without adding them
/// to the request (cloudfront::event): the request's own headers of these `names` are left out
/// and `values`, those with a value, shown after the request's headers.
#[derive(Debug, Clone, Copy)]
pub struct Added<'a> {
    pub names: &'a [HeaderName],
    pub values: &'a [(HeaderName, HeaderValue)],
}

impl Added<'_> {
    pub const NONE: Added<'static> = Added {
        names: &[],
        values: &[],
    };

    /// Whether the request's own header `name` is left out.
    pub fn hides(&self, name: &HeaderName) -> bool {
        !self.names.is_empty()
            && name.as_str().starts_with("cloudfront-")
            && self.names.contains(name)
    }

    /// `headers` with these added as `add` would have added them.
    pub fn applied_to(&self, headers: &HeaderMap) -> HeaderMap {
        let mut out = headers.clone();
        for name in self.names {
            out.remove(name);
        }
        for (name, value) in self.values {
            out.insert(name.clone(), value.clone());
        }
        out
    }
}

/// What is known of the viewer beyond the request: its location (only looked up when one of
/// `wanted` needs it) and its device.
fn lookups(
    wanted: &[HeaderName],
    geo: Option<&GeoDb>,
    v: &ViewerFacts<'_>,
) -> (GeoInfo, device::Device) {
    let info = if wanted.iter().any(|n| needs_geo(n.as_str())) {
        geo.map(|g| g.lookup(v.ip)).unwrap_or_default()
    } else {
        GeoInfo::default()
    };
    (info, device::classify(v.user_agent.unwrap_or("")))
}

/// Each of `wanted` that has a value, with it: what `add` sets.
pub fn values(
    wanted: &[HeaderName],
    geo: Option<&GeoDb>,
    v: &ViewerFacts<'_>,
) -> Vec<(HeaderName, HeaderValue)> {
    let (info, dev) = lookups(wanted, geo, v);
    wanted
        .iter()
        .filter_map(|name| {
            let val = value(name.as_str(), &info, &dev, v)?;
            Some((name.clone(), HeaderValue::from_str(&val).ok()?))
        })
        .collect()
}

/// Sets (or, without a value, removes) each of `wanted` on `headers`, overwriting what the
/// viewer sent under those names.
pub fn add(
    headers: &mut HeaderMap,
    wanted: &[HeaderName],
    geo: Option<&GeoDb>,
    v: &ViewerFacts<'_>,
) {
    let (info, dev) = lookups(wanted, geo, v);
    for name in wanted {
        match value(name.as_str(), &info, &dev, v) {
            Some(val) => match HeaderValue::from_str(&val) {
                Ok(h) => {
                    headers.insert(name.clone(), h);
                }
                Err(_) => {
                    headers.remove(name);
                }
            },
            None => {
                headers.remove(name);
            }
        }
    }
}

fn flag(b: bool) -> Option<String> {
    Some(if b { "true" } else { "false" }.to_string())
}

fn value(name: &str, g: &GeoInfo, d: &device::Device, v: &ViewerFacts<'_>) -> Option<String> {
    match name {
        "cloudfront-viewer-address" => Some(
            SocketAddr::new(v.ip, v.port)
                .to_string()
                .replace(['[', ']'], ""),
        ),
        "cloudfront-viewer-asn" => g.asn.map(|a| a.to_string()),
        "cloudfront-viewer-country" => g.country.clone(),
        "cloudfront-viewer-country-name" => g.country_name.as_deref().map(encode),
        "cloudfront-viewer-country-region" => g.region.clone(),
        "cloudfront-viewer-country-region-name" => g.region_name.as_deref().map(encode),
        "cloudfront-viewer-city" => g.city.as_deref().map(encode),
        "cloudfront-viewer-postal-code" => g.postal_code.as_deref().map(encode),
        "cloudfront-viewer-time-zone" => g.time_zone.clone(),
        "cloudfront-viewer-latitude" => g.latitude.map(|l| format!("{l:.5}")),
        "cloudfront-viewer-longitude" => g.longitude.map(|l| format!("{l:.5}")),
        "cloudfront-viewer-metro-code" => g
            .metro_code
            .filter(|_| g.country.as_deref() == Some("US"))
            .map(|m| m.to_string()),
        "cloudfront-viewer-http-version" => Some(
            match v.version {
                Version::HTTP_2 => "2.0",
                Version::HTTP_3 => "3.0",
                Version::HTTP_10 => "1.0",
                _ => "1.1",
            }
            .to_string(),
        ),
        // `TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake`; not sent over plain HTTP.
        "cloudfront-viewer-tls" => v
            .tls
            .map(|t| format!("{}:{}:{}", t.protocol, t.cipher, t.handshake)),
        "cloudfront-forwarded-proto" => Some(
            if v.protocol == Protocol::Https {
                "https"
            } else {
                "http"
            }
            .to_string(),
        ),
        "cloudfront-is-mobile-viewer" => flag(d.mobile),
        "cloudfront-is-desktop-viewer" => flag(d.desktop),
        "cloudfront-is-tablet-viewer" => flag(d.tablet),
        "cloudfront-is-smarttv-viewer" => flag(d.smart_tv),
        "cloudfront-is-ios-viewer" => flag(d.ios),
        "cloudfront-is-android-viewer" => flag(d.android),
        _ => None,
    }
}

/// RFC 3986 percent-encoding of non-ASCII (and control) bytes, as CloudFront sends names.
pub fn encode(s: &str) -> String {
    // Through Cow: a name with nothing to encode is copied once, without the formatter.
    std::borrow::Cow::from(percent_encoding::utf8_percent_encode(
        s,
        percent_encoding::CONTROLS,
    ))
    .into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn non_ascii_is_percent_encoded() {
        assert_eq!(super::encode("Linköping"), "Link%C3%B6ping");
        assert_eq!(super::encode("London"), "London");
    }
}
