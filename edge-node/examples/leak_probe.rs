//! How much memory a dropped deno_core runtime keeps (issue #11, item 6): creates and drops N
//! bare runtimes and prints RSS before and after.
//!
//!     cargo run --release -p edge-node --example leak_probe -- 200 [snapshot]
//!
//! Measured 2026-12-01: ~0.92 MB per runtime (200: 3.0 → 187 MB). Under valgrind the loss is
//! QuickJS bytecode read back from the engine's cached scripts (`JS_ReadObject` from
//! v8x's `temporal::eval_cached_script` and deno_core's primordials) that outlives
//! `JS_FreeRuntime`: inside the engine shim, not in our code.
//!
//! 2026-12-08, runtimes restored from a startup snapshot (as isolates now are): the same
//! ~0.8 MB each (100: 15.2 → 94.4 MB). Under valgrind what is lost is the restored heap
//! itself, objects and functions `JS_ReadObject` made from the snapshot (v8x
//! `deserialize_value_with_refs`), still not freed when the runtime is.

use deno_core::{JsRuntime, JsRuntimeForSnapshot, RuntimeOptions};
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
    let before = edge_node::js::resident_kib();
    for _ in 0..n {
        drop(make());
    }
    println!(
        "{n} runtimes: RSS {before} -> {} kB",
        edge_node::js::resident_kib()
    );
}
