//! `Origins`: a custom origin's address, protocol policy, timeouts, custom headers and pool.

use super::raw::*;
use super::validate::{positive, seconds, Result};
use super::*;
use crate::error::NodeError;

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
    /// An S3 origin (`S3OriginConfig`): functions see `origin.s3`.
    pub s3: Option<S3Origin>,
    /// Identifies the client settings (origins with equal keys share a connection pool).
    pub client_key: String,
}

/// What functions see of an S3 origin besides its domain, path and headers.
#[derive(Debug, Clone)]
pub struct S3Origin {
    /// `origin-access-identity` with an OriginAccessIdentity, else `none`.
    pub auth_method: &'static str,
    /// From the bucket's domain (`bucket.s3.REGION.amazonaws.com`), else us-east-1.
    pub region: String,
}

/// The region in an S3 bucket domain: `bucket.s3.eu-west-1.amazonaws.com` or
/// `bucket.s3-eu-west-1.amazonaws.com`; us-east-1 for `bucket.s3.amazonaws.com` and others.
fn s3_region(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    for (i, l) in labels.iter().enumerate() {
        if let Some(r) = l.strip_prefix("s3-").filter(|r| r.contains('-')) {
            return r.to_string();
        }
        if *l == "s3" {
            if let Some(next) = labels.get(i + 1).filter(|n| n.contains('-')) {
                return next.to_string();
            }
        }
    }
    "us-east-1".to_string()
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

pub(super) fn origin(o: RawOrigin, at: &str) -> Result<Origin> {
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
    if o.custom_origin_config.is_some() && o.s3_origin_config.is_some() {
        return Err(NodeError::config(
            format!("{at}.S3OriginConfig"),
            "an origin is either custom (CustomOriginConfig) or S3 (S3OriginConfig), not both",
        ));
    }
    // An S3 origin is reached as CloudFront reaches a bucket (HTTPS, 443) unless its
    // S3OriginConfig points it elsewhere.
    let s3 = o.s3_origin_config.map(|s| {
        let oai = s.origin_access_identity.filter(|v| !v.is_empty());
        let config = RawCustomOriginConfig {
            http_port: s.http_port,
            https_port: s.https_port,
            origin_protocol_policy: Some(
                s.origin_protocol_policy
                    .unwrap_or_else(|| "https-only".into()),
            ),
            origin_read_timeout: s.origin_read_timeout,
            ..Default::default()
        };
        let origin = S3Origin {
            auth_method: if oai.is_some() {
                "origin-access-identity"
            } else {
                "none"
            },
            region: s3_region(&domain_name),
        };
        (config, origin)
    });
    let (c, cat, s3) = match s3 {
        Some((config, origin)) => (config, format!("{at}.S3OriginConfig"), Some(origin)),
        None => (
            o.custom_origin_config.unwrap_or_default(),
            format!("{at}.CustomOriginConfig"),
            None,
        ),
    };
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
        http_port: port("HTTPPort", c.http_port, defaults::HTTP_PORT)?,
        https_port: port("HTTPSPort", c.https_port, defaults::HTTPS_PORT)?,
        protocol_policy,
        origin_path: path,
        connection_timeout: seconds(
            &format!("{at}.ConnectionTimeout"),
            o.connection_timeout,
            defaults::CONNECTION_TIMEOUT_S,
            defaults::MAX_CONNECTION_TIMEOUT_S,
        )?,
        read_timeout: seconds(
            &format!("{cat}.OriginReadTimeout"),
            c.origin_read_timeout,
            defaults::ORIGIN_READ_TIMEOUT_S,
            defaults::MAX_ORIGIN_TIMEOUT_S,
        )?,
        keepalive_timeout: seconds(
            &format!("{cat}.OriginKeepaliveTimeout"),
            c.origin_keepalive_timeout,
            defaults::ORIGIN_KEEPALIVE_TIMEOUT_S,
            defaults::MAX_ORIGIN_TIMEOUT_S,
        )?,
        keepalive_pool_size: positive(
            &format!("{cat}.KeepalivePoolSize"),
            c.keepalive_pool_size,
            defaults::KEEPALIVE_POOL_SIZE,
        )? as usize,
        verify_certificate: c.verify_certificate.unwrap_or(true),
        custom_headers,
        s3,
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
