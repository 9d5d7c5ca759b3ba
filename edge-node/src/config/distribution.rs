//! `[[distributions]]`: a distribution's identity, its origins and behaviors in order, and
//! CloudFront's path-pattern matching that picks the behavior.

use super::raw::*;
use super::validate::{quantity, Result};
use super::*;
use crate::error::NodeError;
use std::path::Path;

#[derive(Debug)]
pub struct Distribution {
    pub id: String,
    pub domain_name: String,
    /// Lowercase host names (without port) this distribution answers for, besides its domain.
    pub aliases: Vec<String>,
    pub error_caching_min_ttl: u64,
    /// `/` + DefaultRootObject: what a request for the root URL asks the cache and origin for.
    pub default_root_object: Option<http::uri::PathAndQuery>,
    /// Viewers by country (`Restrictions.GeoRestriction`).
    pub geo_restriction: Option<GeoRestriction>,
    /// `CustomErrorResponses`, one per error code.
    pub custom_errors: Vec<CustomError>,
    pub origins: Vec<Arc<Origin>>,
    /// Where its functions' requests may go (its origins and `FetchAllow`).
    pub egress: Arc<crate::js::Egress>,
    /// Cache behaviors in order, then the default one last.
    pub behaviors: Vec<Behavior>,
    /// Index of this distribution in the node config (part of every cache key).
    pub index: usize,
}

/// Which countries' viewers a distribution serves (docs/cloudfront-behaviour.md: "Geographic
/// restrictions").
#[derive(Debug, Clone)]
pub struct GeoRestriction {
    /// `whitelist`: only `countries` are served; `blacklist`: every country but them.
    pub allow: bool,
    /// ISO 3166-1 alpha-2 codes, uppercase.
    pub countries: Vec<String>,
}

impl GeoRestriction {
    /// Whether a viewer in `country` is refused. A viewer whose country is not known is
    /// served, as CloudFront serves one it cannot place.
    pub fn blocks(&self, country: Option<&str>) -> bool {
        match country {
            None => false,
            Some(c) => self.countries.iter().any(|x| x == c) != self.allow,
        }
    }
}

/// One of `CustomErrorResponses` (docs/cloudfront-behaviour.md: "Custom error responses").
#[derive(Debug, Clone)]
pub struct CustomError {
    pub error_code: http::StatusCode,
    /// The page served instead (fetched through the behavior for its path) and the status it
    /// is served with.
    pub page: Option<(http::uri::PathAndQuery, http::StatusCode)>,
    /// How long an error with this code is cached, instead of the distribution's default.
    pub min_ttl: Option<u64>,
}

/// An origin group: requests go to `primary` and, when it fails as `codes` or `Failover` says,
/// again to `secondary` (docs/cloudfront-behaviour.md: "Origin groups").
#[derive(Debug, Clone)]
pub struct OriginGroup {
    pub id: String,
    pub primary: usize,
    pub secondary: usize,
    pub codes: Vec<u16>,
}

