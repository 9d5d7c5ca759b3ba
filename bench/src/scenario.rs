//! Scenarios: each starts the mock origin and an edge node as real processes on loopback
//! (port 0), warms them, drives load with `load::run`, and reads the edge's CPU time from
//! /proc so the report gives CPU per request as well as latency.

use crate::load::{self, LoadSpec};
pub(crate) use crate::pinning::{pin, unpin};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// One scenario: its name, the nginx peer run beside it, whether it measures your functions
/// (`--function`/`--config`), and what it measures.
pub struct Scenario {
    pub name: &'static str,
    pub peer: Option<&'static str>,
    pub yours: bool,
    pub about: &'static str,
}

const fn scenario(name: &'static str, about: &'static str) -> Scenario {
    Scenario {
        name,
        peer: None,
        yours: false,
        about,
    }
}

/// Every scenario this harness knows, in report order (`publish-N` runs with any N edges).
pub const SCENARIOS: [Scenario; 19] = [
    Scenario {
        peer: Some("plain"),
        ..scenario("hit", "cache hits of a 1 KiB object, HTTP/1.1 keep-alive")
    },
    Scenario {
        peer: Some("plain"),
        ..scenario(
            "hit-logged",
            "cache hits with CloudFront's standard access log written to a file (compare with hit)",
        )
    },
    Scenario {
        peer: Some("njs"),
        ..scenario(
            "hit-functions",
            "hits through a trivial viewer-request and viewer-response",
        )
    },
    Scenario {
        peer: Some("njs"),
        ..scenario(
            "cff-hit",
            "hits through a trivial CloudFront function at viewer-request and at viewer-response",
        )
    },
    scenario(
        "miss-four-stages",
        "misses through a trivial function at every stage",
    ),
    scenario("generated", "answers generated at viewer-request"),
    scenario("geo", "hits that add CloudFront's geo headers"),
    scenario("h1-no-keepalive", "hits on a new connection each"),
    scenario("tls", "hits over TLS (HTTP/1.1)"),
    scenario("h2", "hits over HTTP/2 prior knowledge"),
    scenario("h2-tls", "hits over HTTP/2 and TLS"),
    scenario(
        "cold-evicted",
        "a function's first call after its isolates were recycled",
    ),
    scenario(
        "runaway",
        "healthy hits while looping functions are hammered",
    ),
    scenario("regions", "hit and miss latency per simulated POP"),
    scenario("publish-3", "publish to Deployed on 3 edges"),
    scenario("publish-10", "publish to Deployed on 10 edges"),
    scenario("publish-50", "publish to Deployed on 50 edges"),
    Scenario {
        yours: true,
        ..scenario("yours-hit", "what your functions add to hits")
    },
    Scenario {
        yours: true,
        ..scenario("yours-miss", "what your functions add to misses")
    },
];

/// The scenario named `name`, or `None`; `publish-N` for any N > 0 is `Some` too.
pub fn find(name: &str) -> Option<&'static Scenario> {
    if let Some(s) = SCENARIOS.iter().find(|s| s.name == name) {
        return Some(s);
    }
    static PUBLISH_N: Scenario = scenario("publish-N", "publish to Deployed on N edges");
    crate::deploy::edges_of(name)
        .filter(|n| *n > 0)
        .map(|_| &PUBLISH_N)
}

/// Every scenario name, comma-separated (for messages).
pub fn names() -> String {
    SCENARIOS.map(|s| s.name).join(", ")
}

/// How hard and how long to push.
#[derive(Debug, Clone)]
pub struct Settings {
    pub edge_bin: PathBuf,
    pub work_dir: PathBuf,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub rate: Option<f64>,
    /// DB-IP or MaxMind databases for the geo scenario (skipped without).
    pub geo_db: Vec<PathBuf>,
    /// Your functions (stage, file) for the `yours-*` scenarios.
    pub functions: Vec<(String, PathBuf)>,
    /// Your configuration for the `yours-*` scenarios (instead of `functions`) and the POPs of
    /// `regions`, as the CLI read it.
    pub config: Option<YourConfig>,
    /// The path (and query) the `yours-*` scenarios request.
    pub path: Option<String>,
}

