//! Listeners and workers, thread-per-core: each worker thread runs a current-thread Tokio
//! runtime with a `LocalSet` that owns its own SO_REUSEPORT listeners, its origin clients and
//! its JavaScript isolates, so nothing on the request path crosses threads except the
//! shared cache. HTTP/1.1 and HTTP/2 (prior knowledge) on the plain listener; ALPN h2/http1.1
//! on the TLS one. Shutdown stops accepting and lets in-flight requests finish.

use crate::config::{Distributions, NodeConfig, Protocol};
use crate::driver::{Conn, NodeShared, Worker};
use crate::error::NodeError;
use crate::http::flood::FloodGuard;
use crate::js::FnError;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use socket2::{Domain, Socket, Type};
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// Where a node listens.
#[derive(Debug, Clone)]
pub struct Listen {
    pub http: SocketAddr,
    pub tls: Option<SocketAddr>,
}

/// A started node: its bound addresses and the handle to stop it.
pub struct RunningNode {
    pub http: SocketAddr,
    pub tls: Option<SocketAddr>,
    pub shared: Arc<NodeShared>,
    pub handle: NodeHandle,
    shutdown: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

/// What a worker thread is asked to do besides serving.
enum Command {
    /// Create and warm isolates for every function of this configuration.
    Load(Arc<Distributions>, oneshot::Sender<Result<(), FnError>>),
    /// The first configuration replaced the second: retire the second's functions.
    Retire(Arc<Distributions>, Arc<Distributions>),
    /// Replace every isolate with a fresh one; answers how many were created.
    Recycle(oneshot::Sender<Result<usize, FnError>>),
}

/// Changes a running node's configuration.
#[derive(Clone)]
pub struct NodeHandle {
    shared: Arc<NodeShared>,
    workers: Vec<mpsc::UnboundedSender<Command>>,
    /// One change at a time.
    applying: Arc<tokio::sync::Mutex<()>>,
}

impl NodeHandle {
    /// This node's own settings (fixed for its life).
    pub fn settings(&self) -> crate::config::NodeSettings {
        self.shared.node.clone()
    }

    /// Drops cached objects matching `paths` in one distribution (by Id) or all; the count
    /// dropped, or 0 when no distribution has that Id.
    pub fn invalidate(&self, distribution: Option<&str>, paths: &[String]) -> usize {
        self.shared.invalidate(distribution, paths).unwrap_or(0)
    }

    /// Evicts every worker's isolates and creates fresh ones (off the request path: the old
    /// ones serve until each replacement is ready); how many were created.
    pub async fn recycle(&self) -> Result<usize, NodeError> {
        let _one = self.applying.lock().await;
        let mut created = 0;
        for w in &self.workers {
            let (tx, rx) = oneshot::channel();
            w.send(Command::Recycle(tx))
                .map_err(|_| NodeError::Startup("a worker has stopped".into()))?;
            created += rx
                .await
                .map_err(|_| NodeError::Startup("a worker stopped while recycling".into()))?
                .map_err(NodeError::Function)?;
        }
        Ok(created)
    }

    /// Re-opens the node's geo databases (after their files were replaced) and swaps them in.
    pub fn reload_geo(&self) -> Result<(), NodeError> {
        let paths = &self.shared.node.geo_db;
        if paths.is_empty() {
            return Ok(());
        }
        let db = crate::viewer::GeoDb::open(paths)?;
        self.shared.geo.store(Some(Arc::new(db)));
        Ok(())
    }

    /// Re-reads a configuration file and applies it; returns the functions now live as
    /// `(name, version, sha256)`.
    pub async fn reload_file(
        &self,
        path: &std::path::Path,
    ) -> Result<Vec<(String, u64, String)>, NodeError> {
        let config = crate::config::load_file(path)?;
        let functions = config
            .functions()
            .iter()
            .map(|c| (c.name.clone(), c.version, c.sha256.clone()))
            .collect();
        self.apply(config.distributions).await?;
        crate::cloudfront::kvs::install(config.key_value_stores);
        self.reload_geo()?;
        Ok(functions)
    }

