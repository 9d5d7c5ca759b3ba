//! `edge bench`: every scenario runs (briefly) and reports, and `--function`/`--config` report
//! what each of your functions adds.

use crate::harness::*;

/// `edge bench ARGS` for about a second per scenario (no peers); the report.json and the
/// report.html it wrote.
fn short_bench(args: &[&str]) -> (serde_json::Value, String) {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(EDGE)
        .arg("bench")
        .args(args)
        .args([
            "--no-peers",
            "--duration",
            "0.3",
            "--warmup",
            "0.1",
            "--connections",
            "2",
            "--out",
        ])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "edge bench {args:?}: {status:?}");
    let read = |f: &str| std::fs::read_to_string(out.path().join(f)).unwrap();
    (
        serde_json::from_str(&read("report.json")).unwrap(),
        read("report.html"),
    )
}

#[test]
fn bench_smoke_runs_every_scenario() {
    let geo = format!(
        "{}/../../shared/geo/maxmind-test-data/GeoIP2-City-Test.mmdb",
        env!("CARGO_MANIFEST_DIR")
    );
    // Every scenario; publish-N once, with 3 edges (10 and 50 only differ in N).
    let mut args = vec![];
    for s in edge_bench::scenario::SCENARIOS
        .iter()
        .filter(|s| !s.name.starts_with("publish-") && !s.yours)
    {
        args.extend(["--scenario", s.name]);
    }
    args.extend(["--scenario", "publish-3", "--scenario", "yours-hit"]);
    let vres = example("security-headers.js");
    let function = format!("viewer-response={vres}");
    args.extend(["--function", &function]);
    args.extend(["--geo-db", &geo]);
    let (report, html) = short_bench(&args);
    for name in [
        "hit",
        "hit-logged",
        "hit-functions",
        "miss-four-stages",
        "generated",
        "geo",
        "h1-no-keepalive",
        "tls",
        "h2",
        "h2-tls",
    ] {
        let s = &report["scenarios"][name]["edge"];
        assert!(s["requests"].as_u64().unwrap_or(0) > 0, "{name}: {s}");
        assert_eq!(s["errors"], serde_json::json!({}), "{name}: {s}");
        for p in ["p50", "p90", "p99", "p999", "max"] {
            assert!(s["latency_us"][p].as_u64().is_some(), "{name}.{p}");
        }
        assert!(s["cpu_us_per_req"].as_f64().is_some(), "{name}");
    }
    assert_eq!(
        report["scenarios"]["hit"]["edge"]["x_cache"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap(),
        x_cache::HIT
    );
    let logged = &report["scenarios"]["hit-logged"]["edge"];
    assert!(
        logged["access_log_records"].as_u64().unwrap_or(0) > 0,
        "{logged}"
    );
    let p = &report["scenarios"]["publish-3"]["edge"];
    assert_eq!(p["edges"], 3, "{p}");
    assert!(p["deploy_ms"]["p50"].as_f64().unwrap() > 0.0, "{p}");
    assert!(p["first_request_us"].as_f64().unwrap() > 0.0, "{p}");
    let y = &report["scenarios"]["yours-hit"]["edge"]["variants"];
    assert_eq!(y[0]["variant"], "without functions", "{y}");
    assert_eq!(
        y[1]["variant"], "viewer-response security-headers.js",
        "{y}"
    );
    assert!(
        y[1]["result"]["stages_us"]["viewer-response"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{y}"
    );
    let far = &report["scenarios"]["regions"]["edge"]["pops"][1];
    assert_eq!(far["pop"], "FRA56-C1", "{far}");
    // 90 ms to the origin: a hit saves at least that round trip both ways, a miss at least once.
    assert!(far["saved_hit_ms"].as_f64().unwrap() > 90.0, "{far}");
    assert!(far["saved_miss_ms"].as_f64().unwrap() > 0.0, "{far}");
    let c = &report["scenarios"]["cold-evicted"]["edge"];
    for k in [
        "first_after_eviction_us",
        "warm_p50_us",
        "isolate_create_ms",
    ] {
        assert!(c[k].as_f64().unwrap() > 0.0, "{k}: {c}");
    }
    let r = &report["scenarios"]["runaway"]["edge"];
    assert_eq!(r["kind"], "runaway", "{r}");
    assert!(r["idle"]["requests"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["p99_vs_idle"].is_null() || r["p99_vs_idle"].as_f64().is_some(),
        "{r}"
    );
    assert!(html.contains("<svg") && html.contains("miss-four-stages"));
    assert!(html.contains("Cold start after isolates are evicted"));
    assert!(html.contains("Latency percentiles") && html.contains("<polyline"));
    assert!(html.contains("What the edge saves viewers, per region"));
    assert!(html.contains("Publish → every edge Deployed"));
}

#[test]
fn bench_reports_what_each_of_your_functions_adds() {
    // A configuration in its own directory, with a relative function path and a loopback
    // origin on a port nothing listens on: the bench must anchor the one and move the other.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fns")).unwrap();
    std::fs::write(
        dir.path().join("fns/vreq.js"),
        "exports.handler = async (e) => e.Records[0].cf.request;",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fns/vres.js"),
        "exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-b'] = [{ value: '1' }]; return r; };",
    )
    .unwrap();
    let port = closed_port();
    std::fs::write(
        dir.path().join("edge.toml"),
        format!(
            r#"[[distributions]]
[[distributions.Origins]]
Id = "o"
DomainName = "127.0.0.1"
CustomOriginConfig = {{ HTTPPort = {port}, OriginProtocolPolicy = "http-only" }}
[distributions.DefaultCacheBehavior]
TargetOriginId = "o"
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "viewer-request"
File = "fns/vreq.js"
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "viewer-response"
File = "fns/vres.js"
"#
        ),
    )
    .unwrap();
    let config = dir.path().join("edge.toml");
    let (report, html) = short_bench(&["--config", config.to_str().unwrap()]);
    for scenario in ["yours-hit", "yours-miss"] {
        let variants = report["scenarios"][scenario]["edge"]["variants"]
            .as_array()
            .unwrap_or_else(|| panic!("{scenario}: {report}"));
        let labels: Vec<&str> = variants
            .iter()
            .map(|v| v["variant"].as_str().unwrap())
            .collect();
        assert_eq!(
            labels,
            [
                "without functions",
                "viewer-request",
                "viewer-response",
                "all functions"
            ]
        );
        for v in variants {
            let r = &v["result"];
            assert!(r["requests"].as_u64().unwrap() > 0, "{v}");
            assert_eq!(r["errors"], serde_json::json!({}), "{v}");
            // Only the stages the variant keeps ran (Server-Timing names them).
            let ran = |stage: &str| r["stages_us"].get(stage).is_some();
            let label = v["variant"].as_str().unwrap();
            for stage in ["viewer-request", "viewer-response"] {
                assert_eq!(
                    ran(stage),
                    label == stage || label == "all functions",
                    "{scenario} {label} {stage}: {r}"
                );
            }
            assert!(v["added"]["cpu_us_per_req"].as_f64().is_some(), "{v}");
        }
        assert_eq!(variants[0]["added"]["cpu_us_per_req"].as_f64(), Some(0.0));
    }
    assert!(html.contains("Your functions: yours-hit"));
}
