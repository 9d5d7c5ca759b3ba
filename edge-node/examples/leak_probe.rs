//! How much memory a dropped deno_core runtime keeps (issue #11, item 6): creates and drops N
//! bare runtimes and prints RSS before and after.
//!
//!     cargo run --release -p edge-node --example leak_probe -- 200 [snapshot]
//!
//! Measured 2026-12-01: ~0.92 MB per runtime (200: 3.0 → 187 MB). Under valgrind the loss is
//! QuickJS bytecode read back from the engine's cached scripts (`JS_ReadObject` from
//! v8x's `temporal::eval_cached_script` and deno_core's primordials) that outlives
//! `JS_FreeRuntime`: inside the engine shim, not in our code.

use deno_core::{JsRuntime, JsRuntimeForSnapshot, RuntimeOptions};
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    // With `snapshot`, every runtime is restored from one startup snapshot (as isolates are).
    let snapshot: Option<&'static [u8]> = (std::env::args().nth(2).as_deref() == Some("snapshot"))
        .then(|| &*Box::leak(JsRuntimeForSnapshot::new(RuntimeOptions::default()).snapshot()));
    let make = || {
        JsRuntime::new(RuntimeOptions {
            startup_snapshot: snapshot,
            ..Default::default()
        })
    };
    drop(make());
    let before = rss();
    for _ in 0..n {
        drop(make());
    }
    println!("{n} runtimes: RSS {before} -> {} kB", rss());
}
