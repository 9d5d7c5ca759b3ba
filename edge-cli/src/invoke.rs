//! Unit-testing a function without a cluster, as `sam local invoke` does:
//! `edge generate-event STAGE …` prints an event in AWS's shape, and `edge invoke FILE --event
//! event.json` runs the function once on it and prints what it returned, CloudFront's verdict
//! (what a viewer would get), its duration and the memory it may use; its logs go to stderr.

use anyhow::{anyhow, bail, Context, Result};
use edge_node::js::{FnError, FunctionCode, FunctionLimits, Runner, Watchdog};
use edge_node::lambda::event::{self, EventConfig, FnRequest, FnResponse};
use edge_node::lambda::{headers, validate, Stage};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// viewer-request, origin-request, origin-response or viewer-response.
    stage: String,
    #[arg(long, default_value = "/")]
    uri: String,
    #[arg(long, default_value = "GET")]
    method: String,
    /// Without the leading `?`.
    #[arg(long, default_value = "")]
    querystring: String,
    /// A request header, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// A request body (exposed as with IncludeBody).
    #[arg(long)]
    body: Option<String>,
    /// Adds CloudFront-Viewer-Country.
    #[arg(long)]
    country: Option<String>,
    /// The response status, for the response stages.
    #[arg(long, default_value_t = 200)]
    status: u16,
}

#[derive(clap::Args)]
pub struct InvokeArgs {
    /// The function: a .js/.mjs/.cjs file (CommonJS or ES module), a package folder or a .zip.
    file: PathBuf,
    /// Lambda's Handler, `file.export` (default for a package: index.handler).
    #[arg(long, value_name = "FILE.EXPORT")]
    handler: Option<String>,
    /// The event (JSON, as `edge generate-event` prints it); `-` reads standard input.
    #[arg(long)]
    event: String,
    /// The stage (default: the event's `config.eventType`, or `context.eventType` for a
    /// CloudFront function).
    #[arg(long)]
    stage: Option<String>,
    /// The file is a CloudFront function of this runtime (cloudfront-js-1.0 or
    /// cloudfront-js-2.0) and the event a CloudFront Functions event: prints what `aws
    /// cloudfront test-function` prints (FunctionOutput, FunctionExecutionLogs,
    /// ComputeUtilization, FunctionErrorMessage).
    #[arg(long)]
    runtime: Option<String>,
}

/// The function's verdict was a failure (already printed): `edge` exits 1.
#[derive(Debug)]
pub struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the function's result would fail at CloudFront")
    }
}

impl std::error::Error for Failed {}

const CONFIG: EventConfig<'static> = EventConfig {
    distribution_domain: "d111111abcdef8.cloudfront.net",
    distribution_id: "EDFDVBD6EXAMPLE",
    request_id: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
    viewer_headers: edge_node::viewer::headers::Added::NONE,
};

fn stage_of(s: &str) -> Result<Stage> {
    Stage::parse(s).ok_or_else(|| {
        anyhow!("unknown stage {s:?}: one of viewer-request, origin-request, origin-response, viewer-response")
    })
}

