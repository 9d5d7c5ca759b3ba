//! `report.json` and `report.html`: the run's metadata, per scenario and target throughput,
//! latency percentiles, errors and CPU per request, the spread of interleaved rounds against
//! nginx and, with a baseline, each scenario's change; the page draws them as inline SVG bar
//! charts (no scripts, no network), one chart per measure.

use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;

/// Writes both files into `dir`.
/// `scenarios` holds our result per scenario; `peers` the nginx result where one ran.
pub fn write(
    dir: &Path,
    scenarios: &[(String, Value)],
    peers: &[(String, String, Value)],
    settings: Value,
    baseline: Option<&(std::path::PathBuf, Value)>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut map = serde_json::Map::new();
    for (name, v) in scenarios {
        let mut entry = json!({ "edge": v });
        for (_, peer, pv) in peers.iter().filter(|(s, _, _)| s == name) {
            entry[peer.as_str()] = pv.clone();
            entry["ratios"] = json!({
                "against": peer,
                "requests_per_sec": ratio(v, pv, "requests_per_sec"),
                "cpu_us_per_req": ratio(v, pv, "cpu_us_per_req"),
                "rounds": v["side_by_side"]["rounds"].as_u64().unwrap_or(1),
            });
        }
        map.insert(name.clone(), entry);
    }
    let mut report = json!({ "settings": settings, "scenarios": map });
    if let Some((path, old)) = baseline {
        report["baseline"] = json!({
            "file": path.display().to_string(),
            "run": old["settings"]["run"],
            "scenarios": compare(scenarios, old),
        });
    }
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(dir.join("report.html"), html(scenarios, peers, &report))
}

/// What a report records of the run, so a regression can be filed with it: when, which
/// commit, the machine, the peers' versions, pinning.
pub fn run_metadata(pinned: bool) -> Value {
    let out = |cmd: &str| {
        std::process::Command::new("sh")
            .args(["-c", cmd])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text).trim().to_string()
            })
            .filter(|s| !s.is_empty())
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_string())
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    json!({
        "date": out(&format!("date -u -d @{now} +%Y-%m-%dT%H:%M:%SZ")),
        "commit": out("git rev-parse --short HEAD 2>/dev/null"),
        "edge_version": env!("CARGO_PKG_VERSION"),
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|k| k.trim().to_string()),
        "nginx": out("nginx -v 2>&1"),
        "njs": out("dpkg-query -W -f '${Version}' libnginx-mod-http-js 2>/dev/null"),
        "pinned": pinned,
    })
}

/// The measures compared with a baseline: name, JSON key, whether higher is better.
const COMPARED: [(&str, &str, bool); 3] = [
    ("throughput", "requests_per_sec", true),
    ("p99 latency", "p99", false),
    ("CPU per request", "cpu_us_per_req", false),
];

/// A change counts as a regression beyond the noise when it is worse by more than this, or by
/// more than the spread of this run's interleaved rounds when that is larger.
const NOISE: f64 = 0.10;

fn measure(v: &Value, key: &str) -> Option<f64> {
    let x = if key == "p99" {
        v["latency_us"]["p99"].as_f64()
    } else {
        v[key].as_f64()
    };
    x.filter(|x| *x > 0.0)
}

/// Per scenario in both runs, per measure: old, new, the change, and whether it regressed.
fn compare(scenarios: &[(String, Value)], old: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (name, v) in scenarios {
        let Some(o) = old["scenarios"].get(name).map(|e| &e["edge"]) else {
            continue;
        };
        // The spread of this run's rounds (max - min over the median), when it had several.
        let rounds = &v["side_by_side"]["each_round"]["requests_per_sec"];
        let spread = rounds.as_array().map_or(0.0, |r| {
            let mut r: Vec<f64> = r.iter().filter_map(Value::as_f64).collect();
            spread_of(&mut r)
        });
        let noise = NOISE.max(spread);
        let mut m = serde_json::Map::new();
        for (label, key, higher) in COMPARED {
            let (Some(a), Some(b)) = (measure(o, key), measure(v, key)) else {
                continue;
            };
            let change = b / a - 1.0;
            let worse = if higher { -change } else { change };
            m.insert(
                label.to_string(),
                json!({
                    "old": a, "new": b, "change": change,
                    "better": if higher { "higher" } else { "lower" },
                    "noise": noise,
                    "regression": worse > noise,
                }),
            );
        }
        if !m.is_empty() {
            out.insert(name.clone(), Value::Object(m));
        }
    }
    Value::Object(out)
}

