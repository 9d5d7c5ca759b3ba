//! Response headers policies (docs/cloudfront-behaviour.md: "Response headers policies"): the
//! headers CloudFront removes from and adds to every answer of a cache behavior — CORS,
//! security headers, custom headers, removed headers and CloudFront's `Server-Timing` — checked
//! here as CloudFront's API checks a `ResponseHeadersPolicyConfig`.

use super::raw::*;
use super::validate::{quantity, Result};
use crate::error::NodeError;
use http::{HeaderName, HeaderValue};

/// A response headers policy, ready to apply (driver/response_headers.rs).
#[derive(Debug, Clone, Default)]
pub struct ResponseHeadersPolicy {
    /// Removed from every answer, before anything is added.
    pub remove: Vec<HeaderName>,
    /// Security and custom headers added to every answer.
    pub add: Vec<Added>,
    pub cors: Option<Cors>,
    /// CloudFront's `Server-Timing`, on this percentage of answers (and on every request that
    /// sends `Pragma: server-timing`).
    pub server_timing: Option<f64>,
}

/// A header a policy adds; with `origin_override` it replaces the origin's, else the origin's
/// is kept when there is one.
#[derive(Debug, Clone)]
pub struct Added {
    pub name: HeaderName,
    pub value: HeaderValue,
    pub origin_override: bool,
}

/// A policy's CORS settings: the headers for requests that carry an `Origin` it allows.
#[derive(Debug, Clone)]
pub struct Cors {
    /// `*` allows every origin.
    pub any_origin: bool,
    /// Allowed origins, lowercase; a host may start with `*.` (any subdomain).
    pub origins: Vec<String>,
    pub allow_headers: HeaderValue,
    pub allow_methods: HeaderValue,
    pub allow_credentials: bool,
    pub expose_headers: Option<HeaderValue>,
    pub max_age: Option<HeaderValue>,
    pub origin_override: bool,
}

impl Cors {
    /// Whether a viewer's `Origin` is one this policy allows.
    pub fn allows(&self, origin: &str) -> bool {
        if self.any_origin {
            return true;
        }
        // `origins` are lowercase; the viewer's is compared without a lowercased copy.
        self.origins.iter().any(|o| match o.split_once("://*.") {
            None => o.eq_ignore_ascii_case(origin),
            Some((scheme, domain)) => {
                let (Some((s, host)), Some(cut)) = (
                    origin.split_once("://"),
                    origin.len().checked_sub(domain.len()),
                ) else {
                    return false;
                };
                s.eq_ignore_ascii_case(scheme)
                    && origin.is_char_boundary(cut)
                    && origin[cut..].eq_ignore_ascii_case(domain)
                    && host.len() > domain.len() + 1
                    && origin.as_bytes()[cut - 1] == b'.'
            }
        })
    }
}

/// The managed response headers policies known here: (ID, name).
pub const MANAGED: [(&str, &str); 5] = [
    ("60669652-455b-4ae9-85a4-c4c02393f86c", "SimpleCORS"),
    (
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
        "CORS-With-Preflight",
    ),
    (
        "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "SecurityHeadersPolicy",
    ),
    (
        "e61eb60c-9c35-4d20-a928-2b84e02af89c",
        "CORS-and-SecurityHeadersPolicy",
    ),
    (
        "eaab4381-ed33-4a86-88ca-d9558dc6cd63",
        "CORS-with-preflight-and-SecurityHeadersPolicy",
    ),
];

/// The managed policy `id` (or its name, `Managed-` prefix optional), as AWS describes each
/// (docs/cloudfront-behaviour.md: "Managed response headers policies"): none overrides the
/// origin's headers but for `X-Content-Type-Options: nosniff`, which is always sent.
pub fn managed(id: &str) -> Option<ResponseHeadersPolicy> {
    let name = super::managed::lookup(&MANAGED, id)?;
    let cors = match name {
        "SimpleCORS" | "CORS-and-SecurityHeadersPolicy" => Some(any_origin_cors(false)),
        "CORS-With-Preflight" | "CORS-with-preflight-and-SecurityHeadersPolicy" => {
            Some(any_origin_cors(true))
        }
        _ => None,
    };
    let add = if name.contains("SecurityHeadersPolicy") {
        managed_security_headers()
    } else {
        vec![]
    };
    Some(ResponseHeadersPolicy {
        add,
        cors,
        ..Default::default()
    })
}

