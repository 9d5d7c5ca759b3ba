//! Whether and for how long a response may be stored: RFC 9111 shared-cache rules, RFC 9213
//! CDN-Cache-Control, and CloudFront's TTL clamps and error caching on top
//! (docs/cloudfront-behaviour.md: "TTLs", "Error caching").

use crate::config::Ttls;
use http::header::{AGE, AUTHORIZATION, CACHE_CONTROL, DATE, EXPIRES, VARY};
use http::{HeaderMap, StatusCode};
use std::time::{Duration, SystemTime};

/// Cache-Control (or CDN-Cache-Control) directives that matter to a shared cache.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Directives {
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub no_store: bool,
    pub no_cache: bool,
    pub private: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
    pub stale_while_revalidate: Option<u64>,
    pub stale_if_error: Option<u64>,
}

impl Directives {
    /// Parses every occurrence of `name` in `headers`. Unknown directives are ignored; a
    /// malformed delta-seconds makes the directive count as absent, except for max-age and
    /// s-maxage where RFC 9111 §4.2.1 says to treat an invalid value as stale (0).
    pub fn parse(headers: &HeaderMap, name: &str) -> Option<Directives> {
        let mut d = Directives::default();
        let mut any = false;
        for value in headers.get_all(name) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                any = true;
                let (key, arg) = match item.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"'))),
                    None => (item, None),
                };
                let secs = || arg.and_then(|a| a.parse::<u64>().ok());
                match key.to_ascii_lowercase().as_str() {
                    "max-age" => d.max_age = Some(secs().unwrap_or(0)),
                    "s-maxage" => d.s_maxage = Some(secs().unwrap_or(0)),
                    "no-store" => d.no_store = true,
                    // The qualified forms are treated as unqualified: stricter, and allowed.
                    "no-cache" => d.no_cache = true,
                    "private" => d.private = true,
                    "public" => d.public = true,
                    "must-revalidate" => d.must_revalidate = true,
                    "proxy-revalidate" => d.proxy_revalidate = true,
                    "stale-while-revalidate" => d.stale_while_revalidate = secs(),
                    "stale-if-error" => d.stale_if_error = secs(),
                    _ => {}
                }
            }
        }
        any.then_some(d)
    }

    /// A targeted field (RFC 9213 §2.1, `CDN-Cache-Control`): a Structured Fields Dictionary
    /// (RFC 8941, parsed by `sfv`), its field lines combined. A value that does not parse, or
    /// an empty one, makes the whole field ignored (`None`: as if it were absent); a directive
    /// whose value has the wrong type (`max-age="60"`, `no-store=1`) is ignored by itself.
    /// `no-cache` and `private` with a list of field names are taken unqualified (stricter).
    pub fn parse_targeted(headers: &HeaderMap, name: &str) -> Option<Directives> {
        let mut joined = String::new();
        for v in headers.get_all(name) {
            if !joined.is_empty() {
                joined.push_str(", ");
            }
            joined.push_str(v.to_str().ok()?);
        }
        if joined.trim().is_empty() {
            return None;
        }
        let dict = sfv::Parser::new(&joined).parse_dictionary().ok()?;
        let mut d = Directives::default();
        for (key, entry) in &dict {
            let (flag, list, int) = match entry {
                sfv::ListEntry::Item(item) => (
                    item.bare_item.as_boolean() == Some(true),
                    false,
                    item.bare_item.as_integer().map(i64::from),
                ),
                sfv::ListEntry::InnerList(_) => (false, true, None),
            };
            let secs = int.and_then(|n| u64::try_from(n).ok());
            match key.as_str() {
                "max-age" => d.max_age = secs.or(d.max_age),
                "s-maxage" => d.s_maxage = secs.or(d.s_maxage),
                "stale-while-revalidate" => {
                    d.stale_while_revalidate = secs.or(d.stale_while_revalidate)
                }
                "stale-if-error" => d.stale_if_error = secs.or(d.stale_if_error),
                "no-store" => d.no_store |= flag,
                "no-cache" => d.no_cache |= flag || list,
                "private" => d.private |= flag || list,
                "public" => d.public |= flag,
                "must-revalidate" => d.must_revalidate |= flag,
                "proxy-revalidate" => d.proxy_revalidate |= flag,
                _ => {}
            }
        }
        Some(d)
    }
}

/// How a stored response may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Freshness lifetime after CloudFront's clamps; 0 means revalidate on every use.
    pub ttl: Duration,
    pub stale_while_revalidate: Duration,
    /// `Some` when stale content may be served on an origin error, for at most this long
    /// (`Duration::MAX` when CloudFront's own rule applies without a bound).
    pub stale_if_error: Option<Duration>,
}

