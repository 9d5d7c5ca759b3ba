//! Functions through a real edge node: the event per stage against AWS's samples, which stages
//! fire on hits and misses, every error mapping, limits, isolation and configuration refusals.

use crate::harness::*;
use serde_json::Value;

/// A function file with `source`, kept alive by the returned path.
fn js(source: &str) -> (String, tempfile::TempPath) {
    let p = write_temp(source);
    (p.to_str().unwrap().to_string(), p)
}

fn aws(name: &str) -> Value {
    let path = format!(
        "{}/../../shared/lambda-edge/events/aws-docs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// Same keys in the same order at every level (header names are data and not compared).
fn same_shape(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if at.ends_with(".headers") || at.ends_with(".customHeaders") {
                return;
            }
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "keys at {at}"
            );
            for k in x.keys() {
                same_shape(&x[k], &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if let (Some(p), Some(q)) = (x.first(), y.first()) {
                same_shape(p, q, &format!("{at}[0]"));
            }
        }
        (x, y) => assert_eq!(
            std::mem::discriminant(x),
            std::mem::discriminant(y),
            "type at {at}: {x} vs {y}"
        ),
    }
}

#[tokio::test]
async fn events_match_the_aws_samples_at_every_stage() {
    let origin = origin();
    // Each function hands its event back: request stages as a generated body, response stages
    // in a header (base64 JSON).
    let (vreq, _a) = js("exports.handler = async (e) => { const r = e.Records[0].cf.request; if (r.uri === '/vreq') return { status: '200', body: JSON.stringify(e) }; return r; };");
    let (oreq, _b) = js("exports.handler = async (e) => { const r = e.Records[0].cf.request; if (r.uri === '/oreq') return { status: '200', body: JSON.stringify(e) }; return r; };");
    let (ores, _c) = js("exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-event'] = [{ value: Buffer.from(JSON.stringify(e)).toString('base64') }]; return r; };");
    let (vres, _d) = js("exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-vres-event'] = [{ value: Buffer.from(JSON.stringify(e)).toString('base64') }]; return r; };");
    let edge = edge_with_functions(
        &origin,
        &[
            ("viewer-request", &vreq),
            ("origin-request", &oreq),
            ("origin-response", &ores),
            ("viewer-response", &vres),
        ],
        &[],
    );
    let decode = |s: &str| -> Value {
        use base64::Engine;
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(s).unwrap())
            .unwrap()
    };
    let v: Value = serde_json::from_slice(&get(&format!("{}/vreq", edge.base)).await.body).unwrap();
    same_shape(&v, &aws("viewer-request.json"), "");
    let o: Value = serde_json::from_slice(&get(&format!("{}/oreq", edge.base)).await.body).unwrap();
    same_shape(&o, &aws("origin-request.json"), "");
    let r = get(&format!("{}/full?cache_control=max-age%3D60", edge.base)).await;
    let ores_event = decode(r.header("x-event"));
    same_shape(&ores_event, &aws("origin-response.json"), "");
    let vres_event = decode(r.header("x-vres-event"));
    same_shape(&vres_event, &aws("viewer-response.json"), "");
    // One request id across the stages, equal to X-Amz-Cf-Id.
    assert_eq!(
        ores_event["Records"][0]["cf"]["config"]["requestId"],
        r.header("x-amz-cf-id")
    );
    assert_eq!(
        vres_event["Records"][0]["cf"]["config"]["requestId"],
        r.header("x-amz-cf-id")
    );
    assert_eq!(
        vres_event["Records"][0]["cf"]["config"]["eventType"],
        "viewer-response"
    );
    assert_eq!(
        ores_event["Records"][0]["cf"]["request"]["headers"]["user-agent"][0]["value"],
        "Amazon CloudFront"
    );
    assert_eq!(vres_event["Records"][0]["cf"]["response"]["status"], "200");
    assert_eq!(
        o["Records"][0]["cf"]["request"]["origin"]["custom"]["domainName"],
        "127.0.0.1"
    );
}

