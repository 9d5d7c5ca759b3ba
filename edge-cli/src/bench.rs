//! `edge bench`: the scenarios to run, your functions or configuration, and the report.

use anyhow::{anyhow, bail, Result};
use edge_node::config::{self};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// A scenario to run (repeatable); `--list` shows them all (publish-N takes any N edges;
    /// yours-hit and yours-miss need --function or --config).
    #[arg(long = "scenario")]
    scenarios: Vec<String>,
    /// List the scenarios and what each measures.
    #[arg(long)]
    list: bool,
    /// Run every scenario.
    #[arg(long)]
    all: bool,
    /// Where report.json and report.html go.
    #[arg(long, default_value = "report")]
    out: PathBuf,
    /// Seconds measured per scenario.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Open loop at this many requests per second (default: closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Geo databases for the geo scenario (default: DB-IP Lite from ../shared/geo).
    #[arg(long = "geo-db", value_name = "FILE")]
    geo_db: Vec<PathBuf>,
    /// Do not run nginx side by side even when it is installed.
    #[arg(long)]
    no_peers: bool,
    /// Side by side, run ours and nginx this many times, interleaved; ratios are the median
    /// of the rounds' ratios.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Your function at a stage of the default behavior (repeatable): the yours-hit and
    /// yours-miss scenarios report what each adds over the same load without it.
    #[arg(
        long = "function",
        value_name = "STAGE=FILE",
        conflicts_with = "config"
    )]
    functions: Vec<String>,
    /// Your configuration: yours-hit and yours-miss report what each stage's functions add
    /// (loopback origins are pointed at the bench's mock origin).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The path (and query) yours-hit and yours-miss request (default: a 1 KiB object).
    #[arg(long)]
    path: Option<String>,
    /// An earlier run's report.json: the report shows each scenario's change against it and
    /// flags regressions beyond the noise.
    #[arg(long, value_name = "REPORT_JSON")]
    baseline: Option<PathBuf>,
}

/// What `edge bench` needs from a configuration file of yours: its stages with functions, its
/// POPs, and a way to write a copy pointed at the run's mock origin.
fn your_config(path: &std::path::Path) -> Result<edge_bench::scenario::YourConfig> {
    let file = config::ConfigFile::read(path)?;
    let cfg = file.parse()?;
    let stages = edge_node::lambda::Stage::ALL
        .into_iter()
        .filter(|st| {
            cfg.distributions.iter().any(|d| {
                d.behaviors
                    .iter()
                    .any(|b| b.functions[st.index()].is_some())
            })
        })
        .map(|st| st.as_str().to_string())
        .collect();
    let pops = cfg
        .node
        .pops
        .iter()
        .map(|p| edge_bench::scenario::Pop {
            name: p.name.clone(),
            viewer_rtt: p.viewer_rtt,
            origin_rtt: p.origin_rtt,
        })
        .collect();
    let file = std::sync::Arc::new(file);
    Ok(edge_bench::scenario::YourConfig {
        path: path.to_path_buf(),
        stages,
        pops,
        copy_for_origin: std::sync::Arc::new(move |dir, port| Ok(file.copy_for_origin(dir, port)?)),
    })
}