fn origin_groups(
    r: Option<RawOriginGroups>,
    origins: &[Arc<Origin>],
    at: &str,
) -> Result<Vec<OriginGroup>> {
    use crate::cloudfront::origin::FAILOVER_STATUSES;
    let Some(r) = r else { return Ok(Vec::new()) };
    let at = format!("{at}.OriginGroups");
    quantity(r.quantity, r.items.len(), &at)?;
    let mut out: Vec<OriginGroup> = Vec::with_capacity(r.items.len());
    for (i, g) in r.items.into_iter().enumerate() {
        let at = format!("{at}.Items[{i}]");
        let bad = |field: &str, why: String| NodeError::config(format!("{at}.{field}"), why);
        let id =
            g.id.filter(|id| !id.is_empty())
                .ok_or_else(|| bad("Id", "is required".into()))?;
        if origins.iter().any(|o| o.id == id) || out.iter().any(|o| o.id == id) {
            return Err(bad(
                "Id",
                format!("{id:?} is already the Id of an origin or origin group"),
            ));
        }
        match g.selection_criteria.as_deref() {
            None | Some("default") => {}
            Some("media-quality-based") => {
                return Err(bad(
                    "SelectionCriteria",
                    "media-quality-based selects among AWS Elemental MediaPackage origins, which are not emulated: use default".into(),
                ))
            }
            Some(other) => {
                return Err(bad(
                    "SelectionCriteria",
                    format!("{other:?} is not one of default, media-quality-based"),
                ))
            }
        }
        let members = g.members.ok_or_else(|| {
            bad(
                "Members",
                "is required (a primary and a secondary origin)".into(),
            )
        })?;
        quantity(
            members.quantity,
            members.items.len(),
            &format!("{at}.Members"),
        )?;
        if members.items.len() != 2 {
            return Err(bad(
                "Members.Items",
                format!(
                    "an origin group has exactly two members (a primary and a secondary), not {}",
                    members.items.len()
                ),
            ));
        }
        let member = |j: usize| -> Result<usize> {
            let oid = members.items[j].origin_id.as_deref().unwrap_or("");
            origins.iter().position(|o| o.id == oid).ok_or_else(|| {
                let ids: Vec<&str> = origins.iter().map(|o| o.id.as_str()).collect();
                bad(
                    &format!("Members.Items[{j}].OriginId"),
                    format!("no origin has the Id {oid:?} (origins: {})", ids.join(", ")),
                )
            })
        };
        let (primary, secondary) = (member(0)?, member(1)?);
        if primary == secondary {
            return Err(bad(
                "Members.Items[1].OriginId",
                "the secondary origin must be another origin than the primary".into(),
            ));
        }
        let codes = g
            .failover_criteria
            .and_then(|c| c.status_codes)
            .ok_or_else(|| bad("FailoverCriteria.StatusCodes", "is required".into()))?;
        let cat = format!("{at}.FailoverCriteria.StatusCodes");
        quantity(codes.quantity, codes.items.len(), &cat)?;
        if codes.items.is_empty() {
            return Err(NodeError::config(
                format!("{cat}.Items"),
                "at least one status code is required",
            ));
        }
        for (j, c) in codes.items.iter().enumerate() {
            if !FAILOVER_STATUSES.contains(c) {
                return Err(NodeError::config(
                    format!("{cat}.Items[{j}]"),
                    format!("{c} is not one of the codes CloudFront fails over on ({FAILOVER_STATUSES:?})"),
                ));
            }
        }
        out.push(OriginGroup {
            id,
            primary,
            secondary,
            codes: codes.items,
        });
    }
    Ok(out)
}

/// Each key group's public keys, parsed: (group Id, its keys).
pub(super) type KeyGroups = Vec<(String, crate::viewer::signed::TrustedKeys)>;

fn key_groups(r: Vec<RawKeyGroup>, at: &str) -> Result<KeyGroups> {
    let mut out: KeyGroups = Vec::with_capacity(r.len());
    for (i, g) in r.into_iter().enumerate() {
        let at = format!("{at}.KeyGroups[{i}]");
        let id =
            g.id.filter(|s| !s.is_empty())
                .ok_or_else(|| NodeError::config(format!("{at}.Id"), "is required"))?;
        if out.iter().any(|(x, _)| *x == id) {
            return Err(NodeError::config(
                format!("{at}.Id"),
                format!("key group {id:?} is defined twice"),
            ));
        }
        if g.public_keys.is_empty() {
            return Err(NodeError::config(
                format!("{at}.PublicKeys"),
                "a key group needs at least one public key",
            ));
        }
        let mut keys = crate::viewer::signed::TrustedKeys::default();
        for (j, k) in g.public_keys.into_iter().enumerate() {
            let at = format!("{at}.PublicKeys[{j}]");
            let kid = k.id.filter(|s| !s.is_empty()).ok_or_else(|| {
                NodeError::config(
                    format!("{at}.Id"),
                    "is required (the Key-Pair-Id signed URLs name)",
                )
            })?;
            let pem = k
                .encoded_key
                .ok_or_else(|| NodeError::config(format!("{at}.EncodedKey"), "is required"))?;
            keys.add(&kid, &pem)
                .map_err(|e| NodeError::config(format!("{at}.EncodedKey"), e))?;
        }
        out.push((id, keys));
    }
    Ok(out)
}