/// A configuration file of yours, read by the CLI (this crate drives the product only through
/// its processes and HTTP, and does not read its configuration format).
#[derive(Clone)]
pub struct YourConfig {
    pub path: PathBuf,
    /// The stages (`viewer-request`, ...) whose functions some behavior associates.
    pub stages: Vec<String>,
    /// Its `[[pops]]`, if any.
    pub pops: Vec<Pop>,
    /// Writes a copy into the given directory whose loopback origins go to the given port (the
    /// run's mock origin) and whose relative paths still resolve; returns the copy's path.
    #[allow(clippy::type_complexity)]
    pub copy_for_origin: Arc<dyn Fn(&Path, u16) -> anyhow::Result<PathBuf> + Send + Sync>,
}

impl std::fmt::Debug for YourConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YourConfig")
            .field("path", &self.path)
            .field("stages", &self.stages)
            .field("pops", &self.pops)
            .finish_non_exhaustive()
    }
}

/// A POP and its simulated distances.
#[derive(Debug, Clone)]
pub struct Pop {
    pub name: String,
    pub viewer_rtt: Duration,
    pub origin_rtt: Duration,
}

impl Settings {
    /// A closed-loop (or `--rate`) HTTP/1.1 load on `path` with these settings.
    pub(crate) fn load(&self, addr: SocketAddr, path: &str) -> LoadSpec {
        LoadSpec {
            addr,
            path: path.to_string(),
            headers: vec![],
            connections: self.connections,
            warmup: self.warmup,
            duration: self.duration,
            rate: self.rate,
            http2: false,
            tls: None,
        }
    }
}

/// A 1 KiB object the origin lets caches keep for ten minutes: after the first, a hit.
pub(crate) const HIT_PATH: &str = "/bytes/1024?cache_control=max-age%3D600";
/// A 1 KiB object never stored, with a unique query per request: always a miss.
pub(crate) const MISS_PATH: &str = "/bytes/1024?cache_control=no-store&n={n}";

/// The mock origin on a free loopback port.
pub(crate) fn start_origin(s: &Settings) -> anyhow::Result<Running> {
    start(&s.edge_bin, &owned(&["origin", "--listen", "127.0.0.1:0"]))
}