/// (max - min) / median of `v` (0 for fewer than two).
fn spread_of(v: &mut [f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2].max(1e-9);
    (v[v.len() - 1] - v[0]) / median
}

/// The lines `edge bench --baseline` prints after the run.
pub fn baseline_summary(
    scenarios: &[(String, Value)],
    baseline: &(std::path::PathBuf, Value),
) -> String {
    let c = compare(scenarios, &baseline.1);
    let mut out = format!("against {}:\n", baseline.0.display());
    for (name, m) in c.as_object().into_iter().flatten() {
        for (label, d) in m.as_object().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  {name:<18} {label:<16} {:>+7.1}%{}",
                d["change"].as_f64().unwrap_or(0.0) * 100.0,
                if d["regression"].as_bool().unwrap_or(false) {
                    "  REGRESSION (beyond the noise)"
                } else {
                    ""
                }
            );
        }
    }
    out
}

/// Ours / the peer's for `key`: the median over interleaved rounds when there were several.
fn ratio(v: &Value, pv: &Value, key: &str) -> f64 {
    v["side_by_side"][format!("{key}_ratio")]
        .as_f64()
        .unwrap_or_else(|| {
            v[key].as_f64().unwrap_or(0.0) / pv[key].as_f64().unwrap_or(0.0).max(1e-9)
        })
}

/// The lines `edge bench` prints for one scenario's result.
pub fn summary(name: &str, v: &Value) -> String {
    let f = |x: &Value| x.as_f64().unwrap_or(0.0);
    let mut out = String::new();
    if let Some(why) = v.get("skipped") {
        let _ = writeln!(out, "{name:<18} skipped: {}", why.as_str().unwrap_or(""));
        return out;
    }
    match v["kind"].as_str() {
        Some("deploy") => {
            let _ = writeln!(
                out,
                "{name:<18} {} edges, {} publishes: Deployed everywhere in median {:.1} ms, max {:.1} ms; viewer-response on the first request after: {:.0} us (after idle, no change: {:.0} us; warm p50 {:.0} us)",
                v["edges"], v["publishes"],
                f(&v["deploy_ms"]["p50"]), f(&v["deploy_ms"]["max"]),
                f(&v["first_request_us"]), f(&v["idle_first_request_us"]), f(&v["warm_request_p50_us"]),
            );
        }
        Some("cold") => {
            let _ = writeln!(
                out,
                "{name:<18} viewer-request + viewer-response on the first request after evicting every isolate: {:.0} us (after idle, no eviction: {:.0} us; warm p50 {:.0} us); creating one isolate {:.1} ms, off the request path",
                f(&v["first_after_eviction_us"]), f(&v["first_after_idle_us"]), f(&v["warm_p50_us"]), f(&v["isolate_create_ms"]),
            );
        }
        Some("runaway") if v["p99_vs_idle"].is_null() => {
            let _ = writeln!(
                out,
                "{name:<18} healthy hits while runaway functions are hammered: none answered in the measured part (each waited on a runaway); idle p99 {} us, {:.0} req/s",
                v["idle"]["latency_us"]["p99"], f(&v["idle"]["requests_per_sec"]),
            );
        }
        Some("runaway") => {
            let (l, idle) = (&v["latency_us"], &v["idle"]["latency_us"]);
            let _ = writeln!(
                out,
                "{name:<18} healthy hits while runaway functions are hammered: {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us ({:.1}x the idle p99 {} us; idle {:.0} req/s)  errors {}",
                f(&v["requests_per_sec"]), l["p50"], l["p99"], f(&v["p99_vs_idle"]), idle["p99"], f(&v["idle"]["requests_per_sec"]), v["errors"],
            );
        }
        Some("regions") => {
            for p in v["pops"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "{name:<9} {:<9} viewer {:>4.0} ms, origin {:>4.0} ms: hit {:>6.1} ms, miss {:>6.1} ms, direct {:>6.1} ms; the edge saves {:>6.1} ms on a hit, {:>6.1} ms on a miss",
                    p["pop"].as_str().unwrap_or(""),
                    f(&p["viewer_rtt_ms"]), f(&p["origin_rtt_ms"]), f(&p["hit_ms"]), f(&p["miss_ms"]), f(&p["direct_ms"]), f(&p["saved_hit_ms"]), f(&p["saved_miss_ms"]),
                );
            }
        }
        Some("yours") => {
            let _ = writeln!(out, "{name:<18} {}", v["path"].as_str().unwrap_or(""));
            for var in v["variants"].as_array().into_iter().flatten() {
                let (r, d) = (&var["result"], &var["added"]);
                let _ = writeln!(
                    out,
                    "  {:<28} {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us  cpu {:>6.2} us/req  adds p50 {:>+7.0} us, p99 {:>+7.0} us, cpu {:>+7.2} us/req  errors {}",
                    var["variant"].as_str().unwrap_or(""),
                    f(&r["requests_per_sec"]), r["latency_us"]["p50"], r["latency_us"]["p99"], f(&r["cpu_us_per_req"]),
                    f(&d["latency_us"]["p50"]), f(&d["latency_us"]["p99"]), f(&d["cpu_us_per_req"]), r["errors"],
                );
            }
        }
        _ => {
            let l = &v["latency_us"];
            let _ = writeln!(
                out,
                "{name:<18} {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us  p99.9 {:>6} us  cpu {:>6.2} us/req  errors {}",
                f(&v["requests_per_sec"]), l["p50"], l["p99"], l["p999"], f(&v["cpu_us_per_req"]), v["errors"],
            );
        }
    }
    out
}

