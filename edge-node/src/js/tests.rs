//! The runtime on its own: function forms, failures, limits and the Node-compatible modules.

use super::*;
use crate::lambda::Stage;
use serde_json::json;

/// A call with a plain event (no lazy parts), its value only.
trait InvokeValue {
    async fn invoke_value(
        &self,
        code: &Arc<FunctionCode>,
        stage: Stage,
        event: &str,
        request_id: &str,
    ) -> Result<Value, FnError>;
}

impl InvokeValue for Runner {
    async fn invoke_value(
        &self,
        code: &Arc<FunctionCode>,
        stage: Stage,
        event: &str,
        request_id: &str,
    ) -> Result<Value, FnError> {
        self.invoke(code, stage, event, "", request_id, None)
            .await
            .map(|o| o.value)
    }
}

pub(super) fn limits() -> FunctionLimits {
    FunctionLimits {
        viewer_timeout: Duration::from_millis(500),
        origin_timeout: Duration::from_secs(2),
        init_timeout: Duration::from_secs(10),
        heap_bytes: 64 << 20,
        concurrency: 100,
        isolates_per_worker: 1,
        slice: Duration::ZERO,
        cloudfront_budget: Duration::from_millis(1),
    }
}

pub(super) fn runner() -> Runner {
    runner_with(limits())
}

pub(super) fn runner_with(limits: FunctionLimits) -> Runner {
    Runner::new(
        limits,
        Watchdog::start(),
        Arc::new(AtomicUsize::new(0)),
        "TST1-C1",
    )
}

/// Runs `f` on a current-thread runtime with a LocalSet, as a worker does.
pub(super) fn local<F: std::future::Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

async fn run(src: &str, event: Value) -> Result<Value, FnError> {
    run_with(limits(), src, event).await
}

async fn run_with(limits: FunctionLimits, src: &str, event: Value) -> Result<Value, FnError> {
    let r = runner_with(limits);
    let code = Arc::new(FunctionCode::new("t", 1, "t.js", src));
    r.load(&code).await?;
    r.invoke_value(&code, Stage::ViewerRequest, &event.to_string(), "rid")
        .await
}

