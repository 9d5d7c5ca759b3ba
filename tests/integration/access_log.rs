//! Access logs through a real edge node: CloudFront's standard log format as its tools read
//! it (the `#Fields` header names each tab-separated column), the real-time log fields as JSON
//! lines, and the short text line on stdout. The node writes its records in batches; a
//! SIGTERM writes what is left before it exits, which is what these tests wait for.

use crate::harness::*;

/// Reads a standard log as a log tool does: the columns are whatever `#Fields` names.
fn parse_standard(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut fields: Vec<String> = vec![];
    let mut out = vec![];
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#Fields: ") {
            fields = f.split(' ').map(str::to_string).collect();
        } else if !line.starts_with('#') {
            let values: Vec<&str> = line.split('\t').collect();
            assert_eq!(values.len(), fields.len(), "{line}");
            out.push(
                fields
                    .iter()
                    .cloned()
                    .zip(values.iter().map(|v| v.to_string()))
                    .collect(),
            );
        }
    }
    out
}

#[tokio::test]
async fn the_standard_log_is_cloudfronts_33_fields_with_one_header() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.log");
    let file_arg = file.to_str().unwrap();
    let f = write_temp(
        "exports.handler = async (e) => { const r = e.Records[0].cf.request; if (r.uri === '/boom') throw new Error('x'); return r; };",
    );
    let vreq = format!("viewer-request={}", f.to_str().unwrap());
    let args = [
        "--access-log-format",
        "cloudfront",
        "--access-log-file",
        file_arg,
        "--function",
        &vreq,
    ];
    let edge = edge_for(&origin, &args);
    let url = format!("{}/bytes/512?cache_control=max-age%3D60", edge.base);
    let ua = [("user-agent", "Mozilla/5.0 (test) \"q\"")];
    assert_eq!(get_with(&url, &ua).await.x_cache(), x_cache::MISS);
    assert_eq!(get_with(&url, &ua).await.x_cache(), x_cache::HIT);
    assert_eq!(get(&format!("{}/boom", edge.base)).await.status, 503);
    let first = edge.base.trim_start_matches("http://").to_string();
    assert!(edge.proc.terminate().success());

    // A second run appends to the same file without a second header.
    let edge = edge_for(&origin, &args);
    let url = format!("{}/bytes/512?cache_control=max-age%3D60", edge.base);
    assert_eq!(get(&url).await.x_cache(), x_cache::MISS);
    assert!(edge.proc.terminate().success());

    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#Version: 1.0", "{text}");
    assert_eq!(
        lines[1].split(' ').skip(1).collect::<Vec<_>>(),
        [
            "date",
            "time",
            "x-edge-location",
            "sc-bytes",
            "c-ip",
            "cs-method",
            "cs(Host)",
            "cs-uri-stem",
            "sc-status",
            "cs(Referer)",
            "cs(User-Agent)",
            "cs-uri-query",
            "cs(Cookie)",
            "x-edge-result-type",
            "x-edge-request-id",
            "x-host-header",
            "cs-protocol",
            "cs-bytes",
            "time-taken",
            "x-forwarded-for",
            "ssl-protocol",
            "ssl-cipher",
            "x-edge-response-result-type",
            "cs-protocol-version",
            "fle-status",
            "fle-encrypted-fields",
            "c-port",
            "time-to-first-byte",
            "x-edge-detailed-result-type",
            "sc-content-type",
            "sc-content-len",
            "sc-range-start",
            "sc-range-end",
        ],
        "AWS's fields in AWS's order"
    );
    assert_eq!(text.matches("#Version").count(), 1, "{text}");
    let records = parse_standard(&text);
    assert_eq!(records.len(), 4, "{text}");
    // Each worker writes its own batches: records are in order per worker, not per node.
    let find = |status: &str, result: &str| {
        records
            .iter()
            .find(|r| r["sc-status"] == status && r["x-edge-result-type"] == result)
            .unwrap_or_else(|| panic!("no {status} {result} record in {text}"))
    };
    let (miss, hit, boom) = (
        find("200", "Miss"),
        find("200", "Hit"),
        find("503", "Error"),
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r["x-edge-result-type"] == "Miss")
            .count(),
        2,
        "{text}"
    );
    assert_eq!(miss["x-edge-result-type"], "Miss");
    assert_eq!(hit["x-edge-result-type"], "Hit");
    assert_eq!(hit["x-edge-detailed-result-type"], "Hit");
    assert_eq!(hit["cs-method"], "GET");
    assert_eq!(hit["cs-uri-stem"], "/bytes/512");
    assert_eq!(hit["cs-uri-query"], "cache_control=max-age%3D60");
    assert_eq!(hit["sc-status"], "200");
    assert_eq!(hit["c-ip"], "127.0.0.1");
    assert_eq!(hit["cs(User-Agent)"], "Mozilla/5.0%20(test)%20%22q%22");
    assert_eq!(hit["cs(Host)"], "d111111abcdef8.cloudfront.net");
    assert_eq!(hit["x-host-header"], first);
    assert_eq!(hit["cs-protocol"], "http");
    assert_eq!(hit["cs-protocol-version"], "HTTP/1.1");
    assert_eq!(hit["sc-content-len"], "512");
    assert_eq!(hit["ssl-protocol"], "-");
    assert!(hit["sc-bytes"].parse::<u64>().unwrap() > 512, "{hit:?}");
    assert!(hit["cs-bytes"].parse::<u64>().unwrap() > 40, "{hit:?}");
    assert!(hit["time-taken"].parse::<f64>().is_ok(), "{hit:?}");
    assert!(hit["c-port"].parse::<u16>().is_ok(), "{hit:?}");
    assert_eq!(hit["date"].len(), 10);
    assert_eq!(hit["x-edge-request-id"].len(), 56, "{hit:?}");
    assert_ne!(hit["x-edge-request-id"], miss["x-edge-request-id"]);
    assert_eq!(boom["sc-status"], "503");
    assert_eq!(boom["x-edge-result-type"], "Error");
    assert_eq!(boom["x-edge-detailed-result-type"], "LambdaExecutionError");
}