pub fn generate(a: GenerateArgs) -> Result<()> {
    let stage = stage_of(&a.stage)?;
    let method: Method = a
        .method
        .parse()
        .map_err(|_| anyhow!("--method {:?} is not an HTTP method", a.method))?;
    if !a.uri.starts_with('/') {
        bail!("--uri {:?} must start with '/'", a.uri);
    }
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        HeaderValue::from_static("d111111abcdef8.cloudfront.net"),
    );
    h.insert("user-agent", HeaderValue::from_static("curl/8.4.0"));
    h.insert("accept", HeaderValue::from_static("*/*"));
    for spec in &a.headers {
        let (n, v) = spec
            .split_once(':')
            .ok_or_else(|| anyhow!("--header {spec:?}: expected 'Name: value'"))?;
        let name = HeaderName::from_bytes(n.trim().as_bytes())
            .map_err(|_| anyhow!("--header {spec:?}: {:?} is not a header name", n.trim()))?;
        let value = HeaderValue::from_str(v.trim())
            .map_err(|_| anyhow!("--header {spec:?}: the value is not a header value"))?;
        h.append(name, value);
    }
    if let Some(c) = &a.country {
        let value = HeaderValue::from_str(&c.to_ascii_uppercase())
            .map_err(|_| anyhow!("--country {c:?} is not a country code"))?;
        h.insert("cloudfront-viewer-country", value);
    }
    let req = FnRequest {
        client_ip: "203.0.113.178".into(),
        method,
        uri: a.uri,
        querystring: a.querystring,
        headers: h,
        body: a.body.clone().unwrap_or_default().into(),
        origin: (!stage.is_viewer()).then(|| {
            let cfg =
                edge_node::config::from_origin_url("https://example.org").expect("a valid URL");
            edge_node::lambda::origin::FnOrigin::custom(
                &cfg.distributions[0].origins[0],
                edge_node::config::Protocol::Https,
            )
        }),
    };
    let status = StatusCode::from_u16(a.status)
        .map_err(|_| anyhow!("--status {} is not an HTTP status", a.status))?;
    let resp = (!stage.is_request()).then(|| {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("text/html"));
        h.insert("server", HeaderValue::from_static("MockOrigin"));
        FnResponse {
            status,
            status_description: status.canonical_reason().unwrap_or("").into(),
            headers: h,
            body: None,
        }
    });
    let ev = event::build(stage, CONFIG, &req, resp.as_ref(), a.body.is_some());
    println!("{}", serde_json::to_string_pretty(&ev)?);
    Ok(())
}

/// The request (and response) an event carries, as the node would have sent them.
fn parts_of(ev: &Value, stage: Stage) -> Result<(FnRequest, Option<FnResponse>)> {
    let cf = &ev["Records"][0]["cf"];
    let r = cf["request"]
        .as_object()
        .ok_or_else(|| anyhow!("the event has no Records[0].cf.request object"))?;
    let text = |k: &str| -> Result<String> {
        r.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the event's request.{k} is missing or not a string"))
    };
    let headers = headers::from_event(r.get("headers").unwrap_or(&Value::Null))
        .map_err(|e| anyhow!("the event's request.headers: {}", e.message()))?;
    let method: Method = text("method")?
        .parse()
        .map_err(|_| anyhow!("the event's request.method is not an HTTP method"))?;
    let body = match r
        .get("body")
        .and_then(|b| b.get("data"))
        .and_then(Value::as_str)
    {
        Some(d) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(d)
                .map_err(|_| anyhow!("the event's request.body.data is not base64"))?
                .into()
        }
        None => bytes::Bytes::new(),
    };
    let origin = match r.get("origin") {
        Some(o) if !stage.is_viewer() => Some(
            edge_node::lambda::origin::FnOrigin::from_event(o)
                .map_err(|e| anyhow!("the event's request.origin: {}", e.detail))?,
        ),
        _ => None,
    };
    let req = FnRequest {
        client_ip: text("clientIp")?,
        method,
        uri: text("uri")?,
        querystring: r
            .get("querystring")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        headers,
        body,
        origin,
    };
    if stage.is_request() {
        return Ok((req, None));
    }
    let o = cf["response"]
        .as_object()
        .ok_or_else(|| anyhow!("a {stage} event needs Records[0].cf.response"))?;
    let status = o
        .get("status")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| anyhow!("the event's response.status is missing or not a status"))?;
    let resp = FnResponse {
        status,
        status_description: o
            .get("statusDescription")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        headers: headers::from_event(o.get("headers").unwrap_or(&Value::Null))
            .map_err(|e| anyhow!("the event's response.headers: {}", e.message()))?,
        body: None,
    };
    Ok((req, Some(resp)))
}

pub fn read_event(arg: &str) -> Result<Value> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    };
    serde_json::from_str(&text).map_err(|e| anyhow!("the event is not JSON: {e}"))
}

/// Runs `code` once on `event_text` on an engine thread of its own (as on an edge): the
/// outcome and how long the call took.
fn run_once(
    code: Arc<FunctionCode>,
    stage: Stage,
    event_text: String,
    limits: FunctionLimits,
) -> Result<(Result<edge_node::js::Outcome, FnError>, Duration)> {
    edge_node::js::without_startup_snapshot();
    let run = std::thread::spawn(
        move || -> Result<(Result<edge_node::js::Outcome, FnError>, Duration)> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            tokio::task::LocalSet::new().block_on(&rt, async move {
                let runner =
                    Runner::new(limits, Watchdog::start(), Default::default(), "LOCAL1-C1");
                runner.load(&code).await.map_err(|e| anyhow!("{e}"))?;
                let start = Instant::now();
                let out = runner
                    .invoke(&code, stage, &event_text, "", CONFIG.request_id, None)
                    .await;
                Ok((out, start.elapsed()))
            })
        },
    );
    run.join()
        .map_err(|_| anyhow!("the function's thread panicked"))?
}