/// `edge node` on a free loopback port, one worker, no access log, then `extra`.
pub(crate) fn node_args(extra: &[&str]) -> Vec<String> {
    let mut args = owned(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--access-log",
        "off",
        "--workers",
        "1",
    ]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// The median of `v` (0 when empty).
pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub(crate) struct Running {
    pub child: Child,
    pub ready: HashMap<String, String>,
}

impl Running {
    /// Stops the process as an operator would (SIGTERM: a node writes what it still holds, such
    /// as its access log, before it exits), killing it if it has not exited within 10 s.
    pub(crate) fn stop(mut self) {
        use nix::sys::signal::{kill, Signal};
        let Some(pid) = i32::try_from(self.child.id())
            .ok()
            .map(nix::unistd::Pid::from_raw)
        else {
            return;
        };
        let _ = kill(pid, Signal::SIGTERM);
        let child = &mut self.child;
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            s.spawn(move || {
                let _ = child.wait();
                let _ = tx.send(());
            });
            if rx.recv_timeout(Duration::from_secs(10)).is_err() {
                let _ = kill(pid, Signal::SIGKILL);
            }
        });
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(bin: &Path, args: &[String]) -> anyhow::Result<Running> {
    let mut child = Command::new(bin)
        .args(args)
        .env("EDGE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
    let out = child.stdout.take().expect("piped");
    let ready = edge_client::process::wait_ready(out, None, |_| {})
        .map_err(|e| anyhow::anyhow!("{} {}: {e}", bin.display(), args.join(" ")))?;
    Ok(Running { child, ready })
}

/// User + system CPU time of a process (all threads), from /proc.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // Linux reports in USER_HZ, 100 per second on every platform this runs on.
    Duration::from_millis(ticks * 10)
}

pub(crate) fn write_fn(dir: &Path, name: &str, source: &str) -> anyhow::Result<String> {
    let p = dir.join(name);
    std::fs::write(&p, source).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    Ok(p.display().to_string())
}

pub(crate) const VREQ: &str = "exports.handler = async (e) => { const r = e.Records[0].cf.request; r.headers['x-experiment'] = [{ key: 'X-Experiment', value: 'b' }]; return r; };";
pub(crate) const VRES: &str = "exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-hook'] = [{ key: 'X-Hook', value: 'lambda' }]; return r; };";
const CFF_VREQ: &str = "function handler(event) { return event.request; }";
const CFF_VRES: &str = "function handler(event) { var r = event.response; r.headers['x-hook'] = { value: 'cff' }; return r; }";
const PASS_REQ: &str = "exports.handler = async (e) => e.Records[0].cf.request;";
const PASS_RES: &str = "exports.handler = async (e) => e.Records[0].cf.response;";
const GENERATE: &str = "exports.handler = async () => ({ status: '200', headers: { 'content-type': [{ value: 'text/plain' }] }, body: 'generated at the edge' });";

/// Runs one scenario; the JSON is one entry of the report.
pub async fn run(name: &str, s: &Settings) -> anyhow::Result<Value> {
    std::fs::create_dir_all(&s.work_dir)
        .map_err(|e| anyhow::anyhow!("cannot make {}: {e}", s.work_dir.display()))?;
    if let Some(edges) = crate::deploy::edges_of(name) {
        // Rounds scale with the measured duration (a smoke run does two).
        let rounds = (s.duration.as_secs_f64() * 2.0).clamp(2.0, 15.0) as usize;
        return crate::deploy::run(edges, rounds, s).await;
    }
    if find(name).is_some_and(|s| s.yours) {
        return crate::yours::run(name, s).await;
    }
    if name == "regions" {
        return crate::regions::run(s).await;
    }
    if name == "runaway" {
        return crate::runaway::run(s).await;
    }
    if name == "cold-evicted" {
        let rounds = (s.duration.as_secs_f64() * 2.0).clamp(2.0, 15.0) as usize;
        return crate::cold::run(rounds, s).await;
    }
    let origin = start_origin(s)?;
    let origin_url = format!("http://{}", origin.ready["http"]);
    let mut args = node_args(&["--origin", &origin_url, "--server-timing"]);
    let mut path = HIT_PATH.to_string();
    let mut headers = vec![];
    let mut keepalive = true;
    let (mut http2, mut tls) = (false, None);
    let dir = &s.work_dir;
    match name {
        "hit" => {}
        "hit-logged" => {
            let file = dir.join("access.log");
            let _ = std::fs::remove_file(&file);
            // node_args turned it off: turn it on.
            if let Some(i) = args.iter().position(|a| a == "--access-log") {
                args[i + 1] = "on".into();
            }
            args.extend([
                "--access-log-format".into(),
                "cloudfront".into(),
                "--access-log-file".into(),
                file.display().to_string(),
            ]);
        }
        "hit-functions" => {
            args.extend([
                "--function".into(),
                format!("viewer-request={}", write_fn(dir, "vreq.js", VREQ)?),
            ]);
            args.extend([
                "--function".into(),
                format!("viewer-response={}", write_fn(dir, "vres.js", VRES)?),
            ]);
        }
        "cff-hit" => {
            for (stage, file, src) in [
                ("viewer-request", "cff-vreq.js", CFF_VREQ),
                ("viewer-response", "cff-vres.js", CFF_VRES),
            ] {
                args.extend([
                    "--cloudfront-function".into(),
                    format!("{stage}={}", write_fn(dir, file, src)?),
                ]);
            }
        }
        "miss-four-stages" => {
            for (stage, file, src) in [
                ("viewer-request", "pass-vreq.js", PASS_REQ),
                ("origin-request", "pass-oreq.js", PASS_REQ),
                ("origin-response", "pass-ores.js", PASS_RES),
                ("viewer-response", "pass-vres.js", PASS_RES),
            ] {
                args.extend([
                    "--function".into(),
                    format!("{stage}={}", write_fn(dir, file, src)?),
                ]);
            }
            path = MISS_PATH.into();
        }
        "generated" => {
            args.extend([
                "--function".into(),
                format!("viewer-request={}", write_fn(dir, "generate.js", GENERATE)?),
            ]);
            path = "/generated".into();
        }
        "geo" => {
            if s.geo_db.is_empty() {
                return Ok(
                    json!({ "skipped": "no geo database (give --geo-db or run beside ../shared/geo)" }),
                );
            }
            args.push("--dev".into());
            for g in &s.geo_db {
                args.extend(["--geo-db".into(), g.display().to_string()]);
            }
            // The country is in the key only when a policy names it; the shortcut forwards
            // them all, so every miss looks them up: vary the URL to make misses.
            path = MISS_PATH.into();
            headers.push(("x-edge-viewer-ip".to_string(), "81.2.69.142".to_string()));
        }
        "h1-no-keepalive" => keepalive = false,
        // Cache hits over TLS (HTTP/1.1), HTTP/2 prior knowledge, and HTTP/2 over TLS: compare
        // with `hit` (plain HTTP/1.1) in the same run.
        "tls" | "h2" | "h2-tls" => {
            http2 = name.starts_with("h2");
            if name.ends_with("tls") {
                let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])?;
                let (cert, key) = (ck.cert.pem(), ck.key_pair.serialize_pem());
                args.extend([
                    "--tls-listen".into(),
                    "127.0.0.1:0".into(),
                    "--tls-cert".into(),
                    write_fn(dir, "cert.pem", &cert)?,
                    "--tls-key".into(),
                    write_fn(dir, "key.pem", &key)?,
                ]);
                tls = Some(load::tls_trusting(&cert)?);
            }
        }
        other => {
            return Err(anyhow::anyhow!(
                "unknown scenario {other:?} (known: {})",
                names()
            ))
        }
    }
    if !keepalive {
        headers.push(("connection".to_string(), "close".to_string()));
    }
    let node = start(&s.edge_bin, &args)?;
    let addr: SocketAddr = node.ready[if tls.is_some() { "tls" } else { "http" }]
        .parse()
        .map_err(|e| anyhow::anyhow!("bad address: {e}"))?;
    let spec = LoadSpec {
        headers,
        http2,
        tls,
        ..s.load(addr, &path)
    };
    let pid = node.child.id();
    let pinned = pin(&[pid], &[origin.child.id(), std::process::id()]);
    let mut v = measure(&spec, || vec![pid]).await;
    unpin();
    v["pinned"] = json!(pinned);
    if name == "hit-logged" {
        // Every record the node logged: it hands them to the file in batches, and writes what
        // it still holds when it is stopped.
        node.stop();
        let file = dir.join("access.log");
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        v["access_log_records"] = json!(text.lines().filter(|l| !l.starts_with('#')).count());
    }
    Ok(v)
}

