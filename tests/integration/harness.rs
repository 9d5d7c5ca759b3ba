//! Test harness: real `edge` processes on port 0 and a small HTTP client.
//!
//! A process is ready when it prints its `ready k=v …` line on stdout; the harness waits for
//! that line (never a sleep) and kills the process on drop. Its stderr is kept for failure
//! messages.

pub use crate::configs::{x_cache, NodeToml};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub const EDGE: &str = env!("CARGO_BIN_EXE_edge");

/// A running `edge` process.
pub struct Proc {
    child: Child,
    pub ready: HashMap<String, String>,
    stderr: Arc<(Mutex<String>, Condvar)>,
    /// Every line the process wrote on stdout.
    stdout: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Proc {
    /// Starts `edge ARGS…` and waits for its ready line.
    pub fn spawn(args: &[&str]) -> Proc {
        Self::try_spawn(args).unwrap_or_else(|e| panic!("edge {}: {e}", args.join(" ")))
    }

    /// Starts `edge ARGS…`; `Err` carries stderr if it exits before being ready.
    pub fn try_spawn(args: &[&str]) -> Result<Proc, String> {
        Self::try_spawn_in(args, None, &[])
    }

    /// `try_spawn` in directory `cwd` with `env` added.
    pub fn try_spawn_in(
        args: &[&str],
        cwd: Option<&std::path::Path>,
        env: &[(&str, &str)],
    ) -> Result<Proc, String> {
        Self::try_spawn_cmd(Command::new(EDGE), args, cwd, env)
    }

    /// Starts `edge ARGS…` in network namespace `netns` (`ip netns exec`, which becomes the
    /// `edge` process) and waits for its ready line.
    pub fn spawn_in_netns(netns: &str, args: &[&str]) -> Proc {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", netns, EDGE]);
        Self::try_spawn_cmd(cmd, args, None, &[])
            .unwrap_or_else(|e| panic!("{netns}: edge {}: {e}", args.join(" ")))
    }

    fn try_spawn_cmd(
        mut cmd: Command,
        args: &[&str],
        cwd: Option<&std::path::Path>,
        env: &[(&str, &str)],
    ) -> Result<Proc, String> {
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .envs(env.iter().copied())
            .args(args)
            .env("EDGE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {EDGE}: {e}"))?;
        let stderr = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let mut err_pipe = child.stderr.take().expect("stderr piped");
        let sink = stderr.clone();
        let err_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.0
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
                sink.1.notify_all();
            }
        });
        let out = child.stdout.take().expect("stdout piped");
        let stdout = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let lines = stdout.clone();
        let each = move |line: &str| {
            lines.0.lock().unwrap().push(line.to_string());
            lines.1.notify_all();
        };
        match edge_client::process::wait_ready(out, Some(Duration::from_secs(60)), each) {
            Ok(ready) => Ok(Proc {
                child,
                ready,
                stderr,
                stdout,
            }),
            Err(_) => {
                let _ = child.kill();
                let code = child.wait().ok().and_then(|s| s.code());
                // The reader ends at the pipe's end, so every line is in by then.
                let _ = err_reader.join();
                let logs = stderr.0.lock().unwrap().clone();
                Err(format!(
                    "exited with code {code:?} before ready; stderr:\n{logs}"
                ))
            }
        }
    }

    pub fn addr(&self, key: &str) -> String {
        self.ready
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in ready line {:?}", self.ready))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything written to stderr so far.
    pub fn logs(&self) -> String {
        self.stderr.0.lock().unwrap().clone()
    }

    /// Waits (at most 30 s) until stderr contains `needle`, and returns all of it.
    pub fn wait_for_log(&self, needle: &str) -> String {
        self.wait_for_logs(needle, 1)
    }

    /// Waits (at most 30 s) until stderr contains `needle` `n` times, and returns all of it.
    pub fn wait_for_logs(&self, needle: &str, n: usize) -> String {
        let (lock, cv) = &*self.stderr;
        let logs = lock.lock().unwrap();
        let (logs, _) = cv
            .wait_timeout_while(logs, Duration::from_secs(30), |l| {
                l.matches(needle).count() < n
            })
            .unwrap();
        logs.clone()
    }

    /// Resident memory of the process (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.proc_status_kib("VmRSS:")
    }

    /// The most resident memory the process has had (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.proc_status_kib("VmHWM:")
    }

    fn proc_status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"))
    }

    /// Waits (at most 30 s) until a stdout line contains `needle`; returns every line.
    pub fn wait_for_stdout(&self, needle: &str) -> Vec<String> {
        let (lock, cv) = &*self.stdout;
        let lines = lock.lock().unwrap();
        let (lines, _) = cv
            .wait_timeout_while(lines, Duration::from_secs(30), |l| {
                !l.iter().any(|l| l.contains(needle))
            })
            .unwrap();
        lines.clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mock origin.
pub struct Origin {
    /// Held so the process lives as long as this value.
    #[allow(dead_code)]
    pub proc: Proc,
    pub base: String,
}

pub fn origin() -> Origin {
    let proc = Proc::spawn(&["origin", "--listen", "127.0.0.1:0"]);
    let base = format!("http://{}", proc.addr("http"));
    Origin { proc, base }
}

/// A mock origin serving the files under `root` (404 for the rest).
pub fn origin_with_root(root: &std::path::Path) -> Origin {
    let root = root.to_str().expect("a UTF-8 path");
    let proc = Proc::spawn(&["origin", "--listen", "127.0.0.1:0", "--root", root]);
    let base = format!("http://{}", proc.addr("http"));
    Origin { proc, base }
}

impl Origin {
    pub async fn stats(&self) -> serde_json::Value {
        let r = get(&format!("{}/__stats", self.base)).await;
        serde_json::from_slice(&r.body).expect("stats JSON")
    }

    pub async fn total(&self) -> u64 {
        self.stats().await["total"].as_u64().expect("total")
    }
}

/// An edge node with an admin listener.
pub struct Edge {
    pub proc: Proc,
    pub base: String,
    pub admin: String,
}

/// The admin token the harness's standalone edges are started with.
pub const ADMIN_TOKEN: &str = "test-admin-token";

impl Edge {
    /// `METHOD admin PATH` with the admin token.
    pub async fn admin_call(&self, method: Method, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        request(
            method,
            &format!("{}{path}", self.admin),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            Bytes::from(body.to_string()),
        )
        .await
    }
}

/// `edge node --origin URL` plus `extra` arguments.
pub fn edge_for(origin: &Origin, extra: &[&str]) -> Edge {
    let mut args = vec![
        "node",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--admin-token",
        ADMIN_TOKEN,
        "--origin",
        &origin.base,
    ];
    args.extend_from_slice(extra);
    edge_with(&args)
}

/// `edge node` with a configuration file written from `toml`.
pub fn edge_with_config(toml: &str, extra: &[&str]) -> (Edge, tempfile::TempPath) {
    let path = write_temp(toml);
    (edge_with_config_file(&path, extra), path)
}

/// What `edge node --config PATH` says when it refuses to start (it must refuse).
pub fn config_refused(path: &std::path::Path) -> String {
    Proc::try_spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--config",
        path.to_str().unwrap(),
    ])
    .err()
    .expect("the node refuses this configuration")
}

