//! Cache behaviors: path pattern, target origin, methods, TTLs, the policies they use, the
//! CloudFront-* headers those name, and the function at each stage.

use super::raw::*;
use super::validate::{quantity, Result};
use super::*;
use crate::error::NodeError;
use std::path::Path;

/// A small set of HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSet(u16);

impl MethodSet {
    const ALL: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::PUT,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
    ];

    pub fn of(methods: &[Method]) -> MethodSet {
        MethodSet(methods.iter().fold(0, |acc, m| acc | Self::bit(m)))
    }

    fn bit(m: &Method) -> u16 {
        Self::ALL.iter().position(|x| x == m).map_or(0, |i| 1 << i)
    }

    pub fn contains(&self, m: &Method) -> bool {
        self.0 & Self::bit(m) != 0
    }

    /// The methods, as an `Allow` header lists them (`GET, HEAD, OPTIONS`).
    pub fn allow(&self) -> String {
        Self::ALL
            .iter()
            .filter(|m| self.contains(m))
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a behavior does with a viewer's plain-HTTP request (`ViewerProtocolPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerProtocolPolicy {
    AllowAll,
    /// 301 to the same URL over HTTPS.
    RedirectToHttps,
    /// 403.
    HttpsOnly,
}

#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    pub min: u64,
    pub default: u64,
    pub max: u64,
}

#[derive(Debug)]
pub struct Behavior {
    /// `None` for the default cache behavior.
    pub path_pattern: Option<String>,
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    /// `path_pattern` compiled once (see `distribution::path_matches`).
    pub matcher: Option<wildmatch::WildMatch>,
    /// The origin requests go to: the primary of an origin group when `TargetOriginId` names
    /// one (then `failover` is its secondary).
    pub origin: Arc<Origin>,
    /// Position of `origin` in the distribution's origins (indexes the origin clients).
    pub origin_index: usize,
    pub failover: Option<Failover>,
    pub allowed_methods: MethodSet,
    pub cached_methods: MethodSet,
    pub ttl: Ttls,
    pub cache_policy: CachePolicy,
    pub origin_policy: OriginRequestPolicy,
    /// `TrustedKeyGroups`: only requests signed by one of these keys are served
    /// (viewer/signed.rs).
    pub trusted_keys: Option<Arc<crate::viewer::signed::TrustedKeys>>,
    /// `ResponseHeadersPolicyId` or `ResponseHeadersPolicy` (driver/response_headers.rs).
    pub response_headers: Option<Arc<super::response_headers::ResponseHeadersPolicy>>,
    /// `Compress`: gzip (and Brotli, when the cache policy enables it) at the edge
    /// (driver/compress.rs). With it the cache key always holds the normalised
    /// `Accept-Encoding`, gzip included, as CloudFront keys compressed objects.
    pub compress: bool,
    /// The function at each stage (indexed by `Stage::index`).
    pub functions: [Option<Association>; 4],
    /// CloudFront-* headers in the cache key: added after viewer-request, before the lookup.
    pub cloudfront_key_headers: Vec<HeaderName>,
    /// CloudFront-* headers only forwarded (origin request policy): added on the way to the
    /// origin and for the function events that show them, not on cache hits.
    pub cloudfront_forward_headers: Vec<HeaderName>,
    /// Both of the above: what a CloudFront function sees already at viewer-request.
    pub cloudfront_policy_headers: Vec<HeaderName>,
}

/// An origin group's secondary origin and the statuses of the primary that send a GET, HEAD or
/// OPTIONS request to it (a connect error or a timeout does too).
#[derive(Debug, Clone)]
pub struct Failover {
    pub origin: Arc<Origin>,
    pub codes: Vec<u16>,
}

impl Behavior {
    pub fn function(&self, stage: Stage) -> Option<&Association> {
        self.functions[stage.index()].as_ref()
    }

    pub fn has_functions(&self) -> bool {
        self.functions.iter().any(Option::is_some)
    }

    /// Whether a viewer query parameter named `name` is forwarded to the origin.
    pub fn forwards_query(&self, name: &str) -> bool {
        self.cache_policy.query_strings.selects(name)
            || self.origin_policy.query_strings.selects(name)
    }

    /// Whether the viewer's cookie named `name` is forwarded to the origin.
    pub fn forwards_cookie(&self, name: &str) -> bool {
        self.cache_policy.cookies.selects(name) || self.origin_policy.cookies.selects(name)
    }

