//! The `origin` object of the origin stages (docs/cloudfront-behaviour.md: "The origin
//! object") as one typed value: written into the event from the configured origin, checked
//! when a function returns one, and read by the driver to send the request where it says.

use super::headers;
use super::validate::Invalid;
use crate::config::{self, Protocol};
use http::HeaderMap;
use serde_json::{json, Value};

/// `request.origin`: exactly one of a custom origin or an S3 origin.
#[derive(Debug, Clone, PartialEq)]
pub enum FnOrigin {
    Custom {
        domain_name: String,
        port: u16,
        protocol: Protocol,
        path: String,
        custom_headers: HeaderMap,
        /// Seconds; kept as given (`None` when a function left them out).
        read_timeout: Option<u64>,
        keepalive_timeout: Option<u64>,
        ssl_protocols: Option<Vec<String>>,
    },
    S3 {
        domain_name: String,
        path: String,
        custom_headers: HeaderMap,
        auth_method: Option<String>,
        region: Option<String>,
        /// Where a configured S3 origin is really reached (not part of the event; a bucket a
        /// function names is reached over HTTPS on 443).
        endpoint: Option<(Protocol, u16)>,
    },
}

const MSG: &str = "The Lambda function returned an invalid origin configuration: One or more HeaderName or HeaderValue values are invalid.";

fn bad(detail: String) -> Invalid {
    Invalid {
        message: MSG.into(),
        detail,
    }
}

impl FnOrigin {
    /// The configured origin as the viewer's protocol reaches it (`s3` for an S3 origin).
    pub fn custom(o: &config::Origin, viewer: Protocol) -> FnOrigin {
        let (protocol, port) = o.endpoint(viewer);
        let mut custom_headers = HeaderMap::new();
        for (n, v) in &o.custom_headers {
            custom_headers.append(n.clone(), v.clone());
        }
        if let Some(s3) = &o.s3 {
            return FnOrigin::S3 {
                domain_name: o.domain_name.clone(),
                path: o.origin_path.clone(),
                custom_headers,
                auth_method: Some(s3.auth_method.to_string()),
                region: Some(s3.region.clone()),
                endpoint: Some((protocol, port)),
            };
        }
        FnOrigin::Custom {
            domain_name: o.domain_name.clone(),
            port,
            protocol,
            path: o.origin_path.clone(),
            custom_headers,
            read_timeout: Some(o.read_timeout.as_secs()),
            keepalive_timeout: Some(o.keepalive_timeout.as_secs()),
            ssl_protocols: Some(vec!["TLSv1.2".into()]),
        }
    }

    /// The event's JSON, keys in AWS's order.
    pub fn to_event(&self) -> Value {
        match self {
            FnOrigin::Custom {
                domain_name,
                port,
                protocol,
                path,
                custom_headers,
                read_timeout,
                keepalive_timeout,
                ssl_protocols,
            } => {
                let mut c = serde_json::Map::new();
                c.insert("customHeaders".into(), headers::to_event(custom_headers));
                c.insert("domainName".into(), json!(domain_name));
                if let Some(k) = keepalive_timeout {
                    c.insert("keepaliveTimeout".into(), json!(k));
                }
                c.insert("path".into(), json!(path));
                c.insert("port".into(), json!(port));
                c.insert("protocol".into(), json!(scheme(*protocol)));
                if let Some(r) = read_timeout {
                    c.insert("readTimeout".into(), json!(r));
                }
                if let Some(s) = ssl_protocols {
                    c.insert("sslProtocols".into(), json!(s));
                }
                json!({ "custom": c })
            }
            FnOrigin::S3 {
                domain_name,
                path,
                custom_headers,
                auth_method,
                region,
                ..
            } => {
                let mut s = serde_json::Map::new();
                if let Some(a) = auth_method {
                    s.insert("authMethod".into(), json!(a));
                }
                s.insert("customHeaders".into(), headers::to_event(custom_headers));
                s.insert("domainName".into(), json!(domain_name));
                s.insert("path".into(), json!(path));
                if let Some(r) = region {
                    s.insert("region".into(), json!(r));
                }
                json!({ "s3": s })
            }
        }
    }

