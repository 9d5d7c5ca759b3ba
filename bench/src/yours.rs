//! Your own functions: `edge bench --function STAGE=FILE` (repeatable) or `--config edge.toml`
//! runs a cache-hit and a cache-miss load against an edge node without any function, with each
//! function (or, for a configuration, each stage's functions) alone, and with all of them, and
//! reports what each adds over the run without: latency percentiles and CPU per request.

use crate::scenario::{
    measure, node_args, pin, start, start_origin, unpin, Settings, HIT_PATH, MISS_PATH,
};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;

/// One edge node to measure: a label and the node arguments that make it differ.
struct Variant {
    label: String,
    args: Vec<String>,
}

/// The node arguments shared by every variant, and the variants (the first has no function).
fn variants(s: &Settings, origin_port: u16) -> anyhow::Result<(Vec<String>, Vec<Variant>)> {
    let without = |args: Vec<String>| Variant {
        label: "without functions".into(),
        args,
    };
    let Some(config) = &s.config else {
        let mut list = vec![without(vec![])];
        for (stage, file) in &s.functions {
            let name = Path::new(file)
                .file_name()
                .map_or(file.display().to_string(), |n| n.to_string_lossy().into());
            list.push(Variant {
                label: format!("{stage} {name}"),
                args: vec!["--function".into(), format!("{stage}={}", file.display())],
            });
        }
        if s.functions.len() > 1 {
            let args = list[1..].iter().flat_map(|v| v.args.clone()).collect();
            list.push(Variant {
                label: "all functions".into(),
                args,
            });
        }
        let base = vec!["--origin".into(), format!("http://127.0.0.1:{origin_port}")];
        return Ok((base, list));
    };
    let copy = (config.copy_for_origin)(&s.work_dir, origin_port)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.path.display()))?;
    let skip = |keep: &[&str]| -> Vec<String> {
        STAGES
            .into_iter()
            .filter(|st| !keep.contains(st))
            .flat_map(|st| ["--skip-stage".to_string(), st.to_string()])
            .collect()
    };
    let stages: Vec<&str> = STAGES
        .into_iter()
        .filter(|st| config.stages.iter().any(|c| c == st))
        .collect();
    let mut list = vec![without(skip(&[]))];
    for st in &stages {
        list.push(Variant {
            label: st.to_string(),
            args: skip(&[st]),
        });
    }
    if stages.len() > 1 {
        list.push(Variant {
            label: "all functions".into(),
            args: vec![],
        });
    }
    Ok((vec!["--config".into(), copy.display().to_string()], list))
}

/// The four stages as `edge node --skip-stage` names them, in request order.
const STAGES: [&str; 4] = [
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
];

pub async fn run(name: &str, s: &Settings) -> anyhow::Result<Value> {
    let miss = name == "yours-miss";
    let origin = start_origin(s)?;
    let origin_port: u16 = origin.ready["http"]
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the mock origin printed no port"))?;
    let (base, variants) = variants(s, origin_port)?;
    if variants.len() < 2 {
        anyhow::bail!("no function to measure: give --function STAGE=FILE, or a --config whose behaviors associate functions");
    }
    let path = match (&s.path, miss) {
        (None, false) => HIT_PATH.to_string(),
        (None, true) => MISS_PATH.to_string(),
        (Some(p), false) => p.clone(),
        // A unique query per request (a miss when the cache key includes query strings).
        (Some(p), true) => format!("{p}{}n={{n}}", if p.contains('?') { '&' } else { '?' }),
    };
    let mut runs = Vec::new();
    for v in &variants {
        let mut args = node_args(&["--server-timing"]);
        args.extend(base.iter().cloned());
        args.extend(v.args.iter().cloned());
        let node = start(&s.edge_bin, &args)
            .map_err(|e| anyhow::anyhow!("{} ({}): {e}", v.label, args.join(" ")))?;
        let addr: SocketAddr = node.ready["http"]
            .parse()
            .map_err(|e| anyhow::anyhow!("bad address: {e}"))?;
        let spec = s.load(addr, &path);
        let pid = node.child.id();
        let pinned = pin(&[pid], &[origin.child.id(), std::process::id()]);
        let mut r = measure(&spec, || vec![pid]).await;
        unpin();
        r["pinned"] = json!(pinned);
        runs.push((v.label.clone(), r));
    }
    let base = runs[0].1.clone();
    let delta = |r: &Value, f: &dyn Fn(&Value) -> f64| f(r) - f(&base);
    let variants: Vec<Value> = runs
        .into_iter()
        .map(|(label, r)| {
            let p = |k: &'static str| move |v: &Value| v["latency_us"][k].as_f64().unwrap_or(0.0);
            let added = json!({
                "latency_us": {
                    "p50": delta(&r, &p("p50")),
                    "p90": delta(&r, &p("p90")),
                    "p99": delta(&r, &p("p99")),
                    "p999": delta(&r, &p("p999")),
                },
                "cpu_us_per_req": delta(&r, &|v| v["cpu_us_per_req"].as_f64().unwrap_or(0.0)),
            });
            json!({ "variant": label, "result": r, "added": added })
        })
        .collect();
    // At the top, the run with every function, in the same shape as any other scenario.
    let mut out = variants.last().map_or(json!({}), |v| v["result"].clone());
    out["kind"] = json!("yours");
    out["path"] = json!(path);
    out["variants"] = json!(variants);
    Ok(out)
}