fn ok(src: &str) -> Value {
    local(run(src, json!({"n": 1}))).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

#[test]
fn function_forms() {
    assert_eq!(
        ok("exports.handler = async (e) => ({ n: e.n + 1 });"),
        json!({"n": 2})
    );
    assert_eq!(
        ok("module.exports.handler = (e, c, cb) => cb(null, { n: e.n + 2 });"),
        json!({"n": 3})
    );
    assert_eq!(
        ok("module.exports = { handler: async (e) => e };"),
        json!({"n": 1})
    );
    assert_eq!(
        ok("export const handler = async (e) => ({ esm: true });"),
        json!({"esm": true})
    );
    assert_eq!(
        ok("export default async function (e) { return { d: 1 }; }"),
        json!({"d": 1})
    );
    assert_eq!(ok("import { createHash } from 'crypto';\nexport const handler = async () => createHash('sha256').update('a').digest('hex');"), json!("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"));
    // A second callback call is ignored; a callback from a timer still counts.
    assert_eq!(
        ok("exports.handler = (e, c, cb) => { cb(null, 1); cb(null, 2); };"),
        json!(1)
    );
    assert_eq!(
        ok("exports.handler = (e, c, cb) => { setTimeout(() => cb(null, 'late'), 5); };"),
        json!("late")
    );
    // Neither callback nor promise: a null result (CloudFront: invalid JSON).
    assert_eq!(ok("exports.handler = (e) => { return e; };"), Value::Null);
    assert_eq!(ok("exports.handler = async () => undefined;"), Value::Null);
}

#[test]
fn globals_survive_between_invocations_but_not_between_functions() {
    local(async {
        let r = runner();
        let a = Arc::new(FunctionCode::new(
            "a",
            1,
            "a.js",
            "let n = 0; globalThis.shared = 'a'; exports.handler = async () => ++n;",
        ));
        let b = Arc::new(FunctionCode::new(
            "b",
            1,
            "b.js",
            "exports.handler = async () => typeof globalThis.shared;",
        ));
        r.load(&a).await.unwrap();
        r.load(&b).await.unwrap();
        assert_eq!(
            r.invoke_value(&a, Stage::ViewerRequest, &json!({}).to_string(), "1")
                .await
                .unwrap(),
            json!(1)
        );
        assert_eq!(
            r.invoke_value(&a, Stage::ViewerRequest, &json!({}).to_string(), "2")
                .await
                .unwrap(),
            json!(2)
        );
        assert_eq!(
            r.invoke_value(&b, Stage::ViewerRequest, &json!({}).to_string(), "3")
                .await
                .unwrap(),
            json!("undefined")
        );
    });
}

/// Isolates start from one startup snapshot (js/isolate.rs `startup_snapshot`), yet each has
/// its own random numbers and its own start time, as separately started runtimes do.
#[test]
fn isolates_from_the_snapshot_have_their_own_randomness_and_start_time() {
    local(async {
        let src = "const seed = [Math.random(), crypto.randomUUID()];\nexports.handler = async () => ({ seed, started: Date.now() - process.uptime() * 1000 });";
        let first = run(src, json!({})).await.unwrap();
        // The snapshot exists by now: a runtime started after this point must say so.
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as f64;
        let second = run(src, json!({})).await.unwrap();
        assert_ne!(first["seed"][0], second["seed"][0]);
        assert_ne!(first["seed"][1], second["seed"][1]);
        let started = second["started"].as_f64().unwrap();
        assert!(
            started >= before - 5.0,
            "process.uptime() counts from {started}, before this isolate was made ({before})"
        );
    });
}

/// A call that first makes its isolate (as a moved function's first call on a function
/// thread does) keeps its whole deadline: the Init phase is not the call's time.
#[test]
fn making_the_isolate_does_not_count_against_the_call() {
    local(async {
        let r = runner();
        // A top level that takes 1.5 s, a handler that takes 300 ms, a deadline 1 s away:
        // past by the time the isolate is made, not if making it does not count (then 700 ms
        // to spare).
        let code = Arc::new(FunctionCode::new(
            "slow-init",
            1,
            "s.js",
            "const spin = (ms) => { const until = Date.now() + ms; while (Date.now() < until) {} };\nspin(1500);\nexports.handler = async () => { spin(300); return 'ok'; };",
        ));
        let event = json!({}).to_string();
        let call = Call {
            stage: Stage::ViewerRequest,
            input: Input::Json {
                event: &event,
                parts: "",
            },
            request_id: "rid",
            deadline: Instant::now() + Duration::from_millis(1000),
            egress: None,
            started: None,
        };
        let out = r.invoke_here(&code, call).await.unwrap();
        let value = out
            .value
            .unwrap_or_else(|| serde_json::from_str(&out.json).unwrap());
        assert_eq!(value, json!("ok"));
    });
}

#[test]
fn failures_are_told_apart() {
    let err = |src: &str| local(run(src, json!({}))).unwrap_err();
    assert!(
        matches!(err("exports.handler = async () => { throw new Error('boom'); };"), FnError::Threw(m) if m.contains("boom"))
    );
    assert!(
        matches!(err("exports.handler = (e, c, cb) => cb(new Error('cb-err'));"), FnError::Threw(m) if m.contains("cb-err"))
    );
    assert!(
        matches!(err("exports.handler = () => Promise.reject(new Error('rej'));"), FnError::Threw(m) if m.contains("rej"))
    );
    assert_eq!(
        err("exports.handler = () => new Promise(() => {});"),
        FnError::NeverSettled
    );
    assert!(matches!(
        err("exports.handler = async () => ({ big: 10n });"),
        FnError::Unserializable(_)
    ));
    assert!(matches!(
        err("const f = (n) => f(n + 1) + 1; exports.handler = async () => f(0);"),
        FnError::Threw(_)
    ));
}

#[test]
fn runaways_are_terminated_and_the_isolate_replaced() {
    local(async {
        let r = runner();
        let code = Arc::new(FunctionCode::new("loop", 1, "loop.js", "let calls = 0; exports.handler = async (e) => { calls++; if (e.spin) { for (;;) {} } return calls; };"));
        r.load(&code).await.unwrap();
        let started = Instant::now();
        let e = r
            .invoke_value(
                &code,
                Stage::ViewerRequest,
                &json!({"spin": true}).to_string(),
                "1",
            )
            .await
            .unwrap_err();
        assert_eq!(e, FnError::Timeout(Duration::from_millis(500)));
        assert!(started.elapsed() < Duration::from_secs(3));
        // The replacement is a fresh isolate: its counter starts again.
        assert_eq!(
            r.invoke_value(&code, Stage::ViewerRequest, &json!({}).to_string(), "2")
                .await
                .unwrap(),
            json!(1)
        );
        let timer = Arc::new(FunctionCode::new(
            "interval",
            1,
            "i.js",
            "exports.handler = () => { setInterval(() => {}, 10); };",
        ));
        r.load(&timer).await.unwrap();
        assert!(matches!(
            r.invoke_value(&timer, Stage::ViewerRequest, &json!({}).to_string(), "3")
                .await,
            Err(FnError::Timeout(_))
        ));
    });
}

#[test]
fn a_runaway_is_stopped_even_when_the_watchdog_was_asleep() {
    local(async {
        let dog = super::watchdog::eager_sleeper();
        let r = Runner::new(
            limits(),
            dog.clone(),
            Arc::new(AtomicUsize::new(0)),
            "TST1-C1",
        );
        let code = Arc::new(FunctionCode::new(
            "spin",
            1,
            "s.js",
            "exports.handler = async () => { for (;;) {} };",
        ));
        r.load(&code).await.unwrap();
        // Wait for the watchdog to go to sleep (nothing has been armed).
        while !dog.asleep() {
            tokio::task::yield_now().await;
            std::thread::yield_now();
        }
        let started = Instant::now();
        let e = r
            .invoke_value(&code, Stage::ViewerRequest, "{}", "1")
            .await
            .unwrap_err();
        assert_eq!(e, FnError::Timeout(Duration::from_millis(500)));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    });
}

#[test]
fn memory_bombs_are_stopped() {
    let e = local(run("exports.handler = async () => { const a = []; for (;;) a.push(new Array(100000).fill(1)); };", json!({}))).unwrap_err();
    assert!(
        matches!(
            e,
            FnError::Memory(_) | FnError::Threw(_) | FnError::Timeout(_)
        ),
        "{e:?}"
    );
}

#[test]
fn unknown_modules_fail_at_load_naming_the_module() {
    let e = local(run(
        "const _ = require('lodash'); exports.handler = async () => 1;",
        json!({}),
    ))
    .unwrap_err();
    assert!(
        matches!(&e, FnError::Load { reason: m, .. } if m.contains("lodash")),
        "{e:?}"
    );
    let e = local(run(
        "import x from 'left-pad';\nexport const handler = async () => 1;",
        json!({}),
    ))
    .unwrap_err();
    assert!(
        matches!(&e, FnError::Load { reason: m, .. } if m.contains("left-pad")),
        "{e:?}"
    );
    let e = local(run("exports.nothing = 1;", json!({}))).unwrap_err();
    assert!(
        matches!(&e, FnError::Load { reason: m, .. } if m.contains("exports no handler")),
        "{e:?}"
    );
}

#[test]
fn node_modules_work() {
    let v = ok(r#"
const qs = require('querystring'); const url = require('url'); const crypto = require('node:crypto');
const zlib = require('zlib'); const util = require('util');
exports.handler = async () => {
  const u = new URL('https://example.com:8443/a/b?x=1&y=two#h');
  u.searchParams.append('z', '3');
  const parsed = url.parse('http://user@host.example:81/p/q?s=1', true);
  const gz = zlib.gzipSync(Buffer.from('hello hello hello'));
  return {
    qs: qs.parse('a=1&b=2&a=3&c=x%20y'),
    qss: qs.stringify({ a: [1, 2], b: 'x y' }),
    href: u.href, host: u.host, port: u.port, path: u.pathname, y: u.searchParams.get('y'),
    legacy: [parsed.hostname, parsed.port, parsed.pathname, parsed.query.s],
    fmt: url.format({ protocol: 'https', hostname: 'a.example', pathname: '/x', query: { q: 1 } }),
    md5: crypto.createHash('md5').update('abc').digest('hex'),
    hmac: crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'),
    b64hmac: crypto.createHmac('sha1', 'k').update('d').digest('base64').length,
    rnd: crypto.randomBytes(16).length, uuid: /^[0-9a-f-]{36}$/.test(crypto.randomUUID()),
    tse: crypto.timingSafeEqual(Buffer.from('ab'), Buffer.from('ab')),
    gunzip: zlib.gunzipSync(gz).toString(), inflate: zlib.inflateSync(zlib.deflateSync('zz')).toString('utf8'),
    format: util.format('%s=%d %j', 'a', 42, { b: 1 }),
    buf: [Buffer.from('héllo').toString('base64'), Buffer.from('aGk=', 'base64').toString(), Buffer.from('ff00', 'hex').length, Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString()],
    text: new TextDecoder().decode(new TextEncoder().encode('✓')),
    ab: [btoa('hi'), atob('aGk=')],
  };
};"#);
    assert_eq!(v["qs"], json!({"a": ["1", "3"], "b": "2", "c": "x y"}));
    assert_eq!(v["qss"], "a=1&a=2&b=x%20y");
    assert_eq!(v["href"], "https://example.com:8443/a/b?x=1&y=two&z=3#h");
    assert_eq!(v["host"], "example.com:8443");
    assert_eq!(v["port"], "8443");
    assert_eq!(v["path"], "/a/b");
    assert_eq!(v["y"], "two");
    assert_eq!(v["legacy"], json!(["host.example", "81", "/p/q", "1"]));
    assert_eq!(v["fmt"], "https://a.example/x?q=1");
    assert_eq!(v["md5"], "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        v["hmac"],
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    assert_eq!(v["b64hmac"], 28);
    assert_eq!(v["rnd"], 16);
    assert_eq!(v["uuid"], true);
    assert_eq!(v["tse"], true);
    assert_eq!(v["gunzip"], "hello hello hello");
    assert_eq!(v["inflate"], "zz");
    assert_eq!(v["format"], "a=42 {\"b\":1}");
    assert_eq!(v["buf"], json!(["aMOpbGxv", "hi", 2, "ab"]));
    assert_eq!(v["text"], "✓");
    assert_eq!(v["ab"], json!(["aGk=", "hi"]));
}

#[test]
fn fetch_is_for_origin_stages_only() {
    let e = local(run(
        "exports.handler = async () => { await fetch('http://127.0.0.1:1/'); return 1; };",
        json!({}),
    ))
    .unwrap_err();
    assert!(
        matches!(&e, FnError::Threw(m) if m.contains("origin-request and origin-response")),
        "{e:?}"
    );
}

#[test]
fn the_engine_runs_javascript() {
    let out = eval_json("{ sum: [1, 2, 3].reduce((a, b) => a + b, 0), engine: typeof globalThis }")
        .unwrap();
    assert_eq!(out, r#"{"sum":6,"engine":"object"}"#);
}

/// Walks everything user code can reach from `globalThis` (own keys, accessors and
/// prototypes, for as far as they go) and returns the paths that lead to the runtime's or the
/// engine's internals: `Deno`, its ops, `print`, our helpers, the engine's `__v8x*` and `gc`.
const REALM_WALK: &str = r#"
exports.handler = async () => {
  const bad = /^(Deno|__bootstrap|__infra|__edge|__v8x|print$|gc$|op_|core$|ops$)/;
  const seen = new Set();
  const found = [];
  const queue = [[globalThis, "globalThis"]];
  while (queue.length && seen.size < 50000) {
    const [obj, path] = queue.shift();
    if (obj === null || (typeof obj !== "object" && typeof obj !== "function") || seen.has(obj)) continue;
    seen.add(obj);
    if (typeof obj === "function" && /^op_/.test(obj.name)) found.push(path + " (a function named " + obj.name + ")");
    queue.push([Object.getPrototypeOf(obj), path + ".__proto__"]);
    for (const key of Reflect.ownKeys(obj)) {
      const name = typeof key === "symbol" ? "@" + String(key.description) : key;
      if (bad.test(name) || name.startsWith("@@")) found.push(path + "." + name);
      const d = Reflect.getOwnPropertyDescriptor(obj, key);
      for (const v of [d.value, d.get, d.set]) queue.push([v, path + "." + name]);
      if (d.get) { try { queue.push([d.get.call(obj), path + "." + name + "()"]); } catch {} }
    }
  }
  return { found, walked: seen.size, globals: Reflect.ownKeys(globalThis).filter((k) => typeof k === "string") };
};
"#;

#[test]
fn user_code_reaches_nothing_of_the_runtime_or_the_engine() {
    let walk = |src: &str| {
        let v = ok(src);
        assert_eq!(v["found"], json!([]), "reachable internals");
        assert!(
            v["walked"].as_u64().unwrap() > 500,
            "the walk covered the realm: {v}"
        );
        v
    };
    // The walk finds what it looks for, however deep.
    let planted = ok(&format!(
        "Math.deep = {{ x: [{{ get y() {{ return {{ core: {{ ops: {{ op_x() {{}} }} }} }}; }} }}] }};\n{REALM_WALK}"
    ));
    assert!(planted["found"].as_array().unwrap().len() >= 3, "{planted}");
    let cjs = walk(REALM_WALK);
    // The same from an ES module, whose Node imports are evaluated before the seal.
    let esm = walk(&format!(
        "import {{ createHash }} from 'node:crypto';\n{}",
        REALM_WALK.replace("exports.handler =", "export const handler =")
    ));
    assert_eq!(cjs["globals"], esm["globals"]);
    // Every global is one Node has, or a standard ECMAScript one Node 20's V8 lacks (the
    // engine is newer). Node is the oracle.
    let out = std::process::Command::new("node")
        .args(["-e", "console.log(JSON.stringify(Reflect.ownKeys(globalThis).filter(k => typeof k === 'string')))"])
        .output()
        .expect("node is needed for this test (Debian: apt-get install -y nodejs)");
    let node: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    let newer_ecmascript = [
        "Iterator",
        "SuppressedError",
        "DisposableStack",
        "AsyncDisposableStack",
        "Float16Array",
    ];
    let extra: Vec<&str> = cjs["globals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|g| !node.iter().any(|n| n == g) && !newer_ecmascript.contains(g))
        .collect();
    assert_eq!(extra, Vec::<&str>::new(), "globals Node does not have");
}

#[test]
fn a_function_that_reaches_for_the_ops_gets_a_reference_error() {
    for src in [
        "exports.handler = async () => Deno.core.ops.op_panic('x');",
        "exports.handler = async () => globalThis.Deno.core.print('ready http=1 pop=FORGED\\n');",
        "exports.handler = async () => __edge.state;",
        "exports.handler = async () => { gc(); return 1; };",
    ] {
        let e = local(run(src, json!({}))).unwrap_err();
        let FnError::Threw(msg) = &e else {
            panic!("{src}: {e:?}")
        };
        assert!(
            msg.contains("ReferenceError") || msg.contains("TypeError"),
            "{src}: {msg}"
        );
    }
    // A sloppy-mode handler cannot climb to the runtime function that called it.
    assert_eq!(
        ok("exports.handler = function handler(e, c, cb) { cb(null, typeof handler.caller === 'function' || typeof arguments.callee.caller === 'function'); };"),
        json!(false)
    );
    // Nor at the top level, nor through `import` of the runtime's own modules.
    let e = local(run(
        "Deno.core.ops.op_panic('x'); exports.handler = async () => 1;",
        json!({}),
    ))
    .unwrap_err();
    assert!(format!("{e}").contains("Deno is not defined"), "{e}");
    for spec in ["edge:builtins", "edge:function", "edge:builtin/crypto"] {
        let e = local(run(
            &format!("import m from '{spec}';\nexport const handler = async () => 1;"),
            json!({}),
        ))
        .unwrap_err();
        assert!(format!("{e}").contains("Cannot find module"), "{spec}: {e}");
    }
}

#[test]
fn atomics_stay_usable_after_the_seal() {
    assert_eq!(
        ok("exports.handler = async () => { const a = new Int32Array(new SharedArrayBuffer(8)); Atomics.add(a, 0, 2); return [Atomics.load(a, 0), Atomics.notify(a, 0, 1)]; };"),
        json!([2, 0])
    );
}

#[test]
fn a_top_level_that_runs_too_long_or_too_big_is_refused_naming_the_cause() {
    // The load error for `src` under a 0.5 s init limit.
    let refused = |src: &str| {
        let short = FunctionLimits {
            init_timeout: Duration::from_millis(500),
            ..limits()
        };
        local(run_with(short, src, json!({})))
            .unwrap_err()
            .to_string()
    };
    let e = refused("for (;;) {}\nexports.handler = async () => 1;");
    assert!(e.contains("ran longer than the 0.5 s init limit"), "{e}");
    // Waiting on a promise that never settles at the top level of an ES module.
    let e = refused("await new Promise(() => setInterval(() => {}, 10));\nexport const handler = async () => 1;");
    assert!(e.contains("0.5 s init limit"), "{e}");
    let e = refused("const a = []; for (;;) a.push(new Array(100000).fill(1));\nexports.handler = async () => 1;");
    assert!(e.contains("ran out of memory"), "{e}");
    // A top-level timer left pending is not the init's business: the function loads.
    assert_eq!(
        ok("let n = 0; setInterval(() => n++, 1000);\nexports.handler = async () => 7;"),
        json!(7)
    );
}

#[test]
fn common_js_errors_point_at_the_file_s_own_lines() {
    let e = local(run(
        "exports.handler = async () => {\n  return nope.x;\n};",
        json!({}),
    ))
    .unwrap_err();
    assert!(format!("{e}").contains("t.js:2:"), "{e}");
}

#[test]
fn es_module_errors_name_the_file() {
    let r = runner();
    let e = local(async {
        let code = Arc::new(FunctionCode::new(
            "m",
            1,
            "functions/app.mjs",
            "export const handler = async () => {\n  return nope.x;\n};",
        ));
        r.load(&code).await?;
        r.invoke_value(&code, Stage::ViewerRequest, "{}", "1").await
    })
    .unwrap_err();
    assert!(
        format!("{e}").contains("file:///var/task/app.mjs:2:"),
        "{e}"
    );
    let e = local(async {
        let code = Arc::new(FunctionCode::new(
            "m",
            2,
            "app.mjs",
            "import x from 'left-pad';\nexport const handler = async () => x;",
        ));
        r.load(&code).await
    })
    .unwrap_err();
    assert!(
        format!("{e}").contains("Cannot find package 'left-pad'")
            && format!("{e}")
                .contains("may import only the Node modules assert, assert/strict, buffer, crypto"),
        "{e}"
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_function_s_memory_size() {
    use base64::Engine;
    use std::io::Write;
    // Twenty gzip members of 1 MiB of zeros each: 20 MiB out of a few KiB in.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![0u8; 1 << 20]).unwrap();
    let bomb = gz.finish().unwrap().repeat(20);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bomb);
    let src = format!("const zlib = require('zlib'); const bomb = Buffer.from('{b64}', 'base64');\nexports.handler = async (e) => zlib.gunzipSync(e.n ? bomb.subarray(0, bomb.length / 20) : bomb).length;");
    let small = || FunctionLimits {
        heap_bytes: 16 << 20,
        ..limits()
    };
    let e = local(run_with(small(), &src, json!({}))).unwrap_err();
    assert!(
        format!("{e}").contains("Cannot create a Buffer larger than 16777216 bytes"),
        "{e}"
    );
    assert_eq!(
        local(run_with(small(), &src, json!({"n": 1}))).unwrap(),
        json!(1 << 20)
    );
}
