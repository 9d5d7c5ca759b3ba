//! Raw configuration → validated configuration. Every refusal names the field (as a path like
//! `distributions[0].Origins[1].DomainName`) and the reason.

use super::raw::*;
use super::*;
use crate::error::NodeError;
use std::path::Path;

type Result<T> = std::result::Result<T, NodeError>;

/// Parses and validates a TOML configuration; function files are relative to the current
/// directory.
pub fn parse_toml(text: &str) -> Result<NodeConfig> {
    parse_toml_in(text, Path::new("."))
}

/// Parses and validates a TOML configuration whose function files are relative to `base`.
pub fn parse_toml_in(text: &str, base: &Path) -> Result<NodeConfig> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let field = e
            .span()
            .map(|s| format!("line {}", text[..s.start].lines().count().max(1)))
            .unwrap_or_else(|| "file".into());
        NodeError::config(field, e.message().to_string())
    })?;
    validate(raw, base)
}

/// Reads a function file into a version-1 function named after the file.
pub fn load_function(path: &Path, field: &str) -> Result<Arc<FunctionCode>> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        NodeError::config(
            field,
            format!("cannot read function file {}: {e}", path.display()),
        )
    })?;
    let name: String = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("function")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Ok(Arc::new(FunctionCode::new(
        name,
        1,
        path.display().to_string(),
        source,
    )))
}

/// Associates `code` with `stage` on the default behavior of every distribution (the
/// `--function STAGE=FILE` shortcut).
pub fn add_function(
    cfg: &mut NodeConfig,
    stage: Stage,
    code: Arc<FunctionCode>,
    include_body: bool,
) -> Result<()> {
    check_association(stage, &code, include_body, "--function")?;
    for d in cfg.distributions.iter_mut() {
        let d = Arc::get_mut(d)
            .ok_or_else(|| NodeError::config("--function", "configuration is already in use"))?;
        let default = d.behaviors.last_mut().expect("a default behavior");
        default.functions[stage.index()] = Some(Association::new(code.clone(), include_body));
    }
    Ok(())
}

/// Leaves out every function associated with `stage`, in every behavior (to measure a
/// configuration with and without its functions).
pub fn remove_functions(cfg: &mut NodeConfig, stage: Stage) -> Result<()> {
    for d in cfg.distributions.iter_mut() {
        let d = Arc::get_mut(d)
            .ok_or_else(|| NodeError::config("--skip-stage", "configuration is already in use"))?;
        for b in &mut d.behaviors {
            b.functions[stage.index()] = None;
        }
    }
    Ok(())
}

/// Parses the distributions a control node replicates: like a configuration file, but without
/// `[node]` (each node has its own) and without function files (functions arrive as published
/// versions through [`associate`]). No distribution at all is allowed: a new control node has
/// none yet.
pub fn parse_distributions(text: &str) -> Result<NodeConfig> {
    let raw: RawConfig = toml::from_str(text)
        .map_err(|e| NodeError::config("distributions", e.message().to_string()))?;
    for (i, d) in raw.distributions.iter().enumerate() {
        let behaviors = d.default_cache_behavior.iter().chain(&d.cache_behaviors);
        if behaviors
            .into_iter()
            .any(|b| !b.lambda_function_associations.is_empty())
        {
            return Err(NodeError::config(
                format!("distributions[{i}]"),
                "replicated distributions carry no LambdaFunctionAssociations (functions are associated separately)",
            ));
        }
    }
    let node = node_settings(RawNode::default())?;
    let mut distributions = Vec::with_capacity(raw.distributions.len());
    for (i, d) in raw.distributions.into_iter().enumerate() {
        distributions.push(Arc::new(distribution(d, i, Path::new("."))?));
    }
    Ok(NodeConfig {
        node,
        distributions: super::Distributions(distributions),
    })
}