#[tokio::test]
async fn realtime_json_and_text_records() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rt.log");
    let edge = edge_for(
        &origin,
        &[
            "--access-log-format",
            "realtime-json",
            "--access-log-file",
            file.to_str().unwrap(),
        ],
    );
    let url = format!("{}/missing?status=404", edge.base);
    assert_eq!(get(&url).await.status, 404);
    assert!(edge.proc.terminate().success());
    let text = std::fs::read_to_string(&file).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["sc-status"], "404", "{v}");
    assert_eq!(v["cs-uri-stem"], "/missing");
    assert_eq!(v["cs-uri-query"], "status=404");
    assert_eq!(v["x-edge-result-type"], "Error");
    assert_eq!(v["c-ip-version"], "IPv4");
    assert_eq!(v["cache-behavior-path-pattern"], "*");
    assert_eq!(v["primary-distribution-id"], "EDFDVBD6EXAMPLE");

    // Without a file, the default text line goes to stdout after the ready line.
    let edge = edge_for(&origin, &[]);
    assert_eq!(get(&format!("{}/bytes/8?x=1", edge.base)).await.status, 200);
    let lines = edge
        .proc
        .wait_for_stdout(" access: GET /bytes/8?x=1 200 Miss duration_us=");
    assert!(lines[0].starts_with("ready "), "{lines:?}");
    let line = lines.iter().find(|l| l.contains(" access: ")).unwrap();
    assert!(line.ends_with(" pop=LOCAL1-C1"), "{line}");
    assert!(
        line.contains("Z access: "),
        "an RFC 3339 UTC time first: {line}"
    );
}
