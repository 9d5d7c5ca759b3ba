//! How much of a hook's cost is the engine and how much the layers above it: one trivial
//! CloudFront Functions viewer-request handler called (a) the way the runtime calls it today
//! (event as JSON text, `JSON.parse`, handler, `JSON.stringify`), all inside JavaScript, and
//! (b) with the event built straight from Rust through QuickJS-ng's own C API under the
//! deno_core runtime (no JSON, no V8-API shim on the call), and the result read back.
//!
//!     cargo run --release -p edge-node --example raw_engine
//!
//! Measures CPU time of this thread per call.

#![allow(unsafe_code)]

use deno_core::{v8, JsRuntime, RuntimeOptions};
use std::ffi::{c_char, c_int, c_void};
use std::time::Duration;

#[repr(C)]
#[derive(Copy, Clone)]
union U {
    i: i32,
    f: f64,
    p: *mut c_void,
}
#[repr(C)]
#[derive(Copy, Clone)]
struct JSValue {
    u: U,
    tag: i64,
}
enum JSContext {}
type JSAtom = u32;
const TAG_OBJECT: i64 = -1;
const TAG_EXCEPTION: i64 = 6;
const UNDEFINED: JSValue = JSValue {
    u: U { i: 0 },
    tag: 3,
};

unsafe extern "C" {
    fn JS_NewObject(ctx: *mut JSContext) -> JSValue;
    fn JS_DefinePropertyValue(
        ctx: *mut JSContext,
        obj: JSValue,
        atom: JSAtom,
        value: JSValue,
        flags: c_int,
    ) -> c_int;
    fn JS_NewAtomLen(ctx: *mut JSContext, s: *const c_char, len: usize) -> JSAtom;
    fn JS_NewStringLen(ctx: *mut JSContext, s: *const c_char, len: usize) -> JSValue;
    fn JS_Call(
        ctx: *mut JSContext,
        f: JSValue,
        this: JSValue,
        argc: c_int,
        argv: *const JSValue,
    ) -> JSValue;
    fn JS_GetProperty(ctx: *mut JSContext, obj: JSValue, atom: JSAtom) -> JSValue;
    fn JS_FreeValue(ctx: *mut JSContext, v: JSValue);
    fn JS_DupValue(ctx: *mut JSContext, v: JSValue) -> JSValue;
    fn JS_ToCStringLen2(
        ctx: *mut JSContext,
        plen: *mut usize,
        v: JSValue,
        cesu8: bool,
    ) -> *const c_char;
    fn JS_FreeCString(ctx: *mut JSContext, p: *const c_char);
}

fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

const EVENT: &str = r#"{"version":"1.0","context":{"distributionDomainName":"d111111abcdef8.cloudfront.net","distributionId":"EDFDVBD6EXAMPLE","eventType":"viewer-request","requestId":"4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},"viewer":{"ip":"203.0.113.178"},"request":{"method":"GET","uri":"/index.html","querystring":{"a":{"value":"1"}},"headers":{"host":{"value":"d111111abcdef8.cloudfront.net"},"user-agent":{"value":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},"accept":{"value":"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},"accept-language":{"value":"en-GB,en;q=0.9"},"accept-encoding":{"value":"gzip, deflate, br"}},"cookies":{"session":{"value":"abc123"},"experiment":{"value":"b"}}}}"#;

