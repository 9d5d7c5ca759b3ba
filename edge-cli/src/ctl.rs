//! The control node role (`edge control`) and the commands that talk to it: publish,
//! associate, status, invalidate, rollback, versions, deploy.

use anyhow::{anyhow, bail, Context, Result};
use control_node::client::Client;
use http::Method;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ControlArgs {
    /// The API listener.
    #[arg(long, default_value = "127.0.0.1:8070")]
    listen: SocketAddr,
    /// Where the database lives.
    #[arg(long, default_value = ".edge/control")]
    data_dir: PathBuf,
    /// The bearer token clients and edges must send (default: DATA_DIR/token, made once).
    #[arg(long, env = "EDGE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A PEM certificate (chain) to serve the API with instead of the one made from the
    /// signing key; clients then trust it with --control-ca.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Another name (host or address) the made certificate carries besides localhost, the
    /// loopback addresses and the listen address (repeatable), for clients that check names
    /// (curl --cacert DATA_DIR/control-cert.pem).
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// Serve plain HTTP (behind a TLS-terminating proxy, say); the token then travels in the
    /// clear.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_names"])]
    plain_http: bool,
}

/// Where the control node is and how to authenticate: flags, then EDGE_CONTROL / EDGE_TOKEN,
/// then `.edge/control.json` written by `edge up` in the current directory.
#[derive(clap::Args, Clone)]
pub struct Target {
    /// The control node's URL.
    #[arg(long, env = "EDGE_CONTROL", global = true)]
    control: Option<String>,
    /// The control node's bearer token.
    #[arg(long, env = "EDGE_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// The control node's key (DATA_DIR/control.pub or its `sha256:` fingerprint, in its
    /// ready line): an https control node's certificate must carry it.
    #[arg(
        long,
        env = "EDGE_CONTROL_KEY",
        global = true,
        value_name = "FILE|FINGERPRINT"
    )]
    control_key: Option<String>,
    /// The CA (or certificate) PEM an https control node serving a certificate of its own
    /// (`edge control --tls-cert`) is trusted by.
    #[arg(long, env = "EDGE_CONTROL_CA", global = true, value_name = "PEM")]
    control_ca: Option<PathBuf>,
    /// After a change, wait until every edge has applied it (Deployed).
    #[arg(long)]
    wait: bool,
}

/// Where `edge up` records its control node for the other commands.
pub const CLUSTER_FILE: &str = ".edge/control.json";

impl Target {
    /// With --wait: blocks until every connected edge is Deployed at `revision` (or later);
    /// an edge that goes away meanwhile is no longer waited for.
    pub async fn settle(&self, client: &Client, revision: &Value) -> Result<()> {
        if !self.wait {
            return Ok(());
        }
        crate::up::wait_deployed(client, None, revision.as_u64().unwrap_or(0)).await
    }

    /// A value given as a flag or in the environment, else the one `edge up` recorded.
    fn given_or_saved(&self, given: &Option<String>, key: &str) -> Option<String> {
        given.clone().or_else(|| {
            let saved: Value =
                serde_json::from_str(&std::fs::read_to_string(CLUSTER_FILE).ok()?).ok()?;
            saved[key].as_str().map(str::to_string)
        })
    }

    /// The control node's token.
    pub fn token(&self) -> Result<String> {
        self.given_or_saved(&self.token, "token")
            .ok_or_else(|| anyhow!("no token: give --token or EDGE_TOKEN"))
    }

    pub fn client(&self) -> Result<Client> {
        let control = self.given_or_saved(&self.control, "url").ok_or_else(|| {
            anyhow!("no control node: give --control URL or EDGE_CONTROL (or run `edge up` here)")
        })?;
        let key = self.given_or_saved(&self.control_key, "key");
        let trust = control_trust(&control, key.as_deref(), self.control_ca.as_deref())?;
        Ok(Client::trusting(&control, &self.token()?, &trust))
    }
}

