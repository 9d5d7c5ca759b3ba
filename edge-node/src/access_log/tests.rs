use super::*;
use crate::config::Protocol;
use http::HeaderValue;

fn conn(tls: bool) -> Conn {
    Conn {
        peer: "192.0.2.7:51234".parse().unwrap(),
        protocol: if tls { Protocol::Https } else { Protocol::Http },
        viewer: "192.0.2.7".parse().unwrap(),
        tls: tls.then_some(crate::driver::TlsInfo {
            protocol: "TLSv1.3",
            cipher: "TLS_AES_128_GCM_SHA256",
            handshake: "fullHandshake",
        }),
    }
}

/// A hit of `uri` as the driver would describe it.
fn entry<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
    response: &'a HeaderMap,
    conn: &'a Conn,
    request_id: &'a str,
) -> Entry<'a> {
    Entry {
        pop: "IAD89-C1",
        method: &Method::GET,
        domain: "d111111abcdef8.cloudfront.net",
        uri,
        headers,
        version: Version::HTTP_11,
        conn,
        request_id,
        status: StatusCode::OK,
        response_headers: response,
        response_body: 1024,
        error: None,
        time_to_first_byte: Duration::from_micros(1500),
        time_taken: Duration::from_millis(2),
        distribution_id: "EDFDVBD6EXAMPLE",
        behavior: "*",
    }
}

fn lines_of(format: Format, conn: &Conn, uri: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "edge-access-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("access.log");
    let log = AccessLog::start(format, Some(&file)).unwrap();
    let w = log.worker();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("shop.example.com"));
    headers.insert(
        "user-agent",
        HeaderValue::from_static("Mozilla/5.0 (X11; Linux) \"quoted\""),
    );
    let mut response = HeaderMap::new();
    response.insert("content-type", HeaderValue::from_static("text/html"));
    response.insert("content-length", HeaderValue::from_static("1024"));
    response.insert("x-cache", HeaderValue::from_static("Hit from cloudfront"));
    response.insert(
        "date",
        HeaderValue::from_static("Tue, 01 Dec 2026 00:00:00 GMT"),
    );
    let uri: Uri = uri.parse().unwrap();
    let e = entry(&uri, &headers, &response, conn, "abc_DEF-123==");
    w.write(&e);
    w.write(&e);
    drop(w);
    log.sync();
    // A second node start appends without a second header.
    let again = AccessLog::start(format, Some(&file)).unwrap();
    let w = again.worker();
    w.write(&e);
    drop(w);
    again.sync();
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    text
}

#[test]
fn the_standard_log_has_one_header_and_aws_fields_in_aws_order() {
    let text = lines_of(Format::Cloudfront, &conn(true), "/a%20b/c.html?x=1&y=two");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#Version: 1.0");
    assert_eq!(
        lines[1],
        format!("#Fields: {}", STANDARD_FIELDS.join(" ")),
        "the header lists the fields space-separated"
    );
    assert_eq!(lines.iter().filter(|l| l.starts_with('#')).count(), 2);
    assert_eq!(lines.len(), 5, "{text}");
    for line in &lines[2..] {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 33, "{line}");
        let at = |name: &str| f[STANDARD_FIELDS.iter().position(|n| *n == name).unwrap()];
        assert_eq!(at("date").len(), 10);
        assert_eq!(at("time").len(), 8);
        assert_eq!(at("x-edge-location"), "IAD89-C1");
        // Status line and blank line 19, headers 25 + 22 + 30 + 37, body 1,024.
        assert_eq!(at("sc-bytes"), "1157");
        assert_eq!(at("c-ip"), "192.0.2.7");
        assert_eq!(at("cs-method"), "GET");
        assert_eq!(at("cs(Host)"), "d111111abcdef8.cloudfront.net");
        assert_eq!(at("cs-uri-stem"), "/a%20b/c.html");
        assert_eq!(at("sc-status"), "200");
        assert_eq!(at("cs(Referer)"), "-");
        assert_eq!(
            at("cs(User-Agent)"),
            "Mozilla/5.0%20(X11;%20Linux)%20%22quoted%22"
        );
        assert_eq!(at("cs-uri-query"), "x=1&y=two");
        assert_eq!(at("cs(Cookie)"), "-");
        assert_eq!(at("x-edge-result-type"), "Hit");
        assert_eq!(at("x-edge-request-id"), "abc_DEF-123==");
        assert_eq!(at("x-host-header"), "shop.example.com");
        assert_eq!(at("cs-protocol"), "https");
        // "GET" + " " + 23-byte target + " HTTP/1.1\r\n", host 24 + user-agent 47, blank line.
        assert_eq!(at("cs-bytes"), (3 + 1 + 23 + 10 + 24 + 47 + 2).to_string());
        assert_eq!(at("time-taken"), "0.002");
        assert_eq!(at("ssl-protocol"), "TLSv1.3");
        assert_eq!(at("ssl-cipher"), "TLS_AES_128_GCM_SHA256");
        assert_eq!(at("cs-protocol-version"), "HTTP/1.1");
        assert_eq!(at("c-port"), "51234");
        assert_eq!(at("time-to-first-byte"), "0.001");
        assert_eq!(at("sc-content-type"), "text/html");
        assert_eq!(at("sc-content-len"), "1024");
        assert_eq!(at("sc-range-start"), "-");
    }
}

#[test]
fn realtime_records_are_json_lines_with_cloudfront_field_names() {
    let text = lines_of(Format::RealtimeJson, &conn(false), "/x");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "no header in JSON lines: {text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["c-ip"], "192.0.2.7");
    assert_eq!(v["sc-status"], "200");
    assert_eq!(v["cs-uri-stem"], "/x");
    assert_eq!(v["cs-uri-query"], "-");
    assert_eq!(v["cs-user-agent"], "Mozilla/5.0 (X11; Linux) \"quoted\"");
    assert_eq!(v["ssl-protocol"], "-");
    assert_eq!(v["c-ip-version"], "IPv4");
    assert_eq!(v["x-edge-location"], "IAD89-C1");
    assert_eq!(v["primary-distribution-id"], "EDFDVBD6EXAMPLE");
    assert!(v["timestamp"].as_str().unwrap().contains('.'));
}

#[test]
fn text_lines_name_the_request() {
    let text = lines_of(Format::Text, &conn(false), "/x?q=1");
    let first = text.lines().next().unwrap();
    assert!(
        first.contains(
            "Z access: GET /x?q=1 200 Hit duration_us=2000 request_id=abc_DEF-123== pop=IAD89-C1"
        ),
        "{first}"
    );
}
