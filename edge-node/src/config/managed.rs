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
pub const CACHE_POLICIES: [(&str, &str); 5] = [
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
];

/// The managed origin request policies known here: (ID, name).
pub const ORIGIN_REQUEST_POLICIES: [(&str, &str); 6] = [
    ("216adef6-5c7f-47e4-b989-5492eafa07d3", "AllViewer"),
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

fn lookup(table: &[(&'static str, &'static str)], id: &str) -> Option<&'static str> {
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
        assert!(cache_policy("AllViewer").is_none());
        assert!(origin_request_policy("CachingOptimized").is_none());
    }
}
