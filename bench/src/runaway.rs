//! A runaway function and its neighbours: an edge node (one worker, as every measured node
//! here) with a viewer-request function that loops on `/spin*` and an origin-response function
//! that loops on `/slow*`. Healthy cache hits on other paths are measured first alone, then
//! while two clients hammer each runaway path. The functions' limits are the measured
//! duration (at most Lambda@Edge's 5 s viewer / 30 s origin), so a runaway holds its isolate
//! for the whole measured part: the worst case for its neighbours. The target (issue: "no
//! function stalls another") is the healthy p99 within 2× of the idle one.

use crate::load::{self, LoadSpec};
use crate::scenario::{
    measure, node_args, pin, start, start_origin, unpin, write_fn, Settings, HIT_PATH,
};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

const SPIN: &str = "exports.handler = async (e) => { for (;;) {} };";
const PASS: &str = "exports.handler = async (e) => e.Records[0].cf.request;";

fn config(s: &Settings, origin_port: &str) -> anyhow::Result<String> {
    let limit = |max: f64| s.duration.as_secs_f64().clamp(1.0, max);
    let dir = &s.work_dir;
    let (spin, pass) = (
        write_fn(dir, "runaway-spin.js", SPIN)?,
        write_fn(dir, "runaway-pass.js", PASS)?,
    );
    Ok(format!(
        r#"[node]
access_log = false
viewer_function_timeout = {viewer}
origin_function_timeout = {origin}

[[distributions]]
[[distributions.Origins]]
Id = "o"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {origin_port}
OriginProtocolPolicy = "http-only"

[distributions.DefaultCacheBehavior]
TargetOriginId = "o"
[distributions.DefaultCacheBehavior.CachePolicy]
QueryStringBehavior = "all"
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "viewer-request"
File = {pass:?}

[[distributions.CacheBehaviors]]
PathPattern = "/spin*"
TargetOriginId = "o"
[[distributions.CacheBehaviors.LambdaFunctionAssociations]]
EventType = "viewer-request"
File = {spin:?}

[[distributions.CacheBehaviors]]
PathPattern = "/slow*"
TargetOriginId = "o"
[[distributions.CacheBehaviors.LambdaFunctionAssociations]]
EventType = "origin-response"
File = {spin:?}
"#,
        viewer = limit(5.0),
        origin = limit(30.0),
    ))
}

pub async fn run(s: &Settings) -> anyhow::Result<Value> {
    let origin = start_origin(s)?;
    let port = origin.ready["http"]
        .rsplit(':')
        .next()
        .unwrap_or("0")
        .to_string();
    let cfg = write_fn(&s.work_dir, "runaway.toml", &config(s, &port)?)?;
    let node = start(&s.edge_bin, &node_args(&["--config", &cfg]))?;
    let addr: SocketAddr = node.ready["http"]
        .parse()
        .map_err(|e| anyhow::anyhow!("bad address: {e}"))?;
    let spec = |path: &str, connections: usize| LoadSpec {
        connections,
        ..s.load(addr, path)
    };
    let healthy = spec(HIT_PATH, s.connections);
    let pid = node.child.id();
    let pinned = pin(&[pid], &[origin.child.id(), std::process::id()]);
    let idle = measure(&healthy, || vec![pid]).await;
    // Two clients on each runaway path, each sending its next request when the last one is
    // answered (by the limit's 503); stopped when the measured part ends.
    let hammer: Vec<_> = ["spin", "slow", "spin", "slow"]
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let base = format!("http://{addr}/{p}/{i}-");
            tokio::spawn(async move {
                for n in 0u64.. {
                    if load::fetch(http::Method::GET, &format!("{base}{n}"))
                        .await
                        .is_err()
                    {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            })
        })
        .collect();
    let mut v = measure(&healthy, || vec![pid]).await;
    unpin();
    for h in &hammer {
        h.abort();
    }
    let p99 = |r: &Value| r["latency_us"]["p99"].as_f64().unwrap_or(0.0);
    v["kind"] = json!("runaway");
    v["pinned"] = json!(pinned);
    // No healthy hit answered at all: every one waited on a runaway for longer than the run.
    v["p99_vs_idle"] = match v["requests"].as_u64() {
        Some(0) | None => Value::Null,
        Some(_) => json!(p99(&v) / p99(&idle).max(1.0)),
    };
    v["idle"] = idle;
    Ok(v)
}