#[tokio::test]
async fn origin_stages_run_on_misses_viewer_stages_on_every_request() {
    let origin = origin();
    let (ores, _a) = js("let n = 0; exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-ores-run'] = [{ value: String(++n) }]; return r; };");
    let (vres, _b) = js("let n = 0; exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-vres-run'] = [{ value: String(++n) }]; return r; };");
    let edge = edge_with_functions(
        &origin,
        &[("origin-response", &ores), ("viewer-response", &vres)],
        &["--workers", "1"],
    );
    let url = format!("{}/x?cache_control=max-age%3D60", edge.base);
    let miss = get(&url).await;
    let hit = get(&url).await;
    assert_eq!(hit.x_cache(), x_cache::HIT);
    assert_eq!(miss.header("x-ores-run"), "1");
    assert_eq!(
        hit.header("x-ores-run"),
        "1",
        "origin-response ran once; its result was cached"
    );
    assert_eq!(miss.header("x-vres-run"), "1");
    assert_eq!(
        hit.header("x-vres-run"),
        "2",
        "viewer-response runs on hits too"
    );
    // Origin errors skip viewer-response.
    let error = get(&format!("{}/e?status=500", edge.base)).await;
    assert_eq!(error.status, 500);
    assert_eq!(error.header("x-vres-run"), "");
}

#[tokio::test]
async fn generated_at_origin_request_is_cached_and_skips_origin_response() {
    let origin = origin();
    let (oreq, _a) = js("let n = 0; exports.handler = async () => ({ status: 200, headers: { 'cache-control': [{ value: 'max-age=60' }], 'x-n': [{ value: String(++n) }] }, body: 'made at origin-request' });");
    let (ores, _b) =
        js("exports.handler = async (e) => { throw new Error('origin-response must not run'); };");
    let edge = edge_with_functions(
        &origin,
        &[("origin-request", &oreq), ("origin-response", &ores)],
        &[],
    );
    let first = get(&format!("{}/gen", edge.base)).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.x_cache(), x_cache::GENERATED);
    assert_eq!(first.text(), "made at origin-request");
    let second = get(&format!("{}/gen", edge.base)).await;
    assert_eq!(second.x_cache(), x_cache::HIT);
    assert_eq!(second.header("x-n"), first.header("x-n"));
    assert_eq!(origin.total().await, 0);
}