fn limits() -> FunctionLimits {
    FunctionLimits {
        viewer_timeout: Duration::from_secs(5),
        origin_timeout: Duration::from_secs(30),
        init_timeout: Duration::from_secs(10),
        heap_bytes: 128 << 20,
        concurrency: 1,
        isolates_per_worker: 1,
        slice: Duration::ZERO,
        cloudfront_budget: Duration::from_millis(1),
    }
}

/// A CloudFront function on a CloudFront Functions event, reported as `aws cloudfront
/// test-function` reports it (its `TestResult`), with the node's verdict in
/// `FunctionErrorMessage` when the output would be refused.
fn invoke_cloudfront(a: InvokeArgs, runtime: &str) -> Result<()> {
    let runtime = edge_node::cloudfront::Runtime::parse(runtime)
        .ok_or_else(|| anyhow!("--runtime {runtime:?}: cloudfront-js-1.0 or cloudfront-js-2.0"))?;
    let ev = read_event(&a.event)?;
    let name: String = a
        .file
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("function")
        .to_string();
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let summary = serde_json::json!({
        "Name": name,
        "Status": "UNASSOCIATED",
        "FunctionConfig": { "Comment": "", "Runtime": runtime.as_str() },
        "FunctionMetadata": {
            "FunctionARN": edge_node::cloudfront::function_arn(&name),
            "Stage": "DEVELOPMENT",
        },
    });
    let code =
        FunctionCode::cloudfront(name, 1, a.file.display().to_string(), bytes.into(), runtime)
            .map_err(|e| anyhow!("{e}"))?;
    print_test_result(test_cloudfront(code, &ev, a.stage.as_deref(), summary)?)
}

/// Prints a TestResult; a function whose result would fail exits 1.
pub fn print_test_result((result, failed): (Value, bool)) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(&result)?);
    if failed {
        return Err(Failed.into());
    }
    Ok(())
}

/// Runs a CloudFront function once on a CloudFront Functions event `ev` as an edge would: the
/// `TestResult` `aws cloudfront test-function` prints (with `summary` as its FunctionSummary),
/// and whether the function failed or its output would be refused.
pub fn test_cloudfront(
    code: FunctionCode,
    ev: &Value,
    stage: Option<&str>,
    summary: Value,
) -> Result<(Value, bool)> {
    use edge_node::cloudfront::{self, validate as cfv};
    let stage = match stage {
        Some(s) => stage_of(s)?,
        None => stage_of(
            ev["context"]["eventType"]
                .as_str()
                .ok_or_else(|| anyhow!("the event has no context.eventType (or give --stage)"))?,
        )?,
    };
    if !stage.is_viewer() {
        bail!("CloudFront Functions run at viewer-request and viewer-response, not {stage}");
    }
    let ip = ev["viewer"]["ip"].as_str().unwrap_or("198.51.100.11");
    let req = cfv::request_from_event(&ev["request"], ip)
        .map_err(|e| anyhow!("the event's request: {}", e.detail))?;
    let resp = match stage {
        Stage::ViewerResponse => Some(
            cfv::response_from_event(&ev["response"])
                .map_err(|e| anyhow!("the event's response: {}", e.detail))?,
        ),
        _ => None,
    };
    let name = code.name.clone();
    // The event as the node writes it (AWS's shape, whatever spacing the file had).
    let mut event_text = String::new();
    let config = EventConfig {
        distribution_domain: ev["context"]["distributionDomainName"]
            .as_str()
            .unwrap_or(CONFIG.distribution_domain),
        distribution_id: ev["context"]["distributionId"]
            .as_str()
            .unwrap_or(CONFIG.distribution_id),
        request_id: CONFIG.request_id,
        viewer_headers: edge_node::viewer::headers::Added::NONE,
    };
    cloudfront::event::write(&mut event_text, stage, config, &req, resp.as_ref());
    let limits = limits();
    let budget = limits.cloudfront_budget;
    let (out, took) = run_once(Arc::new(code), stage, event_text, limits)?;
    let utilization = (took.as_nanos() * 100 / budget.as_nanos().max(1)).min(100);
    let logs: Vec<String> = {
        let q = edge_node::js::logs::Query {
            function: Some(name.clone()),
            limit: 10_000,
            ..Default::default()
        };
        edge_node::js::logs::logs()
            .read(&q)
            .0
            .into_iter()
            .filter_map(|r| match r.line {
                edge_node::js::logs::Line::Console(_, text) => Some(text),
                _ => None,
            })
            .collect()
    };
    let (output, error) = match out {
        Err(e) => (String::new(), Some(e.to_string())),
        Ok(o) => {
            let verdict = match &resp {
                None => cfv::request_result(&req, &o.value).map(|_| ()),
                Some(input) => cfv::response_result(input, &o.value).map(|_| ()),
            };
            let error = verdict
                .err()
                .map(|inv| format!("{} {}", inv.message, inv.detail));
            (o.value.to_string(), error)
        }
    };
    let result = serde_json::json!({
        "TestResult": {
            "FunctionSummary": summary,
            "ComputeUtilization": utilization.to_string(),
            "FunctionExecutionLogs": logs,
            "FunctionErrorMessage": error.clone().unwrap_or_default(),
            "FunctionOutput": output,
        }
    });
    Ok((result, error.is_some()))
}