/// The line for a peer's result next to ours, with the ratios.
pub fn peer_summary(peer: &str, v: &Value, pv: &Value) -> String {
    let f = |x: &Value| x.as_f64().unwrap_or(0.0);
    let rounds = v["side_by_side"]["rounds"].as_u64().unwrap_or(1);
    format!(
        "{:<18} {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us  cpu {:>6.2} us/req  (ratio edge/nginx{}: {:.2} throughput, {:.2} cpu)\n",
        format!("  {peer}"),
        f(&pv["requests_per_sec"]),
        pv["latency_us"]["p50"],
        pv["latency_us"]["p99"],
        f(&pv["cpu_us_per_req"]),
        if rounds > 1 { format!(", median of {rounds} interleaved rounds") } else { String::new() },
        ratio(v, pv, "requests_per_sec"),
        ratio(v, pv, "cpu_us_per_req"),
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The colour of a series: ours, and each nginx peer its own.
fn colour(label: &str) -> &'static str {
    if label.contains("(nginx-njs)") {
        "#2f9e6e"
    } else if label.contains("(nginx-") {
        "#e07b39"
    } else {
        "#3b7dd8"
    }
}

/// The legend of `bars`: which colour is whose.
const LEGEND: &str = "<p class=\"legend\"><span style=\"color:#3b7dd8\">■</span> edge (ours) <span style=\"color:#e07b39\">■</span> nginx proxy_cache <span style=\"color:#2f9e6e\">■</span> nginx + njs</p>";

/// A horizontal bar chart of `(label, value)` rows, coloured by whose they are; rows without
/// a value (0: not measured) are named under the chart rather than drawn as empty bars.
fn bars(title: &str, unit: &str, rows: &[(String, f64)]) -> String {
    type Rows<'a> = Vec<&'a (String, f64)>;
    let (rows, empty): (Rows, Rows) = rows.iter().partition(|r| r.1 > 0.0);
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1e-9);
    let h = 28 * rows.len() + 40;
    let mut svg = format!("<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{h}\" role=\"img\">", esc(title));
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 10 + i * 28;
        let w = (v / max * 440.0).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text><rect x=\"200\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{v:.1} {}</text>",
            y + 15,
            esc(label),
            colour(label),
            205.0 + w,
            y + 15,
            esc(unit)
        );
    }
    svg.push_str("</svg>");
    svg.push_str(LEGEND);
    if !empty.is_empty() {
        let names: Vec<String> = empty.iter().map(|(n, _)| esc(n)).collect();
        let _ = write!(
            svg,
            "<p class=\"note\">Not measured: {}.</p>",
            names.join(", ")
        );
    }
    svg.push_str("</figure>");
    svg
}