fn assert_lambda_error(r: &Resp, status: u16, x_cache: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.x_cache(), x_cache);
    assert!(
        r.text().contains(&format!("<H1>{status} ERROR</H1>")),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn every_failure_maps_like_cloudfront_while_traffic_keeps_flowing() {
    let origin = origin();
    let (vreq, _a) = js(r#"
exports.handler = async (e) => {
  const r = e.Records[0].cf.request;
  switch (r.uri) {
    case '/throw': throw new Error('boom');
    case '/reject': return Promise.reject(new Error('nope'));
    case '/null': return null;
    case '/string': return 'hello';
    case '/readonly': r.headers.host = [{ value: 'evil.example' }]; return r;
    case '/disallowed': r.headers['x-cache'] = [{ value: 'Hit' }]; return r;
    case '/badstatus': return { status: '700' };
    case '/crlf': r.headers['x-a'] = [{ value: 'a\r\nb' }]; return r;
    case '/big': return { status: '200', body: 'x'.repeat(41 * 1024) };
    case '/spin': for (;;) {}
    case '/hang': return new Promise(() => {});
    default: return r;
  }
};"#);
    // Every call inline (no slice): this test is about how failures map, and a call of a
    // function that moved to the function threads (at low priority) can starve past its 1 s deadline
    // on a machine busy with other tests (seen in loops: healthy calls of the same function
    // timing out behind a starved isolate load). Moving is tested in runaway.rs.
    let cfg = NodeToml::for_origin(&origin)
        .node("viewer_function_timeout", 1.0)
        .node("function_slice_ms", 0)
        .function("viewer-request", &vreq)
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let url = |p: &str| format!("{}{p}", edge.base);
    assert_lambda_error(&get(&url("/throw")).await, 503, x_cache::EXECUTION_ERROR);
    assert_lambda_error(&get(&url("/reject")).await, 503, x_cache::EXECUTION_ERROR);
    assert_lambda_error(&get(&url("/hang")).await, 503, x_cache::EXECUTION_ERROR);
    for p in [
        "/null",
        "/string",
        "/readonly",
        "/disallowed",
        "/badstatus",
        "/crlf",
        "/big",
    ] {
        assert_lambda_error(&get(&url(p)).await, 502, x_cache::VALIDATION_ERROR);
    }
    assert!(get(&url("/null"))
        .await
        .text()
        .contains("The JSON output is not parsable."));
    assert!(get(&url("/string"))
        .await
        .text()
        .contains("must be an object type"));
    assert!(get(&url("/readonly"))
        .await
        .text()
        .contains("read-only header"));
    // A runaway is stopped at the timeout while other requests are answered.
    let spin = tokio::spawn({
        let u = url("/spin");
        async move { get(&u).await }
    });
    let others: Vec<_> = (0..10)
        .map(|i| {
            tokio::spawn({
                let u = url(&format!("/ok{i}"));
                async move {
                    let r = get(&u).await;
                    (r.status, format!("{}: {}", r.x_cache(), r.text()))
                }
            })
        })
        .collect();
    for o in others {
        let (status, what) = o.await.unwrap();
        assert_eq!(status, 200, "{what}\nthe edge's log:\n{}", edge.proc.logs());
    }
    assert_lambda_error(&spin.await.unwrap(), 503, x_cache::LIMIT_EXCEEDED);
    assert_eq!(
        get(&url("/after")).await.status,
        200,
        "the isolate was replaced"
    );
    let logs = edge.proc.wait_for_log("timed out after 1000 ms");
    assert!(
        logs.contains("headerName : Host"),
        "the log names the header: {logs}"
    );
    assert!(logs.contains("timed out after 1000 ms"), "{logs}");
    assert!(logs.contains("boom"), "{logs}");
}

#[tokio::test]
async fn execution_errors_can_be_500_for_older_behavior() {
    let origin = origin();
    let (vreq, _a) = js("exports.handler = async () => { throw new Error('x'); };");
    let cfg = NodeToml::for_origin(&origin)
        .node("execution_error_status", 500)
        .function("viewer-request", &vreq)
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    assert_lambda_error(
        &get(&format!("{}/x", edge.base)).await,
        500,
        x_cache::EXECUTION_ERROR,
    );
}

#[tokio::test]
async fn concurrency_limit_throttles() {
    let origin = origin();
    let (oreq, _a) = js("exports.handler = async (e) => { await new Promise((r) => setTimeout(r, 400)); return e.Records[0].cf.request; };");
    let cfg = NodeToml::for_origin(&origin)
        .node("function_concurrency", 1)
        .function("origin-request", &oreq)
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            tokio::spawn({
                let u = format!("{}/slow{i}", edge.base);
                async move { get(&u).await }
            })
        })
        .collect();
    let mut ok = 0;
    let mut throttled = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status.as_u16() {
            200 => ok += 1,
            503 => {
                assert_eq!(r.x_cache(), x_cache::LIMIT_EXCEEDED);
                throttled += 1;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(ok >= 1 && throttled >= 1, "ok {ok}, throttled {throttled}");
}

#[tokio::test]
async fn functions_do_not_share_globals() {
    let origin = origin();
    let (vreq, _a) = js("exports.handler = async (e) => { globalThis.secret = 'vreq'; return e.Records[0].cf.request; };");
    let (vres, _b) = js("exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-seen'] = [{ value: typeof globalThis.secret }]; return r; };");
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &vreq), ("viewer-response", &vres)],
        &[],
    );
    assert_eq!(
        get(&format!("{}/x", edge.base)).await.header("x-seen"),
        "undefined"
    );
}

#[tokio::test]
async fn esm_and_callback_functions_run_and_server_timing_reports_stages() {
    let origin = origin();
    let (vreq, _a) = js("export const handler = async (event) => { const r = event.Records[0].cf.request; r.headers['x-from'] = [{ value: 'esm' }]; return r; };");
    let (vres, _b) = js("exports.handler = (event, context, callback) => { const r = event.Records[0].cf.response; r.headers['x-fn'] = [{ value: context.functionName }]; callback(null, r); };");
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &vreq), ("viewer-response", &vres)],
        &["--server-timing"],
    );
    let r = get(&format!("{}/echo", edge.base)).await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["headers"]["x-from"], "esm");
    assert!(
        r.header("x-fn").starts_with("us-east-1."),
        "{}",
        r.header("x-fn")
    );
    let st = r.header("server-timing");
    for stage in [
        "viewer-request;dur=",
        "cache;dur=",
        "origin;dur=",
        "viewer-response;dur=",
    ] {
        assert!(st.contains(stage), "{st}");
    }
}