    /// Makes `config` live atomically: every worker first creates and warms the isolates of
    /// its functions (old versions keep serving meanwhile); only when all have succeeded is
    /// the configuration swapped, and then the isolates of retired versions are dropped. On
    /// any failure nothing changes. This node's own settings ([node]) are fixed for its life.
    pub async fn apply(&self, config: Distributions) -> Result<(), NodeError> {
        let _one = self.applying.lock().await;
        let config = Arc::new(config);
        let mut acks = Vec::with_capacity(self.workers.len());
        for w in &self.workers {
            let (tx, rx) = oneshot::channel();
            w.send(Command::Load(config.clone(), tx))
                .map_err(|_| NodeError::Startup("a worker has stopped".into()))?;
            acks.push(rx);
        }
        for ack in acks {
            ack.await
                .map_err(|_| NodeError::Startup("a worker stopped while loading functions".into()))?
                .map_err(NodeError::Function)?;
        }
        let old = self.shared.config.swap(config.clone());
        for w in &self.workers {
            let _ = w.send(Command::Retire(config.clone(), old.clone()));
        }
        Ok(())
    }
}

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(30);

impl RunningNode {
    /// Binds every listener (so address errors surface here) and starts the workers.
    pub fn start(config: NodeConfig, listen: &Listen) -> Result<RunningNode, NodeError> {
        crate::js::make_startup_snapshot();
        // A configuration file's stores (a replica installs the control node's itself).
        if !config.key_value_stores.is_empty() {
            crate::cloudfront::kvs::install(config.key_value_stores.clone());
        }
        let workers = match config.node.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let tls = match listen.tls {
            Some(_) => Some(crate::tls::server_config(
                config.node.tls_cert.as_deref(),
                config.node.tls_key.as_deref(),
            )?),
            None => None,
        };
        let http_sockets = bind_group(listen.http, workers)?;
        let http = http_sockets[0].local_addr().map_err(startup)?;
        let tls_sockets = match listen.tls {
            Some(addr) => Some(bind_group(addr, workers)?),
            None => None,
        };
        let tls_addr = match &tls_sockets {
            Some(s) => Some(s[0].local_addr().map_err(startup)?),
            None => None,
        };
        let geo = if config.node.geo_db.is_empty() {
            tracing::info!(
                "no geo database (--geo-db): CloudFront-Viewer-* location headers are left out"
            );
            None
        } else {
            let db = crate::viewer::GeoDb::open(&config.node.geo_db)?;
            crate::viewer::warm_time_zones();
            Some(db)
        };
        let access_log = match config.node.access_log {
            true => Some(crate::access_log::AccessLog::start(
                config.node.access_log_format,
                config.node.access_log_file.as_deref(),
            )?),
            false => None,
        };
        // A collector URL the exporter cannot use is refused here, before the node serves.
        let tracer = match config.node.otlp.as_deref() {
            Some(url) => Some(
                crate::trace::Exporter::start(url, &config.node.pop).map_err(NodeError::Startup)?,
            ),
            None => None,
        };
        let mut shared = NodeShared::new(config, geo, access_log, tracer);
        shared.https_port = tls_addr.map(|a| a.port());
        let shared = Arc::new(shared);
        let (shutdown, rx) = watch::channel(false);
        let mut tls_sockets = tls_sockets.map(|v| v.into_iter());
        let mut threads = Vec::with_capacity(workers);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), NodeError>>();
        let mut commands = Vec::with_capacity(workers);
        for (i, http_socket) in http_sockets.into_iter().enumerate() {
            let tls_socket = tls_sockets.as_mut().and_then(|it| it.next());
            let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
            commands.push(cmd_tx);
            let (shared, rx, tls, ready) =
                (shared.clone(), rx.clone(), tls.clone(), ready_tx.clone());
            let handle = std::thread::Builder::new()
                .name(format!("edge-worker-{i}"))
                .spawn(move || {
                    run_worker(
                        shared,
                        workers,
                        http_socket,
                        tls_socket.zip(tls),
                        rx,
                        ready,
                        cmd_rx,
                    )
                })
                .map_err(startup)?;
            threads.push(handle);
        }
        drop(ready_tx);
        // Every worker reports once its listeners and clients are up; a worker that fails or
        // panics during start fails the whole start instead of leaving a node half-served.
        for _ in 0..workers {
            let outcome = ready_rx
                .recv()
                .unwrap_or_else(|_| Err(startup("a worker thread died while starting")));
            if let Err(e) = outcome {
                let _ = shutdown.send(true);
                return Err(e);
            }
        }
        let handle = NodeHandle {
            shared: shared.clone(),
            workers: commands,
            applying: Arc::new(tokio::sync::Mutex::new(())),
        };
        Ok(RunningNode {
            http,
            tls: tls_addr,
            shared,
            handle,
            shutdown,
            threads,
        })
    }

