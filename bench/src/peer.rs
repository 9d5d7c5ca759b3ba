//! Side by side: our scenario and nginx (`../shared/peers/nginx-edge.sh`) in interleaved
//! rounds on the same cores, and the round with the median ratio.

use crate::scenario::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Runs scenario `name`, and with a peer (`nginx-edge.sh`'s directory and variant) runs ours
/// and the peer `rounds` times, interleaved, so both see the same machine. Returns our result
/// and the peer's from the round with the median throughput ratio; ours then holds
/// `side_by_side` with every round's ratios (ours / nginx).
pub async fn run_side_by_side(
    name: &str,
    peer: Option<(&Path, &str)>,
    rounds: usize,
    s: &Settings,
) -> anyhow::Result<(Value, Option<anyhow::Result<Value>>)> {
    let v = run(name, s).await?;
    let Some((dir, variant)) = peer.filter(|_| v.get("skipped").is_none()) else {
        return Ok((v, None));
    };
    let ratio = |a: &Value, b: &Value, k: &str| {
        a[k].as_f64().unwrap_or(0.0) / b[k].as_f64().unwrap_or(0.0).max(1e-9)
    };
    let mut runs = Vec::new();
    let mut ours = Some(v);
    for _ in 0..rounds.max(1) {
        let v = match ours.take() {
            Some(v) => v,
            None => run(name, s).await?,
        };
        match run_nginx(variant, dir, s).await {
            Ok(pv) => runs.push((v, pv)),
            Err(e) => return Ok((v, Some(Err(e)))),
        }
    }
    let rps: Vec<f64> = runs
        .iter()
        .map(|(v, p)| ratio(v, p, "requests_per_sec"))
        .collect();
    let cpu: Vec<f64> = runs
        .iter()
        .map(|(v, p)| ratio(v, p, "cpu_us_per_req"))
        .collect();
    let each = |k: &str, peer: bool| -> Vec<f64> {
        runs.iter()
            .map(|(v, p)| if peer { p } else { v }[k].as_f64().unwrap_or(0.0))
            .collect()
    };
    let rounds = json!({
        "requests_per_sec": each("requests_per_sec", false),
        "cpu_us_per_req": each("cpu_us_per_req", false),
        "peer_requests_per_sec": each("requests_per_sec", true),
        "peer_cpu_us_per_req": each("cpu_us_per_req", true),
    });
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|a, b| rps[*a].total_cmp(&rps[*b]));
    let (mut v, pv) = runs.swap_remove(order[order.len() / 2]);
    v["side_by_side"] = json!({
        "against": format!("nginx-{variant}"),
        "rounds": rps.len(),
        "requests_per_sec_ratios": rps,
        "cpu_us_per_req_ratios": cpu,
        "requests_per_sec_ratio": median(&mut rps.clone()),
        "cpu_us_per_req_ratio": median(&mut cpu.clone()),
        "each_round": rounds,
    });
    Ok((v, Some(Ok(pv))))
}

/// The nginx peer for a scenario, if it has one: plain proxy_cache for cache hits, proxy_cache
/// with one njs header hook for hits through functions.
pub fn peer_for(scenario: &str) -> Option<&'static str> {
    find(scenario).and_then(|s| s.peer)
}

/// Where `nginx-edge.sh` is: `EDGE_PEERS_DIR`, or `../shared/peers`; `None` without nginx.
pub fn peers_dir() -> Option<PathBuf> {
    let which = Command::new("sh")
        .args(["-c", "command -v nginx"])
        .output()
        .ok()?;
    if !which.status.success() {
        return None;
    }
    let dir = std::env::var_os("EDGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/peers"));
    dir.join("nginx-edge.sh").is_file().then_some(dir)
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The same load against nginx (`variant` plain or njs) in front of a fresh mock origin.
pub async fn run_nginx(variant: &str, peers: &Path, s: &Settings) -> anyhow::Result<Value> {
    let dir = s.work_dir.join(format!("nginx-{variant}"));
    std::fs::create_dir_all(&dir)?;
    // nginx's unprivileged worker must be able to reach its cache under a root-owned tree.
    let _ = Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(&s.work_dir)
        .status();
    let origin = start_origin(s)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())?
        .port();
    let out = Command::new(peers.join("nginx-edge.sh"))
        .args(["start"])
        .arg(&dir)
        .arg(port.to_string())
        .arg(&origin.ready["http"])
        .arg(variant)
        .output()
        .map_err(|e| anyhow::anyhow!("nginx-edge.sh: {e}"))?;
    if !out.status.success() {
        return Err(anyhow::anyhow!(
            "nginx did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let master: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("nginx-edge.sh printed no pid"))?;
    struct Stop(PathBuf, PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new(self.0.join("nginx-edge.sh"))
                .arg("stop")
                .arg(&self.1)
                .status();
        }
    }
    let _stop = Stop(peers.to_path_buf(), dir.clone());
    let addr: SocketAddr = format!("127.0.0.1:{port}")
        .parse()
        .expect("loopback address");
    // Wait for nginx to listen (it was started in the background by the script).
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        anyhow::bail!("nginx never listened");
    }
    let spec = s.load(addr, HIT_PATH);
    let pids = || {
        let mut p = vec![master];
        p.extend(children(master));
        p
    };
    let pinned = pin(&pids(), &[origin.child.id(), std::process::id()]);
    let mut v = measure(&spec, pids).await;
    unpin();
    v["pinned"] = json!(pinned);
    Ok(v)
}
