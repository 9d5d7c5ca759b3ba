//! `[node]` and `[[pops]]`: this node's own settings (fixed for its life) and the local
//! cluster's POPs with the distances they simulate.

use super::raw::*;
use super::validate::{positive, seconds, Result};
use super::*;
use crate::error::NodeError;

/// Settings of this node.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    pub pop: String,
    pub cache_bytes: u64,
    pub max_object_bytes: usize,
    pub max_request_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// 0 means one per available core.
    pub workers: usize,
    /// Open viewer connections per node (divided between the workers).
    pub max_connections: usize,
    pub access_log: bool,
    pub access_log_format: crate::access_log::Format,
    /// The access log's file (relative paths from where the node runs); stdout without one.
    pub access_log_file: Option<std::path::PathBuf>,
    /// The OTLP/HTTP collector traces go to (crate::trace), if any.
    pub otlp: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub functions: FunctionSettings,
    pub geo_db: Vec<std::path::PathBuf>,
    pub dev: bool,
    pub viewer_ip: Option<std::net::IpAddr>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The cluster's POPs and their simulated round trips (`[[pops]]`).
    pub pops: Vec<PopLink>,
    /// Simulated viewer ↔ this edge round trip: added once per response and once per new
    /// connection (the TCP handshake; twice for TLS). Zero: none.
    pub viewer_rtt: Duration,
    /// Simulated this edge ↔ origin round trip, added to every origin fetch. Zero: none.
    pub origin_rtt: Duration,
}

/// A POP of the local cluster with the network distances it simulates.
#[derive(Debug, Clone, PartialEq)]
pub struct PopLink {
    pub name: String,
    pub viewer_rtt: Duration,
    pub origin_rtt: Duration,
}

impl NodeSettings {
    /// Takes this node's round trips from the `[[pops]]` entry named like its POP, if any.
    pub fn apply_pop_link(&mut self) {
        if let Some(l) = self.pops.iter().find(|l| l.name == self.pop) {
            self.viewer_rtt = l.viewer_rtt;
            self.origin_rtt = l.origin_rtt;
        }
    }
}

/// How functions run on this node.
#[derive(Debug, Clone)]
pub struct FunctionSettings {
    pub limits: crate::js::FunctionLimits,
    pub execution_error_status: http::StatusCode,
    pub strict_viewer_response_status: bool,
    pub server_timing: bool,
}

/// A simulated round trip in milliseconds: 0 to 10 s.
pub(super) fn rtt(field: &str, v: Option<f64>) -> Result<Duration> {
    let v = v.unwrap_or(0.0);
    if !(0.0..=defaults::MAX_RTT_MS).contains(&v) {
        return Err(NodeError::config(
            field,
            format!("must be between 0 and {} ms, got {v}", defaults::MAX_RTT_MS),
        ));
    }
    Ok(Duration::from_secs_f64(v / 1e3))
}

/// The `[[pops]]` list: names like IAD89-C1, each once.
pub(crate) fn pop_links(raw: Vec<RawPop>) -> Result<Vec<PopLink>> {
    let mut out: Vec<PopLink> = Vec::with_capacity(raw.len());
    for (i, p) in raw.into_iter().enumerate() {
        let field = format!("pops[{i}]");
        if p.name.is_empty()
            || !p
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(NodeError::config(
                format!("{field}.name"),
                format!(
                    "{:?} must be letters, digits and '-' (like IAD89-C1)",
                    p.name
                ),
            ));
        }
        if out.iter().any(|l| l.name == p.name) {
            return Err(NodeError::config(
                format!("{field}.name"),
                format!("{:?} is listed twice", p.name),
            ));
        }
        out.push(PopLink {
            viewer_rtt: rtt(&format!("{field}.viewer_rtt_ms"), p.viewer_rtt_ms)?,
            origin_rtt: rtt(&format!("{field}.origin_rtt_ms"), p.origin_rtt_ms)?,
            name: p.name,
        });
    }
    Ok(out)
}

