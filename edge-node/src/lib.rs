//! A CloudFront-like edge node: configuration, the shared cache, the origin client, the
//! request driver and the listeners. See `driver` for the path of one request.

pub mod access_log;
pub mod admin;
pub mod cache;
pub mod cloudfront;
pub mod config;
pub mod driver;
pub mod error;
pub mod http;
pub mod js;
pub mod lambda;
pub mod metrics;
pub mod origin;
pub mod replica;
pub mod server;
pub mod signing;
pub mod tls;
pub mod trace;
pub mod viewer;

pub use error::{EdgeError, NodeError};
