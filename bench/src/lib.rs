//! Benchmark programs live in `benches/`; results and the commands that made them in RESULTS.md.