/// `Access-Control-Allow-Origin: *` for every origin; with `preflight` also every method (on
/// preflights) and `Access-Control-Expose-Headers: *`. The origin's own headers are kept.
fn any_origin_cors(preflight: bool) -> Cors {
    Cors {
        any_origin: true,
        origins: vec![],
        allow_headers: HeaderValue::from_static(""),
        allow_methods: HeaderValue::from_static(if preflight {
            "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
        } else {
            ""
        }),
        allow_credentials: false,
        expose_headers: preflight.then(|| HeaderValue::from_static("*")),
        max_age: None,
        origin_override: false,
    }
}

/// SecurityHeadersPolicy's headers: the origin's win but for `X-Content-Type-Options`.
fn managed_security_headers() -> Vec<Added> {
    let added = |name: &'static str, value: &'static str, origin_override: bool| Added {
        name: HeaderName::from_static(name),
        value: HeaderValue::from_static(value),
        origin_override,
    };
    vec![
        added("referrer-policy", "strict-origin-when-cross-origin", false),
        added("strict-transport-security", "max-age=31536000", false),
        added("x-content-type-options", "nosniff", true),
        added("x-frame-options", "SAMEORIGIN", false),
        added("x-xss-protection", "1; mode=block", false),
    ]
}

/// Headers a response headers policy may not remove (AWS refuses them): those a function may
/// not add (`lambda::headers::is_disallowed`) and these.
const NOT_REMOVABLE: [&str; 6] = [
    "content-encoding",
    "content-length",
    "host",
    "transfer-encoding",
    "via",
    "warning",
];

const REFERRER_POLICIES: [&str; 8] = [
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

const CORS_METHODS: [&str; 8] = [
    "GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "ALL",
];

fn bad(at: &str, why: impl Into<String>) -> NodeError {
    NodeError::config(at, why)
}

fn required<T>(v: Option<T>, at: &str) -> Result<T> {
    v.ok_or_else(|| bad(at, "is required"))
}

fn header_name(name: &str, at: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| bad(at, format!("{name:?} is not a valid header name")))
}

fn header_value(value: &str, at: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value)
        .map_err(|_| bad(at, format!("{value:?} is not a valid header value")))
}

/// A `Quantity`/`Items` list, checked, as one comma-separated header value.
fn joined(list: Option<RawStrings>, at: &str) -> Result<Vec<String>> {
    let list = required(list, at)?;
    quantity(list.quantity, list.items.len(), at)?;
    Ok(list.items)
}

