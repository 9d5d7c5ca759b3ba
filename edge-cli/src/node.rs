//! `edge node`: one edge node from flags, a configuration file or a control node.

use anyhow::{anyhow, bail, Context, Result};
use edge_node::config::{self, NodeConfig};
use edge_node::server::{Listen, RunningNode};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct NodeArgs {
    /// Viewer listener (HTTP/1.1 and HTTP/2 prior knowledge).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Admin listener (health, invalidation, reload, metrics, logs); needs --admin-token
    /// unless the node follows a control node.
    #[arg(long)]
    admin_listen: Option<SocketAddr>,
    /// The bearer token every admin route but /__edge/health asks for (default with
    /// --control: the control node's token).
    #[arg(long, env = "EDGE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
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
    /// The control node's public key: its file (DATA_DIR/control.pub) or its fingerprint
    /// (`sha256:HEX`, in `edge control`'s ready line and `edge status`). Only revisions it
    /// signed are applied, saved or loaded at restart.
    #[arg(long, value_name = "FILE|FINGERPRINT", requires = "control")]
    control_key: Option<String>,
    /// The CA (or certificate) PEM an https control node serving a certificate of its own
    /// is trusted by (without it the certificate must carry the --control-key key).
    #[arg(long, value_name = "PEM", requires = "control")]
    control_ca: Option<PathBuf>,
    /// Take the control node's state at once even when it diverges from the one this edge
    /// serves (a control store rebuilt or restored to an older copy); without it the edge
    /// keeps serving, reports Diverged and waits for `edge resync`.
    #[arg(long, requires = "control")]
    follow_restores: bool,
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
    /// The access log's format: CloudFront's standard log (`cloudfront`), its real-time log
    /// fields as JSON lines (`realtime-json`), or a short line (`text`, the default).
    #[arg(long, value_parser = edge_node::access_log::Format::NAMES)]
    access_log_format: Option<String>,
    /// Write the access log to this file (appending) instead of stdout.
    #[arg(long, value_name = "FILE")]
    access_log_file: Option<std::path::PathBuf>,
    /// Send a trace per request (a span per stage) to this OpenTelemetry collector over
    /// OTLP/HTTP, e.g. http://127.0.0.1:4318; the origin gets a W3C traceparent.
    #[arg(long, value_name = "URL")]
    otlp: Option<String>,
    /// Associate a function (a .js/.mjs file, a package folder or a .zip) with a stage of the
    /// default behavior, e.g. `--function viewer-request=functions/ab-test.js` (repeatable).
    #[arg(long = "function", value_name = "STAGE=PATH")]
    functions: Vec<String>,
    /// Associate a CloudFront function (one .js file) with viewer-request or viewer-response of
    /// the default behavior, e.g. `--cloudfront-function viewer-request=functions/cff-url-rewrite.js`
    /// (repeatable; runtime `--cloudfront-runtime`).
    #[arg(long = "cloudfront-function", value_name = "STAGE=PATH")]
    cloudfront_functions: Vec<String>,
    /// The runtime of the --cloudfront-function files: cloudfront-js-1.0 or cloudfront-js-2.0.
    #[arg(long, value_name = "RUNTIME", default_value = "cloudfront-js-2.0")]
    cloudfront_runtime: String,
    /// Lambda's Handler (`file.export`, default `index.handler` for a package) for the
    /// --function packages given.
    #[arg(long, value_name = "FILE.EXPORT")]
    handler: Option<String>,
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
    if let Some(f) = a
        .access_log_format
        .as_deref()
        .and_then(edge_node::access_log::Format::parse)
    {
        n.access_log_format = f;
    }
    if let Some(f) = &a.access_log_file {
        n.access_log_file = Some(f.clone());
    }
    if let Some(u) = &a.otlp {
        n.otlp = Some(u.clone());
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
        let code = config::load_function(
            std::path::Path::new(file),
            a.handler.as_deref(),
            "--function",
        )?;
        let include_body = a.include_body && stage.is_request();
        config::add_function(&mut cfg, stage, code, include_body)?;
    }
    for spec in &a.cloudfront_functions {
        let (stage, file) = spec.split_once('=').ok_or_else(|| {
            anyhow!("--cloudfront-function {spec:?}: expected STAGE=FILE, e.g. viewer-request=functions/cff-url-rewrite.js")
        })?;
        let stage = edge_node::lambda::Stage::parse(stage).ok_or_else(|| {
            anyhow!("--cloudfront-function {spec:?}: {stage:?} is not one of viewer-request, viewer-response")
        })?;
        let runtime =
            edge_node::cloudfront::Runtime::parse(&a.cloudfront_runtime).ok_or_else(|| {
                anyhow!(
                    "--cloudfront-runtime {:?}: cloudfront-js-1.0 or cloudfront-js-2.0",
                    a.cloudfront_runtime
                )
            })?;
        let code = config::load_cloudfront_function(
            std::path::Path::new(file),
            runtime,
            None,
            None,
            "--cloudfront-function",
        )?;
        config::add_function(&mut cfg, stage, code, false)?;
    }
    Ok(cfg)
}

