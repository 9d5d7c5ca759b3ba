//! `edge`: the one user-facing binary. Each subcommand is a thin layer over a library crate.
//! Every long-running role prints one `ready …` line on stdout with its bound addresses once it
//! accepts connections (tests and `edge up` wait for it); logs go to stderr.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use edge_node::config::{self, NodeConfig};
use edge_node::server::{Listen, RunningNode};
use std::net::SocketAddr;
use std::path::PathBuf;

mod ctl;
mod geodata;
mod up;

#[derive(Parser)]
#[command(
    name = "edge",
    version,
    about = "CloudFront + Lambda@Edge on your machine"
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "EDGE_LOG_FORMAT")]
    log_format: LogFormat,
    /// Log filter (tracing's EnvFilter syntax), e.g. `info` or `edge::access=off,info`.
    #[arg(long, global = true, default_value = "info", env = "EDGE_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run an edge node: listeners, cache, origin client.
    Node(Box<NodeArgs>),
    /// Run the mock origin.
    Origin(OriginArgs),
    /// Run a local multi-node edge: a control node, the mock origin and N edge nodes.
    Up(up::UpArgs),
    /// Run the control node: function versions, associations, replication to every edge.
    Control(ctl::ControlArgs),
    /// Put a function's code and publish it as a new version; prints the version number.
    Publish(ctl::PublishArgs),
    /// Associate a published version with a stage of a cache behavior (every edge follows).
    Associate(ctl::AssociateArgs),
    /// Every edge's applied revision: InProgress or Deployed.
    Status(ctl::StatusArgs),
    /// Invalidate cached paths on every edge.
    Invalidate(ctl::InvalidateArgs),
    /// Undo a canary, or return a function's associations to their previous versions.
    Rollback(ctl::NameArgs),
    /// List a function's versions.
    Versions(ctl::NameArgs),
    /// Send an edge.toml's distributions to the control node, publishing and associating its
    /// function files.
    Deploy(ctl::DeployArgs),
    /// Measure latency, throughput and CPU per request, writing report.json and report.html.
    Bench(BenchArgs),
}

#[derive(clap::Args)]
struct BenchArgs {
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
}

#[derive(clap::Args)]
struct NodeArgs {
    /// Viewer listener (HTTP/1.1 and HTTP/2 prior knowledge).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Admin listener (health, invalidation).
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
    /// TLS viewer listener (ALPN h2 and http/1.1).
    #[arg(long)]
    tls_listen: Option<SocketAddr>,
    /// One distribution in front of this origin, forwarding everything.
    #[arg(long, conflicts_with_all = ["config", "control"])]
    origin: Option<String>,
    /// A TOML configuration file.
    #[arg(long, conflicts_with = "control")]
    config: Option<PathBuf>,
    /// Follow this control node (URL): distributions, functions and invalidations replicate
    /// from it; needs --pop.
    #[arg(long, requires = "pop")]
    control: Option<String>,
    /// Where a node following a control node keeps its last applied state and code
    /// (default: .edge/edges/POP).
    #[arg(long, requires = "control")]
    state_dir: Option<PathBuf>,
    /// The control node's bearer token.
    #[arg(long, env = "EDGE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// This node's POP name (X-Amz-Cf-Pop), like IAD89-C1.
    #[arg(long)]
    pop: Option<String>,
    /// Worker threads (one per core by default).
    #[arg(long)]
    workers: Option<usize>,
    /// Cache size in bytes.
    #[arg(long)]
    cache_bytes: Option<u64>,
    /// PEM certificate for the TLS listener (self-signed when absent).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<String>,
    /// PEM private key for the TLS listener.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<String>,
    /// Write one access-log line per request.
    #[arg(long, value_parser = ["on", "off"])]
    access_log: Option<String>,
    /// Associate a function file with a stage of the default behavior, e.g.
    /// `--function viewer-request=functions/ab-test.js` (repeatable).
    #[arg(long = "function", value_name = "STAGE=FILE")]
    functions: Vec<String>,
    /// Leave out the configuration's functions at STAGE, in every behavior (repeatable); `edge
    /// bench --config` uses it to measure what each stage's functions add.
    #[arg(long = "skip-stage", value_name = "STAGE")]
    skip_stages: Vec<String>,
    /// Expose the request body to the request-stage functions given with --function.
    #[arg(long)]
    include_body: bool,
    /// Add Server-Timing with each stage's duration to every response.
    #[arg(long)]
    server_timing: bool,
    /// A geo database (DB-IP Lite or MaxMind GeoIP2/GeoLite2 .mmdb); repeatable.
    #[arg(long = "geo-db", value_name = "FILE")]
    geo_db: Vec<PathBuf>,
    /// Dev mode: a request may name its viewer with `X-Edge-Viewer-Ip: IP`.
    #[arg(long)]
    dev: bool,
    /// In dev mode, the viewer IP of requests that do not name one.
    #[arg(long)]
    viewer_ip: Option<std::net::IpAddr>,
    /// Simulate this round trip (ms) to viewers: added to each response and to each new
    /// connection's handshake (default: the config's [[pops]] entry for this POP, else 0).
    #[arg(long, value_name = "MS")]
    viewer_rtt_ms: Option<f64>,
    /// Simulate this round trip (ms) to the origin, added to each origin fetch (default: the
    /// config's [[pops]] entry for this POP, else 0).
    #[arg(long, value_name = "MS")]
    origin_rtt_ms: Option<f64>,
    /// A proxy whose X-Forwarded-For is believed (IP or CIDR); repeatable.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<String>,
}