/// How a client of the control node at `url` believes its certificate: the CA given, else the
/// pinned key, else (for https) a refusal saying what to give.
pub fn control_trust(
    url: &str,
    key: Option<&str>,
    ca: Option<&Path>,
) -> Result<edge_client::tls::Trust> {
    use edge_client::tls::Trust;
    if let Some(ca) = ca {
        return Trust::roots_from(ca).map_err(|e| anyhow!("--control-ca {e}"));
    }
    match key {
        Some(k) => {
            let pin = edge_node::signing::Pin::parse(k).map_err(|e| anyhow!("{e}"))?;
            Ok(Trust::Key(pin.fingerprint()))
        }
        None if url.starts_with("https://") => Err(anyhow!(
            "{url} is served over TLS: give the control node's key (--control-key FILE|FINGERPRINT or EDGE_CONTROL_KEY; its ready line and DATA_DIR/control.pub have it), or --control-ca PEM for a certificate of its own"
        )),
        None => Ok(Trust::Web),
    }
}

pub fn random_token() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("getrandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub async fn run_control(a: ControlArgs) -> Result<()> {
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("cannot create {}", a.data_dir.display()))?;
    let token = match a.token.filter(|t| !t.is_empty()) {
        Some(t) => t,
        None => {
            let path = a.data_dir.join("token");
            match std::fs::read_to_string(&path) {
                Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
                _ => {
                    let t = random_token();
                    write_private(&path, t.as_bytes())?;
                    eprintln!(
                        "edge control: no --token or EDGE_TOKEN; made one in {}",
                        path.display()
                    );
                    t
                }
            }
        }
    };
    let control = std::sync::Arc::new(
        control_node::Control::open(&a.data_dir, token)
            .map_err(|e| anyhow!("{}: {e}", a.data_dir.display()))?,
    );
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let bound = listener.local_addr()?;
    let tls = match (a.plain_http, &a.tls_cert, &a.tls_key) {
        (true, _, _) => None,
        (false, Some(cert), Some(key)) => {
            let read = |p: &Path| {
                std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let cfg = edge_node::tls::http1_server_config(
                &read(cert)?,
                &read(key)?,
                &cert.display().to_string(),
            )
            .map_err(|e| anyhow!("{e}"))?;
            Some(tokio_rustls::TlsAcceptor::from(cfg))
        }
        (false, _, _) => {
            let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
            names.push(bound.ip().to_string());
            names.extend(a.tls_names.iter().cloned());
            names.dedup();
            let (cert, key) = control.certificate(&names).map_err(|e| anyhow!("{e}"))?;
            // For clients that check names rather than pin the key: curl --cacert FILE.
            std::fs::write(a.data_dir.join("control-cert.pem"), &cert)
                .with_context(|| format!("cannot write {}", a.data_dir.display()))?;
            let cfg = edge_node::tls::http1_server_config(&cert, &key, "made from the signing key")
                .map_err(|e| anyhow!("{e}"))?;
            Some(tokio_rustls::TlsAcceptor::from(cfg))
        }
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Every function published is first loaded here (js::check): from the startup snapshot,
    // made now, before the first publish.
    edge_node::js::make_startup_snapshot();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(control_node::api::serve(
        listener,
        control.clone(),
        tls,
        stop_rx,
    ));
    println!(
        "ready {scheme}={bound} url={scheme}://{bound} revision={} key={} cluster={}",
        control.revision(),
        control.key_fingerprint(),
        control.cluster()
    );
    tracing::info!(url = %format!("{scheme}://{bound}"), revision = control.revision(), key = %control.key_fingerprint(), cluster = %control.cluster(), data_dir = %a.data_dir.display(), "control node ready");
    crate::wait_for_signal().await;
    let _ = stop.send(true);
    let _ = server.await;
    Ok(())
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

#[derive(clap::Args)]
pub struct PublishArgs {
    /// The function's name.
    name: String,
    /// Its code: a .js/.mjs/.cjs file, a package folder or a .zip laid out as Lambda expects.
    file: PathBuf,
    /// Lambda's Handler, `file.export` (default for a package: index.handler).
    #[arg(long, value_name = "FILE.EXPORT")]
    handler: Option<String>,
    /// Print {"name","version","sha256"}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

pub async fn publish(a: PublishArgs) -> Result<()> {
    let code = edge_node::js::package::read_path(&a.file, a.handler.as_deref())
        .map_err(|e| anyhow!("{e}"))?;
    let p = a.target.client()?.publish(&a.name, &code).await?;
    if a.json {
        println!("{}", serde_json::to_string(&p)?);
    } else {
        println!("{}", p.version);
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct AssociateArgs {
    /// NAME:VERSION (a published version; not $LATEST).
    function: String,
    /// viewer-request, origin-request, origin-response or viewer-response.
    #[arg(long)]
    stage: String,
    /// The cache behavior's PathPattern, or `default`.
    #[arg(long, default_value = "default")]
    behavior: String,
    /// The distribution's Id (may be left out when there is one).
    #[arg(long)]
    distribution: Option<String>,
    /// Give request-stage functions the request body.
    #[arg(long)]
    include_body: bool,
    /// NAME:VERSION=PERCENT: that version serves PERCENT of viewers (sticky per viewer IP).
    #[arg(long)]
    canary: Option<String>,
    #[command(flatten)]
    target: Target,
}

pub async fn associate(a: AssociateArgs) -> Result<()> {
    let (canary, percent) = match &a.canary {
        None => (None, None),
        Some(spec) => {
            let (f, p) = spec.rsplit_once('=').ok_or_else(|| {
                anyhow!("--canary {spec:?}: expected NAME:VERSION=PERCENT, e.g. ab-test:2=10")
            })?;
            let p: u8 = p
                .trim_end_matches('%')
                .parse()
                .map_err(|_| anyhow!("--canary {spec:?}: {p:?} is not a percent"))?;
            (Some(f.to_string()), Some(p))
        }
    };
    let body = json!({
        "function": a.function, "stage": a.stage, "behavior": a.behavior,
        "distribution": a.distribution, "include_body": a.include_body,
        "canary": canary, "canary_percent": percent,
    });
    let client = a.target.client()?;
    let v = client
        .json(Method::POST, "/v1/associations", Some(&body))
        .await?;
    a.target.settle(&client, &v["revision"]).await?;
    println!("revision {}", v["revision"]);
    Ok(())
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Print {"revision": N, "edges": [{"pop", "url", "revision", "state", ...}]}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
pub struct ResyncArgs {
    /// The edges (POP names) to resync.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pops: Vec<String>,
    /// Every edge the control node knows.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    target: Target,
}

pub async fn resync(a: ResyncArgs) -> Result<()> {
    let client = a.target.client()?;
    let v = client
        .json(Method::POST, "/v1/resync", Some(&json!({"pops": a.pops})))
        .await?;
    let pops: Vec<String> = serde_json::from_value(v["requested"].clone())?;
    let revision = client.status().await?.revision;
    crate::up::wait_deployed(&client, Some(&pops), revision).await?;
    println!("{} serve revision {revision}", pops.join(", "));
    Ok(())
}

pub async fn status(a: StatusArgs) -> Result<()> {
    let client = a.target.client()?;
    let revision = client.status().await?.revision;
    a.target.settle(&client, &json!(revision)).await?;
    let s = client.status().await?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    println!("revision {}", s.revision);
    println!("cluster {}  key {}", s.cluster, s.key);
    println!(
        "{:<10} {:<28} {:>8} {:<11} {:>4}  {:<5}  CONNECTED",
        "POP", "URL", "REVISION", "STATE", "LAG", "TLS"
    );
    for e in &s.edges {
        println!(
            "{:<10} {:<28} {:>8} {:<11} {:>4}  {:<5}  {}{}",
            e.pop,
            e.url,
            e.revision,
            e.state,
            e.lag,
            match e.tls {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            },
            if e.connected { "yes" } else { "no" },
            e.error
                .as_deref()
                .map(|m| format!("  error: {m}"))
                .unwrap_or_default()
        );
    }
    if !s.key_value_stores.is_empty() {
        println!();
        println!("{:<24} {:>8}  DEPLOYED ON", "KEY VALUE STORE", "REVISION");
        for k in &s.key_value_stores {
            println!(
                "{:<24} {:>8}  {}/{} {}",
                k.name,
                k.revision,
                k.deployed.len(),
                s.edges.len(),
                k.deployed.join(", ")
            );
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct InvalidateArgs {
    /// Paths like /index.html or /images/* (CloudFront's rules).
    #[arg(required = true)]
    paths: Vec<String>,
    #[arg(long)]
    distribution: Option<String>,
    #[command(flatten)]
    target: Target,
}

pub async fn invalidate(a: InvalidateArgs) -> Result<()> {
    let client = a.target.client()?;
    let v = client
        .json(
            Method::POST,
            "/v1/invalidations",
            Some(&json!({"paths": a.paths, "distribution": a.distribution})),
        )
        .await?;
    a.target.settle(&client, &v["revision"]).await?;
    println!("revision {}", v["revision"]);
    Ok(())
}

#[derive(clap::Args)]
pub struct DeleteDistributionArgs {
    /// The distribution's Id.
    id: String,
    #[command(flatten)]
    target: Target,
}

/// Removes a distribution and its associations from every edge.
pub async fn delete_distribution(a: DeleteDistributionArgs) -> Result<()> {
    let client = a.target.client()?;
    let v = client
        .json(Method::DELETE, &format!("/v1/distributions/{}", a.id), None)
        .await?;
    a.target.settle(&client, &v["revision"]).await?;
    println!("revision {}", v["revision"]);
    Ok(())
}

#[derive(clap::Args)]
pub struct DistributionsArgs {
    #[command(subcommand)]
    op: DistributionsOp,
}

#[derive(clap::Subcommand)]
enum DistributionsOp {
    /// Every distribution: Id, domain names (Aliases), origins, behaviors.
    List {
        /// Print {"distributions": [{"id", "config"}]} (config: the stored TOML).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Remove a distribution and its associations from every edge.
    Delete(DeleteDistributionArgs),
}

pub async fn distributions(a: DistributionsArgs) -> Result<()> {
    match a.op {
        DistributionsOp::Delete(d) => delete_distribution(d).await,
        DistributionsOp::List { json, target } => {
            let v = target
                .client()?
                .json(Method::GET, "/v1/distributions", None)
                .await?;
            if json {
                println!("{v}");
                return Ok(());
            }
            println!("{:<20} {:<32} {:<8} BEHAVIORS", "ID", "ALIASES", "ORIGINS");
            for d in v["distributions"].as_array().into_iter().flatten() {
                let cfg: toml::Value = toml::from_str(d["config"].as_str().unwrap_or_default())?;
                let t = &cfg["distributions"][0];
                let count = |k: &str| {
                    let v = t.get(k);
                    v.and_then(|v| v.as_array().map(Vec::len))
                        .or_else(|| v.and_then(|v| v.get("Items")?.as_array().map(Vec::len)))
                        .unwrap_or(0)
                };
                let aliases: Vec<&str> = t
                    .get("Aliases")
                    .and_then(|a| a.as_array().or_else(|| a.get("Items")?.as_array()))
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str())
                    .collect();
                println!(
                    "{:<20} {:<32} {:<8} {}",
                    d["id"].as_str().unwrap_or_default(),
                    if aliases.is_empty() {
                        "-".to_string()
                    } else {
                        aliases.join(",")
                    },
                    count("Origins"),
                    1 + count("CacheBehaviors")
                );
            }
            Ok(())
        }
    }
}

#[derive(clap::Args)]
pub struct FunctionsArgs {
    #[command(subcommand)]
    op: FunctionsOp,
}

#[derive(clap::Subcommand)]
enum FunctionsOp {
    /// Delete NAME:VERSION, or NAME with every version (refused while one is associated).
    Delete {
        /// NAME or NAME:VERSION.
        function: String,
        #[command(flatten)]
        target: Target,
    },
}

pub async fn functions(a: FunctionsArgs) -> Result<()> {
    let FunctionsOp::Delete { function, target } = a.op;
    let client = target.client()?;
    match function.rsplit_once(':') {
        Some((name, v)) => {
            let v: u64 = v
                .parse()
                .map_err(|_| anyhow!("{function}: the version after ':' must be a number"))?;
            client
                .json(
                    Method::DELETE,
                    &format!("/v1/functions/{name}/versions/{v}"),
                    None,
                )
                .await?;
            println!("deleted {name}:{v}");
        }
        None => {
            let v = client
                .json(Method::DELETE, &format!("/v1/functions/{function}"), None)
                .await?;
            println!("deleted {function} ({} versions)", v["versions"]);
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ForgetArgs {
    /// The edge's POP name.
    pop: String,
    #[command(flatten)]
    target: Target,
}

pub async fn forget(a: ForgetArgs) -> Result<()> {
    a.target
        .client()?
        .json(Method::DELETE, &format!("/v1/edges/{}", a.pop), None)
        .await?;
    println!("forgot {}", a.pop);
    Ok(())
}

#[derive(clap::Args)]
pub struct NameArgs {
    name: String,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

pub async fn rollback(a: NameArgs) -> Result<()> {
    let client = a.target.client()?;
    let v = client
        .json(
            Method::POST,
            &format!("/v1/functions/{}/rollback", a.name),
            None,
        )
        .await?;
    a.target.settle(&client, &v["revision"]).await?;
    if a.json {
        println!("{v}");
    } else {
        for c in v["changed"].as_array().into_iter().flatten() {
            println!("{}", c.as_str().unwrap_or_default());
        }
        println!("revision {}", v["revision"]);
    }
    Ok(())
}

pub async fn versions(a: NameArgs) -> Result<()> {
    let v = a
        .target
        .client()?
        .json(
            Method::GET,
            &format!("/v1/functions/{}/versions", a.name),
            None,
        )
        .await?;
    if a.json {
        println!("{v}");
        return Ok(());
    }
    println!(
        "{:<8} {:<64} {:>9}  ASSOCIATED",
        "VERSION", "SHA256", "BYTES"
    );
    println!(
        "{:<8} {:<64} {:>9}",
        "$LATEST",
        v["latest"]["sha256"].as_str().unwrap_or(""),
        v["latest"]["size"].to_string()
    );
    for x in v["versions"].as_array().into_iter().flatten() {
        let used: Vec<&str> = x["associations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str())
            .collect();
        println!(
            "{:<8} {:<64} {:>9}  {}",
            x["version"].to_string(),
            x["sha256"].as_str().unwrap_or(""),
            x["size"].to_string(),
            used.join(", ")
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct DeployArgs {
    /// An edge.toml: its distributions go to the control node, its function files are
    /// published and associated, all live in one revision.
    #[arg(long, default_value = "edge.toml")]
    config: PathBuf,
    /// Keep the control node's distributions the file does not name (by default the file's
    /// distributions replace the whole set, in one revision).
    #[arg(long)]
    merge: bool,
    #[command(flatten)]
    target: Target,
}

pub async fn deploy_cmd(a: DeployArgs) -> Result<()> {
    let client = a.target.client()?;
    edge_node::config::ConfigFile::read(&a.config)?.log_accepted();
    let d = deploy(&client, &a.config, &OriginRewrite::default(), !a.merge).await?;
    a.target.settle(&client, &json!(d.revision)).await?;
    for f in &d.functions {
        println!("{f}  {}", f.file.display());
    }
    println!("revision {}", d.revision);
    Ok(())
}

/// A published function of a deployed file.
#[derive(Debug, Clone)]
pub struct DeployedFn {
    pub name: String,
    /// A Lambda version, or how many times a CloudFront function's LIVE stage was published.
    pub version: u64,
    pub file: PathBuf,
    pub cloudfront: bool,
}

impl std::fmt::Display for DeployedFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.cloudfront {
            write!(
                f,
                "{} (CloudFront function, LIVE #{})",
                self.name, self.version
            )
        } else {
            write!(f, "{}:{}", self.name, self.version)
        }
    }
}

pub struct Deployed {
    pub revision: u64,
    pub functions: Vec<DeployedFn>,
    /// The KeyValueStore files (`[[key_value_stores]]` `File`) it deployed.
    pub store_files: Vec<PathBuf>,
    /// The stores whose items it created or replaced.
    pub stores_changed: Vec<String>,
}

/// Where `edge up` points a configuration's origins.
#[derive(Debug, Clone, Default)]
pub struct OriginRewrite {
    /// Loopback origins on port `.0` go to port `.1` (the mock origin `edge up` started).
    pub loopback: Option<(u16, u16)>,
    /// Origins whose DomainName is `.0` go to host `.1`, port `.2` (`--local-origin`).
    pub domains: Vec<(String, String, u16)>,
}

impl OriginRewrite {
    fn apply(&self, d: &mut toml::Value) {
        if let Some((from, to)) = self.loopback {
            edge_node::config::local::rewrite_loopback_port(d, from, to);
        }
        for (domain, host, port) in &self.domains {
            edge_node::config::local::point_origin(d, domain, host, *port);
        }
    }
}

/// The association lists of a behavior that name functions by ARN (published on the control
/// node) rather than by File: (list, ARN field).
const BY_ARN: [(&str, &str); 2] = [
    ("LambdaFunctionAssociations", "LambdaFunctionARN"),
    ("FunctionAssociations", "FunctionARN"),
];

/// The file an association's function comes from, and the name its ARN gives it: its `File`,
/// or for a function named by ARN its local source (`functions/NAME.js`, … beside the
/// configuration). `None`: named by ARN with no local source (the control node resolves it).
fn source_of(a: &toml::Value, base: &Path) -> Option<(PathBuf, Option<String>)> {
    let arn_name = edge_node::config::local::arn_name(a).map(str::to_string);
    let file = match a.get("File").and_then(|f| f.as_str()) {
        Some(f) => base.join(f),
        None => edge_node::config::local_source(base, arn_name.as_deref()?)?,
    };
    Some((file, arn_name))
}

/// Removes the array `key` from a table: its items.
fn take_list(t: &mut toml::value::Table, key: &str) -> Vec<toml::Value> {
    match t.remove(key) {
        Some(toml::Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// A string field of an association table, or `""`.
fn text<'a>(a: &'a toml::Value, key: &str) -> &'a str {
    a.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

/// Every behavior table of one distribution table, with its PathPattern (None: the default).
fn behaviors_of(d: &mut toml::Value) -> Vec<(Option<String>, &mut toml::value::Table)> {
    let mut out = Vec::new();
    let Some(t) = d.as_table_mut() else {
        return out;
    };
    for (k, v) in t.iter_mut() {
        match (k.as_str(), v) {
            ("DefaultCacheBehavior", toml::Value::Table(b)) => out.push((None, b)),
            ("CacheBehaviors", toml::Value::Array(list)) => {
                for b in list.iter_mut() {
                    if let toml::Value::Table(b) = b {
                        let pattern = b
                            .get("PathPattern")
                            .and_then(|p| p.as_str())
                            .map(str::to_string);
                        out.push((pattern, b));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Deploys a configuration file: publishes each function file (an unchanged file keeps its
/// version; a CloudFront function's DEVELOPMENT stage is updated and published to LIVE), then
/// puts every distribution with its associations in one revision (with `replace`, removing the
/// distributions the file does not name in it). Functions named by ARN
/// (`LambdaFunctionARN`, `FunctionARN`) are associated as published on the control node.
pub async fn deploy(
    client: &Client,
    path: &Path,
    rewrite: &OriginRewrite,
    replace: bool,
) -> Result<Deployed> {
    let file = edge_node::config::ConfigFile::read(path)?;
    let base = file.base.clone();
    let mut doc = file.document()?;
    // Refuse a bad file here, with field paths, before anything is published: everything but
    // the ARNs with no local source, which only the control node can resolve (it checks them
    // in the same change).
    let mut by_file = doc.clone();
    for d in by_file
        .get_mut("distributions")
        .and_then(|d| d.as_array_mut())
        .into_iter()
        .flatten()
    {
        for (_, b) in behaviors_of(d) {
            for (list, arn) in BY_ARN {
                if let Some(toml::Value::Array(items)) = b.get_mut(list) {
                    items.retain(|a| a.get(arn).is_none() || source_of(a, &base).is_some());
                }
            }
        }
    }
    let checked = edge_node::config::parse_toml_in(&toml::to_string(&by_file)?, &base)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    // The file's KeyValueStores first: a function created below may read one.
    let mut stores: std::collections::HashMap<String, String> = Default::default();
    let mut store_files = Vec::new();
    let mut stores_changed = Vec::new();
    for s in doc
        .get("key_value_stores")
        .and_then(|k| k.as_array())
        .into_iter()
        .flatten()
    {
        let name = text(s, "Name");
        let data = match s.get("File").and_then(|f| f.as_str()) {
            Some(f) => {
                store_files.push(base.join(f));
                std::fs::read_to_string(base.join(f))
                    .with_context(|| format!("cannot read {}", base.join(f).display()))?
            }
            None => r#"{"data":[]}"#.to_string(),
        };
        let (arn, changed) = put_store(client, name, text(s, "Comment"), &data).await?;
        if changed {
            stores_changed.push(name.to_string());
        }
        stores.insert(name.to_string(), arn);
    }
    let mut functions: Vec<DeployedFn> = Vec::new();
    let mut puts = Vec::new();
    let dists = doc
        .get_mut("distributions")
        .and_then(|d| d.as_array_mut())
        .ok_or_else(|| anyhow!("{}: no [[distributions]]", path.display()))?;
    for (i, d) in dists.iter_mut().enumerate() {
        let id = checked.distributions[i].id.clone();
        rewrite.apply(d);
        let table = d
            .as_table_mut()
            .ok_or_else(|| anyhow!("distributions[{i}] is not a table"))?;
        table.insert("Id".into(), toml::Value::String(id.clone()));
        let mut associations = Vec::new();
        for (pattern, t) in behaviors_of(d) {
            let behavior = pattern.clone().unwrap_or_else(|| "default".into());
            for a in take_list(t, "LambdaFunctionAssociations") {
                let stage = text(&a, "EventType");
                let include_body = a
                    .get("IncludeBody")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
                let Some((file, arn_name)) = source_of(&a, &base) else {
                    // Named by ARN with no local source: the version published on the control node.
                    associations.push(json!({"function": text(&a, "LambdaFunctionARN"), "behavior": behavior, "stage": stage, "include_body": include_body}));
                    continue;
                };
                let handler = a.get("Handler").and_then(|h| h.as_str());
                let code = edge_node::config::load_function(&file, handler, "File")
                    .map_err(|e| anyhow!("{e}"))?;
                let name = a
                    .get("Name")
                    .and_then(|n| n.as_str())
                    .or(arn_name.as_deref())
                    .map(str::to_string)
                    .unwrap_or_else(|| code.name.clone());
                let version = match functions.iter().find(|f| f.name == name && f.file == file) {
                    Some(f) => f.version,
                    None => {
                        let p = client.publish(&name, &code.bytes).await?;
                        functions.push(DeployedFn {
                            name: name.clone(),
                            version: p.version,
                            file: file.clone(),
                            cloudfront: false,
                        });
                        p.version
                    }
                };
                associations.push(json!({
                    "function": format!("{name}:{version}"), "behavior": behavior,
                    "stage": stage, "include_body": include_body,
                }));
            }
            for a in take_list(t, "FunctionAssociations") {
                let stage = text(&a, "EventType");
                let function = match source_of(&a, &base) {
                    // Named by ARN with no local source: the function on the control node.
                    None => text(&a, "FunctionARN").to_string(),
                    Some((file, arn_name)) => {
                        let runtime = a
                            .get("Runtime")
                            .and_then(|r| r.as_str())
                            .unwrap_or("cloudfront-js-2.0");
                        let code = std::fs::read_to_string(&file)
                            .with_context(|| format!("cannot read {}", file.display()))?;
                        let name = a
                            .get("Name")
                            .and_then(|n| n.as_str())
                            .or(arn_name.as_deref())
                            .map(str::to_string)
                            .unwrap_or_else(|| edge_node::config::function_name_of(&file));
                        let kvs = a
                            .get("KeyValueStore")
                            .and_then(|k| k.as_str())
                            .and_then(|k| stores.get(k))
                            .map(String::as_str);
                        if !functions.iter().any(|f| f.name == name && f.file == file) {
                            let version =
                                put_cloudfront_function(client, &name, runtime, &code, kvs).await?;
                            functions.push(DeployedFn {
                                name: name.clone(),
                                version,
                                file: file.clone(),
                                cloudfront: true,
                            });
                        }
                        name
                    }
                };
                associations
                    .push(json!({"function": function, "behavior": behavior, "stage": stage}));
            }
        }
        let mut one = toml::map::Map::new();
        one.insert("distributions".into(), toml::Value::Array(vec![d.clone()]));
        let config = toml::to_string(&toml::Value::Table(one))?;
        puts.push(json!({"id": id, "config": config, "associations": associations}));
    }
    if puts.is_empty() {
        bail!("{}: no distribution deployed", path.display());
    }
    // Every distribution in one revision; with `replace` the control node's others go in it.
    let v = client
        .json(
            Method::PUT,
            "/v1/distributions",
            Some(&json!({"distributions": puts, "replace": replace})),
        )
        .await?;
    let revision = v["revision"].as_u64().unwrap_or(0);
    Ok(Deployed {
        revision,
        functions,
        store_files,
        stores_changed,
    })
}

/// Makes a CloudFront function's LIVE stage this code and runtime: created, or its
/// DEVELOPMENT stage updated when it differs, then published when LIVE differs. Returns how
/// many times LIVE has been published.
pub async fn put_cloudfront_function(
    client: &Client,
    name: &str,
    runtime: &str,
    code: &str,
    kvs: Option<&str>,
) -> Result<u64> {
    use edge_client::control::ApiError;
    let sha = edge_node::replica::sha256_hex(code.as_bytes());
    let path = format!("/v1/cloudfront-functions/{name}");
    let body = json!({"runtime": runtime, "code": code, "key_value_store": kvs.unwrap_or("")});
    let missing = |e: &anyhow::Error| {
        e.downcast_ref::<ApiError>()
            .is_some_and(|a| a.code == "NoSuchFunctionExists")
    };
    let same = |v: &Value| {
        let config = &v["FunctionSummary"]["FunctionConfig"];
        v["CodeSha256"] == sha.as_str()
            && config["Runtime"] == runtime
            && config["KeyValueStoreAssociations"]["Items"][0]["KeyValueStoreARN"].as_str() == kvs
    };
    match client
        .json(Method::GET, &format!("{path}?stage=DEVELOPMENT"), None)
        .await
    {
        Ok(dev) if same(&dev) => {}
        Ok(_) => {
            client.json(Method::PUT, &path, Some(&body)).await?;
        }
        Err(e) if missing(&e) => {
            client.json(Method::POST, &path, Some(&body)).await?;
        }
        Err(e) => return Err(e),
    }
    let live = match client
        .json(Method::GET, &format!("{path}?stage=LIVE"), None)
        .await
    {
        Ok(v) => Some(v),
        Err(e) if missing(&e) => None,
        Err(e) => return Err(e),
    };
    if let Some(v) = live.filter(same) {
        return Ok(v["LiveVersion"].as_u64().unwrap_or(0));
    }
    let v = client
        .json(Method::POST, &format!("{path}/publish"), None)
        .await?;
    Ok(v["LiveVersion"].as_u64().unwrap_or(0))
}

/// Makes a KeyValueStore hold an import file's items: created, or imported over when its items
/// differ. Returns its ARN and whether its items changed.
pub async fn put_store(
    client: &Client,
    name: &str,
    comment: &str,
    data: &str,
) -> Result<(String, bool)> {
    use edge_client::control::ApiError;
    let path = format!("/v1/kvs/{name}");
    let wanted = edge_node::cloudfront::kvs::parse_import(data.as_bytes())
        .map_err(|e| anyhow!("KeyValueStore {name}: {e}"))?;
    let v = match client.json(Method::GET, &path, None).await {
        Ok(_) => {
            let keys = client
                .json(Method::GET, &format!("{path}/keys"), None)
                .await?;
            let mut have: Vec<(String, String)> = keys["Items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| {
                    let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
                    (s("Key"), s("Value"))
                })
                .collect();
            let mut want = wanted;
            have.sort();
            want.sort();
            if have == want {
                let v = client.json(Method::GET, &path, None).await?;
                return Ok((arn_of(&v), false));
            } else {
                let (_, b) = client
                    .send(
                        Method::PUT,
                        &format!("{path}/data"),
                        "application/json",
                        data.as_bytes().to_vec(),
                    )
                    .await?;
                serde_json::from_slice(&b)?
            }
        }
        Err(e)
            if e.downcast_ref::<ApiError>()
                .is_some_and(|a| a.code == "EntityNotFound") =>
        {
            client
                .json(
                    Method::POST,
                    &path,
                    Some(&json!({"comment": comment, "data": data})),
                )
                .await?
        }
        Err(e) => return Err(e),
    };
    Ok((arn_of(&v), true))
}

fn arn_of(v: &Value) -> String {
    v["KeyValueStore"]["ARN"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A next step for an error, where one helps.
pub fn hint(e: &anyhow::Error) -> Option<String> {
    use edge_client::control::{ApiError, Unreachable};
    if e.downcast_ref::<Unreachable>().is_some() {
        return Some(
            "start one with `edge up` (or `edge control`), or point --control / EDGE_CONTROL at it"
                .into(),
        );
    }
    let api = e.downcast_ref::<ApiError>()?;
    match api.code.as_str() {
        "ResourceNotFoundException" => {
            let what = api.message.strip_suffix(" not found")?;
            if let Some(v) = what.strip_prefix("function version ") {
                let name = v.split(':').next().unwrap_or(v);
                Some(format!("`edge versions {name}` lists the published versions (`edge publish` prints the version it made, or the newest when the code is unchanged)"))
            } else {
                what.strip_prefix("function ").map(|name| {
                    format!("publish it first: `edge publish {name} PATH`")
                })
            }
        }
        "Unauthorized" => Some("the token is missing or wrong: --token or EDGE_TOKEN (`edge up` writes the URL and token to .edge/control.json)".into()),
        _ => None,
    }
}
