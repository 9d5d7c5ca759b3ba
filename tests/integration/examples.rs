//! Every example in functions/ through a real edge node, with the requests and the answers
//! it is for.

use crate::harness::*;
use hmac::Mac;

#[tokio::test]
async fn security_headers_on_misses_and_hits() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-response", &example("security-headers.js"))],
        &[],
    );
    let url = format!("{}/page?cache_control=max-age%3D60", edge.base);
    for expected in [x_cache::MISS, x_cache::HIT] {
        let r = get(&url).await;
        assert_eq!(r.x_cache(), expected);
        assert!(r
            .header("strict-transport-security")
            .starts_with("max-age=63072000"));
        assert_eq!(r.header("x-frame-options"), "DENY");
        assert_eq!(r.header("x-content-type-options"), "nosniff");
        assert!(r
            .header("content-security-policy")
            .contains("default-src 'self'"));
    }
}

#[tokio::test]
async fn ab_test_by_cookie_rewrites_the_uri() {
    let origin = origin();
    let edge = edge_with_functions(&origin, &[("viewer-request", &example("ab-test.js"))], &[]);
    get_with(
        &format!("{}/landing", edge.base),
        &[("cookie", "experiment=b")],
    )
    .await;
    get_with(
        &format!("{}/landing", edge.base),
        &[("cookie", "theme=dark; experiment=a")],
    )
    .await;
    get(&format!("{}/landing", edge.base)).await;
    let stats = origin.stats().await;
    assert_eq!(stats["paths"]["/experiment-b/landing"], 1, "{stats}");
    assert!(
        stats["paths"]["/experiment-a/landing"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{stats}"
    );
    assert!(stats["paths"].get("/landing").is_none(), "{stats}");
}

#[tokio::test]
async fn normalized_query_strings_share_one_cache_entry() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &example("normalize-query.js"))],
        &[],
    );
    let a = get(&format!("{}/echo?B=2&utm_source=mail&a=1", edge.base)).await;
    let echo: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(echo["query"], "a=1&b=2");
    let b = get(&format!("{}/echo?a=1&b=2&fbclid=x", edge.base)).await;
    assert_eq!(b.x_cache(), x_cache::HIT);
    assert_eq!(origin.total().await, 1);
}

#[tokio::test]
async fn basic_auth_answers_401_until_credentials_match() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &example("basic-auth.js"))],
        &[],
    );
    let denied = get(&format!("{}/private", edge.base)).await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.x_cache(), x_cache::GENERATED);
    assert!(denied
        .header("www-authenticate")
        .starts_with("Basic realm="));
    let wrong = get_with(
        &format!("{}/private", edge.base),
        &[("authorization", "Basic ZWRnZTpub3Bl")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    let ok = get_with(
        &format!("{}/private", edge.base),
        &[("authorization", "Basic ZWRnZTpsb2NhbC1zZWNyZXQ=")],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(origin.total().await, 1);
}

fn signed(user: &str, expires: u64, secret: &str) -> String {
    let payload = format!("{user}.{expires}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("session={payload}.{sig}")
}

#[tokio::test]
async fn signed_cookie_is_checked_with_hmac() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &example("signed-cookie.js"))],
        &[],
    );
    let url = format!("{}/echo/account", edge.base);
    let future = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    assert_eq!(get(&url).await.status, 403);
    let forged = get_with(&url, &[("cookie", &signed("ada", future, "wrong-secret"))]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.text().contains("bad signature"));
    let expired = get_with(
        &url,
        &[("cookie", &signed("ada", 1_000, "change-me-in-production"))],
    )
    .await;
    assert!(expired.text().contains("expired"));
    let ok = get_with(
        &url,
        &[("cookie", &signed("ada", future, "change-me-in-production"))],
    )
    .await;
    assert_eq!(ok.status, 200);
    let echo: serde_json::Value = serde_json::from_slice(&ok.body).unwrap();
    assert_eq!(echo["headers"]["x-user"], "ada");
}