pub async fn run(a: BenchArgs) -> Result<()> {
    let baseline: Option<(PathBuf, serde_json::Value)> = match &a.baseline {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow!("--baseline {}: {e}", p.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| anyhow!("--baseline {}: not a report.json ({e})", p.display()))?;
            if !v["scenarios"].is_object() {
                bail!(
                    "--baseline {}: not a report.json (no \"scenarios\")",
                    p.display()
                );
            }
            Some((p.clone(), v))
        }
    };
    let yours = !a.functions.is_empty() || a.config.is_some();
    if let Some(p) = &a.path {
        if !p.starts_with('/')
            || p.replace("{n}", "0")
                .parse::<http::uri::PathAndQuery>()
                .is_err()
        {
            bail!("--path {p:?} must be a path and optional query, like /images/a.jpg?w=100");
        }
    }
    let mut functions = Vec::new();
    for spec in &a.functions {
        let (stage, file) = spec
            .split_once('=')
            .filter(|(st, _)| edge_node::lambda::Stage::parse(st).is_some())
            .ok_or_else(|| anyhow!("--function {spec:?}: expected STAGE=FILE with STAGE one of viewer-request, origin-request, origin-response, viewer-response"))?;
        let file = PathBuf::from(file);
        config::load_function(&file, None, "--function")?;
        functions.push((stage.to_string(), file.canonicalize()?));
    }
    use edge_bench::scenario::{find, names as all_names, SCENARIOS};
    if a.list {
        for s in &SCENARIOS {
            println!("{:18} {}", s.name, s.about);
        }
        return Ok(());
    }
    let names: Vec<String> = if a.all || a.scenarios.is_empty() && yours {
        SCENARIOS
            .iter()
            .filter(|s| if a.all { !s.yours || yours } else { s.yours })
            .map(|s| s.name.to_string())
            .collect()
    } else if a.scenarios.is_empty() {
        bail!(
            "give --scenario NAME (repeatable) or --all; scenarios: {}",
            all_names()
        )
    } else {
        a.scenarios.clone()
    };
    for n in &names {
        match find(n) {
            None => bail!("unknown scenario {n:?}; scenarios: {}", all_names()),
            Some(s) if s.yours && !yours => bail!(
                "scenario {n} measures your functions: give --function STAGE=FILE or --config FILE"
            ),
            Some(_) => {}
        }
    }
    if !(a.duration > 0.0 && a.warmup >= 0.0 && a.connections > 0 && a.rounds > 0)
        || a.rate.is_some_and(|r| r <= 0.0)
    {
        bail!(
            "--duration, --connections and --rounds must be positive, --warmup not negative, --rate positive"
        );
    }
    let geo_db = if a.geo_db.is_empty() {
        crate::geodata::find()?
    } else {
        a.geo_db.clone()
    };
    let settings = edge_bench::scenario::Settings {
        edge_bin: std::env::current_exe()?,
        work_dir: a.out.join("work"),
        connections: a.connections,
        warmup: std::time::Duration::from_secs_f64(a.warmup),
        duration: std::time::Duration::from_secs_f64(a.duration),
        rate: a.rate,
        geo_db,
        functions,
        config: a.config.as_deref().map(your_config).transpose()?,
        path: a.path.clone(),
    };
    let peers_dir = if a.no_peers {
        None
    } else {
        edge_bench::peer::peers_dir()
    };
    if peers_dir.is_none() && !a.no_peers {
        println!("(nginx or ../shared/peers/nginx-edge.sh not found: no side-by-side peer)");
    }
    let mut results = Vec::new();
    let mut peers = Vec::new();
    for name in &names {
        let peer = peers_dir.as_deref().zip(edge_bench::peer::peer_for(name));
        let (v, pv) = edge_bench::peer::run_side_by_side(name, peer, a.rounds, &settings)
            .await
            .map_err(|e| anyhow!("scenario {name}: {e}"))?;
        print!("{}", edge_bench::report::summary(name, &v));
        if let (Some((_, variant)), Some(pv)) = (peer, pv) {
            match pv {
                Ok(pv) => {
                    print!(
                        "{}",
                        edge_bench::report::peer_summary(&format!("nginx-{variant}"), &v, &pv)
                    );
                    peers.push((name.clone(), format!("nginx-{variant}"), pv));
                }
                Err(e) => println!("  nginx-{variant}: not measured: {e}"),
            }
        }
        results.push((name.clone(), v));
    }
    let pinned = results
        .iter()
        .any(|(_, v)| v["pinned"].as_bool().unwrap_or(false));
    let settings_json = serde_json::json!({
        "connections": a.connections, "duration_s": a.duration, "warmup_s": a.warmup,
        "mode": if a.rate.is_some() { "open" } else { "closed" }, "rate": a.rate,
        "rounds": a.rounds,
        "run": edge_bench::report::run_metadata(pinned),
    });
    edge_bench::report::write(&a.out, &results, &peers, settings_json, baseline.as_ref())?;
    if let Some(b) = &baseline {
        print!("{}", edge_bench::report::baseline_summary(&results, b));
    }
    println!(
        "report: {} and {}",
        a.out.join("report.json").display(),
        a.out.join("report.html").display()
    );
    Ok(())
}
