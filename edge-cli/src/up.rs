//! `edge up`: a local multi-node edge on one machine — the mock origin and N edge nodes as
//! separate processes of this same binary, each edge on 127.0.0.1:BASE+i with its admin
//! listener on BASE+100+i, logs streamed with the node's name as prefix, all stopped together
//! on Ctrl-C or SIGTERM. A node that dies is reported.

use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// POP names after CloudFront's (airport code, number, `-C1`).
const POPS: [&str; 10] = [
    "IAD89", "FRA56", "NRT57", "GRU3", "SYD62", "LHR61", "SIN2", "CDG50", "BOM78", "JNB50",
];

pub fn pop_name(i: usize) -> String {
    let round = i / POPS.len();
    let code = POPS[i % POPS.len()];
    if round == 0 {
        format!("{code}-C1")
    } else {
        format!("{code}-C{}", round + 1)
    }
}

/// Whether logs are JSON (`--log-format json`): members are started with it; edges' lines (which
/// carry their `pop`) pass on untouched, the others get a `member` field instead of a `[NAME]`
/// prefix, and `edge up`'s own lines are JSON too.
static JSON_LOGS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

fn json_logs() -> bool {
    JSON_LOGS.get().copied().unwrap_or(false)
}

/// One line of `edge up`'s own on stderr.
macro_rules! say {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        if json_logs() {
            eprintln!("{}", serde_json::json!({"member": "edge up", "level": "INFO", "message": message}));
        } else {
            eprintln!("edge up: {message}");
        }
    }};
}

#[derive(clap::Args)]
pub struct UpArgs {
    /// How many edge nodes to start (default: one per `[[pops]]` entry of --config, else 2).
    #[arg(long)]
    edges: Option<usize>,
    /// Edge i listens on 127.0.0.1:PORT+i (admin on PORT+100+i, HTTPS on PORT+200+i); 0 picks
    /// free ports.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The control node's port (0 picks a free one).
    #[arg(long, default_value_t = 8070)]
    control_port: u16,
    /// The mock origin's port (default: the port of the config's loopback origin, else 9000;
    /// loopback origins in the config are pointed at it).
    #[arg(long)]
    origin_port: Option<u16>,
    /// Files the mock origin serves.
    #[arg(long)]
    root: Option<PathBuf>,
    /// The mock origin acts as an S3 bucket whose keys are the files under DIR (see `edge
    /// origin --s3-root`).
    #[arg(long, value_name = "DIR")]
    s3_root: Option<PathBuf>,
    /// Run the configuration's origin DOMAIN (its DomainName) locally: on the mock origin, or
    /// on HOST:PORT over HTTP (repeatable), e.g. `--local-origin my-bucket.s3.us-east-1.amazonaws.com`.
    #[arg(long = "local-origin", value_name = "DOMAIN[=HOST:PORT]")]
    local_origin: Vec<String>,
    /// Edge configuration: its distributions and function files are deployed through the
    /// control node. Without it, one distribution forwards everything to the mock origin.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The control node's database and each edge's saved state.
    #[arg(long, default_value = ".edge")]
    data_dir: PathBuf,
    /// Publish an edited function file (or configuration) to every edge as soon as it is saved.
    #[arg(long)]
    watch: bool,
    /// The simulated viewer IP for requests that do not send `X-Edge-Viewer-Ip`.
    #[arg(long)]
    viewer_ip: Option<std::net::IpAddr>,
    /// Geo databases for every node (default: DB-IP Lite from ../shared/geo when present).
    #[arg(long = "geo-db", value_name = "FILE")]
    geo_db: Vec<PathBuf>,
}

struct Member {
    name: String,
    child: Child,
}