    /// Whether any cookie at all may reach the origin (and `Set-Cookie` may come back).
    pub fn forwards_cookies(&self) -> bool {
        self.cache_policy.cookies != Selection::None
            || self.origin_policy.cookies != Selection::None
    }

    /// Whether the viewer header `lower_name` is forwarded to the origin by a policy.
    pub fn forwards_header(&self, lower_name: &str) -> bool {
        self.cache_policy
            .headers
            .iter()
            .any(|h| h.as_str() == lower_name)
            || self.origin_policy.headers.selects_header(lower_name)
    }
}

pub(super) fn methods(
    field: &str,
    v: Option<Vec<String>>,
    default: &[Method],
) -> Result<MethodSet> {
    let Some(names) = v else {
        return Ok(MethodSet::of(default));
    };
    let mut out = Vec::new();
    for n in names {
        let m = match n.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "HEAD" => Method::HEAD,
            "OPTIONS" => Method::OPTIONS,
            "PUT" => Method::PUT,
            "POST" => Method::POST,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            _ => {
                return Err(NodeError::config(
                    field,
                    format!("{n:?} is not one of GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE"),
                ))
            }
        };
        out.push(m);
    }
    if !out.contains(&Method::GET) || !out.contains(&Method::HEAD) {
        return Err(NodeError::config(field, "must include GET and HEAD"));
    }
    Ok(MethodSet::of(&out))
}

/// The managed policies a behavior names by ID: (cache policy and its TTLs, origin request
/// policy). A policy named both by ID and inline, TTLs beside a cache policy's, or an ID that is
/// not a managed policy known here are refused.
#[allow(clippy::type_complexity)]
fn managed_policies(
    b: &RawBehavior,
    named: &super::managed::Named,
    at: &str,
) -> Result<(Option<(RawKeyPolicy, Ttls)>, Option<RawKeyPolicy>)> {
    use super::managed;
    let cache = match &b.cache_policy_id {
        None => None,
        Some(id) => {
            let field = format!("{at}.CachePolicyId");
            if b.cache_policy.is_some() {
                return Err(NodeError::config(
                    field,
                    "give a cache policy by ID or inline (CachePolicy), not both",
                ));
            }
            if let Some(ttl) = [
                ("MinTTL", b.min_ttl),
                ("DefaultTTL", b.default_ttl),
                ("MaxTTL", b.max_ttl),
            ]
            .iter()
            .find(|(_, v)| v.is_some())
            {
                return Err(NodeError::config(
                    format!("{at}.{}", ttl.0),
                    "a cache policy sets the TTLs: remove it from the behavior",
                ));
            }
            Some(managed::cache_policy(id).or_else(|| named.cache(id)).ok_or_else(|| {
                NodeError::config(
                    field,
                    format!(
                        "{id:?} is neither one of the distribution's CachePolicies nor a managed cache policy known here ({})",
                        managed::listing(&managed::CACHE_POLICIES)
                    ),
                )
            })?)
        }
    };
    let origin = match &b.origin_request_policy_id {
        None => None,
        Some(id) => {
            let field = format!("{at}.OriginRequestPolicyId");
            if b.origin_request_policy.is_some() {
                return Err(NodeError::config(
                    field,
                    "give an origin request policy by ID or inline (OriginRequestPolicy), not both",
                ));
            }
            Some(managed::origin_request_policy(id).or_else(|| named.origin(id)).ok_or_else(|| {
                NodeError::config(
                    field,
                    format!(
                        "{id:?} is neither one of the distribution's OriginRequestPolicies nor a managed origin request policy known here ({})",
                        managed::listing(&managed::ORIGIN_REQUEST_POLICIES)
                    ),
                )
            })?)
        }
    };
    Ok((cache, origin))
}

/// What a behavior is checked against: its distribution's origins, origin groups, key groups
/// and policies, the configuration file's folder and the KeyValueStores.
pub(super) struct Around<'a> {
    pub origins: &'a [Arc<Origin>],
    pub groups: &'a [OriginGroup],
    pub key_groups: &'a super::distribution::KeyGroups,
    pub named: &'a super::managed::Named,
    pub base: &'a Path,
    pub stores: &'a Stores,
}

