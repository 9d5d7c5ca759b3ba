//! Validated configuration the node runs on: distributions, origins, cache behaviors and
//! their key/forwarding policies. Read in two steps (raw serde → checked types); every default
//! is written down here, in `defaults`.

mod file;
pub mod local;
mod raw;
mod validate;

use http::{HeaderName, Method};
use std::sync::Arc;
use std::time::Duration;

pub use file::{load_file, ConfigFile};
pub use validate::{
    add_function, associate, check_association, from_origin_url, load_function,
    parse_distributions, parse_toml, parse_toml_in, remove_functions,
};

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
    pub const HEADER_READ_TIMEOUT_S: f64 = 10.0;
    pub const IDLE_TIMEOUT_S: f64 = 60.0;
    pub const CONNECTION_TIMEOUT_S: f64 = 10.0;
    pub const ORIGIN_READ_TIMEOUT_S: f64 = 30.0;
    pub const ORIGIN_KEEPALIVE_TIMEOUT_S: f64 = 5.0;
    pub const KEEPALIVE_POOL_SIZE: u64 = 256;
    pub const POP: &str = "LOCAL1-C1";
    pub const MAX_CONNECTIONS: u64 = 10_000;
    pub const FUNCTION_MEMORY_MB: u64 = 128;
    /// Lambda limits a function's Init phase (its top-level code) to 10 s
    /// (docs/cloudfront-behaviour.md: "Init limit").
    pub const FUNCTION_INIT_TIMEOUT_S: f64 = 10.0;
    pub const FUNCTION_CONCURRENCY: u64 = 1000;
    pub const FUNCTION_ISOLATES_PER_WORKER: u64 = 2;
    /// Lambda@Edge's code size limits: 1 MB for viewer stages, 50 MB for origin stages.
    pub const VIEWER_CODE_BYTES: usize = 1 << 20;
    pub const ORIGIN_CODE_BYTES: usize = 50 << 20;
    pub const DISTRIBUTION_ID: &str = "EDFDVBD6EXAMPLE";
    pub const DISTRIBUTION_DOMAIN: &str = "d111111abcdef8.cloudfront.net";
}

/// The whole node configuration, as a file gives it: this node's own settings and what it
/// serves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub node: NodeSettings,
    pub distributions: Distributions,
}

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

#[derive(Debug)]
pub struct Distribution {
    pub id: String,
    pub domain_name: String,
    /// Lowercase host names (without port) this distribution answers for, besides its domain.
    pub aliases: Vec<String>,
    pub error_caching_min_ttl: u64,
    pub origins: Vec<Arc<Origin>>,
    /// Cache behaviors in order, then the default one last.
    pub behaviors: Vec<Behavior>,
    /// Index of this distribution in the node config (part of every cache key).
    pub index: usize,
}

impl Distribution {
    /// The first behavior whose path pattern matches `path`, else the default behavior.
    pub fn behavior_for(&self, path: &str) -> &Behavior {
        &self.behaviors[self.behavior_index(path)]
    }

    /// Index in `behaviors` of the first behavior whose pattern matches `path` (the default,
    /// last, matches every path).
    pub fn behavior_index(&self, path: &str) -> usize {
        self.behaviors
            .iter()
            .position(|b| {
                b.path_pattern
                    .as_deref()
                    .is_none_or(|p| path_matches(p, path))
            })
            .unwrap_or(self.behaviors.len() - 1)
    }
}

/// CloudFront path pattern matching: case-sensitive, `*` matches any run of characters, `?`
/// exactly one; a pattern without a leading `/` is matched as if it had one.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern).as_bytes();
    let path = path.strip_prefix('/').unwrap_or(path).as_bytes();
    let (mut p, mut s) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while s < path.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == path[s]) {
            p += 1;
            s += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = s;
            p += 1;
        } else if let Some(st) = star {
            p = st + 1;
            mark += 1;
            s = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolPolicy {
    HttpOnly,
    HttpsOnly,
    MatchViewer,
}

#[derive(Debug)]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    pub http_port: u16,
    pub https_port: u16,
    pub protocol_policy: ProtocolPolicy,
    /// Prefix added to every path sent to this origin ("" or "/x", no trailing slash).
    pub origin_path: String,
    pub connection_timeout: Duration,
    pub read_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub keepalive_pool_size: usize,
    pub verify_certificate: bool,
    pub custom_headers: Vec<(HeaderName, http::HeaderValue)>,
    /// Identifies the client settings (origins with equal keys share a connection pool).
    pub client_key: String,
}

