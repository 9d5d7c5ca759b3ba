//! A distribution in AWS's JSON, as `aws cloudfront get-distribution-config` (`{ETag,
//! DistributionConfig}`) or `get-distribution` (`{ETag, Distribution}`) print it, or a bare
//! `DistributionConfig`, turned into this node's configuration (the TOML form, which takes
//! CloudFront's names): `Quantity`/`Items` lists become lists (their Quantity checked), an
//! origin's `CustomHeaders` a table, legacy `ForwardedValues` an inline cache policy. Fields with
//! no local meaning are taken and named once as "accepted, not emulated"; anything else
//! unknown is refused later by the configuration's own checks, with its path.

use crate::error::NodeError;
use serde_json::{Map, Value};

/// Top-level `DistributionConfig` fields that have no meaning on a local edge.
const NOT_EMULATED: [&str; 13] = [
    "CallerReference",
    "Comment",
    "PriceClass",
    "Enabled",
    "ViewerCertificate",
    "WebACLId",
    "HttpVersion",
    "IsIPV6Enabled",
    "Logging",
    "Staging",
    "ContinuousDeploymentPolicyId",
    "AnycastIpListId",
    "ConnectionMode",
];

/// Per origin.
const ORIGIN_NOT_EMULATED: [&str; 3] = ["ConnectionAttempts", "OriginShield", "VpcOriginConfig"];

/// Per cache behavior.
const BEHAVIOR_NOT_EMULATED: [&str; 4] = [
    "FieldLevelEncryptionId",
    "SmoothStreaming",
    "RealtimeLogConfigArn",
    "GrpcConfig",
];

/// Lists of what CloudFront keeps beside a distribution (ours: a local run needs them in the
/// file), taken from beside the `DistributionConfig` as well as from inside it.
const SIDE_LISTS: [&str; 4] = [
    "CachePolicies",
    "OriginRequestPolicies",
    "ResponseHeadersPolicies",
    "KeyGroups",
];

/// Whether `text` is JSON (a configuration file starting with `{`), not TOML.
pub fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// The configuration (TOML form) for the distribution in `text`, and the fields taken but not
/// emulated (`DistributionConfig.PriceClass`, …).
pub fn to_config(text: &str) -> Result<(toml::Value, Vec<String>), NodeError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        NodeError::config(
            format!("line {}, column {}", e.line(), e.column()),
            format!("not JSON: {e}"),
        )
    })?;
    let Value::Object(mut top) = v else {
        return Err(NodeError::config(
            "file",
            "a JSON configuration is an object",
        ));
    };
    let (mut dist, at, id, domain) = if let Some(Value::Object(mut d)) = top.remove("Distribution")
    {
        let id = d.remove("Id");
        let domain = d.remove("DomainName");
        let Some(Value::Object(c)) = d.remove("DistributionConfig") else {
            return Err(NodeError::config(
                "Distribution.DistributionConfig",
                "is required",
            ));
        };
        (c, "Distribution.DistributionConfig", id, domain)
    } else if let Some(Value::Object(c)) = top.remove("DistributionConfig") {
        (c, "DistributionConfig", None, None)
    } else if top.contains_key("Origins") {
        (std::mem::take(&mut top), "DistributionConfig", None, None)
    } else {
        return Err(NodeError::config(
            "file",
            "a JSON configuration is get-distribution-config's {ETag, DistributionConfig}, get-distribution's {Distribution} or a DistributionConfig",
        ));
    };
    // What CloudFront keeps beside a distribution (its account's policies and key groups) may
    // sit beside the DistributionConfig in the file, keeping that one as AWS printed it.
    for name in SIDE_LISTS {
        if let Some(list) = top.remove(name) {
            if dist.contains_key(name) {
                return Err(NodeError::config(
                    name,
                    format!("is given both beside and inside {at}: give it once"),
                ));
            }
            dist.insert(name.into(), list);
        }
    }
    let mut accepted = Vec::new();
    for name in NOT_EMULATED {
        if dist.remove(name).is_some() {
            accepted.push(format!("{at}.{name}"));
        }
    }
    if let Some(id) = id {
        dist.insert("Id".into(), id);
    }
    if let Some(domain) = domain {
        dist.insert("DomainName".into(), domain);
    }
    if dist.get("DefaultRootObject").and_then(Value::as_str) == Some("") {
        dist.remove("DefaultRootObject");
    }
    unwrap_list(&mut dist, "Aliases", at)?;
    unwrap_list(&mut dist, "Origins", at)?;
    if let Some(Value::Array(origins)) = dist.get_mut("Origins") {
        for (i, o) in origins.iter_mut().enumerate() {
            let at = format!("{at}.Origins.Items[{i}]");
            let Value::Object(o) = o else { continue };
            for name in ORIGIN_NOT_EMULATED {
                if o.remove(name).is_some() {
                    accepted.push(format!("{at}.{name}"));
                }
            }
            if let Some(Value::Object(c)) = o.get_mut("CustomOriginConfig") {
                if c.remove("OriginSslProtocols").is_some() {
                    accepted.push(format!("{at}.CustomOriginConfig.OriginSslProtocols"));
                }
            }
            custom_headers(o, &at)?;
        }
    }
    unwrap_list(&mut dist, "CacheBehaviors", at)?;
    if let Some(Value::Object(b)) = dist.get_mut("DefaultCacheBehavior") {
        behavior(b, &format!("{at}.DefaultCacheBehavior"), &mut accepted)?;
    }
    if let Some(Value::Array(list)) = dist.get_mut("CacheBehaviors") {
        for (i, b) in list.iter_mut().enumerate() {
            if let Value::Object(b) = b {
                behavior(b, &format!("{at}.CacheBehaviors.Items[{i}]"), &mut accepted)?;
            }
        }
    }
    let mut doc = Map::new();
    doc.insert(
        "distributions".into(),
        Value::Array(vec![Value::Object(dist)]),
    );
    let value = toml::Value::try_from(drop_nulls(Value::Object(doc))).map_err(|e| {
        NodeError::config("file", format!("cannot be used as a configuration: {e}"))
    })?;
    Ok((value, accepted))
}

