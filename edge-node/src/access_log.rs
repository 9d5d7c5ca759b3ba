//! Access logs (docs/access-logs.md): one record per viewer request, in CloudFront's standard
//! log format (W3C extended, tab-separated, its 33 fields in its order), as CloudFront's
//! real-time log records (one JSON object per line), or as a short text line.
//!
//! A record is formatted on the worker that served the request, into that worker's own
//! buffer (no lock, no allocation once the buffer has grown); full buffers, and every buffer
//! once a second, go to one writer thread that writes them whole. Nothing on the request
//! path waits for a disk or a pipe.

use crate::driver::Conn;
use crate::error::NodeError;
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use percent_encoding::{percent_encode, AsciiSet, CONTROLS};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// CloudFront's standard log file format (legacy standard logging, "W3C" in v2).
    Cloudfront,
    /// CloudFront's real-time log fields, one JSON object per line.
    RealtimeJson,
    /// A short line for a terminal: time, method, path, status, X-Cache, duration, id, POP.
    #[default]
    Text,
}

impl Format {
    pub const NAMES: [&'static str; 3] = ["cloudfront", "realtime-json", "text"];

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "cloudfront" => Some(Format::Cloudfront),
            "realtime-json" => Some(Format::RealtimeJson),
            "text" => Some(Format::Text),
            _ => None,
        }
    }
}

/// The standard log's header: CloudFront starts every log file with these two lines.
/// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html#BasicDistributionFileFormat
pub const STANDARD_FIELDS: [&str; 33] = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

/// One request as the log sees it, borrowed from the driver at the end of the request.
pub struct Entry<'a> {
    pub pop: &'a str,
    pub method: &'a Method,
    /// The distribution's domain name (`cs(Host)`).
    pub domain: &'a str,
    /// The URI the viewer asked for (before any function rewrote it).
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub version: Version,
    pub conn: &'a Conn,
    pub request_id: &'a str,
    pub status: StatusCode,
    pub response_headers: &'a HeaderMap,
    /// The answer body's size, when known.
    pub response_body: u64,
    /// The kind of error (`x-edge-detailed-result-type`) when the request failed.
    pub error: Option<&'static str>,
    pub time_to_first_byte: Duration,
    pub time_taken: Duration,
    pub distribution_id: &'a str,
    /// The matched cache behavior's path pattern (`*` for the default behavior).
    pub behavior: &'a str,
}

/// The request headers a record shows, found in one pass, and the request's size as HTTP/1.1
/// frames it (request line, headers, body).
#[derive(Default)]
struct Asked<'a> {
    host: &'a [u8],
    referer: &'a [u8],
    user_agent: &'a [u8],
    forwarded_for: &'a [u8],
    accept: &'a [u8],
    accept_encoding: &'a [u8],
    bytes: u64,
}

impl<'a> Asked<'a> {
    fn of(e: &Entry<'a>) -> Asked<'a> {
        use http::header as h;
        let mut a = Asked::default();
        let (mut bytes, mut body) = (0, 0);
        for (name, value) in e.headers {
            bytes += name.as_str().len() + value.len() + 4;
            let v = value.as_bytes();
            if name == h::HOST {
                a.host = v;
            } else if name == h::USER_AGENT {
                a.user_agent = v;
            } else if name == h::REFERER {
                a.referer = v;
            } else if name == h::ACCEPT {
                a.accept = v;
            } else if name == h::ACCEPT_ENCODING {
                a.accept_encoding = v;
            } else if name == h::CONTENT_LENGTH {
                body = std::str::from_utf8(v)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            } else if name.as_str() == "x-forwarded-for" {
                a.forwarded_for = v;
            }
        }
        let line = e.method.as_str().len()
            + e.uri.path_and_query().map_or(1, |p| p.as_str().len())
            + " HTTP/1.1\r\n".len();
        a.bytes = (line + bytes + 2) as u64 + body;
        a
    }
}

/// The answer headers a record shows, found in one pass, and the answer's size as HTTP/1.1
/// frames it (status line, headers with the `Date` and `Content-Length` the server adds,
/// body); the result types from its `X-Cache`.
struct Answered<'a> {
    content_type: &'a [u8],
    content_length: &'a [u8],
    range: (&'a str, &'a str),
    bytes: u64,
    /// `x-edge-result-type` (Hit, RefreshHit, Miss, Error, LambdaGeneratedResponse, ...).
    result: &'static str,
    /// `x-edge-detailed-result-type`: the result, or the kind of error.
    detailed: &'static str,
}