#[tokio::test]
async fn directory_uris_get_index_html() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("origin-request", &example("index-rewrite.js"))],
        &[],
    );
    for p in ["/", "/docs/", "/docs/guide", "/style.css"] {
        assert_eq!(get(&format!("{}{p}", edge.base)).await.status, 200, "{p}");
    }
    let stats = origin.stats().await;
    for p in [
        "/index.html",
        "/docs/index.html",
        "/docs/guide/index.html",
        "/style.css",
    ] {
        assert_eq!(stats["paths"][p], 1, "{p}: {stats}");
    }
}

#[tokio::test]
async fn api_paths_go_to_another_origin() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("origin-request", &example("origin-by-path.js"))],
        &[],
    );
    let r = get(&format!("{}/api/users?id=7", edge.base)).await;
    let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["path"], "/echo/users");
    assert_eq!(echo["query"], "id=7");
    assert_eq!(echo["headers"]["x-api-origin"], "yes");
    let other = get(&format!("{}/site/page", edge.base)).await;
    assert!(other.text().contains("hello from /site/page"));
}

#[tokio::test]
async fn origin_response_sets_cache_control() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("origin-response", &example("cache-control.js"))],
        &[],
    );
    let first = get(&format!("{}/plain", edge.base)).await;
    assert_eq!(first.header("cache-control"), "public, max-age=3600");
    assert_eq!(
        get(&format!("{}/plain", edge.base)).await.x_cache(),
        x_cache::HIT
    );
    let missing = get(&format!("{}/gone?status=404", edge.base)).await;
    assert_eq!(missing.header("cache-control"), "public, max-age=10");
    let kept = get(&format!("{}/own?cache_control=max-age%3D5", edge.base)).await;
    assert_eq!(kept.header("cache-control"), "max-age=5");
}

#[tokio::test]
async fn hello_is_generated_at_the_edge() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &example("generate-body.js"))],
        &[],
    );
    let r = get(&format!("{}/hello?name=Ada", edge.base)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.x_cache(), x_cache::GENERATED);
    assert!(r.text().contains("<h1>Hello, Ada!</h1>"));
    assert!(
        r.text().contains(r.header("x-amz-cf-id")),
        "requestId is the X-Amz-Cf-Id"
    );
    assert_eq!(origin.total().await, 0);
    assert_eq!(
        get(&format!("{}/other", edge.base)).await.x_cache(),
        x_cache::MISS
    );
}

#[tokio::test]
async fn viewers_in_germany_are_redirected() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .cache_policy("QueryStringBehavior", "all")
        .cache_policy("HeaderBehavior", "whitelist")
        .cache_policy("Headers", vec!["CloudFront-Viewer-Country"])
        .function("origin-request", &example("redirect-by-country.js"))
        .text();
    let db = test_db();
    let (edge, _cfg) = edge_with_config(&cfg, &["--dev", "--geo-db", db.to_str().unwrap()]);
    let de = get_with(
        &format!("{}/shop?x=1", edge.base),
        &[("x-edge-viewer-ip", "203.0.113.10")],
    )
    .await;
    assert_eq!(de.status, 302);
    assert_eq!(de.header("location"), "/de/shop?x=1");
    let gb = get_with(
        &format!("{}/shop?x=1", edge.base),
        &[("x-edge-viewer-ip", "192.0.2.10")],
    )
    .await;
    assert_eq!(gb.status, 200);
    // The redirect was cached for DE viewers only (the country is in the cache key).
    let de2 = get_with(
        &format!("{}/shop?x=1", edge.base),
        &[("x-edge-viewer-ip", "203.0.113.77")],
    )
    .await;
    assert_eq!(de2.status, 302);
    assert_eq!(de2.x_cache(), x_cache::HIT);
    assert_eq!(origin.total().await, 1);
}