/// Warms up, then runs `spec` while reading the CPU time of the processes `pids` returns:
/// one report entry.
pub(crate) async fn measure(spec: &LoadSpec, pids: impl Fn() -> Vec<u32>) -> Value {
    // Fill the cache and warm every worker before measuring.
    let _ = load::run(&LoadSpec {
        warmup: Duration::ZERO,
        duration: Duration::from_millis(50),
        ..spec.clone()
    })
    .await;
    let cpu_all = || pids().into_iter().map(cpu).sum::<Duration>();
    // CPU is read when the measured part starts (after the warm-up) and when it ends, so it
    // covers the same requests as the count.
    let measure_from = tokio::time::Instant::now() + spec.warmup;
    let (r, cpu0) = tokio::join!(load::run(spec), async {
        tokio::time::sleep_until(measure_from).await;
        cpu_all()
    });
    let cpu1 = cpu_all();
    let q = |p: f64| r.latency.value_at_quantile(p);
    json!({
        "requests": r.requests,
        "requests_per_sec": r.requests_per_sec(),
        "latency_us": { "p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "p999": q(0.999), "max": r.latency.max() },
        "errors": r.errors,
        "x_cache": r.x_cache,
        "stages_us": r.stages_us,
        "cpu_us_per_req": cpu1.saturating_sub(cpu0).as_secs_f64() * 1e6 / (r.requests.max(1) as f64),
        "connections": spec.connections,
        "mode": if spec.rate.is_some() { "open" } else { "closed" },
    })
}
