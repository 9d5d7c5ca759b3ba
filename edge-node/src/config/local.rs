//! Running a configuration file against a local mock origin elsewhere than where it was
//! written (`edge up`, `edge bench --config`): find and move its loopback origins, and anchor
//! its relative file paths to the file's directory.

use std::path::Path;

pub fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]")
}

fn origins_mut(d: &mut toml::Value) -> impl Iterator<Item = &mut toml::Value> {
    d.get_mut("Origins")
        .and_then(|o| o.as_array_mut())
        .into_iter()
        .flatten()
}

/// The port of the first loopback origin in a configuration document (the mock origin's).
pub fn loopback_origin_port(doc: &toml::Value) -> Option<u16> {
    for d in doc.get("distributions")?.as_array()? {
        for o in d
            .get("Origins")
            .and_then(|o| o.as_array())
            .into_iter()
            .flatten()
        {
            if o.get("DomainName")
                .and_then(|h| h.as_str())
                .is_some_and(is_loopback)
            {
                let port = o
                    .get("CustomOriginConfig")
                    .and_then(|c| c.get("HTTPPort"))
                    .and_then(|p| p.as_integer())
                    .unwrap_or(80);
                return u16::try_from(port).ok();
            }
        }
    }
    None
}

/// Points the loopback origins of one distribution (a `[[distributions]]` entry) on port
/// `from` at port `to`.
pub fn rewrite_loopback_port(d: &mut toml::Value, from: u16, to: u16) {
    for o in origins_mut(d) {
        let loopback = o
            .get("DomainName")
            .and_then(|h| h.as_str())
            .is_some_and(is_loopback);
        let Some(c) = o
            .get_mut("CustomOriginConfig")
            .and_then(|c| c.as_table_mut())
        else {
            continue;
        };
        let port = c.get("HTTPPort").and_then(|p| p.as_integer()).unwrap_or(80);
        if loopback && port == i64::from(from) {
            c.insert("HTTPPort".into(), toml::Value::Integer(i64::from(to)));
        }
    }
}

/// Every origin's `DomainName` in a configuration document.
pub fn origin_domains(doc: &toml::Value) -> Vec<&str> {
    doc.get("distributions")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("Origins")?.as_array())
        .flatten()
        .filter_map(|o| o.get("DomainName")?.as_str())
        .collect()
}

/// Points the origins of one distribution whose `DomainName` is `domain` at `host:port` over
/// plain HTTP (`edge up --local-origin`): an S3 origin keeps its `S3OriginConfig` (the mock
/// origin can act as a bucket), any other gets a `CustomOriginConfig` on that port.
pub fn point_origin(d: &mut toml::Value, domain: &str, host: &str, port: u16) {
    for o in origins_mut(d) {
        let Some(t) = o.as_table_mut() else { continue };
        if t.get("DomainName").and_then(|h| h.as_str()) != Some(domain) {
            continue;
        }
        t.insert("DomainName".into(), toml::Value::String(host.into()));
        let key = if t.contains_key("S3OriginConfig") {
            "S3OriginConfig"
        } else {
            "CustomOriginConfig"
        };
        let c = t
            .entry(key)
            .or_insert_with(|| toml::Value::Table(Default::default()));
        if let Some(c) = c.as_table_mut() {
            c.insert("HTTPPort".into(), toml::Value::Integer(i64::from(port)));
            c.insert(
                "OriginProtocolPolicy".into(),
                toml::Value::String("http-only".into()),
            );
        }
    }
}

