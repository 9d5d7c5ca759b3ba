//! Integration tests: real `edge` processes on port 0, one module per feature.

mod access_log;
mod admin;
mod bench;
mod cache;
mod cloudfront_functions;
mod config;
mod configs;
mod control;
mod deps;
mod distributions;
mod errors;
mod examples;
mod functions;
mod geo;
mod harness;
mod invoke;
mod lifecycle;
mod limits;
mod node_compat;
mod realm;
mod regions;
mod runaway;
mod tls;
mod traces;
mod up;
