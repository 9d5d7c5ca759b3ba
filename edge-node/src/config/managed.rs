//! CloudFront's managed cache and origin request policies, by the IDs AWS publishes for them
//! (docs/cloudfront-behaviour.md: "Managed policies"). A behavior's `CachePolicyId` or
//! `OriginRequestPolicyId` names one; its settings are as if written inline.

use super::raw::RawKeyPolicy;
use super::Ttls;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn policy(
    query: (&str, &[&str]),
    headers: (&str, &[&str]),
    cookies: (&str, &[&str]),
    compressed: bool,
) -> RawKeyPolicy {
    RawKeyPolicy {
        query_string_behavior: Some(query.0.into()),
        query_strings: names(query.1),
        header_behavior: Some(headers.0.into()),
        headers: names(headers.1),
        cookie_behavior: Some(cookies.0.into()),
        cookies: names(cookies.1),
        enable_accept_encoding_gzip: compressed.then_some(true),
        enable_accept_encoding_brotli: compressed.then_some(true),
    }
}

const NONE: (&str, &[&str]) = ("none", &[]);
const ALL: (&str, &[&str]) = ("all", &[]);
const YEAR: u64 = 31_536_000;
const DAY: u64 = 86_400;

/// The managed cache policies known here: (ID, name).
pub const CACHE_POLICIES: [(&str, &str); 7] = [
    ("658327ea-f89d-4fab-a63d-7e88639e58f6", "CachingOptimized"),
    (
        "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
        "CachingOptimizedForUncompressedObjects",
    ),
    ("4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "CachingDisabled"),
    (
        "08627262-05a9-4f76-9ded-b50ca2e3a84f",
        "Elemental-MediaPackage",
    ),
    ("2e54312d-136d-493c-8eb9-b001f22f67d2", "Amplify"),
    (
        "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
        "UseOriginCacheControlHeaders",
    ),
    (
        "4cc15a8a-d715-48a4-82b8-cc0b614638fe",
        "UseOriginCacheControlHeaders-QueryStrings",
    ),
];

/// The managed origin request policies known here: (ID, name).
pub const ORIGIN_REQUEST_POLICIES: [(&str, &str); 8] = [
    ("216adef6-5c7f-47e4-b989-5492eafa07d3", "AllViewer"),
    (
        "33f36d7e-f396-46d9-90e0-52428a34d9dc",
        "AllViewerAndCloudFrontHeaders-2022-06",
    ),
    ("bf0718e1-ba1e-49d1-88b1-f726733018ae", "HostHeaderOnly"),
    (
        "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        "AllViewerExceptHostHeader",
    ),
    ("59781a5b-3903-41f3-afcb-af62929ccde1", "CORS-CustomOrigin"),
    ("88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", "CORS-S3Origin"),
    (
        "775133bc-15f2-49f9-abea-afb2e0bf67d2",
        "Elemental-MediaTailor-PersonalizedManifests",
    ),
    (
        "acba4595-bd28-49b8-b9fe-13317c0390fa",
        "UserAgentRefererHeaders",
    ),
];

/// The managed cache policy `id` (also taken by its name, `Managed-` prefix optional): what it
/// puts in the cache key and its TTLs.
pub fn cache_policy(id: &str) -> Option<(RawKeyPolicy, Ttls)> {
    let name = lookup(&CACHE_POLICIES, id)?;
    let ttl = |min, default, max| Ttls { min, default, max };
    Some(match name {
        "CachingOptimized" => (policy(NONE, NONE, NONE, true), ttl(1, DAY, YEAR)),
        "CachingOptimizedForUncompressedObjects" => {
            (policy(NONE, NONE, NONE, false), ttl(1, DAY, YEAR))
        }
        "CachingDisabled" => (policy(NONE, NONE, NONE, false), ttl(0, 0, 0)),
        "Elemental-MediaPackage" => (
            policy(
                ("whitelist", &["m", "start", "end", "aws.manifestfilter"]),
                ("whitelist", &["Origin"]),
                NONE,
                true,
            ),
            ttl(0, DAY, YEAR),
        ),
        "Amplify" => (
            policy(
                ALL,
                (
                    "whitelist",
                    &["Authorization", "CloudFront-Viewer-Country", "Host"],
                ),
                ALL,
                true,
            ),
            ttl(2, 2, 600),
        ),
        // Only what the origin says is cached (DefaultTTL 0), keyed by the headers that
        // change what an origin answers.
        "UseOriginCacheControlHeaders" | "UseOriginCacheControlHeaders-QueryStrings" => (
            policy(
                if name.ends_with("QueryStrings") {
                    ALL
                } else {
                    NONE
                },
                (
                    "whitelist",
                    &[
                        "Host",
                        "Origin",
                        "X-HTTP-Method-Override",
                        "X-HTTP-Method",
                        "X-Method-Override",
                    ],
                ),
                ALL,
                true,
            ),
            ttl(0, 0, YEAR),
        ),
        _ => unreachable!("every listed name has settings"),
    })
}

/// The managed origin request policy `id` (or name): what it forwards besides the cache key.
pub fn origin_request_policy(id: &str) -> Option<RawKeyPolicy> {
    let name = lookup(&ORIGIN_REQUEST_POLICIES, id)?;
    let cors = [
        "Origin",
        "Access-Control-Request-Headers",
        "Access-Control-Request-Method",
    ];
    Some(match name {
        "AllViewer" => policy(ALL, ("allViewer", &[]), ALL, false),
        "HostHeaderOnly" => policy(NONE, ("whitelist", &["Host"]), NONE, false),
        // Every viewer header, and every CloudFront-* header CloudFront can add.
        "AllViewerAndCloudFrontHeaders-2022-06" => policy(
            ALL,
            (
                "allViewerAndWhitelistCloudFront",
                &crate::viewer::headers::SUPPORTED,
            ),
            ALL,
            false,
        ),
        "AllViewerExceptHostHeader" => policy(ALL, ("allExcept", &["Host"]), ALL, false),
        "CORS-CustomOrigin" => policy(NONE, ("whitelist", &["Origin"]), NONE, false),
        "CORS-S3Origin" => policy(NONE, ("whitelist", &cors), NONE, false),
        "Elemental-MediaTailor-PersonalizedManifests" => policy(
            ALL,
            (
                "whitelist",
                &[
                    "Origin",
                    "Access-Control-Request-Headers",
                    "Access-Control-Request-Method",
                    "User-Agent",
                    "X-Forwarded-For",
                ],
            ),
            NONE,
            false,
        ),
        "UserAgentRefererHeaders" => {
            policy(NONE, ("whitelist", &["User-Agent", "Referer"]), NONE, false)
        }
        _ => unreachable!("every listed name has settings"),
    })
}

/// The name of the policy `id` names in `table`: its ID (any case) or its name, with or without
/// the console's `Managed-` prefix.
pub(super) fn lookup(table: &[(&'static str, &'static str)], id: &str) -> Option<&'static str> {
    let bare = id.strip_prefix("Managed-").unwrap_or(id);
    table
        .iter()
        .find(|(i, n)| i.eq_ignore_ascii_case(id) || *n == bare)
        .map(|(_, n)| *n)
}

