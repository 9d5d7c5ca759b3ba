//! The control node and replication: real control and edge processes, the `edge` CLI.

use crate::harness::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

mod cloudfront;
mod faults;
mod hosts;
mod transport;

const TOKEN: &str = "test-token-0123456789";

struct Control {
    proc: Proc,
    url: String,
    dir: PathBuf,
    /// The fingerprint of its signing key, as its ready line gives it.
    key: String,
}

/// `edge control` on `port` (0: any) with its database in `dir`.
fn control_on(dir: &Path, port: u16) -> Control {
    control_with(dir, port, &[])
}

/// `control_on` plus `extra` arguments.
fn control_with(dir: &Path, port: u16, extra: &[&str]) -> Control {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "control",
        "--listen",
        &listen,
        "--data-dir",
        dir.to_str().unwrap(),
        "--token",
        TOKEN,
    ];
    args.extend_from_slice(extra);
    let proc = Proc::spawn(&args);
    let url = proc.addr("url");
    let key = proc.addr("key");
    KEYS.lock().unwrap().insert(url.clone(), key.clone());
    Control {
        proc,
        url,
        dir: dir.to_path_buf(),
        key,
    }
}

impl Control {
    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }
}

/// An edge following `control`, keeping its state in `state`.
fn follower(control: &Control, pop: &str, state: &Path) -> Edge {
    follower_of(&control.url, &control.key, pop, state)
}

/// An edge following the control node at `control`, trusting `key` (its fingerprint).
fn follower_of(control: &str, key: &str, pop: &str, state: &Path) -> Edge {
    follower_with(control, key, pop, state, &[])
}

fn follower_with(control: &str, key: &str, pop: &str, state: &Path, extra: &[&str]) -> Edge {
    let mut args = vec![
        "node",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--pop",
        pop,
        "--control",
        control,
        "--control-key",
        key,
        "--state-dir",
        state.to_str().unwrap(),
        "--token",
        TOKEN,
        "--dev",
        "--workers",
        "1",
    ];
    args.extend_from_slice(extra);
    let proc = Proc::spawn(&args);
    let base = format!("http://{}", proc.addr("http"));
    let admin = format!("http://{}", proc.addr("admin"));
    Edge { proc, base, admin }
}

/// Runs the `edge` CLI against `control`: (success, stdout, stderr).
/// The key of each control node the tests started, by URL: what the CLI pins.
static KEYS: std::sync::Mutex<std::collections::BTreeMap<String, String>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// `--control-key KEY` for the control node at `url`, when the tests started one there.
fn key_of(url: &str) -> Vec<String> {
    match KEYS.lock().unwrap().get(url) {
        Some(k) => vec!["--control-key".into(), k.clone()],
        None => vec![],
    }
}

