//! What a deno_core runtime on QuickJS-ng costs to make, with and without a startup snapshot,
//! and what one kept alive holds (RSS).
//! `DENO_STARTUP_PHASES=1 cargo run --release -p edge-node --example isolate_cost -- 30`
use deno_core::{JsRuntime, JsRuntimeForSnapshot, RuntimeOptions};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    edge_node::js::pin_platform();
    // Warm the allocator and the thread's tables.
    drop(JsRuntime::new(RuntimeOptions::default()));

    let measure = |label: &str, make: &dyn Fn() -> JsRuntime| {
        let (r0, t0) = (edge_node::js::resident_kib(), Instant::now());
        let kept: Vec<JsRuntime> = (0..n).map(|_| make()).collect();
        let (t, r1) = (t0.elapsed() / n as u32, edge_node::js::resident_kib());
        println!(
            "{label:>24}: {:>7.2} ms each, {:>6} kB RSS each (kept {n})",
            t.as_secs_f64() * 1e3,
            (r1 - r0) / n as u64
        );
        drop(kept);
    };
    let only_snapshot = std::env::args().nth(2).as_deref() == Some("snapshot");
    if !only_snapshot {
        measure("plain", &|| JsRuntime::new(RuntimeOptions::default()));
    }

    let for_snapshot = JsRuntimeForSnapshot::new(RuntimeOptions::default());
    let t0 = Instant::now();
    let blob: &'static [u8] = Box::leak(for_snapshot.snapshot());
    println!("snapshot: {} bytes in {:?}", blob.len(), t0.elapsed());
    measure("from snapshot", &|| {
        JsRuntime::new(RuntimeOptions {
            startup_snapshot: Some(blob),
            ..Default::default()
        })
    });
    let mut made = 0;
    for _ in 0..1000 {
        let ok = std::panic::catch_unwind(|| {
            let mut rt = JsRuntime::new(RuntimeOptions {
                startup_snapshot: Some(blob),
                ..Default::default()
            });
            rt.execute_script("x", "1 + 1").is_ok()
        });
        if !matches!(ok, Ok(true)) {
            break;
        }
        made += 1;
    }
    println!("runtimes from the snapshot made and dropped on one thread: {made}");
    let mut rt = JsRuntime::new(RuntimeOptions {
        startup_snapshot: Some(blob),
        ..Default::default()
    });
    let v = rt
        .execute_script(
            "check",
            "typeof Deno.core.ops + ' ' + [1,2].map(x => x * 2)",
        )
        .map(|v| {
            deno_core::scope!(scope, rt);
            deno_core::v8::Local::new(scope, v).to_rust_string_lossy(scope)
        });
    println!("from snapshot works: {v:?}");
}