#[tokio::test]
async fn greeting_and_currency_by_country() {
    let origin = origin();
    let db = test_db();
    let cfg = NodeToml::for_origin(&origin)
        .cache_policy("HeaderBehavior", "whitelist")
        .cache_policy("Headers", vec!["CloudFront-Viewer-Country"])
        .origin_request_policy("HeaderBehavior", "whitelist")
        .origin_request_policy("Headers", vec!["CloudFront-Viewer-City"])
        .function("origin-request", &example("personalize-country.js"))
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &["--dev", "--geo-db", db.to_str().unwrap()]);
    let json = |r: &Resp| -> serde_json::Value { serde_json::from_slice(&r.body).unwrap() };
    let de = get_with(
        &format!("{}/welcome", edge.base),
        &[("x-edge-viewer-ip", "203.0.113.5")],
    )
    .await;
    assert_eq!(json(&de)["greeting"], "Hallo");
    assert_eq!(json(&de)["currency"], "EUR");
    let gb = get_with(
        &format!("{}/welcome", edge.base),
        &[("x-edge-viewer-ip", "192.0.2.5")],
    )
    .await;
    assert_eq!(json(&gb)["currency"], "GBP");
    assert_eq!(json(&gb)["city"], "London");
    let jp = get_with(
        &format!("{}/welcome", edge.base),
        &[("x-edge-viewer-ip", "2001:db8::9")],
    )
    .await;
    assert_eq!(json(&jp)["currency"], "JPY");
    let de_again = get_with(
        &format!("{}/welcome", edge.base),
        &[("x-edge-viewer-ip", "203.0.113.99")],
    )
    .await;
    assert_eq!(de_again.x_cache(), x_cache::HIT, "cached per country");
}

#[tokio::test]
async fn nearest_origin_by_coordinates() {
    let origin = origin();
    let db = test_db();
    let cfg = NodeToml::for_origin(&origin)
        .origin_request_policy("HeaderBehavior", "allViewerAndWhitelistCloudFront")
        .origin_request_policy(
            "Headers",
            vec!["CloudFront-Viewer-Latitude", "CloudFront-Viewer-Longitude"],
        )
        .function("origin-request", &example("nearest-origin.js"))
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &["--dev", "--geo-db", db.to_str().unwrap()]);
    for (ip, region, path) in [
        ("192.0.2.1", "eu-central-1", "/echo/eu/a"),
        ("2001:db8::1", "ap-northeast-1", "/echo/ap/b"),
    ] {
        let r = get_with(
            &format!("{}{}", edge.base, &path[8..]),
            &[("x-edge-viewer-ip", ip)],
        )
        .await;
        let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(echo["headers"]["x-nearest-origin"], region, "{ip}");
        assert_eq!(echo["path"], path, "{ip}");
    }
}

#[tokio::test]
async fn a_package_folder_with_a_dependency_rewrites_by_cookie() {
    let origin = origin();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &example("theme-package"))],
        &[],
    );
    get_with(&format!("{}/a", edge.base), &[("cookie", "theme=dark")]).await;
    get_with(
        &format!("{}/a", edge.base),
        &[("cookie", "theme=\"contrast\"")],
    )
    .await;
    get_with(&format!("{}/a", edge.base), &[("cookie", "theme=neon")]).await;
    let stats = origin.stats().await;
    assert_eq!(stats["paths"]["/themes/dark/a"], 1, "{stats}");
    assert_eq!(stats["paths"]["/themes/contrast/a"], 1, "{stats}");
    assert_eq!(stats["paths"]["/themes/light/a"], 1, "{stats}");
}