pub(super) fn node_settings(n: RawNode) -> Result<NodeSettings> {
    let pop = n.pop.unwrap_or_else(|| defaults::POP.into());
    if pop.is_empty() || !pop.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(NodeError::config(
            "node.pop",
            format!("{pop:?} must be letters, digits and '-' (like IAD89-C1)"),
        ));
    }
    let max_header_bytes = positive(
        "node.max_header_bytes",
        n.max_header_bytes,
        defaults::MAX_HEADER_BYTES,
    )?;
    if max_header_bytes < defaults::MIN_HEADER_BYTES {
        return Err(NodeError::config(
            "node.max_header_bytes",
            format!("must be at least {}", defaults::MIN_HEADER_BYTES),
        ));
    }
    if n.tls_cert.is_some() != n.tls_key.is_some() {
        return Err(NodeError::config(
            "node.tls_cert",
            "tls_cert and tls_key go together",
        ));
    }
    Ok(NodeSettings {
        pop,
        cache_bytes: positive("node.cache_bytes", n.cache_bytes, defaults::CACHE_BYTES)?,
        max_object_bytes: positive(
            "node.max_object_bytes",
            n.max_object_bytes,
            defaults::MAX_OBJECT_BYTES,
        )? as usize,
        max_request_body_bytes: positive(
            "node.max_request_body_bytes",
            n.max_request_body_bytes,
            defaults::MAX_REQUEST_BODY_BYTES,
        )? as usize,
        max_header_bytes: max_header_bytes as usize,
        max_headers: positive("node.max_headers", n.max_headers, defaults::MAX_HEADERS)? as usize,
        header_read_timeout: seconds(
            "node.header_read_timeout",
            n.header_read_timeout,
            defaults::HEADER_READ_TIMEOUT_S,
            defaults::MAX_HEADER_READ_TIMEOUT_S,
        )?,
        idle_timeout: seconds(
            "node.idle_timeout",
            n.idle_timeout,
            defaults::IDLE_TIMEOUT_S,
            defaults::MAX_IDLE_TIMEOUT_S,
        )?,
        workers: n.workers.unwrap_or(0) as usize,
        max_connections: positive(
            "node.max_connections",
            n.max_connections,
            defaults::MAX_CONNECTIONS,
        )? as usize,
        access_log: n.access_log.unwrap_or(true),
        access_log_format: match n.access_log_format.as_deref() {
            None => crate::access_log::Format::default(),
            Some(f) => crate::access_log::Format::parse(f).ok_or_else(|| {
                NodeError::config(
                    "node.access_log_format",
                    format!(
                        "{f:?} is not a log format (one of {})",
                        crate::access_log::Format::NAMES.join(", ")
                    ),
                )
            })?,
        },
        access_log_file: n.access_log_file.map(std::path::PathBuf::from),
        otlp: n.otlp,
        tls_cert: n.tls_cert,
        tls_key: n.tls_key,
        geo_db: n.geo_db.iter().map(std::path::PathBuf::from).collect(),
        dev: n.dev.unwrap_or(false),
        viewer_ip: match n.viewer_ip.as_deref() {
            None => None,
            Some(ip) => Some(ip.parse().map_err(|_| {
                NodeError::config("node.viewer_ip", format!("{ip:?} is not an IP address"))
            })?),
        },
        trusted_proxies: n
            .trusted_proxies
            .iter()
            .map(|c| {
                c.parse::<ipnet::IpNet>()
                    .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        NodeError::config(
                            "node.trusted_proxies",
                            format!("{c:?} is not a network like 10.0.0.0/8"),
                        )
                    })
            })
            .collect::<Result<_>>()?,
        pops: Vec::new(),
        viewer_rtt: Duration::ZERO,
        origin_rtt: Duration::ZERO,
        functions: FunctionSettings {
            limits: crate::js::FunctionLimits {
                viewer_timeout: seconds(
                    "node.viewer_function_timeout",
                    n.viewer_function_timeout,
                    defaults::VIEWER_FUNCTION_TIMEOUT_S,
                    defaults::VIEWER_FUNCTION_TIMEOUT_S,
                )?,
                origin_timeout: seconds(
                    "node.origin_function_timeout",
                    n.origin_function_timeout,
                    defaults::ORIGIN_FUNCTION_TIMEOUT_S,
                    defaults::ORIGIN_FUNCTION_TIMEOUT_S,
                )?,
                init_timeout: seconds(
                    "node.function_init_timeout",
                    n.function_init_timeout,
                    defaults::FUNCTION_INIT_TIMEOUT_S,
                    defaults::MAX_FUNCTION_INIT_TIMEOUT_S,
                )?,
                heap_bytes: match n.function_memory_mb.unwrap_or(defaults::FUNCTION_MEMORY_MB) {
                    mb @ defaults::MIN_FUNCTION_MEMORY_MB..=defaults::MAX_FUNCTION_MEMORY_MB => {
                        (mb as usize) << 20
                    }
                    mb => {
                        return Err(NodeError::config(
                            "node.function_memory_mb",
                            format!(
                                "{mb} must be {} to {}",
                                defaults::MIN_FUNCTION_MEMORY_MB,
                                defaults::MAX_FUNCTION_MEMORY_MB
                            ),
                        ))
                    }
                },
                concurrency: positive(
                    "node.function_concurrency",
                    n.function_concurrency,
                    defaults::FUNCTION_CONCURRENCY,
                )? as usize,
                isolates_per_worker: match n
                    .function_isolates_per_worker
                    .unwrap_or(defaults::FUNCTION_ISOLATES_PER_WORKER)
                {
                    k @ 1..=defaults::MAX_FUNCTION_ISOLATES_PER_WORKER => k as usize,
                    k => {
                        return Err(NodeError::config(
                            "node.function_isolates_per_worker",
                            format!(
                                "{k} must be 1 to {}",
                                defaults::MAX_FUNCTION_ISOLATES_PER_WORKER
                            ),
                        ))
                    }
                },
                cloudfront_budget: match n
                    .cloudfront_function_budget_us
                    .unwrap_or(defaults::CLOUDFRONT_FUNCTION_BUDGET_US)
                {
                    us @ 1..=10_000_000 => Duration::from_micros(us),
                    us => {
                        return Err(NodeError::config(
                            "node.cloudfront_function_budget_us",
                            format!("{us} must be 1 to 10000000 (microseconds)"),
                        ))
                    }
                },
                slice: match n.function_slice_ms.unwrap_or(defaults::FUNCTION_SLICE_MS) {
                    ms @ 0..=defaults::MAX_FUNCTION_SLICE_MS => Duration::from_millis(ms),
                    ms => {
                        return Err(NodeError::config(
                            "node.function_slice_ms",
                            format!("{ms} must be 0 to {}", defaults::MAX_FUNCTION_SLICE_MS),
                        ))
                    }
                },
            },
            execution_error_status: match n
                .execution_error_status
                .unwrap_or(defaults::EXECUTION_ERROR_STATUS)
            {
                503 => http::StatusCode::SERVICE_UNAVAILABLE,
                500 => http::StatusCode::INTERNAL_SERVER_ERROR,
                other => {
                    return Err(NodeError::config(
                        "node.execution_error_status",
                        format!("{other} must be 503 (current CloudFront) or 500 (older)"),
                    ))
                }
            },
            strict_viewer_response_status: n.strict_viewer_response_status.unwrap_or(false),
            server_timing: n.server_timing.unwrap_or(false),
        },
    })
}
