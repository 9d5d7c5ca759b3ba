//! Raw configuration → validated configuration. Every refusal names the field (as a path like
//! `distributions[0].Origins[1].DomainName`) and the reason.

use super::raw::*;
use super::*;
use crate::error::NodeError;
use std::path::Path;

pub(super) type Result<T> = std::result::Result<T, NodeError>;

/// Parses and validates a TOML configuration; function files are relative to the current
/// directory.
pub fn parse_toml(text: &str) -> Result<NodeConfig> {
    parse_toml_in(text, Path::new("."))
}

/// Parses and validates a TOML configuration whose function files are relative to `base`.
pub fn parse_toml_in(text: &str, base: &Path) -> Result<NodeConfig> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let (place, message) = super::teach::explain(text, &e);
        NodeError::config(place, message)
    })?;
    // A refusal names its field by path; the file's reader also gets the key's line.
    validate(raw, base).map_err(|e| match e {
        NodeError::Config { field, reason } => match super::teach::locate(text, &field) {
            Some(place) => NodeError::Config {
                field: format!("{place} ({field})"),
                reason,
            },
            None => NodeError::Config { field, reason },
        },
        NodeError::Association { field, reason } => match super::teach::locate(text, &field) {
            Some(place) => NodeError::Association {
                field: format!("{place} ({field})"),
                reason,
            },
            None => NodeError::Association { field, reason },
        },
        NodeError::FunctionAssociation { field, reason } => {
            match super::teach::locate(text, &field) {
                Some(place) => NodeError::FunctionAssociation {
                    field: format!("{place} ({field})"),
                    reason,
                },
                None => NodeError::FunctionAssociation { field, reason },
            }
        }
        other => other,
    })
}