impl<'a> Answered<'a> {
    fn of(e: &Entry<'a>) -> Answered<'a> {
        use http::header as h;
        let mut a = Answered {
            content_type: b"",
            content_length: b"",
            range: ("-", "-"),
            bytes: 0,
            result: "Error",
            detailed: "Error",
        };
        let mut bytes = "HTTP/1.1 200 OK\r\n".len() + 2;
        let mut date = false;
        for (name, value) in e.response_headers {
            bytes += name.as_str().len() + value.len() + 4;
            let v = value.as_bytes();
            if name == h::CONTENT_TYPE {
                a.content_type = v;
            } else if name == h::CONTENT_LENGTH {
                a.content_length = v;
            } else if name == h::DATE {
                date = true;
            } else if name == h::CONTENT_RANGE {
                a.range = range_of(v);
            } else if name.as_str() == "x-cache" {
                a.result = result_type(v);
            }
        }
        if !date {
            bytes += "date: Tue, 01 Dec 2026 00:00:00 GMT\r\n".len();
        }
        if a.content_length.is_empty() {
            bytes +=
                "content-length: \r\n".len() + itoa::Buffer::new().format(e.response_body).len();
        }
        a.bytes = bytes as u64 + e.response_body;
        a.detailed = e.error.unwrap_or(a.result);
        a
    }
}

/// `x-edge-result-type` from an answer's `X-Cache`: its first word, with every function error
/// (`LambdaExecutionError from CloudFront`, ...) logged as `Error` as CloudFront does.
fn result_type(x_cache: &[u8]) -> &'static str {
    let word = x_cache.split(|&b| b == b' ').next().unwrap_or_default();
    match word {
        b"Hit" => "Hit",
        b"RefreshHit" => "RefreshHit",
        b"Miss" => "Miss",
        b"LambdaGeneratedResponse" => "LambdaGeneratedResponse",
        b"FunctionGeneratedResponse" => "FunctionGeneratedResponse",
        b"Redirect" => "Redirect",
        _ => "Error",
    }
}

