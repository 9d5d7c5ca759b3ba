//! Cold start after isolates are evicted: an edge node with a viewer-request and a
//! viewer-response function; each round evicts every isolate (`POST /__edge/recycle`, as when
//! execution environments are recycled), times how long making fresh ones took (what an
//! on-demand cold start would have added to a request), then times the first request served by
//! the fresh isolates against the first request after the same idle time without an eviction,
//! and against warm back-to-back requests. Function times are the edge's own (Server-Timing).

use crate::load::{fetch_with, get_headers, stage_us};
use crate::scenario::{
    median, node_args, start, start_origin, write_fn, Settings, HIT_PATH, VREQ, VRES,
};
use serde_json::{json, Value};
use std::time::Duration;

/// Both functions' time on one response.
fn hooks_us(h: &http::HeaderMap) -> f64 {
    stage_us(h, "viewer-request").unwrap_or(0.0) + stage_us(h, "viewer-response").unwrap_or(0.0)
}

pub async fn run(rounds: usize, s: &Settings) -> anyhow::Result<Value> {
    let origin = start_origin(s)?;
    let dir = &s.work_dir;
    let origin_url = format!("http://{}", origin.ready["http"]);
    let vreq = format!("viewer-request={}", write_fn(dir, "vreq.js", VREQ)?);
    let vres = format!("viewer-response={}", write_fn(dir, "vres.js", VRES)?);
    let token = "bench-admin-token";
    let args = node_args(&[
        "--admin-listen",
        "127.0.0.1:0",
        "--admin-token",
        token,
        "--origin",
        &origin_url,
        "--server-timing",
        "--function",
        &vreq,
        "--function",
        &vres,
    ]);
    let node = start(&s.edge_bin, &args)?;
    let url = format!("http://{}{HIT_PATH}", node.ready["http"]);
    let recycle = format!("http://{}/__edge/recycle", node.ready["admin"]);
    for _ in 0..20 {
        get_headers(&url).await?;
    }
    let (mut evicted, mut idle, mut warm, mut create_ms) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(200)).await;
        idle.push(hooks_us(&get_headers(&url).await?));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, _, body) = fetch_with(
            http::Method::POST,
            &recycle,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await?;
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        if !status.is_success() || v["isolates"].as_u64().unwrap_or(0) == 0 {
            return Err(anyhow::anyhow!(
                "recycling isolates failed: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        create_ms.push(v["ms"].as_f64().unwrap_or(0.0) / v["isolates"].as_f64().unwrap_or(1.0));
        evicted.push(hooks_us(&get_headers(&url).await?));
        for _ in 0..20 {
            warm.push(hooks_us(&get_headers(&url).await?));
        }
    }
    Ok(json!({
        "kind": "cold",
        "rounds": rounds,
        // viewer-request + viewer-response time on the edge (µs, medians over rounds).
        "first_after_eviction_us": median(&mut evicted),
        "first_after_idle_us": median(&mut idle),
        "warm_p50_us": median(&mut warm),
        // Creating and loading one isolate (ms): the cold start a request would pay if isolates
        // were made on demand. Here it happens before the fresh isolates take requests.
        "isolate_create_ms": median(&mut create_ms),
    }))
}