/// Ratio bars around a 1.0× line: right of it ours is ahead, left behind, whichever way the
/// measure is better (throughput higher, CPU lower: a CPU ratio is drawn as its inverse).
fn ratio_bars(title: &str, rows: &[(String, f64, bool)]) -> String {
    // log2 scale: 0.25× … 4× across the width, 1.0× in the middle.
    let (mid, half) = (440.0, 200.0);
    let h = 28 * rows.len() + 56;
    let mut svg = format!("<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{h}\" role=\"img\">", esc(title));
    for (i, (label, ratio, higher)) in rows.iter().enumerate() {
        let y = 22 + i * 28;
        let ahead = if *higher {
            *ratio
        } else {
            1.0 / ratio.max(1e-9)
        };
        let x = (ahead.max(1e-9).log2() / 2.0).clamp(-1.0, 1.0) * half;
        let (rx, w) = if x >= 0.0 {
            (mid, x.max(1.0))
        } else {
            (mid + x, -x)
        };
        let fill = if ahead >= 1.0 { "#3b7dd8" } else { "#c0392b" };
        let better = if *higher {
            "higher is better"
        } else {
            "lower is better"
        };
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{} <tspan font-size=\"11\" fill=\"#666\">({better})</tspan></text><rect x=\"{rx:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{fill}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{ratio:.2}×</text>",
            y + 15,
            esc(label),
            if x >= 0.0 { mid + w + 5.0 } else { mid + 5.0 },
            y + 15,
        );
    }
    let bottom = 22 + rows.len() * 28;
    let _ = write!(
        svg,
        "<line x1=\"{mid}\" y1=\"14\" x2=\"{mid}\" y2=\"{bottom}\" stroke=\"#000\" stroke-width=\"1.5\"/><text x=\"{}\" y=\"11\" font-size=\"11\">1.0× (equal)</text><text x=\"{}\" y=\"{}\" font-size=\"11\">← behind nginx</text><text x=\"{}\" y=\"{}\" font-size=\"11\">ahead of nginx →</text>",
        mid - 30.0,
        mid - half,
        bottom + 18,
        mid + half - 90.0,
        bottom + 18,
    );
    svg.push_str("</svg></figure>");
    svg
}

/// Where the time goes per scenario: one stacked bar of the mean stage times from
/// Server-Timing (viewer-request, cache, origin-request, origin, origin-response,
/// viewer-response).
fn stacked(scenarios: &[(String, Value)]) -> String {
    const STAGES: [(&str, &str); 6] = [
        ("viewer-request", "#e07b39"),
        ("cache", "#3b7dd8"),
        ("origin-request", "#b65fcf"),
        ("origin", "#8c8c8c"),
        ("origin-response", "#2f9e6e"),
        ("viewer-response", "#d64f6f"),
    ];
    let total = |s: &Value| {
        STAGES
            .iter()
            .map(|(k, _)| s[*k].as_f64().unwrap_or(0.0))
            .sum::<f64>()
    };
    // A scenario whose stages take under 0.05 µs in all (hits without functions) has no bar to
    // draw: it is named below the chart instead of drawn as `0.0 µs`.
    type Rows<'a> = Vec<(&'a String, &'a Value)>;
    let (rows, tiny): (Rows, Rows) = scenarios
        .iter()
        .filter_map(|(n, v)| {
            v.get("stages_us")
                .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
                .map(|s| (n, s))
        })
        .partition(|(_, s)| total(s) >= 0.05);
    if rows.is_empty() {
        return String::new();
    }
    let max = rows
        .iter()
        .map(|(_, s)| total(s))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let h = 28 * rows.len() + 60;
    let mut svg = format!("<figure><figcaption>Where the time goes (mean µs per request, from Server-Timing)</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{h}\" role=\"img\">");
    for (i, (name, s)) in rows.iter().enumerate() {
        let y = 10 + i * 28;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>",
            y + 15,
            esc(name)
        );
        let mut x = 200.0;
        for (k, color) in STAGES {
            let w = s[k].as_f64().unwrap_or(0.0) / max * 440.0;
            if w > 0.0 {
                let _ = write!(svg, "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{color}\"><title>{k}: {:.1} µs</title></rect>", s[k].as_f64().unwrap_or(0.0));
                x += w;
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{:.1} µs</text>",
            x + 5.0,
            y + 15,
            total(s)
        );
    }
    let ly = 20 + rows.len() * 28;
    for (i, (k, color)) in STAGES.iter().enumerate() {
        let x = i * 118;
        let _ = write!(svg, "<rect x=\"{x}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{k}</text>", x + 16, ly + 10);
    }
    svg.push_str("</svg>");
    if !tiny.is_empty() {
        let names: Vec<String> = tiny.iter().map(|(n, _)| esc(n)).collect();
        let _ = write!(
            svg,
            "<p class=\"note\">Under 0.05 µs of stage time, not drawn: {}.</p>",
            names.join(", ")
        );
    }
    svg.push_str("</figure>");
    svg
}