/// Makes the relative paths of a configuration document (function `File`s, `[node]`
/// certificate, key and geo databases) absolute against `base`, so the document can be written
/// anywhere.
pub fn anchor_paths(doc: &mut toml::Value, base: &Path) {
    let anchor = |v: &mut toml::Value| {
        if let Some(p) = v.as_str().filter(|p| Path::new(p).is_relative()) {
            *v = toml::Value::String(base.join(p).display().to_string());
        }
    };
    if let Some(node) = doc.get_mut("node").and_then(|n| n.as_table_mut()) {
        for (k, v) in node.iter_mut() {
            match k.as_str() {
                "tls_cert" | "tls_key" => anchor(v),
                "geo_db" => v.as_array_mut().into_iter().flatten().for_each(anchor),
                _ => {}
            }
        }
    }
    for d in doc
        .get_mut("distributions")
        .and_then(|d| d.as_array_mut())
        .into_iter()
        .flatten()
    {
        for key in ["DefaultCacheBehavior", "CacheBehaviors"] {
            let list: Vec<&mut toml::Value> = match d.get_mut(key) {
                Some(toml::Value::Array(a)) => a.iter_mut().collect(),
                Some(b) => vec![b],
                None => vec![],
            };
            for b in list {
                for kind in ["LambdaFunctionAssociations", "FunctionAssociations"] {
                    for a in b
                        .get_mut(kind)
                        .and_then(|l| l.as_array_mut())
                        .into_iter()
                        .flatten()
                    {
                        if let Some(f) = a.get_mut("File") {
                            anchor(f);
                        } else if let Some(path) = arn_source(a, base) {
                            // A function named by ARN: its local source beside the file.
                            if let Some(t) = a.as_table_mut() {
                                t.insert("File".into(), toml::Value::String(path));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The name of the function an association table names by ARN (`LambdaFunctionARN` of a
/// version, or a CloudFront function's `FunctionARN`).
pub fn arn_name(a: &toml::Value) -> Option<&str> {
    match (
        a.get("LambdaFunctionARN").and_then(|v| v.as_str()),
        a.get("FunctionARN").and_then(|v| v.as_str()),
    ) {
        (Some(arn), _) => Some(super::lambda_version_arn(arn)?.0),
        (None, Some(arn)) => crate::cloudfront::function_of_arn(arn),
        (None, None) => None,
    }
}

/// The local source (`functions/NAME.js`, …) of an association naming its function by ARN.
fn arn_source(a: &toml::Value, base: &Path) -> Option<String> {
    Some(
        super::local_source(base, arn_name(a)?)?
            .display()
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_loopback_origins_and_anchors_relative_files() {
        let mut doc: toml::Value = toml::from_str(
            r#"
[node]
geo_db = ["geo/a.mmdb", "/abs/b.mmdb"]
[[distributions]]
[[distributions.Origins]]
Id = "o"
DomainName = "127.0.0.1"
CustomOriginConfig = { HTTPPort = 9000 }
[[distributions.Origins]]
Id = "far"
DomainName = "example.com"
CustomOriginConfig = { HTTPPort = 9000 }
[distributions.DefaultCacheBehavior]
TargetOriginId = "o"
LambdaFunctionAssociations = [{ EventType = "viewer-request", File = "f/a.js" }]
[[distributions.CacheBehaviors]]
PathPattern = "/x/*"
TargetOriginId = "o"
LambdaFunctionAssociations = [{ EventType = "viewer-response", File = "/abs/b.js" }]
FunctionAssociations = [{ EventType = "viewer-request", File = "f/cff.js" }]
"#,
        )
        .unwrap();
        assert_eq!(loopback_origin_port(&doc), Some(9000));
        for d in doc["distributions"].as_array_mut().unwrap() {
            rewrite_loopback_port(d, 9000, 4711);
        }
        anchor_paths(&mut doc, Path::new("/base"));
        let d = &doc["distributions"][0];
        assert_eq!(
            d["Origins"][0]["CustomOriginConfig"]["HTTPPort"].as_integer(),
            Some(4711)
        );
        assert_eq!(
            d["Origins"][1]["CustomOriginConfig"]["HTTPPort"].as_integer(),
            Some(9000)
        );
        let file = |b: &toml::Value| {
            b["LambdaFunctionAssociations"][0]["File"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(file(&d["DefaultCacheBehavior"]), "/base/f/a.js");
        assert_eq!(file(&d["CacheBehaviors"][0]), "/abs/b.js");
        assert_eq!(
            d["CacheBehaviors"][0]["FunctionAssociations"][0]["File"].as_str(),
            Some("/base/f/cff.js"),
            "CloudFront Functions' files too"
        );
        assert_eq!(doc["node"]["geo_db"][0].as_str(), Some("/base/geo/a.mmdb"));
        assert_eq!(doc["node"]["geo_db"][1].as_str(), Some("/abs/b.mmdb"));
    }
}