impl Origin {
    /// Scheme and port used for a viewer that came in over `viewer`.
    pub fn endpoint(&self, viewer: Protocol) -> (Protocol, u16) {
        match (self.protocol_policy, viewer) {
            (ProtocolPolicy::HttpOnly, _) | (ProtocolPolicy::MatchViewer, Protocol::Http) => {
                (Protocol::Http, self.http_port)
            }
            _ => (Protocol::Https, self.https_port),
        }
    }
}

/// A small set of HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSet(u16);

impl MethodSet {
    const ALL: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::PUT,
        Method::POST,
        Method::PATCH,
        Method::DELETE,
    ];

    pub fn of(methods: &[Method]) -> MethodSet {
        MethodSet(methods.iter().fold(0, |acc, m| acc | Self::bit(m)))
    }

    fn bit(m: &Method) -> u16 {
        Self::ALL.iter().position(|x| x == m).map_or(0, |i| 1 << i)
    }

    pub fn contains(&self, m: &Method) -> bool {
        self.0 & Self::bit(m) != 0
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    pub min: u64,
    pub default: u64,
    pub max: u64,
}

/// Which query string parameters, headers or cookies a policy selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    None,
    All,
    /// CloudFront's `whitelist`.
    Only(Vec<String>),
    AllExcept(Vec<String>),
}

/// Appends `?` and the pairs of `query` whose names `keep` accepts (every pair when `all`), in
/// their order; nothing when none is kept. The cache key and the origin request both select
/// query strings this way.
pub fn append_query(out: &mut String, query: &str, all: bool, keep: impl Fn(&str) -> bool) {
    if query.is_empty() {
        return;
    }
    if all {
        out.push('?');
        out.push_str(query);
        return;
    }
    let mut first = true;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        if keep(name) {
            out.push(if first { '?' } else { '&' });
            out.push_str(pair);
            first = false;
        }
    }
}

impl Selection {
    pub fn selects(&self, name: &str) -> bool {
        match self {
            Selection::None => false,
            Selection::All => true,
            Selection::Only(names) => names.iter().any(|n| n == name),
            Selection::AllExcept(names) => !names.iter().any(|n| n == name),
        }
    }

    /// Header names compare case-insensitively (they are stored lowercase).
    pub fn selects_header(&self, lower_name: &str) -> bool {
        self.selects(lower_name)
    }
}

/// What goes into the cache key (and is therefore forwarded to the origin).
#[derive(Debug, Clone)]
pub struct CachePolicy {
    pub query_strings: Selection,
    /// Lowercase header names (CloudFront allows only none or a list here).
    pub headers: Vec<HeaderName>,
    pub cookies: Selection,
    pub accept_encoding_gzip: bool,
    pub accept_encoding_brotli: bool,
}

/// What is forwarded to the origin without being part of the cache key.
#[derive(Debug, Clone)]
pub struct OriginRequestPolicy {
    pub query_strings: Selection,
    /// Header selection over lowercase names; `All` is CloudFront's `allViewer`.
    pub headers: Selection,
    pub cookies: Selection,
}

#[derive(Debug)]
pub struct Behavior {
    /// `None` for the default cache behavior.
    pub path_pattern: Option<String>,
    pub origin: Arc<Origin>,
    /// Position of `origin` in the distribution's origins (indexes the origin clients).
    pub origin_index: usize,
    pub allowed_methods: MethodSet,
    pub cached_methods: MethodSet,
    pub ttl: Ttls,
    pub cache_policy: CachePolicy,
    pub origin_policy: OriginRequestPolicy,
    /// The function at each stage (indexed by `Stage::index`).
    pub functions: [Option<Association>; 4],
    /// CloudFront-* headers in the cache key: added after viewer-request, before the lookup.
    pub cloudfront_key_headers: Vec<HeaderName>,
    /// CloudFront-* headers only forwarded (origin request policy): added on the way to the
    /// origin and for the function events that show them, not on cache hits.
    pub cloudfront_forward_headers: Vec<HeaderName>,
}

