//! `edge up`: a control node, the mock origin and several edges from one command, and
//! `--watch` publishing an edited function to every edge.

use crate::harness::*;
use serde_json::Value;

/// `edge [before…] up` on free ports (control, origin, edges) with `data`, then `after…`.
fn up_on_free_ports(before: &[&str], data: &std::path::Path, after: &[&str]) -> Proc {
    up_on_free_ports_in(before, data, after, None, &[])
}

/// `up_on_free_ports` in directory `cwd` with `env` added.
fn up_on_free_ports_in(
    before: &[&str],
    data: &std::path::Path,
    after: &[&str],
    cwd: Option<&std::path::Path>,
    env: &[(&str, &str)],
) -> Proc {
    let mut args = before.to_vec();
    let data = data.to_str().unwrap();
    args.extend([
        "up",
        "--port",
        "0",
        "--origin-port",
        "0",
        "--control-port",
        "0",
    ]);
    args.extend(["--data-dir", data]);
    args.extend_from_slice(after);
    Proc::try_spawn_in(&args, cwd, env).unwrap_or_else(|e| panic!("edge {}: {e}", args.join(" ")))
}

#[tokio::test]
async fn edge_up_runs_an_origin_and_several_edges() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let up = up_on_free_ports(&[], &data, &["--edges", "2"]);
    let origin = up.addr("origin");
    assert!(origin.starts_with("http://127.0.0.1:"));
    assert_eq!(up.addr("edges"), "2");
    let control = up.addr("control");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("control.json")).unwrap()).unwrap();
    assert_eq!(saved["url"], control.as_str());
    let r = get_with(
        &format!("{control}/v1/status"),
        &[(
            "authorization",
            &format!("Bearer {}", saved["token"].as_str().unwrap()),
        )],
    )
    .await;
    let s: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(s["edges"].as_array().unwrap().len(), 2, "{s}");
    for e in s["edges"].as_array().unwrap() {
        assert_eq!(e["state"], "Deployed", "{s}");
        // Each edge forwards to the mock origin.
        let r = get(&format!("{}/bytes/3", e["url"].as_str().unwrap())).await;
        assert_eq!(r.status, 200);
    }
    let status = up.terminate();
    assert!(status.success(), "{status:?}");
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    // pid (comm) state ppid …: comm may hold spaces, so split after ')'.
                    s.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse::<u32>()
                        .ok()
                })
                == Some(pid)
        })
        .collect()
}

/// `edge up` killed outright (SIGKILL: no chance to stop anything) takes its control node,
/// origin and edges with it; they used to run on.
#[test]
fn edge_up_killed_outright_leaves_no_member_running() {
    let dir = tempfile::tempdir().unwrap();
    let up = up_on_free_ports(&[], &dir.path().join("data"), &["--edges", "2"]);
    let members = children_of(up.pid());
    assert_eq!(members.len(), 4, "control, origin, two edges: {members:?}");
    drop(up); // SIGKILL
              // The kernel sends each member SIGTERM when its parent dies; they stop within seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let alive = |p: &u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| !r.trim_start().starts_with('Z'))
        })
    };
    while members.iter().any(alive) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left: Vec<&u32> = members.iter().filter(|p| alive(p)).collect();
    assert!(
        left.is_empty(),
        "still running after edge up was killed: {left:?}"
    );
}