#[tokio::test]
async fn include_body_exposes_and_replaces_the_body() {
    let origin = origin();
    let (vreq, _a) = js("exports.handler = async (e) => { const r = e.Records[0].cf.request; const got = Buffer.from(r.body.data, 'base64').toString(); r.body.action = 'replace'; r.body.encoding = 'text'; r.body.data = got.toUpperCase(); return r; };");
    let edge = edge_with_functions(&origin, &[("viewer-request", &vreq)], &["--include-body"]);
    let r = request(
        http::Method::POST,
        &format!("{}/echo", edge.base),
        &[],
        bytes::Bytes::from_static(b"quiet words"),
    )
    .await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["body"], "QUIET WORDS");
}

#[test]
fn bad_associations_and_functions_are_refused_at_start() {
    let origin_port = closed_port();
    let run = |args: &[&str]| {
        let mut all = vec!["node", "--listen", "127.0.0.1:0"];
        let o = format!("http://127.0.0.1:{origin_port}");
        all.extend_from_slice(&["--origin", &o]);
        all.extend_from_slice(args);
        Proc::try_spawn(&all).err().expect("refused")
    };
    let (syntax, _a) = js("exports.handler = async (e) => {");
    let e = run(&["--function", &format!("viewer-request={syntax}")]);
    assert!(e.contains("SyntaxError") || e.contains("syntax"), "{e}");
    let (missing, _b) = js("const x = require('aws-sdk'); exports.handler = async () => 1;");
    let e = run(&["--function", &format!("origin-request={missing}")]);
    assert!(e.contains("aws-sdk"), "{e}");
    let e = run(&["--function", "nowhere=x.js"]);
    assert!(e.contains("is not one of viewer-request"), "{e}");
    let e = run(&["--function", "viewer-request=/no/such/file.js"]);
    assert!(e.contains("cannot read function file"), "{e}");
    let (ok, _c) = js("exports.handler = async (e) => e.Records[0].cf.response;");
    let cfg = format!(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "o"
DomainName = "127.0.0.1"
[distributions.DefaultCacheBehavior]
[[distributions.DefaultCacheBehavior.LambdaFunctionAssociations]]
EventType = "viewer-response"
File = {ok:?}
IncludeBody = true
"#
    );
    let path = write_temp(&cfg);
    let e = config_refused(&path);
    assert!(
        e.contains(
            "The IncludeBody option can only be used with viewer-request or origin-request events."
        ),
        "{e}"
    );
}

#[tokio::test]
async fn origin_request_functions_can_fetch() {
    let origin = origin();
    let (oreq, _a) = js(r#"
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const target = request.headers['x-target'][0].value;
  const res = await fetch(target + '/echo/fetched?from=function', { headers: { 'x-by': 'fetch' } });
  const body = await res.json();
  request.headers['x-fetched'] = [{ value: `${res.status} ${body.path} ${body.headers['x-by']}` }];
  return request;
};"#);
    let edge = edge_with_functions(&origin, &[("origin-request", &oreq)], &[]);
    let r = get_with(
        &format!("{}/echo/main", edge.base),
        &[("x-target", &origin.base)],
    )
    .await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(echo["headers"]["x-fetched"], "200 /echo/fetched fetch");
}

