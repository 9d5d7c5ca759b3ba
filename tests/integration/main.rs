//! Integration tests: real `edge` processes on port 0, one module per feature.

mod admin;
mod cache;
mod config;
mod control;
mod deps;
mod errors;
mod examples;
mod functions;
mod geo;
mod harness;
mod limits;
mod realm;
mod regions;
mod tls;
