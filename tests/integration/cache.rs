//! Caching through a real edge node: hits, TTL clamps, Vary, revalidation, collapsing,
//! stale-if-error, unsafe-method invalidation, HEAD and viewer conditionals.

use crate::harness::*;
use bytes::Bytes;
use http::Method;

#[tokio::test]
async fn miss_then_hit_makes_one_origin_request() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/bytes/1024?cache_control=max-age%3D600", edge.base);
    let first = get(&url).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.x_cache(), x_cache::MISS);
    assert_eq!(first.body.len(), 1024);
    let second = get(&url).await;
    assert_eq!(second.x_cache(), x_cache::HIT);
    assert_eq!(second.body, first.body);
    assert!(
        second.header("age").parse::<u64>().is_ok(),
        "hit carries Age"
    );
    assert!(second
        .header("via")
        .ends_with(".cloudfront.net (CloudFront)"));
    assert!(!second.header("x-amz-cf-pop").is_empty());
    assert_eq!(second.header("x-amz-cf-id").len(), 56);
    assert_ne!(first.header("x-amz-cf-id"), second.header("x-amz-cf-id"));
    let stats = origin.stats().await;
    assert_eq!(stats["total"], 1, "{stats}");
    assert_eq!(stats["paths"]["/bytes/1024"], 1);
}

#[tokio::test]
async fn ttl_clamps_follow_cloudfront() {
    let origin = origin();
    // The origin's Age makes an object old on arrival, so freshness is decided at once.
    let cfg = NodeToml::for_origin(&origin)
        .behavior("MinTTL", 60)
        .behavior("DefaultTTL", 60)
        .behavior("MaxTTL", 100)
        .cache_policy("QueryStringBehavior", "all")
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    // max-age=1000 clamped to MaxTTL 100: at age 150 it is stale.
    let clamped_max = format!("{}/max?cache_control=max-age%3D1000&age=150", edge.base);
    get(&clamped_max).await;
    assert_eq!(get(&clamped_max).await.x_cache(), x_cache::MISS);
    // max-age=1 raised to MinTTL 60: at age 30 it is fresh.
    let clamped_min = format!("{}/min?cache_control=max-age%3D1&age=30", edge.base);
    get(&clamped_min).await;
    assert_eq!(get(&clamped_min).await.x_cache(), x_cache::HIT);
    // no-store with MinTTL > 0 is cached for MinTTL.
    let no_store = format!("{}/nostore?cache_control=no-store", edge.base);
    get(&no_store).await;
    assert_eq!(get(&no_store).await.x_cache(), x_cache::HIT);
    let stats = origin.stats().await;
    assert_eq!(stats["paths"]["/max"], 2);
    assert_eq!(stats["paths"]["/min"], 1);
    assert_eq!(stats["paths"]["/nostore"], 1);
}

#[tokio::test]
async fn no_store_and_private_are_not_cached_with_min_ttl_zero() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    for cc in ["no-store", "private"] {
        let url = format!("{}/p-{cc}?cache_control={cc}", edge.base);
        get(&url).await;
        assert_eq!(get(&url).await.x_cache(), x_cache::MISS, "{cc}");
    }
    assert_eq!(origin.total().await, 4);
}

/// CDN-Cache-Control is a Structured Fields Dictionary: a valid one overrides Cache-Control, an
/// invalid one is ignored whole (RFC 9213 §2.1).
#[tokio::test]
async fn cdn_cache_control_applies_when_valid_and_is_ignored_when_not() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    // Cache-Control says no-store; a valid CDN-Cache-Control says 60 s: cached.
    let valid = format!(
        "{}/cdn-valid?cache_control=no-store&headers=cdn-cache-control:max-age%3D60",
        edge.base
    );
    assert_eq!(get(&valid).await.x_cache(), x_cache::MISS);
    assert_eq!(get(&valid).await.x_cache(), x_cache::HIT);
    // The same with a trailing comma (not a Dictionary): ignored, so no-store applies.
    let invalid = format!(
        "{}/cdn-invalid?cache_control=no-store&headers=cdn-cache-control:max-age%3D60%2C",
        edge.base
    );
    assert_eq!(get(&invalid).await.x_cache(), x_cache::MISS);
    assert_eq!(get(&invalid).await.x_cache(), x_cache::MISS);
    assert_eq!(origin.total().await, 3);
}

