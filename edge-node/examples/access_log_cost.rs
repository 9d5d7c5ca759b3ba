//! What formatting one standard-log record costs on a worker, writing to /dev/null:
//! `cargo run --release -p edge-node --example access_log_cost` (bench/RESULTS.md, "Access
//! logs"; the throughput cost is measured by `edge bench --scenario hit-logged`).

use edge_node::access_log::{AccessLog, Entry, Format};
use edge_node::config::Protocol;
use edge_node::driver::Conn;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use std::time::{Duration, Instant};

fn main() {
    let log = AccessLog::start(Format::Cloudfront, Some(std::path::Path::new("/dev/null")))
        .expect("open /dev/null");
    let w = log.worker();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    let mut response = HeaderMap::new();
    response.insert(
        "content-type",
        HeaderValue::from_static("application/octet-stream"),
    );
    response.insert("content-length", HeaderValue::from_static("1024"));
    response.insert("x-cache", HeaderValue::from_static("Hit from cloudfront"));
    let uri: Uri = "/bytes/1024?cache_control=max-age%3D600"
        .parse()
        .expect("uri");
    let conn = Conn {
        peer: "127.0.0.1:51234".parse().expect("addr"),
        protocol: Protocol::Http,
        viewer: "127.0.0.1".parse().expect("ip"),
        tls: None,
    };
    let e = Entry {
        pop: "IAD89-C1",
        method: &Method::GET,
        domain: "d111111abcdef8.cloudfront.net",
        uri: &uri,
        headers: &headers,
        version: Version::HTTP_11,
        conn: &conn,
        request_id: "arLI2S1Ovm_7VZWUj0JBty_c-Bp8hkPahT_PNCcATopM-2yQghVYKw==",
        status: StatusCode::OK,
        response_headers: &response,
        response_body: 1024,
        error: None,
        time_to_first_byte: Duration::from_micros(40),
        time_taken: Duration::from_micros(40),
        distribution_id: "EDFDVBD6EXAMPLE",
        behavior: "*",
    };
    let n = 1_000_000;
    let t = Instant::now();
    for _ in 0..n {
        w.write(std::hint::black_box(&e));
    }
    println!(
        "{:.0} ns per record",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    drop(w);
    log.sync();
}
