//! ISO 3166 data for databases that carry only codes or subdivision names (DB-IP Lite):
//! country names (common name where ISO has one) and first-level subdivision codes, generated
//! at build (build.rs) from the iso-codes data in edge-node/data/.

include!(concat!(env!("OUT_DIR"), "/iso3166.rs"));
