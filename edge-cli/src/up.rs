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

#[derive(clap::Args)]
pub struct UpArgs {
    /// How many edge nodes to start.
    #[arg(long, default_value_t = 2)]
    edges: usize,
    /// Edge i listens on 127.0.0.1:PORT+i (admin on PORT+100+i); 0 picks free ports.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The mock origin's port.
    #[arg(long, default_value_t = 9000)]
    origin_port: u16,
    /// Files the mock origin serves.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Edge configuration for every node (its origin should be the mock origin's port).
    /// Without it, each node forwards everything to the mock origin.
    #[arg(long)]
    config: Option<PathBuf>,
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
    lines: &mpsc::UnboundedSender<(String, String)>,
) -> Result<(Member, HashMap<String, String>)> {
    let exe = std::env::current_exe().context("cannot find the edge binary")?;
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {name}"))?;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    let (n1, n2, l1, l2) = (
        name.to_string(),
        name.to_string(),
        lines.clone(),
        lines.clone(),
    );
    tokio::spawn(async move {
        let mut r = BufReader::new(out).lines();
        while let Ok(Some(line)) = r.next_line().await {
            if line.starts_with("ready ") {
                let _ = ready_tx.send(line.clone());
            }
            let _ = l1.send((n1.clone(), line));
        }
    });
    tokio::spawn(async move {
        let mut r = BufReader::new(err).lines();
        while let Ok(Some(line)) = r.next_line().await {
            let _ = l2.send((n2.clone(), line));
        }
    });
    let line = tokio::select! {
        l = ready_rx.recv() => l.ok_or_else(|| anyhow!("{name} exited before it was ready"))?,
        s = child.wait() => bail!("{name} exited before it was ready ({})", s.map(|s| s.to_string()).unwrap_or_default()),
    };
    let ready = line
        .split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok((
        Member {
            name: name.to_string(),
            child,
        },
        ready,
    ))
}

pub async fn run(a: UpArgs) -> Result<()> {
    if a.edges == 0 {
        bail!("--edges must be at least 1");
    }
    if let Some(c) = &a.config {
        // Refuse a bad file once, here, instead of once per node.
        let text =
            std::fs::read_to_string(c).with_context(|| format!("cannot read {}", c.display()))?;
        let base = c
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        edge_node::config::parse_toml_in(&text, base)
            .map_err(|e| anyhow!("{}: {e}", c.display()))?;
    }
    if a.port != 0 && a.port as usize + 100 + a.edges > u16::MAX as usize {
        bail!(
            "--port {} leaves no room for {} edges and their admin ports",
            a.port,
            a.edges
        );
    }
    let geo = if a.geo_db.is_empty() {
        crate::geodata::find()?
    } else {
        a.geo_db.clone()
    };
    if geo.is_empty() {
        eprintln!("edge up: no geo database found (../shared/geo or --geo-db): running without viewer geography");
    } else {
        eprintln!(
            "edge up: geo data: {}",
            geo.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        eprintln!("edge up: IP geolocation by DB-IP (https://db-ip.com), DB-IP Lite, CC BY 4.0");
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, String)>();
    let printer = tokio::spawn(async move {
        while let Some((name, line)) = rx.recv().await {
            if !line.starts_with("ready ") {
                eprintln!("[{name}] {line}");
            }
        }
    });
    let mut members = Vec::new();
    let mut origin_args = vec![
        "origin".to_string(),
        "--listen".into(),
        format!("127.0.0.1:{}", a.origin_port),
    ];
    if let Some(root) = &a.root {
        origin_args.extend(["--root".into(), root.display().to_string()]);
    }
    let (origin, ready) = spawn("origin", &origin_args, &tx).await?;
    let origin_url = format!("http://{}", ready.get("http").cloned().unwrap_or_default());
    members.push(origin);
    let mut table = vec![("origin".to_string(), origin_url.clone(), String::new())];
    for i in 0..a.edges {
        let pop = pop_name(i);
        let mut args: Vec<String> = vec![
            "node".into(),
            "--listen".into(),
            format!("127.0.0.1:{}", port_for(a.port, i)),
            "--admin-listen".into(),
            format!("127.0.0.1:{}", port_for(a.port, 100 + i)),
            "--pop".into(),
            pop.clone(),
        ];
        match &a.config {
            Some(c) => args.extend(["--config".into(), c.display().to_string()]),
            None => args.extend(["--origin".into(), origin_url.clone()]),
        }
        args.push("--dev".into());
        if let Some(ip) = a.viewer_ip {
            args.extend(["--viewer-ip".into(), ip.to_string()]);
        }
        for g in &geo {
            args.extend(["--geo-db".into(), g.display().to_string()]);
        }
        let (m, ready) = spawn(&pop, &args, &tx).await?;
        members.push(m);
        table.push((
            pop,
            format!("http://{}", ready.get("http").cloned().unwrap_or_default()),
            format!("http://{}", ready.get("admin").cloned().unwrap_or_default()),
        ));
    }
    println!("{:<10} {:<28} ADMIN", "NODE", "URL");
    for (name, url, admin) in &table {
        println!("{name:<10} {url:<28} {admin}");
    }
    println!("ready edges={} origin={}", a.edges, origin_url);
    supervise(&mut members).await;
    drop(tx);
    let _ = printer.await;
    Ok(())
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
                eprintln!("edge up: {} exited ({how}); the others keep running", members[i].name);
            }
        }
    }
    eprintln!("edge up: stopping {} processes", members.len());
    for m in members.iter() {
        if let Some(pid) = m.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
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
