//! OpenTelemetry traces (`--otlp URL`, docs/metrics.md "Traces"): per viewer request one
//! SERVER span with a child per stage (viewer-request, cache, origin-request, origin,
//! origin-response, viewer-response), exported over OTLP/HTTP with the JSON encoding to
//! `URL/v1/traces`. A viewer's W3C `traceparent` makes the request's span its child; the
//! origin gets a `traceparent` naming the request's span, so its own spans join the trace.
//!
//! Spans are queued by the worker (a lock and a push) and sent by one exporter thread, in
//! batches, once a second or every 512 spans; nothing on the request path waits for the
//! collector. A collector that cannot be reached costs the spans, logged once per failure run.
//!
//! The OTLP/HTTP protocol and its JSON mapping:
//! https://opentelemetry.io/docs/specs/otlp/#otlphttp ; the W3C trace context header:
//! https://www.w3.org/TR/trace-context/#traceparent-header

use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The ids a request's spans carry.
#[derive(Debug, Clone, Copy)]
pub struct TraceIds {
    pub trace: [u8; 16],
    /// The viewer's span, when it sent a `traceparent`.
    pub parent: Option<[u8; 8]>,
    /// The request's own (SERVER) span.
    pub span: [u8; 8],
    /// The origin fetch's (CLIENT) span: the parent the origin is given in `traceparent`.
    pub origin: [u8; 8],
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // Ids only need to be unique; fall back to the fast generator if the OS refuses.
    if getrandom::fill(&mut b).is_err() {
        b.iter_mut().for_each(|x| *x = fastrand::u8(..));
    }
    b
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N
        || !s
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl TraceIds {
    /// The viewer's trace when its `traceparent` is valid (version 00, non-zero ids), else a
    /// new one.
    pub fn from_headers(h: &HeaderMap) -> TraceIds {
        let parsed = h
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let mut p = v.trim().split('-');
                let (version, trace, parent, flags) = (p.next()?, p.next()?, p.next()?, p.next()?);
                if version != "00" || p.next().is_some() || flags.len() != 2 {
                    return None;
                }
                let trace: [u8; 16] = unhex(trace)?;
                let parent: [u8; 8] = unhex(parent)?;
                (trace != [0; 16] && parent != [0; 8]).then_some((trace, parent))
            });
        match parsed {
            Some((trace, parent)) => TraceIds {
                trace,
                parent: Some(parent),
                span: random(),
                origin: random(),
            },
            None => TraceIds {
                trace: random(),
                parent: None,
                span: random(),
                origin: random(),
            },
        }
    }

    /// The `traceparent` the origin gets: this trace, the origin fetch's span as its parent.
    pub fn traceparent(&self) -> HeaderValue {
        let v = format!("00-{}-{}-01", hex(&self.trace), hex(&self.origin));
        HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("00-0-0-00"))
    }
}

/// One finished span.
#[derive(Debug, Clone)]
pub struct Span {
    pub trace: [u8; 16],
    pub id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub name: String,
    /// OTLP's SpanKind: 1 internal, 2 server, 3 client.
    pub kind: u8,
    pub start_unix_ns: u64,
    pub end_unix_ns: u64,
    pub attributes: Vec<(&'static str, Value)>,
    /// OTLP's status code: 0 unset, 2 error.
    pub error: bool,
}

impl Span {
    /// A child of `ids`' request span (the origin fetch keeps the id the origin was given).
    pub fn child(
        ids: &TraceIds,
        name: &str,
        kind: u8,
        start_unix_ns: u64,
        end_unix_ns: u64,
    ) -> Span {
        Span {
            trace: ids.trace,
            id: if kind == 3 { ids.origin } else { random() },
            parent: Some(ids.span),
            name: name.to_string(),
            kind,
            start_unix_ns,
            end_unix_ns,
            attributes: vec![],
            error: false,
        }
    }

    fn to_json(&self) -> Value {
        let attributes: Vec<Value> = self
            .attributes
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => json!({"intValue": n.to_string()}),
                    Value::Number(n) => json!({"doubleValue": n}),
                    Value::Bool(b) => json!({"boolValue": b}),
                    other => json!({"stringValue": other.as_str().map_or(other.to_string(), str::to_string)}),
                };
                json!({"key": k, "value": value})
            })
            .collect();
        let mut s = json!({
            "traceId": hex(&self.trace),
            "spanId": hex(&self.id),
            "name": self.name,
            "kind": self.kind,
            "startTimeUnixNano": self.start_unix_ns.to_string(),
            "endTimeUnixNano": self.end_unix_ns.to_string(),
            "attributes": attributes,
            "status": {"code": if self.error { 2 } else { 0 }},
        });
        if let Some(p) = self.parent {
            s["parentSpanId"] = json!(hex(&p));
        }
        s
    }
}