/// Associates a function version with a stage of one cache behavior (`behavior` is its
/// PathPattern; `None` is the default behavior), replacing what was there.
pub fn associate(
    cfg: &mut NodeConfig,
    distribution: &str,
    behavior: Option<&str>,
    stage: Stage,
    association: Association,
) -> Result<()> {
    let field = format!("{distribution}:{}:{stage}", behavior.unwrap_or("default"));
    check_association(stage, &association.code, association.include_body, &field)?;
    if let Some(c) = &association.canary {
        check_association(stage, &c.code, association.include_body, &field)?;
    }
    let d = cfg
        .distributions
        .iter_mut()
        .find(|d| d.id == distribution)
        .ok_or_else(|| {
            NodeError::config(
                &field,
                format!("no distribution has the Id {distribution:?}"),
            )
        })?;
    let d = Arc::get_mut(d)
        .ok_or_else(|| NodeError::config(&field, "configuration is already in use"))?;
    let b = d
        .behaviors
        .iter_mut()
        .find(|b| b.path_pattern.as_deref() == behavior)
        .ok_or_else(|| {
            NodeError::config(
                &field,
                format!(
                    "distribution {distribution} has no cache behavior with PathPattern {:?}",
                    behavior.unwrap_or("")
                ),
            )
        })?;
    b.functions[stage.index()] = Some(association);
    Ok(())
}

/// CloudFront's association rules (docs/cloudfront-behaviour.md: "Versions and associations",
/// "Request body (IncludeBody)", "Limits per stage").
pub fn check_association(
    stage: Stage,
    code: &FunctionCode,
    include_body: bool,
    field: &str,
) -> Result<()> {
    if include_body && !stage.is_request() {
        return Err(NodeError::Association {
            field: field.into(),
            reason: "The IncludeBody option can only be used with viewer-request or origin-request events.".into(),
        });
    }
    let limit = if stage.is_viewer() {
        defaults::VIEWER_CODE_BYTES
    } else {
        defaults::ORIGIN_CODE_BYTES
    };
    if code.source.len() > limit {
        return Err(NodeError::Association {
            field: field.into(),
            reason: format!(
                "the function is {} bytes; {stage} functions may be at most {limit} bytes",
                code.source.len()
            ),
        });
    }
    Ok(())
}

