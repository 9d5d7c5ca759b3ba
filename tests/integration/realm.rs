//! The sealed realm and load limits through a real edge node: a function cannot reach the
//! runtime's ops or the process's stdout, and a top level that loops or bombs its heap is
//! refused by name while the running version keeps serving.

use crate::harness::*;

#[tokio::test]
async fn a_function_reaches_neither_the_ops_nor_stdout() {
    let origin = origin();
    let f = write_temp(
        r#"exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  if (r.uri === '/panic') Deno.core.ops.op_panic('x');
  if (r.uri === '/print') globalThis.Deno.core.print('ready http=127.0.0.1:1 pop=FORGED\n');
  if (r.uri === '/forge') console.log('first\nready http=127.0.0.1:1 pop=FORGED\n2026-12-01T00:00:00.000000Z  INFO edge::access: status=200 forged');
  return r;
};"#,
    );
    let vreq = format!("viewer-request={}", f.to_str().unwrap());
    let edge = edge_for(&origin, &["--function", &vreq]);
    let url = |p: &str| format!("{}{p}", edge.base);
    for path in ["/panic", "/print"] {
        let r = get(&url(path)).await;
        assert_eq!(r.status, 503, "{path}: {}", r.text());
        assert_eq!(r.x_cache(), x_cache::EXECUTION_ERROR);
    }
    let logs = edge.proc.wait_for_log("Deno is not defined");
    assert!(logs.contains("ReferenceError"), "{logs}");
    // The node is still up and serving.
    let r = get(&url("/bytes/16?cache_control=max-age%3D60")).await;
    assert_eq!(r.status, 200);
    // Console output is one log record per call, on stderr, its line breaks escaped.
    assert_eq!(get(&url("/forge")).await.status, 200);
    let logs = edge.proc.wait_for_log("forged");
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("FORGED") || l.contains("forged"))
        .collect();
    assert_eq!(lines.len(), 1, "{logs}");
    assert!(
        lines[0].contains("first\\nready http=127.0.0.1:1 pop=FORGED\\n2026"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("edge::function"), "{}", lines[0]);
    // stdout holds the ready line, then the node's own access records only.
    let stdout = edge.proc.wait_for_stdout(" access: GET /forge 200 ");
    assert!(stdout[0].starts_with("ready ") && !stdout[0].contains("FORGED"));
    for line in &stdout[1..] {
        assert!(line.contains("Z access: GET /"), "{line}");
        assert!(
            !line.contains("FORGED") && !line.contains("forged"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_top_level_that_loops_or_bombs_is_refused_and_the_running_version_stays() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let function = dir.path().join("init.js");
    std::fs::write(
        &function,
        "exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-version'] = [{ value: '1' }]; return r; };",
    )
    .unwrap();
    let cfg = NodeToml::for_origin(&origin)
        .node("function_init_timeout", 0.5)
        .function("viewer-response", "init.js")
        .text();
    let cfg_path = dir.path().join("edge.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let edge = edge_with_config_file(&cfg_path, &[]);
    let base = &edge.base;
    let reload = || edge.admin_call(http::Method::POST, "/__edge/reload", "");
    assert_eq!(get(&format!("{base}/a")).await.header("x-version"), "1");
    for (top, cause) in [
        ("for (;;) {}", "ran longer than the 0.5 s init limit"),
        (
            "const a = []; for (;;) a.push(new Array(100000).fill(1));",
            "ran out of memory",
        ),
    ] {
        std::fs::write(
            &function,
            format!("{top}\nexports.handler = async (e) => e;"),
        )
        .unwrap();
        let refused = reload().await;
        assert_eq!(refused.status, 400, "{}", refused.text());
        let text = refused.text();
        assert!(text.contains("init") && text.contains(cause), "{text}");
        assert_eq!(get(&format!("{base}/a")).await.header("x-version"), "1");
    }
    // The same at start: the node refuses to start, naming the function and the cause.
    std::fs::write(&function, "for (;;) {}\nexports.handler = async (e) => e;").unwrap();
    let e = Proc::try_spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--config",
        cfg_path.to_str().unwrap(),
    ])
    .err()
    .expect("refused");
    assert!(e.contains("init.js") && e.contains("init limit"), "{e}");
}

#[tokio::test]
async fn memory_bombs_give_their_memory_back() {
    let origin = origin();
    let f = write_temp(
        "exports.handler = async (e) => { const r = e.Records[0].cf.request; if (r.uri === '/bomb') { const a = []; for (let i = 0; ; i++) a.push(String(i).repeat(1 << 18)); } return r; };",
    );
    let cfg = NodeToml::for_origin(&origin)
        .node("function_memory_mb", 32)
        .function("viewer-request", f.to_str().unwrap())
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let url = |p: &str| format!("{}{p}", edge.base);
    for _ in 0..20 {
        assert_eq!(get(&url("/warm")).await.status, 200);
    }
    // The baseline is taken after one bomb and its replacement: what a first replacement
    // isolate and the allocator's first use of a heap that size cost once is not a leak (a
    // baseline before it swung by 10 MB between runs, and a loaded CI run measured +17 MB).
    assert_eq!(get(&url("/bomb")).await.status, 503);
    edge.proc.wait_for_logs("replaced a terminated isolate", 1);
    let before = edge.proc.rss_kib();
    for _ in 0..5 {
        assert_eq!(get(&url("/bomb")).await.status, 503);
    }
    // Each stopped isolate is replaced after its memory was given back.
    edge.proc.wait_for_logs("replaced a terminated isolate", 6);
    let after = edge.proc.rss_kib();
    eprintln!("memory bombs: RSS {before} KiB before five, {after} KiB after");
    // While a bomb runs, the node holds its heap and some room to unwind, not more: one bomb
    // at a time, so a few 32 MiB heaps at most.
    let peak = edge.proc.peak_rss_kib();
    assert!(
        peak.saturating_sub(before) < 128 << 10,
        "peak RSS {peak} KiB during memory bombs under a 32 MiB heap, {before} KiB before"
    );
    // Without giving it back the allocator keeps at least one bomb's 32 MiB heap, so five
    // bombs would leave RSS 160 MB higher. What remains is the engine's own: ~2 MB a dropped
    // runtime (measured alone: +10–12 MB over five bombs; a loaded CI run: +17.5 MB), which
    // issue #11's RSS target is about.
    assert!(
        after.saturating_sub(before) < 24 << 10,
        "RSS {before} KiB before five memory bombs, {after} KiB after"
    );
}