/// `{Quantity, Items}` at `key` as the list of its Items (Quantity checked; no Items: empty).
fn unwrap_list(m: &mut Map<String, Value>, key: &str, at: &str) -> Result<(), NodeError> {
    let Some(Value::Object(list)) = m.get(key) else {
        return Ok(());
    };
    let items = list.get("Items").cloned().unwrap_or(Value::Array(vec![]));
    let n = items.as_array().map_or(0, Vec::len);
    if let Some(q) = list.get("Quantity").and_then(Value::as_u64) {
        if q != n as u64 {
            return Err(NodeError::config(
                format!("{at}.{key}.Quantity"),
                format!("Quantity {q} does not match the {n} Items"),
            ));
        }
    }
    m.insert(key.into(), items);
    Ok(())
}

/// An origin's `CustomHeaders` (`Items` of `{HeaderName, HeaderValue}`) as a table.
fn custom_headers(o: &mut Map<String, Value>, at: &str) -> Result<(), NodeError> {
    unwrap_list(o, "CustomHeaders", at)?;
    let Some(Value::Array(items)) = o.remove("CustomHeaders") else {
        return Ok(());
    };
    let mut table = Map::new();
    for (i, h) in items.iter().enumerate() {
        let name = h.get("HeaderName").and_then(Value::as_str);
        let value = h.get("HeaderValue").and_then(Value::as_str);
        let (Some(name), Some(value)) = (name, value) else {
            return Err(NodeError::config(
                format!("{at}.CustomHeaders.Items[{i}]"),
                "needs HeaderName and HeaderValue",
            ));
        };
        table.insert(name.into(), Value::String(value.into()));
    }
    o.insert("CustomHeaders".into(), Value::Object(table));
    Ok(())
}

fn behavior(
    b: &mut Map<String, Value>,
    at: &str,
    accepted: &mut Vec<String>,
) -> Result<(), NodeError> {
    for name in BEHAVIOR_NOT_EMULATED {
        if b.remove(name).is_some() {
            accepted.push(format!("{at}.{name}"));
        }
    }
    unwrap_list(b, "LambdaFunctionAssociations", at)?;
    unwrap_list(b, "FunctionAssociations", at)?;
    // Lists that are off say nothing.
    for name in ["TrustedSigners", "TrustedKeyGroups"] {
        if b.get(name).and_then(|t| t.get("Enabled")) == Some(&Value::Bool(false)) {
            b.remove(name);
        }
    }
    let forwarded = b.remove("ForwardedValues");
    if b.contains_key("CachePolicyId") {
        // A cache policy carries the TTLs; AWS may still print the legacy ones beside it.
        for ttl in ["MinTTL", "DefaultTTL", "MaxTTL"] {
            b.remove(ttl);
        }
        return Ok(());
    }
    if let Some(f) = forwarded {
        b.insert(
            "CachePolicy".into(),
            legacy_policy(&f, &format!("{at}.ForwardedValues"))?,
        );
    }
    Ok(())
}