/// With ErrorCachingMinTTL 0 an origin error without freshness is not kept: the next request
/// goes to the origin again, and when the origin is gone by then the viewer gets CloudFront's
/// 502, not the old error served stale.
#[tokio::test]
async fn with_error_caching_min_ttl_zero_errors_are_not_reused() {
    let origin = origin();
    let toml = NodeToml::for_origin(&origin)
        .distribution_key("ErrorCachingMinTTL", 0)
        .cache_policy("QueryStringBehavior", "all")
        .text();
    let (edge, _cfg) = edge_with_config(&toml, &[]);
    for status in [502, 503, 504] {
        let url = format!("{}/err-{status}?status={status}", edge.base);
        assert_eq!(get(&url).await.status, status);
        assert_eq!(get(&url).await.x_cache(), x_cache::ERROR, "{status}");
    }
    // Each error went to the origin twice: none was served from the cache.
    assert_eq!(origin.total().await, 6);
    drop(origin);
    let r = get(&format!("{}/err-503?status=503", edge.base)).await;
    assert_eq!(r.status, 502, "the origin is down: {}", r.text());
    // The default (10 s) keeps an error for its time, as before.
    let other = crate::harness::origin();
    let edge = edge_for(&other, &[]);
    let url = format!("{}/err?status=503", edge.base);
    get(&url).await;
    get(&url).await;
    assert_eq!(other.total().await, 1);
}

#[tokio::test]
async fn vary_keeps_variants_apart() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!(
        "{}/v?vary=Accept-Language&cache_control=max-age%3D600",
        edge.base
    );
    let en = get_with(&url, &[("accept-language", "en")]).await;
    let de = get_with(&url, &[("accept-language", "de")]).await;
    assert_eq!(en.x_cache(), x_cache::MISS);
    assert_eq!(de.x_cache(), x_cache::MISS);
    let en2 = get_with(&url, &[("accept-language", "en")]).await;
    assert_eq!(en2.x_cache(), x_cache::HIT);
    assert_eq!(
        en2.header("x-origin-request"),
        en.header("x-origin-request")
    );
    assert_eq!(
        get_with(&url, &[("accept-language", "de")]).await.x_cache(),
        x_cache::HIT
    );
    assert_eq!(origin.total().await, 2);
}

#[tokio::test]
async fn revalidation_with_304_updates_stored_headers() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/r?etag=%22v1%22&cache_control=no-cache", edge.base);
    let first = get(&url).await;
    assert_eq!(first.x_cache(), x_cache::MISS);
    assert_eq!(first.header("x-origin-request"), "1");
    let second = get(&url).await;
    assert_eq!(second.x_cache(), x_cache::REFRESH_HIT);
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body);
    // The origin answered 304 with its own X-Origin-Request; the stored headers took it.
    assert_eq!(second.header("x-origin-request"), "2");
    assert_eq!(origin.total().await, 2);
}

#[tokio::test]
async fn concurrent_misses_collapse_into_one_origin_request() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!(
        "{}/slow?delay_ms=300&cache_control=max-age%3D600",
        edge.base
    );
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn({
                let url = url.clone();
                async move { get(&url).await }
            })
        })
        .collect();
    let mut misses = 0;
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200);
        if r.x_cache() == x_cache::MISS {
            misses += 1;
        } else {
            assert_eq!(r.x_cache(), x_cache::HIT);
        }
    }
    assert_eq!(misses, 1);
    assert_eq!(origin.total().await, 1);
}

/// Key on the path only, forward every query string: the same object, with the origin told to fail.
fn path_keyed(origin: &Origin) -> String {
    NodeToml::for_origin(origin)
        .cache_policy("QueryStringBehavior", "none")
        .origin_request_policy("QueryStringBehavior", "all")
        .text()
}