/// `edge node --config PATH` plus `extra` arguments.
pub fn edge_with_config_file(path: &std::path::Path, extra: &[&str]) -> Edge {
    let p = path.to_str().unwrap();
    let mut args = vec![
        "node",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--admin-token",
        ADMIN_TOKEN,
        "--config",
        p,
    ];
    args.extend_from_slice(extra);
    edge_with(&args)
}

fn edge_with(args: &[&str]) -> Edge {
    let proc = Proc::spawn(args);
    let base = format!("http://{}", proc.addr("http"));
    let admin = format!("http://{}", proc.addr("admin"));
    Edge { proc, base, admin }
}

pub fn write_temp(text: &str) -> tempfile::TempPath {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(text.as_bytes()).expect("write temp");
    f.into_temp_path()
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn x_cache(&self) -> &str {
        self.header("x-cache")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

type HttpsConnector =
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// HTTP and HTTPS; any certificate is believed (what trusts a control node's certificate is
/// tested through the processes that pin it).
fn client() -> Client<HttpsConnector, Full<Bytes>> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(edge_node::tls::AcceptAnyCert(provider)))
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(cfg)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

pub async fn get(url: &str) -> Resp {
    request(Method::GET, url, &[], Bytes::new()).await
}

pub async fn get_with(url: &str, headers: &[(&str, &str)]) -> Resp {
    request(Method::GET, url, headers, Bytes::new()).await
}

/// GETs `urls` in turn over one client, which keeps (and reuses) its connection.
pub async fn get_on_one_connection(urls: &[&str]) -> Vec<Resp> {
    let client = client();
    let mut out = Vec::new();
    for url in urls {
        let req = Request::get(*url)
            .body(Full::new(Bytes::new()))
            .expect("request");
        let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
            .await
            .unwrap_or_else(|_| panic!("no answer from {url} within 30 s"))
            .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        out.push(Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        });
    }
    out
}

