//! The benchmark harness behind `edge bench`: a load generator (closed and open loop, latency
//! from the intended send time), scenarios that start what they measure as real processes on
//! loopback, and the JSON/HTML report. Micro-benchmarks are programs in `benches/`; recorded
//! results and the commands that made them are in RESULTS.md.

pub mod cold;
pub mod deploy;
pub mod load;
pub mod peer;
mod pinning;
pub mod regions;
pub mod report;
pub mod runaway;
pub mod scenario;
pub mod yours;