pub(super) fn behavior(b: RawBehavior, at: &str, around: &Around<'_>) -> Result<Behavior> {
    let Around {
        origins,
        groups,
        key_groups,
        named,
        base,
        stores,
    } = *around;
    let mut failover = None;
    let origin_index = match b.target_origin_id.as_deref() {
        Some(id) => match origins.iter().position(|o| o.id == id) {
            Some(i) => i,
            None => {
                let g = groups.iter().find(|g| g.id == id).ok_or_else(|| {
                    NodeError::config(
                        format!("{at}.TargetOriginId"),
                        format!("no origin or origin group has the Id {id:?}"),
                    )
                })?;
                failover = Some(Failover {
                    origin: origins[g.secondary].clone(),
                    codes: g.codes.clone(),
                });
                g.primary
            }
        },
        None if origins.len() == 1 => 0,
        None => {
            return Err(NodeError::config(
                format!("{at}.TargetOriginId"),
                "required when the distribution has more than one origin",
            ))
        }
    };
    let origin = origins[origin_index].clone();
    let (managed_cache, managed_origin) = managed_policies(&b, named, at)?;
    let trusted_keys = trusted_keys(&b, key_groups, at)?;
    let response_headers = response_headers_policy(
        b.response_headers_policy_id.clone(),
        b.response_headers_policy.clone(),
        named,
        at,
    )?;
    let ttl = match &managed_cache {
        Some((_, ttl)) => *ttl,
        None => Ttls {
            min: b.min_ttl.unwrap_or(defaults::MIN_TTL),
            default: b.default_ttl.unwrap_or(defaults::DEFAULT_TTL),
            max: b.max_ttl.unwrap_or(defaults::MAX_TTL),
        },
    };
    let (b_cache_policy, b_origin_policy) = (
        managed_cache.map(|(p, _)| p).or(b.cache_policy),
        managed_origin.or(b.origin_request_policy),
    );
    if !(ttl.min <= ttl.default && ttl.default <= ttl.max) {
        return Err(NodeError::config(
            format!("{at}.DefaultTTL"),
            format!(
                "MinTTL ({}) <= DefaultTTL ({}) <= MaxTTL ({}) must hold",
                ttl.min, ttl.default, ttl.max
            ),
        ));
    }
    // AllowedMethods as a list, or in the API's shape with CachedMethods inside it.
    let (allowed, nested_cached) = match b.allowed_methods.clone() {
        None => (None, None),
        Some(RawMethods::List(v)) => (Some(v), None),
        Some(RawMethods::Api(a)) => {
            let field = format!("{at}.AllowedMethods");
            quantity(a.quantity, a.items.len(), &field)?;
            let cached = match a.cached_methods {
                None => None,
                Some(c) => {
                    quantity(c.quantity, c.items.len(), &format!("{field}.CachedMethods"))?;
                    if b.cached_methods.is_some() {
                        return Err(NodeError::config(
                            format!("{field}.CachedMethods"),
                            "given twice: here and as the behavior's CachedMethods",
                        ));
                    }
                    Some(c.items)
                }
            };
            (Some(a.items), cached)
        }
    };
    let allowed_methods = methods(
        &format!("{at}.AllowedMethods"),
        allowed,
        &[Method::GET, Method::HEAD],
    )?;
    let cached_methods = methods(
        &format!("{at}.CachedMethods"),
        nested_cached.or_else(|| b.cached_methods.clone()),
        &[Method::GET, Method::HEAD],
    )?;
    let cp = b_cache_policy.unwrap_or_default();
    let cat = format!("{at}.CachePolicy");
    let op_raw_headers = b_origin_policy
        .as_ref()
        .map(|p| lower(p.headers.clone()))
        .unwrap_or_default();
    let cloudfront_key_headers = cloudfront_headers(&lower(cp.headers.clone()), &[], &cat, at)?;
    let cloudfront_forward_headers: Vec<HeaderName> =
        cloudfront_headers(&[], &op_raw_headers, &cat, at)?
            .into_iter()
            .filter(|h| !cloudfront_key_headers.contains(h))
            .collect();
    let cache_policy = CachePolicy {
        query_strings: selection(&format!("{cat}.QueryStringBehavior"), cp.query_string_behavior.as_deref(), cp.query_strings, false)?,
        headers: match selection(&format!("{cat}.HeaderBehavior"), cp.header_behavior.as_deref(), lower(cp.headers), false)? {
            Selection::None => vec![],
            Selection::Only(names) => header_names(&format!("{cat}.Headers"), names)?,
            _ => {
                return Err(NodeError::config(
                    format!("{cat}.HeaderBehavior"),
                    "a cache policy takes none or whitelist (use an origin request policy to forward all headers)",
                ))
            }
        },
        cookies: selection(&format!("{cat}.CookieBehavior"), cp.cookie_behavior.as_deref(), cp.cookies, false)?,
        accept_encoding_gzip: cp.enable_accept_encoding_gzip.unwrap_or(false)
            || b.compress == Some(true),
        accept_encoding_brotli: cp.enable_accept_encoding_brotli.unwrap_or(false),
    };
    let op = b_origin_policy.unwrap_or_default();
    let oat = format!("{at}.OriginRequestPolicy");
    if op.enable_accept_encoding_gzip.is_some() || op.enable_accept_encoding_brotli.is_some() {
        return Err(NodeError::config(
            format!("{oat}.EnableAcceptEncodingGzip"),
            "belongs to the cache policy",
        ));
    }
    let origin_policy = OriginRequestPolicy {
        query_strings: selection(
            &format!("{oat}.QueryStringBehavior"),
            op.query_string_behavior.as_deref(),
            op.query_strings,
            true,
        )?,
        headers: selection(
            &format!("{oat}.HeaderBehavior"),
            op.header_behavior.as_deref(),
            lower(op.headers),
            true,
        )?,
        cookies: selection(
            &format!("{oat}.CookieBehavior"),
            op.cookie_behavior.as_deref(),
            op.cookies,
            true,
        )?,
    };
    let viewer_protocol_policy = match b.viewer_protocol_policy.as_deref() {
        None | Some("allow-all") => ViewerProtocolPolicy::AllowAll,
        Some("redirect-to-https") => ViewerProtocolPolicy::RedirectToHttps,
        Some("https-only") => ViewerProtocolPolicy::HttpsOnly,
        Some(other) => {
            return Err(NodeError::config(
                format!("{at}.ViewerProtocolPolicy"),
                format!("{other:?} is not one of allow-all, redirect-to-https, https-only"),
            ))
        }
    };
    let functions = associations(
        b.lambda_function_associations,
        b.function_associations,
        at,
        base,
        stores,
    )?;
    Ok(Behavior {
        viewer_protocol_policy,
        functions,
        cloudfront_policy_headers: cloudfront_key_headers
            .iter()
            .chain(&cloudfront_forward_headers)
            .cloned()
            .collect(),
        cloudfront_key_headers,
        cloudfront_forward_headers,
        matcher: b.path_pattern.as_deref().map(super::distribution::pattern),
        path_pattern: b.path_pattern,
        origin,
        origin_index,
        failover,
        allowed_methods,
        cached_methods,
        ttl,
        cache_policy,
        origin_policy,
        compress: b.compress.unwrap_or(false),
        response_headers,
        trusted_keys,
    })
}