/// Entries that are not a load run (publish → Deployed, cold start): tables of their own.
fn is_deploy(v: &Value) -> bool {
    v["kind"] == "deploy" || v["kind"] == "cold" || v["kind"] == "regions"
}

/// Geography: per POP, a viewer's first request through the edge (hit, miss) against going
/// straight to the origin, and what the edge saves.
fn regions(scenarios: &[(String, Value)]) -> String {
    let Some((_, v)) = scenarios.iter().find(|(_, v)| v["kind"] == "regions") else {
        return String::new();
    };
    let mut out = format!("<h2>What the edge saves viewers, per region</h2><p>Median of {} first requests on new connections, simulated round trips; direct = one viewer ↔ origin round trip of both distances, nothing cached.</p><table><tr><th>POP</th><th>viewer RTT ms</th><th>origin RTT ms</th><th>hit ms</th><th>miss ms</th><th>direct ms</th><th>saved on a hit ms</th><th>saved on a miss ms</th></tr>", v["samples"]);
    let mut rows = Vec::new();
    for p in v["pops"].as_array().into_iter().flatten() {
        let f = |k: &str| p[k].as_f64().unwrap_or(0.0);
        let pop = p["pop"].as_str().unwrap_or("");
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            esc(pop),
            f("viewer_rtt_ms"),
            f("origin_rtt_ms"),
            f("hit_ms"),
            f("miss_ms"),
            f("direct_ms"),
            f("saved_hit_ms"),
            f("saved_miss_ms"),
        );
        for (what, k) in [
            ("hit", "hit_ms"),
            ("miss", "miss_ms"),
            ("direct", "direct_ms"),
        ] {
            rows.push((format!("{pop} {what}"), f(k)));
        }
    }
    out.push_str("</table>");
    out.push_str(&bars(
        "First request per region: through the edge vs direct",
        "ms",
        &rows,
    ));
    out
}

/// Your functions: per scenario, each variant's figures and what it adds over the run
/// without functions, with bars of the CPU each adds.
fn yours(scenarios: &[(String, Value)]) -> String {
    let mut out = String::new();
    for (name, v) in scenarios.iter().filter(|(_, v)| v["kind"] == "yours") {
        let _ = write!(out, "<h2>Your functions: {} <code>{}</code></h2><table><tr><th>variant</th><th>req/s</th><th>p50 µs</th><th>p99 µs</th><th>CPU µs/req</th><th>adds p50 µs</th><th>adds p90 µs</th><th>adds p99 µs</th><th>adds CPU µs/req</th></tr>", esc(name), esc(v["path"].as_str().unwrap_or("")));
        let mut rows = Vec::new();
        for var in v["variants"].as_array().into_iter().flatten() {
            let (r, d) = (&var["result"], &var["added"]);
            let f = |x: &Value| x.as_f64().unwrap_or(0.0);
            let label = var["variant"].as_str().unwrap_or("");
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:+.0}</td><td>{:+.0}</td><td>{:+.0}</td><td>{:+.2}</td></tr>",
                esc(label),
                f(&r["requests_per_sec"]),
                r["latency_us"]["p50"],
                r["latency_us"]["p99"],
                f(&r["cpu_us_per_req"]),
                f(&d["latency_us"]["p50"]),
                f(&d["latency_us"]["p90"]),
                f(&d["latency_us"]["p99"]),
                f(&d["cpu_us_per_req"]),
            );
            rows.push((label.to_string(), f(&r["cpu_us_per_req"])));
        }
        out.push_str("</table>");
        out.push_str(&bars(&format!("{name}: edge CPU per request"), "µs", &rows));
    }
    out
}