/// Legacy `ForwardedValues` (what is forwarded is also the cache key) as an inline cache policy.
fn legacy_policy(f: &Value, at: &str) -> Result<Value, NodeError> {
    let names = |v: Option<&Value>| -> Vec<Value> {
        v.and_then(|v| v.get("Items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut p = Map::new();
    let query = f
        .get("QueryString")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let keys = names(f.get("QueryStringCacheKeys"));
    let behavior = match (query, keys.is_empty()) {
        (false, _) => "none",
        (true, true) => "all",
        (true, false) => "whitelist",
    };
    p.insert("QueryStringBehavior".into(), behavior.into());
    if behavior == "whitelist" {
        p.insert("QueryStrings".into(), Value::Array(keys));
    }
    let cookies = f.get("Cookies");
    let forward = cookies
        .and_then(|c| c.get("Forward"))
        .and_then(Value::as_str)
        .unwrap_or("none");
    p.insert("CookieBehavior".into(), forward.into());
    if forward == "whitelist" {
        p.insert(
            "Cookies".into(),
            Value::Array(names(cookies.and_then(|c| c.get("WhitelistedNames")))),
        );
    }
    let headers = names(f.get("Headers"));
    if headers.iter().any(|h| h == "*") {
        return Err(NodeError::config(
            format!("{at}.Headers"),
            "forwarding every header (*) is not emulated: name the headers, or use an origin request policy (AllViewer) with CachingDisabled",
        ));
    }
    if !headers.is_empty() {
        p.insert("HeaderBehavior".into(), "whitelist".into());
        p.insert("Headers".into(), Value::Array(headers));
    }
    Ok(Value::Object(p))
}

/// An error about the converted configuration placed in the JSON the user wrote: the field's
/// path as the JSON names it (`DistributionConfig.CacheBehaviors.Items[0].TargetOriginId`, not
/// the converted file's), and for an unknown field the line and column of its key there (the
/// converted file's lines mean nothing to the user).
pub fn relocate(json: &str, e: NodeError) -> NodeError {
    let root = root_of(json);
    let fix = |field: String, reason: &str| -> String {
        let path = match field.split_once(" (") {
            Some((place, rest)) if place.starts_with("line ") => {
                rest.trim_end_matches(')').to_string()
            }
            _ if field.starts_with("line ") => String::new(),
            _ => field,
        };
        let unknown = reason
            .strip_prefix("unknown field `")
            .and_then(|r| r.split_once('`'))
            .and_then(|(name, _)| key_offset(json, name));
        let (place, path) = match unknown {
            Some(at) => (Some(line_column(json, at)), path_at(json, at)),
            None if path.is_empty() || path == "file" => (None, path),
            None => (None, json_path(root, &path)),
        };
        match (place, path.is_empty()) {
            (Some(p), true) => p,
            (Some(p), false) => format!("{p} ({path})"),
            (None, true) => "file".into(),
            (None, false) => path,
        }
    };
    match e {
        NodeError::Config { field, reason } => NodeError::Config {
            field: fix(field, &reason),
            reason,
        },
        NodeError::Association { field, reason } => NodeError::Association {
            field: fix(field, &reason),
            reason,
        },
        NodeError::FunctionAssociation { field, reason } => NodeError::FunctionAssociation {
            field: fix(field, &reason),
            reason,
        },
        other => other,
    }
}

/// The path the JSON gives the DistributionConfig.
fn root_of(json: &str) -> &'static str {
    match serde_json::from_str::<Map<String, Value>>(json) {
        Ok(top) if top.contains_key("Distribution") => "Distribution.DistributionConfig",
        _ => "DistributionConfig",
    }
}

/// Lists the conversion unwrapped from CloudFront's `{Quantity, Items}`.
const UNWRAPPED: [&str; 5] = [
    "Aliases",
    "Origins",
    "CacheBehaviors",
    "LambdaFunctionAssociations",
    "FunctionAssociations",
];

/// A path in the converted configuration (`distributions[0].CacheBehaviors[1].X`) as the JSON
/// names it (`DistributionConfig.CacheBehaviors.Items[1].X`).
fn json_path(root: &str, ours: &str) -> String {
    let rest = ours
        .strip_prefix("distributions[0]")
        .map(|r| r.trim_start_matches('.'))
        .unwrap_or(ours);
    let mut out = String::from(root);
    for segment in rest.split('.').filter(|s| !s.is_empty()) {
        out.push('.');
        match segment.split_once('[') {
            Some((name, index)) if UNWRAPPED.contains(&name) => {
                out.push_str(name);
                out.push_str(".Items[");
                out.push_str(index);
            }
            _ => out.push_str(segment),
        }
    }
    out
}

/// Byte offset of the first `"name":` key in `json`.
fn key_offset(json: &str, name: &str) -> Option<usize> {
    let quoted = format!("\"{name}\"");
    let mut from = 0;
    while let Some(i) = json[from..].find(&quoted) {
        let at = from + i;
        if json[at + quoted.len()..].trim_start().starts_with(':') {
            return Some(at);
        }
        from = at + quoted.len();
    }
    None
}

/// `line L, column C` of a byte offset.
fn line_column(json: &str, at: usize) -> String {
    let before = &json[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

/// The path (`DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPPortt`) of the key
/// that starts at byte `at` of `json`: the objects and arrays open there, read from the start.
fn path_at(json: &str, at: usize) -> String {
    enum Open {
        Object(Option<String>),
        Array(usize),
    }
    let mut stack: Vec<Open> = Vec::new();
    let bytes = json.as_bytes();
    let mut i = 0;
    // The last string read, and whether it was an object's key (followed by ':').
    let mut last: Option<String> = None;
    while i < at.min(bytes.len()) {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                last = json.get(start..i.min(json.len())).map(str::to_string);
            }
            b':' => {
                if let Some(Open::Object(key)) = stack.last_mut() {
                    *key = last.take();
                }
            }
            b'{' => stack.push(Open::Object(None)),
            b'[' => stack.push(Open::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(Open::Array(n)) = stack.last_mut() {
                    *n += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let name = json[at..]
        .get(1..)
        .and_then(|r| r.split('"').next())
        .unwrap_or("");
    let mut out = String::new();
    for (depth, open) in stack.iter().enumerate() {
        match open {
            Open::Object(Some(key)) if depth + 1 < stack.len() => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Open::Array(n) => out.push_str(&format!("[{n}]")),
            _ => {}
        }
    }
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(name);
    out
}

/// TOML has no null: a JSON null is as if the field were not there.
fn drop_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_json_path() {
        assert_eq!(
            json_path(
                "DistributionConfig",
                "distributions[0].CacheBehaviors[1].LambdaFunctionAssociations[0].EventType"
            ),
            "DistributionConfig.CacheBehaviors.Items[1].LambdaFunctionAssociations.Items[0].EventType"
        );
        assert_eq!(
            json_path(
                "DistributionConfig",
                "distributions[0].CustomErrorResponses.Items[0].ErrorCode"
            ),
            "DistributionConfig.CustomErrorResponses.Items[0].ErrorCode"
        );
        let json = "{\"ETag\": \"E\", \"DistributionConfig\": {\"Aliases\": {\"Quantity\": 1, \"Items\": [\"a,b\"]},\n  \"Origins\": {\"Quantity\": 2, \"Items\": [{\"Id\": \"a\"}, {\"Id\": \"b\", \"CustomOriginConfig\": {\"HTTPPort\": 80, \"HTTPPortt\": 1}}]}}}";
        let at = key_offset(json, "HTTPPortt").unwrap();
        assert_eq!(
            path_at(json, at),
            "DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPPortt"
        );
        assert_eq!(line_column(json, at), "line 2, column 104");
        let e = relocate(
            json,
            NodeError::config("distributions[0].Origins[1].Id", "is wrong"),
        );
        assert!(
            e.to_string()
                .contains("DistributionConfig.Origins.Items[1].Id"),
            "{e}"
        );
    }
}