/// Checks `r` and compiles it; `at` is the field it came from.
pub fn policy(r: RawResponseHeadersPolicy, at: &str) -> Result<ResponseHeadersPolicy> {
    let mut out = ResponseHeadersPolicy::default();
    if let Some(rm) = r.remove_headers_config {
        let at = format!("{at}.RemoveHeadersConfig");
        quantity(rm.quantity, rm.items.len(), &at)?;
        for (i, item) in rm.items.into_iter().enumerate() {
            let at = format!("{at}.Items[{i}].Header");
            let name = header_name(&required(item.header, &at)?, &at)?;
            let lower = name.as_str();
            if NOT_REMOVABLE.contains(&lower) || crate::lambda::headers::is_disallowed(lower) {
                return Err(bad(
                    &at,
                    format!("CloudFront does not let a policy remove {lower}"),
                ));
            }
            out.remove.push(name);
        }
    }
    if let Some(sec) = r.security_headers_config {
        security(sec, &format!("{at}.SecurityHeadersConfig"), &mut out.add)?;
    }
    if let Some(custom) = r.custom_headers_config {
        let at = format!("{at}.CustomHeadersConfig");
        quantity(custom.quantity, custom.items.len(), &at)?;
        for (i, item) in custom.items.into_iter().enumerate() {
            let at = format!("{at}.Items[{i}]");
            let name = header_name(
                &required(item.header, &format!("{at}.Header"))?,
                &format!("{at}.Header"),
            )?;
            if out.add.iter().any(|a| a.name == name) {
                return Err(bad(
                    &format!("{at}.Header"),
                    format!("{name} is already set by this policy"),
                ));
            }
            out.add.push(Added {
                value: header_value(item.value.as_deref().unwrap_or(""), &format!("{at}.Value"))?,
                origin_override: required(item.r#override, &format!("{at}.Override"))?,
                name,
            });
        }
    }
    if let Some(c) = r.cors_config {
        out.cors = Some(cors(c, &format!("{at}.CorsConfig"))?);
    }
    if let Some(t) = r.server_timing_headers_config {
        let at = format!("{at}.ServerTimingHeadersConfig");
        if required(t.enabled, &format!("{at}.Enabled"))? {
            let rate = t.sampling_rate.unwrap_or(0.0);
            if !(0.0..=100.0).contains(&rate) {
                return Err(bad(
                    &format!("{at}.SamplingRate"),
                    format!("{rate} is not a percentage from 0 to 100"),
                ));
            }
            out.server_timing = Some(rate);
        }
    }
    Ok(out)
}

fn cors(c: RawCorsConfig, at: &str) -> Result<Cors> {
    let origins = joined(
        c.access_control_allow_origins,
        &format!("{at}.AccessControlAllowOrigins"),
    )?;
    for (i, o) in origins.iter().enumerate() {
        if o == "*" {
            continue;
        }
        let host = o.split_once("://").map_or(o.as_str(), |(_, h)| h);
        let labels: Vec<&str> = host.split('.').collect();
        // A `*` stands only for the whole leftmost label, and not in front of a lone label.
        let ok = !o.contains(char::is_whitespace)
            && labels.iter().enumerate().all(|(j, label)| {
                !label.is_empty() && (!label.contains('*') || (j == 0 && *label == "*"))
            })
            && !(labels[0] == "*" && labels.len() < 3);
        if !ok {
            return Err(bad(
                &format!("{at}.AccessControlAllowOrigins.Items[{i}]"),
                format!("{o:?}: give * or an origin such as https://www.example.com (a * only as the leftmost label, as in https://*.example.com)"),
            ));
        }
    }
    let headers = joined(
        c.access_control_allow_headers,
        &format!("{at}.AccessControlAllowHeaders"),
    )?;
    let methods = joined(
        c.access_control_allow_methods,
        &format!("{at}.AccessControlAllowMethods"),
    )?;
    for (i, m) in methods.iter().enumerate() {
        if !CORS_METHODS.contains(&m.as_str()) {
            return Err(bad(
                &format!("{at}.AccessControlAllowMethods.Items[{i}]"),
                format!("{m:?} is not one of {}", CORS_METHODS.join(", ")),
            ));
        }
    }
    let methods = if methods.iter().any(|m| m == "ALL") {
        "GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT".to_string()
    } else {
        methods.join(", ")
    };
    let expose = match c.access_control_expose_headers {
        None => None,
        Some(l) => {
            let items = joined(Some(l), &format!("{at}.AccessControlExposeHeaders"))?;
            (!items.is_empty())
                .then(|| {
                    header_value(
                        &items.join(", "),
                        &format!("{at}.AccessControlExposeHeaders"),
                    )
                })
                .transpose()?
        }
    };
    Ok(Cors {
        any_origin: origins.iter().any(|o| o == "*"),
        origins: origins.iter().map(|o| o.to_ascii_lowercase()).collect(),
        allow_headers: header_value(
            &headers.join(", "),
            &format!("{at}.AccessControlAllowHeaders"),
        )?,
        allow_methods: header_value(&methods, &format!("{at}.AccessControlAllowMethods"))?,
        allow_credentials: required(
            c.access_control_allow_credentials,
            &format!("{at}.AccessControlAllowCredentials"),
        )?,
        expose_headers: expose,
        max_age: c.access_control_max_age_sec.map(HeaderValue::from),
        origin_override: required(c.origin_override, &format!("{at}.OriginOverride"))?,
    })
}

fn security(s: RawSecurityHeaders, at: &str, add: &mut Vec<Added>) -> Result<()> {
    let mut push = |name: &'static str,
                    value: String,
                    origin_override: Option<bool>,
                    field: &str|
     -> Result<()> {
        let at = format!("{at}.{field}");
        add.push(Added {
            name: HeaderName::from_static(name),
            value: header_value(&value, &at)?,
            origin_override: required(origin_override, &format!("{at}.Override"))?,
        });
        Ok(())
    };
    if let Some(x) = s.xss_protection {
        let field = "XSSProtection";
        let on = required(x.protection, &format!("{at}.{field}.Protection"))?;
        let mut v = if on { "1" } else { "0" }.to_string();
        match (
            x.mode_block.unwrap_or(false),
            x.report_uri.filter(|u| !u.is_empty()),
        ) {
            (true, Some(_)) => {
                return Err(bad(
                    &format!("{at}.{field}.ReportUri"),
                    "ModeBlock and ReportUri cannot be given together",
                ))
            }
            (true, None) => v.push_str("; mode=block"),
            (false, Some(uri)) => {
                v.push_str("; report=");
                v.push_str(&uri);
            }
            (false, None) => {}
        }
        push("x-xss-protection", v, x.r#override, field)?;
    }
    // A value CloudFront takes from a fixed list.
    let one_of = |v: Option<String>, field: &str, allowed: &[&str]| -> Result<String> {
        let field = format!("{at}.{field}");
        let v = required(v, &field)?;
        if !allowed.contains(&v.as_str()) {
            return Err(bad(
                &field,
                format!("{v:?} is not one of {}", allowed.join(", ")),
            ));
        }
        Ok(v)
    };
    if let Some(f) = s.frame_options {
        let v = one_of(
            f.frame_option,
            "FrameOptions.FrameOption",
            &["DENY", "SAMEORIGIN"],
        )?;
        push("x-frame-options", v, f.r#override, "FrameOptions")?;
    }
    if let Some(r) = s.referrer_policy {
        let v = one_of(
            r.referrer_policy,
            "ReferrerPolicy.ReferrerPolicy",
            &REFERRER_POLICIES,
        )?;
        push("referrer-policy", v, r.r#override, "ReferrerPolicy")?;
    }
    if let Some(c) = s.content_security_policy {
        let v = required(
            c.content_security_policy,
            &format!("{at}.ContentSecurityPolicy.ContentSecurityPolicy"),
        )?;
        if v.len() > 1783 {
            return Err(bad(
                &format!("{at}.ContentSecurityPolicy.ContentSecurityPolicy"),
                format!("{} characters: CloudFront takes at most 1783", v.len()),
            ));
        }
        push(
            "content-security-policy",
            v,
            c.r#override,
            "ContentSecurityPolicy",
        )?;
    }
    if let Some(c) = s.content_type_options {
        push(
            "x-content-type-options",
            "nosniff".into(),
            c.r#override,
            "ContentTypeOptions",
        )?;
    }
    if let Some(t) = s.strict_transport_security {
        let field = "StrictTransportSecurity";
        let age = required(
            t.access_control_max_age_sec,
            &format!("{at}.{field}.AccessControlMaxAgeSec"),
        )?;
        let mut v = format!("max-age={age}");
        if t.include_subdomains.unwrap_or(false) {
            v.push_str("; includeSubDomains");
        }
        if t.preload.unwrap_or(false) {
            v.push_str("; preload");
        }
        push("strict-transport-security", v, t.r#override, field)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors_for(origins: &[&str]) -> Cors {
        cors(
            RawCorsConfig {
                access_control_allow_origins: Some(RawStrings {
                    quantity: None,
                    items: origins.iter().map(|s| s.to_string()).collect(),
                }),
                access_control_allow_headers: Some(RawStrings::default()),
                access_control_allow_methods: Some(RawStrings {
                    quantity: Some(1),
                    items: vec!["ALL".into()],
                }),
                access_control_allow_credentials: Some(false),
                origin_override: Some(true),
                ..Default::default()
            },
            "c",
        )
        .unwrap()
    }

    #[test]
    fn allowed_origins_match_exactly_or_by_leftmost_wildcard() {
        let c = cors_for(&["https://www.example.com", "https://*.example.org"]);
        assert!(c.allows("https://www.example.com"));
        assert!(c.allows("HTTPS://WWW.EXAMPLE.COM"));
        assert!(!c.allows("http://www.example.com"));
        assert!(c.allows("https://a.example.org"));
        assert!(c.allows("https://a.b.example.org"));
        assert!(!c.allows("https://example.org"));
        assert!(!c.allows("https://evilexample.org"));
        assert!(cors_for(&["*"]).allows("https://anything.test"));
        assert_eq!(
            c.allow_methods,
            "GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT"
        );
    }

    #[test]
    fn wildcards_only_leftmost() {
        for o in [
            "https://example.*",
            "https://test.*.example.org",
            "https://exa*mple.org",
        ] {
            let r = RawCorsConfig {
                access_control_allow_origins: Some(RawStrings {
                    quantity: None,
                    items: vec![o.to_string()],
                }),
                ..Default::default()
            };
            assert!(cors(r, "c").is_err(), "{o}");
        }
    }
}