/// Spawns `edge ARGS` as `name`, streams its output with a prefix, and waits for its ready line.
async fn spawn(
    name: &str,
    args: &[String],
    token: &str,
    lines: &mpsc::UnboundedSender<(String, String)>,
) -> Result<(Member, HashMap<String, String>)> {
    let exe = std::env::current_exe().context("cannot find the edge binary")?;
    let mut cmd = Command::new(exe);
    // A member goes with `edge up` even when `edge up` is killed outright (SIGKILL leaves it no
    // chance to stop them): the kernel sends the member SIGTERM when its parent dies.
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the child between fork and exec and only makes one prctl
    // system call, which is async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        });
    }
    let mut child = cmd
        .args(args)
        .env("EDGE_TOKEN", token)
        .env("EDGE_LOG_FORMAT", if json_logs() { "json" } else { "text" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {name}"))?;
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    let (n1, n2, l1, l2) = (
        name.to_string(),
        name.to_string(),
        lines.clone(),
        lines.clone(),
    );
    tokio::spawn(async move {
        let mut r = BufReader::new(err).lines();
        while let Ok(Some(line)) = r.next_line().await {
            let _ = l2.send((n2.clone(), line));
        }
    });
    let out = std::fs::File::from(out.into_owned_fd()?);
    let each = move |line: &str| {
        let _ = l1.send((n1.clone(), line.to_string()));
    };
    let ready =
        tokio::task::spawn_blocking(move || edge_client::process::wait_ready(out, None, each))
            .await?
            .map_err(|e| anyhow!("{name}: {e}"))?;
    Ok((
        Member {
            name: name.to_string(),
            child,
        },
        ready,
    ))
}

pub async fn run(a: UpArgs, json: bool) -> Result<()> {
    let _ = JSON_LOGS.set(json);
    // Refuse a bad file once, here, instead of once per node.
    let mut links: Vec<edge_node::config::PopLink> = Vec::new();
    let doc: Option<toml::Value> = match &a.config {
        Some(c) => {
            let file = edge_node::config::ConfigFile::read(c)?;
            file.log_accepted();
            links = file.parse()?.node.pops;
            Some(file.document()?)
        }
        None => None,
    };
    // The edges: the config's [[pops]] (with their simulated round trips), else --edges.
    let pops: Vec<(String, Option<&edge_node::config::PopLink>)> = match (a.edges, links.len()) {
        (Some(0), _) => bail!("--edges must be at least 1"),
        (Some(n), 0) => (0..n).map(|i| (pop_name(i), None)).collect(),
        (None, 0) => (0..2).map(|i| (pop_name(i), None)).collect(),
        (Some(n), k) if n != k => bail!(
            "--edges {n} disagrees with the {k} [[pops]] in the configuration; give one or the other"
        ),
        _ => links.iter().map(|l| (l.name.clone(), Some(l))).collect(),
    };
    let edges = pops.len();
    if a.port != 0 && a.port as usize + 100 + edges > u16::MAX as usize {
        bail!(
            "--port {} leaves no room for {} edges and their admin ports",
            a.port,
            edges
        );
    }
    let geo = if a.geo_db.is_empty() {
        crate::geodata::find()?
    } else {
        a.geo_db.clone()
    };
    if geo.is_empty() {
        say!("no geo database found (../shared/geo, --geo-db, or the cache of `edge geo fetch`): running without viewer geography; `edge geo fetch` gets DB-IP Lite through npm");
    } else {
        say!(
            "geo data: {}",
            geo.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        say!("IP geolocation by DB-IP (https://db-ip.com), DB-IP Lite, CC BY 4.0");
    }
    // --local-origin, refused before anything starts when it names no origin.
    let mut rewrite = crate::ctl::OriginRewrite::default();
    let mut on_mock = Vec::new();
    let domains = doc
        .as_ref()
        .map(edge_node::config::local::origin_domains)
        .unwrap_or_default();
    for spec in &a.local_origin {
        let domain = spec.split_once('=').map_or(spec.as_str(), |(d, _)| d);
        if !domains.contains(&domain) {
            anyhow::bail!(
                "--local-origin {spec:?}: no origin of the configuration has the DomainName {domain:?} (its origins: {})",
                domains.join(", ")
            );
        }
        match spec.split_once('=') {
            None => on_mock.push(spec.clone()),
            Some((domain, at)) => {
                let (host, port) = at
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                    .filter(|(h, _)| !h.is_empty() && !domain.is_empty())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "--local-origin {spec:?}: expected DOMAIN or DOMAIN=HOST:PORT"
                        )
                    })?;
                rewrite
                    .domains
                    .push((domain.to_string(), host.to_string(), port));
            }
        }
    }
    let token = std::env::var("EDGE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(crate::ctl::random_token);
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, String)>();
    let printer = tokio::spawn(async move {
        while let Some((name, line)) = rx.recv().await {
            if edge_client::process::parse_ready(&line).is_none() {
                if json_logs() && line.starts_with("{\"pop\":") {
                    // An edge's records name their POP themselves: passed on untouched.
                    eprintln!("{line}");
                } else if json_logs() && line.starts_with('{') {
                    // The control node's and the origin's: named by a `member` field.
                    eprintln!(
                        "{{\"member\":{},{}",
                        serde_json::Value::from(name),
                        &line[1..]
                    );
                } else {
                    eprintln!("[{name}] {line}");
                }
            }
        }
    });
    let mut members = Vec::new();

    // The control node.
    let control_args = vec![
        "control".to_string(),
        "--listen".into(),
        format!("127.0.0.1:{}", a.control_port),
        "--data-dir".into(),
        a.data_dir.join("control").display().to_string(),
    ];
    let (control, ready) = spawn("control", &control_args, &token, &tx).await?;
    let control_url = ready.get("url").cloned().unwrap_or_default();
    let control_key = ready.get("key").cloned().unwrap_or_default();
    members.push(control);
    crate::ctl::write_private(
        &a.data_dir.join("control.json"),
        serde_json::json!({"url": control_url, "token": token, "key": control_key})
            .to_string()
            .as_bytes(),
    )?;
    let client = control_node::client::Client::trusting(
        &control_url,
        &token,
        &edge_client::tls::Trust::Key(control_key.clone()),
    );

    // The mock origin, when the configuration points at loopback (or there is none).
    let configured_port = doc
        .as_ref()
        .and_then(edge_node::config::local::loopback_origin_port);
    let mut origin_url = String::from("-");
    // Origins left where the configuration says are reached over the network: say so, since a
    // distribution copied from AWS names origins this machine may not reach.
    for (i, domain) in domains.iter().enumerate() {
        let local = domains[..i].contains(domain)
            || edge_node::config::local::is_loopback(domain)
            || on_mock.iter().any(|d| d == domain)
            || rewrite.domains.iter().any(|(d, _, _)| d == domain);
        if !local {
            say!("origin {domain} is reached over the network; `--local-origin {domain}[=HOST:PORT]` runs it locally");
        }
    }
    if doc.is_none() || configured_port.is_some() || !on_mock.is_empty() {
        let port = a.origin_port.or(configured_port).unwrap_or(9000);
        let mut origin_args = vec![
            "origin".to_string(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
        ];
        if let Some(root) = &a.root {
            origin_args.extend(["--root".into(), root.display().to_string()]);
        }
        if let Some(root) = &a.s3_root {
            origin_args.extend(["--s3-root".into(), root.display().to_string()]);
        }
        let (origin, ready) = spawn("origin", &origin_args, &token, &tx).await?;
        let addr = ready.get("http").cloned().unwrap_or_default();
        origin_url = format!("http://{addr}");
        members.push(origin);
        let bound: u16 = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(port);
        rewrite.loopback = Some((configured_port.unwrap_or(bound), bound));
        for domain in on_mock {
            rewrite.domains.push((domain, "127.0.0.1".into(), bound));
        }
    }

    // What every edge serves.
    let config_path = match &a.config {
        Some(c) => c.clone(),
        None => {
            let path = a.data_dir.join("forward-all.toml");
            let bound = rewrite.loopback.map(|r| r.1).unwrap_or(9000);
            std::fs::write(&path, forward_all(bound))?;
            path
        }
    };
    let deployed = crate::ctl::deploy(&client, &config_path, &rewrite, true).await?;

    let mut table = vec![
        ("control".to_string(), control_url.clone(), String::new()),
        ("origin".to_string(), origin_url.clone(), String::new()),
    ];
    let mut https = Vec::new();
    for (i, (pop, link)) in pops.iter().enumerate() {
        let mut args: Vec<String> = vec![
            "node".into(),
            "--listen".into(),
            format!("127.0.0.1:{}", port_for(a.port, i)),
            "--admin-listen".into(),
            format!("127.0.0.1:{}", port_for(a.port, 100 + i)),
            // HTTPS too (self-signed), where redirect-to-https sends viewers.
            "--tls-listen".into(),
            format!("127.0.0.1:{}", port_for(a.port, 200 + i)),
            "--pop".into(),
            pop.clone(),
            "--control".into(),
            control_url.clone(),
            // The key the control node just printed; a local cluster follows its own store
            // when it was rebuilt or restored (the edges are this command's too).
            "--control-key".into(),
            control_key.clone(),
            "--follow-restores".into(),
            "--state-dir".into(),
            a.data_dir.join("edges").join(pop).display().to_string(),
            "--dev".into(),
        ];
        let node_key = |k: &str| doc.as_ref().and_then(|d| d.get("node")?.get(k).cloned());
        if node_key("access_log")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
        {
            args.extend(["--access-log".into(), "on".into()]);
            if let Some(f) =
                node_key("access_log_format").and_then(|v| v.as_str().map(String::from))
            {
                args.extend(["--access-log-format".into(), f]);
            }
            // One file per edge, named after its POP: `access.log` → `access.IAD89-C1.log`.
            if let Some(f) = node_key("access_log_file").and_then(|v| v.as_str().map(PathBuf::from))
            {
                args.extend([
                    "--access-log-file".into(),
                    per_pop(&f, pop).display().to_string(),
                ]);
            }
        }
        if let Some(ip) = a.viewer_ip {
            args.extend(["--viewer-ip".into(), ip.to_string()]);
        }
        if let Some(l) = link {
            args.extend([
                "--viewer-rtt-ms".into(),
                (l.viewer_rtt.as_secs_f64() * 1e3).to_string(),
                "--origin-rtt-ms".into(),
                (l.origin_rtt.as_secs_f64() * 1e3).to_string(),
            ]);
        }
        for g in &geo {
            args.extend(["--geo-db".into(), g.display().to_string()]);
        }
        let (m, ready) = spawn(pop, &args, &token, &tx).await?;
        members.push(m);
        table.push((
            pop.clone(),
            format!("http://{}", ready.get("http").cloned().unwrap_or_default()),
            format!("http://{}", ready.get("admin").cloned().unwrap_or_default()),
        ));
        https.push(format!(
            "https://{}",
            ready.get("tls").cloned().unwrap_or_default()
        ));
    }
    let names: Vec<String> = pops.iter().map(|(p, _)| p.clone()).collect();
    wait_deployed(&client, Some(&names), deployed.revision).await?;
    println!("{:<10} {:<28} ADMIN", "NODE", "URL");
    for (name, url, admin) in &table {
        println!("{name:<10} {url:<28} {admin}");
    }
    for f in &deployed.functions {
        println!("function {f}  {}", f.file.display());
    }
    println!(
        "ready edges={} origin={} control={} revision={} https={}",
        edges,
        origin_url,
        control_url,
        deployed.revision,
        https.join(",")
    );
    say!("every edge Deployed at revision {}; `edge status` shows them (control {control_url}, token in {})",
        deployed.revision,
        a.data_dir.join("control.json").display()
    );
    let watcher = a.watch.then(|| {
        let client = client.clone();
        tokio::spawn(watch(
            client,
            config_path.clone(),
            rewrite,
            deployed.functions.clone(),
            deployed.store_files.clone(),
        ))
    });
    supervise(&mut members).await;
    if let Some(w) = watcher {
        w.abort();
    }
    drop(tx);
    let _ = printer.await;
    Ok(())
}