/// A function version associated with a stage of a behavior.
#[derive(Debug, Clone)]
pub struct Association {
    pub code: Arc<FunctionCode>,
    pub include_body: bool,
    /// A second version that serves a sticky slice of viewers (a canary rollout).
    pub canary: Option<Canary>,
}

/// `percent` of viewers (chosen by a hash of the viewer IP, so each viewer always gets the
/// same version) run `code` instead of the association's main version.
#[derive(Debug, Clone)]
pub struct Canary {
    pub code: Arc<FunctionCode>,
    pub percent: u8,
}

impl Association {
    pub fn new(code: Arc<FunctionCode>, include_body: bool) -> Association {
        Association {
            code,
            include_body,
            canary: None,
        }
    }

    /// The version that runs for `viewer`.
    pub fn code_for(&self, viewer: std::net::IpAddr) -> &Arc<FunctionCode> {
        match &self.canary {
            Some(c) if viewer_bucket(viewer, &c.code.name) < c.percent => &c.code,
            _ => &self.code,
        }
    }
}

/// A viewer's stable bucket in 0..100 for a canary: FNV-1a over the IP and the function name,
/// so different functions split viewers independently.
pub fn viewer_bucket(viewer: std::net::IpAddr, function: &str) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let ip = match viewer {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    };
    for b in ip.iter().chain(function.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Fold the high bits in: FNV's low bits mix poorly for inputs that differ in the last byte.
    ((h ^ (h >> 32)) % 100) as u8
}

impl Behavior {
    pub fn function(&self, stage: Stage) -> Option<&Association> {
        self.functions[stage.index()].as_ref()
    }

    pub fn has_functions(&self) -> bool {
        self.functions.iter().any(Option::is_some)
    }

    /// Whether a viewer query parameter named `name` is forwarded to the origin.
    pub fn forwards_query(&self, name: &str) -> bool {
        self.cache_policy.query_strings.selects(name)
            || self.origin_policy.query_strings.selects(name)
    }

    /// Whether the viewer's cookie named `name` is forwarded to the origin.
    pub fn forwards_cookie(&self, name: &str) -> bool {
        self.cache_policy.cookies.selects(name) || self.origin_policy.cookies.selects(name)
    }

    /// Whether any cookie at all may reach the origin (and `Set-Cookie` may come back).
    pub fn forwards_cookies(&self) -> bool {
        self.cache_policy.cookies != Selection::None
            || self.origin_policy.cookies != Selection::None
    }

    /// Whether the viewer header `lower_name` is forwarded to the origin by a policy.
    pub fn forwards_header(&self, lower_name: &str) -> bool {
        self.cache_policy
            .headers
            .iter()
            .any(|h| h.as_str() == lower_name)
            || self.origin_policy.headers.selects_header(lower_name)
    }
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn canary_buckets_are_stable_and_spread() {
        let mut in_ten = 0;
        for i in 0..10_000u32 {
            let ip = std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let b = super::viewer_bucket(ip, "ab-test");
            assert_eq!(b, super::viewer_bucket(ip, "ab-test"));
            if b < 10 {
                in_ten += 1;
            }
        }
        assert!(
            (800..1200).contains(&in_ten),
            "{in_ten} of 10000 in a 10% slice"
        );
    }

    #[test]
    fn path_patterns_match_like_cloudfront() {
        assert!(path_matches("/images/*", "/images/a/b.jpg"));
        assert!(path_matches("images/*.jpg", "/images/x.jpg"));
        assert!(!path_matches("/images/*.jpg", "/images/x.png"));
        assert!(path_matches("/a?c", "/abc"));
        assert!(!path_matches("/a?c", "/ac"));
        assert!(path_matches("*", "/anything"));
        assert!(!path_matches("/API/*", "/api/x"));
    }
}
