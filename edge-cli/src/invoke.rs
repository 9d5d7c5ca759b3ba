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
    /// The stage (default: the event's `config.eventType`).
    #[arg(long)]
    stage: Option<String>,
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

pub fn invoke(a: InvokeArgs) -> Result<()> {
    let text = if a.event == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(&a.event).with_context(|| format!("cannot read {}", a.event))?
    };
    let ev: Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("the event is not JSON: {e}"))?;
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
    // The engine lives on a thread of its own, with its own runtime, as on an edge.
    let event_text = ev.to_string();
    let run = std::thread::spawn(
        move || -> Result<(Result<edge_node::js::Outcome, FnError>, Duration, usize)> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let limits = FunctionLimits {
                viewer_timeout: Duration::from_secs(5),
                origin_timeout: Duration::from_secs(30),
                init_timeout: Duration::from_secs(10),
                heap_bytes: 128 << 20,
                concurrency: 1,
                isolates_per_worker: 1,
                slice: Duration::ZERO,
                cloudfront_budget: Duration::from_millis(1),
            };
            let heap = limits.heap_bytes;
            tokio::task::LocalSet::new().block_on(&rt, async move {
                let runner =
                    Runner::new(limits, Watchdog::start(), Default::default(), "LOCAL1-C1");
                runner.load(&code).await.map_err(|e| anyhow!("{e}"))?;
                let start = Instant::now();
                let out = runner
                    .invoke(&code, stage, &event_text, "", CONFIG.request_id)
                    .await;
                Ok((out, start.elapsed(), heap))
            })
        },
    );
    let (out, took, heap) = run
        .join()
        .map_err(|_| anyhow!("the function's thread panicked"))??;
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