#[derive(clap::Args)]
struct OriginArgs {
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Serve files from this directory.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Serve TLS (self-signed unless --tls-cert/--tls-key).
    #[arg(long)]
    tls: bool,
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<String>,
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    let _log = init_logging(cli.log_format, &cli.log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(async move {
        match cli.command {
            Command::Node(a) => run_node(*a).await,
            Command::Origin(a) => run_origin(a).await,
            Command::Up(a) => up::run(a).await,
            Command::Bench(a) => run_bench(a).await,
            Command::Control(a) => ctl::run_control(a).await,
            Command::Publish(a) => ctl::publish(a).await,
            Command::Associate(a) => ctl::associate(a).await,
            Command::Status(a) => ctl::status(a).await,
            Command::Invalidate(a) => ctl::invalidate(a).await,
            Command::Rollback(a) => ctl::rollback(a).await,
            Command::Versions(a) => ctl::versions(a).await,
            Command::Deploy(a) => ctl::deploy_cmd(a).await,
        }
    });
    if let Err(e) = result {
        eprintln!("edge: {e:#}");
        std::process::exit(2);
    }
}

fn init_logging(format: LogFormat, filter: &str) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("edge: log filter {filter:?} is invalid ({e}); using info");
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder
            .with_writer(writer)
            .json()
            .flatten_event(true)
            .init(),
        LogFormat::Text => builder
            .with_writer(move || OneLine(writer.clone()))
            .with_ansi(false)
            .init(),
    }
    guard
}

/// Text logs hold one record per line: a line break inside a record (a function's
/// `console.log` of several lines, a stack trace) is written as `\n`, so that no record (a
/// function's output above all) can pose as another, such as an access-log line. The fmt
/// layer writes each record with one `write_all` of the whole line.
struct OneLine<W>(W);