#[tokio::test]
async fn stale_object_served_while_the_origin_fails() {
    let origin = origin();
    let (edge, _cfg) = edge_with_config(&path_keyed(&origin), &[]);
    // Stored already stale (age 20 > max-age 10).
    let first = get(&format!(
        "{}/sie?cache_control=max-age%3D10%2C%20stale-if-error%3D600&age=20",
        edge.base
    ))
    .await;
    assert_eq!(first.x_cache(), x_cache::MISS);
    let reset = get(&format!("{}/sie?fail=reset", edge.base)).await;
    assert_eq!(reset.status, 200);
    assert_eq!(reset.body, first.body);
    let error = get(&format!("{}/sie?status=503", edge.base)).await;
    assert_eq!(error.status, 200);
    assert_eq!(error.body, first.body);
    // must-revalidate forbids serving stale.
    get(&format!(
        "{}/mr?cache_control=max-age%3D10%2C%20must-revalidate&age=20",
        edge.base
    ))
    .await;
    let refused = get(&format!("{}/mr?fail=reset", edge.base)).await;
    assert_eq!(refused.status, 502);
}

#[tokio::test]
async fn unsafe_method_invalidates_the_uri() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/doc?cache_control=max-age%3D600", edge.base);
    get(&url).await;
    assert_eq!(get(&url).await.x_cache(), x_cache::HIT);
    let post = request(
        Method::POST,
        &url,
        &[("content-type", "text/plain")],
        Bytes::from_static(b"new"),
    )
    .await;
    assert_eq!(post.status, 200);
    assert_eq!(get(&url).await.x_cache(), x_cache::MISS);
    assert_eq!(origin.total().await, 3);
}

#[tokio::test]
async fn post_body_reaches_the_origin() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let r = request(
        Method::PUT,
        &format!("{}/echo/put?x=1", edge.base),
        &[],
        Bytes::from_static(b"payload"),
    )
    .await;
    let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/echo/put");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["body"], "payload");
    assert!(echo["headers"]["x-amz-cf-id"]
        .as_str()
        .is_some_and(|v| v.len() == 56));
    assert!(echo["headers"]["via"]
        .as_str()
        .unwrap()
        .contains("cloudfront.net (CloudFront)"));
    assert_eq!(echo["headers"]["x-forwarded-for"], "127.0.0.1");
}

#[tokio::test]
async fn head_and_conditional_requests_answered_from_cache() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/h?etag=%22e1%22&cache_control=max-age%3D600", edge.base);
    let head = request(Method::HEAD, &url, &[], Bytes::new()).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let get1 = get(&url).await;
    assert_eq!(get1.x_cache(), x_cache::HIT);
    assert!(!get1.body.is_empty());
    let cond = get_with(&url, &[("if-none-match", "\"e1\"")]).await;
    assert_eq!(cond.status, 304);
    assert_eq!(cond.x_cache(), x_cache::HIT);
    assert_eq!(origin.total().await, 1);
}

#[tokio::test]
async fn origin_request_rewrites_follow_cloudfront() {
    let origin = origin();
    // Default policies: nothing but the always-forwarded headers reach the origin.
    let cfg = NodeToml::for_origin(&origin).text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let r = get_with(
        &format!("{}/echo?q=1", edge.base),
        &[
            ("user-agent", "curl/8"),
            ("accept-language", "de"),
            ("cookie", "a=1"),
            ("x-edge-secret", "s"),
            ("cache-control", "no-cache"),
        ],
    )
    .await;
    let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let h = &echo["headers"];
    assert_eq!(h["user-agent"], "Amazon CloudFront");
    assert_eq!(
        h["host"],
        "127.0.0.1:".to_string() + origin.base.rsplit(':').next().unwrap()
    );
    assert!(h.get("accept-language").is_none(), "{h}");
    assert!(h.get("cookie").is_none(), "{h}");
    assert!(h.get("x-edge-secret").is_none(), "{h}");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(
        echo["query"], "",
        "query strings are not forwarded by default"
    );
}

