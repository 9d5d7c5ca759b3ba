//! Validated configuration the node runs on: distributions, origins, cache behaviors and
//! their key/forwarding policies. Read in two steps (raw serde → checked types); every default
//! is written down here, in `defaults`.

pub mod aws_json;
mod behaviors;
mod distribution;
mod file;
mod functions;
pub mod local;
pub mod managed;
mod node;
mod origins;
mod policies;
mod raw;
pub mod response_headers;
mod teach;
mod validate;

use http::{HeaderName, Method};
use std::sync::Arc;
use std::time::Duration;

pub use behaviors::*;
pub use distribution::*;
pub use file::{load_file, ConfigFile};
pub use functions::*;
pub use node::*;
pub use origins::*;
pub use policies::*;
pub use validate::{from_origin_url, parse_distributions, parse_toml, parse_toml_in};

use crate::js::FunctionCode;
use crate::lambda::Stage;

/// Every default in one place.
pub mod defaults {
    /// CloudFront's legacy TTL defaults (docs/cloudfront-behaviour.md: "TTLs").
    pub const MIN_TTL: u64 = 0;
    pub const DEFAULT_TTL: u64 = 86_400;
    pub const MAX_TTL: u64 = 31_536_000;
    /// Error-caching minimum TTL (docs/cloudfront-behaviour.md: "Error caching").
    pub const ERROR_CACHING_MIN_TTL: u64 = 10;
    pub const CACHE_BYTES: u64 = 256 * 1024 * 1024;
    pub const MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024;
    pub const MAX_REQUEST_BODY_BYTES: u64 = 16 * 1024 * 1024;
    /// CloudFront: max request length excluding body is 20,480 bytes (docs/cloudfront-behaviour.md:
    /// "Request size limits").
    pub const MAX_HEADER_BYTES: u64 = 20_480;
    pub const MAX_HEADERS: u64 = 100;
    /// CloudFront's longest URL (path and query string): 8,192 bytes; longer is a 414
    /// (docs/cloudfront-behaviour.md: "Request size limits").
    pub const MAX_URI_BYTES: usize = 8192;
    pub const HEADER_READ_TIMEOUT_S: f64 = 10.0;
    pub const IDLE_TIMEOUT_S: f64 = 60.0;
    pub const CONNECTION_TIMEOUT_S: f64 = 10.0;
    pub const ORIGIN_READ_TIMEOUT_S: f64 = 30.0;
    pub const ORIGIN_KEEPALIVE_TIMEOUT_S: f64 = 5.0;
    pub const KEEPALIVE_POOL_SIZE: u64 = 256;
    pub const POP: &str = "LOCAL1-C1";
    pub const MAX_CONNECTIONS: u64 = 10_000;
    pub const FUNCTION_MEMORY_MB: u64 = 128;
    /// A CloudFront function's compute budget per call (100% compute utilization): AWS gives
    /// no number; about 1 ms is the figure commonly cited.
    pub const CLOUDFRONT_FUNCTION_BUDGET_US: u64 = 1_000;
    /// Lambda limits a function's Init phase (its top-level code) to 10 s
    /// (docs/cloudfront-behaviour.md: "Init limit").
    pub const FUNCTION_INIT_TIMEOUT_S: f64 = 10.0;
    pub const FUNCTION_CONCURRENCY: u64 = 1000;
    pub const FUNCTION_ISOLATES_PER_WORKER: u64 = 2;
    /// A call running synchronously longer than this on a serving thread moves its function
    /// to the function threads (docs/request-path.md: "Long-running functions").
    pub const FUNCTION_SLICE_MS: u64 = 20;
    pub const MAX_FUNCTION_SLICE_MS: u64 = 5_000;
    /// Threads that run the functions moved off the serving threads, at the lowest priority (nice 19).
    pub const FUNCTION_THREADS: usize = 2;
    /// Lambda@Edge's code size limits: 1 MB for viewer stages, 50 MB for origin stages.
    pub const VIEWER_CODE_BYTES: usize = 1 << 20;
    pub const ORIGIN_CODE_BYTES: usize = 50 << 20;
    pub const DISTRIBUTION_ID: &str = "EDFDVBD6EXAMPLE";

    // Bounds: the largest (or smallest) value each setting accepts.
    pub const MIN_HEADER_BYTES: u64 = 8192;
    pub const MAX_HEADER_READ_TIMEOUT_S: f64 = 3600.0;
    pub const MAX_IDLE_TIMEOUT_S: f64 = 86_400.0;
    /// Lambda@Edge's function timeouts (docs/cloudfront-behaviour.md: "Limits per stage"):
    /// 5 s at the viewer stages, 30 s at the origin stages; also the most each may be set to.
    pub const VIEWER_FUNCTION_TIMEOUT_S: f64 = 5.0;
    pub const ORIGIN_FUNCTION_TIMEOUT_S: f64 = 30.0;
    pub const MAX_FUNCTION_INIT_TIMEOUT_S: f64 = 600.0;
    pub const MIN_FUNCTION_MEMORY_MB: u64 = 16;
    pub const MAX_FUNCTION_MEMORY_MB: u64 = 10_240;
    pub const MAX_FUNCTION_ISOLATES_PER_WORKER: u64 = 64;
    /// CloudFront answers a function's execution error with 503 today (500 before).
    pub const EXECUTION_ERROR_STATUS: u16 = 503;
    /// A simulated round trip: 0 to 10 s.
    pub const MAX_RTT_MS: f64 = 10_000.0;
    /// The longest origin timeouts accepted: connection 60 s; read and keep-alive 180 s
    /// (CloudFront's own defaults are above: 10 s, 30 s and 5 s).
    pub const MAX_CONNECTION_TIMEOUT_S: f64 = 60.0;
    pub const MAX_ORIGIN_TIMEOUT_S: f64 = 180.0;
    pub const HTTP_PORT: u16 = 80;
    pub const HTTPS_PORT: u16 = 443;
    pub const DISTRIBUTION_DOMAIN: &str = "d111111abcdef8.cloudfront.net";
}

/// The whole node configuration, as a file gives it: this node's own settings and what it
/// serves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub node: NodeSettings,
    pub distributions: Distributions,
    /// `[[key_value_stores]]` of a configuration file (a replica gets its stores from the
    /// control node instead).
    pub key_value_stores: Vec<Arc<crate::cloudfront::kvs::Store>>,
}

/// KeyValueStore names a configuration declares → their ids.
pub type Stores = std::collections::HashMap<String, String>;

/// What a node serves: its distributions, swapped whole on every change. A node's own
/// settings are not part of it (they are fixed for the node's life, in `NodeShared::node`).
#[derive(Debug, Clone, Default)]
pub struct Distributions(pub Vec<Arc<Distribution>>);

impl std::ops::Deref for Distributions {
    type Target = Vec<Arc<Distribution>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Distributions {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl NodeConfig {
    /// Every function version associated anywhere (each once).
    pub fn functions(&self) -> Vec<Arc<FunctionCode>> {
        self.distributions.functions()
    }
}

impl Distributions {
    /// Every function version associated anywhere (each once).
    pub fn functions(&self) -> Vec<Arc<FunctionCode>> {
        let mut out: Vec<Arc<FunctionCode>> = Vec::new();
        for d in self.iter() {
            for b in &d.behaviors {
                for a in b.functions.iter().flatten() {
                    let canary = a.canary.as_ref().map(|c| &c.code);
                    for code in std::iter::once(&a.code).chain(canary) {
                        if !out.iter().any(|c| c.key() == code.key()) {
                            out.push(code.clone());
                        }
                    }
                }
            }
        }
        out
    }
}