/// Latency percentile curves: one line per target over p50, p90, p99, p99.9 and max (x spaced
/// by nines, y logarithmic), so tails compare at a glance.
fn curves(measured: &[(String, Value)]) -> String {
    const COLORS: [&str; 8] = [
        "#3b7dd8", "#e07b39", "#2f9e6e", "#d64f6f", "#b65fcf", "#8c8c8c", "#c9a227", "#1b9aaa",
    ];
    const POINTS: [(&str, &str); 5] = [
        ("p50", "p50"),
        ("p90", "p90"),
        ("p99", "p99"),
        ("p999", "p99.9"),
        ("max", "max"),
    ];
    let lines: Vec<(&String, Vec<f64>)> = measured
        .iter()
        .filter_map(|(n, v)| {
            let pts: Vec<f64> = POINTS
                .iter()
                .map(|(k, _)| v["latency_us"][*k].as_f64().unwrap_or(0.0).max(1.0))
                .collect();
            v["latency_us"].is_object().then_some((n, pts))
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let all = lines.iter().flat_map(|(_, p)| p.iter().copied());
    let lo = all.clone().fold(f64::MAX, f64::min).log10().floor();
    let hi = all.fold(1.0_f64, f64::max).log10().ceil().max(lo + 1.0);
    let (left, top, w, h) = (70.0, 20.0, 420.0, 260.0);
    let x = |i: usize| left + w * i as f64 / (POINTS.len() - 1) as f64;
    let y = |us: f64| top + h * (1.0 - (us.log10() - lo) / (hi - lo));
    let height = top + h + 40.0 + 18.0 * lines.len() as f64;
    let mut svg = format!("<figure><figcaption>Latency percentiles (µs, log scale)</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{height:.0}\" role=\"img\">");
    let mut decade = lo;
    while decade <= hi {
        let yy = y(10f64.powf(decade));
        let _ = write!(svg, "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/><text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}</text>", left + w, yy + 4.0, 10f64.powf(decade));
        decade += 1.0;
    }
    for (i, (_, label)) in POINTS.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{label}</text>",
            x(i),
            top + h + 16.0
        );
    }
    for (n, (name, pts)) in lines.iter().enumerate() {
        let color = COLORS[n % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            path.join(" "),
            esc(name)
        );
        let ly = top + h + 34.0 + 18.0 * n as f64;
        let _ = write!(svg, "<rect x=\"{left}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>", ly - 4.0, left + 18.0, ly, esc(name));
    }
    svg.push_str("</svg></figure>");
    svg
}

/// Ours against nginx: the throughput and CPU ratios per scenario.
fn ratios(scenarios: &[(String, Value)], peers: &[(String, String, Value)]) -> String {
    if peers.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2 id=\"side-by-side\">Side by side with nginx (ours / nginx)</h2><table><tr><th>scenario</th><th>against</th><th>interleaved rounds</th><th>throughput ratio (higher is better): min / median / max</th><th>CPU per request ratio (lower is better): min / median / max</th><th>our req/s: min / median / max</th></tr>");
    let mut rows = Vec::new();
    for (name, peer, pv) in peers {
        let Some((_, v)) = scenarios.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let (t, c) = (
            ratio(v, pv, "requests_per_sec"),
            ratio(v, pv, "cpu_us_per_req"),
        );
        let sb = &v["side_by_side"];
        let spread = |key: &Value, median: f64, digits: usize| {
            let mut r: Vec<f64> = key
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            r.sort_by(|a, b| a.total_cmp(b));
            match (r.first(), r.last()) {
                (Some(lo), Some(hi)) => {
                    format!("{lo:.digits$} / {median:.digits$} / {hi:.digits$}")
                }
                _ => format!("{median:.digits$}"),
            }
        };
        let ours = v["requests_per_sec"].as_f64().unwrap_or(0.0);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}×</td><td>{}×</td><td>{}</td></tr>",
            esc(name),
            esc(peer),
            sb["rounds"].as_u64().unwrap_or(1),
            spread(&sb["requests_per_sec_ratios"], t, 2),
            spread(&sb["cpu_us_per_req_ratios"], c, 2),
            spread(&sb["each_round"]["requests_per_sec"], ours, 0),
        );
        rows.push((format!("{name} throughput"), t, true));
        rows.push((format!("{name} CPU/req"), c, false));
    }
    out.push_str("</table>");
    out.push_str(&ratio_bars(
        "Ours / nginx, medians of the interleaved rounds (right of the 1.0× line: ours is ahead)",
        &rows,
    ));
    out
}