/// `"ID (Name), …"` of a table, for messages.
pub fn listing(table: &[(&str, &str)]) -> String {
    table
        .iter()
        .map(|(i, n)| format!("{i} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_policy_has_settings_and_is_found_by_id_and_name() {
        for (id, name) in CACHE_POLICIES {
            assert!(
                cache_policy(id).is_some() && cache_policy(&format!("Managed-{name}")).is_some()
            );
        }
        for (id, name) in ORIGIN_REQUEST_POLICIES {
            assert!(origin_request_policy(id).is_some() && origin_request_policy(name).is_some());
        }
        for (id, name) in super::super::response_headers::MANAGED {
            let rh = super::super::response_headers::managed;
            assert!(rh(id).is_some() && rh(&format!("Managed-{name}")).is_some());
        }
        assert!(cache_policy("AllViewer").is_none());
        assert!(origin_request_policy("CachingOptimized").is_none());
    }

    #[test]
    fn a_distributions_own_policies_are_checked_and_found_by_id_or_name() {
        use crate::config::raw::RawCachePolicyConfig;
        let p = |id: Option<&str>, name: Option<&str>, min: Option<u64>| RawCachePolicyConfig {
            id: id.map(String::from),
            name: name.map(String::from),
            min_ttl: min,
            ..Default::default()
        };
        let named = Named::of(
            vec![p(Some("c1"), Some("Short"), Some(5))],
            vec![],
            vec![],
            "d",
        )
        .unwrap();
        let (_, ttl) = named.cache("c1").unwrap();
        assert_eq!((ttl.min, ttl.default, ttl.max), (5, 86_400, 31_536_000));
        assert!(named.cache("Short").is_some() && named.cache("Long").is_none());
        for (bad, says) in [
            (vec![p(None, None, Some(1))], "d.CachePolicies[0].Name"),
            (vec![p(None, Some("A"), None)], "d.CachePolicies[0].MinTTL"),
            (
                vec![p(None, Some("A"), Some(1)), p(None, Some("A"), Some(1))],
                "defined twice",
            ),
        ] {
            let e = Named::of(bad, vec![], vec![], "d").unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}

/// A distribution's own policies (`CachePolicies`, `OriginRequestPolicies`,
/// `ResponseHeadersPolicies`), checked once, that behaviors name by Id or Name.
#[derive(Debug, Default)]
pub struct Named {
    cache: Vec<(String, String, RawKeyPolicy, Ttls)>,
    origin: Vec<(String, String, RawKeyPolicy)>,
    response: Vec<(
        String,
        String,
        std::sync::Arc<super::response_headers::ResponseHeadersPolicy>,
    )>,
}

/// (Id, Name) of a named policy: Name is required (as in CloudFront); Id defaults to it.
fn id_and_name(
    id: Option<String>,
    name: Option<String>,
    at: &str,
) -> super::validate::Result<(String, String)> {
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| crate::error::NodeError::config(format!("{at}.Name"), "is required"))?;
    Ok((
        id.filter(|i| !i.is_empty()).unwrap_or_else(|| name.clone()),
        name,
    ))
}

/// A `Quantity`/`Items` list of names, checked.
fn items(list: Option<super::raw::RawStrings>, at: &str) -> super::validate::Result<Vec<String>> {
    let Some(l) = list else { return Ok(Vec::new()) };
    super::validate::quantity(l.quantity, l.items.len(), at)?;
    Ok(l.items)
}

/// CloudFront's nested headers, cookies and query strings configs as one flat policy.
fn flat(
    headers: Option<super::raw::RawHeadersConfig>,
    cookies: Option<super::raw::RawCookiesConfig>,
    queries: Option<super::raw::RawQueryStringsConfig>,
    at: &str,
) -> super::validate::Result<RawKeyPolicy> {
    let (h, c, q) = (
        headers.unwrap_or_default(),
        cookies.unwrap_or_default(),
        queries.unwrap_or_default(),
    );
    Ok(RawKeyPolicy {
        header_behavior: h.header_behavior,
        headers: items(h.headers, &format!("{at}.HeadersConfig.Headers"))?,
        cookie_behavior: c.cookie_behavior,
        cookies: items(c.cookies, &format!("{at}.CookiesConfig.Cookies"))?,
        query_string_behavior: q.query_string_behavior,
        query_strings: items(
            q.query_strings,
            &format!("{at}.QueryStringsConfig.QueryStrings"),
        )?,
        ..Default::default()
    })
}

impl Named {
    pub fn of(
        cache: Vec<super::raw::RawCachePolicyConfig>,
        origin: Vec<super::raw::RawOriginRequestPolicyConfig>,
        response: Vec<super::raw::RawResponseHeadersPolicy>,
        at: &str,
    ) -> super::validate::Result<Named> {
        use crate::error::NodeError;
        let mut out = Named::default();
        for (i, p) in cache.into_iter().enumerate() {
            let at = format!("{at}.CachePolicies[{i}]");
            let (id, name) = id_and_name(p.id, p.name, &at)?;
            if out.cache.iter().any(|(i, n, ..)| *i == id || *n == name) {
                return Err(NodeError::config(
                    format!("{at}.Name"),
                    format!("cache policy {name:?} is defined twice"),
                ));
            }
            let min = p
                .min_ttl
                .ok_or_else(|| NodeError::config(format!("{at}.MinTTL"), "is required"))?;
            let default = p.default_ttl.unwrap_or(86_400.max(min));
            let max = p.max_ttl.unwrap_or(31_536_000.max(default));
            let params = p
                .parameters_in_cache_key_and_forwarded_to_origin
                .unwrap_or_default();
            let pat = format!("{at}.ParametersInCacheKeyAndForwardedToOrigin");
            let mut policy = flat(
                params.headers_config,
                params.cookies_config,
                params.query_strings_config,
                &pat,
            )?;
            policy.enable_accept_encoding_gzip = params.enable_accept_encoding_gzip;
            policy.enable_accept_encoding_brotli = params.enable_accept_encoding_brotli;
            out.cache
                .push((id, name, policy, Ttls { min, default, max }));
        }
        for (i, p) in origin.into_iter().enumerate() {
            let at = format!("{at}.OriginRequestPolicies[{i}]");
            let (id, name) = id_and_name(p.id, p.name, &at)?;
            if out.origin.iter().any(|(i, n, _)| *i == id || *n == name) {
                return Err(NodeError::config(
                    format!("{at}.Name"),
                    format!("origin request policy {name:?} is defined twice"),
                ));
            }
            let policy = flat(
                p.headers_config,
                p.cookies_config,
                p.query_strings_config,
                &at,
            )?;
            out.origin.push((id, name, policy));
        }
        for (i, p) in response.into_iter().enumerate() {
            let at = format!("{at}.ResponseHeadersPolicies[{i}]");
            let (id, name) = id_and_name(p.id.clone(), p.name.clone(), &at)?;
            if out.response.iter().any(|(i, n, _)| *i == id || *n == name) {
                return Err(NodeError::config(
                    format!("{at}.Name"),
                    format!("response headers policy {name:?} is defined twice"),
                ));
            }
            let policy = super::response_headers::policy(p, &at)?;
            out.response.push((id, name, std::sync::Arc::new(policy)));
        }
        Ok(out)
    }

    pub fn cache(&self, key: &str) -> Option<(RawKeyPolicy, Ttls)> {
        self.cache
            .iter()
            .find(|(i, n, ..)| i == key || n == key)
            .map(|(_, _, p, t)| (p.clone(), *t))
    }

    pub fn origin(&self, key: &str) -> Option<RawKeyPolicy> {
        self.origin
            .iter()
            .find(|(i, n, _)| i == key || n == key)
            .map(|(_, _, p)| p.clone())
    }

    pub fn response(
        &self,
        key: &str,
    ) -> Option<std::sync::Arc<super::response_headers::ResponseHeadersPolicy>> {
        self.response
            .iter()
            .find(|(i, n, _)| i == key || n == key)
            .map(|(_, _, p)| p.clone())
    }
}
