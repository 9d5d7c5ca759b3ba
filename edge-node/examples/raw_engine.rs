//! How much of a hook's cost is the engine and how much the layers above it: one trivial
//! CloudFront Functions viewer-request handler called (a) the way the runtime called it before
//! (event as JSON text, `JSON.parse`, handler, `JSON.stringify`), all inside JavaScript, and
//! (b) with the event built straight from the request through QuickJS-ng's own C API
//! (`edge_node::js::qjs`, what the node does now: the query string, headers and cookies as
//! JSON text parts made on first read), the handler called, the result read back.
//!
//!     cargo run --release -p edge-node --example raw_engine
//!
//! Measures CPU time of this thread per call.

use bytes::Bytes;
use deno_core::{v8, JsRuntime, RuntimeOptions};
use edge_node::cloudfront::event;
use edge_node::js::qjs;
use edge_node::lambda::event::{EventConfig, FnRequest};
use edge_node::lambda::Stage;
use http::{HeaderMap, HeaderValue, Method};
use std::time::Duration;

fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

const CONFIG: EventConfig<'static> = EventConfig {
    distribution_domain: "d111111abcdef8.cloudfront.net",
    distribution_id: "EDFDVBD6EXAMPLE",
    request_id: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
    viewer_headers: edge_node::viewer::headers::Added::NONE,
};

fn request() -> FnRequest {
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("host", "d111111abcdef8.cloudfront.net"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", "en-GB,en;q=0.9"),
        ("accept-encoding", "gzip, deflate, br"),
        ("cookie", "session=abc123; experiment=b"),
    ] {
        headers.insert(k, HeaderValue::from_static(v));
    }
    FnRequest {
        client_ip: "203.0.113.178".into(),
        method: Method::GET,
        uri: "/index.html".into(),
        querystring: "a=1".into(),
        headers,
        body: Bytes::new(),
        origin: None,
    }
}

fn main() {
    let mut rt = JsRuntime::new(RuntimeOptions::default());
    let n = 200_000u32;
    let req = request();
    let mut text = String::new();
    event::write(&mut text, Stage::ViewerRequest, CONFIG, &req, None);
    // (a) The JSON shape, measured inside JavaScript (no Rust on the loop at all).
    let script = format!(
        r#"(() => {{
          function handler(event) {{ return event.request; }}
          const text = {text:?};
          const t0 = Date.now();
          let out;
          for (let i = 0; i < {n}; i++) out = JSON.stringify(handler(JSON.parse(text)));
          const parseCall = (Date.now() - t0) * 1000 / {n};
          const t1 = Date.now();
          for (let i = 0; i < {n}; i++) out = handler(JSON.parse(text));
          const parseOnly = (Date.now() - t1) * 1000 / {n};
          return `${{parseCall}} µs with JSON.stringify, ${{parseOnly}} µs without`;
        }})()"#
    );
    let r = rt.execute_script("a", script).unwrap();
    {
        deno_core::scope!(scope, rt);
        let v = v8::Local::new(scope, r);
        println!(
            "(a) JSON.parse + handler, in JavaScript: {}",
            v.to_rust_string_lossy(scope)
        );
    }
    let handlers = [
        ("returns the request", "(function handler(event) { return event.request; })"),
        ("changes the uri", "(function handler(event) { var r = event.request; r.uri = '/b/index.html'; return r; })"),
    ]
    .map(|(label, src)| (label, rt.execute_script("h", src).unwrap()));
    deno_core::scope!(scope, rt);
    let ctx = qjs::context(scope).expect("the QuickJS-ng engine");
    let mut builder = qjs::Builder::new(ctx);
    let reader = qjs::Reader::new(ctx);
    let mut parts = String::new();
    for (label, handler) in &handlers {
        let f = ctx.value_of(v8::Local::new(scope, handler));
        for read in [false, true] {
            let c0 = thread_cpu();
            for _ in 0..n {
                // At viewer-request the query string, headers and cookies stay JSON text in
                // `parts` (the runtime makes them when first read; not here).
                parts.clear();
                let ev = event::build(
                    &mut builder,
                    &mut parts,
                    Stage::ViewerRequest,
                    CONFIG,
                    &req,
                    None,
                )
                .unwrap();
                let r = ctx.call(f, &[ev]).expect("the handler returns");
                if read {
                    std::hint::black_box(reader.read(r).expect("plain data"));
                }
                ctx.free(r);
                ctx.free(ev);
            }
            let per = (thread_cpu() - c0).as_secs_f64() * 1e6 / n as f64;
            let what = if read {
                "event built, called, result read back"
            } else {
                "event built and called"
            };
            println!("(b) {label}: {what}: {per:.2} µs CPU per call");
        }
        ctx.free(f);
    }
}