fn main() {
    let mut rt = JsRuntime::new(RuntimeOptions::default());
    let n = 200_000u32;
    // (a) Today's shape, measured inside JavaScript (no Rust on the loop at all).
    let script = format!(
        r#"(() => {{
          function handler(event) {{ return event.request; }}
          const text = {EVENT:?};
          const t0 = Date.now();
          let out;
          for (let i = 0; i < {n}; i++) out = JSON.stringify(handler(JSON.parse(text)));
          const parseCall = (Date.now() - t0) * 1000 / {n};
          const t1 = Date.now();
          for (let i = 0; i < {n}; i++) out = handler(JSON.parse(text));
          const parseOnly = (Date.now() - t1) * 1000 / {n};
          return [parseCall, parseOnly];
        }})()"#
    );
    let c0 = thread_cpu();
    let r = rt.execute_script("a", script).unwrap();
    let cpu = (thread_cpu() - c0).as_secs_f64() * 1e6 / n as f64 / 2.0;
    {
        deno_core::scope!(scope, rt);
        let v = v8::Local::new(scope, r);
        println!(
            "(a) in JavaScript: [parse+handler+stringify µs, parse+handler µs] = {} (CPU ≈ {cpu:.2} µs avg)",
            v.to_rust_string_lossy(scope)
        );
    }

    let handler = rt
        .execute_script("h", "(function handler(event) { return event.request; })")
        .unwrap();
    let adder = rt
        .execute_script(
            "h2",
            "(function handler(event) { var r = event.request; r.headers['x-experiment'] = {value: 'b'}; return r; })",
        )
        .unwrap();
    deno_core::scope!(scope, rt);
    let ctx_local = scope.get_current_context();
    // SAFETY (experiment): under v8x's QuickJS backend a Local<Context> points at a JSValue
    // whose payload is the JSContext, and a Local<Value> at the value's JSValue.
    let ctx = unsafe {
        let v = *(&*ctx_local as *const v8::Context as *const JSValue);
        assert_eq!(v.tag, 0x7632, "not the QuickJS backend");
        v.u.p as *mut JSContext
    };
    let value_of = |g: &v8::Global<v8::Value>, scope: &mut v8::PinScope| unsafe {
        let l = v8::Local::new(scope, g);
        JS_DupValue(ctx, *(&*l as *const v8::Value as *const JSValue))
    };
    let handler = value_of(&handler, scope);
    let adder = value_of(&adder, scope);
    unsafe {
        let atom = |s: &str| JS_NewAtomLen(ctx, s.as_ptr().cast(), s.len());
        let string = |s: &str| JS_NewStringLen(ctx, s.as_ptr().cast(), s.len());
        // (Not JS_NewObjectFrom: it writes into the shared empty shape, corrupting the heap.)
        let obj = |keys: &[JSAtom], values: &[JSValue]| {
            let o = JS_NewObject(ctx);
            for (k, v) in keys.iter().zip(values) {
                JS_DefinePropertyValue(ctx, o, *k, *v, 0b111);
            }
            o
        };
        let [version, context, viewer, request, ddn, did, et, rid, ip, method, uri, qs, headers, cookies, value] =
            [
                "version",
                "context",
                "viewer",
                "request",
                "distributionDomainName",
                "distributionId",
                "eventType",
                "requestId",
                "ip",
                "method",
                "uri",
                "querystring",
                "headers",
                "cookies",
                "value",
            ]
            .map(atom);
        let hdrs: Vec<(JSAtom, &str)> = [
            ("host", "d111111abcdef8.cloudfront.net"),
            ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"),
            ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("accept-language", "en-GB,en;q=0.9"),
            ("accept-encoding", "gzip, deflate, br"),
        ]
        .iter()
        .map(|(k, v)| (atom(k), *v))
        .collect();
        let (a, session, experiment) = (atom("a"), atom("session"), atom("experiment"));
        let build = |eager: bool| {
            let wrap = |s: &str| obj(&[value], &[string(s)]);
            let (q, h, c) = if eager {
                let hk: Vec<JSAtom> = hdrs.iter().map(|h| h.0).collect();
                let hv: Vec<JSValue> = hdrs.iter().map(|h| wrap(h.1)).collect();
                (
                    obj(&[a], &[wrap("1")]),
                    obj(&hk, &hv),
                    obj(&[session, experiment], &[wrap("abc123"), wrap("b")]),
                )
            } else {
                // What a lazy event costs up front: the three parts as placeholders.
                (UNDEFINED, UNDEFINED, UNDEFINED)
            };
            let req = obj(
                &[method, uri, qs, headers, cookies],
                &[string("GET"), string("/index.html"), q, h, c],
            );
            let cx = obj(
                &[ddn, did, et, rid],
                &[
                    string("d111111abcdef8.cloudfront.net"),
                    string("EDFDVBD6EXAMPLE"),
                    string("viewer-request"),
                    string("4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="),
                ],
            );
            let vw = obj(&[ip], &[string("203.0.113.178")]);
            obj(
                &[version, context, viewer, request],
                &[string("1.0"), cx, vw, req],
            )
        };
        for (label, f, eager) in [
            ("returns the request, eager event", handler, true),
            ("returns the request, lazy parts", handler, false),
            ("adds a header, eager event", adder, true),
        ] {
            let mut bytes = 0usize;
            let c0 = thread_cpu();
            for _ in 0..n {
                let ev = build(eager);
                let r = JS_Call(ctx, f, UNDEFINED, 1, &ev);
                assert!(r.tag == TAG_OBJECT, "{}", r.tag == TAG_EXCEPTION);
                // Read back what the node needs: the uri, and the headers object.
                let u = JS_GetProperty(ctx, r, uri);
                let mut len = 0usize;
                let p = JS_ToCStringLen2(ctx, &mut len, u, false);
                bytes += len;
                JS_FreeCString(ctx, p);
                JS_FreeValue(ctx, u);
                JS_FreeValue(ctx, r);
                JS_FreeValue(ctx, ev);
            }
            let per = (thread_cpu() - c0).as_secs_f64() * 1e6 / n as f64;
            println!("(b) C API, {label}: {per:.2} µs CPU per call ({bytes} bytes read)");
        }
        JS_FreeValue(ctx, handler);
        JS_FreeValue(ctx, adder);
    }
}