/// Parses the distributions a control node replicates: like a configuration file, but without
/// `[node]` (each node has its own) and without function files (functions arrive as published
/// versions through [`associate`]). No distribution at all is allowed: a new control node has
/// none yet.
pub fn parse_distributions(text: &str) -> Result<NodeConfig> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let (place, message) = super::teach::explain(text, &e);
        NodeError::config(format!("distributions, {place}"), message)
    })?;
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
        let behaviors = d.default_cache_behavior.iter().chain(&d.cache_behaviors);
        if behaviors
            .into_iter()
            .any(|b| !b.function_associations.is_empty())
        {
            return Err(NodeError::config(
                format!("distributions[{i}]"),
                "replicated distributions carry no FunctionAssociations (CloudFront functions are associated separately: edge associate, edge deploy)",
            ));
        }
    }
    let node = node_settings(RawNode::default())?;
    let mut distributions = Vec::with_capacity(raw.distributions.len());
    for (i, d) in raw.distributions.into_iter().enumerate() {
        distributions.push(Arc::new(distribution(
            d,
            i,
            Path::new("."),
            &Stores::default(),
        )?));
    }
    Ok(NodeConfig {
        node,
        distributions: super::Distributions(distributions),
        key_value_stores: Vec::new(),
    })
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
        headers: crate::viewer::headers::SUPPORTED
            .iter()
            .map(|s| s.to_string())
            .collect(),
        cookie_behavior: Some("all".into()),
        ..Default::default()
    };
    let raw = RawConfig {
        node: RawNode::default(),
        pops: vec![],
        key_value_stores: vec![],
        distributions: vec![RawDistribution {
            id: None,
            domain_name: None,
            aliases: vec![],
            error_caching_min_ttl: None,
            default_root_object: None,
            restrictions: None,
            custom_error_responses: None,
            fetch_allow: vec![],
            key_groups: vec![],
            cache_policies: vec![],
            origin_request_policies: vec![],
            response_headers_policies: vec![],
            origin_groups: None,
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
                s3_origin_config: None,
                origin_access_control_id: None,
                custom_headers: Default::default(),
            }],
            default_cache_behavior: Some(RawBehavior {
                target_origin_id: Some("origin".into()),
                allowed_methods: Some(RawMethods::List(
                    ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
                        .map(String::from)
                        .to_vec(),
                )),
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
    let key_value_stores = stores(raw.key_value_stores, base)?;
    let names: Stores = key_value_stores
        .iter()
        .map(|s| (s.name.clone(), s.id.clone()))
        .collect();
    let mut distributions = Vec::with_capacity(raw.distributions.len());
    for (i, d) in raw.distributions.into_iter().enumerate() {
        distributions.push(Arc::new(distribution(d, i, base, &names)?));
    }
    Ok(NodeConfig {
        node,
        distributions: super::Distributions(distributions),
        key_value_stores,
    })
}

/// `[[key_value_stores]]`: each store's items from its `File` (AWS's import format), its id
/// made from its name (the same on every node and every start).
fn stores(raw: Vec<RawKvs>, base: &Path) -> Result<Vec<Arc<crate::cloudfront::kvs::Store>>> {
    use crate::cloudfront::kvs;
    let mut out: Vec<Arc<kvs::Store>> = Vec::with_capacity(raw.len());
    for (i, s) in raw.into_iter().enumerate() {
        let at = format!("key_value_stores[{i}]");
        let name = s.name.unwrap_or_default();
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(NodeError::config(
                format!("{at}.Name"),
                format!("{name:?} must be 1 to 64 letters, digits, '-' or '_'"),
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(NodeError::config(
                format!("{at}.Name"),
                format!("{name} is named twice"),
            ));
        }
        let items = match &s.file {
            None => Vec::new(),
            Some(f) => {
                let path = base.join(f);
                let bytes = std::fs::read(&path).map_err(|e| {
                    NodeError::config(format!("{at}.File"), format!("{}: {e}", path.display()))
                })?;
                kvs::parse_import(&bytes).map_err(|e| {
                    NodeError::config(format!("{at}.File"), format!("{}: {e}", path.display()))
                })?
            }
        };
        let size = kvs::size_of(items.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if size > kvs::STORE_BYTES {
            return Err(NodeError::config(
                format!("{at}.File"),
                format!(
                    "{size} bytes of keys and values; a store may hold at most {} (5 MB)",
                    kvs::STORE_BYTES
                ),
            ));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        out.push(Arc::new(kvs::Store {
            id: kvs::id_from(&name),
            name,
            created_ms: now,
            updated_ms: now,
            items: items.into_iter().collect(),
        }));
    }
    Ok(out)
}

pub(super) fn seconds(field: &str, v: Option<f64>, default: f64, max: f64) -> Result<Duration> {
    let v = v.unwrap_or(default);
    if !(v > 0.0 && v <= max) {
        return Err(NodeError::config(
            field,
            format!("must be more than 0 and at most {max} seconds, got {v}"),
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// CloudFront's API lists carry their length as `Quantity`: when given, it must be right.
pub(super) fn quantity(q: Option<u64>, items: usize, at: &str) -> Result<()> {
    match q {
        Some(q) if q != items as u64 => Err(NodeError::config(
            format!("{at}.Quantity"),
            format!("Quantity {q} does not match the {items} Items"),
        )),
        _ => Ok(()),
    }
}

pub(super) fn positive(field: &str, v: Option<u64>, default: u64) -> Result<u64> {
    match v.unwrap_or(default) {
        0 => Err(NodeError::config(field, "must be more than 0")),
        n => Ok(n),
    }
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
        assert!(d.behavior_for("/index.html").compress);
        let group = d.behavior_for("/static/app.js");
        assert_eq!(group.origin.id, "mock");
        let failover = group
            .failover
            .as_ref()
            .expect("the origin group's secondary");
        assert_eq!(
            (failover.origin.id.as_str(), &failover.codes[..]),
            ("api", &[500, 502, 503, 504][..])
        );
    }
}