/// The codes CloudFront takes as `ErrorCode`, and (with 200) as `ResponseCode`.
const ERROR_CODES: [u16; 11] = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504];

fn custom_errors(r: Option<RawCustomErrorResponses>, at: &str) -> Result<Vec<CustomError>> {
    let Some(r) = r else { return Ok(Vec::new()) };
    let at = format!("{at}.CustomErrorResponses");
    quantity(r.quantity, r.items.len(), &at)?;
    let codes = || {
        ERROR_CODES
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out: Vec<CustomError> = Vec::with_capacity(r.items.len());
    for (i, item) in r.items.into_iter().enumerate() {
        let at = format!("{at}.Items[{i}]");
        let bad = |field: &str, why: String| NodeError::config(format!("{at}.{field}"), why);
        let code = item
            .error_code
            .ok_or_else(|| bad("ErrorCode", "is required".into()))?;
        if !ERROR_CODES.contains(&code) {
            return Err(bad(
                "ErrorCode",
                format!(
                    "{code} is not one of the codes CloudFront customizes ({})",
                    codes()
                ),
            ));
        }
        if out.iter().any(|e| e.error_code.as_u16() == code) {
            return Err(bad("ErrorCode", format!("{code} is listed more than once")));
        }
        let response = match item.response_code {
            None => None,
            Some(RawStatus::Number(n)) => Some(n),
            Some(RawStatus::Text(t)) if t.is_empty() => None,
            Some(RawStatus::Text(t)) => Some(
                t.parse::<u16>()
                    .map_err(|_| bad("ResponseCode", format!("{t:?} is not a status code")))?,
            ),
        };
        if let Some(c) = response {
            if c != 200 && !ERROR_CODES.contains(&c) {
                return Err(bad(
                    "ResponseCode",
                    format!("{c} is not one of 200, {}", codes()),
                ));
            }
        }
        let path = item.response_page_path.filter(|p| !p.is_empty());
        let page = match (path, response) {
            (None, None) => None,
            (Some(p), Some(c)) => {
                if !p.starts_with('/') || p.contains(['?', '#', ' ']) || p.len() > 4096 {
                    return Err(bad(
                        "ResponsePagePath",
                        format!("{p:?} must be a path that starts with '/' (no query, '#' or spaces), such as \"/errors/404.html\""),
                    ));
                }
                let path = p.parse::<http::uri::PathAndQuery>().map_err(|_| {
                    bad("ResponsePagePath", format!("{p:?} is not a valid URL path"))
                })?;
                let status = http::StatusCode::from_u16(c).expect("a listed code");
                Some((path, status))
            }
            (Some(_), None) => {
                return Err(bad(
                    "ResponseCode",
                    "is required with ResponsePagePath (CloudFront takes both or neither)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(bad(
                    "ResponsePagePath",
                    "is required with ResponseCode (CloudFront takes both or neither)".into(),
                ))
            }
        };
        out.push(CustomError {
            error_code: http::StatusCode::from_u16(code).expect("a listed code"),
            page,
            min_ttl: item.error_caching_min_ttl,
        });
    }
    Ok(out)
}

fn geo_restriction(r: Option<RawGeoRestriction>, at: &str) -> Result<Option<GeoRestriction>> {
    let Some(r) = r else { return Ok(None) };
    let at = format!("{at}.Restrictions.GeoRestriction");
    quantity(r.quantity, r.items.len(), &at)?;
    let mut countries = Vec::with_capacity(r.items.len());
    for (i, c) in r.items.iter().enumerate() {
        if c.len() != 2 || crate::viewer::geo::country_name(c).is_none() {
            return Err(NodeError::config(
                format!("{at}.Items[{i}]"),
                format!("{c:?} is not an ISO 3166-1 alpha-2 country code (uppercase, such as \"US\" or \"DE\")"),
            ));
        }
        countries.push(c.clone());
    }
    let allow = match r.restriction_type.as_deref() {
        Some("whitelist") => true,
        Some("blacklist") => false,
        Some("none") | None if countries.is_empty() => return Ok(None),
        Some("none") | None => {
            return Err(NodeError::config(
                format!("{at}.RestrictionType"),
                "countries are listed but RestrictionType is none: use whitelist or blacklist",
            ))
        }
        Some(other) => {
            return Err(NodeError::config(
                format!("{at}.RestrictionType"),
                format!("{other:?} is not one of whitelist, blacklist, none"),
            ))
        }
    };
    if countries.is_empty() {
        return Err(NodeError::config(
            format!("{at}.Items"),
            "a whitelist or blacklist needs at least one country",
        ));
    }
    Ok(Some(GeoRestriction { allow, countries }))
}

impl Distribution {
    /// The custom error response for `status`, if one is configured.
    pub fn custom_error(&self, status: http::StatusCode) -> Option<&CustomError> {
        self.custom_errors.iter().find(|e| e.error_code == status)
    }

    /// How long an error answer with `status` may be cached when the origin says nothing:
    /// its `CustomErrorResponses` entry's `ErrorCachingMinTTL`, else the distribution's.
    pub fn error_ttl(&self, status: http::StatusCode) -> u64 {
        self.custom_error(status)
            .and_then(|e| e.min_ttl)
            .unwrap_or(self.error_caching_min_ttl)
    }

    /// The first behavior whose path pattern matches `path`, else the default behavior.
    pub fn behavior_for(&self, path: &str) -> &Behavior {
        &self.behaviors[self.behavior_index(path)]
    }

    /// Index in `behaviors` of the first behavior whose pattern matches `path` (the default,
    /// last, matches every path).
    pub fn behavior_index(&self, path: &str) -> usize {
        let path = path.strip_prefix('/').unwrap_or(path);
        self.behaviors
            .iter()
            .position(|b| b.matcher.as_ref().is_none_or(|m| m.matches(path)))
            .unwrap_or(self.behaviors.len() - 1)
    }
}

/// CloudFront path pattern matching: case-sensitive, `*` matches any run of characters
/// (slashes too), `?` exactly one; a pattern without a leading `/` is matched as if it had one
/// (docs/cloudfront-behaviour.md). Compiled once per behavior; paths are matched without
/// their leading `/`.
pub fn pattern(p: &str) -> wildmatch::WildMatch {
    wildmatch::WildMatch::new(p.strip_prefix('/').unwrap_or(p))
}

/// Whether `path` matches the CloudFront path pattern `p`.
pub fn path_matches(p: &str, path: &str) -> bool {
    pattern(p).matches(path.strip_prefix('/').unwrap_or(path))
}

pub(super) fn distribution(
    d: RawDistribution,
    index: usize,
    base: &Path,
    stores: &Stores,
) -> Result<Distribution> {
    let at = format!("distributions[{index}]");
    let id = d.id.unwrap_or_else(|| {
        if index == 0 {
            defaults::DISTRIBUTION_ID.to_string()
        } else {
            format!("EDFDVBD6EXAMPL{index}")
        }
    });
    let domain_name = d
        .domain_name
        .unwrap_or_else(|| defaults::DISTRIBUTION_DOMAIN.to_string())
        .to_ascii_lowercase();
    if d.origins.is_empty() {
        return Err(NodeError::config(
            format!("{at}.Origins"),
            "at least one origin is required",
        ));
    }
    let mut origins: Vec<Arc<Origin>> = Vec::new();
    for (i, o) in d.origins.into_iter().enumerate() {
        let o = origin(o, &format!("{at}.Origins[{i}]"))?;
        if origins.iter().any(|x| x.id == o.id) {
            return Err(NodeError::config(
                format!("{at}.Origins[{i}].Id"),
                format!("origin id {:?} is used twice", o.id),
            ));
        }
        origins.push(Arc::new(o));
    }
    let groups = origin_groups(d.origin_groups, &origins, &at)?;
    let keys = key_groups(d.key_groups, &at)?;
    let named = super::managed::Named::of(
        d.cache_policies,
        d.origin_request_policies,
        d.response_headers_policies,
        &at,
    )?;
    let default = d.default_cache_behavior.ok_or_else(|| {
        NodeError::config(
            format!("{at}.DefaultCacheBehavior"),
            "a default cache behavior is required",
        )
    })?;
    if default.path_pattern.is_some() {
        return Err(NodeError::config(
            format!("{at}.DefaultCacheBehavior.PathPattern"),
            "the default cache behavior has no path pattern",
        ));
    }
    let around = super::behaviors::Around {
        origins: &origins,
        groups: &groups,
        key_groups: &keys,
        named: &named,
        base,
        stores,
    };
    let mut behaviors = Vec::with_capacity(d.cache_behaviors.len() + 1);
    for (i, b) in d.cache_behaviors.into_iter().enumerate() {
        let field = format!("{at}.CacheBehaviors[{i}]");
        if b.path_pattern.as_deref().is_none_or(str::is_empty) {
            return Err(NodeError::config(
                format!("{field}.PathPattern"),
                "a cache behavior needs a path pattern",
            ));
        }
        behaviors.push(behavior(b, &field, &around)?);
    }
    behaviors.push(behavior(
        default,
        &format!("{at}.DefaultCacheBehavior"),
        &around,
    )?);
    // CloudFront takes the object's name without a leading slash (it refuses one): a path
    // below the root, no query string or fragment.
    let default_root_object = match d.default_root_object.as_deref() {
        None | Some("") => None,
        Some(o) => {
            let bad = |why: &str| {
                NodeError::config(
                    format!("{at}.DefaultRootObject"),
                    format!("{o:?} {why}: give an object name such as \"index.html\""),
                )
            };
            if o.starts_with('/') {
                return Err(bad("starts with '/'"));
            }
            if o.contains(['?', '#', ' ']) || o.len() > 255 {
                return Err(bad(
                    "is not an object name (no '?', '#' or spaces, at most 255 characters)",
                ));
            }
            Some(
                format!("/{o}")
                    .parse::<http::uri::PathAndQuery>()
                    .map_err(|_| bad("is not a valid URL path"))?,
            )
        }
    };
    let geo_restriction = geo_restriction(d.restrictions.and_then(|r| r.geo_restriction), &at)?;
    let custom_errors = custom_errors(d.custom_error_responses, &at)?;
    let egress = Arc::new(crate::js::Egress::new(&origins, &d.fetch_allow, &at)?);
    Ok(Distribution {
        egress,
        custom_errors,
        id,
        domain_name,
        default_root_object,
        geo_restriction,
        aliases: d.aliases.iter().map(|a| a.to_ascii_lowercase()).collect(),
        error_caching_min_ttl: d
            .error_caching_min_ttl
            .unwrap_or(defaults::ERROR_CACHING_MIN_TTL),
        origins,
        behaviors,
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn path_patterns_match_like_cloudfront() {
        assert!(path_matches("/images/*", "/images/a/b.jpg"));
        assert!(path_matches("images/*.jpg", "/images/x.jpg"));
        assert!(!path_matches("/images/*.jpg", "/images/x.png"));
        assert!(path_matches("/a?c", "/abc"));
        assert!(!path_matches("/a?c", "/ac"));
        assert!(path_matches("*", "/anything"));
        assert!(!path_matches("/API/*", "/api/x"));
    }
}