#[tokio::test]
async fn stale_while_revalidate_answers_at_once_and_refreshes_in_the_background() {
    let origin = origin();
    let (edge, _cfg) = edge_with_config(&path_keyed(&origin), &[]);
    // Stored already stale (age 20 > max-age 10) but within stale-while-revalidate.
    let first = get(&format!(
        "{}/swr?cache_control=max-age%3D10%2C%20stale-while-revalidate%3D600&age=20",
        edge.base
    ))
    .await;
    assert_eq!(first.header("x-origin-request"), "1");
    // Served stale without waiting for the origin, which now takes 600 ms to answer.
    let started = std::time::Instant::now();
    let stale = get(&format!(
        "{}/swr?delay_ms=600&cache_control=max-age%3D600",
        edge.base
    ))
    .await;
    assert_eq!(stale.x_cache(), x_cache::HIT);
    assert_eq!(stale.header("x-origin-request"), "1");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    // The background revalidation stores the origin's new answer: a later request sees it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = get(&format!("{}/swr", edge.base)).await;
        if r.header("x-origin-request") == "2" {
            assert_eq!(r.x_cache(), x_cache::HIT);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the background revalidation never landed"
        );
        // Each probe is a real request answered from the stale object; the next one waits for
        // the origin's delayed answer to be stored.
        tokio::task::yield_now().await;
    }
    assert_eq!(
        origin.stats().await["paths"]["/swr"],
        2,
        "one background fetch"
    );
}

#[tokio::test]
async fn distributions_are_chosen_by_host() {
    let origin = origin();
    let port = origin.base.rsplit(':').next().unwrap();
    let dist = |id: &str, alias: &str, path: &str| {
        format!(
            r#"
[[distributions]]
Id = "{id}"
Aliases = ["{alias}"]
[[distributions.Origins]]
Id = "o"
DomainName = "127.0.0.1"
OriginPath = "{path}"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[distributions.DefaultCacheBehavior]
"#
        )
    };
    let cfg = format!(
        "{}{}",
        dist("EAAAAAAAAAAAAA", "a.example", "/echo/a"),
        dist("EBBBBBBBBBBBBB", "b.example", "/echo/b")
    );
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    for (host, path) in [
        ("a.example", "/echo/a/x"),
        ("b.example:8080", "/echo/b/x"),
        ("unknown.example", "/echo/a/x"),
    ] {
        let r = get_with(&format!("{}/x", edge.base), &[("host", host)]).await;
        let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(echo["path"], path, "{host}");
    }
}