#[tokio::test]
async fn edge_up_watch_publishes_an_edited_function_to_every_edge() {
    let dir = tempfile::tempdir().unwrap();
    let function = dir.path().join("stamp.js");
    let version = |v: &str| {
        format!("exports.handler = async (e) => {{ const r = e.Records[0].cf.response; r.headers['x-version'] = [{{ value: '{v}' }}]; return r; }};")
    };
    std::fs::write(&function, version("1")).unwrap();
    std::fs::copy(
        example("cff-kvs-redirects.js"),
        dir.path().join("redirects.js"),
    )
    .unwrap();
    let store = dir.path().join("redirects.json");
    std::fs::write(&store, r#"{"data":[{"key":"/go/a","value":"/one"}]}"#).unwrap();
    let cfg = dir.path().join("edge.toml");
    std::fs::write(
        &cfg,
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = 9000
OriginProtocolPolicy = "http-only"
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "viewer-response"
File = "stamp.js"

# A redirect map in a KeyValueStore (its file is watched too).
[[distributions.CacheBehaviors]]
PathPattern = "/go/*"
TargetOriginId = "mock"
[[distributions.CacheBehaviors.FunctionAssociations]]
EventType = "viewer-request"
File = "redirects.js"
KeyValueStore = "redirects"

[[key_value_stores]]
Name = "redirects"
File = "redirects.json"

# The cluster: one edge per POP.
[[pops]]
name = "LHR61-C1"
[[pops]]
name = "SIN2-C1"
"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let up = up_on_free_ports(&[], &data, &["--config", cfg.to_str().unwrap(), "--watch"]);
    let control = up.addr("control");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("control.json")).unwrap()).unwrap();
    let token = saved["token"].as_str().unwrap().to_string();
    let key = saved["key"].as_str().unwrap().to_string();
    assert!(control.starts_with("https://"), "{control}");
    let edges = |s: &Value| -> Vec<String> {
        s["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["url"].as_str().unwrap().to_string())
            .collect()
    };
    let status = || async {
        let r = get_with(
            &format!("{control}/v1/status"),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
        serde_json::from_slice::<Value>(&r.body).unwrap()
    };
    let first = status().await;
    let urls = edges(&first);
    assert_eq!(urls.len(), 2);
    let mut pops: Vec<&str> = first["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pop"].as_str().unwrap())
        .collect();
    pops.sort();
    assert_eq!(pops, ["LHR61-C1", "SIN2-C1"], "{first}");
    for u in &urls {
        assert_eq!(get(&format!("{u}/a")).await.header("x-version"), "1");
    }
    up.wait_for_log("watching");
    std::fs::write(&function, version("2")).unwrap();
    up.wait_for_log("published stamp:2");
    let out = std::process::Command::new(EDGE)
        .args(["status", "--wait", "--control", &control, "--token", &token])
        .args(["--control-key", &key])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for u in &urls {
        assert_eq!(get(&format!("{u}/a")).await.header("x-version"), "2");
        assert_eq!(get(&format!("{u}/go/a")).await.header("location"), "/one");
    }
    // An edited store file is imported: every edge has the new value, no function published.
    std::fs::write(&store, r#"{"data":[{"key":"/go/a","value":"/two"}]}"#).unwrap();
    up.wait_for_log("imported KeyValueStore redirects");
    let out = std::process::Command::new(EDGE)
        .args(["status", "--wait", "--control", &control, "--token", &token])
        .args(["--control-key", &key])
        .output()
        .unwrap();
    assert!(out.status.success());
    for u in &urls {
        assert_eq!(get(&format!("{u}/go/a")).await.header("location"), "/two");
    }
    // Two edits, two deploys: a deploy reading the files is not an edit (it used to set off the
    // next deploy, for ever).
    let logs = up.logs();
    assert_eq!(logs.matches("sent to every edge").count(), 2, "{logs}");
    assert!(up.terminate().success());
}

/// With `--log-format json` every line `edge up` writes is one JSON object: its members' lines
/// name the member in a field (no `[NAME]` prefix) and its own lines are JSON too.
#[test]
fn edge_up_logs_are_json_lines_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let up = up_on_free_ports(&["--log-format", "json"], &data, &["--edges", "1"]);
    let logs = up.wait_for_log("every edge Deployed");
    // Whole lines only: the last one may still be arriving.
    let complete = &logs[..logs.rfind('\n').map_or(0, |i| i + 1)];
    let lines: Vec<&str> = complete.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 3, "{logs}");
    let mut members = std::collections::BTreeSet::new();
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        match v["member"].as_str() {
            Some(m) => {
                members.insert(m.to_string());
            }
            // An edge's record, untouched: it names its POP itself.
            None => {
                assert_eq!(v["pop"], "IAD89-C1", "{l}");
                members.insert("edge".to_string());
            }
        }
    }
    for m in ["edge up", "control", "origin", "edge"] {
        assert!(members.contains(m), "{m} in {members:?}");
    }
    up.terminate();
}

/// What a walkthrough line's comment says the output contains, when it is a literal: an
/// X-Cache value, a status, a path, upper-case words, JSON up to its `...`, "origin says …".
fn promised(comment: &str) -> Option<String> {
    let c = comment.split(" (").next().unwrap_or(comment).trim();
    if c.starts_with('{') {
        return Some(c.split(",...").next().unwrap_or(c).to_string());
    }
    let literal = c.ends_with("from cloudfront")
        || c.starts_with('/')
        || c.starts_with(|ch: char| ch.is_ascii_digit())
        || c.starts_with("origin says")
        || (!c.is_empty() && c.chars().all(|ch| ch.is_ascii_uppercase()));
    literal.then(|| c.to_string())
}

