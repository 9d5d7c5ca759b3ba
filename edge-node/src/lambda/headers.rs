//! Header rules for functions (docs/cloudfront-behaviour.md: "Header rules") and the `{name: [{key,
//! value}]}` form.

use super::Stage;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

/// Headers a function may never add (exact lowercase names).
const DISALLOWED: [&str; 25] = [
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "upgrade",
    "x-accel-buffering",
    "x-accel-charset",
    "x-accel-limit-rate",
    "x-accel-redirect",
    "x-amzn-auth",
    "x-amzn-cf-billing",
    "x-amzn-cf-id",
    "x-amzn-cf-xff",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Whether a function may not add this header at all (and so never sees it).
pub fn is_disallowed(name: &str) -> bool {
    DISALLOWED.contains(&name) || name.starts_with("x-amz-cf-") || name.starts_with("x-edge-")
}

/// Headers a function at `stage` may read but not add, change or delete.
pub fn is_read_only(stage: Stage, name: &str) -> bool {
    match stage {
        Stage::ViewerRequest => matches!(
            name,
            "content-length" | "host" | "transfer-encoding" | "via"
        ),
        Stage::OriginRequest => matches!(
            name,
            "accept-encoding"
                | "content-length"
                | "if-modified-since"
                | "if-none-match"
                | "if-range"
                | "if-unmodified-since"
                | "transfer-encoding"
                | "via"
        ),
        Stage::OriginResponse => matches!(name, "transfer-encoding" | "via"),
        Stage::ViewerResponse => matches!(name, "warning" | "via"),
    }
}

/// `user-agent` → `User-Agent`: what Lambda@Edge fills in for a missing `key`.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
    out
}

/// The event form of headers: lowercase name → `[{key, value}]`, in the map's order, without
/// the headers functions never see.
pub fn to_event(headers: &HeaderMap) -> Value {
    let mut obj = Map::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let n = name.as_str();
        if is_disallowed(n) {
            continue;
        }
        let key = title_case(n);
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                let mut e = Map::with_capacity(2);
                e.insert("key".into(), Value::String(key.clone()));
                e.insert(
                    "value".into(),
                    Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                );
                Value::Object(e)
            })
            .collect();
        obj.insert(n.to_string(), Value::Array(values));
    }
    Value::Object(obj)
}

/// Writes the event form of headers as JSON text (see `to_event`).
pub fn write_event(out: &mut String, headers: &HeaderMap) {
    out.push('{');
    let mut first = true;
    for name in headers.keys() {
        let n = name.as_str();
        if is_disallowed(n) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(n);
        out.push_str("\":[");
        for (i, v) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"key\":\"");
            title_case_into(out, n);
            out.push_str("\",\"value\":");
            match std::str::from_utf8(v.as_bytes()) {
                Ok(s) => super::event::string(out, s),
                Err(_) => super::event::string(out, &String::from_utf8_lossy(v.as_bytes())),
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
}

fn title_case_into(out: &mut String, name: &str) {
    let mut upper = true;
    for c in name.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
        upper = c == '-';
    }
}

/// A header problem in a function's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    NotAnObject,
    /// The value under a name is not an array of `{key?, value}` objects with string values.
    BadEntry(String),
    BadName(String),
    BadValue {
        name: String,
        value: String,
    },
}

impl HeaderError {
    pub fn message(&self) -> String {
        match self {
            HeaderError::NotAnObject => "The Lambda function returned invalid JSON: headers must be an object.".into(),
            HeaderError::BadEntry(name) => format!(
                "The Lambda function returned an invalid entry in the headers object, the value of each header value must be of string or array of string type, headerName : {name}."
            ),
            HeaderError::BadName(name) => format!("The Lambda function returned an invalid header name : {name:?}."),
            HeaderError::BadValue { name, value } => {
                let bad = value.chars().find(|c| c.is_control() && *c != '\t').unwrap_or('?');
                format!(
                    "The Lambda function returned an invalid header value, invalid character : '%{:02X}' in header value, headerName : {name}.",
                    bad as u32
                )
            }
        }
    }
}

/// Parses the event form back into a header map.
pub fn from_event(v: &Value) -> Result<HeaderMap, HeaderError> {
    let obj = v.as_object().ok_or(HeaderError::NotAnObject)?;
    let mut out = HeaderMap::with_capacity(obj.len());
    for (name, entries) in obj {
        let lower = name.to_ascii_lowercase();
        let hn = HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| HeaderError::BadName(name.clone()))?;
        let entries = entries
            .as_array()
            .ok_or_else(|| HeaderError::BadEntry(name.clone()))?;
        for e in entries {
            let value = e
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| HeaderError::BadEntry(name.clone()))?;
            if e.get("key").is_some_and(|k| !k.is_string()) {
                return Err(HeaderError::BadEntry(name.clone()));
            }
            let hv = HeaderValue::from_str(value).map_err(|_| HeaderError::BadValue {
                name: name.clone(),
                value: value.to_string(),
            })?;
            out.append(hn.clone(), hv);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn title_case_like_lambda_edge() {
        assert_eq!(title_case("user-agent"), "User-Agent");
        assert_eq!(title_case("x-amz-meta-a"), "X-Amz-Meta-A");
        assert_eq!(title_case("etag"), "Etag");
    }

    #[test]
    fn round_trip_and_errors() {
        let v = json!({"set-cookie": [{"key": "Set-Cookie", "value": "a=1"}, {"value": "b=2"}]});
        let h = from_event(&v).unwrap();
        assert_eq!(h.get_all("set-cookie").iter().count(), 2);
        assert_eq!(to_event(&h)["set-cookie"][1]["key"], "Set-Cookie");
        assert!(matches!(
            from_event(&json!({"a": [{"value": 1}]})),
            Err(HeaderError::BadEntry(_))
        ));
        assert!(matches!(
            from_event(&json!({"a": [{"value": "x\r\ny"}]})),
            Err(HeaderError::BadValue { .. })
        ));
        assert!(from_event(&json!({"a": [{"value": "x\r\ny"}]}))
            .unwrap_err()
            .message()
            .contains("'%0D'"));
    }
}