fn cli(control: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(EDGE)
        .args(args)
        .args(["--control", control, "--token", TOKEN])
        .args(key_of(control))
        .env("EDGE_LOG", "warn")
        .output()
        .expect("run edge");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cli_ok(control: &str, args: &[&str]) -> String {
    let (ok, out, err) = cli(control, args);
    assert!(ok, "edge {}: {err}", args.join(" "));
    out
}

/// The `x-version` stamped on `/x` as `edge` answers it.
async fn x_version(edge: &Edge) -> String {
    get(&format!("{}/x", edge.base))
        .await
        .header("x-version")
        .to_string()
}

/// A viewer-response function stamping `x-version: V`.
fn stamp(dir: &Path, v: &str) -> PathBuf {
    let path = dir.join(format!("stamp-{v}.js"));
    std::fs::write(&path, format!("exports.handler = async (e) => {{ const r = e.Records[0].cf.response; r.headers['x-version'] = [{{ value: '{v}' }}]; return r; }};")).unwrap();
    path
}

/// A viewer-request function answering `V` itself.
fn generate(dir: &Path, v: &str) -> PathBuf {
    let path = dir.join(format!("gen-{v}.js"));
    std::fs::write(
        &path,
        format!("exports.handler = async () => ({{ status: '200', body: '{v}' }});"),
    )
    .unwrap();
    path
}

/// Deploys one distribution in front of `origin` (no functions) and waits for every edge.
fn deploy_plain(control: &Control, origin: &Origin, dir: &Path) {
    let cfg = dir.join("edge.toml");
    std::fs::write(&cfg, NodeToml::for_origin(origin).text()).unwrap();
    cli_ok(
        &control.url,
        &["deploy", "--config", cfg.to_str().unwrap(), "--wait"],
    );
}

/// Publishes the stamp function answering `text` and associates the version it printed at
/// viewer-response, waiting for every edge; the version.
fn roll_out_stamp(control: &str, dir: &Path, text: &str) -> u64 {
    let f = stamp(dir, text);
    let v: u64 = cli_ok(control, &["publish", "stamp", f.to_str().unwrap()])
        .trim()
        .parse()
        .unwrap();
    let name = format!("stamp:{v}");
    cli_ok(
        control,
        &["associate", &name, "--stage", "viewer-response", "--wait"],
    );
    v
}

fn status(control: &str) -> Value {
    serde_json::from_str(&cli_ok(control, &["status", "--json"])).unwrap()
}

#[tokio::test]
async fn publish_and_associate_reach_every_edge_and_status_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    deploy_plain(&control, &origin, dir.path());

    let v1 = stamp(dir.path(), "one");
    let out = cli_ok(
        &control.url,
        &["publish", "stamp", v1.to_str().unwrap(), "--json"],
    );
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["name"], "stamp");
    assert_eq!(p["version"], 1);
    assert_eq!(p["sha256"].as_str().unwrap().len(), 64);
    cli_ok(
        &control.url,
        &[
            "associate",
            "stamp:1",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );
    for e in [&a, &b] {
        assert_eq!(x_version(e).await, "one");
    }

    let v2 = stamp(dir.path(), "two");
    assert_eq!(
        cli_ok(&control.url, &["publish", "stamp", v2.to_str().unwrap()]).trim(),
        "2"
    );
    cli_ok(
        &control.url,
        &[
            "associate",
            "stamp:2",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );
    for e in [&a, &b] {
        assert_eq!(x_version(e).await, "two");
    }
    let s = status(&control.url);
    let revision = s["revision"].as_u64().unwrap();
    let edges = s["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    for e in edges {
        assert_eq!(e["state"], "Deployed", "{s}");
        assert_eq!(e["revision"].as_u64().unwrap(), revision);
        assert!(e["url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    }
    let table = cli_ok(&control.url, &["status"]);
    assert!(
        table.contains("IAD89-C1") && table.contains("Deployed"),
        "{table}"
    );

    // Versions are listed with where they are used; a used one cannot be deleted.
    let versions = cli_ok(&control.url, &["versions", "stamp", "--json"]);
    let v: Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["versions"][1]["associations"][0],
        "EDFDVBD6EXAMPLE:default:viewer-response"
    );
    let del = request(
        http::Method::DELETE,
        &format!("{}/v1/functions/stamp/versions/2", control.url),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(del.status, 409, "{}", del.text());
    assert!(del.text().contains("replicated function"), "{}", del.text());

    // Rollback returns the association to the version before.
    cli_ok(&control.url, &["rollback", "stamp", "--wait"]);
    for e in [&a, &b] {
        assert_eq!(x_version(e).await, "one");
    }
}

#[tokio::test]
async fn the_api_refuses_what_cloudfront_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    deploy_plain(&control, &origin, dir.path());
    let f = stamp(dir.path(), "one");
    cli_ok(&control.url, &["publish", "stamp", f.to_str().unwrap()]);

    // No token, a wrong token: 401.
    let r = get(&format!("{}/v1/status", control.url)).await;
    assert_eq!(r.status, 401);
    let r = get_with(
        &format!("{}/v1/status", control.url),
        &[("authorization", "Bearer nope")],
    )
    .await;
    assert_eq!(r.status, 401);

    // Code that does not parse is refused at publish, with the place and a caret; nothing
    // of it is stored (the published version stays the only one).
    let bad = dir.path().join("bad.js");
    std::fs::write(
        &bad,
        "exports.handler = async (e) => {\n  return e.Records[0].cf.response +;\n};\n",
    )
    .unwrap();
    let (ok, _, err) = cli(&control.url, &["publish", "stamp", bad.to_str().unwrap()]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("does not load") && err.contains("stamp:2:"),
        "{err}"
    );
    assert!(
        err.contains("return e.Records[0].cf.response +;") && err.contains('^'),
        "{err}"
    );
    let versions: Value =
        serde_json::from_str(&cli_ok(&control.url, &["versions", "stamp", "--json"])).unwrap();
    assert_eq!(
        versions["versions"].as_array().map(Vec::len),
        Some(1),
        "{versions}"
    );
    let good = edge_node::replica::sha256_hex(&std::fs::read(&f).unwrap());
    assert_eq!(
        versions["latest"]["sha256"],
        good.as_str(),
        "$LATEST kept the code that compiles"
    );

    let (ok, _, err) = cli(
        &control.url,
        &["associate", "stamp:$LATEST", "--stage", "viewer-response"],
    );
    assert!(!ok);
    assert!(
        err.contains("The function ARN must reference a specific function version"),
        "{err}"
    );
    let (ok, _, err) = cli(
        &control.url,
        &["associate", "stamp:live", "--stage", "viewer-response"],
    );
    assert!(
        !ok && err.contains("InvalidLambdaFunctionAssociation"),
        "{err}"
    );
    let (ok, _, err) = cli(
        &control.url,
        &[
            "associate",
            "stamp:1",
            "--stage",
            "viewer-response",
            "--include-body",
        ],
    );
    assert!(
        !ok && err
            .contains("IncludeBody option can only be used with viewer-request or origin-request"),
        "{err}"
    );
    let (ok, _, err) = cli(
        &control.url,
        &["associate", "stamp:9", "--stage", "viewer-response"],
    );
    // `edge: <AWS error code>: <message>`, a hint where one helps, and exit code 3.
    assert!(
        !ok && err.starts_with("edge: ResourceNotFoundException: function version stamp:9 not found\nhint: `edge versions stamp`"),
        "{err}"
    );
    // (exit code, stderr) of `edge versions NAME` against `url` with `token`.
    let versions = |name: &str, url: &str, token: &str| {
        let out = Command::new(EDGE)
            .args(["versions", name, "--control", url, "--token", token])
            .args(key_of(url))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = versions("nothing", &control.url, TOKEN);
    assert_eq!(code, Some(3));
    assert!(
        err.contains(
            "edge: ResourceNotFoundException: function nothing not found\nhint: publish it first"
        ),
        "{err}"
    );
    let (code, err) = versions(
        "nothing",
        &format!("http://127.0.0.1:{}", closed_port()),
        TOKEN,
    );
    assert_eq!(code, Some(4), "{err}");
    let (code, err) = versions("stamp", &control.url, "wrong");
    assert_eq!(code, Some(3));
    assert!(err.contains("hint: the token is missing or wrong"), "{err}");
    let (ok, _, err) = cli(
        &control.url,
        &[
            "associate",
            "stamp:1",
            "--stage",
            "viewer-response",
            "--behavior",
            "/nope/*",
        ],
    );
    assert!(!ok && err.contains("no cache behavior"), "{err}");

    let auth = format!("Bearer {TOKEN}");
    let r = request(
        http::Method::PUT,
        &format!("{}/v1/functions/env", control.url),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        bytes::Bytes::from(
            r#"{"code": "exports.handler = async (e) => e;", "environment": {"KEY": "v"}}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("environment variables is not allowed"),
        "{}",
        r.text()
    );

    // An unassociated version can be deleted; then it is gone.
    let del = request(
        http::Method::DELETE,
        &format!("{}/v1/functions/stamp/versions/1", control.url),
        &[("authorization", &auth)],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(del.status, 200, "{}", del.text());
    let code = get_with(
        &format!("{}/v1/functions/stamp/versions/1/code", control.url),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(code.status, 404);

    // A viewer function over 1 MB is refused at association, an origin one is not.
    let big = dir.path().join("big.js");
    std::fs::write(
        &big,
        format!(
            "exports.handler = async (e) => e.Records[0].cf.request; // {}",
            "x".repeat(1 << 20)
        ),
    )
    .unwrap();
    cli_ok(&control.url, &["publish", "big", big.to_str().unwrap()]);
    let (ok, _, err) = cli(
        &control.url,
        &["associate", "big:1", "--stage", "viewer-request"],
    );
    assert!(!ok && err.contains("at most 1048576 bytes"), "{err}");
    cli_ok(
        &control.url,
        &["associate", "big:1", "--stage", "origin-request"],
    );
}

#[tokio::test]
async fn canary_weights_are_honoured_and_sticky_per_viewer() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    deploy_plain(&control, &origin, dir.path());
    for v in ["v1", "v2"] {
        let f = generate(dir.path(), v);
        cli_ok(&control.url, &["publish", "gen", f.to_str().unwrap()]);
    }
    cli_ok(
        &control.url,
        &[
            "associate",
            "gen:1",
            "--stage",
            "viewer-request",
            "--canary",
            "gen:2=20",
            "--wait",
        ],
    );
    let mut canary = 0;
    let n = 500;
    for i in 0..n {
        let ip = format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256);
        let body = get_with(&format!("{}/x", a.base), &[("x-edge-viewer-ip", &ip)])
            .await
            .text();
        if body == "v2" {
            canary += 1;
        } else {
            assert_eq!(body, "v1");
        }
        if i % 50 == 0 {
            for _ in 0..3 {
                let again = get_with(&format!("{}/x", a.base), &[("x-edge-viewer-ip", &ip)])
                    .await
                    .text();
                assert_eq!(again, body, "viewer {ip} switched versions");
            }
        }
    }
    assert!(
        (60..=140).contains(&canary),
        "{canary} of {n} viewers on a 20% canary"
    );

    cli_ok(&control.url, &["rollback", "gen", "--wait"]);
    for i in 0..50 {
        let ip = format!("10.0.0.{i}");
        assert_eq!(
            get_with(&format!("{}/x", a.base), &[("x-edge-viewer-ip", &ip)])
                .await
                .text(),
            "v1"
        );
    }
}

#[tokio::test]
async fn invalidation_reaches_every_edge() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let edges = [
        follower(&control, "IAD89-C1", &dir.path().join("a")),
        follower(&control, "FRA56-C1", &dir.path().join("b")),
    ];
    deploy_plain(&control, &origin, dir.path());
    let path = "/bytes/10?cache_control=max-age%3D600";
    for e in &edges {
        assert!(get(&format!("{}{path}", e.base))
            .await
            .x_cache()
            .starts_with("Miss"));
        assert!(get(&format!("{}{path}", e.base))
            .await
            .x_cache()
            .starts_with("Hit"));
    }
    cli_ok(&control.url, &["invalidate", "/bytes/*", "--wait"]);
    for e in &edges {
        let r = get(&format!("{}{path}", e.base)).await;
        assert!(
            r.x_cache().starts_with("Miss"),
            "{}: {}",
            e.base,
            r.x_cache()
        );
    }
}

#[tokio::test]
async fn a_package_with_node_modules_publishes_replicates_and_serves_as_one_unit() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    deploy_plain(&control, &origin, dir.path());

    // A folder with package.json, lib/ and node_modules/, as Lambda takes it zipped.
    let pkg = example("theme-package");
    let p: Value =
        serde_json::from_str(&cli_ok(&control.url, &["publish", "theme", &pkg, "--json"])).unwrap();
    assert_eq!(p["version"], 1);
    // The same files again are the same version (the package is packed the same way).
    assert_eq!(
        cli_ok(&control.url, &["publish", "theme", &pkg]).trim(),
        "1"
    );
    cli_ok(
        &control.url,
        &[
            "associate",
            "theme:1",
            "--stage",
            "viewer-request",
            "--wait",
        ],
    );
    get_with(
        &format!("{}/page", a.base),
        &[("cookie", "x=1; theme=dark")],
    )
    .await;
    get(&format!("{}/page", a.base)).await;
    let stats = origin.stats().await;
    assert_eq!(stats["paths"]["/themes/dark/page"], 1, "{stats}");
    assert_eq!(stats["paths"]["/themes/light/page"], 1, "{stats}");

    // A command that must be refused: what it says.
    let refused = |args: &[&str]| {
        let (ok, _, err) = cli(&control.url, args);
        assert!(!ok, "{args:?} was accepted");
        err
    };
    // A different Handler is a different version; a handler that names no file or export is
    // refused at publish, naming it, and nothing is stored.
    let err = refused(&["publish", "theme", &pkg, "--handler", "main.handler"]);
    assert!(err.contains("Cannot find module 'main'"), "{err}");
    let err = refused(&["publish", "theme", &pkg, "--handler", "index.nothing"]);
    assert!(
        err.contains("index.nothing is undefined or not exported"),
        "{err}"
    );
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(broken.join("lib")).unwrap();
    std::fs::write(
        broken.join("index.js"),
        "const x = require('./lib/x');\nexports.handler = async (e) => e;\n",
    )
    .unwrap();
    std::fs::write(
        broken.join("lib/x.js"),
        "module.exports = {\n  a: 1 +,\n};\n",
    )
    .unwrap();
    let err = refused(&["publish", "theme", broken.to_str().unwrap()]);
    assert!(
        err.contains("lib/x.js:2:") && err.contains("a: 1 +,"),
        "{err}"
    );
    let v: Value =
        serde_json::from_str(&cli_ok(&control.url, &["versions", "theme", "--json"])).unwrap();
    assert_eq!(v["versions"].as_array().unwrap().len(), 1, "{v}");
    // A corrupt zip is refused before anything is sent.
    let corrupt = dir.path().join("corrupt.zip");
    std::fs::write(&corrupt, b"PK\x03\x04 this is not really a zip").unwrap();
    let err = refused(&["publish", "theme", corrupt.to_str().unwrap()]);
    assert!(
        err.contains("corrupt.zip") && err.contains("not a readable zip"),
        "{err}"
    );
    // Lambda@Edge's limit counts the compressed package: 1.5 MB that does not compress is
    // published (origin stages take 50 MB) but refused at a viewer stage.
    let big = dir.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    std::fs::write(
        big.join("index.js"),
        "exports.handler = async (e) => e.Records[0].cf.request;\n",
    )
    .unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..1_500_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(big.join("noise.bin"), noise).unwrap();
    assert_eq!(
        cli_ok(&control.url, &["publish", "big", big.to_str().unwrap()]).trim(),
        "1"
    );
    let err = refused(&["associate", "big:1", "--stage", "viewer-request"]);
    assert!(err.contains("may be at most 1048576 bytes"), "{err}");
    cli_ok(
        &control.url,
        &["associate", "big:1", "--stage", "origin-request", "--wait"],
    );

    // The edge keeps the package across a restart (from its saved state, control node gone).
    let state = dir.path().join("a");
    drop(a);
    let key = control.key.clone();
    drop(control);
    let again = follower_of(
        &format!("http://127.0.0.1:{}", closed_port()),
        &key,
        "IAD89-C1",
        &state,
    );
    get_with(
        &format!("{}/other", again.base),
        &[("cookie", "theme=contrast")],
    )
    .await;
    let stats = origin.stats().await;
    assert_eq!(stats["paths"]["/themes/contrast/other"], 1, "{stats}");
}

/// Publishers racing on one function each get a version holding their own code: the publish
/// names the uploaded code's SHA-256 and is refused (412, PreconditionFailedException) when
/// `$LATEST` changed in between; the CLI then uploads again.
#[tokio::test]
async fn concurrent_publishers_each_get_a_version_of_their_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let control = control_on(&dir.path().join("control"), 0);
    let auth = format!("Bearer {TOKEN}");
    // The precondition itself, through the API.
    let put_url = format!("{}/v1/functions/race", control.url);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/javascript"),
    ];
    let a = bytes::Bytes::from_static(b"exports.handler = async () => 'a';");
    let first = request(http::Method::PUT, &put_url, &headers, a).await;
    let first: Value = serde_json::from_slice(&first.body).unwrap();
    let b = bytes::Bytes::from_static(b"exports.handler = async () => 'b';");
    request(http::Method::PUT, &put_url, &headers, b).await;
    let r = request(
        http::Method::POST,
        &format!("{}/v1/functions/race/versions", control.url),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        bytes::Bytes::from(serde_json::json!({ "sha256": first["sha256"] }).to_string()),
    )
    .await;
    assert_eq!(r.status, 412, "{}", r.text());
    assert!(
        r.text().contains("PreconditionFailedException"),
        "{}",
        r.text()
    );

    // Many CLI publishers at once.
    let files: Vec<(PathBuf, String)> = (0..12)
        .map(|i| {
            let code = format!("exports.handler = async () => 'publisher {i}';\n");
            let path = dir.path().join(format!("p{i}.js"));
            std::fs::write(&path, &code).unwrap();
            (path, code)
        })
        .collect();
    let url = control.url.clone();
    let handles: Vec<_> = files
        .into_iter()
        .map(|(path, code)| {
            let url = url.clone();
            std::thread::spawn(move || {
                let out = cli_ok(&url, &["publish", "race", path.to_str().unwrap()]);
                (out.trim().parse::<u64>().unwrap(), code)
            })
        })
        .collect();
    for h in handles {
        let (version, code) = h.join().unwrap();
        let got = request(
            http::Method::GET,
            &format!("{}/v1/functions/race/versions/{version}/code", control.url),
            &[("authorization", &auth)],
            bytes::Bytes::new(),
        )
        .await;
        assert_eq!(got.text(), code, "version {version}");
    }
}

/// A distribution can be removed again (CloudFront's DeleteDistribution): its associations go
/// with it, every edge stops serving it at the next revision, and removing it twice is
/// ResourceNotFoundException.
#[tokio::test]
async fn a_distribution_can_be_deleted_from_every_edge() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    deploy_plain(&control, &origin, dir.path());
    roll_out_stamp(&control.url, dir.path(), "one");
    assert_eq!(get(&format!("{}/x", a.base)).await.status, 200);
    let out = cli_ok(
        &control.url,
        &["delete-distribution", "EDFDVBD6EXAMPLE", "--wait"],
    );
    assert!(out.starts_with("revision "), "{out}");
    let r = get(&format!("{}/x", a.base)).await;
    assert_ne!(r.status, 200, "{}", r.text());
    let list = request(
        http::Method::GET,
        &format!("{}/v1/distributions", control.url),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        bytes::Bytes::new(),
    )
    .await;
    let list: Value = serde_json::from_slice(&list.body).unwrap();
    assert_eq!(list["distributions"], serde_json::json!([]), "{list}");
    let (ok, _, err) = cli(&control.url, &["delete-distribution", "EDFDVBD6EXAMPLE"]);
    assert!(
        !ok && err.contains("ResourceNotFoundException: distribution EDFDVBD6EXAMPLE not found"),
        "{err}"
    );
    // And it can be deployed again.
    deploy_plain(&control, &origin, dir.path());
    assert_eq!(get(&format!("{}/x", a.base)).await.status, 200);
}

