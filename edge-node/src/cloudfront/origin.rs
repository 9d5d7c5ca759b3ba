//! Runtime 2.0's origin helpers at viewer-request (docs/cloudfront-functions.md: "Origin
//! helpers"): `cf.updateRequestOrigin(params)` changes settings of the request's origin (what
//! it leaves out is the behavior's origin's), `cf.selectRequestOriginById(id)` sends the
//! request to another origin of the distribution, and `cf.createRequestOriginGroup(params)`
//! makes a primary and a failover origin from the distribution's origins, failing over on the
//! status codes given (as an origin group does). The function records the change; this module
//! checks it against the distribution and says where the request goes.
//!
//! Facts relied on (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/helper-functions-origin-modification.html>):
//! viewer-request functions of runtime 2.0 only; settings `updateRequestOrigin` does not name
//! are inherited from the existing origin; the target may be any HTTP endpoint; an origin
//! group fails over on the status codes of its failover criteria, which CloudFront allows from
//! 400, 403, 404, 416, 500, 502, 503 and 504
//! (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_StatusCodes.html>).

use crate::config::{Distribution, Origin, Protocol};
use crate::lambda::origin::FnOrigin;
use crate::lambda::validate::Invalid;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// Where a request goes after a CloudFront function chose its origin.
#[derive(Debug, Clone)]
pub struct OriginChoice {
    pub primary: FnOrigin,
    /// An origin group's second origin and the statuses that send the request to it.
    pub failover: Option<(FnOrigin, Vec<u16>)>,
}

/// Status codes CloudFront accepts as an origin group's failover criteria.
pub const FAILOVER_STATUSES: [u16; 8] = [400, 403, 404, 416, 500, 502, 503, 504];

fn bad(detail: String) -> Invalid {
    Invalid {
        message: "The CloudFront function changed the origin in a way CloudFront does not accept."
            .into(),
        detail,
    }
}

fn by_id<'a>(d: &'a Distribution, id: &str) -> Result<&'a Origin, Invalid> {
    d.origins
        .iter()
        .find(|o| o.id == id)
        .map(|o| &**o)
        .ok_or_else(|| {
            let ids: Vec<&str> = d.origins.iter().map(|o| o.id.as_str()).collect();
            bad(format!(
                "distribution {} has no origin with the Id {id:?} (it has {})",
                d.id,
                ids.join(", ")
            ))
        })
}

