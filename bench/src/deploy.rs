//! Publish → Deployed: a control node and N edge nodes as real processes; each round puts new
//! code, publishes it, associates the version, and times until every edge reports it applied
//! (`edge status` says Deployed). Then the first request to an edge after the change is timed
//! against warm requests (no cold start on the request path: isolates are warmed on apply).

use crate::scenario::{median, start, start_origin, Settings};
use edge_client::control::Client;
use http::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token";

/// Scenario names: `publish-N` for N edges.
pub fn edges_of(name: &str) -> Option<usize> {
    name.strip_prefix("publish-")?.parse().ok()
}

pub async fn run(edges: usize, rounds: usize, s: &Settings) -> anyhow::Result<Value> {
    let work = s.work_dir.join(format!("publish-{edges}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let arg = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let origin = start_origin(s)?;
    let control = start(
        &s.edge_bin,
        &arg(&[
            "control",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &work.join("control").display().to_string(),
            "--token",
            TOKEN,
        ]),
    )?;
    let control_url = control.ready["url"].clone();
    let client = Client::trusting(
        &control_url,
        TOKEN,
        &edge_client::tls::Trust::Key(control.ready["key"].clone()),
    );
    let port = origin.ready["http"]
        .rsplit(':')
        .next()
        .unwrap_or("0")
        .to_string();
    let config = format!(
        "[[distributions]]\nId = \"EBENCH\"\n[[distributions.Origins]]\nId = \"o\"\nDomainName = \"127.0.0.1\"\n[distributions.Origins.CustomOriginConfig]\nHTTPPort = {port}\nOriginProtocolPolicy = \"http-only\"\n[distributions.DefaultCacheBehavior]\nTargetOriginId = \"o\"\n"
    );
    client
        .json(
            Method::PUT,
            "/v1/distributions/EBENCH",
            Some(&json!({"config": config})),
        )
        .await?;
    let mut nodes = Vec::new();
    for i in 0..edges {
        let pop = format!("B{i:02}-C1");
        nodes.push(start(
            &s.edge_bin,
            &arg(&[
                "node",
                "--listen",
                "127.0.0.1:0",
                "--pop",
                &pop,
                "--control",
                &control_url,
                "--control-key",
                &control.ready["key"],
                "--state-dir",
                &work.join(&pop).display().to_string(),
                "--token",
                TOKEN,
                "--workers",
                "1",
                "--access-log",
                "off",
                "--server-timing",
            ]),
        )?);
    }
    let first_edge = format!("http://{}", nodes[0].ready["http"]);
    // One cached object: every timed request is a cache hit that runs viewer-response.
    let url = format!("{first_edge}/bytes/64?cache_control=max-age%3D600");
    crate::load::get_headers(&url).await?;
    let mut deploy_ms: Vec<f64> = Vec::new();
    let mut first_us = Vec::new();
    let mut warm_us = Vec::new();
    let mut idle_us = Vec::new();
    // Round 0 only puts a first version in place; rounds 1..=rounds are measured.
    for round in 0..=rounds {
        // The reference for "first request after a publish": the first request after the same
        // idle time without any change (an idle thread's caches are cold either way).
        tokio::time::sleep(Duration::from_millis(200)).await;
        let h = crate::load::get_headers(&url).await?;
        if round > 0 {
            idle_us.push(crate::load::stage_us(&h, "viewer-response").unwrap_or(0.0));
        }
        let code = format!("exports.handler = async (e) => {{ const r = e.Records[0].cf.response; r.headers['x-round'] = [{{ value: '{round}' }}]; return r; }};");
        let t0 = Instant::now();
        let p = client.publish("stamp", code.as_bytes()).await?;
        let v = client
            .json(
                Method::POST,
                "/v1/associations",
                Some(&json!({"function": format!("stamp:{}", p.version), "stage": "viewer-response"})),
            )
            .await
            ?;
        let revision = v["revision"].as_u64().unwrap_or(0);
        loop {
            let st = client.status().await?;
            let done = st
                .edges
                .iter()
                .filter(|e| e.revision >= revision && e.state == "Deployed")
                .count();
            if done >= edges {
                break;
            }
            if t0.elapsed() > Duration::from_secs(120) {
                return Err(anyhow::anyhow!(
                    "only {done} of {edges} edges Deployed after 120 s"
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let took = t0.elapsed().as_secs_f64() * 1e3;
        // The first request after the change, then warm ones.
        // Timed on the edge (Server-Timing): the function's own time, without the client's
        // or the idle thread's wake-up.
        let h = crate::load::get_headers(&url).await?;
        let got = h.get("x-round").and_then(|v| v.to_str().ok()).unwrap_or("");
        if got != round.to_string() {
            return Err(anyhow::anyhow!(
                "edge served x-round {got:?} after round {round} was Deployed"
            ));
        }
        if round == 0 {
            continue;
        }
        deploy_ms.push(took);
        first_us.push(crate::load::stage_us(&h, "viewer-response").unwrap_or(0.0));
        for _ in 0..20 {
            let h = crate::load::get_headers(&url).await?;
            warm_us.push(crate::load::stage_us(&h, "viewer-response").unwrap_or(0.0));
        }
    }
    let max = deploy_ms.iter().copied().fold(0.0, f64::max);
    let all = deploy_ms.clone();
    drop(nodes);
    drop(control);
    drop(origin);
    Ok(json!({
        "kind": "deploy",
        "edges": edges,
        "publishes": rounds,
        "deploy_ms": {"p50": median(&mut deploy_ms), "max": max, "all": all},
        // viewer-response time on the edge: the first request after each change, and warm.
        "first_request_us": median(&mut first_us),
        "warm_request_p50_us": median(&mut warm_us),
        "idle_first_request_us": median(&mut idle_us),
    }))
}