/// What the workers and the writer thread share: full buffers waiting to be written, written
/// ones for reuse (a worker refills warm memory instead of faulting in a fresh buffer), and
/// the sync tickets. A worker handing a buffer over only takes the lock: it never wakes the
/// writer, which drains the queue every `DRAIN_EVERY` (or at once when a sync asks).
#[derive(Default)]
struct Queue {
    full: Vec<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    /// Sync tickets asked for and written through.
    asked: u64,
    written: u64,
    closed: bool,
    /// Buffers dropped because the writer fell `MAX_QUEUED` behind (a sink that blocks).
    lost: u64,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A node's access log: the writer thread and where it writes.
pub struct AccessLog {
    format: Format,
    shared: Arc<Shared>,
}

/// Bytes a worker gathers before it hands them to the writer.
const BATCH: usize = 64 * 1024;
/// Buffers (of `BATCH`) that may wait for the writer: 16 MiB; past that a worker drops its
/// buffer rather than grow without bound or stall its requests behind a blocked sink.
const MAX_QUEUED: usize = 256;
/// How often the writer writes what the workers handed over.
const DRAIN_EVERY: Duration = Duration::from_millis(50);

impl AccessLog {
    /// Opens `file` for appending (stdout without one) and starts the writer thread.
    pub fn start(format: Format, file: Option<&Path>) -> Result<AccessLog, NodeError> {
        let (out, header): (Box<dyn Write + Send>, bool) = match file {
            Some(path) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| {
                        NodeError::Startup(format!(
                            "cannot open the access log {}: {e}",
                            path.display()
                        ))
                    })?;
                // A file that already holds records keeps its one header.
                let empty = f.metadata().map(|m| m.len() == 0).unwrap_or(true);
                (Box::new(f), empty)
            }
            None => (Box::new(std::io::stdout()), true),
        };
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        });
        let writer = Writer {
            shared: shared.clone(),
            out,
            header: header && format == Format::Cloudfront,
            to: file.map_or("stdout".into(), |p| p.display().to_string()),
            failed: false,
        };
        std::thread::Builder::new()
            .name("edge-access-log".into())
            .spawn(move || writer.run())
            .map_err(|e| NodeError::Startup(format!("cannot start the access log: {e}")))?;
        Ok(AccessLog { format, shared })
    }

    /// A buffer for one worker thread.
    pub fn worker(&self) -> WorkerLog {
        WorkerLog {
            format: self.format,
            buf: RefCell::new(Vec::with_capacity(BATCH + 4096)),
            shared: self.shared.clone(),
            ip: RefCell::default(),
            clock: Cell::new((u64::MAX, [0; 23])),
        }
    }

    /// Waits until everything the workers handed over has been written.
    pub fn sync(&self) {
        let mut q = self.shared.lock();
        q.asked += 1;
        let ticket = q.asked;
        self.shared.changed.notify_all();
        while q.written < ticket && !q.closed {
            q = self
                .shared
                .changed
                .wait(q)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for AccessLog {
    fn drop(&mut self) {
        self.sync();
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
    }
}

/// The writer thread's side.
struct Writer {
    shared: Arc<Shared>,
    out: Box<dyn Write + Send>,
    /// The standard log's two header lines are still to be written.
    header: bool,
    to: String,
    failed: bool,
}

impl Writer {
    fn run(mut self) {
        let mut q = self.shared.lock();
        loop {
            if q.full.is_empty() && q.written == q.asked {
                if q.closed {
                    return;
                }
                q = match self.shared.changed.wait_timeout(q, DRAIN_EVERY) {
                    Ok((q, _)) => q,
                    Err(p) => p.into_inner().0,
                };
                continue;
            }
            let full = std::mem::take(&mut q.full);
            let ticket = q.asked;
            let lost = std::mem::take(&mut q.lost);
            drop(q);
            if lost > 0 {
                tracing::error!(
                    lost_bytes = lost * BATCH as u64,
                    to = %self.to,
                    "access-log records were dropped: the log's destination is not keeping up"
                );
            }
            let mut done = Vec::with_capacity(full.len());
            for mut lines in full {
                self.write(&lines);
                lines.clear();
                done.push(lines);
            }
            let _ = self.out.flush();
            q = self.shared.lock();
            q.written = ticket;
            for b in done {
                if q.spare.len() < 8 {
                    q.spare.push(b);
                }
            }
            self.shared.changed.notify_all();
        }
    }

    fn write(&mut self, lines: &[u8]) {
        if self.header {
            self.header = false;
            let mut h = String::from("#Version: 1.0\n#Fields:");
            for f in STANDARD_FIELDS {
                h.push(' ');
                h.push_str(f);
            }
            h.push('\n');
            let _ = self.out.write_all(h.as_bytes());
        }
        if let Err(e) = self.out.write_all(lines) {
            if !self.failed {
                self.failed = true;
                tracing::error!(error = %e, to = %self.to, "cannot write the access log; records are being lost");
            }
        }
    }
}

/// One worker's records waiting for the writer.
pub struct WorkerLog {
    format: Format,
    buf: RefCell<Vec<u8>>,
    shared: Arc<Shared>,
    ip: RefCell<LastIp>,
    /// The second last formatted and its `YYYY-MM-DD\tHH:MM:SS` (text: `YYYY-MM-DDTHH:MM:SS`).
    clock: Cell<(u64, [u8; 23])>,
}

impl WorkerLog {
    /// Formats one record into the buffer; hands the buffer over when it is full.
    pub fn write(&self, e: &Entry<'_>) {
        let now = match self.format {
            // Whole seconds only: the kernel's coarse clock (a few ms behind) is enough.
            Format::Cloudfront => coarse_now(),
            _ => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        };
        let mut buf = self.buf.borrow_mut();
        match self.format {
            Format::Cloudfront => self.standard(&mut buf, e, now),
            Format::RealtimeJson => realtime(&mut buf, e, now, &mut self.ip.borrow_mut()),
            Format::Text => self.text(&mut buf, e, now),
        }
        if buf.len() >= BATCH {
            self.hand_over(&mut buf);
        }
    }

    /// Hands whatever is buffered to the writer.
    pub fn flush(&self) {
        let mut buf = self.buf.borrow_mut();
        if !buf.is_empty() {
            self.hand_over(&mut buf);
        }
    }

    fn hand_over(&self, buf: &mut Vec<u8>) {
        let mut q = self.shared.lock();
        let next = q
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BATCH + 4096));
        if q.full.len() >= MAX_QUEUED {
            q.lost += 1;
            buf.clear();
            q.spare.push(next);
            return;
        }
        q.full.push(std::mem::replace(buf, next));
    }

    /// `YYYY-MM-DD?HH:MM:SS` for the current second, made once per second.
    fn date_time(&self, secs: u64, sep: u8) -> [u8; 19] {
        let (last, mut text) = self.clock.get();
        if last != secs {
            let t = time::OffsetDateTime::from_unix_timestamp(secs as i64)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let mut s = Vec::with_capacity(23);
            let _ = write!(
                s,
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            text[..19].copy_from_slice(&s[..19]);
            self.clock.set((secs, text));
        }
        let mut out = [0u8; 19];
        out.copy_from_slice(&text[..19]);
        out[10] = sep;
        out
    }

    fn standard(&self, b: &mut Vec<u8>, e: &Entry<'_>, now: Duration) {
        let (q, r) = (Asked::of(e), Answered::of(e));
        b.reserve(512);
        b.extend_from_slice(&self.date_time(now.as_secs(), b'\t'));
        tab(b);
        field(b, e.pop);
        tab(b);
        int(b, r.bytes);
        tab(b);
        self.ip.borrow_mut().write(b, e.conn.viewer);
        tab(b);
        b.extend_from_slice(e.method.as_str().as_bytes());
        tab(b);
        field(b, e.domain);
        tab(b);
        encoded(b, e.uri.path().as_bytes());
        tab(b);
        int(b, e.status.as_u16() as u64);
        tab(b);
        encoded(b, q.referer);
        tab(b);
        encoded(b, q.user_agent);
        tab(b);
        encoded(b, e.uri.query().unwrap_or_default().as_bytes());
        // Cookies are logged only when the distribution's logging asks for them (it cannot
        // here): CloudFront writes `-`.
        b.extend_from_slice(b"\t-\t");
        field(b, r.result);
        tab(b);
        field(b, e.request_id);
        tab(b);
        encoded(b, q.host);
        tab(b);
        b.extend_from_slice(scheme(e.conn).as_bytes());
        tab(b);
        int(b, q.bytes);
        tab(b);
        seconds(b, e.time_taken);
        tab(b);
        encoded(b, q.forwarded_for);
        tab(b);
        field(b, e.conn.tls.map_or("-", |t| t.protocol));
        tab(b);
        field(b, e.conn.tls.map_or("-", |t| t.cipher));
        tab(b);
        field(b, r.result);
        tab(b);
        b.extend_from_slice(protocol_version(e.version).as_bytes());
        b.extend_from_slice(b"\t-\t-\t");
        int(b, e.conn.peer.port() as u64);
        tab(b);
        seconds(b, e.time_to_first_byte);
        tab(b);
        field(b, r.detailed);
        tab(b);
        encoded(b, r.content_type);
        tab(b);
        encoded(b, r.content_length);
        tab(b);
        b.extend_from_slice(r.range.0.as_bytes());
        tab(b);
        b.extend_from_slice(r.range.1.as_bytes());
        b.push(b'\n');
    }

    fn text(&self, b: &mut Vec<u8>, e: &Entry<'_>, now: Duration) {
        b.extend_from_slice(&self.date_time(now.as_secs(), b'T'));
        b.push(b'.');
        let ms = now.subsec_millis();
        b.extend_from_slice(&[
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
        b.extend_from_slice(b"Z access: ");
        b.extend_from_slice(e.method.as_str().as_bytes());
        b.push(b' ');
        encoded(b, e.uri.path().as_bytes());
        if let Some(q) = e.uri.query() {
            b.push(b'?');
            encoded(b, q.as_bytes());
        }
        b.push(b' ');
        int(b, e.status.as_u16() as u64);
        b.push(b' ');
        field(b, Answered::of(e).detailed);
        b.extend_from_slice(b" duration_us=");
        int(b, e.time_taken.as_micros() as u64);
        b.extend_from_slice(b" request_id=");
        field(b, e.request_id);
        b.extend_from_slice(b" pop=");
        field(b, e.pop);
        b.push(b'\n');
    }
}

impl Drop for WorkerLog {
    fn drop(&mut self) {
        self.flush();
    }
}

/// CloudFront's real-time log fields, named as its real-time log configuration names them.
/// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/real-time-logs.html#understand-real-time-log-config-fields
fn realtime(b: &mut Vec<u8>, e: &Entry<'_>, now: Duration, last_ip: &mut LastIp) {
    let (q, r) = (Asked::of(e), Answered::of(e));
    b.extend_from_slice(b"{\"timestamp\":\"");
    int(b, now.as_secs());
    b.push(b'.');
    let ms = now.subsec_millis();
    b.extend_from_slice(&[
        b'0' + (ms / 100) as u8,
        b'0' + (ms / 10 % 10) as u8,
        b'0' + (ms % 10) as u8,
    ]);
    b.push(b'"');
    json_number(b, "c-ip", |b| last_ip.write(b, e.conn.viewer));
    json_number(b, "time-to-first-byte", |b| {
        seconds(b, e.time_to_first_byte)
    });
    json_number(b, "sc-status", |b| int(b, e.status.as_u16() as u64));
    json_number(b, "sc-bytes", |b| int(b, r.bytes));
    json_pair(b, "cs-method", e.method.as_str().as_bytes());
    json_pair(b, "cs-protocol", scheme(e.conn).as_bytes());
    json_pair(b, "cs-host", e.domain.as_bytes());
    json_pair(b, "cs-uri-stem", e.uri.path().as_bytes());
    json_number(b, "cs-bytes", |b| int(b, q.bytes));
    json_pair(b, "x-edge-location", e.pop.as_bytes());
    json_pair(b, "x-edge-request-id", e.request_id.as_bytes());
    json_pair(b, "x-host-header", q.host);
    json_number(b, "time-taken", |b| seconds(b, e.time_taken));
    json_pair(
        b,
        "cs-protocol-version",
        protocol_version(e.version).as_bytes(),
    );
    let v = if e.conn.viewer.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    };
    json_pair(b, "c-ip-version", v.as_bytes());
    json_pair(b, "cs-user-agent", q.user_agent);
    json_pair(b, "cs-referer", q.referer);
    json_pair(b, "cs-cookie", b"");
    json_pair(
        b,
        "cs-uri-query",
        e.uri.query().unwrap_or_default().as_bytes(),
    );
    json_pair(b, "x-edge-response-result-type", r.result.as_bytes());
    json_pair(b, "x-forwarded-for", q.forwarded_for);
    json_pair(
        b,
        "ssl-protocol",
        e.conn.tls.map_or("", |t| t.protocol).as_bytes(),
    );
    json_pair(
        b,
        "ssl-cipher",
        e.conn.tls.map_or("", |t| t.cipher).as_bytes(),
    );
    json_pair(b, "x-edge-result-type", r.result.as_bytes());
    json_pair(b, "fle-encrypted-fields", b"");
    json_pair(b, "fle-status", b"");
    json_pair(b, "sc-content-type", r.content_type);
    json_pair(b, "sc-content-len", r.content_length);
    json_pair(b, "sc-range-start", r.range.0.as_bytes());
    json_pair(b, "sc-range-end", r.range.1.as_bytes());
    json_number(b, "c-port", |b| int(b, e.conn.peer.port() as u64));
    json_pair(b, "x-edge-detailed-result-type", r.detailed.as_bytes());
    json_pair(b, "cs-accept-encoding", q.accept_encoding);
    json_pair(b, "cs-accept", q.accept);
    json_pair(b, "cache-behavior-path-pattern", e.behavior.as_bytes());
    json_number(b, "cs-headers-count", |b| int(b, e.headers.len() as u64));
    json_pair(b, "primary-distribution-id", e.distribution_id.as_bytes());
    json_pair(b, "primary-distribution-dns-name", e.domain.as_bytes());
    b.extend_from_slice(b"}\n");
}

/// The wall clock as the kernel last ticked it (CLOCK_REALTIME_COARSE: no hardware read).
fn coarse_now() -> Duration {
    use nix::time::{clock_gettime, ClockId};
    match clock_gettime(ClockId::CLOCK_REALTIME_COARSE) {
        Ok(t) => Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    }
}

/// Characters the standard log percent-encodes: controls, space, DEL, the quote characters and
/// the backslash, and every non-ASCII byte (CloudFront: "URL-encoded").
const LOG_ESCAPE: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'\'').add(b'\\');

fn tab(b: &mut Vec<u8>) {
    b.push(b'\t');
}

fn int(b: &mut Vec<u8>, n: u64) {
    b.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Seconds with millisecond precision, as `time-taken` is written (`0.002`).
fn seconds(b: &mut Vec<u8>, d: Duration) {
    let ms = d.as_millis() as u64;
    int(b, ms / 1000);
    b.push(b'.');
    let r = ms % 1000;
    b.extend_from_slice(&[
        b'0' + (r / 100) as u8,
        b'0' + (r / 10 % 10) as u8,
        b'0' + (r % 10) as u8,
    ]);
}

/// An IP address as text, kept for the next record (most repeat their connection's).
#[derive(Default)]
struct LastIp(Option<std::net::IpAddr>, String);

impl LastIp {
    fn write(&mut self, b: &mut Vec<u8>, ip: std::net::IpAddr) {
        if self.0 != Some(ip) {
            self.1.clear();
            let _ = std::fmt::Write::write_fmt(&mut self.1, format_args!("{ip}"));
            self.0 = Some(ip);
        }
        b.extend_from_slice(self.1.as_bytes());
    }
}

/// A value of ours (POP, request id, result type, domain): validated or made by us, so with
/// nothing to encode; `-` when empty.
fn field(b: &mut Vec<u8>, s: &str) {
    if s.is_empty() {
        b.push(b'-');
    } else {
        b.extend_from_slice(s.as_bytes());
    }
}

/// Whether a byte is written as it is (the complement of `LOG_ESCAPE`), by table.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'!';
    while c < 0x7f {
        t[c as usize] = !matches!(c, b'"' | b'\'' | b'\\');
        c += 1;
    }
    t
};

/// A value the viewer sent: percent-encoded where `LOG_ESCAPE` says, `-` when empty.
fn encoded(b: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() {
        b.push(b'-');
        return;
    }
    if s.iter().all(|&c| PLAIN[c as usize]) {
        b.extend_from_slice(s);
        return;
    }
    for part in percent_encode(s, LOG_ESCAPE) {
        b.extend_from_slice(part.as_bytes());
    }
}

fn scheme(c: &Conn) -> &'static str {
    match c.protocol {
        crate::config::Protocol::Http => "http",
        crate::config::Protocol::Https => "https",
    }
}