#[tokio::test]
async fn console_output_becomes_structured_logs() {
    let origin = origin();
    let (vreq, _a) = js("exports.handler = async (e) => { console.log('hello from %s', e.Records[0].cf.config.eventType); console.error('careful'); return e.Records[0].cf.request; };");
    let edge = edge_with_functions(
        &origin,
        &[("viewer-request", &vreq)],
        &["--pop", "LHR61-C1"],
    );
    let r = get(&format!("{}/x", edge.base)).await;
    let id = r.header("x-amz-cf-id").to_string();
    // Logs are written by the node's log thread; wait for the last line to arrive.
    let logs = edge.proc.wait_for_log("careful");
    let line = logs
        .lines()
        .find(|l| l.contains("hello from viewer-request"))
        .unwrap_or_else(|| panic!("{logs}"));
    for field in [
        "stage=\"viewer-request\"",
        "pop=LHR61-C1",
        "version=1",
        &format!("request_id={id}"),
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(
        logs.lines()
            .any(|l| l.contains("ERROR") && l.contains("careful")),
        "{logs}"
    );
}

#[tokio::test]
async fn reload_swaps_function_versions_atomically() {
    let origin = origin();
    let dir = tempfile::tempdir().unwrap();
    let function = dir.path().join("stamp.js");
    let version = |v: &str| {
        format!("exports.handler = async (e) => {{ const r = e.Records[0].cf.response; r.headers['x-version'] = [{{ value: '{v}' }}]; return r; }};")
    };
    std::fs::write(&function, version("1")).unwrap();
    let cfg = NodeToml::for_origin(&origin)
        .function("viewer-response", "stamp.js")
        .text();
    let cfg_path = dir.path().join("edge.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let edge = edge_with_config_file(&cfg_path, &[]);
    let base = &edge.base;
    let reload = || edge.admin_call(http::Method::POST, "/__edge/reload", "");
    assert_eq!(get(&format!("{base}/a")).await.header("x-version"), "1");

    std::fs::write(&function, version("2")).unwrap();
    let r = reload().await;
    assert_eq!(r.status, 200, "{}", r.text());
    let listed: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(listed["functions"][0]["name"], "stamp");
    assert_eq!(listed["functions"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(get(&format!("{base}/a")).await.header("x-version"), "2");

    // A broken version is refused and the running one stays.
    std::fs::write(&function, "exports.handler = async (e) => {").unwrap();
    let refused = reload().await;
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("stamp"), "{}", refused.text());
    assert_eq!(get(&format!("{base}/a")).await.header("x-version"), "2");

    // Traffic during a swap is answered by one version or the other, never an error.
    std::fs::write(&function, version("3")).unwrap();
    let traffic: Vec<_> = (0..20)
        .map(|i| {
            tokio::spawn({
                let u = format!("{base}/t{i}");
                async move { get(&u).await }
            })
        })
        .collect();
    assert_eq!(reload().await.status, 200);
    for t in traffic {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200);
        assert!(
            ["2", "3"].contains(&r.header("x-version")),
            "{}",
            r.header("x-version")
        );
    }
    assert_eq!(get(&format!("{base}/a")).await.header("x-version"), "3");
}

#[tokio::test]
async fn origin_request_functions_can_use_node_s_http_client() {
    let origin = origin();
    let (oreq, _a) = js(r#"
const http = require('http');
const get = (url) => new Promise((resolve, reject) => {
  const req = http.request(url, { method: 'POST', headers: { 'X-By': 'http.request', 'Content-Type': 'text/plain' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { body += c; });
    res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: JSON.parse(body) }));
  });
  req.on('error', reject);
  req.write('posted ');
  req.end('body');
});
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const r = await get(request.headers['x-target'][0].value + '/echo/node-http?q=1');
  request.headers['x-fetched'] = [{ value: `${r.status} ${r.type} ${r.body.method} ${r.body.path} ${r.body.headers['x-by']} ${r.body.body}` }];
  return request;
};"#);
    let (vreq, _b) = js(r#"
const https = require('https');
exports.handler = (event, context, callback) => {
  https.get('https://example.invalid/', () => callback(null, { status: '200', body: 'no' })).on('error', (e) => {
    callback(null, { status: '200', headers: { 'x-error': [{ value: e.message }] }, body: 'refused' });
  });
};"#);
    let edge = edge_with_functions(&origin, &[("origin-request", &oreq)], &[]);
    let r = get_with(
        &format!("{}/echo/main", edge.base),
        &[("x-target", &origin.base)],
    )
    .await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        echo["headers"]["x-fetched"],
        "200 application/json POST /echo/node-http http.request posted body"
    );
    // At a viewer stage the request fails as fetch does there: no network.
    let edge = edge_with_functions(&origin, &[("viewer-request", &vreq)], &[]);
    let r = get(&format!("{}/x", edge.base)).await;
    assert!(
        r.header("x-error")
            .contains("origin-request and origin-response functions only"),
        "{}",
        r.header("x-error")
    );
}