    /// Stops accepting, waits for in-flight requests (at most 30 s), joins the workers.
    pub fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.threads {
            let _ = t.join();
        }
        if let Some(log) = &self.shared.access_log {
            log.sync();
        }
        if let Some(t) = &self.shared.tracer {
            t.sync();
        }
    }
}

fn startup(e: impl std::fmt::Display) -> NodeError {
    NodeError::Startup(e.to_string())
}

/// `n` listening sockets on one address with SO_REUSEPORT, the first deciding the port when
/// `addr` has port 0.
fn bind_group(addr: SocketAddr, n: usize) -> Result<Vec<std::net::TcpListener>, NodeError> {
    // The workers share the port with SO_REUSEPORT, which would also let this node silently
    // join another process already listening there (and take half its traffic): make sure
    // the port is free first, with a socket that does not share.
    if addr.port() != 0 {
        let probe = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(startup)?;
        probe.set_reuse_address(true).map_err(startup)?;
        if let Err(e) = probe.bind(&addr.into()) {
            let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                "the address is already in use by another process".to_string()
            } else {
                e.to_string()
            };
            return Err(NodeError::Startup(format!(
                "cannot listen on {addr}: {why}"
            )));
        }
    }
    let mut out = Vec::with_capacity(n);
    let mut addr = addr;
    for _ in 0..n {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(startup)?;
        socket.set_reuse_address(true).map_err(startup)?;
        socket.set_reuse_port(true).map_err(startup)?;
        socket.set_nonblocking(true).map_err(startup)?;
        socket
            .bind(&addr.into())
            .map_err(|e| NodeError::Startup(format!("cannot listen on {addr}: {e}")))?;
        socket.listen(4096).map_err(startup)?;
        let l: std::net::TcpListener = socket.into();
        addr = l.local_addr().map_err(startup)?;
        out.push(l);
    }
    Ok(out)
}

/// Spawns `!Send` futures (hyper's HTTP/2 streams) on the worker's `LocalSet`.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F: Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