/// Cold start after eviction: a table and bars of the function time on the first request.
fn colds(scenarios: &[(String, Value)]) -> String {
    let Some((name, v)) = scenarios.iter().find(|(_, v)| v["kind"] == "cold") else {
        return String::new();
    };
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let mut out = format!("<h2>Cold start after isolates are evicted ({})</h2><table><tr><th>rounds</th><th>first request on fresh isolates µs</th><th>first after idle, no eviction µs</th><th>warm p50 µs</th><th>creating one isolate ms (off the request path)</th></tr>", esc(name));
    let _ = write!(
        out,
        "<tr><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td><td>{:.1}</td></tr></table>",
        v["rounds"],
        f("first_after_eviction_us"),
        f("first_after_idle_us"),
        f("warm_p50_us"),
        f("isolate_create_ms"),
    );
    out.push_str(&bars(
        "Viewer-request + viewer-response time on the edge",
        "µs",
        &[
            ("first after eviction".into(), f("first_after_eviction_us")),
            ("first after idle".into(), f("first_after_idle_us")),
            ("warm p50".into(), f("warm_p50_us")),
            (
                "isolate made on demand".into(),
                f("isolate_create_ms") * 1e3,
            ),
        ],
    ));
    out
}

/// Publish → Deployed: a table and bars of median and worst time per cluster size.
fn deploys(scenarios: &[(String, Value)]) -> String {
    let runs: Vec<&(String, Value)> = scenarios
        .iter()
        .filter(|(_, v)| v["kind"] == "deploy")
        .collect();
    if runs.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Publish → every edge Deployed</h2><table><tr><th>scenario</th><th>edges</th><th>publishes</th><th>median ms</th><th>max ms</th><th>first request after: viewer-response µs</th><th>first after idle, no change µs</th><th>warm p50 µs</th></tr>");
    let mut rows = Vec::new();
    for (name, v) in &runs {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td></tr>",
            esc(name),
            v["edges"],
            v["publishes"],
            v["deploy_ms"]["p50"].as_f64().unwrap_or(0.0),
            v["deploy_ms"]["max"].as_f64().unwrap_or(0.0),
            v["first_request_us"].as_f64().unwrap_or(0.0),
            v["idle_first_request_us"].as_f64().unwrap_or(0.0),
            v["warm_request_p50_us"].as_f64().unwrap_or(0.0),
        );
        rows.push((
            format!("{name} median"),
            v["deploy_ms"]["p50"].as_f64().unwrap_or(0.0),
        ));
        rows.push((
            format!("{name} max"),
            v["deploy_ms"]["max"].as_f64().unwrap_or(0.0),
        ));
    }
    out.push_str("</table>");
    out.push_str(&bars("Publish → Deployed on every edge", "ms", &rows));
    out
}

fn html(
    scenarios: &[(String, Value)],
    peers: &[(String, String, Value)],
    report: &Value,
) -> String {
    let settings = &report["settings"];
    let mut measured: Vec<(String, Value)> = scenarios
        .iter()
        .filter(|(_, v)| v.get("skipped").is_none() && !is_deploy(v))
        .cloned()
        .collect();
    measured.extend(
        peers
            .iter()
            .map(|(s, p, v)| (format!("{s} ({p})"), v.clone())),
    );
    let rows = |f: &dyn Fn(&Value) -> f64| {
        measured
            .iter()
            .map(|(n, v)| (n.clone(), f(v)))
            .collect::<Vec<_>>()
    };
    let mut page = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>edge bench</title><style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}.note,.legend{font-size:.85em;color:#444;margin:.2em 0}.regression{color:#c0392b;font-weight:bold}</style></head><body><h1>edge bench</h1>");
    page.push_str(&run_table(settings));
    page.push_str(&baseline_table(&report["baseline"]));
    page.push_str("<table><tr><th>scenario</th><th>req/s</th><th>p50 µs</th><th>p90 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>max µs</th><th>CPU µs/req</th><th>errors</th></tr>");
    for (name, v) in scenarios.iter().filter(|(_, v)| !is_deploy(v)) {
        if let Some(why) = v.get("skipped") {
            let _ = write!(
                page,
                "<tr><td>{}</td><td colspan=\"8\">skipped: {}</td></tr>",
                esc(name),
                esc(why.as_str().unwrap_or(""))
            );
            continue;
        }
        let l = &v["latency_us"];
        let errors: u64 = v["errors"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{errors}</td></tr>",
            esc(name),
            v["requests_per_sec"].as_f64().unwrap_or(0.0),
            l["p50"], l["p90"], l["p99"], l["p999"], l["max"],
            v["cpu_us_per_req"].as_f64().unwrap_or(0.0),
        );
    }
    for (s, p, v) in peers {
        let l = &v["latency_us"];
        let _ = write!(
            page,
            "<tr><td>{} ({})</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>-</td></tr>",
            esc(s),
            esc(p),
            v["requests_per_sec"].as_f64().unwrap_or(0.0),
            l["p50"], l["p90"], l["p99"], l["p999"], l["max"],
            v["cpu_us_per_req"].as_f64().unwrap_or(0.0),
        );
    }
    page.push_str("</table>");
    page.push_str(&ratios(scenarios, peers));
    page.push_str(&curves(&measured));
    page.push_str(&bars(
        "Throughput",
        "req/s",
        &rows(&|v| v["requests_per_sec"].as_f64().unwrap_or(0.0)),
    ));
    page.push_str(&bars(
        "Latency p50",
        "µs",
        &rows(&|v| v["latency_us"]["p50"].as_f64().unwrap_or(0.0)),
    ));
    page.push_str(&bars(
        "Latency p99",
        "µs",
        &rows(&|v| v["latency_us"]["p99"].as_f64().unwrap_or(0.0)),
    ));
    page.push_str(&bars(
        "Edge CPU per request",
        "µs",
        &rows(&|v| v["cpu_us_per_req"].as_f64().unwrap_or(0.0)),
    ));
    page.push_str(&stacked(scenarios));
    page.push_str(&deploys(scenarios));
    page.push_str(&colds(scenarios));
    page.push_str(&yours(scenarios));
    page.push_str(&regions(scenarios));
    page.push_str("</body></html>\n");
    page
}