/// The README's walkthrough, verbatim but for the ports (`edge up` here takes free ones) and
/// the `edge` function (the test's binary instead of `cargo run`): every line succeeds (a
/// `grep` that finds nothing fails it) and prints what its comment promises.
#[tokio::test]
async fn the_readme_walkthrough_runs_as_written() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let (tries, cli) = (blocks[1], blocks[2]);
    assert!(
        blocks[0].contains("./dev up") && tries.contains("curl") && cli.contains("edge publish")
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let geo = repo.join("../shared/geo");
    let geo = geo.to_str().unwrap();
    let up = up_on_free_ports_in(
        &[],
        &data,
        &["--config", "edge.toml"],
        Some(&repo),
        &[("EDGE_GEO_DIR", geo)],
    );
    let control = up.addr("control");
    let origin = up.addr("origin");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("control.json")).unwrap()).unwrap();
    let token = saved["token"].as_str().unwrap().to_string();
    let r = get_with(
        &format!("{control}/v1/status"),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    let status: Value = serde_json::from_slice(&r.body).unwrap();
    let mut edges: Vec<String> = status["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap().to_string())
        .collect();
    edges.sort_by_key(|u| u.rsplit(':').next().unwrap().parse::<u16>().unwrap());
    let ports = |line: &str| {
        line.replace("http://127.0.0.1:8080", &edges[0])
            .replace("http://127.0.0.1:8081", &edges[1])
            .replace("http://127.0.0.1:9000", &origin)
    };
    let run = |script: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&repo)
            .env("EDGE_CONTROL", &control)
            .env("EDGE_TOKEN", &token)
            .env("EDGE_CONTROL_KEY", saved["key"].as_str().unwrap())
            .output()
            .unwrap()
    };
    let edge_fn = format!("edge() {{ {EDGE} \"$@\"; }}");
    let mut checked = 0;
    for line in tries
        .lines()
        .chain(cli.lines())
        .filter(|l| !l.trim().is_empty())
    {
        if line.starts_with("edge() {") {
            continue;
        }
        let (command, comment) = match line.split_once("  # ") {
            Some((c, m)) => (c.trim(), Some(m.trim())),
            None => (line.trim(), None),
        };
        let out = run(&format!("{edge_fn}\n{}", ports(command)));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{command}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(want) = comment.and_then(promised) {
            assert!(
                stdout.contains(&want),
                "{command}: expected {want:?} in\n{stdout}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} lines had an output to check");
}

/// docs/distribution: a distribution in AWS's own JSON (get-distribution-config's output)
/// using every feature, with its functions named by ARN, run by `edge up` as its README says:
/// the S3 origin on the mock origin acting as the bucket, the API's primary origin down and
/// its backup on a second mock origin.
#[tokio::test]
async fn the_documented_distribution_runs_through_edge_up() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/distribution");
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/signed-urls");
    let backup = origin();
    let backup_addr = backup.base.trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = docs.join("get-distribution-config.json");
    let site = docs.join("site");
    let backup_origin = format!("api-backup.example.com={backup_addr}");
    let geo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/geo/dbip-country.mmdb");
    let up = up_on_free_ports(
        &[],
        &data,
        &[
            "--config",
            config.to_str().unwrap(),
            "--s3-root",
            site.to_str().unwrap(),
            "--local-origin",
            "example-site.s3.us-east-1.amazonaws.com",
            // Nothing listens on port 1: the origin group fails over.
            "--local-origin",
            "api.example.com=127.0.0.1:1",
            "--local-origin",
            &backup_origin,
            "--viewer-ip",
            "8.8.8.8",
            "--geo-db",
            geo.to_str().unwrap(),
            "--edges",
            "1",
        ],
    );
    let https = up.addr("https");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("control.json")).unwrap()).unwrap();
    let status = get_with(
        &format!("{}/v1/status", up.addr("control")),
        &[(
            "authorization",
            &format!("Bearer {}", saved["token"].as_str().unwrap()),
        )],
    )
    .await;
    let status: Value = serde_json::from_slice(&status.body).unwrap();
    let http = status["edges"][0]["url"].as_str().unwrap().to_string();
    let tls_port = https.rsplit(':').next().unwrap();

    // Fields with no local meaning are named once each, as accepted.
    let logs = up.logs();
    assert!(
        logs.contains("accepted, not emulated")
            && logs.contains("DistributionConfig.PriceClass")
            && logs.contains("DistributionConfig.ViewerCertificate"),
        "{logs}"
    );
    assert!(
        !logs.contains("is reached over the network"),
        "every origin runs locally: {logs}"
    );
    // ViewerProtocolPolicy redirect-to-https: to the HTTPS listener, for the URL asked.
    let r = get(&format!("{http}/")).await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        format!("https://127.0.0.1:{tls_port}/")
    );
    // DefaultRootObject from the S3 bucket, gzip-compressed, with SecurityHeadersPolicy.
    let r = get_with(&format!("{https}/"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("server"), "AmazonS3");
    assert_eq!(r.header("content-encoding"), "gzip");
    assert_eq!(r.header("vary"), "Accept-Encoding");
    assert_eq!(r.header("x-frame-options"), "SAMEORIGIN");
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    // The CloudFront function named by ARN: a folder gets its index.html.
    let r = get(&format!("{https}/docs/")).await;
    assert!(
        r.text().contains("The documentation index."),
        "{}",
        r.text()
    );
    // CustomErrorResponses: S3's 404 NoSuchKey becomes the app's index.html with 200.
    let r = get(&format!("{https}/account/settings")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("single-page app"), "{}", r.text());
    // A range of the cached object.
    let r = get_with(&format!("{https}/index.html"), &[("range", "bytes=0-14")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.text(), "<!doctype html>");
    // Geo restriction (whitelist): a viewer in Germany is refused.
    let r = get_with(
        &format!("{https}/"),
        &[("x-edge-viewer-ip", "85.214.132.117")],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());

    // The API: https-only; the origin group fails over to the backup, where the Lambda@Edge
    // function named by ARN routed the request; the origin's custom header is sent.
    let r = get(&format!("{http}/api/echo")).await;
    assert_eq!(r.status, 403);
    let r = get(&format!("{https}/api/echo?id=7")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "id=7");
    assert_eq!(echo["headers"]["x-routed-by"], "api-route");
    assert_eq!(echo["headers"]["x-origin-verify"], "f3a9c2d1");
    // CORS-With-Preflight.
    let r = request(
        http::Method::OPTIONS,
        &format!("{https}/api/echo"),
        &[
            ("origin", "https://app.example.net"),
            ("access-control-request-method", "PUT"),
        ],
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), "*");
    assert_eq!(
        r.header("access-control-allow-methods"),
        "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    );
    // AllowedMethods: the API behavior takes GET, HEAD and OPTIONS only.
    let r = request(
        http::Method::POST,
        &format!("{https}/api/echo"),
        &[],
        bytes::Bytes::from_static(b"x"),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());

    // Members: signed URLs only (TrustedKeyGroups), the custom cache and response headers
    // policies by ID, the viewer-response function named by ARN.
    let r = get(&format!("{https}/members/report.txt")).await;
    assert_eq!(r.status, 403);
    let out = std::process::Command::new(EDGE)
        .args([
            "sign-url",
            &format!("{https}/members/report.txt"),
            "--key-pair-id",
            "K2JCJMDEHXQW5F",
            "--private-key",
            keys.join("private_key.pem").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let signed = String::from_utf8(out.stdout).unwrap();
    let r = get_with(signed.trim(), &[("pragma", "server-timing")]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "Quarterly report for members.\n");
    assert_eq!(r.header("x-members-only"), "true");
    assert_eq!(r.header("cache-control"), "private, no-store");
    assert_eq!(r.header("x-amz-meta-owner"), "", "removed by the policy");
    assert!(r.header("server-timing").contains("cdn-cache-miss"));

    // Legacy ForwardedValues: only the query string `v` is in the cache key.
    let r = get(&format!("{http}/legacy/page.html?v=1&w=1")).await;
    assert_eq!(r.x_cache(), "Miss from cloudfront");
    let r = get(&format!("{http}/legacy/page.html?v=1&w=2")).await;
    assert_eq!(r.x_cache(), "Hit from cloudfront");
    assert!(up.terminate().success());
}

/// A `--local-origin` that names no origin of the configuration, or is malformed, is refused
/// before anything starts, naming the flag and the configuration's origins.
#[test]
fn edge_up_refuses_a_local_origin_it_cannot_place() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/distribution/get-distribution-config.json");
    let dir = tempfile::tempdir().unwrap();
    for (spec, says) in [
        ("nowhere.example.com", "no origin of the configuration has the DomainName \"nowhere.example.com\" (its origins: example-site.s3.us-east-1.amazonaws.com, api.example.com, api-backup.example.com)"),
        ("api.example.com=127.0.0.1", "expected DOMAIN or DOMAIN=HOST:PORT"),
        ("api.example.com=:80", "expected DOMAIN or DOMAIN=HOST:PORT"),
    ] {
        let out = std::process::Command::new(EDGE)
            .args(["up", "--port", "0", "--control-port", "0", "--origin-port", "0"])
            .args(["--data-dir", dir.path().join("data").to_str().unwrap()])
            .args(["--config", config.to_str().unwrap(), "--local-origin", spec])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{spec}: {err}");
        assert!(err.contains(&format!("--local-origin {spec:?}")) && err.contains(says), "{spec}: {err}");
        assert!(!err.contains("[control]"), "refused before the control node starts: {err}");
    }
}