impl<W: std::io::Write> std::io::Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let body = buf.strip_suffix(b"\n").unwrap_or(buf);
        if !body.iter().any(|&b| b == b'\n' || b == b'\r') {
            self.0.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut line = Vec::with_capacity(buf.len() + 16);
        for &b in body {
            match b {
                b'\n' => line.extend_from_slice(b"\\n"),
                b'\r' => line.extend_from_slice(b"\\r"),
                b => line.push(b),
            }
        }
        line.push(b'\n');
        self.0.write_all(&line)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
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

fn node_config(a: &NodeArgs) -> Result<NodeConfig> {
    let mut cfg = match (&a.origin, &a.config) {
        (Some(url), None) => config::from_origin_url(url)?,
        (None, Some(path)) => config::load_file(path)?,
        (None, None) if a.control.is_some() => config::parse_distributions("")?,
        (None, None) => bail!("give --origin URL, --config FILE or --control URL"),
        (Some(_), Some(_)) => unreachable!("clap refuses both"),
    };
    let n = &mut cfg.node;
    if let Some(pop) = &a.pop {
        if pop.is_empty() || !pop.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            bail!("--pop {pop:?} must be letters, digits and '-' (like IAD89-C1)");
        }
        n.pop = pop.clone();
        n.apply_pop_link();
    }
    for (flag, v, to) in [
        ("--viewer-rtt-ms", a.viewer_rtt_ms, &mut n.viewer_rtt),
        ("--origin-rtt-ms", a.origin_rtt_ms, &mut n.origin_rtt),
    ] {
        if let Some(ms) = v {
            if !(0.0..=10_000.0).contains(&ms) {
                bail!("{flag} must be between 0 and 10000, got {ms}");
            }
            *to = std::time::Duration::from_secs_f64(ms / 1e3);
        }
    }
    if let Some(w) = a.workers {
        n.workers = w;
    }
    if let Some(b) = a.cache_bytes {
        if b == 0 {
            bail!("--cache-bytes must be more than 0");
        }
        n.cache_bytes = b;
    }
    if a.tls_cert.is_some() {
        n.tls_cert = a.tls_cert.clone();
        n.tls_key = a.tls_key.clone();
    }
    if let Some(v) = &a.access_log {
        n.access_log = v == "on";
    }
    if a.server_timing {
        n.functions.server_timing = true;
    }
    if !a.geo_db.is_empty() {
        n.geo_db = a.geo_db.clone();
    }
    if a.dev {
        n.dev = true;
    }
    if a.viewer_ip.is_some() {
        n.viewer_ip = a.viewer_ip;
    }
    for c in &a.trusted_proxies {
        let net = c
            .parse::<ipnet::IpNet>()
            .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                anyhow!("--trusted-proxy {c:?} is not an IP or a network like 10.0.0.0/8")
            })?;
        n.trusted_proxies.push(net);
    }
    for stage in &a.skip_stages {
        let s = edge_node::lambda::Stage::parse(stage).ok_or_else(|| {
            anyhow!("--skip-stage {stage:?} is not one of viewer-request, origin-request, origin-response, viewer-response")
        })?;
        config::remove_functions(&mut cfg, s)?;
    }
    for spec in &a.functions {
        let (stage, file) = spec.split_once('=').ok_or_else(|| {
            anyhow!(
                "--function {spec:?}: expected STAGE=FILE, e.g. viewer-request=functions/hello.js"
            )
        })?;
        let stage = edge_node::lambda::Stage::parse(stage).ok_or_else(|| {
            anyhow!("--function {spec:?}: {stage:?} is not one of viewer-request, origin-request, origin-response, viewer-response")
        })?;
        let code = config::load_function(std::path::Path::new(file), "--function")?;
        let include_body = a.include_body && stage.is_request();
        config::add_function(&mut cfg, stage, code, include_body)?;
    }
    Ok(cfg)
}

