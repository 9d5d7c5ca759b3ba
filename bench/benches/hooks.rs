//! Cost of functions on this stack: isolate creation, and one warm viewer-request hook as the
//! driver runs it (event built from a real request, invoked, result validated).
//!
//!     cargo bench -p edge-bench --bench hooks
//!
//! Prints wall time and CPU time (getrusage of this thread) per operation.

use bytes::Bytes;
use edge_node::cloudfront::{event as cff_event, validate as cff_validate, Runtime};
use edge_node::js::{FunctionCode, FunctionLimits, Isolate, Runner, Watchdog};
use edge_node::lambda::event::{write, write_lazy, EventConfig, FnRequest, FnResponse};
use edge_node::lambda::validate::request_result;
use edge_node::lambda::Stage;
use http::{HeaderMap, HeaderValue, Method};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// CPU time of this thread so far (Linux: the first field of /proc/thread-self/schedstat, in ns).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

const HANDLER: &str = r#"
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  request.headers['x-experiment'] = [{ key: 'X-Experiment', value: 'b' }];
  return request;
};"#;

fn request() -> FnRequest {
    let mut h = HeaderMap::new();
    for (k, v) in [
        ("host", "d111111abcdef8.cloudfront.net"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", "en-GB,en;q=0.9"),
        ("accept-encoding", "gzip, deflate, br"),
        ("cookie", "session=abc123; experiment=b"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    FnRequest {
        client_ip: "203.0.113.178".into(),
        method: Method::GET,
        uri: "/index.html".into(),
        querystring: "a=1".into(),
        headers: h,
        body: Bytes::new(),
        origin: None,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, async {
        let code = Arc::new(FunctionCode::new("bench", 1, "bench.js", HANDLER));

        let limits = FunctionLimits {
            viewer_timeout: Duration::from_secs(5),
            origin_timeout: Duration::from_secs(30),
            init_timeout: Duration::from_secs(10),
            heap_bytes: 128 << 20,
            concurrency: 1000,
            isolates_per_worker: 1,
        slice: Duration::ZERO,
        cloudfront_budget: Duration::from_millis(1),
        };
        let dog = Watchdog::start();
        let n = if std::env::var_os("EDGE_BENCH_SKIP_CREATE").is_some() { 1 } else { 20 };
        // The first isolate of a process also makes the startup snapshot the others start from.
        drop(Isolate::load(code.clone(), &limits, &dog, "{}", &"BENCH1-C1".into()).await.unwrap());
        let (w0, c0) = (Instant::now(), thread_cpu());
        let rss0 = edge_node::js::resident_kib();
        let mut kept = Vec::new();
        for _ in 0..n {
            kept.push(Isolate::load(code.clone(), &limits, &dog, "{}", &"BENCH1-C1".into()).await.unwrap());
        }
        let (wall, cpu) = (w0.elapsed() / n, (thread_cpu() - c0) / n);
        let rss = (edge_node::js::resident_kib().saturating_sub(rss0)) / u64::from(n);
        drop(kept);
        println!("isolate create+load: {:>8.2} ms wall, {:>8.2} ms CPU, {rss:>6} kB RSS each ({n} kept)", wall.as_secs_f64() * 1e3, cpu.as_secs_f64() * 1e3);

        let runner = Runner::new(limits, Watchdog::start(), Arc::new(AtomicUsize::new(0)), "BENCH1-C1");
        runner.load(&code).await.unwrap();
        let req = request();
        let cfg = EventConfig { distribution_domain: "d111111abcdef8.cloudfront.net", distribution_id: "EDFDVBD6EXAMPLE", request_id: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==", viewer_headers: edge_node::viewer::headers::Added::NONE };
        let one = || async {
            let mut event = String::with_capacity(2048);
            write(&mut event, Stage::ViewerRequest, cfg, &req, None, false);
            let out = runner.invoke(&code, Stage::ViewerRequest, &event, "", cfg.request_id, None).await.unwrap().value;
            request_result(Stage::ViewerRequest, &req, false, &out, false).unwrap();
        };
        for _ in 0..2_000 {
            one().await;
        }
        let n = 20_000u32;
        let (w0, c0) = (Instant::now(), thread_cpu());
        for _ in 0..n {
            one().await;
        }
        let (wall, cpu) = (w0.elapsed() / n, (thread_cpu() - c0) / n);
        println!("warm viewer-request hook (event + invoke + validate): {:>6.2} us wall, {:>6.2} us CPU  ({n} runs)", wall.as_secs_f64() * 1e6, cpu.as_secs_f64() * 1e6);

        // The same hook as the driver now runs it: lazy event parts, and a pass-through one.
        let lazy_one = |code: Arc<FunctionCode>| {
            let req = &req;
            let runner = &runner;
            async move {
                let (mut text, mut parts) = (String::with_capacity(512), String::with_capacity(1536));
                write_lazy(&mut text, &mut parts, Stage::ViewerRequest, cfg, req, None, false);
                let out = runner.invoke(&code, Stage::ViewerRequest, &text, &parts, cfg.request_id, None).await.unwrap();
                request_result(Stage::ViewerRequest, req, false, &out.value, out.untouched_headers).unwrap();
            }
        };
        let pass = Arc::new(FunctionCode::new("pass", 1, "p.js", "exports.handler = async (e) => e.Records[0].cf.request;"));
        runner.load(&pass).await.unwrap();
        for (label, f) in [("adds a header", code.clone()), ("passes the request on", pass.clone())] {
            for _ in 0..2_000 {
                lazy_one(f.clone()).await;
            }
            let c0 = thread_cpu();
            for _ in 0..n {
                lazy_one(f.clone()).await;
            }
            println!("warm viewer-request hook that {label}, lazy event (as the driver runs it): {:>6.2} us CPU", ((thread_cpu() - c0) / n).as_secs_f64() * 1e6);
        }

        let mut event = String::new();
        write(&mut event, Stage::ViewerRequest, cfg, &req, None, false);
        let c0 = thread_cpu();
        let mut out = serde_json::Value::Null;
        for _ in 0..n {
            out = runner.invoke(&code, Stage::ViewerRequest, &event, "", cfg.request_id, None).await.unwrap().value;
        }
        println!("  of which invoking (JSON text in, parsed result out): {:>6.2} us CPU", ((thread_cpu() - c0) / n).as_secs_f64() * 1e6);
        let c0 = thread_cpu();
        for _ in 0..n {
            std::hint::black_box(request_result(Stage::ViewerRequest, &req, false, &out, false).unwrap());
        }
        println!("  of which validating the result: {:>6.2} us CPU", ((thread_cpu() - c0) / n).as_secs_f64() * 1e6);
        let trivial = Arc::new(FunctionCode::new("trivial", 1, "t.js", "exports.handler = async () => 1;"));
        runner.load(&trivial).await.unwrap();
        let c0 = thread_cpu();
        for _ in 0..n {
            std::hint::black_box(runner.invoke(&trivial, Stage::ViewerRequest, "{}", "", cfg.request_id, None).await.unwrap().value);
        }
        println!("  an empty handler on an empty event: {:>6.2} us CPU", ((thread_cpu() - c0) / n).as_secs_f64() * 1e6);
        let c0 = thread_cpu();
        for _ in 0..n {
            std::hint::black_box(runner.invoke(&trivial, Stage::ViewerRequest, &event, "", cfg.request_id, None).await.unwrap().value);
        }
        println!("  an empty handler on the real event (parse only): {:>6.2} us CPU", ((thread_cpu() - c0) / n).as_secs_f64() * 1e6);
        let c0 = thread_cpu();
        let mut text = String::new();
        for _ in 0..n {
            write(&mut text, Stage::ViewerRequest, cfg, &req, None, false);
            std::hint::black_box(&text);
        }
        println!("  of which writing the event JSON: {:>6.2} us CPU", ((thread_cpu() - c0) / n).as_secs_f64() * 1e6);

        // CloudFront Functions, as `cff-hit` runs them: a viewer-request function that returns
        // the request, a viewer-response one that adds a header; the event whole (plain) or
        // with its query string, headers and cookies lazy (as the driver runs it).
        let resp = FnResponse {
            status: http::StatusCode::OK,
            status_description: "OK".into(),
            headers: {
                let mut h = HeaderMap::new();
                for (k, v) in [
                    ("content-type", "text/html"),
                    ("content-length", "1024"),
                    ("cache-control", "max-age=60"),
                    ("server", "MockOrigin"),
                    ("date", "Thu, 03 Dec 2026 09:00:00 GMT"),
                    ("etag", "\"abc\""),
                ] {
                    h.insert(k, HeaderValue::from_static(v));
                }
                h
            },
            body: None,
        };
        let cff = |name: &str, src: &str| {
            Arc::new(FunctionCode::cloudfront(name, 1, "cff.js", Bytes::from(src.to_string()), Runtime::Js2).unwrap())
        };
        let vreq = cff("cff-vreq", "function handler(event) { return event.request; }");
        let vres = cff("cff-vres", "function handler(event) { var r = event.response; r.headers['x-hook'] = { value: 'cff' }; return r; }");
        runner.load(&vreq).await.unwrap();
        runner.load(&vres).await.unwrap();
        for (label, code, stage) in [
            ("viewer-request, returns the request", &vreq, Stage::ViewerRequest),
            ("viewer-response, adds a header", &vres, Stage::ViewerResponse),
        ] {
            // Twice each, alternating: the later runs on an isolate are not favoured.
            // `EDGE_BENCH_WAYS=built` (comma-separated) runs only those ways.
            let ways = std::env::var("EDGE_BENCH_WAYS").unwrap_or_default();
            for way in ["plain", "lazy", "built", "plain", "lazy", "built"] {
                if !ways.is_empty() && !ways.split(',').any(|w| w == way) {
                    continue;
                }
                let input = (stage == Stage::ViewerResponse).then_some(&resp);
                let once = || async {
                    let (mut text, mut parts) = (String::with_capacity(512), String::with_capacity(1536));
                    let out = if way == "built" {
                        // As the driver calls it on QuickJS-ng: the event made as engine objects.
                        let build = |b: &mut edge_node::js::qjs::Builder, parts: &mut String| cff_event::build(b, parts, stage, cfg, &req, input);
                        let json = || {
                            let mut t = String::new();
                            cff_event::write(&mut t, stage, cfg, &req, input);
                            t
                        };
                        let call = edge_node::js::Input::Built { build: &build, json: &json };
                        runner.invoke_input(code, stage, call, cfg.request_id, None).await.unwrap()
                    } else {
                        if way == "lazy" {
                            cff_event::write_lazy(&mut text, &mut parts, stage, cfg, &req, input);
                        } else {
                            cff_event::write(&mut text, stage, cfg, &req, input);
                        }
                        runner.invoke(code, stage, &text, &parts, cfg.request_id, None).await.unwrap()
                    };
                    match input {
                        None => drop(std::hint::black_box(cff_validate::request_result(&req, &out.value).unwrap())),
                        Some(i) => drop(std::hint::black_box(cff_validate::response_result(i, &out.value).unwrap())),
                    }
                };
                for _ in 0..2_000 {
                    once().await;
                }
                let c0 = thread_cpu();
                for _ in 0..n {
                    once().await;
                }
                println!(
                    "CloudFront function at {label}, {way} event: {:>6.2} us CPU",
                    ((thread_cpu() - c0) / n).as_secs_f64() * 1e6
                );
            }
        }
    });
}