#[derive(Default)]
struct Queue {
    spans: Vec<Span>,
    /// Sync tickets asked for and sent through.
    asked: u64,
    sent: u64,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

/// Spans queued before the exporter sends without waiting for its second.
const BATCH: usize = 512;
/// Spans that may wait (a collector that is down must not grow the node without bound).
const MAX_QUEUED: usize = 65_536;

/// The node's span exporter.
pub struct Exporter {
    shared: Arc<Shared>,
}

impl Exporter {
    /// Starts the exporter thread sending to `url` (`http://HOST:PORT`, or the full
    /// `…/v1/traces`) as service `edge` on `pop`.
    pub fn start(url: &str, pop: &str) -> Result<Exporter, String> {
        let base = url.trim_end_matches('/');
        let endpoint = if base.ends_with("/v1/traces") {
            base.to_string()
        } else {
            format!("{base}/v1/traces")
        };
        let uri: http::Uri = endpoint
            .parse()
            .map_err(|e| format!("--otlp {url:?} is not a URL: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "--otlp {url:?}: only http:// collectors are supported"
            ));
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        });
        let (s, pop) = (shared.clone(), pop.to_string());
        std::thread::Builder::new()
            .name("edge-otlp".into())
            .spawn(move || send_loop(s, uri, pop))
            .map_err(|e| format!("cannot start the OTLP exporter: {e}"))?;
        Ok(Exporter { shared })
    }

    /// Queues one request's spans.
    pub fn record(&self, spans: impl IntoIterator<Item = Span>) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let before = q.spans.len();
        q.spans.extend(spans);
        if q.spans.len() > MAX_QUEUED {
            q.spans.truncate(before);
        }
        if q.spans.len() >= BATCH {
            self.shared.changed.notify_all();
        }
    }

    /// Waits until every queued span has been sent (or its sending failed).
    pub fn sync(&self) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.asked += 1;
        let ticket = q.asked;
        self.shared.changed.notify_all();
        while q.sent < ticket {
            q = match self.shared.changed.wait_timeout(q, Duration::from_secs(10)) {
                Ok((q, t)) if t.timed_out() => return drop(q),
                Ok((q, _)) => q,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

fn send_loop(shared: Arc<Shared>, uri: http::Uri, pop: String) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("cannot start the OTLP exporter's runtime; no traces are sent");
        return;
    };
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let mut failing = false;
    loop {
        let (spans, ticket) = {
            let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            if q.spans.len() < BATCH && q.asked == q.sent {
                q = match shared.changed.wait_timeout(q, Duration::from_secs(1)) {
                    Ok((q, _)) => q,
                    Err(p) => p.into_inner().0,
                };
            }
            (std::mem::take(&mut q.spans), q.asked)
        };
        if !spans.is_empty() {
            let body = json!({"resourceSpans": [{
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "edge"}},
                    {"key": "cloud.region", "value": {"stringValue": pop}},
                    {"key": "service.version", "value": {"stringValue": env!("CARGO_PKG_VERSION")}},
                ]},
                "scopeSpans": [{
                    "scope": {"name": "edge-node", "version": env!("CARGO_PKG_VERSION")},
                    "spans": spans.iter().map(Span::to_json).collect::<Vec<_>>(),
                }],
            }]});
            let req = http::Request::post(uri.clone())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(http_body_util::Full::new(bytes::Bytes::from(
                    body.to_string(),
                )));
            let outcome = match req {
                Ok(req) => rt.block_on(async {
                    match tokio::time::timeout(Duration::from_secs(10), client.request(req)).await {
                        Ok(Ok(r)) if r.status().is_success() => Ok(()),
                        Ok(Ok(r)) => Err(format!("the collector answered {}", r.status())),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err("the collector did not answer within 10 s".into()),
                    }
                }),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(collector = %uri, error = %e, spans = spans.len(), "could not send traces; these spans are lost");
                }
                Err(_) => {}
            }
        }
        let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.sent = ticket;
        shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_continued_and_a_bad_one_replaced() {
        let mut h = HeaderMap::new();
        h.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let ids = TraceIds::from_headers(&h);
        assert_eq!(hex(&ids.trace), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&ids.parent.unwrap()), "00f067aa0ba902b7");
        let tp = ids.traceparent();
        let tp = tp.to_str().unwrap();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(
            tp.ends_with("-01") && !tp.contains("00f067aa0ba902b7"),
            "{tp}"
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "garbage",
        ] {
            h.insert("traceparent", HeaderValue::from_static(bad));
            let ids = TraceIds::from_headers(&h);
            assert!(ids.parent.is_none(), "{bad}");
            assert_ne!(ids.trace, [0; 16]);
        }
    }
}
