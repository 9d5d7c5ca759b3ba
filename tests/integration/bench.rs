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
        "cff-hit",
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
    // Every measured request is in the log (the warm-up's too): none is left in a buffer.
    assert!(
        logged["access_log_records"].as_u64().unwrap_or(0) >= logged["requests"].as_u64().unwrap(),
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
    assert!(!html.contains(">0.0 µs<"), "no zero bars");
    assert_eq!(
        report["settings"]["run"]["cores"].as_u64().map(|c| c > 0),
        Some(true)
    );
    let (figures, bad) = drawn(&html);
    assert!(figures >= 8, "{figures} figures drew");
    assert_eq!(bad, "[]", "sections that did not draw");

    // The same scenario again against that run as the baseline: deltas per measure.
    let first = tempfile::tempdir().unwrap();
    std::fs::write(first.path().join("report.json"), report.to_string()).unwrap();
    let baseline = first.path().join("report.json");
    let (again, html) = short_bench(&[
        "--scenario",
        "hit",
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    let d = &again["baseline"]["scenarios"]["hit"];
    for m in ["throughput", "p99 latency", "CPU per request"] {
        assert!(d[m]["change"].as_f64().is_some(), "{m}: {d}");
        assert!(d[m]["regression"].is_boolean(), "{m}: {d}");
    }
    assert_eq!(d["throughput"]["better"], "higher");
    assert!(html.contains("Against the baseline"), "{html}");
    assert_eq!(drawn(&html).1, "[]");
}

/// Loads a report in headless Chromium and asks, after layout, how many figures it has and
/// which of them (or of its tables) drew nothing: an SVG without size or without a bar, a
/// table without height.
fn drawn(html: &str) -> (u64, String) {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            std::process::Command::new("sh")
                .args(["-c", &format!("command -v {c}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("headless Chromium checks the report: apt-get install -y chromium");
    const PROBE: &str = r#"<script>
const bad = [];
const figures = [...document.querySelectorAll('figure')];
for (const f of figures) {
  const svg = f.querySelector('svg');
  const box = svg && svg.getBoundingClientRect();
  const bars = [...f.querySelectorAll('rect, polyline')].filter(e => { const b = e.getBBox(); return b.width > 0 && b.height > 0; });
  if (!box || box.width < 100 || box.height < 20 || bars.length === 0) bad.push(f.querySelector('figcaption')?.textContent || 'a figure');
}
for (const t of document.querySelectorAll('table')) if (t.getBoundingClientRect().height < 10) bad.push('a table after ' + (t.previousElementSibling?.textContent || 'the top'));
document.body.setAttribute('data-figures', figures.length);
document.body.setAttribute('data-bad', JSON.stringify(bad));
</script>"#;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("probe.html");
    std::fs::write(&page, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let attr = |name: &str| {
        let at = dom.find(&format!("{name}=\"")).unwrap_or_else(|| {
            panic!(
                "no {name} in Chromium's DOM: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let rest = &dom[at + name.len() + 2..];
        rest[..rest.find('"').unwrap()].replace("&quot;", "\"")
    };
    (attr("data-figures").parse().unwrap(), attr("data-bad"))
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

/// A report with an nginx peer over interleaved rounds (which needs nginx to measure): the
/// ratio section shows min / median / max, the bars sit around a 1.0× line naming the better
/// direction, ours and each peer have their own colour, and every section draws.
#[test]
fn the_side_by_side_report_names_its_spread_and_direction() {
    use serde_json::json;
    let result = |rps: f64, cpu: f64| {
        json!({
            "requests": 1000, "requests_per_sec": rps, "cpu_us_per_req": cpu, "errors": {},
            "latency_us": {"p50": 100, "p90": 150, "p99": 200, "p999": 300, "max": 400},
            "latency_curve_us": [[50.0, 100], [99.0, 200]],
        })
    };
    let mut ours = result(150_000.0, 6.5);
    ours["side_by_side"] = json!({
        "against": "nginx-plain", "rounds": 3,
        "requests_per_sec_ratios": [1.41, 1.52, 1.63], "cpu_us_per_req_ratios": [0.61, 0.66, 0.72],
        "requests_per_sec_ratio": 1.52, "cpu_us_per_req_ratio": 0.66,
        "each_round": {"requests_per_sec": [141_000.0, 150_000.0, 158_000.0]},
    });
    let mut fns = result(30_000.0, 30.0);
    fns["side_by_side"] = json!({
        "against": "nginx-njs", "rounds": 3,
        "requests_per_sec_ratios": [0.5, 0.6, 0.7], "cpu_us_per_req_ratios": [1.6, 1.7, 1.9],
        "requests_per_sec_ratio": 0.6, "cpu_us_per_req_ratio": 1.7,
    });
    let scenarios = vec![
        ("hit".to_string(), ours),
        ("hit-functions".to_string(), fns),
    ];
    let peers = vec![
        (
            "hit".to_string(),
            "nginx-plain".to_string(),
            result(98_000.0, 9.8),
        ),
        (
            "hit-functions".to_string(),
            "nginx-njs".to_string(),
            result(50_000.0, 17.6),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let settings = json!({"rounds": 3, "connections": 64, "duration_s": 3.0, "warmup_s": 1.0,
        "run": edge_bench::report::run_metadata(true)});
    edge_bench::report::write(dir.path(), &scenarios, &peers, settings, None).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("1.41 / 1.52 / 1.63×"), "min / median / max");
    assert!(
        html.contains("141000 / 150000 / 158000"),
        "our req/s over the rounds"
    );
    assert!(
        html.contains("1.0× (equal)")
            && html.contains("higher is better")
            && html.contains("lower is better")
    );
    assert!(
        html.contains("fill=\"#c0392b\""),
        "behind nginx is drawn in its own colour"
    );
    assert!(
        html.contains("fill=\"#e07b39\"") && html.contains("fill=\"#2f9e6e\""),
        "each peer its colour"
    );
    assert!(html.contains("<th>commit</th>") && html.contains("<th>kernel</th>"));
    assert_eq!(drawn(&html).1, "[]");
}