fn protocol_version(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The start and end of a `Content-Range: bytes S-E/L` answer, else `-`.
fn range_of(v: &[u8]) -> (&str, &str) {
    std::str::from_utf8(v)
        .ok()
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split('/').next())
        .and_then(|v| v.split_once('-'))
        .unwrap_or(("-", "-"))
}

/// `,"name":"value"`; an absent value (empty) is written `-` as CloudFront writes it.
fn json_pair(b: &mut Vec<u8>, name: &str, value: &[u8]) {
    b.extend_from_slice(b",\"");
    b.extend_from_slice(name.as_bytes());
    b.extend_from_slice(b"\":");
    json_str(b, if value.is_empty() { b"-" } else { value });
}

/// `,"name":"…"` with a number written by `f` (the real-time fields are all strings).
fn json_number(b: &mut Vec<u8>, name: &str, f: impl FnOnce(&mut Vec<u8>)) {
    b.extend_from_slice(b",\"");
    b.extend_from_slice(name.as_bytes());
    b.extend_from_slice(b"\":\"");
    f(b);
    b.push(b'"');
}

/// A JSON string: header bytes that are not UTF-8 are written as U+FFFD.
fn json_str(b: &mut Vec<u8>, s: &[u8]) {
    b.push(b'"');
    for ch in String::from_utf8_lossy(s).chars() {
        match ch {
            '"' => b.extend_from_slice(b"\\\""),
            '\\' => b.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(b, "\\u{:04x}", c as u32);
            }
            c => {
                let mut tmp = [0u8; 4];
                b.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    b.push(b'"');
}

#[cfg(test)]
mod tests;
