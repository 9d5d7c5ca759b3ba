//! Function logs as Lambda writes them to CloudWatch (docs/function-logs.md): per invocation a
//! `START` line, the function's console lines, `END` and `REPORT`, in the function's log group
//! `/aws/lambda/us-east-1.NAME`. Every record goes to the node's log (target `edge::lambda` for
//! START/END/REPORT, `edge::function` for console lines, at info) and into a bounded in-memory
//! ring that the admin API serves to `edge logs` (`GET /__edge/logs`).
//!
//! A record is stored as it happened (numbers, not text): the Lambda line is only formatted
//! when someone reads it.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one record says.
#[derive(Debug, Clone)]
pub enum Line {
    Start,
    End,
    Report(Report),
    /// A console line: its level (`INFO`, `WARN`, `ERROR`, `DEBUG`) and text.
    Console(&'static str, String),
}

/// The numbers of a `REPORT` line.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub duration: Duration,
    pub memory_mb: u64,
    pub max_memory_mb: u64,
    /// The isolate's creation and top level, on its first call.
    pub init: Option<Duration>,
}

/// What the ring keeps: a console line as it was written, or a whole call (stored once, when
/// it ends, and read as its START, END and REPORT lines: one record per call, not three).
#[derive(Debug, Clone)]
enum Kept {
    Console(&'static str, String),
    Call(Report),
}

#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    /// Microseconds since the epoch.
    pub time_us: u64,
    pub function: Arc<str>,
    pub version: u64,
    pub stage: &'static str,
    pub request_id: Box<str>,
    pub line: Line,
}

/// One entry of the ring.
#[derive(Debug)]
struct Entry {
    seq: u64,
    /// When it was written: a call's end.
    time_us: u64,
    function: Arc<str>,
    version: u64,
    stage: &'static str,
    request_id: Box<str>,
    kept: Kept,
}

impl Entry {
    /// Its lines: a call's START (at its start), END and REPORT (at its end).
    fn lines(&self, out: &mut Vec<Record>) {
        let record = |time_us, line| Record {
            seq: self.seq,
            time_us,
            function: self.function.clone(),
            version: self.version,
            stage: self.stage,
            request_id: self.request_id.clone(),
            line,
        };
        match &self.kept {
            Kept::Console(level, text) => {
                out.push(record(self.time_us, Line::Console(level, text.clone())))
            }
            Kept::Call(r) => {
                let start = self.time_us.saturating_sub(r.duration.as_micros() as u64);
                out.push(record(start, Line::Start));
                out.push(record(self.time_us, Line::End));
                out.push(record(self.time_us, Line::Report(*r)));
            }
        }
    }
}

/// The CloudWatch log group Lambda@Edge writes a function's logs to (in the region of the
/// edge location; the function's own region here, us-east-1, where Lambda@Edge functions live).
/// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html
pub fn log_group(function: &str) -> String {
    format!("/aws/lambda/us-east-1.{function}")
}

impl Record {
    /// The line as CloudWatch shows it.
    pub fn message(&self) -> String {
        let id = &self.request_id;
        match &self.line {
            Line::Start => format!("START RequestId: {id} Version: {}", self.version),
            Line::End => format!("END RequestId: {id}"),
            Line::Report(Report {
                duration,
                memory_mb,
                max_memory_mb,
                init,
            }) => {
                let ms = duration.as_secs_f64() * 1e3;
                let mut s = format!(
                    "REPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB",
                    billed_ms(*duration)
                );
                if let Some(init) = init {
                    s.push_str(&format!(
                        "\tInit Duration: {:.2} ms",
                        init.as_secs_f64() * 1e3
                    ));
                }
                s
            }
            // Node's Lambda runtime prefixes each console line with the time, the request id
            // and the level.
            Line::Console(level, text) => {
                format!("{}\t{id}\t{level}\t{text}", rfc3339_ms(self.time_us / 1000))
            }
        }
    }

    pub fn level(&self) -> &'static str {
        match &self.line {
            Line::Console(level, _) => level,
            _ => "INFO",
        }
    }

    pub fn to_json(&self, pop: &str) -> Value {
        json!({
            "seq": self.seq,
            "time_ms": self.time_us / 1000,
            "time_us": self.time_us,
            "pop": pop,
            "log_group": log_group(&self.function),
            "function": &*self.function,
            "version": self.version,
            "stage": self.stage,
            "request_id": &*self.request_id,
            "level": self.level(),
            "message": self.message(),
        })
    }
}

/// Lambda bills in 1 ms steps, rounding up.
pub fn billed_ms(d: Duration) -> u128 {
    d.as_micros().div_ceil(1000).max(1)
}

/// Milliseconds since the epoch as `2026-12-01T17:53:26.123Z`.
pub fn rfc3339_ms(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        ms % 1000
    )
}

/// Entries kept per node (a call is one; older ones are dropped first).
pub const KEPT: usize = 10_000;

