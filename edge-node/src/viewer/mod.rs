//! What the node knows about a viewer and adds as CloudFront's viewer headers
//! (docs/cloudfront-behaviour.md: "Viewer headers"): geography from IP databases (`geo`),
//! the device class from the User-Agent (`device`), and the `CloudFront-*` headers built from
//! those and from the connection (address, protocol, TLS, HTTP version) (`headers`).

pub mod device;
pub mod geo;
pub mod headers;
mod iso3166;
pub mod signed;

pub use geo::{warm_time_zones, GeoDb, GeoInfo};