/// A distribution that forwards everything to the mock origin (edge up without --config).
fn forward_all(port: u16) -> String {
    let geo: Vec<String> = edge_node::viewer::headers::SUPPORTED
        .iter()
        .map(|h| format!("{h:?}"))
        .collect();
    format!(
        r#"[[distributions]]
Id = "EDFDVBD6EXAMPLE"
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
AllowedMethods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
[distributions.DefaultCacheBehavior.CachePolicy]
QueryStringBehavior = "all"
[distributions.DefaultCacheBehavior.OriginRequestPolicy]
QueryStringBehavior = "all"
HeaderBehavior = "allViewerAndWhitelistCloudFront"
Headers = [{}]
CookieBehavior = "all"
"#,
        geo.join(", ")
    )
}

/// Waits until every POP has applied `revision`.
/// Waits until the edges `pops` (or, with `None`, every edge connected at that moment) are
/// Deployed at `revision` or later.
pub async fn wait_deployed(
    client: &control_node::client::Client,
    pops: Option<&[String]>,
    revision: u64,
) -> Result<()> {
    let start = std::time::Instant::now();
    let deadline = start + std::time::Duration::from_secs(60);
    // Since when each edge has refused the revision waited for (as this command saw it).
    let mut refusing: std::collections::HashMap<String, std::time::Instant> = Default::default();
    loop {
        let s = client.status().await?;
        let waited: Vec<&edge_client::control::EdgeStatus> = s
            .edges
            .iter()
            .filter(|e| pops.map_or(e.connected, |p| p.contains(&e.pop)))
            .filter(|e| !(e.revision >= revision && e.state == "Deployed"))
            .collect();
        let pending: Vec<String> = waited
            .iter()
            .map(|e| e.pop.clone())
            .chain(
                // Named edges that have not reported yet are pending too.
                pops.into_iter()
                    .flatten()
                    .filter(|p| !s.edges.iter().any(|e| &e.pop == *p))
                    .cloned(),
            )
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        // An edge that diverged waits for `edge resync`; one that refuses this revision (its
        // error names it or a later one) for 5 s, past its own retries, is not coming either.
        let now = std::time::Instant::now();
        refusing.retain(|pop, _| waited.iter().any(|e| &e.pop == pop && e.error.is_some()));
        let mut failed = Vec::new();
        for e in &waited {
            let Some(error) = &e.error else { continue };
            let refused = error
                .strip_prefix("revision ")
                .and_then(|r| r.split(':').next()?.parse::<u64>().ok())
                .is_some_and(|r| r >= revision);
            let since = *refusing.entry(e.pop.clone()).or_insert(now);
            if e.state == "Diverged"
                || (refused && now - since >= std::time::Duration::from_secs(5))
            {
                failed.push(format!("{} ({}): {error}", e.pop, e.state));
            }
        }
        if !failed.is_empty() {
            bail!(
                "edges will not serve revision {revision}: {}",
                failed.join("; ")
            );
        }
        if now > deadline {
            let errors: Vec<String> = s
                .edges
                .iter()
                .filter_map(|e| e.error.as_ref().map(|m| format!("{}: {m}", e.pop)))
                .collect();
            bail!(
                "edges not Deployed at revision {revision} after 60 s: {} {}",
                pending.join(", "),
                errors.join("; ")
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Watch mode: redeploys when the configuration or one of its function or KeyValueStore files
/// changes (an unchanged file keeps its version, so only edited functions get new versions; an
/// edited store file is imported over its store).
async fn watch(
    client: control_node::client::Client,
    config: PathBuf,
    rewrite: crate::ctl::OriginRewrite,
    mut functions: Vec<crate::ctl::DeployedFn>,
    mut stores: Vec<PathBuf>,
) {
    use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
    // Events from the file system (inotify and the like), debounced: an editor's save of
    // several writes is one change.
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let debouncer = notify_debouncer_mini::new_debouncer(
        std::time::Duration::from_millis(150),
        move |res: notify_debouncer_mini::DebounceEventResult| {
            if let Ok(events) = res {
                let _ = tx.send(events.into_iter().map(|e| e.path).collect());
            }
        },
    );
    let mut debouncer: notify_debouncer_mini::Debouncer<RecommendedWatcher> = match debouncer {
        Ok(d) => d,
        Err(e) => {
            say!("cannot watch files: {e}");
            return;
        }
    };
    let files = |functions: &[crate::ctl::DeployedFn], stores: &[PathBuf]| -> Vec<PathBuf> {
        std::iter::once(config.clone())
            .chain(functions.iter().map(|f| f.file.clone()))
            .chain(stores.iter().cloned())
            .map(|f| f.canonicalize().unwrap_or(f))
            .collect()
    };
    // A file is watched through its folder (editors often replace a file by renaming a new one
    // over it); a package folder with everything in it.
    let mut watching: Vec<PathBuf> = Vec::new();
    let mut watch_all = |debouncer: &mut notify_debouncer_mini::Debouncer<RecommendedWatcher>,
                         files: &[PathBuf]| {
        for f in files {
            let (target, mode) = if f.is_dir() {
                (f.clone(), RecursiveMode::Recursive)
            } else {
                (
                    f.parent()
                        .map(PathBuf::from)
                        .unwrap_or_else(|| PathBuf::from(".")),
                    RecursiveMode::NonRecursive,
                )
            };
            if !watching.contains(&target) {
                if let Err(e) = debouncer.watcher().watch(&target, mode) {
                    say!("cannot watch {}: {e}", target.display());
                }
                watching.push(target);
            }
        }
    };
    let mut watched = files(&functions, &stores);
    watch_all(&mut debouncer, &watched);
    say!("watching {} files", watched.len());
    // What the files were at the last deploy: events that change nothing (a deploy reading
    // them is one) deploy nothing, or every deploy would set off the next.
    let mut deployed = fingerprint(&watched);
    while let Some(paths) = rx.recv().await {
        let relevant = paths.iter().any(|p| {
            let p = p.canonicalize().unwrap_or_else(|_| p.clone());
            watched
                .iter()
                .any(|w| p == *w || (w.is_dir() && p.starts_with(w)))
        });
        if !relevant || fingerprint(&watched) == deployed {
            continue;
        }
        match crate::ctl::deploy(&client, &config, &rewrite, true).await {
            Ok(d) => {
                for f in &d.functions {
                    if !functions
                        .iter()
                        .any(|o| o.name == f.name && o.version == f.version)
                    {
                        say!("published {f} ({})", f.file.display());
                    }
                }
                for s in &d.stores_changed {
                    say!("imported KeyValueStore {s}");
                }
                say!("revision {} sent to every edge", d.revision);
                functions = d.functions;
                stores = d.store_files;
                watched = files(&functions, &stores);
                watch_all(&mut debouncer, &watched);
                deployed = fingerprint(&watched);
            }
            Err(e) => {
                say!("not deployed: {e:#}");
                // Tried as they are now: the next change tries again.
                deployed = fingerprint(&watched);
            }
        }
    }
}

/// The size and modification time of every file in `paths` (a folder: every file under it),
/// hashed: what a redeploy would read.
fn fingerprint(paths: &[PathBuf]) -> u64 {
    use std::hash::{Hash, Hasher};
    fn add(path: &std::path::Path, h: &mut std::collections::hash_map::DefaultHasher) {
        path.hash(h);
        // A real folder is walked; a link is followed for its file, never walked (no cycles).
        let real_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
        match std::fs::metadata(path) {
            Ok(_) if real_dir => {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .collect();
                entries.sort();
                for e in &entries {
                    add(e, h);
                }
            }
            Ok(m) => {
                m.len().hash(h);
                m.modified().ok().hash(h);
            }
            Err(_) => 0u8.hash(h),
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in paths {
        add(p, &mut h);
    }
    h.finish()
}

/// BASE+offset, or 0 (any free port) when BASE is 0.
fn port_for(base: u16, offset: usize) -> usize {
    if base == 0 {
        0
    } else {
        base as usize + offset
    }
}

/// Waits for Ctrl-C/SIGTERM while reporting members that exit, then stops everyone.
async fn supervise(members: &mut [Member]) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut alive: Vec<bool> = vec![true; members.len()];
    loop {
        let exited = async {
            let waits = members
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| alive[*i])
                .map(|(i, m)| Box::pin(async move { (i, m.child.wait().await) }));
            let waits: Vec<_> = waits.collect();
            if waits.is_empty() {
                return std::future::pending().await;
            }
            futures_select_all(waits).await
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            (i, status) = exited => {
                alive[i] = false;
                let how = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                say!("{} exited ({how}); the others keep running", members[i].name);
            }
        }
    }
    say!("stopping {} processes", members.len());
    for m in members.iter() {
        if let Some(pid) = m.child.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
    for m in members.iter_mut() {
        let _ = m.child.wait().await;
    }
}

/// The first of several futures to finish.
async fn futures_select_all<F: std::future::Future + Unpin>(mut futs: Vec<F>) -> F::Output {
    std::future::poll_fn(move |cx| {
        for f in futs.iter_mut() {
            if let std::task::Poll::Ready(v) = std::pin::Pin::new(f).poll(cx) {
                return std::task::Poll::Ready(v);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// `access.log` → `access.POP.log` (`access` → `access.POP`): each edge's own file.
fn per_pop(file: &std::path::Path, pop: &str) -> PathBuf {
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let name = match file.extension() {
        Some(ext) => format!("{stem}.{pop}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{pop}"),
    };
    file.with_file_name(name)
}