fn run_worker(
    shared: Arc<NodeShared>,
    workers: usize,
    http: std::net::TcpListener,
    tls: Option<(std::net::TcpListener, Arc<rustls::ServerConfig>)>,
    mut shutdown: watch::Receiver<bool>,
    ready: std::sync::mpsc::Sender<Result<(), NodeError>>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(startup(format!("worker runtime could not start: {e}"))));
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let node = shared.node.clone();
        let worker = Rc::new(Worker::new(shared, workers));
        // Isolates are made here, before the worker takes connections, never on a request.
        if let Err(e) = worker
            .load_functions(&worker.shared.config.load_full())
            .await
        {
            let _ = ready.send(Err(e.into()));
            return;
        }
        let mut builder = auto::Builder::new(LocalExec);
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(node.header_read_timeout)
            .max_buf_size(node.max_header_bytes)
            .max_headers(node.max_headers);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(node.max_header_bytes as u32)
            .max_concurrent_streams(256)
            .keep_alive_interval(node.idle_timeout)
            .keep_alive_timeout(Duration::from_secs(20));
        let builder = Rc::new(builder);
        let (http, tls) = match listeners(http, tls) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(startup(format!("worker could not take its listener: {e}"))));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let graceful = GracefulShutdown::new();
        // This worker's share of the node's connection limit.
        let open = Rc::new(std::cell::Cell::new(0usize));
        let limit = node.max_connections.div_ceil(workers).max(1);
        let mut collect = tokio::time::interval(Duration::from_secs(1));
        collect.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let accepted = tokio::select! {
                _ = shutdown.changed() => break,
                _ = collect.tick() => {
                    worker.collect_retired();
                    worker.flush_access_log();
                    continue;
                }
                Some(cmd) = commands.recv() => {
                    match cmd {
                        Command::Load(config, ack) => {
                            let _ = ack.send(worker.load_functions(&config).await);
                        }
                        Command::Retire(current, old) => worker.retire(current, old),
                        Command::Recycle(ack) => {
                            let _ = ack.send(worker.recycle_isolates().await);
                        }
                    }
                    continue;
                }
                r = http.accept() => r.map(|(s, peer)| (s, peer, false)),
                r = accept_opt(tls.as_ref().map(|(l, _)| l)) => r.map(|(s, peer)| (s, peer, true)),
            };
            let (stream, peer, is_tls) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            if open.get() >= limit {
                tracing::warn!(%peer, limit = node.max_connections, "connection limit reached; closing a new connection");
                drop(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let conn = Conn {
                peer,
                protocol: if is_tls {
                    Protocol::Https
                } else {
                    Protocol::Http
                },
                viewer: peer.ip(),
                tls: None,
            };
            let worker = worker.clone();
            let (builder, watcher) = (builder.clone(), graceful.watcher());
            let acceptor = tls.as_ref().filter(|_| is_tls).map(|(_, a)| a.clone());
            let handshake_timeout = node.header_read_timeout;
            // A simulated distance to the viewer: the TCP handshake costs one round trip, and a
            // TLS 1.3 handshake one more, before the first request arrives.
            let handshake_rtt = node.viewer_rtt * if is_tls { 2 } else { 1 };
            let open = open.clone();
            open.set(open.get() + 1);
            tokio::task::spawn_local(async move {
                let _open = OpenConnection(open);
                if !handshake_rtt.is_zero() {
                    tokio::time::sleep(handshake_rtt).await;
                }
                // A connection that sends nothing within the header read timeout is closed: silent
                // connections must not hold a place under the connection limit for ever.
                if acceptor.is_none()
                    && tokio::time::timeout(handshake_timeout, stream.peek(&mut [0u8; 1]))
                        .await
                        .is_err()
                {
                    tracing::debug!(%peer, "closed a connection that sent nothing");
                    return;
                }
                let result = match acceptor {
                    None => {
                        let service = service_fn(move |req| worker.clone().serve(req, conn));
                        let io = TokioIo::new(FloodGuard::new(stream, peer));
                        let conn = builder.serve_connection(io, service).into_owned();
                        watcher.watch(conn).await
                    }
                    Some(acceptor) => {
                        let tls =
                            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream))
                                .await
                            {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    tracing::debug!(%peer, error = %e, "tls handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "tls handshake timed out");
                                    return;
                                }
                            };
                        let conn = Conn {
                            tls: Some(crate::driver::TlsInfo::of(tls.get_ref().1)),
                            ..conn
                        };
                        // Requests after the connection's first reuse it (CloudFront-Viewer-TLS).
                        let first = std::cell::Cell::new(true);
                        let service = service_fn(move |req| {
                            let mut conn = conn;
                            if !first.replace(false) {
                                if let Some(t) = &mut conn.tls {
                                    t.handshake = "connectionReused";
                                }
                            }
                            worker.clone().serve(req, conn)
                        });
                        let io = TokioIo::new(FloodGuard::new(tls, peer));
                        let conn = builder.serve_connection(io, service).into_owned();
                        watcher.watch(conn).await
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        drop(http);
        drop(tls);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("in-flight requests did not finish within {DRAIN:?}");
        }
        worker.flush_access_log();
    });
}

/// Counts a connection as open until it ends.
struct OpenConnection(Rc<std::cell::Cell<usize>>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

type TlsListener = (TcpListener, tokio_rustls::TlsAcceptor);

fn listeners(
    http: std::net::TcpListener,
    tls: Option<(std::net::TcpListener, Arc<rustls::ServerConfig>)>,
) -> std::io::Result<(TcpListener, Option<TlsListener>)> {
    let http = TcpListener::from_std(http)?;
    let tls = match tls {
        Some((l, cfg)) => Some((
            TcpListener::from_std(l)?,
            tokio_rustls::TlsAcceptor::from(cfg),
        )),
        None => None,
    };
    Ok((http, tls))
}

async fn accept_opt(
    l: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}
