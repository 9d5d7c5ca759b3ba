//! Viewer geography from MaxMind-format databases: DB-IP Lite's flat records
//! (`country_code`, `state1`, `city`, f32 `latitude`/`longitude`, empty `timezone`) and MaxMind's
//! GeoIP2/GeoLite2 layout (City, Country, ASN). Files are memory-mapped once; several can be
//! combined (a country file, a city file per IP version, an ASN file) and the first that knows
//! a field answers it. Time zones DB-IP leaves empty are derived from the coordinates.

use super::iso3166;
use crate::error::NodeError;
use maxminddb::{MaxMindDbError, Mmap, Reader};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What is known of one viewer IP.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GeoInfo {
    pub country: Option<String>,
    pub country_name: Option<String>,
    /// ISO 3166-2 subdivision code without the country prefix (`ENG`, `CA`).
    pub region: Option<String>,
    pub region_name: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub metro_code: Option<u16>,
    pub asn: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// DB-IP Lite as packaged by ip-location-db: flat records.
    Flat,
    /// MaxMind GeoIP2/GeoLite2 City or Country.
    GeoIp2,
    /// GeoLite2-ASN and similar.
    Asn,
}

struct Source {
    path: PathBuf,
    layout: Layout,
    reader: Reader<Mmap>,
}

/// The geo databases of a node.
pub struct GeoDb {
    sources: Vec<Source>,
}

#[derive(Deserialize)]
struct Flat<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(default)]
    state1: Option<&'a str>,
    #[serde(default)]
    city: Option<&'a str>,
    #[serde(default)]
    postcode: Option<&'a str>,
    #[serde(default)]
    latitude: Option<f32>,
    #[serde(default)]
    longitude: Option<f32>,
    #[serde(default)]
    timezone: Option<&'a str>,
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

impl GeoDb {
    /// Opens every file; a missing or unreadable one is an error naming it.
    pub fn open(paths: &[PathBuf]) -> Result<GeoDb, NodeError> {
        let mut sources = Vec::with_capacity(paths.len());
        for path in paths {
            sources.push(open_one(path)?);
        }
        Ok(GeoDb { sources })
    }

    pub fn files(&self) -> Vec<&Path> {
        self.sources.iter().map(|s| s.path.as_path()).collect()
    }

    /// Everything the databases know about `ip`.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let mut info = GeoInfo::default();
        for s in &self.sources {
            if let Err(e) = s.fill(ip, &mut info) {
                tracing::debug!(path = %s.path.display(), %ip, error = %e, "geo lookup failed");
            }
        }
        if info.country_name.is_none() {
            info.country_name = info
                .country
                .as_deref()
                .and_then(country_name)
                .map(str::to_string);
        }
        if info.region.is_none() {
            if let (Some(c), Some(r)) = (&info.country, &info.region_name) {
                info.region = region_code(c, r).map(str::to_string);
            }
        }
        if info.time_zone.is_none() {
            if let (Some(lat), Some(lon)) = (info.latitude, info.longitude) {
                let tz = time_zones().get_tz_name(lon, lat);
                info.time_zone = (!tz.is_empty()).then(|| tz.to_string());
            }
        }
        info
    }
}

#[allow(unsafe_code)]
fn open_one(path: &Path) -> Result<Source, NodeError> {
    let fail =
        |e: MaxMindDbError| NodeError::Startup(format!("geo database {}: {e}", path.display()));
    if !path.is_file() {
        return Err(NodeError::Startup(format!(
            "geo database {}: no such file",
            path.display()
        )));
    }
    // SAFETY: the mapping is read-only and the file is treated as immutable for the life of
    // the reader (replace a database by writing a new file and reloading, never in place).
    // maxminddb validates the metadata and bounds-checks every read within the map.
    let reader = unsafe { Reader::open_mmap(path) }.map_err(fail)?;
    let kind = reader.metadata().database_type.to_ascii_lowercase();
    let layout = if kind.contains("asn") {
        Layout::Asn
    } else if kind.contains("geoip2") || kind.contains("geolite2") {
        Layout::GeoIp2
    } else {
        Layout::Flat
    };
    // A corrupt tree shows on the first lookup; make it show now.
    reader.lookup(IpAddr::from([1, 1, 1, 1])).map_err(fail)?;
    Ok(Source {
        path: path.to_path_buf(),
        layout,
        reader,
    })
}

impl Source {
    fn fill(&self, ip: IpAddr, info: &mut GeoInfo) -> Result<(), MaxMindDbError> {
        let found = self.reader.lookup(ip)?;
        if !found.has_data() {
            return Ok(());
        }
        match self.layout {
            Layout::Flat => {
                let Some(r) = found.decode::<Flat>()? else {
                    return Ok(());
                };
                set(&mut info.country, nonempty(r.country_code));
                set(&mut info.region_name, nonempty(r.state1));
                set(&mut info.city, nonempty(r.city));
                set(&mut info.postal_code, nonempty(r.postcode));
                set(&mut info.time_zone, nonempty(r.timezone));
                set(&mut info.latitude, r.latitude.map(f64::from));
                set(&mut info.longitude, r.longitude.map(f64::from));
            }
            Layout::GeoIp2 => {
                let Some(r) = found.decode::<maxminddb::geoip2::City>()? else {
                    return Ok(());
                };
                set(&mut info.country, nonempty(r.country.iso_code));
                set(&mut info.country_name, nonempty(r.country.names.english));
                if let Some(sub) = r.subdivisions.first() {
                    set(&mut info.region, nonempty(sub.iso_code));
                    set(&mut info.region_name, nonempty(sub.names.english));
                }
                set(&mut info.city, nonempty(r.city.names.english));
                set(&mut info.postal_code, nonempty(r.postal.code));
                set(&mut info.time_zone, nonempty(r.location.time_zone));
                set(&mut info.latitude, r.location.latitude);
                set(&mut info.longitude, r.location.longitude);
                set(&mut info.metro_code, r.location.metro_code);
            }
            Layout::Asn => {
                let Some(r) = found.decode::<maxminddb::geoip2::Asn>()? else {
                    return Ok(());
                };
                set(&mut info.asn, r.autonomous_system_number);
            }
        }
        Ok(())
    }
}

/// Keeps the first value found.
fn set<T>(slot: &mut Option<T>, v: Option<T>) {
    if slot.is_none() {
        *slot = v;
    }
}

/// The country's name, for an ISO 3166-1 alpha-2 code (None: not a country code).
pub fn country_name(code: &str) -> Option<&'static str> {
    let i = iso3166::COUNTRIES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()?;
    Some(iso3166::COUNTRIES[i].1)
}

fn region_code(country: &str, name: &str) -> Option<&'static str> {
    iso3166::SUBDIVISIONS
        .iter()
        .skip_while(|(c, _, _)| *c != country)
        .take_while(|(c, _, _)| *c == country)
        .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, _, code)| *code)
}

/// The time zone finder, built on first use (it decodes bundled boundary data).
fn time_zones() -> &'static tzf_rs::DefaultFinder {
    static FINDER: OnceLock<tzf_rs::DefaultFinder> = OnceLock::new();
    FINDER.get_or_init(tzf_rs::DefaultFinder::new)
}

/// Warms the time zone finder (so the first request does not pay for it).
pub fn warm_time_zones() {
    let _ = time_zones();
}

#[cfg(test)]
mod tests;
