//! `edge`: the one user-facing binary. Each subcommand is a thin layer over a library crate.
//! Every long-running role prints one `ready …` line on stdout with its bound addresses once it
//! accepts connections (tests and `edge up` wait for it); logs go to stderr.

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

mod bench;
mod ctl;
mod function;
mod geodata;
mod invoke;
mod kvs;
mod logs;
mod node;
mod sign;
mod up;

/// mimalloc for Rust and, through `override`, for the JavaScript engine's malloc too: on the
/// function path the allocator was ~17% of CPU under glibc (bench/RESULTS.md, 2026-12-03).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Log filter (tracing's EnvFilter syntax), e.g. `info` or `edge::function=debug,info`.
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
    Node(Box<node::NodeArgs>),
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
    /// Have edges that report Diverged (their state is from another cluster, or newer than a
    /// restored control store's) take the control node's state; waits until they serve it.
    Resync(ctl::ResyncArgs),
    /// Invalidate cached paths on every edge.
    Invalidate(ctl::InvalidateArgs),
    /// Undo a canary, or return a function's associations to their previous versions.
    Rollback(ctl::NameArgs),
    /// A function's logs from every edge (START, its console lines, END, REPORT), like
    /// `aws logs tail`; `--follow` keeps printing.
    Logs(logs::LogsArgs),
    /// List a function's versions.
    Versions(ctl::NameArgs),
    /// Send an edge.toml's distributions to the control node, publishing and associating its
    /// function files.
    Deploy(ctl::DeployArgs),
    /// Remove a distribution (and its associations) from the control node and every edge.
    DeleteDistribution(ctl::DeleteDistributionArgs),
    /// The control node's distributions: list, delete.
    Distributions(ctl::DistributionsArgs),
    /// Lambda@Edge functions on the control node: delete a version or a whole function.
    Functions(ctl::FunctionsArgs),
    /// Remove an edge that is gone for good from `edge status` and `--wait`.
    Forget(ctl::ForgetArgs),
    /// Measure latency, throughput and CPU per request, writing report.json and report.html.
    Bench(bench::BenchArgs),
    /// Run a function once on an event, without a cluster: what it returns and what a viewer
    /// would get.
    Invoke(invoke::InvokeArgs),
    /// Print an event in AWS's shape for a stage (for `edge invoke`).
    GenerateEvent(invoke::GenerateArgs),
    /// CloudFront Functions: create, update, test, publish (DEVELOPMENT → LIVE), describe,
    /// list, delete.
    Function(function::FunctionArgs),
    /// KeyValueStores for CloudFront functions: create, put, get, delete-key, list-keys,
    /// import, describe, list, delete.
    Kvs(kvs::KvsArgs),
    /// Geo data: `edge geo fetch` gets DB-IP Lite through npm.
    Geo(geodata::GeoArgs),
    /// A signed URL for a behavior with TrustedKeyGroups (canned policy, or custom with
    /// --date-greater-than, --ip-address or --policy).
    SignUrl(sign::SignArgs),
    /// Signed cookies (CloudFront-Expires or -Policy, -Signature, -Key-Pair-Id) for the same.
    SignCookies(sign::SignArgs),
}