/// Range requests are answered from the cached object (the fill fetches it whole): one range
/// gets 206 with Content-Range, a suffix longer than the object the whole of it, a range past
/// the end 416, ranges in order multipart/byteranges; a failing If-Range, a HEAD, ranges out
/// of order or a bad header get the whole object.
#[tokio::test]
async fn ranges_are_served_from_the_cached_object() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/echo/range?cache_control=max-age%3D600", edge.base);
    let part = get_with(&url, &[("range", "bytes=0-4")]).await;
    assert_eq!(part.status, 206, "{}", part.text());
    assert_eq!(part.body.len(), 5);
    let whole = get(&url).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.x_cache(), "Hit from cloudfront");
    let size = whole.body.len();
    assert_eq!(part.header("content-range"), format!("bytes 0-4/{size}"));
    assert_eq!(&part.body[..], &whole.body[..5]);
    let echo: serde_json::Value = serde_json::from_slice(&whole.body).unwrap();
    assert!(
        echo["headers"].get("range").is_none(),
        "the fill asked for the whole object: {echo}"
    );
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, usize);
    let cases: [Case; 7] = [
        (&[("range", "bytes=-3")], 206, 3),
        (&[("range", "bytes=-100000")], 206, size),
        (&[("range", "bytes=100000-")], 416, 0),
        (&[("range", "bytes=4-6,0-1")], 200, size),
        (&[("range", "bytes=oops")], 200, size),
        (
            &[("range", "bytes=0-4"), ("if-range", "\"not-this-one\"")],
            200,
            size,
        ),
        (&[("range", "bytes=2-")], 206, size - 2),
    ];
    for (headers, status, len) in cases {
        let r = get_with(&url, headers).await;
        assert_eq!(
            (r.status.as_u16(), r.body.len()),
            (status, len),
            "{headers:?}"
        );
        // A 416, as every 4xx, reads `Error from cloudfront`.
        let x_cache = if status == 416 {
            "Error from cloudfront"
        } else {
            "Hit from cloudfront"
        };
        assert_eq!(r.x_cache(), x_cache, "{headers:?}");
    }
    let r = get_with(&url, &[("range", "bytes=100000-")]).await;
    assert_eq!(r.header("content-range"), format!("bytes */{size}"));
    // Two ranges in order: multipart/byteranges, each part with its type and range.
    let r = get_with(&url, &[("range", "bytes=0-1, 4-6")]).await;
    assert_eq!(r.status, 206);
    let ct = r.header("content-type").to_string();
    let boundary = ct
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{ct}"));
    assert!(
        boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "an unquoted boundary is a token: {ct}"
    );
    let text = r.text();
    let parts: Vec<&str> = text.split(&format!("--{boundary}")).collect();
    assert_eq!(parts.len(), 4, "{text}");
    assert!(
        parts[1].contains(&format!("Content-Range: bytes 0-1/{size}")),
        "{text}"
    );
    assert!(
        parts[1].contains("Content-Type: application/json"),
        "{text}"
    );
    assert!(
        parts[1].ends_with(&format!(
            "\r\n\r\n{}\r\n",
            String::from_utf8_lossy(&whole.body[0..2])
        )),
        "{text}"
    );
    assert!(
        parts[2].contains(&format!("Content-Range: bytes 4-6/{size}")),
        "{text}"
    );
    assert!(
        parts[2].ends_with(&format!(
            "\r\n\r\n{}\r\n",
            String::from_utf8_lossy(&whole.body[4..7])
        )),
        "{text}"
    );
    assert_eq!(parts[3], "--\r\n");
    assert_eq!(r.header("content-length"), r.body.len().to_string());
    let head = request(Method::HEAD, &url, &[("range", "bytes=0-4")], Bytes::new()).await;
    assert_eq!(head.status, 200);
}