/// The control node's data directory removed while it runs: nothing more is accepted (it would
/// be lost at the next restart), the refusal says why, and it is logged.
#[tokio::test]
async fn a_removed_or_replaced_store_refuses_changes_instead_of_losing_them() {
    let dir = tempfile::tempdir().unwrap();
    let control = control_on(&dir.path().join("control"), 0);
    let v1 = stamp(dir.path(), "one");
    assert_eq!(
        cli_ok(&control.url, &["publish", "stamp", v1.to_str().unwrap()]).trim(),
        "1"
    );
    std::fs::remove_dir_all(&control.dir).unwrap();
    let v2 = stamp(dir.path(), "two");
    let (ok, _, err) = cli(&control.url, &["publish", "stamp", v2.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("ServiceException") && err.contains("was removed or replaced"),
        "{err}"
    );
    let logs = control
        .proc
        .wait_for_log("control store's file was removed or replaced");
    assert!(
        logs.contains("control store's file was removed or replaced"),
        "{logs}"
    );

    // A store file replaced under a running control node (a copy of itself moved over it, as
    // a careless restore would) refuses changes the same way: they would go to the old file.
    let other = control_on(&dir.path().join("other"), 0);
    assert_eq!(
        cli_ok(&other.url, &["publish", "stamp", v1.to_str().unwrap()]).trim(),
        "1"
    );
    let db = other.dir.join("control.sqlite3");
    let copy = other.dir.join("copy.sqlite3");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::rename(&copy, &db).unwrap();
    let (ok, _, err) = cli(&other.url, &["publish", "stamp", v2.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("ServiceException") && err.contains("was removed or replaced"),
        "{err}"
    );
}

/// Code edited in the control store is not served under its old hash.
#[tokio::test]
async fn code_edited_in_the_store_is_not_served_under_its_old_hash() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("control");
    let control = control_on(&data, 0);
    let v1 = stamp(dir.path(), "one");
    let out = cli_ok(
        &control.url,
        &["publish", "stamp", v1.to_str().unwrap(), "--json"],
    );
    let sha = serde_json::from_str::<Value>(&out).unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    drop(control);
    let db = rusqlite::Connection::open(data.join("control.sqlite3")).unwrap();
    db.execute(
        "UPDATE code SET body = ?1 WHERE sha256 = ?2",
        rusqlite::params![b"exports.handler = async () => 'evil';".to_vec(), sha],
    )
    .unwrap();
    drop(db);
    let control = control_on(&data, 0);
    let r = request(
        http::Method::GET,
        &format!("{}/v1/code/{sha}", control.url),
        &[("authorization", &format!("Bearer {TOKEN}"))],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text().contains("the store was altered") && !r.text().contains("evil"),
        "{}",
        r.text()
    );
}

/// Copies every file of `from` into `to`, made empty first.
fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

/// A control store restored to an older copy, or rebuilt from nothing, does not silently take
/// or leave the edges: an edge ahead of it keeps serving and reports Diverged (`--wait` fails
/// with its reason) until `edge resync`; an edge started with --follow-restores follows at once.
#[tokio::test]
async fn a_restored_or_rebuilt_store_is_reported_diverged_until_resync() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let data = dir.path().join("control");
    let control = control_on(&data, 0);
    let port = control.port();
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower_with(
        &control.url,
        &control.key,
        "FRA56-C1",
        &dir.path().join("b"),
        &["--follow-restores"],
    );
    deploy_plain(&control, &origin, dir.path());
    roll_out_stamp(&control.url, dir.path(), "one");
    let old_revision = status(&control.url)["revision"].as_u64().unwrap();
    // A backup of the store at this revision (the database, its write-ahead log, its key).
    drop(control);
    let backup = dir.path().join("backup");
    copy_dir(&data, &backup);
    let control = control_on(&data, port);
    roll_out_stamp(&control.url, dir.path(), "two");
    let new_revision = status(&control.url)["revision"].as_u64().unwrap();

    // Restored: the store is behind both edges.
    const APPLIED: &str = "applied revision from the control node";
    let b_applied = b.proc.logs().matches(APPLIED).count();
    drop(control);
    copy_dir(&backup, &data);
    let control = control_on(&data, port);
    assert_eq!(
        status(&control.url)["revision"].as_u64().unwrap(),
        old_revision
    );
    a.proc.wait_for_log("diverged from the control node");
    b.proc.wait_for_log("taking the control node's state");
    b.proc.wait_for_logs(APPLIED, b_applied + 1);
    let (ok, _, err) = cli(&control.url, &["status", "--wait"]);
    assert!(!ok, "--wait must fail while an edge diverges");
    assert!(
        err.contains("IAD89-C1 (Diverged)") && err.contains("restored"),
        "{err}"
    );
    assert_eq!(
        x_version(&a).await,
        "two",
        "a diverged edge keeps serving what it has"
    );
    assert_eq!(x_version(&b).await, "one");
    let s = status(&control.url);
    let edge = |pop: &str| {
        s["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["pop"] == pop)
            .cloned()
            .unwrap()
    };
    assert_eq!(edge("IAD89-C1")["state"], "Diverged", "{s}");
    assert_eq!(edge("IAD89-C1")["revision"], new_revision, "{s}");
    assert!(
        edge("IAD89-C1")["error"]
            .as_str()
            .unwrap()
            .contains("older than the edge's"),
        "{s}"
    );
    assert_eq!(edge("FRA56-C1")["state"], "Deployed", "{s}");

    // The operator's word: the edge takes the store's state.
    let out = cli_ok(&control.url, &["resync", "IAD89-C1"]);
    assert!(out.contains("IAD89-C1"), "{out}");
    assert_eq!(x_version(&a).await, "one");
    cli_ok(&control.url, &["status", "--wait"]);
    let (ok, _, err) = cli(&control.url, &["resync", "NOPE-C1"]);
    assert!(!ok && err.contains("NOPE-C1"), "{err}");

    // Rebuilt from nothing (same key, a new store): another cluster.
    drop(control);
    for f in std::fs::read_dir(&data).unwrap().flatten() {
        if f.file_name()
            .to_string_lossy()
            .starts_with("control.sqlite3")
        {
            std::fs::remove_file(f.path()).unwrap();
        }
    }
    let control = control_on(&data, port);
    assert_eq!(status(&control.url)["revision"], 0);
    a.proc.wait_for_log("another cluster");
    b.proc.wait_for_logs("taking the control node's state", 2);
    // --wait ends (failing) once the edge has said it diverged.
    let (ok, _, err) = cli(&control.url, &["status", "--wait"]);
    assert!(!ok && err.contains("another cluster"), "{err}");
    let s = status(&control.url);
    let a_status = s["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["pop"] == "IAD89-C1");
    // The rebuilt store knows the edges only from their polls.
    assert_eq!(a_status.unwrap()["state"], "Diverged", "{s}");
    assert_eq!(x_version(&a).await, "one");
    cli_ok(&control.url, &["resync", "--all"]);
    // No distribution any more: CloudFront's 403 for a host it does not serve.
    let r = get(&format!("{}/x", a.base)).await;
    assert_eq!((r.status.as_u16(), r.header("x-version")), (403, ""));
    cli_ok(&control.url, &["status", "--wait"]);
}

#[tokio::test]
async fn edge_logs_follows_one_function_across_every_edge() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let control = control_on(&dir.path().join("control"), 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    deploy_plain(&control, &origin, dir.path());
    let f = dir.path().join("talk.js");
    std::fs::write(
        &f,
        "exports.handler = async (e) => { const r = e.Records[0].cf.response; console.log('hello from ' + e.Records[0].cf.request.uri); return r; };",
    )
    .unwrap();
    let v = cli_ok(&control.url, &["publish", "talk", f.to_str().unwrap()]);
    let name = format!("talk:{}", v.trim());
    cli_ok(
        &control.url,
        &["associate", &name, "--stage", "viewer-response", "--wait"],
    );
    assert_eq!(get(&format!("{}/bytes/4?a", a.base)).await.status, 200);
    assert_eq!(get(&format!("{}/bytes/4?b", b.base)).await.status, 200);

    // The control node's metrics: each edge's revision, lag, Deployed and last poll.
    let auth = format!("Bearer {TOKEN}");
    let m = get_with(
        &format!("{}/v1/metrics", control.url),
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(m.status, 200, "{}", m.text());
    let text = m.text();
    let revision = status(&control.url)["revision"].as_u64().unwrap();
    assert!(
        text.contains(&format!("edge_control_revision {revision}\n")),
        "{text}"
    );
    for pop in ["IAD89-C1", "FRA56-C1"] {
        for line in [
            format!("edge_control_edge_revision{{pop=\"{pop}\"}} {revision}\n"),
            format!("edge_control_edge_lag{{pop=\"{pop}\"}} 0\n"),
            format!("edge_control_edge_deployed{{pop=\"{pop}\"}} 1\n"),
            format!("edge_control_edge_last_sync_age_seconds{{pop=\"{pop}\"}} "),
        ] {
            assert!(text.contains(&line), "{line:?} in\n{text}");
        }
    }
    let unauthorized = get(&format!("{}/v1/metrics", control.url)).await;
    assert_eq!(unauthorized.status, 401);

    let (ok, out, err) = cli(&control.url, &["logs", "talk"]);
    assert!(ok, "{err}");
    for pop in ["IAD89-C1", "FRA56-C1"] {
        let lines: Vec<&str> = out.lines().filter(|l| l.contains(pop)).collect();
        // (It once printed FRA56's console line alone under a loaded full run: the stderr says
        // whether an edge was skipped.)
        assert_eq!(lines.len(), 4, "{out}\nstderr: {err}");
        assert!(
            lines[0].contains(&format!(
                " {pop} /aws/lambda/us-east-1.talk START RequestId: "
            )),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with(&format!(" Version: {}", v.trim())),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("\tINFO\thello from /bytes/4"),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains(" END RequestId: "), "{}", lines[2]);
        let report = lines[3];
        for part in [
            "REPORT RequestId: ",
            "\tDuration: ",
            " ms\tBilled Duration: ",
            "\tMemory Size: 128 MB",
            "\tMax Memory Used: ",
            "\tInit Duration: ",
        ] {
            assert!(report.contains(part), "{part:?} in {report}");
        }
    }
    // One edge, as JSON; and a filter.
    let json = cli_ok(
        &control.url,
        &["logs", "talk", "--pop", "FRA56-C1", "--json"],
    );
    let records: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{json}");
    assert!(
        records
            .iter()
            .all(|r| r["pop"] == "FRA56-C1" && r["log_group"] == "/aws/lambda/us-east-1.talk"),
        "{json}"
    );
    assert_eq!(records[1]["level"], "INFO");
    let hello = cli_ok(&control.url, &["logs", "talk", "--filter", "hello from"]);
    assert_eq!(hello.lines().count(), 2, "{hello}");

    // --follow prints what happens next, from either edge.
    let mut child = std::process::Command::new(EDGE)
        .args([
            "logs",
            "talk",
            "--follow",
            "--since",
            "0s",
            "--control",
            &control.url,
            "--token",
            TOKEN,
            "--control-key",
            &control.key,
        ])
        .env("EDGE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Ask until the follower is attached and sees a new call (each ask is a new record).
    let mut seen = None;
    for i in 0..50 {
        assert_eq!(
            get(&format!("{}/bytes/4?follow{i}", b.base)).await.status,
            200
        );
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(500)) {
            seen = Some(line);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = seen.expect("--follow printed a record");
    assert!(
        line.contains("FRA56-C1 /aws/lambda/us-east-1.talk "),
        "{line}"
    );
}

/// A deploy whose CloudFront function would be refused is refused before anything is
/// published: no Lambda version, no CloudFront function.
#[tokio::test]
async fn a_deploy_with_a_bad_cloudfront_function_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let cff = dir.path().join("cff.js");
    std::fs::write(
        &cff,
        "function handler(e) {\n  let r = e.request;\n  return r;\n}",
    )
    .unwrap();
    let lambda = stamp(dir.path(), "one");
    let cfg = dir.path().join("edge.toml");
    let text = NodeToml::for_origin(&origin)
        .function("origin-response", lambda.to_str().unwrap())
        .cloudfront_function("viewer-request", cff.to_str().unwrap(), "cloudfront-js-1.0")
        .text();
    std::fs::write(&cfg, text).unwrap();
    let (ok, _, err) = cli(&control.url, &["deploy", "--config", cfg.to_str().unwrap()]);
    assert!(
        !ok && err.contains("cff.js:2:3") && err.contains("let"),
        "{err}"
    );
    let (ok, _, err) = cli(&control.url, &["versions", "stamp-one"]);
    assert!(
        !ok && err.contains("ResourceNotFoundException"),
        "nothing was published: {err}"
    );
    let list = cli_ok(&control.url, &["function", "list"]);
    assert!(list.contains("\"Quantity\": 0"), "{list}");
}

/// Distributions with their own Aliases in front of `origin`, each answering `/` with the
/// mock's echo of `/echo/ID` (its DefaultRootObject); `extra` goes into the second's default
/// behavior.
fn two_distributions(origin: &Origin, ids: &[&str], extra: &str) -> String {
    let port = origin.base.rsplit(':').next().unwrap();
    let mut out = String::new();
    for (i, id) in ids.iter().enumerate() {
        let alias = format!("{}.example", id.to_lowercase());
        out.push_str(&format!(
            r#"
[[distributions]]
Id = "{id}"
Aliases = ["{alias}"]
DefaultRootObject = "echo/{id}"
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
{}
"#,
            if i == 1 { extra } else { "" }
        ));
    }
    out
}

/// `edge deploy` replaces the set of distributions in one revision (`--merge` keeps the
/// others); a refused deploy changes nothing; `edge distributions list|delete`, `edge functions
/// delete NAME[:VERSION]` and `edge forget POP` do what they say and refuse what would break.
#[tokio::test]
async fn deploy_replaces_the_distributions_and_the_cluster_can_be_tidied() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let data = dir.path().join("control");
    let control = control_on(&data, 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    let cfg = dir.path().join("edge.toml");
    let deploy = |text: &str, extra: &[&str]| {
        std::fs::write(&cfg, text).unwrap();
        let mut args = vec!["deploy", "--config", cfg.to_str().unwrap(), "--wait"];
        args.extend_from_slice(extra);
        cli(&control.url, &args)
    };
    let host = |id: &str| format!("{}.example", id.to_lowercase());
    // Which distribution answers for ID's alias (an unknown host gets the first one).
    let served = |id: &'static str| {
        let (url, host) = (format!("{}/", a.base), host(id));
        async move {
            let r = get_with(&url, &[("host", &host)]).await;
            let v: Value = serde_json::from_str(&r.text()).unwrap();
            v["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("/echo/")
                .to_string()
        }
    };
    let (ok, _, err) = deploy(&two_distributions(&origin, &["EAAA", "EBBB"], ""), &[]);
    assert!(ok, "{err}");
    assert_eq!(
        (served("EAAA").await, served("EBBB").await),
        ("EAAA".into(), "EBBB".into())
    );
    let listed = cli_ok(&control.url, &["distributions", "list"]);
    assert!(
        listed.contains("EAAA") && listed.contains("ebbb.example"),
        "{listed}"
    );

    // A file with EAAA and ECCC: EBBB goes, in the same single revision.
    let before = status(&control.url)["revision"].as_u64().unwrap();
    let (ok, _, err) = deploy(&two_distributions(&origin, &["EAAA", "ECCC"], ""), &[]);
    assert!(ok, "{err}");
    assert_eq!(
        status(&control.url)["revision"].as_u64().unwrap(),
        before + 1
    );
    assert_eq!(served("EAAA").await, "EAAA");
    assert_eq!(served("ECCC").await, "ECCC");
    assert_ne!(served("EBBB").await, "EBBB");
    // --merge keeps what the file does not name.
    let (ok, _, err) = deploy(
        &two_distributions(&origin, &["EDDD", "EEEE"], ""),
        &["--merge"],
    );
    assert!(ok, "{err}");
    assert_eq!(
        (served("EAAA").await, served("EDDD").await),
        ("EAAA".into(), "EDDD".into())
    );

    // A deploy the control node refuses (an ARN that names nothing) leaves everything as it was.
    let before = status(&control.url)["revision"].as_u64().unwrap();
    let bad = "[[DefaultCacheBehavior.LambdaFunctionAssociations]]\nEventType = \"viewer-response\"\nLambdaFunctionARN = \"arn:aws:lambda:us-east-1:123456789012:function:nope:1\"\n"
        .replace("DefaultCacheBehavior", "distributions.DefaultCacheBehavior");
    let (ok, _, err) = deploy(&two_distributions(&origin, &["EAAA", "EFFF"], &bad), &[]);
    assert!(!ok);
    assert!(
        err.contains("distributions[1] (EFFF)") && err.contains("nope:1"),
        "{err}"
    );
    assert_eq!(status(&control.url)["revision"].as_u64().unwrap(), before);
    assert_eq!(served("EDDD").await, "EDDD");
    assert_eq!(served("ECCC").await, "ECCC");
    assert_ne!(served("EFFF").await, "EFFF");

    // distributions delete; deleting what is not there says so.
    cli_ok(&control.url, &["distributions", "delete", "EDDD", "--wait"]);
    assert_ne!(served("EDDD").await, "EDDD");
    let (ok, _, err) = cli(&control.url, &["distributions", "delete", "EDDD"]);
    assert!(!ok && err.contains("EDDD"), "{err}");

    // functions delete: a version, then the whole function; never an associated one.
    let f = stamp(dir.path(), "one");
    for _ in 0..2 {
        std::fs::write(&f, format!("{}\n", std::fs::read_to_string(&f).unwrap())).unwrap();
        cli_ok(&control.url, &["publish", "spare", f.to_str().unwrap()]);
    }
    cli_ok(
        &control.url,
        &[
            "associate",
            "spare:2",
            "--stage",
            "viewer-response",
            "--distribution",
            "EAAA",
            "--wait",
        ],
    );
    cli_ok(&control.url, &["functions", "delete", "spare:1"]);
    for refused in ["spare:2", "spare"] {
        let (ok, _, err) = cli(&control.url, &["functions", "delete", refused]);
        assert!(
            !ok && err.contains("EAAA:default:viewer-response"),
            "{refused}: {err}"
        );
    }
    let auth = format!("Bearer {TOKEN}");
    let r = request(
        http::Method::DELETE,
        &format!("{}/v1/associations", control.url),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        bytes::Bytes::from_static(br#"{"distribution":"EAAA","stage":"viewer-response"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let out = cli_ok(&control.url, &["functions", "delete", "spare"]);
    assert!(out.contains("1 versions"), "{out}");
    let (ok, _, err) = cli(&control.url, &["versions", "spare"]);
    assert!(!ok && err.contains("spare"), "{err}");

    // forget: refused while the edge polls; a stopped edge leaves status and --wait.
    let (ok, _, err) = cli(&control.url, &["forget", "FRA56-C1"]);
    assert!(!ok && err.contains("still connected"), "{err}");
    drop(b);
    let port = control.port();
    drop(control);
    let control = control_on(&data, port);
    cli_ok(&control.url, &["forget", "FRA56-C1"]);
    let s = status(&control.url);
    let pops: Vec<&str> = s["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pop"].as_str().unwrap())
        .collect();
    assert_eq!(pops, ["IAD89-C1"], "{s}");
    let (ok, _, err) = cli(&control.url, &["forget", "NOPE-C1"]);
    assert!(!ok && err.contains("NOPE-C1"), "{err}");
    cli_ok(&control.url, &["status", "--wait"]);
    drop(a);
}

/// `edge deploy` of AWS's JSON (`get-distribution`'s output): its Lambda@Edge association
/// names a published version by ARN, and every edge serves it.
#[tokio::test]
async fn deploy_takes_aws_json_with_function_arns() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let edge = follower(&control, "IAD89-C1", &dir.path().join("e"));
    let f = stamp(dir.path(), "from-json");
    let v = cli_ok(&control.url, &["publish", "stamp", f.to_str().unwrap()]);
    let port = origin.base.rsplit(':').next().unwrap();
    let json = format!(
        r#"{{"ETag": "E2QWRUHEXAMPLE", "Distribution": {{"Id": "EJSON1", "DomainName": "d111111abcdef8.cloudfront.net", "Status": "Deployed",
  "DistributionConfig": {{
    "CallerReference": "x", "Comment": "", "Enabled": true, "PriceClass": "PriceClass_100",
    "Origins": {{"Quantity": 1, "Items": [{{"Id": "mock", "DomainName": "127.0.0.1", "OriginPath": "",
      "CustomOriginConfig": {{"HTTPPort": {port}, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}}}]}},
    "DefaultCacheBehavior": {{"TargetOriginId": "mock", "ViewerProtocolPolicy": "allow-all",
      "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
      "LambdaFunctionAssociations": {{"Quantity": 1, "Items": [{{
        "LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:stamp:{}",
        "EventType": "viewer-response", "IncludeBody": false}}]}}}}
  }}}}}}"#,
        v.trim()
    );
    let file = dir.path().join("distribution.json");
    std::fs::write(&file, json).unwrap();
    cli_ok(
        &control.url,
        &["deploy", "--config", file.to_str().unwrap(), "--wait"],
    );
    assert_eq!(x_version(&edge).await, "from-json");
    let list = cli_ok(&control.url, &["distributions", "list"]);
    assert!(list.contains("EJSON1"), "{list}");
}