/// What a node following a control node starts from.
struct Follow {
    control: String,
    token: String,
    pin: edge_node::signing::Pin,
    trust: edge_client::tls::Trust,
    store: edge_node::replica::LocalStore,
    serving: Option<edge_node::replica::Serving>,
    code: edge_node::replica::CodeByHash,
    error: Option<String>,
}

pub async fn run(a: NodeArgs) -> Result<()> {
    let mut cfg = node_config(&a)?;
    // From here on every JSON log record names this POP.
    crate::set_log_pop(&cfg.node.pop);
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
            let pin = a
                .control_key
                .as_deref()
                .ok_or_else(|| {
                    anyhow!("--control needs --control-key FILE|FINGERPRINT: the control node's public key (DATA_DIR/control.pub) or its fingerprint (sha256:HEX, printed in its ready line and by `edge status`)")
                })
                .and_then(|k| edge_node::signing::Pin::parse(k).map_err(|e| anyhow!(e)))?;
            let store = edge_node::replica::LocalStore::open(&dir)?;
            let mut serving = None;
            let mut code = Default::default();
            let mut error = None;
            match store.load(&pin) {
                Ok(Some((state, saved))) => match state
                    .compose(&cfg.node, &saved)
                    .and_then(|c| Ok((c, state.stores(&saved)?)))
                {
                    Ok((c, stores)) => {
                        edge_node::cloudfront::kvs::install(stores);
                        tracing::info!(revision = state.revision, dir = %dir.display(), "serving the last applied state until the control node answers");
                        cfg = c;
                        serving = Some(edge_node::replica::Serving::of(&state));
                        code = saved;
                    }
                    Err(e) => {
                        tracing::error!(dir = %dir.display(), error = %e, "the saved state is unusable; starting empty");
                        error = Some(format!("the saved state is unusable: {e}"));
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(dir = %dir.display(), error = %e, "the saved state is refused; starting empty");
                    error = Some(format!("the saved state is refused: {e}"));
                }
            }
            let token = a.token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
                anyhow!("--control needs the control node's token (--token or EDGE_TOKEN)")
            })?;
            // Functions may not reach the control API, whatever their distribution lists.
            if let Ok(u) = url::Url::parse(url) {
                if let (Some(host), Some(port)) = (u.host_str(), u.port_or_known_default()) {
                    let host = host.trim_matches(['[', ']']);
                    for addr in tokio::net::lookup_host((host, port))
                        .await
                        .into_iter()
                        .flatten()
                    {
                        edge_node::js::forbid_fetch(addr, "the control node");
                    }
                }
            }
            let trust =
                crate::ctl::control_trust(url, Some(&pin.fingerprint()), a.control_ca.as_deref())?;
            Some(Follow {
                control: url.trim_end_matches('/').to_string(),
                token,
                trust,
                pin,
                store,
                serving,
                code,
                error,
            })
        }
        None => None,
    };
    let node = RunningNode::start(cfg, &listen)?;
    let applied_at_start = replica
        .as_ref()
        .map(|r| r.serving.as_ref().map_or(0, |s| s.revision));
    let (stop_admin, admin_rx) = tokio::sync::watch::channel(false);
    let admin_token = a
        .admin_token
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| replica.as_ref().map(|f| f.token.clone()));
    let admin = match a.admin_listen {
        Some(addr) => {
            let token: std::sync::Arc<str> = admin_token
                .ok_or_else(|| {
                    anyhow!(
                        "--admin-listen needs --admin-token TOKEN (or EDGE_ADMIN_TOKEN): every admin route but /__edge/health asks for it as Authorization: Bearer TOKEN"
                    )
                })?
                .into();
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = l.local_addr()?;
            edge_node::js::forbid_fetch(bound, "this node's admin API");
            let reload = Some(edge_node::admin::Reload {
                path: a.config.clone(),
                handle: node.handle.clone(),
            });
            tokio::spawn(edge_node::admin::serve(
                l,
                node.shared.clone(),
                reload,
                token,
                admin_rx,
            ));
            Some(bound)
        }
        None => None,
    };
    if let Some(f) = replica {
        let r = edge_node::replica::Replica {
            control: f.control,
            token: f.token,
            pop: node.shared.node.pop.to_string(),
            url: format!("http://{}", node.http),
            admin: admin.map(|a| format!("http://{a}")),
            store: f.store,
            handle: node.handle.clone(),
            pin: f.pin,
            trust: f.trust,
            follow_restores: a.follow_restores,
            serving: f.serving,
            code: f.code,
            error: f.error,
        };
        tokio::spawn(r.run());
    }
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
    crate::wait_for_signal().await;
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    let _ = stop_admin.send(true);
    tokio::task::spawn_blocking(move || node.shutdown()).await?;
    Ok(())
}