    /// An origin object a function returned, checked as CloudFront checks it.
    pub fn from_event(o: &Value) -> Result<FnOrigin, Invalid> {
        let obj = o
            .as_object()
            .ok_or_else(|| bad("origin is not an object".into()))?;
        let (kind, spec) = match (obj.get("custom"), obj.get("s3")) {
            (Some(c), None) => ("custom", c),
            (None, Some(s)) => ("s3", s),
            _ => return Err(bad("origin must have exactly one of custom or s3".into())),
        };
        let spec = spec
            .as_object()
            .ok_or_else(|| bad(format!("origin.{kind} is not an object")))?;
        let domain = spec.get("domainName").and_then(Value::as_str).unwrap_or("");
        if domain.is_empty() || domain.len() > 253 || domain.contains(':') || domain.contains('/') {
            return Err(bad(format!(
                "origin.{kind}.domainName {domain:?} must be a DNS name without ':' or '/'"
            )));
        }
        let path = spec.get("path").and_then(Value::as_str).unwrap_or("");
        if !path.is_empty() && (!path.starts_with('/') || path.ends_with('/') || path.len() > 255) {
            return Err(bad(format!("origin.{kind}.path {path:?} must start with '/', not end with '/', and be at most 255 characters")));
        }
        let custom_headers = match spec.get("customHeaders") {
            None => HeaderMap::new(),
            Some(h) => {
                let parsed = headers::from_event(h)
                    .map_err(|e| bad(format!("origin.{kind}.customHeaders: {}", e.message())))?;
                if let Some(n) = parsed.keys().find(|n| headers::is_disallowed(n.as_str())) {
                    return Err(bad(format!(
                        "origin.{kind}.customHeaders has disallowed header {}",
                        n.as_str()
                    )));
                }
                parsed
            }
        };
        let text = |f: &str| spec.get(f).and_then(Value::as_str).map(str::to_string);
        if kind == "s3" {
            return Ok(FnOrigin::S3 {
                domain_name: domain.into(),
                path: path.into(),
                custom_headers,
                auth_method: text("authMethod"),
                region: text("region"),
                endpoint: None,
            });
        }
        let port = spec.get("port").and_then(Value::as_u64).unwrap_or(0);
        if !(port == 80 || port == 443 || (1024..=65535).contains(&port)) {
            return Err(bad(format!(
                "origin.custom.port {port} must be 80, 443 or 1024-65535"
            )));
        }
        let protocol = match spec.get("protocol").and_then(Value::as_str).unwrap_or("") {
            "http" => Protocol::Http,
            "https" => Protocol::Https,
            other => {
                return Err(bad(format!(
                    "origin.custom.protocol {other:?} must be http or https"
                )))
            }
        };
        let within = |f: &str, lo: u64, hi: u64| match spec.get(f) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
                _ => Err(bad(format!(
                    "origin.custom.{f} {v} must be {lo}-{hi} seconds"
                ))),
            },
        };
        let ssl_protocols = spec.get("sslProtocols").and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        });
        Ok(FnOrigin::Custom {
            domain_name: domain.into(),
            port: port as u16,
            protocol,
            path: path.into(),
            custom_headers,
            read_timeout: within("readTimeout", 1, 60)?,
            keepalive_timeout: within("keepaliveTimeout", 1, 60)?,
            ssl_protocols,
        })
    }

    /// Where a request to this origin goes: `scheme://host:port/path` (S3 over HTTPS).
    pub fn base_url(&self) -> String {
        let (protocol, domain, port, path) = match self {
            FnOrigin::Custom {
                protocol,
                domain_name,
                port,
                path,
                ..
            } => (*protocol, domain_name, *port, path),
            FnOrigin::S3 {
                domain_name,
                path,
                endpoint,
                ..
            } => {
                let (protocol, port) = endpoint.unwrap_or((Protocol::Https, 443));
                (protocol, domain_name, port, path)
            }
        };
        if domain.contains(':') {
            // An IPv6 address (a configured origin; a function's domain has no ':').
            return format!("{}://[{domain}]:{port}{path}", scheme(protocol));
        }
        format!("{}://{domain}:{port}{path}", scheme(protocol))
    }

    /// An S3 origin a function returned keeps where the configured bucket of the same name is
    /// really reached (a local stand-in), as it was given to the function.
    pub fn keep_endpoint_of(&mut self, given: Option<&FnOrigin>) {
        if let (
            FnOrigin::S3 {
                domain_name,
                endpoint: endpoint @ None,
                ..
            },
            Some(FnOrigin::S3 {
                domain_name: was,
                endpoint: Some(e),
                ..
            }),
        ) = (self, given)
        {
            if domain_name == was {
                *endpoint = Some(*e);
            }
        }
    }

    /// The headers CloudFront adds to every request to this origin.
    pub fn custom_headers(&self) -> &HeaderMap {
        match self {
            FnOrigin::Custom { custom_headers, .. } | FnOrigin::S3 { custom_headers, .. } => {
                custom_headers
            }
        }
    }
}

fn scheme(p: Protocol) -> &'static str {
    match p {
        Protocol::Https => "https",
        Protocol::Http => "http",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_read_from_an_event_is_written_back_the_same() {
        let aws = json!({"custom": {"customHeaders": {"x-o": [{"key": "X-O", "value": "1"}]}, "domainName": "example.org", "keepaliveTimeout": 5, "path": "", "port": 443, "protocol": "https", "readTimeout": 30, "sslProtocols": ["TLSv1", "TLSv1.1", "TLSv1.2"]}});
        let o = FnOrigin::from_event(&aws).unwrap();
        assert_eq!(o.to_event(), aws);
        assert_eq!(o.base_url(), "https://example.org:443");
        let s3 = json!({"s3": {"authMethod": "origin-access-identity", "customHeaders": {}, "domainName": "b.s3.amazonaws.com", "path": "/p", "region": "us-east-1"}});
        let o = FnOrigin::from_event(&s3).unwrap();
        assert_eq!(o.to_event(), s3);
        assert_eq!(o.base_url(), "https://b.s3.amazonaws.com:443/p");
    }
}