/// Node makes an RSA key pair for the test and signs tokens with it: (public key PEM, the
/// tokens by name).
fn jwt_fixture() -> (String, serde_json::Value) {
    let script = r#"
const crypto = require('crypto');
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const sign = (claims, key = privateKey, alg = 'RS256') => {
  const data = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  return `${data}.${crypto.sign('RSA-SHA256', Buffer.from(data), key).toString('base64url')}`;
};
const base = { iss: 'https://auth.example.com', aud: 'edge-examples', sub: 'viewer-7', exp: now + 600 };
console.log(JSON.stringify({
  key: publicKey.export({ type: 'spki', format: 'pem' }),
  tokens: {
    good: sign(base),
    expired: sign({ ...base, exp: now - 10 }),
    otherKey: sign(base, other),
    wrongAudience: sign({ ...base, aud: 'someone-else' }),
    none: `${b64({ alg: 'none' })}.${b64(base)}.`,
  },
}));
"#;
    let out = std::process::Command::new("node")
        .args(["-e", script])
        .output()
        .expect("node (the tests' oracle) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["key"].as_str().unwrap().to_string(), v["tokens"].clone())
}

#[tokio::test]
async fn jwt_auth_admits_only_valid_rs256_tokens() {
    let (key, tokens) = jwt_fixture();
    // The example package with the test's key in its config.
    let dir = tempfile::tempdir().unwrap();
    for f in ["index.js", "package.json"] {
        std::fs::copy(example(&format!("jwt-auth/{f}")), dir.path().join(f)).unwrap();
    }
    let cfg = serde_json::json!({"issuer": "https://auth.example.com", "audience": "edge-examples", "publicKey": key});
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    let origin = origin();
    let pkg = dir.path().to_str().unwrap().to_string();
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &pkg)],
        &["--handler", "index.handler"],
    );
    let url = format!("{}/echo", edge.base);
    let good = format!("Bearer {}", tokens["good"].as_str().unwrap());
    let r = get_with(&url, &[("authorization", &good)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["headers"]["x-viewer-sub"], "viewer-7", "{echo}");
    let cookie = format!("token={}", tokens["good"].as_str().unwrap());
    assert_eq!(get_with(&url, &[("cookie", &cookie)]).await.status, 200);
    for (name, why) in [
        ("expired", "expired"),
        ("otherKey", "bad signature"),
        ("wrongAudience", "wrong audience"),
        ("none", "algorithm none not accepted"),
    ] {
        let auth = format!("Bearer {}", tokens[name].as_str().unwrap());
        let r = get_with(&url, &[("authorization", &auth)]).await;
        assert_eq!(r.status, 401, "{name}");
        assert_eq!(r.x_cache(), x_cache::GENERATED, "{name}");
        assert!(
            r.header("www-authenticate").contains(why),
            "{name}: {}",
            r.header("www-authenticate")
        );
    }
    assert_eq!(get(&url).await.status, 401);
    // Only the two admitted viewers reached the origin.
    assert_eq!(origin.total().await, 2);
}

#[tokio::test]
async fn a_config_file_names_a_package_and_its_handler() {
    // Lambda's layout with a handler in a subfolder, a zip of it, and `Handler` next to `File`.
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::write(pkg.join("package.json"), r#"{"type":"module"}"#).unwrap();
    std::fs::write(
        pkg.join("src/greeting.js"),
        "export const word = 'packaged';\n",
    )
    .unwrap();
    std::fs::write(
        pkg.join("src/app.js"),
        "import { word } from './greeting.js';\nexport const main = async (event) => {\n  const r = event.Records[0].cf.response;\n  r.headers['x-from'] = [{ value: word }];\n  return r;\n};\n",
    )
    .unwrap();
    let origin = origin();
    let mut toml = NodeToml::for_origin(&origin);
    toml = toml.function("viewer-response", pkg.to_str().unwrap());
    let text = toml.text().replace(
        &format!("File = \"{}\"", pkg.display()),
        &format!("File = \"{}\"\nHandler = \"src/app.main\"", pkg.display()),
    );
    assert!(text.contains("Handler = \"src/app.main\""), "{text}");
    let (edge, _cfg) = edge_with_config(&text, &[]);
    let r = get(&format!("{}/x", edge.base)).await;
    assert_eq!(r.header("x-from"), "packaged");
    // The wrong handler in the same file is refused at start, naming it.
    let bad = text.replace("src/app.main", "src/app.handler");
    let path = write_temp(&bad);
    let e = config_refused(&path);
    assert!(
        e.contains("src/app.handler is undefined or not exported"),
        "{e}"
    );
}
