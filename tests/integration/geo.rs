//! Viewer geography and device headers through real edge nodes, on databases written here
//! (documentation ranges: 192.0.2.0/24 in GB, 198.51.100.0/24 in SE, 2001:db8::/32 in JP) and
//! MaxMind's test database.

use crate::harness::*;
use serde_json::Value as Json;

fn echo(r: &Resp) -> Json {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()))
}

#[tokio::test]
async fn headers_reach_origin_stages_and_the_origin_but_not_viewer_request() {
    let origin = origin();
    let db = test_db();
    let dir = tempfile::tempdir().unwrap();
    let vreq = dir.path().join("vreq.js");
    std::fs::write(&vreq, "exports.handler = async (e) => { const r = e.Records[0].cf.request; r.headers['x-vreq-saw'] = [{ value: (r.headers['cloudfront-viewer-country'] || [{ value: 'none' }])[0].value + ' ' + r.clientIp }]; return r; };").unwrap();
    let oreq = dir.path().join("oreq.js");
    std::fs::write(&oreq, "exports.handler = async (e) => { const r = e.Records[0].cf.request; r.headers['x-oreq-saw'] = [{ value: (r.headers['cloudfront-viewer-country'] || [{ value: 'none' }])[0].value + ' ' + r.clientIp }]; return r; };").unwrap();
    let edge = edge_with_functions(
        &origin,
        &[
            ("viewer-request", vreq.to_str().unwrap()),
            ("origin-request", oreq.to_str().unwrap()),
        ],
        &["--dev", "--geo-db", db.to_str().unwrap()],
    );
    let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    let r = get_with(
        &format!("{}/echo/geo", edge.base),
        &[
            ("x-edge-viewer-ip", "198.51.100.7"),
            ("user-agent", ua),
            ("cloudfront-viewer-country", "XX"),
        ],
    )
    .await;
    let h = &echo(&r)["headers"];
    assert_eq!(
        h["x-vreq-saw"], "XX 198.51.100.7",
        "viewer-request sees only what the viewer sent; clientIp is the viewer"
    );
    assert_eq!(h["x-oreq-saw"], "SE 198.51.100.7");
    assert_eq!(
        h["cloudfront-viewer-country"], "SE",
        "the viewer's own value is overwritten"
    );
    assert_eq!(h["cloudfront-viewer-country-name"], "Sweden");
    assert_eq!(h["cloudfront-viewer-country-region"], "E");
    assert_eq!(
        h["cloudfront-viewer-country-region-name"],
        "%C3%96sterg%C3%B6tland County"
    );
    assert_eq!(h["cloudfront-viewer-city"], "Link%C3%B6ping");
    assert_eq!(h["cloudfront-viewer-time-zone"], "Europe/Stockholm");
    assert_eq!(h["cloudfront-viewer-latitude"], "58.41670");
    assert_eq!(h["cloudfront-viewer-longitude"], "15.61670");
    assert!(h["cloudfront-viewer-address"]
        .as_str()
        .unwrap()
        .starts_with("198.51.100.7:"));
    assert_eq!(h["cloudfront-viewer-http-version"], "1.1");
    assert_eq!(h["cloudfront-forwarded-proto"], "http");
    assert_eq!(h["cloudfront-is-mobile-viewer"], "true");
    assert_eq!(h["cloudfront-is-ios-viewer"], "true");
    assert_eq!(h["cloudfront-is-desktop-viewer"], "false");
    assert_eq!(h["x-forwarded-for"], "198.51.100.7");
    assert!(
        h.get("x-edge-viewer-ip").is_none(),
        "X-Edge-* never reaches the origin"
    );
    let plain = get_with(
        &format!("{}/echo/plain", edge.base),
        &[("x-edge-viewer-ip", "192.0.2.3")],
    )
    .await;
    assert_eq!(
        echo(&plain)["headers"]["x-vreq-saw"],
        "none 192.0.2.3",
        "CloudFront adds them after viewer-request"
    );
    // IPv6 viewers.
    let jp = get_with(
        &format!("{}/echo/v6", edge.base),
        &[("x-edge-viewer-ip", "2001:db8::5")],
    )
    .await;
    assert_eq!(echo(&jp)["headers"]["cloudfront-viewer-country"], "JP");
    assert_eq!(
        echo(&jp)["headers"]["cloudfront-viewer-time-zone"],
        "Asia/Tokyo"
    );
}