/// The run's metadata and settings: what a regression report needs to be reproduced.
fn run_table(settings: &Value) -> String {
    let run = &settings["run"];
    let text = |v: &Value| match v {
        Value::Null => "unknown".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = String::from("<h2 id=\"run\">Run</h2><table>");
    let rows: [(&str, String); 12] = [
        ("date (UTC)", text(&run["date"])),
        ("commit", text(&run["commit"])),
        ("edge version", text(&run["edge_version"])),
        ("CPU", text(&run["cpu"])),
        ("cores", text(&run["cores"])),
        ("kernel", text(&run["kernel"])),
        ("nginx", text(&run["nginx"])),
        ("njs", text(&run["njs"])),
        (
            "pinned (server core 0, load and origin core 1)",
            text(&run["pinned"]),
        ),
        ("rounds (interleaved with nginx)", text(&settings["rounds"])),
        ("connections", text(&settings["connections"])),
        (
            "warm-up / measured seconds",
            format!(
                "{} / {}",
                text(&settings["warmup_s"]),
                text(&settings["duration_s"])
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    out.push_str("</table>");
    out
}

/// Each scenario against the baseline run, regressions beyond the noise flagged.
fn baseline_table(b: &Value) -> String {
    let Some(scenarios) = b["scenarios"].as_object() else {
        return String::new();
    };
    let mut out = format!(
        "<h2 id=\"baseline\">Against the baseline</h2><p>{} (commit {}, {})</p><table><tr><th>scenario</th><th>measure</th><th>baseline</th><th>now</th><th>change</th><th></th></tr>",
        esc(b["file"].as_str().unwrap_or("")),
        esc(b["run"]["commit"].as_str().unwrap_or("unknown")),
        esc(b["run"]["date"].as_str().unwrap_or("date unknown")),
    );
    for (name, m) in scenarios {
        for (label, d) in m.as_object().into_iter().flatten() {
            let regression = d["regression"].as_bool().unwrap_or(false);
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{} ({} is better)</td><td>{:.2}</td><td>{:.2}</td><td>{:+.1}%</td><td>{}</td></tr>",
                esc(name),
                esc(label),
                esc(d["better"].as_str().unwrap_or("")),
                d["old"].as_f64().unwrap_or(0.0),
                d["new"].as_f64().unwrap_or(0.0),
                d["change"].as_f64().unwrap_or(0.0) * 100.0,
                if regression {
                    format!(
                        "<span class=\"regression\">regression (beyond the {:.0}% noise)</span>",
                        d["noise"].as_f64().unwrap_or(NOISE) * 100.0
                    )
                } else {
                    String::new()
                },
            );
        }
    }
    out.push_str("</table>");
    out
}