pub fn invoke(a: InvokeArgs) -> Result<()> {
    if let Some(rt) = a.runtime.clone() {
        return invoke_cloudfront(a, &rt);
    }
    let ev = read_event(&a.event)?;
    let stage = match &a.stage {
        Some(s) => stage_of(s)?,
        None => stage_of(
            ev["Records"][0]["cf"]["config"]["eventType"]
                .as_str()
                .ok_or_else(|| {
                    anyhow!("the event has no Records[0].cf.config.eventType (or give --stage)")
                })?,
        )?,
    };
    let (req, resp) = parts_of(&ev, stage)?;
    let include_body = ev["Records"][0]["cf"]["request"].get("body").is_some();
    let name = a
        .file
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("function")
        .to_string();
    let bytes = edge_node::js::package::read_path(&a.file, a.handler.as_deref())
        .map_err(|e| anyhow!("{e}"))?;
    let code = Arc::new(
        FunctionCode::from_bytes(name, 1, a.file.display().to_string(), bytes)
            .map_err(|e| anyhow!("{}: {e}", a.file.display()))?,
    );
    let limits = limits();
    let heap = limits.heap_bytes;
    let (out, took) = run_once(code, stage, ev.to_string(), limits)?;
    let report = format!(
        "Duration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB",
        took.as_secs_f64() * 1e3,
        took.as_millis() + 1,
        heap >> 20
    );
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            let class = match e {
                FnError::Throttled | FnError::Timeout(_) => "503 LambdaLimitExceeded",
                FnError::Unserializable(_) => "502 LambdaValidationError",
                _ => "503 LambdaExecutionError",
            };
            println!("verdict: {class}: {e}");
            println!("{report}");
            return Err(Failed.into());
        }
    };
    println!("{}", serde_json::to_string_pretty(&out.value)?);
    let verdict = match (&resp, stage.is_request()) {
        (None, _) | (_, true) => {
            match validate::request_result(stage, &req, include_body, &out.value, false) {
                Ok(validate::RequestOutcome::Continue(r)) => Ok(format!(
                    "continues to {}: {} {}",
                    if stage == Stage::ViewerRequest {
                        "the cache"
                    } else {
                        "the origin"
                    },
                    r.method,
                    r.path_and_query()
                )),
                Ok(validate::RequestOutcome::Respond(g)) => Ok(format!(
                    "answers the viewer itself: {} (X-Cache: LambdaGeneratedResponse)",
                    g.status
                )),
                Err(inv) => Err(inv),
            }
        }
        (Some(input), false) => validate::response_result(stage, input, &out.value, false, false)
            .map(|r| format!("answers {} with {} headers", r.status, r.headers.len())),
    };
    match verdict {
        Ok(v) => {
            println!("verdict: {v}");
            println!("{report}");
            Ok(())
        }
        Err(inv) => {
            println!(
                "verdict: 502 LambdaValidationError: {} ({})",
                inv.message, inv.detail
            );
            println!("{report}");
            std::process::exit(1);
        }
    }
}
