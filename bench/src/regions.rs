//! Geography: what the edge saves viewers in each region. Each POP (the `[[pops]]` of
//! `--config`, else a built-in set) runs as an edge node that simulates its viewer ↔ edge and
//! edge ↔ origin round trips; a second node stands in for going straight to the origin (one
//! viewer ↔ origin round trip of both added together, nothing cached). Every sample is a new
//! viewer connection, as a viewer's first request is. Hits, misses and direct requests are
//! timed end to end by the client.

use crate::load::get_headers;
use crate::scenario::Pop;
use crate::scenario::{median, node_args, start, start_origin, Settings, HIT_PATH, MISS_PATH};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Illustrative distances for an origin in us-east-1 (viewer ↔ POP, POP ↔ origin, ms).
const DEFAULT_POPS: [(&str, f64, f64); 4] = [
    ("IAD89-C1", 4.0, 2.0),
    ("FRA56-C1", 6.0, 90.0),
    ("NRT57-C1", 5.0, 150.0),
    ("SYD62-C1", 6.0, 200.0),
];

fn pops(s: &Settings) -> Vec<Pop> {
    if let Some(c) = s.config.as_ref().filter(|c| !c.pops.is_empty()) {
        return c.pops.clone();
    }
    DEFAULT_POPS
        .iter()
        .map(|(name, v, o)| Pop {
            name: name.to_string(),
            viewer_rtt: Duration::from_secs_f64(v / 1e3),
            origin_rtt: Duration::from_secs_f64(o / 1e3),
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median time (ms) of `n` concurrent GETs, each on a new connection; `url` may hold `{n}`.
async fn sample(url: &str, n: usize) -> anyhow::Result<f64> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let url = url.replace("{n}", &NEXT.fetch_add(1, Ordering::Relaxed).to_string());
            tokio::spawn(async move {
                let t0 = Instant::now();
                get_headers(&url).await.map(|_| ms(t0.elapsed()))
            })
        })
        .collect();
    let mut times = Vec::with_capacity(n);
    for t in tasks {
        times.push(t.await??);
    }
    Ok(median(&mut times))
}

/// Makes miss URLs unique across calls.
static NEXT: AtomicU64 = AtomicU64::new(0);

pub async fn run(s: &Settings) -> anyhow::Result<Value> {
    let links = pops(s);
    let samples = (s.duration.as_secs_f64() * 4.0).clamp(3.0, 20.0) as usize;
    let origin = start_origin(s)?;
    let origin_url = format!("http://{}", origin.ready["http"]);
    let node = |pop: &str, viewer: f64, origin_rtt: f64| {
        node_args(&[
            "--origin",
            &origin_url,
            "--pop",
            pop,
            "--viewer-rtt-ms",
            &viewer.to_string(),
            "--origin-rtt-ms",
            &origin_rtt.to_string(),
        ])
    };
    let mut rows = Vec::new();
    for l in &links {
        let (v, o) = (ms(l.viewer_rtt), ms(l.origin_rtt));
        let edge = start(&s.edge_bin, &node(&l.name, v, o))?;
        let direct = start(&s.edge_bin, &node(&l.name, v + o, 0.0))?;
        let (e, d) = (
            format!("http://{}", edge.ready["http"]),
            format!("http://{}", direct.ready["http"]),
        );
        get_headers(&format!("{e}{HIT_PATH}")).await?;
        let hit = sample(&format!("{e}{HIT_PATH}"), samples).await?;
        let miss = sample(&format!("{e}{MISS_PATH}"), samples).await?;
        let straight = sample(&format!("{d}{MISS_PATH}"), samples).await?;
        rows.push(json!({
            "pop": l.name,
            "viewer_rtt_ms": v,
            "origin_rtt_ms": o,
            "hit_ms": hit,
            "miss_ms": miss,
            "direct_ms": straight,
            "saved_hit_ms": straight - hit,
            "saved_miss_ms": straight - miss,
        }));
    }
    Ok(json!({ "kind": "regions", "samples": samples, "pops": rows }))
}