#[tokio::test]
async fn the_dev_header_is_ignored_outside_dev_mode() {
    let origin = origin();
    let db = test_db();
    let edge = edge_for(&origin, &["--geo-db", db.to_str().unwrap()]);
    let r = get_with(
        &format!("{}/echo/x", edge.base),
        &[("x-edge-viewer-ip", "192.0.2.1")],
    )
    .await;
    let h = &echo(&r)["headers"];
    assert!(
        h.get("cloudfront-viewer-country").is_none(),
        "127.0.0.1 has no country: {h}"
    );
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert!(h["cloudfront-viewer-address"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
}

#[tokio::test]
async fn trusted_proxies_name_the_viewer_in_x_forwarded_for() {
    let origin = origin();
    let db = test_db();
    let edge = edge_for(
        &origin,
        &[
            "--geo-db",
            db.to_str().unwrap(),
            "--trusted-proxy",
            "127.0.0.0/8",
        ],
    );
    let r = get_with(
        &format!("{}/echo/x", edge.base),
        &[("x-forwarded-for", "192.0.2.9, 127.0.0.5")],
    )
    .await;
    assert_eq!(echo(&r)["headers"]["cloudfront-viewer-country"], "GB");
}

fn keyed_config(origin: &Origin, in_key: bool) -> String {
    let policy = if in_key {
        "CachePolicy"
    } else {
        "OriginRequestPolicy"
    };
    let cfg = NodeToml::for_origin(origin);
    let country = vec!["CloudFront-Viewer-Country"];
    if policy == "CachePolicy" {
        cfg.cache_policy("HeaderBehavior", "whitelist")
            .cache_policy("Headers", country)
            .text()
    } else {
        cfg.origin_request_policy("HeaderBehavior", "whitelist")
            .origin_request_policy("Headers", country)
            .text()
    }
}

#[tokio::test]
async fn objects_vary_by_country_only_when_it_is_in_the_cache_key() {
    let db = test_db();
    for (in_key, expected) in [(true, 2), (false, 1)] {
        let origin = origin();
        let (edge, _cfg) = edge_with_config(
            &keyed_config(&origin, in_key),
            &["--dev", "--geo-db", db.to_str().unwrap()],
        );
        let url = format!("{}/page?x=1", edge.base);
        let gb = get_with(&url, &[("x-edge-viewer-ip", "192.0.2.1")]).await;
        let se = get_with(&url, &[("x-edge-viewer-ip", "198.51.100.1")]).await;
        let gb2 = get_with(&url, &[("x-edge-viewer-ip", "192.0.2.2")]).await;
        assert_eq!(gb.x_cache(), x_cache::MISS);
        assert_eq!(gb2.x_cache(), x_cache::HIT);
        assert_eq!(
            se.x_cache(),
            if in_key { x_cache::MISS } else { x_cache::HIT }
        );
        assert_eq!(origin.total().await, expected, "in_key {in_key}");
    }
}

#[tokio::test]
async fn maxmind_test_database_through_the_edge() {
    let origin = origin();
    let db = format!(
        "{}/../../shared/geo/maxmind-test-data/GeoIP2-City-Test.mmdb",
        env!("CARGO_MANIFEST_DIR")
    );
    let edge = edge_for(
        &origin,
        &["--dev", "--viewer-ip", "81.2.69.142", "--geo-db", &db],
    );
    let h = echo(&get(&format!("{}/echo/mm", edge.base)).await)["headers"].clone();
    assert_eq!(h["cloudfront-viewer-country"], "GB");
    assert_eq!(h["cloudfront-viewer-city"], "London");
    assert_eq!(h["cloudfront-viewer-time-zone"], "Europe/London");
}

#[test]
fn missing_or_corrupt_databases_stop_the_node_with_a_clear_error() {
    let port = closed_port();
    let o = format!("http://127.0.0.1:{port}");
    let e = Proc::try_spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--origin",
        &o,
        "--geo-db",
        "/no/such/geo.mmdb",
    ])
    .err()
    .expect("refused");
    assert!(
        e.contains("/no/such/geo.mmdb") && e.contains("no such file"),
        "{e}"
    );
    let bad = write_temp("this is not a MaxMind database");
    let e = Proc::try_spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--origin",
        &o,
        "--geo-db",
        bad.to_str().unwrap(),
    ])
    .err()
    .expect("refused");
    assert!(e.contains("geo database"), "{e}");
}