/// The `--origin URL` shortcut: one distribution, one default behavior that forwards every
/// header, cookie and query string, with all query strings in the cache key.
pub fn from_origin_url(url: &str) -> Result<NodeConfig> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| NodeError::config("--origin", format!("{url:?} is not a URL: {e}")))?;
    let scheme = uri.scheme_str().unwrap_or("http");
    let (policy, default_port) = match scheme {
        "http" => ("http-only", 80),
        "https" => ("https-only", 443),
        other => {
            return Err(NodeError::config(
                "--origin",
                format!("scheme {other:?} is not supported (use http or https)"),
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| NodeError::config("--origin", format!("{url:?} has no host")))?;
    let port = uri.port_u16().unwrap_or(default_port);
    let path = uri.path().trim_end_matches('/').to_string();
    let all = || RawKeyPolicy {
        query_string_behavior: Some("all".into()),
        header_behavior: Some("allViewerAndWhitelistCloudFront".into()),
        headers: crate::geo::headers::SUPPORTED
            .iter()
            .map(|s| s.to_string())
            .collect(),
        cookie_behavior: Some("all".into()),
        ..Default::default()
    };
    let raw = RawConfig {
        node: RawNode::default(),
        pops: vec![],
        distributions: vec![RawDistribution {
            id: None,
            domain_name: None,
            aliases: vec![],
            error_caching_min_ttl: None,
            origins: vec![RawOrigin {
                id: Some("origin".into()),
                domain_name: Some(host.trim_matches(['[', ']']).to_string()),
                origin_path: path,
                connection_timeout: None,
                custom_origin_config: Some(RawCustomOriginConfig {
                    http_port: Some(port),
                    https_port: Some(port),
                    origin_protocol_policy: Some(policy.into()),
                    verify_certificate: Some(false),
                    ..Default::default()
                }),
                custom_headers: Default::default(),
            }],
            default_cache_behavior: Some(RawBehavior {
                target_origin_id: Some("origin".into()),
                allowed_methods: Some(
                    ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
                        .map(String::from)
                        .to_vec(),
                ),
                cache_policy: Some(RawKeyPolicy {
                    query_string_behavior: Some("all".into()),
                    ..Default::default()
                }),
                origin_request_policy: Some(all()),
                ..Default::default()
            }),
            cache_behaviors: vec![],
        }],
    };
    validate(raw, Path::new("."))
}

/// A simulated round trip in milliseconds: 0 to 10 s.
fn rtt(field: &str, v: Option<f64>) -> Result<Duration> {
    let v = v.unwrap_or(0.0);
    if !(0.0..=10_000.0).contains(&v) {
        return Err(NodeError::config(
            field,
            format!("must be between 0 and 10000 ms, got {v}"),
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

fn validate(raw: RawConfig, base: &Path) -> Result<NodeConfig> {
    let mut node = node_settings(raw.node)?;
    node.pops = pop_links(raw.pops)?;
    node.apply_pop_link();
    if raw.distributions.is_empty() {
        return Err(NodeError::config(
            "distributions",
            "at least one distribution is required",
        ));
    }
    let mut distributions = Vec::with_capacity(raw.distributions.len());
    for (i, d) in raw.distributions.into_iter().enumerate() {
        distributions.push(Arc::new(distribution(d, i, base)?));
    }
    Ok(NodeConfig {
        node,
        distributions: super::Distributions(distributions),
    })
}

fn seconds(field: &str, v: Option<f64>, default: f64, max: f64) -> Result<Duration> {
    let v = v.unwrap_or(default);
    if !(v > 0.0 && v <= max) {
        return Err(NodeError::config(
            field,
            format!("must be more than 0 and at most {max} seconds, got {v}"),
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

fn positive(field: &str, v: Option<u64>, default: u64) -> Result<u64> {
    match v.unwrap_or(default) {
        0 => Err(NodeError::config(field, "must be more than 0")),
        n => Ok(n),
    }
}

fn node_settings(n: RawNode) -> Result<NodeSettings> {
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
    if max_header_bytes < 8192 {
        return Err(NodeError::config(
            "node.max_header_bytes",
            "must be at least 8192",
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
            3600.0,
        )?,
        idle_timeout: seconds(
            "node.idle_timeout",
            n.idle_timeout,
            defaults::IDLE_TIMEOUT_S,
            86_400.0,
        )?,
        workers: n.workers.unwrap_or(0) as usize,
        max_connections: positive(
            "node.max_connections",
            n.max_connections,
            defaults::MAX_CONNECTIONS,
        )? as usize,
        access_log: n.access_log.unwrap_or(true),
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
                    5.0,
                    5.0,
                )?,
                origin_timeout: seconds(
                    "node.origin_function_timeout",
                    n.origin_function_timeout,
                    30.0,
                    30.0,
                )?,
                init_timeout: seconds(
                    "node.function_init_timeout",
                    n.function_init_timeout,
                    defaults::FUNCTION_INIT_TIMEOUT_S,
                    600.0,
                )?,
                heap_bytes: match n.function_memory_mb.unwrap_or(defaults::FUNCTION_MEMORY_MB) {
                    mb @ 16..=10_240 => (mb as usize) << 20,
                    mb => {
                        return Err(NodeError::config(
                            "node.function_memory_mb",
                            format!("{mb} must be 16 to 10240"),
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
                    k @ 1..=64 => k as usize,
                    k => {
                        return Err(NodeError::config(
                            "node.function_isolates_per_worker",
                            format!("{k} must be 1 to 64"),
                        ))
                    }
                },
            },
            execution_error_status: match n.execution_error_status.unwrap_or(503) {
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

fn distribution(d: RawDistribution, index: usize, base: &Path) -> Result<Distribution> {
    let at = format!("distributions[{index}]");
    let id = d.id.unwrap_or_else(|| {
        if index == 0 {
            defaults::DISTRIBUTION_ID.to_string()
        } else {
            format!("EDFDVBD6EXAMPL{index}")
        }
    });
    let domain_name = d
        .domain_name
        .unwrap_or_else(|| defaults::DISTRIBUTION_DOMAIN.to_string())
        .to_ascii_lowercase();
    if d.origins.is_empty() {
        return Err(NodeError::config(
            format!("{at}.Origins"),
            "at least one origin is required",
        ));
    }
    let mut origins: Vec<Arc<Origin>> = Vec::new();
    for (i, o) in d.origins.into_iter().enumerate() {
        let o = origin(o, &format!("{at}.Origins[{i}]"))?;
        if origins.iter().any(|x| x.id == o.id) {
            return Err(NodeError::config(
                format!("{at}.Origins[{i}].Id"),
                format!("origin id {:?} is used twice", o.id),
            ));
        }
        origins.push(Arc::new(o));
    }
    let default = d.default_cache_behavior.ok_or_else(|| {
        NodeError::config(
            format!("{at}.DefaultCacheBehavior"),
            "a default cache behavior is required",
        )
    })?;
    if default.path_pattern.is_some() {
        return Err(NodeError::config(
            format!("{at}.DefaultCacheBehavior.PathPattern"),
            "the default cache behavior has no path pattern",
        ));
    }
    let mut behaviors = Vec::with_capacity(d.cache_behaviors.len() + 1);
    for (i, b) in d.cache_behaviors.into_iter().enumerate() {
        let field = format!("{at}.CacheBehaviors[{i}]");
        if b.path_pattern.as_deref().is_none_or(str::is_empty) {
            return Err(NodeError::config(
                format!("{field}.PathPattern"),
                "a cache behavior needs a path pattern",
            ));
        }
        behaviors.push(behavior(b, &field, &origins, base)?);
    }
    behaviors.push(behavior(
        default,
        &format!("{at}.DefaultCacheBehavior"),
        &origins,
        base,
    )?);
    Ok(Distribution {
        id,
        domain_name,
        aliases: d.aliases.iter().map(|a| a.to_ascii_lowercase()).collect(),
        error_caching_min_ttl: d
            .error_caching_min_ttl
            .unwrap_or(defaults::ERROR_CACHING_MIN_TTL),
        origins,
        behaviors,
        index,
    })
}

fn origin(o: RawOrigin, at: &str) -> Result<Origin> {
    let id =
        o.id.filter(|s| !s.is_empty())
            .ok_or_else(|| NodeError::config(format!("{at}.Id"), "an origin needs an Id"))?;
    let domain_name = o.domain_name.filter(|s| !s.is_empty()).ok_or_else(|| {
        NodeError::config(format!("{at}.DomainName"), "an origin needs a DomainName")
    })?;
    if domain_name.contains(['/', ' ', '?', '#']) || domain_name.len() > 253 {
        return Err(NodeError::config(
            format!("{at}.DomainName"),
            format!("{domain_name:?} is not a host name"),
        ));
    }
    let path = o.origin_path;
    if !path.is_empty() && (!path.starts_with('/') || path.ends_with('/')) {
        return Err(NodeError::config(
            format!("{at}.OriginPath"),
            "must start with '/' and must not end with '/'",
        ));
    }
    let c = o.custom_origin_config.unwrap_or_default();
    let cat = format!("{at}.CustomOriginConfig");
    let protocol_policy = match c
        .origin_protocol_policy
        .as_deref()
        .unwrap_or("match-viewer")
    {
        "http-only" => ProtocolPolicy::HttpOnly,
        "https-only" => ProtocolPolicy::HttpsOnly,
        "match-viewer" => ProtocolPolicy::MatchViewer,
        other => {
            return Err(NodeError::config(
                format!("{cat}.OriginProtocolPolicy"),
                format!("{other:?} is not one of http-only, https-only, match-viewer"),
            ))
        }
    };
    let port = |field: &str, v: Option<u16>, default: u16| match v.unwrap_or(default) {
        0 => Err(NodeError::config(
            format!("{cat}.{field}"),
            "port 0 is not a port",
        )),
        p => Ok(p),
    };
    let mut custom_headers = Vec::new();
    for (name, value) in o.custom_headers {
        let field = format!("{at}.CustomHeaders.{name}");
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| NodeError::config(&field, "not a valid header name"))?;
        let v = http::HeaderValue::from_str(&value)
            .map_err(|_| NodeError::config(&field, "not a valid header value"))?;
        custom_headers.push((n, v));
    }
    let mut origin = Origin {
        client_key: String::new(),
        id,
        domain_name,
        http_port: port("HTTPPort", c.http_port, 80)?,
        https_port: port("HTTPSPort", c.https_port, 443)?,
        protocol_policy,
        origin_path: path,
        connection_timeout: seconds(
            &format!("{at}.ConnectionTimeout"),
            o.connection_timeout,
            defaults::CONNECTION_TIMEOUT_S,
            60.0,
        )?,
        read_timeout: seconds(
            &format!("{cat}.OriginReadTimeout"),
            c.origin_read_timeout,
            defaults::ORIGIN_READ_TIMEOUT_S,
            180.0,
        )?,
        keepalive_timeout: seconds(
            &format!("{cat}.OriginKeepaliveTimeout"),
            c.origin_keepalive_timeout,
            defaults::ORIGIN_KEEPALIVE_TIMEOUT_S,
            180.0,
        )?,
        keepalive_pool_size: positive(
            &format!("{cat}.KeepalivePoolSize"),
            c.keepalive_pool_size,
            defaults::KEEPALIVE_POOL_SIZE,
        )? as usize,
        verify_certificate: c.verify_certificate.unwrap_or(true),
        custom_headers,
    };
    origin.client_key = format!(
        "{}|{:?}|{:?}|{:?}|{}|{}",
        origin.domain_name,
        origin.connection_timeout,
        origin.keepalive_timeout,
        origin.read_timeout,
        origin.keepalive_pool_size,
        origin.verify_certificate
    );
    Ok(origin)
}

fn methods(field: &str, v: Option<Vec<String>>, default: &[Method]) -> Result<MethodSet> {
    let Some(names) = v else {
        return Ok(MethodSet::of(default));
    };
    let mut out = Vec::new();
    for n in names {
        let m = match n.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "HEAD" => Method::HEAD,
            "OPTIONS" => Method::OPTIONS,
            "PUT" => Method::PUT,
            "POST" => Method::POST,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            _ => {
                return Err(NodeError::config(
                    field,
                    format!("{n:?} is not one of GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE"),
                ))
            }
        };
        out.push(m);
    }
    if !out.contains(&Method::GET) || !out.contains(&Method::HEAD) {
        return Err(NodeError::config(field, "must include GET and HEAD"));
    }
    Ok(MethodSet::of(&out))
}

fn associations(
    raw: Vec<RawAssociation>,
    at: &str,
    base: &Path,
) -> Result<[Option<Association>; 4]> {
    let mut out: [Option<Association>; 4] = Default::default();
    for (i, a) in raw.into_iter().enumerate() {
        let field = format!("{at}.LambdaFunctionAssociations[{i}]");
        let stage = a.event_type.as_deref().and_then(Stage::parse).ok_or_else(|| {
            NodeError::config(
                format!("{field}.EventType"),
                format!("{:?} is not one of viewer-request, origin-request, origin-response, viewer-response", a.event_type.as_deref().unwrap_or("")),
            )
        })?;
        if let Some(arn) = &a.lambda_function_arn {
            return Err(NodeError::config(
                format!("{field}.LambdaFunctionARN"),
                format!("{arn:?}: associate published versions with `edge associate`; in a file use File = \"path.js\""),
            ));
        }
        let file = a.file.as_deref().ok_or_else(|| {
            NodeError::config(
                format!("{field}.File"),
                "a function association needs a File",
            )
        })?;
        let mut code = load_function(&base.join(file), &format!("{field}.File"))?;
        if let Some(name) = a.name {
            code = Arc::new(FunctionCode::new(
                name,
                code.version,
                code.file.clone(),
                code.source.clone(),
            ));
        }
        let include_body = a.include_body.unwrap_or(false);
        check_association(stage, &code, include_body, &field)?;
        if out[stage.index()].is_some() {
            return Err(NodeError::config(
                format!("{field}.EventType"),
                format!("a cache behavior takes one function per event type; {stage} is associated twice"),
            ));
        }
        out[stage.index()] = Some(Association::new(code, include_body));
    }
    Ok(out)
}

fn behavior(b: RawBehavior, at: &str, origins: &[Arc<Origin>], base: &Path) -> Result<Behavior> {
    let origin_index = match b.target_origin_id.as_deref() {
        Some(id) => origins.iter().position(|o| o.id == id).ok_or_else(|| {
            NodeError::config(
                format!("{at}.TargetOriginId"),
                format!("no origin has the Id {id:?}"),
            )
        })?,
        None if origins.len() == 1 => 0,
        None => {
            return Err(NodeError::config(
                format!("{at}.TargetOriginId"),
                "required when the distribution has more than one origin",
            ))
        }
    };
    let origin = origins[origin_index].clone();
    let ttl = Ttls {
        min: b.min_ttl.unwrap_or(defaults::MIN_TTL),
        default: b.default_ttl.unwrap_or(defaults::DEFAULT_TTL),
        max: b.max_ttl.unwrap_or(defaults::MAX_TTL),
    };
    if !(ttl.min <= ttl.default && ttl.default <= ttl.max) {
        return Err(NodeError::config(
            format!("{at}.DefaultTTL"),
            format!(
                "MinTTL ({}) <= DefaultTTL ({}) <= MaxTTL ({}) must hold",
                ttl.min, ttl.default, ttl.max
            ),
        ));
    }
    let allowed_methods = methods(
        &format!("{at}.AllowedMethods"),
        b.allowed_methods,
        &[Method::GET, Method::HEAD],
    )?;
    let cached_methods = methods(
        &format!("{at}.CachedMethods"),
        b.cached_methods,
        &[Method::GET, Method::HEAD],
    )?;
    let cp = b.cache_policy.unwrap_or_default();
    let cat = format!("{at}.CachePolicy");
    let op_raw_headers = b
        .origin_request_policy
        .as_ref()
        .map(|p| lower(p.headers.clone()))
        .unwrap_or_default();
    let cloudfront_key_headers = cloudfront_headers(&lower(cp.headers.clone()), &[], &cat, at)?;
    let cloudfront_forward_headers: Vec<HeaderName> =
        cloudfront_headers(&[], &op_raw_headers, &cat, at)?
            .into_iter()
            .filter(|h| !cloudfront_key_headers.contains(h))
            .collect();
    let cache_policy = CachePolicy {
        query_strings: selection(&format!("{cat}.QueryStringBehavior"), cp.query_string_behavior.as_deref(), cp.query_strings, false)?,
        headers: match selection(&format!("{cat}.HeaderBehavior"), cp.header_behavior.as_deref(), lower(cp.headers), false)? {
            Selection::None => vec![],
            Selection::Only(names) => header_names(&format!("{cat}.Headers"), names)?,
            _ => {
                return Err(NodeError::config(
                    format!("{cat}.HeaderBehavior"),
                    "a cache policy takes none or whitelist (use an origin request policy to forward all headers)",
                ))
            }
        },
        cookies: selection(&format!("{cat}.CookieBehavior"), cp.cookie_behavior.as_deref(), cp.cookies, false)?,
        accept_encoding_gzip: cp.enable_accept_encoding_gzip.unwrap_or(false),
        accept_encoding_brotli: cp.enable_accept_encoding_brotli.unwrap_or(false),
    };
    let op = b.origin_request_policy.unwrap_or_default();
    let oat = format!("{at}.OriginRequestPolicy");
    if op.enable_accept_encoding_gzip.is_some() || op.enable_accept_encoding_brotli.is_some() {
        return Err(NodeError::config(
            format!("{oat}.EnableAcceptEncodingGzip"),
            "belongs to the cache policy",
        ));
    }
    let origin_policy = OriginRequestPolicy {
        query_strings: selection(
            &format!("{oat}.QueryStringBehavior"),
            op.query_string_behavior.as_deref(),
            op.query_strings,
            true,
        )?,
        headers: selection(
            &format!("{oat}.HeaderBehavior"),
            op.header_behavior.as_deref(),
            lower(op.headers),
            true,
        )?,
        cookies: selection(
            &format!("{oat}.CookieBehavior"),
            op.cookie_behavior.as_deref(),
            op.cookies,
            true,
        )?,
    };
    let functions = associations(b.lambda_function_associations, at, base)?;
    Ok(Behavior {
        functions,
        cloudfront_key_headers,
        cloudfront_forward_headers,
        path_pattern: b.path_pattern,
        origin,
        origin_index,
        allowed_methods,
        cached_methods,
        ttl,
        cache_policy,
        origin_policy,
    })
}

/// The CloudFront-* headers a behavior's policies name (docs/cloudfront-behaviour.md: "Viewer
/// headers").
fn cloudfront_headers(
    cache: &[String],
    origin: &[String],
    cat: &str,
    at: &str,
) -> Result<Vec<HeaderName>> {
    use crate::geo::headers::{origin_policy_only, SUPPORTED};
    let mut out: Vec<HeaderName> = Vec::new();
    for (names, field, in_cache) in [
        (cache, format!("{cat}.Headers"), true),
        (origin, format!("{at}.OriginRequestPolicy.Headers"), false),
    ] {
        for n in names.iter().filter(|n| n.starts_with("cloudfront-")) {
            if in_cache && origin_policy_only(n) {
                return Err(NodeError::config(
                    &field,
                    format!(
                        "{n} can only be added by an origin request policy, not a cache policy"
                    ),
                ));
            }
            if !SUPPORTED.contains(&n.as_str()) {
                return Err(NodeError::config(
                    &field,
                    format!(
                        "{n} is not a header this edge can add ({})",
                        SUPPORTED.join(", ")
                    ),
                ));
            }
            let h = HeaderName::from_bytes(n.as_bytes()).expect("supported names are valid");
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

fn header_names(field: &str, names: Vec<String>) -> Result<Vec<HeaderName>> {
    names
        .into_iter()
        .map(|n| {
            HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| NodeError::config(field, format!("{n:?} is not a header name")))
        })
        .collect()
}

/// CloudFront's behavior names: none, whitelist, allExcept, all (and allViewer for origin
/// request policy headers).
fn selection(
    field: &str,
    behavior: Option<&str>,
    names: Vec<String>,
    origin_policy: bool,
) -> Result<Selection> {
    let s = match behavior.unwrap_or(if names.is_empty() {
        "none"
    } else {
        "whitelist"
    }) {
        "none" => Selection::None,
        "whitelist" => Selection::Only(names.clone()),
        "allExcept" => Selection::AllExcept(names.clone()),
        "all" | "allViewer" => Selection::All,
        "allViewerAndWhitelistCloudFront" if origin_policy => Selection::All,
        other => {
            return Err(NodeError::config(
                field,
                format!("{other:?} is not one of none, whitelist, allExcept, all"),
            ))
        }
    };
    let cloudfront_list = behavior == Some("allViewerAndWhitelistCloudFront");
    if matches!(s, Selection::None | Selection::All) && !names.is_empty() && !cloudfront_list {
        return Err(NodeError::config(
            field,
            "a list of names goes with whitelist or allExcept",
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unknown_origin_with_field_name() {
        let err = parse_toml(
            r#"
            [[distributions]]
            [[distributions.Origins]]
            Id = "a"
            DomainName = "example.org"
            [distributions.DefaultCacheBehavior]
            TargetOriginId = "b"
            "#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("distributions[0].DefaultCacheBehavior.TargetOriginId"),
            "{err}"
        );
        assert!(err.contains("\"b\""), "{err}");
    }

    #[test]
    fn refuses_bad_ttl_order() {
        let err = parse_toml(
            r#"
            [[distributions]]
            [[distributions.Origins]]
            Id = "a"
            DomainName = "example.org"
            [distributions.DefaultCacheBehavior]
            MinTTL = 100
            DefaultTTL = 10
            "#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("DefaultTTL"), "{err}");
    }

    #[test]
    fn origin_shortcut_forwards_everything() {
        let c = from_origin_url("http://127.0.0.1:8080/base/").unwrap();
        let d = &c.distributions[0];
        let b = d.behavior_for("/x");
        assert_eq!(b.origin.http_port, 8080);
        assert_eq!(b.origin.origin_path, "/base");
        assert!(b.forwards_header("authorization"));
        assert!(b.forwards_cookie("session"));
        assert_eq!(b.cache_policy.query_strings, Selection::All);
    }
}

#[cfg(test)]
mod example {
    #[test]
    fn the_documented_example_config_is_valid() {
        let text = include_str!("../../../docs/node.example.toml");
        let cfg = super::parse_toml(text).unwrap();
        let d = &cfg.distributions[0];
        assert_eq!(d.behavior_for("/static/app.js").ttl.min, 3600);
        assert_eq!(d.behavior_for("/api/users").origin.id, "api");
        assert_eq!(d.behavior_for("/index.html").origin.id, "mock");
    }
}
