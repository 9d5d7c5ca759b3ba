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
    Report {
        duration: Duration,
        memory_mb: u64,
        max_memory_mb: u64,
        /// The isolate's creation and top level, on its first call.
        init: Option<Duration>,
    },
    /// A console line: its level (`INFO`, `WARN`, `ERROR`, `DEBUG`) and text.
    Console(&'static str, String),
}

#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    /// Milliseconds since the epoch.
    pub time_ms: u64,
    pub function: Arc<str>,
    pub version: u64,
    pub stage: &'static str,
    pub request_id: Box<str>,
    pub line: Line,
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
            Line::Report {
                duration,
                memory_mb,
                max_memory_mb,
                init,
            } => {
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
                format!("{}\t{id}\t{level}\t{text}", rfc3339_ms(self.time_ms))
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
            "time_ms": self.time_ms,
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

fn rfc3339_ms(ms: u64) -> String {
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

/// Records kept per node (older ones are dropped first).
pub const KEPT: usize = 10_000;

/// The node's recent function log records.
pub struct FunctionLogs {
    ring: Mutex<VecDeque<Record>>,
    next: Mutex<u64>,
    added: tokio::sync::Notify,
}

/// The process's function logs (one node per process).
pub fn logs() -> &'static FunctionLogs {
    static LOGS: OnceLock<FunctionLogs> = OnceLock::new();
    LOGS.get_or_init(|| FunctionLogs {
        ring: Mutex::new(VecDeque::with_capacity(1024)),
        next: Mutex::new(1),
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

impl FunctionLogs {
    pub fn push(
        &self,
        function: &Arc<str>,
        version: u64,
        stage: &'static str,
        request_id: &str,
        line: Line,
    ) {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            if ring.len() >= KEPT {
                ring.pop_front();
            }
            ring.push_back(Record {
                seq: *next,
                time_ms,
                function: function.clone(),
                version,
                stage,
                request_id: request_id.into(),
                line,
            });
            *next += 1;
        }
        self.added.notify_waiters();
    }

    /// The matching records (at most `q.limit`) and the sequence number to ask after next.
    pub fn read(&self, q: &Query) -> (Vec<Record>, u64) {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let last = ring.back().map_or(q.after, |r| r.seq.max(q.after));
        let mut out = Vec::new();
        for r in ring
            .iter()
            .filter(|r| r.seq > q.after && r.time_ms >= q.since_ms)
        {
            if q.function.as_deref().is_some_and(|f| f != &*r.function) {
                continue;
            }
            if let Some(f) = &q.filter {
                // A filter selects whole invocations' lines by their text (as `aws logs tail
                // --filter-pattern` with a plain term does).
                if !r.message().contains(f.as_str()) {
                    continue;
                }
            }
            out.push(r.clone());
            if out.len() >= q.limit.max(1) {
                return (out, r.seq);
            }
        }
        (out, last)
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
            time_ms: 1_764_600_000_123,
            function: "f".into(),
            version: 3,
            stage: "viewer-request",
            request_id: "ID".into(),
            line,
        };
        assert_eq!(r(Line::Start).message(), "START RequestId: ID Version: 3");
        assert_eq!(r(Line::End).message(), "END RequestId: ID");
        let report = r(Line::Report {
            duration: Duration::from_micros(1_234),
            memory_mb: 128,
            max_memory_mb: 3,
            init: Some(Duration::from_micros(17_400)),
        });
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