#[derive(clap::Args)]
struct OriginArgs {
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Serve files from this directory.
    #[arg(long, conflicts_with = "s3_root")]
    root: Option<PathBuf>,
    /// Act as an S3 bucket: keys are the files under DIR (S3's ETag, Last-Modified, NoSuchKey
    /// XML; `KEY.s3meta` holds a key's Content-Type and x-amz-meta-* headers).
    #[arg(long, value_name = "DIR")]
    s3_root: Option<PathBuf>,
    /// With --s3-root: a missing key is 403 AccessDenied (a reader without s3:ListBucket).
    #[arg(long, requires = "s3_root")]
    s3_private: bool,
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
    let log_format = cli.log_format;
    let log = init_logging(log_format, &cli.log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(async move {
        match cli.command {
            Command::Node(a) => node::run(*a).await,
            Command::Origin(a) => run_origin(a).await,
            Command::Up(a) => up::run(a, matches!(log_format, LogFormat::Json)).await,
            Command::Bench(a) => bench::run(a).await,
            Command::Invoke(a) => invoke::invoke(a),
            Command::GenerateEvent(a) => invoke::generate(a),
            Command::Geo(a) => geodata::run(a),
            Command::SignUrl(a) => sign::url(a),
            Command::SignCookies(a) => sign::cookies(a),
            Command::Function(a) => function::run(a).await,
            Command::Kvs(a) => kvs::run(a).await,
            Command::Control(a) => ctl::run_control(a).await,
            Command::Publish(a) => ctl::publish(a).await,
            Command::Associate(a) => ctl::associate(a).await,
            Command::Status(a) => ctl::status(a).await,
            Command::Resync(a) => ctl::resync(a).await,
            Command::Invalidate(a) => ctl::invalidate(a).await,
            Command::Rollback(a) => ctl::rollback(a).await,
            Command::Logs(a) => logs::run(a).await,
            Command::Versions(a) => ctl::versions(a).await,
            Command::Deploy(a) => ctl::deploy_cmd(a).await,
            Command::DeleteDistribution(a) => ctl::delete_distribution(a).await,
            Command::Distributions(a) => ctl::distributions(a).await,
            Command::Functions(a) => ctl::functions(a).await,
            Command::Forget(a) => ctl::forget(a).await,
        }
    });
    if let Err(e) = result {
        // A function's failed verdict (`edge invoke`) was printed already: exit 1; anything
        // else is an error of ours or of the input: say it, exit 2. Logs are flushed first.
        let code = exit_code(&e);
        if code != 1 {
            eprintln!("edge: {e:#}");
            if let Some(h) = ctl::hint(&e) {
                eprintln!("hint: {h}");
            }
        }
        drop(log);
        std::process::exit(code);
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
            .with_writer(move || WithPop(writer.clone()))
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

/// The POP a node's JSON log records carry (`pop`), once the node knows it.
static LOG_POP: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn set_log_pop(pop: &str) {
    // A POP name is validated (letters, digits, `-`), so it needs no JSON escaping.
    let _ = LOG_POP.set(pop.to_string());
}

/// JSON records of an edge node each carry its POP as a field (`{"pop":"IAD89-C1",…}`), so
/// logs merged from many edges (`edge up`) say where each came from without being rewritten.
/// The fmt layer writes each record with one `write_all`.
struct WithPop<W>(W);

impl<W: std::io::Write> std::io::Write for WithPop<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match (LOG_POP.get(), buf.strip_prefix(b"{")) {
            (Some(pop), Some(rest)) if !buf.starts_with(b"{\"pop\":") => {
                let mut line = Vec::with_capacity(buf.len() + pop.len() + 10);
                line.extend_from_slice(b"{\"pop\":\"");
                line.extend_from_slice(pop.as_bytes());
                line.extend_from_slice(b"\",");
                line.extend_from_slice(rest);
                self.0.write_all(&line)?;
                Ok(buf.len())
            }
            _ => self.0.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
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

async fn run_origin(a: OriginArgs) -> Result<()> {
    let (listener, addr) = origin_mock::bind(a.listen).await?;
    let tls = a.tls.then(|| (a.tls_cert.clone(), a.tls_key.clone()));
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("ready {scheme}={addr}");
    tracing::info!(%addr, scheme, "mock origin ready");
    let opts = origin_mock::OriginOptions {
        root: a.root,
        s3_root: a.s3_root,
        s3_private: a.s3_private,
        tls,
    };
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

/// How `edge` exits (README: "Exit codes"): 0 done; 1 a function's result CloudFront would
/// refuse (`edge invoke`); 2 bad input (arguments, files, configuration, events); 3 the
/// control node refused the request (its AWS error code is printed); 4 the control node could
/// not be reached.
fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<invoke::Failed>().is_some() {
        1
    } else if e.downcast_ref::<edge_client::control::ApiError>().is_some() {
        3
    } else if e
        .downcast_ref::<edge_client::control::Unreachable>()
        .is_some()
    {
        4
    } else {
        2
    }
}