/// `Compress` as CloudFront does it: Brotli or gzip by the viewer's Accept-Encoding (Brotli only
/// where the cache policy enables it), each coding cached as its own variant, only for the types
/// and sizes CloudFront compresses, never an encoded answer again, never for HTTP/1.0.
#[tokio::test]
async fn compress_gzips_and_brotlis_what_cloudfront_would_and_caches_each_coding() {
    use std::io::Read;
    let origin = origin();
    let port = origin.base.rsplit(':').next().unwrap();
    let toml = format!(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[[distributions.CacheBehaviors]]
PathPattern = "/gzip-only/*"
TargetOriginId = "mock"
Compress = true
[distributions.CacheBehaviors.CachePolicy]
QueryStringBehavior = "all"
[[distributions.CacheBehaviors]]
PathPattern = "/plain/*"
TargetOriginId = "mock"
[distributions.CacheBehaviors.CachePolicy]
QueryStringBehavior = "all"
EnableAcceptEncodingGzip = true
EnableAcceptEncodingBrotli = true
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
Compress = true
[distributions.DefaultCacheBehavior.CachePolicy]
QueryStringBehavior = "all"
EnableAcceptEncodingGzip = true
EnableAcceptEncodingBrotli = true
"#
    );
    let (edge, _cfg) = edge_with_config(&toml, &[]);
    let q = "size=5000&content_type=text/html%3B%20charset%3Dutf-8&cache_control=max-age%3D600&etag=%22v1%22";
    let url = format!("{}/page?{q}", edge.base);
    let plain = get(&url).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.body.len(), 5000);
    let original = plain.body.clone();
    let unzip = |coding: &str, body: &[u8]| -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            "gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
            "br" => brotli::Decompressor::new(body, 4096).read_to_end(&mut out),
            other => panic!("coding {other}"),
        }
        .unwrap();
        out
    };
    for (accept, coding) in [("br, gzip", "br"), ("gzip, deflate", "gzip"), ("br", "br")] {
        for x_cache in [x_cache::MISS, x_cache::HIT] {
            let r = get_with(&url, &[("accept-encoding", accept)]).await;
            assert_eq!(r.x_cache(), x_cache, "{accept}");
            assert_eq!(r.header("content-encoding"), coding, "{accept}");
            assert_eq!(r.header("content-length"), r.body.len().to_string());
            assert!(r.body.len() < 1000, "{accept}: {} bytes", r.body.len());
            assert_eq!(unzip(coding, &r.body), original, "{accept}");
            assert_eq!(r.header("etag"), "W/\"v1\"", "a strong ETag turns weak");
            assert!(
                r.header("vary")
                    .to_ascii_lowercase()
                    .contains("accept-encoding"),
                "{accept}"
            );
        }
    }
    // The identity variant was cached apart and kept its strong ETag.
    let again = get(&url).await;
    assert_eq!(
        (
            again.x_cache(),
            again.header("content-encoding"),
            again.header("etag")
        ),
        (x_cache::HIT, "", "\"v1\"")
    );
    assert_eq!(again.body, original);
    assert_eq!(
        origin.stats().await["paths"]["/page"],
        4,
        "identity, br,gzip, gzip and br: each variant filled once"
    );

    // What CloudFront leaves alone: too small, a type it does not compress, an answer the
    // origin encoded, a behavior without Compress, a HEAD.
    let gz = [("accept-encoding", "gzip, br")];
    for (path, len, why) in [
        (
            "/small?size=999&content_type=text/plain",
            999,
            "under 1,000 bytes",
        ),
        (
            "/png?size=5000&content_type=image/png",
            5000,
            "not a type CloudFront compresses",
        ),
        (
            "/enc?size=5000&content_type=text/css&headers=Content-Encoding:identity",
            5000,
            "already encoded",
        ),
        (
            "/plain/x?size=5000&content_type=text/css",
            5000,
            "no Compress",
        ),
    ] {
        let r = get_with(&format!("{}{path}", edge.base), &gz).await;
        assert_eq!(r.status, 200, "{why}");
        let encoding = r.header("content-encoding");
        assert!(
            encoding.is_empty() || encoding == "identity",
            "{why}: {encoding}"
        );
        assert_eq!(r.body.len(), len, "{why}");
    }
    // A HEAD that misses is filled with a GET: the object it stores is compressed too.
    let fresh = format!("{}/head?{q}", edge.base);
    let head = request(Method::HEAD, &fresh, &gz, Bytes::new()).await;
    assert_eq!(
        (head.status.as_u16(), head.header("content-encoding")),
        (200, "br")
    );
    let r = get_with(&fresh, &gz).await;
    assert_eq!(
        (r.x_cache(), r.header("content-encoding")),
        (x_cache::HIT, "br")
    );
    assert_eq!(unzip("br", &r.body), original);
    // Brotli only where the cache policy enables it; gzip with Compress alone.
    let r = get_with(
        &format!(
            "{}/gzip-only/x?size=5000&content_type=application/json",
            edge.base
        ),
        &gz,
    )
    .await;
    assert_eq!(r.header("content-encoding"), "gzip");
    assert_eq!(unzip("gzip", &r.body).len(), 5000);

    // HTTP/1.0: CloudFront drops Accept-Encoding and answers uncompressed.
    let addr = edge.proc.addr("http");
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(
        format!("GET /page?{q} HTTP/1.0\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let head = String::from_utf8_lossy(&raw[..raw.len() - 5000]).to_ascii_lowercase();
    assert!(
        head.starts_with("http/1.0 200") || head.starts_with("http/1.1 200"),
        "{head}"
    );
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(&raw[raw.len() - 5000..], &original[..]);
}
