//! Geo lookups against databases written here (documentation ranges only), MaxMind's test
//! database and the DB-IP country file from ../shared/geo.

use super::*;
use mmdb_writer::{Value, Writer};
use std::path::PathBuf;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/../../shared/geo/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// A DB-IP-style flat city database: 192.0.2.0/24 in London (time zone left empty).
pub(crate) fn flat_db(dir: &Path) -> PathBuf {
    let mut w = Writer::new("city ipv4");
    w.insert_value(
        "192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(),
        Value::map([
            ("country_code", Value::from("GB")),
            ("state1", Value::from("England")),
            ("state2", Value::from("")),
            ("city", Value::from("London")),
            ("postcode", Value::from("")),
            ("latitude", Value::from(51.5143_f32)),
            ("longitude", Value::from(-0.0912_f32)),
            ("timezone", Value::from("")),
        ]),
    )
    .unwrap();
    let path = dir.join("flat-city.mmdb");
    std::fs::write(&path, w.to_bytes().unwrap()).unwrap();
    path
}

/// A GeoIP2-layout city database: 198.51.100.0/24 in Linköping, 2001:db8::/32 in Tokyo.
pub(crate) fn geoip2_db(dir: &Path) -> PathBuf {
    let names = |en: &str| Value::map([("en", Value::from(en))]);
    let city = |cc: &str,
                country: &str,
                sub: Option<(&str, &str)>,
                city: &str,
                lat: f64,
                lon: f64,
                tz: &str| {
        let mut m = vec![
            (
                "country",
                Value::map([("iso_code", Value::from(cc)), ("names", names(country))]),
            ),
            ("city", Value::map([("names", names(city))])),
            (
                "location",
                Value::map([
                    ("latitude", Value::from(lat)),
                    ("longitude", Value::from(lon)),
                    ("time_zone", Value::from(tz)),
                ]),
            ),
        ];
        if let Some((code, name)) = sub {
            m.push((
                "subdivisions",
                Value::array([Value::map([
                    ("iso_code", Value::from(code)),
                    ("names", names(name)),
                ])]),
            ));
        }
        Value::map(m)
    };
    let mut w = Writer::new("GeoIP2-City");
    w.insert_value(
        "198.51.100.0/24".parse::<ipnet::IpNet>().unwrap(),
        city(
            "SE",
            "Sweden",
            Some(("E", "Östergötland County")),
            "Linköping",
            58.4167,
            15.6167,
            "Europe/Stockholm",
        ),
    )
    .unwrap();
    w.insert_value(
        "2001:db8::/32".parse::<ipnet::IpNet>().unwrap(),
        city(
            "JP",
            "Japan",
            None,
            "Tokyo",
            35.6895,
            139.6917,
            "Asia/Tokyo",
        ),
    )
    .unwrap();
    let path = dir.join("geoip2-city.mmdb");
    std::fs::write(&path, w.to_bytes().unwrap()).unwrap();
    path
}

#[test]
fn flat_records_get_names_region_codes_and_time_zones() {
    let tmp = tempfile_dir();
    let dir = tmp.path();
    let db = GeoDb::open(&[flat_db(dir)]).unwrap();
    let g = db.lookup("192.0.2.7".parse().unwrap());
    assert_eq!(g.country.as_deref(), Some("GB"));
    assert_eq!(g.country_name.as_deref(), Some("United Kingdom"));
    assert_eq!(g.region.as_deref(), Some("ENG"));
    assert_eq!(g.region_name.as_deref(), Some("England"));
    assert_eq!(g.city.as_deref(), Some("London"));
    assert_eq!(g.time_zone.as_deref(), Some("Europe/London"));
    assert!((g.latitude.unwrap() - 51.5143).abs() < 1e-4);
    assert_eq!(
        db.lookup("203.0.113.1".parse().unwrap()),
        GeoInfo::default()
    );
}

#[test]
fn geoip2_layout_and_ipv6() {
    let tmp = tempfile_dir();
    let dir = tmp.path();
    let db = GeoDb::open(&[geoip2_db(dir)]).unwrap();
    let se = db.lookup("198.51.100.20".parse().unwrap());
    assert_eq!(se.country.as_deref(), Some("SE"));
    assert_eq!(se.region.as_deref(), Some("E"));
    assert_eq!(se.city.as_deref(), Some("Linköping"));
    assert_eq!(se.time_zone.as_deref(), Some("Europe/Stockholm"));
    let jp = db.lookup("2001:db8::1".parse().unwrap());
    assert_eq!(jp.country.as_deref(), Some("JP"));
    assert_eq!(jp.time_zone.as_deref(), Some("Asia/Tokyo"));
}

#[test]
fn maxmind_test_database() {
    let db = GeoDb::open(&[shared("maxmind-test-data/GeoIP2-City-Test.mmdb")]).unwrap();
    let gb = db.lookup("81.2.69.142".parse().unwrap());
    assert_eq!(gb.country.as_deref(), Some("GB"));
    assert_eq!(gb.city.as_deref(), Some("London"));
    assert_eq!(gb.time_zone.as_deref(), Some("Europe/London"));
    let us = db.lookup("216.160.83.56".parse().unwrap());
    assert_eq!(us.region.as_deref(), Some("WA"));
    assert_eq!(us.postal_code.as_deref(), Some("98354"));
    let jp = db.lookup("2001:218::1".parse().unwrap());
    assert_eq!(jp.country.as_deref(), Some("JP"));
    assert_eq!(db.lookup("8.8.8.8".parse().unwrap()).country, None);
}

#[test]
fn dbip_country_file() {
    let db = GeoDb::open(&[shared("dbip-country.mmdb")]).unwrap();
    let g = db.lookup("81.2.69.142".parse().unwrap());
    assert_eq!(g.country.as_deref(), Some("GB"));
    assert_eq!(g.country_name.as_deref(), Some("United Kingdom"));
    assert!(
        db.lookup("2a00:1450:4001::1".parse().unwrap())
            .country
            .is_some(),
        "IPv6 in the same tree"
    );
}

#[test]
fn missing_and_corrupt_databases_are_named() {
    let tmp = tempfile_dir();
    let dir = tmp.path();
    let e = GeoDb::open(&[dir.join("nope.mmdb")])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("nope.mmdb") && e.contains("no such file"), "{e}");
    let bad = dir.join("bad.mmdb");
    std::fs::write(&bad, vec![0x42u8; 4096]).unwrap();
    let e = GeoDb::open(&[bad]).err().unwrap().to_string();
    assert!(e.contains("bad.mmdb"), "{e}");
}

/// A fresh directory, removed when the value is dropped.
pub(crate) fn tempfile_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("edge-geo-")
        .tempdir()
        .unwrap()
}

#[test]
fn asn_databases_add_the_asn() {
    let tmp = tempfile_dir();
    let dir = tmp.path();
    let mut w = Writer::new("GeoLite2-ASN");
    w.insert_value(
        "192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(),
        Value::map([
            ("autonomous_system_number", Value::from(64_512_u32)),
            ("autonomous_system_organization", Value::from("Example")),
        ]),
    )
    .unwrap();
    let asn = dir.join("asn.mmdb");
    std::fs::write(&asn, w.to_bytes().unwrap()).unwrap();
    let db = GeoDb::open(&[flat_db(dir), asn]).unwrap();
    let g = db.lookup("192.0.2.1".parse().unwrap());
    assert_eq!(g.asn, Some(64_512));
    assert_eq!(
        g.country.as_deref(),
        Some("GB"),
        "fields merge across files"
    );
}