/// The origin the function's change (`change`, as the runtime recorded it) makes, starting
/// from `current` (the behavior's origin) for a viewer on `viewer`.
pub fn choice(
    change: &str,
    d: &Distribution,
    current: &Origin,
    viewer: Protocol,
) -> Result<OriginChoice, Invalid> {
    let v: Value =
        serde_json::from_str(change).map_err(|e| bad(format!("the change is not JSON: {e}")))?;
    if let Some(id) = v.get("select").and_then(Value::as_str) {
        return Ok(OriginChoice {
            primary: FnOrigin::custom(by_id(d, id)?, viewer),
            failover: None,
        });
    }
    if let Some(p) = v.get("update") {
        return Ok(OriginChoice {
            primary: update(FnOrigin::custom(current, viewer), p)?,
            failover: None,
        });
    }
    let Some(g) = v.get("group") else {
        return Err(bad(format!("unknown origin change {change}")));
    };
    let ids: Vec<&str> = g
        .get("originIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if ids.len() != 2 {
        return Err(bad(format!(
            "createRequestOriginGroup needs originIds with two origin Ids (a primary and a failover), got {}",
            g.get("originIds").unwrap_or(&Value::Null)
        )));
    }
    let codes: Vec<u16> = match g.get("failoverCriteria").and_then(|c| c.get("statusCodes")) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|c| {
                c.as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .filter(|c| FAILOVER_STATUSES.contains(c))
                    .ok_or_else(|| {
                        bad(format!(
                            "failoverCriteria.statusCodes: {c} is not one of {FAILOVER_STATUSES:?}"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(bad(
                "createRequestOriginGroup needs failoverCriteria.statusCodes (an array)".into(),
            ))
        }
    };
    Ok(OriginChoice {
        primary: FnOrigin::custom(by_id(d, ids[0])?, viewer),
        failover: Some((FnOrigin::custom(by_id(d, ids[1])?, viewer), codes)),
    })
}

/// `updateRequestOrigin`'s settings over `origin`. Known settings without a local meaning
/// (origin shield, origin access control, connection attempts and timeout, TLS versions) are
/// accepted; an unknown one is refused by name.
fn update(mut origin: FnOrigin, p: &Value) -> Result<FnOrigin, Invalid> {
    let Some(p) = p.as_object() else {
        return Err(bad("updateRequestOrigin takes an object".into()));
    };
    let FnOrigin::Custom {
        domain_name,
        port,
        protocol,
        path,
        custom_headers,
        read_timeout,
        ..
    } = &mut origin
    else {
        return Err(bad("the behavior's origin is not a custom origin".into()));
    };
    let text = |k: &str, v: &Value| -> Result<String, Invalid> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{k} must be a string, got {v}")))
    };
    for (k, v) in p {
        match k.as_str() {
            "domainName" => {
                let d = text(k, v)?;
                if d.is_empty() || d.contains(['/', ':', ' ']) {
                    return Err(bad(format!(
                        "domainName {d:?} must be a host name, without a scheme, port or path"
                    )));
                }
                *domain_name = d;
            }
            "originPath" => {
                let o = text(k, v)?;
                if !(o.is_empty() || (o.starts_with('/') && !o.ends_with('/'))) {
                    return Err(bad(format!(
                        "originPath {o:?} must start with / and not end with one"
                    )));
                }
                *path = o;
            }
            "customHeaders" => {
                let Some(h) = v.as_object() else {
                    return Err(bad("customHeaders must be an object of names and values".into()));
                };
                let mut out = HeaderMap::new();
                for (n, val) in h {
                    let name = HeaderName::from_bytes(n.as_bytes())
                        .map_err(|_| bad(format!("customHeaders: {n:?} is not a header name")))?;
                    let value = val
                        .as_str()
                        .and_then(|s| HeaderValue::from_str(s).ok())
                        .ok_or_else(|| bad(format!("customHeaders.{n}: {val} is not a header value")))?;
                    out.append(name, value);
                }
                *custom_headers = out;
            }
            "customOriginConfig" => {
                for (ck, cv) in cv_object(k, v)? {
                    match ck.as_str() {
                        "port" => {
                            *port = cv
                                .as_u64()
                                .and_then(|p| u16::try_from(p).ok())
                                .filter(|p| *p > 0)
                                .ok_or_else(|| bad(format!("customOriginConfig.port {cv} is not a port")))?;
                        }
                        "protocol" => {
                            *protocol = match cv.as_str() {
                                Some("http") => Protocol::Http,
                                Some("https") => Protocol::Https,
                                _ => {
                                    return Err(bad(format!(
                                        "customOriginConfig.protocol {cv} is not \"http\" or \"https\""
                                    )))
                                }
                            }
                        }
                        "sslProtocols" | "ipAddressType" => {}
                        other => {
                            return Err(bad(format!("customOriginConfig has no setting {other:?}")))
                        }
                    }
                }
            }
            "timeouts" => {
                for (tk, tv) in cv_object(k, v)? {
                    match tk.as_str() {
                        "readTimeout" => {
                            *read_timeout = Some(
                                tv.as_u64()
                                    .filter(|t| (1..=120).contains(t))
                                    .ok_or_else(|| bad(format!("timeouts.readTimeout {tv} is not 1 to 120 seconds")))?,
                            );
                        }
                        "connectionTimeout" | "responseCompletionTimeout" => {}
                        other => return Err(bad(format!("timeouts has no setting {other:?}"))),
                    }
                }
            }
            "connectionAttempts" | "originShield" | "originAccessControlConfig" => {}
            other => {
                return Err(bad(format!(
                    "updateRequestOrigin has no setting {other:?} (domainName, originPath, customHeaders, customOriginConfig, timeouts, connectionAttempts, originShield, originAccessControlConfig)"
                )))
            }
        }
    }
    Ok(origin)
}

fn cv_object<'a>(k: &str, v: &'a Value) -> Result<&'a serde_json::Map<String, Value>, Invalid> {
    v.as_object()
        .ok_or_else(|| bad(format!("{k} must be an object, got {v}")))
}