async fn run_node(a: NodeArgs) -> Result<()> {
    let mut cfg = node_config(&a)?;
    let listen = Listen {
        http: a.listen,
        tls: a.tls_listen,
    };
    // A node following a control node starts from what it applied last, if anything.
    let replica = match &a.control {
        Some(url) => {
            let dir = a
                .state_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(".edge/edges").join(&cfg.node.pop));
            let store = edge_node::replica::LocalStore::open(&dir)?;
            let mut applied = 0;
            let mut code = Default::default();
            match store.load() {
                Ok(Some((state, saved))) => match state.compose(&cfg.node, &saved) {
                    Ok(c) => {
                        tracing::info!(revision = state.revision, dir = %dir.display(), "serving the last applied state until the control node answers");
                        cfg = c;
                        applied = state.revision;
                        code = saved;
                    }
                    Err(e) => {
                        tracing::error!(dir = %dir.display(), error = %e, "the saved state is unusable; starting empty")
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(dir = %dir.display(), error = %e, "the saved state is unreadable; starting empty")
                }
            }
            let token = a.token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
                anyhow!("--control needs the control node's token (--token or EDGE_TOKEN)")
            })?;
            Some((
                url.trim_end_matches('/').to_string(),
                token,
                store,
                applied,
                code,
            ))
        }
        None => None,
    };
    let node = RunningNode::start(cfg, &listen)?;
    let applied_at_start = replica.as_ref().map(|r| r.3);
    if let Some((control, token, store, applied, code)) = replica {
        let r = edge_node::replica::Replica {
            control,
            token,
            pop: node.shared.node.pop.to_string(),
            url: format!("http://{}", node.http),
            store,
            handle: node.handle.clone(),
            applied,
            code,
        };
        tokio::spawn(r.run());
    }
    let (stop_admin, admin_rx) = tokio::sync::watch::channel(false);
    let admin = match a.admin_listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = l.local_addr()?;
            let reload = Some(edge_node::admin::Reload {
                path: a.config.clone(),
                handle: node.handle.clone(),
            });
            tokio::spawn(edge_node::admin::serve(
                l,
                node.shared.clone(),
                reload,
                admin_rx,
            ));
            Some(bound)
        }
        None => None,
    };
    let opt = |a: Option<SocketAddr>| a.map_or("-".to_string(), |a| a.to_string());
    println!(
        "ready http={} admin={} tls={} pop={} revision={}",
        node.http,
        opt(admin),
        opt(node.tls),
        node.shared.node.pop,
        applied_at_start.map_or("-".to_string(), |r| r.to_string())
    );
    tracing::info!(http = %node.http, admin = %opt(admin), tls = %opt(node.tls), pop = %node.shared.node.pop, engine = edge_node::js::engine(), "edge node ready");
    if let Some(path) = a.config.clone() {
        // SIGHUP reloads the configuration file, like POST /__edge/reload.
        let handle = node.handle.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                match handle.reload_file(&path).await {
                    Ok(f) => {
                        tracing::info!(path = %path.display(), functions = f.len(), "configuration reloaded (SIGHUP)")
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "reload refused; the running configuration stays")
                    }
                }
            }
        });
    }
    wait_for_signal().await;
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    let _ = stop_admin.send(true);
    tokio::task::spawn_blocking(move || node.shutdown()).await?;
    Ok(())
}

async fn run_bench(a: BenchArgs) -> Result<()> {
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
        config::load_function(&file, "--function")?;
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
        geodata::find()?
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
        edge_bench::scenario::peers_dir()
    };
    if peers_dir.is_none() && !a.no_peers {
        println!("(nginx or ../shared/peers/nginx-edge.sh not found: no side-by-side peer)");
    }
    let mut results = Vec::new();
    let mut peers = Vec::new();
    for name in &names {
        let peer = peers_dir
            .as_deref()
            .zip(edge_bench::scenario::peer_for(name));
        let (v, pv) = edge_bench::scenario::run_side_by_side(name, peer, a.rounds, &settings)
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
    let settings_json = serde_json::json!({
        "connections": a.connections, "duration_s": a.duration, "warmup_s": a.warmup,
        "mode": if a.rate.is_some() { "open" } else { "closed" }, "rate": a.rate,
        "rounds": a.rounds,
    });
    edge_bench::report::write(&a.out, &results, &peers, settings_json)?;
    println!(
        "report: {} and {}",
        a.out.join("report.json").display(),
        a.out.join("report.html").display()
    );
    Ok(())
}

async fn run_origin(a: OriginArgs) -> Result<()> {
    let (listener, addr) = origin_mock::bind(a.listen).await?;
    let tls = a.tls.then(|| (a.tls_cert.clone(), a.tls_key.clone()));
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("ready {scheme}={addr}");
    tracing::info!(%addr, scheme, "mock origin ready");
    let opts = origin_mock::OriginOptions { root: a.root, tls };
    tokio::select! {
        r = origin_mock::serve(listener, opts) => r,
        _ = wait_for_signal() => Ok(()),
    }
}

pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