pub async fn request(method: Method, url: &str, headers: &[(&str, &str)], body: Bytes) -> Resp {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body)).expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(30), client().request(req))
        .await
        .unwrap_or_else(|_| panic!("no answer from {url} within 30 s"))
        .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A local port that nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Path of an example under functions/.
pub fn example(name: &str) -> String {
    format!("{}/../functions/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// An edge in front of `origin` with `--function STAGE=FILE` for each pair.
pub fn edge_with_functions(origin: &Origin, functions: &[(&str, &str)], extra: &[&str]) -> Edge {
    let specs: Vec<String> = functions
        .iter()
        .map(|(stage, file)| format!("{stage}={file}"))
        .collect();
    let mut args: Vec<&str> = Vec::new();
    for s in &specs {
        args.push("--function");
        args.push(s);
    }
    args.extend_from_slice(extra);
    edge_for(origin, &args)
}

/// A GeoIP2-layout city database on the documentation ranges: 192.0.2.0/24 GB,
/// 198.51.100.0/24 SE, 203.0.113.0/24 DE, 2001:db8::/32 JP.
pub fn test_db() -> tempfile::TempPath {
    let names = |en: &str| mmdb_writer::Value::map([("en", mmdb_writer::Value::from(en))]);
    let rec = |cc: &str,
               country: &str,
               region: &str,
               region_name: &str,
               city: &str,
               lat: f64,
               lon: f64,
               tz: &str| {
        mmdb_writer::Value::map([
            (
                "country",
                mmdb_writer::Value::map([
                    ("iso_code", mmdb_writer::Value::from(cc)),
                    ("names", names(country)),
                ]),
            ),
            (
                "subdivisions",
                mmdb_writer::Value::array([mmdb_writer::Value::map([
                    ("iso_code", mmdb_writer::Value::from(region)),
                    ("names", names(region_name)),
                ])]),
            ),
            ("city", mmdb_writer::Value::map([("names", names(city))])),
            (
                "location",
                mmdb_writer::Value::map([
                    ("latitude", mmdb_writer::Value::from(lat)),
                    ("longitude", mmdb_writer::Value::from(lon)),
                    ("time_zone", mmdb_writer::Value::from(tz)),
                ]),
            ),
        ])
    };
    let mut w = mmdb_writer::Writer::new("GeoIP2-City");
    let net = |s: &str| s.parse::<ipnet::IpNet>().unwrap();
    w.insert_value(
        net("192.0.2.0/24"),
        rec(
            "GB",
            "United Kingdom",
            "ENG",
            "England",
            "London",
            51.5142,
            -0.0931,
            "Europe/London",
        ),
    )
    .unwrap();
    w.insert_value(
        net("198.51.100.0/24"),
        rec(
            "SE",
            "Sweden",
            "E",
            "Östergötland County",
            "Linköping",
            58.4167,
            15.6167,
            "Europe/Stockholm",
        ),
    )
    .unwrap();
    w.insert_value(
        net("203.0.113.0/24"),
        rec(
            "DE",
            "Germany",
            "BE",
            "Berlin",
            "Berlin",
            52.52,
            13.405,
            "Europe/Berlin",
        ),
    )
    .unwrap();
    w.insert_value(
        net("2001:db8::/32"),
        rec(
            "JP",
            "Japan",
            "13",
            "Tokyo",
            "Tokyo",
            35.6895,
            139.6917,
            "Asia/Tokyo",
        ),
    )
    .unwrap();
    let path = tempfile::Builder::new()
        .suffix(".mmdb")
        .tempfile()
        .unwrap()
        .into_temp_path();
    std::fs::write(&path, w.to_bytes().unwrap()).unwrap();
    path
}