/// The public keys of the key groups a behavior trusts (`TrustedKeyGroups`), if it restricts
/// viewer access.
fn trusted_keys(
    b: &RawBehavior,
    key_groups: &super::distribution::KeyGroups,
    at: &str,
) -> Result<Option<Arc<crate::viewer::signed::TrustedKeys>>> {
    if b.trusted_signers
        .as_ref()
        .is_some_and(|t| t.enabled != Some(false))
    {
        return Err(NodeError::config(
            format!("{at}.TrustedSigners"),
            "AWS accounts' CloudFront key pairs are not emulated: put the public keys in KeyGroups and name them in TrustedKeyGroups",
        ));
    }
    let Some(t) = &b.trusted_key_groups else {
        return Ok(None);
    };
    let field = format!("{at}.TrustedKeyGroups");
    quantity(t.quantity, t.items.len(), &field)?;
    match t.enabled {
        Some(true) => {}
        Some(false) if t.items.is_empty() => return Ok(None),
        Some(false) => {
            return Err(NodeError::config(
                format!("{field}.Enabled"),
                "is false but key groups are listed: set Enabled = true to require signed URLs",
            ))
        }
        None => {
            return Err(NodeError::config(
                format!("{field}.Enabled"),
                "is required (true to require signed URLs or cookies)",
            ))
        }
    }
    if t.items.is_empty() {
        return Err(NodeError::config(
            format!("{field}.Items"),
            "Enabled needs at least one key group",
        ));
    }
    let mut keys = crate::viewer::signed::TrustedKeys::default();
    for (i, id) in t.items.iter().enumerate() {
        let (_, group) = key_groups.iter().find(|(g, _)| g == id).ok_or_else(|| {
            NodeError::config(
                format!("{field}.Items[{i}]"),
                format!("no key group has the Id {id:?} (KeyGroups of this distribution)"),
            )
        })?;
        keys.extend(group);
    }
    Ok(Some(Arc::new(keys)))
}