struct Ring {
    entries: VecDeque<Entry>,
    next: u64,
}

/// The node's recent function log records.
pub struct FunctionLogs {
    ring: Mutex<Ring>,
    added: tokio::sync::Notify,
}

/// The process's function logs (one node per process).
pub fn logs() -> &'static FunctionLogs {
    static LOGS: OnceLock<FunctionLogs> = OnceLock::new();
    LOGS.get_or_init(|| FunctionLogs {
        ring: Mutex::new(Ring {
            entries: VecDeque::with_capacity(1024),
            next: 1,
        }),
        added: tokio::sync::Notify::new(),
    })
}

/// A query: one function's records after `after`, at or after `since_ms`, containing `filter`.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub function: Option<String>,
    pub after: u64,
    pub since_ms: u64,
    pub filter: Option<String>,
    pub limit: usize,
}

/// Who wrote a record: the function version, its stage and the call's request id.
pub struct Writer<'a> {
    pub function: &'a Arc<str>,
    pub version: u64,
    pub stage: &'static str,
    pub request_id: &'a str,
}

impl FunctionLogs {
    /// A console line.
    pub fn console(&self, w: Writer<'_>, level: &'static str, text: &str) {
        self.push(w, Kept::Console(level, text.to_string()));
    }

    /// A finished call: read back as its START, END and REPORT lines.
    pub fn call(&self, w: Writer<'_>, report: Report) {
        self.push(w, Kept::Call(report));
    }

    fn push(&self, w: Writer<'_>, kept: Kept) {
        let time_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros() as u64;
        let dropped = {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            let dropped = (ring.entries.len() >= KEPT)
                .then(|| ring.entries.pop_front())
                .flatten();
            let seq = ring.next;
            ring.next += 1;
            ring.entries.push_back(Entry {
                seq,
                time_us,
                function: w.function.clone(),
                version: w.version,
                stage: w.stage,
                request_id: w.request_id.into(),
                kept,
            });
            dropped
        };
        // Freed outside the lock.
        drop(dropped);
        self.added.notify_waiters();
    }

    /// The matching records (from at most `q.limit` entries), in time order, and the sequence
    /// number to ask after next.
    pub fn read(&self, q: &Query) -> (Vec<Record>, u64) {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = ring.entries.back().map_or(q.after, |e| e.seq.max(q.after));
        let mut out = Vec::new();
        let mut taken = 0;
        let since_us = q.since_ms.saturating_mul(1000);
        for e in ring
            .entries
            .iter()
            .filter(|e| e.seq > q.after && e.time_us >= since_us)
        {
            if q.function.as_deref().is_some_and(|f| f != &*e.function) {
                continue;
            }
            let at = out.len();
            e.lines(&mut out);
            if let Some(f) = &q.filter {
                // A plain term, as `aws logs tail --filter-pattern` takes one: lines whose
                // text contains it.
                let mut i = at;
                while i < out.len() {
                    if out[i].message().contains(f.as_str()) {
                        i += 1;
                    } else {
                        out.remove(i);
                    }
                }
            }
            taken += 1;
            if taken >= q.limit.max(1) {
                next = e.seq;
                break;
            }
        }
        drop(ring);
        out.sort_by_key(|r| r.time_us);
        (out, next)
    }

    /// `read`, waiting up to `wait` for a first matching record.
    pub async fn wait(&self, q: &Query, wait: Duration) -> (Vec<Record>, u64) {
        let until = tokio::time::Instant::now() + wait;
        let mut q = q.clone();
        loop {
            let added = self.added.notified();
            let (records, next) = self.read(&q);
            if !records.is_empty() || tokio::time::Instant::now() >= until {
                return (records, next);
            }
            q.after = next;
            if tokio::time::timeout_at(until, added).await.is_err() {
                return (vec![], next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_lambda_writes_them() {
        let r = |line| Record {
            seq: 1,
            time_us: 1_764_600_000_123_456,
            function: "f".into(),
            version: 3,
            stage: "viewer-request",
            request_id: "ID".into(),
            line,
        };
        assert_eq!(r(Line::Start).message(), "START RequestId: ID Version: 3");
        assert_eq!(r(Line::End).message(), "END RequestId: ID");
        let report = r(Line::Report(Report {
            duration: Duration::from_micros(1_234),
            memory_mb: 128,
            max_memory_mb: 3,
            init: Some(Duration::from_micros(17_400)),
        }));
        assert_eq!(
            report.message(),
            "REPORT RequestId: ID\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 3 MB\tInit Duration: 17.40 ms"
        );
        assert_eq!(
            r(Line::Console("INFO", "hi".into())).message(),
            "2025-12-01T14:40:00.123Z\tID\tINFO\thi"
        );
        assert_eq!(log_group("f"), "/aws/lambda/us-east-1.f");
    }
}