#[test]
fn cache_policies_may_not_name_origin_only_headers() {
    let cfg = r#"
[[distributions]]
[[distributions.Origins]]
Id = "o"
DomainName = "127.0.0.1"
[distributions.DefaultCacheBehavior]
[distributions.DefaultCacheBehavior.CachePolicy]
HeaderBehavior = "whitelist"
Headers = ["CloudFront-Viewer-Address"]
"#;
    let path = write_temp(cfg);
    let e = config_refused(&path);
    assert!(
        e.contains("can only be added by an origin request policy"),
        "{e}"
    );
}

#[tokio::test]
async fn replaced_databases_take_effect_on_reload() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("geo.mmdb");
    let write = |cc: &str| {
        let mut w = mmdb_writer::Writer::new("GeoIP2-Country");
        let rec = mmdb_writer::Value::map([(
            "country",
            mmdb_writer::Value::map([("iso_code", mmdb_writer::Value::from(cc))]),
        )]);
        w.insert_value("192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(), rec)
            .unwrap();
        // Replace by rename: a mapped file is never changed in place.
        let tmp = dir.path().join("geo.mmdb.new");
        std::fs::write(&tmp, w.to_bytes().unwrap()).unwrap();
        std::fs::rename(&tmp, &db).unwrap();
    };
    write("GB");
    let edge = edge_for(&origin, &["--dev", "--geo-db", db.to_str().unwrap()]);
    let country = |r: &Resp| echo(r)["headers"]["cloudfront-viewer-country"].clone();
    let url = |n: u32| format!("{}/echo/r{n}", edge.base);
    assert_eq!(
        country(&get_with(&url(1), &[("x-edge-viewer-ip", "192.0.2.1")]).await),
        "GB"
    );
    write("FR");
    let r = edge
        .admin_call(http::Method::POST, "/__edge/reload", "")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        country(&get_with(&url(2), &[("x-edge-viewer-ip", "192.0.2.1")]).await),
        "FR"
    );
}

/// `edge geo fetch` installs DB-IP Lite from an npm package tarball (here one made from the
/// copy in ../shared/geo, as `npm pack` lays it out) into the cache, checked against its
/// published SHA-256, with DB-IP's licence; a tampered one is refused and installs nothing.
#[test]
fn geo_fetch_installs_checked_data_from_an_npm_tarball() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/geo");
    let dir = tempfile::tempdir().unwrap();
    let pack = |name: &str, mmdb: &[u8]| {
        let root = dir.path().join(name);
        std::fs::create_dir_all(root.join("package")).unwrap();
        std::fs::write(root.join("package/dbip-country.mmdb"), mmdb).unwrap();
        std::fs::write(root.join("package/DBIP-LICENSE"), "DB-IP Lite, CC BY 4.0\n").unwrap();
        let tgz = dir.path().join(format!("{name}.tgz"));
        let ok = std::process::Command::new("tar")
            .arg("-czf")
            .arg(&tgz)
            .arg("-C")
            .arg(&root)
            .arg("package")
            .status()
            .unwrap();
        assert!(ok.success());
        tgz
    };
    let real =
        std::fs::read(shared.join("dbip-country.mmdb")).expect("../shared/geo beside the checkout");
    let cache = dir.path().join("cache");
    let fetch = |tgz: &std::path::Path| {
        std::process::Command::new(EDGE)
            .args(["geo", "fetch", "--from"])
            .arg(tgz)
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .unwrap()
    };
    let out = fetch(&pack("good", &real));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = cache.join("edge/geo/dbip-country.mmdb");
    assert!(
        stdout.contains(installed.to_str().unwrap()) && stdout.contains("DB-IP"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(&installed).unwrap(), real);
    assert!(cache.join("edge/geo/DBIP-LICENSE").is_file());
    let out = fetch(&pack("tampered", &real[..4096]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not match its published SHA-256"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        real,
        "the good copy stays"
    );
}