#[tokio::test]
async fn a_function_cannot_reach_the_node_s_admin_api() {
    let origin = origin();
    let (oreq, _a) = js(r#"
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const admin = request.headers['x-admin'][0].value;
  const tries = [admin + '/__edge/health', admin.replace('127.0.0.1', 'localhost') + '/__edge/health'];
  const seen = [];
  for (const url of tries) {
    try { const r = await fetch(url); seen.push('reached ' + r.status); } catch (e) { seen.push(e.message); }
  }
  const http = require('http');
  seen.push(await new Promise((resolve) => http.get(tries[0], (r) => resolve('reached ' + r.statusCode)).on('error', (e) => resolve(e.message))));
  request.headers['x-seen'] = [{ value: seen.join(' | ') }];
  return request;
};"#);
    let edge = edge_with_functions(&origin, &[("origin-request", &oreq)], &[]);
    let r = get_with(
        &format!("{}/echo/a", edge.base),
        &[("x-admin", &edge.admin)],
    )
    .await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    let seen = echo["headers"]["x-seen"].as_str().unwrap().to_string();
    assert_eq!(
        seen.matches("may not reach this node's admin API").count(),
        3,
        "{seen}"
    );
    // The admin API itself still answers its operator.
    assert_eq!(
        get(&format!("{}/__edge/health", edge.admin)).await.status,
        200
    );
}

#[tokio::test]
async fn functions_reach_host_only_addresses_only_when_their_distribution_lists_them() {
    let (origin, other) = (origin(), origin());
    let other_port = other.base.rsplit(':').next().unwrap().to_string();
    let (oreq, _a) = js(
        &(format!("const [own, other] = {:?};", [&origin.base, &other.base])
            + r#"
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const tries = [own + '/echo/own', other + '/echo/other', other.replace('127.0.0.1', 'localhost') + '/echo/other',
    'http://169.254.169.254/latest/meta-data/', 'http://[::1]:1/'];
  const seen = [];
  for (const url of tries) {
    try { const r = await fetch(url); seen.push('reached ' + r.status); } catch (e) { seen.push(e.message); }
  }
  request.headers['x-seen'] = [{ value: seen.join(' | ') }];
  return request;
};"#),
    );
    async fn seen(edge: &Edge) -> Vec<String> {
        let r = get(&format!("{}/echo/a", edge.base)).await;
        let echo: Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| panic!("{}: {}", r.status, edge.proc.logs()));
        let seen = echo["headers"]["x-seen"].as_str().unwrap_or("");
        seen.split(" | ").map(str::to_string).collect()
    }
    let by_default = NodeToml::for_origin(&origin)
        .function("origin-request", &oreq)
        .text();
    let (edge, _c) = edge_with_config(&by_default, &[]);
    let s = seen(&edge).await;
    assert_eq!(s.len(), 5, "{s:?}");
    assert_eq!(s[0], "reached 200", "its own origin: {s:?}");
    for (i, kind) in [
        (1, "is a loopback address"),
        (2, "is a loopback address"),
        (3, "is a link-local address"),
        (4, "is a loopback address"),
    ] {
        assert!(s[i].contains(kind), "{i}: {s:?}");
        assert!(
            s[i].contains("unless its FetchAllow lists it"),
            "{i}: {s:?}"
        );
    }
    // Listed, the other origin's address is reached (by address or by a name for it).
    let listed = NodeToml::for_origin(&origin)
        .function("origin-request", &oreq)
        .distribution_key(
            "FetchAllow",
            toml::Value::Array(vec![format!("127.0.0.1:{other_port}").into()]),
        )
        .text();
    let (edge, _c) = edge_with_config(&listed, &[]);
    let s = seen(&edge).await;
    assert_eq!(
        &s[..3],
        ["reached 200", "reached 200", "reached 200"],
        "{s:?}"
    );
    assert!(s[3].contains("link-local"), "{s:?}");
    // A rule that is not one is refused at start, naming the field.
    let bad = NodeToml::for_origin(&origin)
        .distribution_key("FetchAllow", toml::Value::Array(vec!["10.0.0.0/99".into()]))
        .text();
    let path = write_temp(&bad);
    let err = config_refused(&path);
    assert!(err.contains("distributions[0].FetchAllow[0]"), "{err}");
}
