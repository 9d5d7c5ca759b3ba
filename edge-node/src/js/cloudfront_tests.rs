//! CloudFront Functions on the shared runtime: the handler, the narrower realm, frozen `Date`,
//! runtime 2.0's modules and promises.

use super::tests::{local, runner};
use super::*;
use crate::cloudfront::Runtime;
use crate::lambda::Stage;
use serde_json::json;

async fn cff(runtime: Runtime, src: &str, event: Value) -> Result<Value, FnError> {
    let r = runner();
    let code = FunctionCode::cloudfront("cff", 1, "cff.js", Bytes::from(src.to_string()), runtime)
        .map_err(|reason| FnError::Load {
            function: "cff".into(),
            file: "cff.js".into(),
            reason,
        })?;
    let code = Arc::new(code);
    r.load(&code).await?;
    r.invoke(&code, Stage::ViewerRequest, &event.to_string(), "", "rid")
        .await
        .map(|o| o.value)
}

fn ok(runtime: Runtime, src: &str) -> Value {
    local(cff(runtime, src, json!({"request": {"uri": "/a"}})))
        .unwrap_or_else(|e| panic!("{e}\n{src}"))
}

#[test]
fn the_handler_gets_the_event_and_returns_its_answer() {
    let v = ok(
        Runtime::Js1,
        "function handler(event) { var r = event.request; r.uri = r.uri + '/b'; return r; }",
    );
    assert_eq!(v, json!({"uri": "/a/b"}));
    let v = ok(Runtime::Js2, "async function handler(event) { const r = event.request; await null; return { statusCode: 302, uri: r.uri }; }");
    assert_eq!(v, json!({"statusCode": 302, "uri": "/a"}));
}

#[test]
fn the_realm_has_what_cloudfront_gives_and_nothing_else() {
    let v = ok(
        Runtime::Js2,
        r#"function handler(event) {
            var names = ["setTimeout", "setInterval", "fetch", "process", "require", "eval", "Deno", "queueMicrotask",
                         "structuredClone", "URL", "crypto", "WebAssembly"];
            var present = names.filter(function (n) { return typeof globalThis[n] !== "undefined"; });
            var dyn = [];
            try { Function("return 1"); dyn.push("Function"); } catch (e) { }
            try { (function () {}).constructor("return 1"); dyn.push("constructor"); } catch (e) { }
            try { (async function () {}).constructor("return 1"); dyn.push("async constructor"); } catch (e) { }
            return { present: present, dyn: dyn, buffer: typeof Buffer, fn: (function () {}) instanceof Function };
        }"#,
    );
    assert_eq!(
        v,
        json!({"present": [], "dyn": [], "buffer": "function", "fn": true})
    );
    let v = ok(
        Runtime::Js1,
        "function handler(e) { return { buffer: typeof Buffer, console: typeof console.log }; }",
    );
    assert_eq!(v, json!({"buffer": "undefined", "console": "function"}));
}

#[test]
fn date_is_frozen_for_the_call() {
    let v = ok(
        Runtime::Js1,
        "function handler(e) { var a = Date.now(); for (var i = 0; i < 300000; i++) {} var d = new Date(); return { same: a === Date.now() && d.getTime() === a, given: new Date(0).getTime(), str: typeof Date() }; }",
    );
    assert_eq!(v, json!({"same": true, "given": 0, "str": "string"}));
}

#[test]
fn modules_by_require_and_import() {
    let v = ok(
        Runtime::Js2,
        "import crypto from 'crypto';\nimport qs from 'querystring';\nconst cf = require('cloudfront');\nfunction handler(e) { return { h: crypto.createHash('sha256').update('x').digest('hex').slice(0, 8), q: qs.parse('a=1').a, kvs: typeof cf.kvs }; }",
    );
    assert_eq!(v, json!({"h": "2d711642", "q": "1", "kvs": "function"}));
    let err = local(cff(
        Runtime::Js1,
        "var fs = require('fs'); function handler(e) { return e.request; }",
        json!({}),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("Cannot find module 'fs'"), "{err}");
}

#[test]
fn bad_code_is_refused_before_it_runs() {
    let refused = |rt, src: &str| match FunctionCode::cloudfront(
        "cff",
        1,
        "cff.js",
        Bytes::from(src.to_string()),
        rt,
    ) {
        Err(e) => e,
        Ok(_) => panic!("accepted: {src}"),
    };
    assert!(refused(
        Runtime::Js1,
        "function handler(e) { const r = e.request; return r; }"
    )
    .contains("1:23: SyntaxError: Token \"const\" not supported"));
    assert!(
        refused(Runtime::Js2, "function notHandler(e) { return e.request; }")
            .contains("no function named handler")
    );
    let big = format!(
        "function handler(e) {{ return e.request; }}\n//{}",
        "x".repeat(10 * 1024)
    );
    assert!(refused(Runtime::Js2, &big).contains("FunctionSizeLimitExceeded"));
    // Syntax the tokenizer lets through is still the engine's to refuse, at load.
    let code = Arc::new(
        FunctionCode::cloudfront(
            "cff",
            1,
            "cff.js",
            Bytes::from_static(b"function handler(e) { return e.request +; }"),
            Runtime::Js2,
        )
        .unwrap(),
    );
    let err = local(async { runner().load(&code).await }).unwrap_err();
    assert!(err.to_string().contains("SyntaxError"), "{err}");
}

#[test]
fn a_throw_is_an_execution_error() {
    let err = local(cff(
        Runtime::Js2,
        "function handler(e) { throw new Error('boom'); }",
        json!({}),
    ))
    .unwrap_err();
    assert!(
        matches!(&err, FnError::Threw(m) if m.contains("boom")),
        "{err:?}"
    );
}

#[test]
fn two_megabytes_of_memory_and_garbage_does_not_count() {
    local(async {
        let r = runner();
        let src = "function handler(event) {\n  if (event.bomb) { var a = []; for (var i = 0; i < 1e6; i++) a.push('x' + i); return a.length; }\n  var junk = []; for (var j = 0; j < 2000; j++) junk.push({ j: j, s: 'y' + j });\n  return junk.length;\n}";
        let code = Arc::new(
            FunctionCode::cloudfront("mem", 1, "mem.js", Bytes::from(src), Runtime::Js2).unwrap(),
        );
        r.load(&code).await.unwrap();
        // Garbage made and dropped on every call never adds up to the limit.
        for i in 0..300 {
            let v = r
                .invoke(&code, Stage::ViewerRequest, r#"{"bomb":false}"#, "", "rid")
                .await;
            assert_eq!(v.map(|o| o.value), Ok(json!(2000)), "call {i}");
        }
        let err = r
            .invoke(&code, Stage::ViewerRequest, r#"{"bomb":true}"#, "", "rid")
            .await
            .unwrap_err();
        assert_eq!(err, FnError::Memory(2 << 20), "{err}");
        // The next call gets a fresh isolate and works.
        let v = r
            .invoke(&code, Stage::ViewerRequest, r#"{"bomb":false}"#, "", "rid")
            .await;
        assert_eq!(v.map(|o| o.value), Ok(json!(2000)));
    });
}