/// Why a response was not stored (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoStoreReason {
    Status,
    NoStore,
    Private,
    Authorization,
    NoFreshness,
    NoValidators,
}

impl NoStoreReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            NoStoreReason::Status => "status not cacheable",
            NoStoreReason::NoStore => "no-store",
            NoStoreReason::Private => "private",
            NoStoreReason::Authorization => "request carried Authorization",
            NoStoreReason::NoFreshness => "no explicit freshness for this status",
            NoStoreReason::NoValidators => "must revalidate but has no validators",
        }
    }
}

/// Statuses CloudFront caches like successes, and the subset that may get heuristic
/// (DefaultTTL) freshness when the origin sent none (RFC 9111 §4.2.2 heuristically cacheable).
fn success_storable(s: u16) -> Option<bool> {
    match s {
        200 | 203 | 204 | 300 | 301 | 308 | 410 => Some(true),
        302 | 303 | 307 => Some(false),
        _ => None,
    }
}

/// Decides whether `resp` (the answer to a request with `req_headers`) may be stored.
pub fn decide(
    status: StatusCode,
    req_headers: &HeaderMap,
    resp: &HeaderMap,
    ttls: &Ttls,
    error_caching_min_ttl: u64,
    now: SystemTime,
) -> Result<Freshness, NoStoreReason> {
    let s = status.as_u16();
    let cdn = Directives::parse_targeted(resp, "cdn-cache-control");
    let targeted = cdn.is_some();
    let d = cdn
        .or_else(|| Directives::parse(resp, CACHE_CONTROL.as_str()))
        .unwrap_or_default();
    let explicit = d.s_maxage.or(d.max_age).or_else(|| {
        // RFC 9213 §2.1: with a targeted field present, Expires is ignored too.
        (!targeted).then(|| expires_delta(resp, now)).flatten()
    });
    let min = ttls.min;
    let secs = Duration::from_secs;
    let has_validators =
        resp.contains_key(http::header::ETAG) || resp.contains_key(http::header::LAST_MODIFIED);
    let forbids = d.no_store || d.private || d.no_cache;
    let swr = secs(d.stale_while_revalidate.unwrap_or(0));
    let strict = d.must_revalidate || d.proxy_revalidate || d.s_maxage.is_some();
    let stale_if_error = match d.stale_if_error {
        _ if strict => None,
        Some(n) => Some(secs(n)),
        // CloudFront serves a stale object when the origin fails (docs/cloudfront-behaviour.md:
        // "TTLs", "Error caching").
        None => Some(Duration::MAX),
    };
    let fresh = |ttl: u64| Freshness {
        ttl: secs(ttl),
        stale_while_revalidate: if strict { Duration::ZERO } else { swr },
        stale_if_error,
    };

    if s >= 400 {
        // Error caching (docs/cloudfront-behaviour.md: "Error caching").
        let always = matches!(s, 404 | 414 | 500 | 501 | 502 | 503 | 504);
        let if_explicit = matches!(s, 400 | 403 | 405 | 412 | 415);
        if d.no_store || d.private {
            return Err(NoStoreReason::NoStore);
        }
        let cc_explicit = d.s_maxage.or(d.max_age);
        let ttl = match (always, if_explicit, cc_explicit) {
            (true, _, Some(n)) | (_, true, Some(n)) => n.min(ttls.max),
            (true, _, None) => error_caching_min_ttl.min(ttls.max),
            _ => return Err(NoStoreReason::Status),
        };
        // An error with no time to live (ErrorCachingMinTTL 0, or max-age=0) is not kept at
        // all: a stored one could be served again, stale, when the origin fails next.
        if ttl == 0 {
            return Err(NoStoreReason::NoFreshness);
        }
        return Ok(fresh(ttl));
    }
    let Some(heuristic) = success_storable(s) else {
        return Err(NoStoreReason::Status);
    };
    if forbids && min > 0 {
        // CachePolicyConfig: with MinTTL > 0, cached for MinTTL even if no-cache, no-store or private.
        return Ok(fresh(min));
    }
    if d.no_store {
        return Err(NoStoreReason::NoStore);
    }
    if d.private {
        return Err(NoStoreReason::Private);
    }
    if req_headers.contains_key(AUTHORIZATION) && !(d.public || strict) {
        return Err(NoStoreReason::Authorization);
    }
    let mut ttl = match explicit {
        Some(n) => n.clamp(min, ttls.max),
        None if heuristic || d.public => ttls.default.max(min),
        None if min > 0 => min,
        None => return Err(NoStoreReason::NoFreshness),
    };
    let vary_star = resp.get_all(VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|x| x.trim() == "*"))
    });
    if (d.no_cache || vary_star) && min == 0 {
        // Stored, but every use goes back to the origin (CloudFront: `Vary: *` + MinTTL 0).
        ttl = 0;
    }
    if ttl == 0 && !has_validators {
        return Err(NoStoreReason::NoValidators);
    }
    Ok(fresh(ttl))
}