/// The behavior's response headers policy: the distribution's own or a managed one by ID or
/// name, or one inline.
fn response_headers_policy(
    id: Option<String>,
    inline: Option<RawResponseHeadersPolicy>,
    named: &super::managed::Named,
    at: &str,
) -> Result<Option<Arc<super::response_headers::ResponseHeadersPolicy>>> {
    use super::response_headers as rh;
    let field = format!("{at}.ResponseHeadersPolicyId");
    match (id, inline) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(NodeError::config(
            field,
            "give a response headers policy by ID or inline (ResponseHeadersPolicy), not both",
        )),
        (Some(id), None) => named
            .response(&id)
            .or_else(|| rh::managed(&id).map(Arc::new))
            .map(Some)
            .ok_or_else(|| {
                NodeError::config(
                    field,
                    format!(
                        "{id:?} is neither one of the distribution's ResponseHeadersPolicies nor a managed response headers policy known here ({}); write the policy inline as ResponseHeadersPolicy",
                        super::managed::listing(&rh::MANAGED)
                    ),
                )
            }),
        (None, Some(raw)) => Ok(Some(Arc::new(rh::policy(
            raw,
            &format!("{at}.ResponseHeadersPolicy"),
        )?))),
    }
}

/// The CloudFront-* headers a behavior's policies name (docs/cloudfront-behaviour.md: "Viewer
/// headers").
pub(super) fn cloudfront_headers(
    cache: &[String],
    origin: &[String],
    cat: &str,
    at: &str,
) -> Result<Vec<HeaderName>> {
    use crate::viewer::headers::{origin_policy_only, SUPPORTED};
    let mut out: Vec<HeaderName> = Vec::new();
    for (names, field, in_cache) in [
        (cache, format!("{cat}.Headers"), true),
        (origin, format!("{at}.OriginRequestPolicy.Headers"), false),
    ] {
        for n in names.iter().filter(|n| n.starts_with("cloudfront-")) {
            if in_cache && origin_policy_only(n) {
                return Err(NodeError::config(
                    &field,
                    format!(
                        "{n} can only be added by an origin request policy, not a cache policy"
                    ),
                ));
            }
            if !SUPPORTED.contains(&n.as_str()) {
                return Err(NodeError::config(
                    &field,
                    format!(
                        "{n} is not a header this edge can add ({})",
                        SUPPORTED.join(", ")
                    ),
                ));
            }
            let h = HeaderName::from_bytes(n.as_bytes()).expect("supported names are valid");
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

pub(super) fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

pub(super) fn header_names(field: &str, names: Vec<String>) -> Result<Vec<HeaderName>> {
    names
        .into_iter()
        .map(|n| {
            HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| NodeError::config(field, format!("{n:?} is not a header name")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::parse_toml;
    use http::Method;

    const ORIGIN: &str = "[[distributions]]\n[[distributions.Origins]]\nId = \"o\"\nDomainName = \"example.org\"\n[distributions.DefaultCacheBehavior]\n";

    #[test]
    fn allowed_methods_in_the_apis_shape_carry_cached_methods() {
        let cfg = parse_toml(&format!(
            "{ORIGIN}AllowedMethods = {{ Quantity = 3, Items = [\"GET\", \"HEAD\", \"OPTIONS\"], CachedMethods = {{ Quantity = 3, Items = [\"GET\", \"HEAD\", \"OPTIONS\"] }} }}\n"
        ))
        .unwrap();
        let b = cfg.distributions[0].behavior_for("/x");
        assert!(b.allowed_methods.contains(&Method::OPTIONS));
        assert!(b.cached_methods.contains(&Method::OPTIONS));
        let plain = parse_toml(&format!(
            "{ORIGIN}AllowedMethods = [\"GET\", \"HEAD\", \"OPTIONS\"]\n"
        ))
        .unwrap();
        let b = plain.distributions[0].behavior_for("/x");
        assert!(b.allowed_methods.contains(&Method::OPTIONS));
        assert!(!b.cached_methods.contains(&Method::OPTIONS));
        for (bad, says) in [
            ("AllowedMethods = { Quantity = 2, Items = [\"GET\", \"HEAD\", \"OPTIONS\"] }\n", "AllowedMethods.Quantity"),
            ("AllowedMethods = { Items = [\"GET\", \"HEAD\"], CachedMethods = { Items = [\"GET\", \"HEAD\"] } }\nCachedMethods = [\"GET\", \"HEAD\"]\n", "given twice"),
        ] {
            let e = parse_toml(&format!("{ORIGIN}{bad}")).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
