//! A function that runs long delays only the requests waiting for it: past its slice on a
//! serving thread it is stopped and run again on a function thread, where its calls stay,
//! and the serving thread goes on answering everything else.

use crate::harness::*;

const MOVED: &str = "this function's calls now run on the function threads";

/// One worker; on /spin* a viewer-request function that spins (after `before`), elsewhere
/// one that passes the request on.
fn spinning(origin: &Origin, before: &str) -> (Edge, [tempfile::TempPath; 3]) {
    let spin = write_temp(&format!(
        "exports.handler = async (e) => {{ const r = e.Records[0].cf.request; {before} for (;;) {{}} }};"
    ));
    let pass = write_temp("exports.handler = async (e) => e.Records[0].cf.request;");
    let cfg = NodeToml::for_origin(origin)
        .node("workers", 1)
        .node("viewer_function_timeout", 5.0)
        .function("viewer-request", pass.to_str().unwrap())
        .behavior_with_function("/spin*", "viewer-request", spin.to_str().unwrap())
        .text();
    let (edge, cfg) = edge_with_config(&cfg, &[]);
    (edge, [cfg, spin, pass])
}

// Multi-threaded: the runaways' requests run while this test waits for the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_function_moves_off_the_serving_thread_and_hits_keep_flowing() {
    let origin = origin();
    let (edge, _files) = spinning(&origin, "");
    let hit = format!("{}/bytes/10?cache_control=max-age%3D600", edge.base);
    assert_eq!(get(&hit).await.x_cache(), x_cache::MISS);
    let spins: Vec<_> = (0..2)
        .map(|i| {
            let url = format!("{}/spin{i}", edge.base);
            tokio::spawn(async move { get(&url).await })
        })
        .collect();
    let logs = edge.proc.wait_for_log(MOVED);
    let line = logs.lines().find(|l| l.contains(MOVED)).unwrap();
    assert!(line.contains("viewer-request"), "{line}");
    // The one worker answers while both runaways still run (they hold to their 5 s limit).
    for _ in 0..20 {
        let r = get(&hit).await;
        assert_eq!((r.status.as_u16(), r.x_cache()), (200, x_cache::HIT));
    }
    assert!(
        spins.iter().all(|s| !s.is_finished()),
        "a runaway ended before the hits"
    );
    for s in spins {
        let r = s.await.unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.x_cache(), x_cache::LIMIT_EXCEEDED);
    }
    assert_eq!(get(&hit).await.x_cache(), x_cache::HIT);
}

#[tokio::test]
async fn a_call_run_again_elsewhere_logs_once() {
    let origin = origin();
    let (edge, _files) = spinning(&origin, "console.log('about to spin on ' + r.uri);");
    let r = get(&format!("{}/spin-once", edge.base)).await;
    assert_eq!(r.status, 503);
    // Logged after the call ended, so every line of both runs is in by then.
    let logs = edge.proc.wait_for_log("request failed");
    assert!(logs.contains(MOVED), "{logs}");
    assert_eq!(
        logs.matches("about to spin on /spin-once").count(),
        1,
        "{logs}"
    );
}

#[tokio::test]
async fn a_call_that_fetched_is_not_run_twice() {
    let origin = origin();
    let f = write_temp(&format!(
        "exports.handler = async (e) => {{ const r = e.Records[0].cf.request; if (r.uri === '/fetch-then-spin') {{ fetch('{}/bytes/1?n=' + Math.random()); for (;;) {{}} }} return r; }};",
        origin.base
    ));
    let cfg = NodeToml::for_origin(&origin)
        .node("origin_function_timeout", 1.0)
        .function("origin-request", f.to_str().unwrap())
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let r = get(&format!("{}/fetch-then-spin", edge.base)).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.x_cache(), x_cache::LIMIT_EXCEEDED);
    let logs = edge.proc.wait_for_log("timed out after 1000 ms");
    assert!(!logs.contains(MOVED), "{logs}");
}