/// `Expires − Date` in seconds; an unparsable Expires means already expired (RFC 9111 §5.3).
fn expires_delta(resp: &HeaderMap, now: SystemTime) -> Option<u64> {
    let expires = resp.get(EXPIRES)?;
    let Some(at) = expires
        .to_str()
        .ok()
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return Some(0);
    };
    let date = resp
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .unwrap_or(now);
    Some(at.duration_since(date).map_or(0, |d| d.as_secs()))
}

/// The origin's `Age` value (the initial age of a response we store).
pub fn initial_age(resp: &HeaderMap) -> Duration {
    resp.get(AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const TTLS: Ttls = Ttls {
        min: 0,
        default: 86_400,
        max: 31_536_000,
    };

    fn resp(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ttl(status: u16, pairs: &[(&'static str, &str)], ttls: &Ttls) -> Result<u64, NoStoreReason> {
        ttl_with(status, pairs, ttls, 10)
    }

    fn ttl_with(
        status: u16,
        pairs: &[(&'static str, &str)],
        ttls: &Ttls,
        error_caching_min_ttl: u64,
    ) -> Result<u64, NoStoreReason> {
        decide(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            &resp(pairs),
            ttls,
            error_caching_min_ttl,
            SystemTime::now(),
        )
        .map(|f| f.ttl.as_secs())
    }

    #[test]
    fn s_maxage_wins_and_max_ttl_clamps() {
        assert_eq!(
            ttl(200, &[("cache-control", "max-age=10, s-maxage=20")], &TTLS),
            Ok(20)
        );
        let t = Ttls {
            min: 5,
            default: 50,
            max: 100,
        };
        assert_eq!(ttl(200, &[("cache-control", "max-age=1000")], &t), Ok(100));
        assert_eq!(ttl(200, &[("cache-control", "max-age=1")], &t), Ok(5));
        assert_eq!(ttl(200, &[], &t), Ok(50));
    }

    #[test]
    fn no_store_respected_unless_min_ttl() {
        assert_eq!(
            ttl(200, &[("cache-control", "no-store")], &TTLS),
            Err(NoStoreReason::NoStore)
        );
        assert_eq!(
            ttl(200, &[("cache-control", "private")], &TTLS),
            Err(NoStoreReason::Private)
        );
        let t = Ttls {
            min: 30,
            default: 60,
            max: 100,
        };
        assert_eq!(ttl(200, &[("cache-control", "no-store")], &t), Ok(30));
    }

    #[test]
    fn cdn_cache_control_overrides_cache_control_and_expires() {
        let r = &[
            ("cache-control", "no-store"),
            ("cdn-cache-control", "max-age=60"),
            ("expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ];
        assert_eq!(ttl(200, r, &TTLS), Ok(60));
    }

    #[test]
    fn cdn_cache_control_is_a_structured_dictionary_and_an_invalid_one_is_ignored() {
        let cc = ("cache-control", "max-age=30");
        // Valid: bare keys are true, integers are seconds; several field lines are one field.
        assert_eq!(
            ttl(200, &[cc, ("cdn-cache-control", "max-age=90")], &TTLS),
            Ok(90)
        );
        assert_eq!(
            ttl(200, &[cc, ("cdn-cache-control", "no-store")], &TTLS),
            Err(NoStoreReason::NoStore)
        );
        assert_eq!(
            ttl(
                200,
                &[
                    cc,
                    ("cdn-cache-control", "public"),
                    ("cdn-cache-control", "max-age=45")
                ],
                &TTLS
            ),
            Ok(45)
        );
        // Not a Dictionary (a bare `=`, a trailing comma, an upper-case key, a stray quote):
        // the whole field is ignored and Cache-Control applies.
        for bad in ["max-age=", "max-age=60,", "Max-Age=60", "max-age=60, \"x"] {
            assert_eq!(
                ttl(200, &[cc, ("cdn-cache-control", bad)], &TTLS),
                Ok(30),
                "{bad:?}"
            );
        }
        // Valid, but a directive of the wrong type is ignored by itself: no freshness from
        // the targeted field, and Cache-Control no longer counts (the field is present).
        assert_eq!(
            ttl(200, &[cc, ("cdn-cache-control", "max-age=\"60\"")], &TTLS),
            Ok(TTLS.default)
        );
        assert_eq!(
            ttl(
                200,
                &[cc, ("cdn-cache-control", "no-store=1, max-age=20")],
                &TTLS
            ),
            Ok(20)
        );
        // Qualified no-cache / private (a list of field names) count as unqualified.
        assert_eq!(
            ttl(
                200,
                &[cc, ("cdn-cache-control", "private=(\"set-cookie\")")],
                &TTLS
            ),
            Err(NoStoreReason::Private)
        );
    }

    #[test]
    fn expires_relative_to_date_and_invalid_is_expired() {
        let now = SystemTime::now();
        let date = httpdate::fmt_http_date(now);
        let exp = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            ttl(200, &[("date", &date), ("expires", &exp)], &TTLS),
            Ok(120)
        );
        assert_eq!(
            ttl(200, &[("expires", "0"), ("etag", "\"x\"")], &TTLS),
            Ok(0)
        );
    }

    #[test]
    fn an_error_with_no_time_to_live_is_not_stored() {
        for s in [404, 500, 502, 503, 504] {
            assert_eq!(
                ttl_with(s, &[], &TTLS, 0),
                Err(NoStoreReason::NoFreshness),
                "{s}"
            );
            assert_eq!(
                ttl(s, &[("cache-control", "max-age=0")], &TTLS),
                Err(NoStoreReason::NoFreshness),
                "{s}"
            );
            assert_eq!(
                ttl_with(s, &[("cache-control", "max-age=5")], &TTLS, 0),
                Ok(5)
            );
        }
    }

    #[test]
    fn errors_cached_per_cloudfront() {
        assert_eq!(ttl(404, &[], &TTLS), Ok(10));
        assert_eq!(ttl(503, &[], &TTLS), Ok(10));
        assert_eq!(ttl(403, &[], &TTLS), Err(NoStoreReason::Status));
        assert_eq!(ttl(403, &[("cache-control", "max-age=7")], &TTLS), Ok(7));
        assert_eq!(
            ttl(401, &[("cache-control", "max-age=7")], &TTLS),
            Err(NoStoreReason::Status)
        );
    }

    #[test]
    fn heuristics_only_where_allowed() {
        assert_eq!(ttl(302, &[], &TTLS), Err(NoStoreReason::NoFreshness));
        assert_eq!(ttl(302, &[("cache-control", "max-age=3")], &TTLS), Ok(3));
        assert_eq!(ttl(301, &[], &TTLS), Ok(86_400));
        assert_eq!(
            ttl(201, &[("cache-control", "max-age=3")], &TTLS),
            Err(NoStoreReason::Status)
        );
    }

    #[test]
    fn no_cache_and_vary_star_store_for_revalidation_only_with_validators() {
        assert_eq!(
            ttl(200, &[("cache-control", "no-cache")], &TTLS),
            Err(NoStoreReason::NoValidators)
        );
        assert_eq!(
            ttl(
                200,
                &[("cache-control", "no-cache"), ("etag", "\"a\"")],
                &TTLS
            ),
            Ok(0)
        );
        assert_eq!(ttl(200, &[("vary", "*"), ("etag", "\"a\"")], &TTLS), Ok(0));
    }

    #[test]
    fn authorization_needs_explicit_permission() {
        let mut req = HeaderMap::new();
        req.insert(AUTHORIZATION, HeaderValue::from_static("Basic eA=="));
        let d = |pairs: &[(&'static str, &str)]| {
            decide(
                StatusCode::OK,
                &req,
                &resp(pairs),
                &TTLS,
                10,
                SystemTime::now(),
            )
            .map(|f| f.ttl.as_secs())
        };
        assert_eq!(
            d(&[("cache-control", "max-age=5")]),
            Err(NoStoreReason::Authorization)
        );
        assert_eq!(d(&[("cache-control", "public, max-age=5")]), Ok(5));
        assert_eq!(d(&[("cache-control", "s-maxage=5")]), Ok(5));
    }

    #[test]
    fn stale_rules() {
        let f = |cc: &str| {
            decide(
                StatusCode::OK,
                &HeaderMap::new(),
                &resp(&[("cache-control", cc)]),
                &TTLS,
                10,
                SystemTime::now(),
            )
            .unwrap()
        };
        assert_eq!(
            f("max-age=1, stale-if-error=30").stale_if_error,
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            f("max-age=1, must-revalidate, stale-if-error=30").stale_if_error,
            None
        );
        assert_eq!(
            f("max-age=1, stale-while-revalidate=9").stale_while_revalidate,
            Duration::from_secs(9)
        );
        assert_eq!(f("max-age=1").stale_if_error, Some(Duration::MAX));
    }
}
