//! The native half of the function runtime: logging into tracing, base64, hashes and HMAC,
//! random bytes, zlib, URL parsing and `fetch`, as deno_core ops named `op_edge_*`.

use base64::Engine;
use deno_core::{op2, OpState, ToJsBuffer};
use deno_error::JsErrorBox;
use hmac::{Hmac, Mac};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::Arc;

/// Who is logging: set before every invocation.
#[derive(Clone)]
pub struct LogContext {
    pub function: Arc<str>,
    pub version: u64,
    pub stage: &'static str,
    pub request_id: String,
    pub pop: Arc<str>,
    /// Where `fetch` may go; `None`: no network (viewer stages, initialization).
    pub egress: Option<Arc<super::Egress>>,
    /// While a call may still be stopped at its slice and run again elsewhere, its console
    /// lines wait here (so a call run twice logs once); `release` writes them.
    pub held: Option<Vec<(u32, String)>>,
}

impl LogContext {
    fn emit(&self, level: u32, msg: &str) {
        let log_group = super::logs::log_group(&self.function);
        macro_rules! emit {
            ($lvl:ident) => {
                tracing::$lvl!(target: "edge::function", function = %self.function, version = self.version, stage = self.stage, request_id = %self.request_id, pop = %self.pop, log_group, "{msg}")
            };
        }
        let name = match level {
            0 => {
                emit!(debug);
                "DEBUG"
            }
            1 => {
                emit!(info);
                "INFO"
            }
            2 => {
                emit!(warn);
                "WARN"
            }
            _ => {
                emit!(error);
                "ERROR"
            }
        };
        let writer = super::logs::Writer {
            function: &self.function,
            version: self.version,
            stage: self.stage,
            request_id: &self.request_id,
        };
        super::logs::logs().console(writer, name, msg);
    }

    /// Writes the held lines and stops holding.
    pub fn release(&mut self) {
        for (level, msg) in self.held.take().unwrap_or_default() {
            self.emit(level, &msg);
        }
    }
}

#[op2(fast)]
pub fn op_edge_log(state: &mut OpState, level: u32, #[string] msg: &str) {
    let Some(c) = state.try_borrow_mut::<LogContext>() else {
        tracing::info!(target: "edge::function", "{msg}");
        return;
    };
    match &mut c.held {
        Some(held) => held.push((level, msg.to_string())),
        None => c.emit(level, msg),
    }
}

#[op2]
#[string]
pub fn op_edge_base64_encode(#[buffer] data: &[u8], url: bool) -> String {
    if url {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    } else {
        base64::engine::general_purpose::STANDARD.encode(data)
    }
}

#[op2]
#[buffer]
pub fn op_edge_base64_decode(#[string] s: &str) -> Result<Vec<u8>, JsErrorBox> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(cleaned.as_bytes())
        .map_err(|e| {
            JsErrorBox::type_error(format!(
                "The string to be decoded is not correctly encoded: {e}"
            ))
        })
}

fn unsupported(alg: &str) -> JsErrorBox {
    JsErrorBox::type_error(format!(
        "Digest method not supported: {alg} (use md5, sha1, sha256, sha384 or sha512)"
    ))
}

#[op2]
#[buffer]
pub fn op_edge_digest(#[string] alg: &str, #[buffer] data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
    use sha2::Digest;
    Ok(match alg {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        other => return Err(unsupported(other)),
    })
}

#[op2]
#[buffer]
pub fn op_edge_hmac(
    #[string] alg: &str,
    #[buffer] key: &[u8],
    #[buffer] data: &[u8],
) -> Result<Vec<u8>, JsErrorBox> {
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }
    Ok(match alg {
        "md5" => mac::<Hmac<md5::Md5>>(key, data),
        "sha1" => mac::<Hmac<sha1::Sha1>>(key, data),
        "sha256" => mac::<Hmac<sha2::Sha256>>(key, data),
        "sha384" => mac::<Hmac<sha2::Sha384>>(key, data),
        "sha512" => mac::<Hmac<sha2::Sha512>>(key, data),
        other => return Err(unsupported(other)),
    })
}

#[op2]
#[buffer]
pub fn op_edge_random_bytes(#[smi] n: u32) -> Result<Vec<u8>, JsErrorBox> {
    if n > 65_536 {
        return Err(JsErrorBox::range_error(format!(
            "randomBytes size {n} is larger than 65536"
        )));
    }
    let mut buf = vec![0u8; n as usize];
    getrandom::fill(&mut buf).map_err(|e| JsErrorBox::generic(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// The function's memory size: what it may make outside its JavaScript heap too (a
/// decompressed buffer), so that no input can make the node allocate without bound.
pub struct MemoryLimit(pub usize);

#[op2]
#[buffer]
pub fn op_edge_zlib(
    state: &mut OpState,
    #[string] kind: &str,
    #[buffer] data: &[u8],
    #[smi] level: i32,
) -> Result<Vec<u8>, JsErrorBox> {
    use flate2::read::{DeflateDecoder, GzDecoder, MultiGzDecoder, ZlibDecoder};
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    let limit = state.try_borrow::<MemoryLimit>().map_or(
        (crate::config::defaults::FUNCTION_MEMORY_MB as usize) << 20,
        |m| m.0,
    );
    let err = |e: std::io::Error| JsErrorBox::generic(format!("{kind}: {e}"));
    let mut out = Vec::new();
    // At most `limit` bytes out: one more means the output would be larger.
    let bounded = |r: &mut dyn Read, out: &mut Vec<u8>| -> Result<(), JsErrorBox> {
        r.take(limit as u64 + 1).read_to_end(out).map_err(err)?;
        if out.len() > limit {
            return Err(JsErrorBox::range_error(format!(
                "Cannot create a Buffer larger than {limit} bytes (the function's memory size)"
            )));
        }
        Ok(())
    };
    // zlib's levels 0–9 (-1: its default, 6); Brotli's quality 0–11 (-1: Node's default, 11).
    let zlevel = if (0..=9).contains(&level) {
        Compression::new(level as u32)
    } else {
        Compression::default()
    };
    match kind {
        "brotliCompress" => {
            let quality = if (0..=11).contains(&level) {
                level as u32
            } else {
                11
            };
            let mut e = brotli::CompressorWriter::new(Vec::new(), 4096, quality, 22);
            e.write_all(data).map_err(err)?;
            out = e.into_inner();
        }
        "brotliDecompress" => bounded(&mut brotli::Decompressor::new(data, 4096), &mut out)?,
        "gzip" => {
            let mut e = GzEncoder::new(Vec::new(), zlevel);
            e.write_all(data).map_err(err)?;
            out = e.finish().map_err(err)?;
        }
        "deflate" => {
            let mut e = ZlibEncoder::new(Vec::new(), zlevel);
            e.write_all(data).map_err(err)?;
            out = e.finish().map_err(err)?;
        }
        "deflateRaw" => {
            let mut e = DeflateEncoder::new(Vec::new(), zlevel);
            e.write_all(data).map_err(err)?;
            out = e.finish().map_err(err)?;
        }
        "gunzip" => bounded(&mut MultiGzDecoder::new(data), &mut out)?,
        "inflate" => bounded(&mut ZlibDecoder::new(data), &mut out)?,
        "inflateRaw" => bounded(&mut DeflateDecoder::new(data), &mut out)?,
        "unzip" if data.starts_with(&[0x1f, 0x8b]) => bounded(&mut GzDecoder::new(data), &mut out)?,
        "unzip" => bounded(&mut ZlibDecoder::new(data), &mut out)?,
        other => {
            return Err(JsErrorBox::type_error(format!(
                "unknown zlib operation {other}"
            )))
        }
    }
    Ok(out)
}

fn url_parts(u: &url::Url) -> serde_json::Value {
    let search = u.query().map_or(String::new(), |q| {
        if q.is_empty() {
            String::new()
        } else {
            format!("?{q}")
        }
    });
    let hash = u.fragment().map_or(String::new(), |f| {
        if f.is_empty() {
            String::new()
        } else {
            format!("#{f}")
        }
    });
    serde_json::json!({
        "href": u.as_str(),
        "origin": u.origin().ascii_serialization(),
        "protocol": format!("{}:", u.scheme()),
        "username": u.username(),
        "password": u.password().unwrap_or(""),
        "host": match (u.host_str(), u.port()) { (Some(h), Some(p)) => format!("{h}:{p}"), (Some(h), None) => h.to_string(), _ => String::new() },
        "hostname": u.host_str().unwrap_or(""),
        "port": u.port().map_or(String::new(), |p| p.to_string()),
        "pathname": u.path(),
        "search": search,
        "hash": hash,
    })
}

/// Parses `input` against `base` ("" for none): the parts, or a string saying what is wrong.
#[op2]
#[serde]
pub fn op_edge_url_parse(
    #[string] input: &str,
    #[string] base: Option<String>,
) -> serde_json::Value {
    let parsed = match base.as_deref() {
        Some(b) => url::Url::parse(b).and_then(|b| b.join(input)),
        None => url::Url::parse(input),
    };
    match parsed {
        Ok(u) => url_parts(&u),
        Err(e) => serde_json::Value::String(format!("{input}: {e}")),
    }
}

/// Sets one part of a URL (WHATWG setter semantics as the url crate implements them).
#[op2]
#[serde]
pub fn op_edge_url_set(
    #[string] href: &str,
    #[string] part: &str,
    #[string] value: &str,
) -> serde_json::Value {
    let Ok(mut u) = url::Url::parse(href) else {
        return serde_json::Value::String(format!("{href}: not a URL"));
    };
    let strip = |v: &str, c: char| v.strip_prefix(c).unwrap_or(v).to_string();
    let ok = match part {
        "protocol" => u.set_scheme(value.trim_end_matches(':')).is_ok(),
        "username" => u.set_username(value).is_ok(),
        "password" => u.set_password(Some(value)).is_ok(),
        "host" => u.set_host(Some(value)).is_ok(),
        "hostname" => u.set_host(Some(value)).is_ok(),
        "port" => u
            .set_port(if value.is_empty() {
                None
            } else {
                value.parse().ok()
            })
            .is_ok(),
        "pathname" => {
            u.set_path(value);
            true
        }
        "search" => {
            let q = strip(value, '?');
            u.set_query(if q.is_empty() { None } else { Some(&q) });
            true
        }
        "hash" => {
            let f = strip(value, '#');
            u.set_fragment(if f.is_empty() { None } else { Some(&f) });
            true
        }
        _ => false,
    };
    if ok {
        url_parts(&u)
    } else {
        serde_json::Value::String(format!("cannot set {part} to {value:?}"))
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchResponse {
    status: u16,
    status_text: String,
    headers: Vec<(String, String)>,
    body: ToJsBuffer,
}

type FetchClient = crate::http::client::HttpsClient;

/// The node's own admin listeners and its control node, with what each is: a function's
/// request may reach neither, whatever its distribution allows (the admin API can empty the
/// cache and recycle isolates; the control API publishes). Set once known.
type Forbidden = Vec<(std::net::SocketAddr, &'static str)>;
static FORBIDDEN: std::sync::RwLock<Forbidden> = std::sync::RwLock::new(Vec::new());

/// Keeps functions' `fetch` (and http/https) away from `addr`, which is `what` ("this node's
/// admin API").
pub fn forbid_fetch(addr: std::net::SocketAddr, what: &'static str) {
    FORBIDDEN
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push((addr, what));
}

/// What of the node's own `url` would reach (`FORBIDDEN`): its port is one of theirs and its
/// host is that address, a loopback or an unspecified address (resolved only when the port
/// matches).
async fn reaches_node(url: &str) -> Option<&'static str> {
    let forbidden = FORBIDDEN.read().unwrap_or_else(|p| p.into_inner()).clone();
    if forbidden.is_empty() {
        return None;
    }
    let u = url::Url::parse(url).ok()?;
    let (host, port) = (u.host_str()?.to_string(), u.port_or_known_default()?);
    if !forbidden.iter().any(|(a, _)| a.port() == port) {
        return None;
    }
    // An owned "host:port" (IPv6 hosts keep their brackets).
    let addrs = tokio::net::lookup_host(format!("{host}:{port}"))
        .await
        .ok()?;
    let addrs: Vec<_> = addrs.collect();
    forbidden.iter().find_map(|(f, what)| {
        addrs
            .iter()
            .any(|a| {
                f.port() == a.port()
                    && (f.ip() == a.ip()
                        || a.ip().is_loopback()
                        || a.ip().is_unspecified()
                        || f.ip().is_unspecified())
            })
            .then_some(*what)
    })
}

/// `fetch` for origin-stage functions, to any HTTP(S) URL; bounded by the stage's timeout.
#[op2]
#[serde]
pub async fn op_edge_fetch(
    state: Rc<RefCell<OpState>>,
    #[string] url: String,
    #[string] method: String,
    #[serde] headers: Vec<(String, String)>,
    #[buffer(copy)] body: Option<Vec<u8>>,
) -> Result<FetchResponse, JsErrorBox> {
    use http_body_util::BodyExt;
    if let Some(what) = reaches_node(&url).await {
        return Err(JsErrorBox::type_error(format!(
            "fetch {url}: a function may not reach {what}"
        )));
    }
    let (client, egress) = {
        let mut s = state.borrow_mut();
        // A request leaves the node: this call must not be stopped and run again.
        if let Some(slot) = s.try_borrow::<Arc<crate::js::watchdog::Slot>>() {
            slot.commit();
        }
        let Some(egress) = s.try_borrow::<LogContext>().and_then(|c| c.egress.clone()) else {
            return Err(JsErrorBox::type_error(
                "fetch is available to origin-request and origin-response functions only",
            ));
        };
        if !s.has::<FetchClient>() {
            let https = crate::http::client::connector(true, None);
            let c: FetchClient =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build(https);
            s.put(c);
        }
        (s.borrow::<FetchClient>().clone(), egress)
    };
    let parsed =
        url::Url::parse(&url).map_err(|e| JsErrorBox::type_error(format!("fetch {url}: {e}")))?;
    if let Err(why) = egress.check(&parsed).await {
        return Err(JsErrorBox::type_error(format!("fetch {url}: {why}")));
    }
    let mut req = http::Request::builder().method(method.as_str()).uri(&url);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.unwrap_or_default(),
        )))
        .map_err(|e| JsErrorBox::type_error(format!("fetch {url}: {e}")))?;
    let resp = client
        .request(req)
        .await
        .map_err(|e| JsErrorBox::type_error(format!("fetch {url} failed: {e}")))?;
    let (parts, incoming) = resp.into_parts();
    let body = http_body_util::Limited::new(incoming, 16 << 20)
        .collect()
        .await
        .map_err(|e| JsErrorBox::type_error(format!("fetch {url}: body: {e}")))?
        .to_bytes();
    Ok(FetchResponse {
        status: parts.status.as_u16(),
        status_text: parts.status.canonical_reason().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec().into(),
    })
}

/// The slot a KeyValueStore's id has in this process (a function's handle asks once).
#[op2(fast)]
pub fn op_edge_kvs_slot(#[string] id: &str) -> u32 {
    crate::cloudfront::kvs::slot_of(id)
}

/// A KeyValueStore value (`cf.kvs().get`), or `None` for a missing key or store.
#[op2]
#[string]
pub fn op_edge_kvs_get(#[smi] slot: u32, #[string] key: &str) -> Option<String> {
    crate::cloudfront::kvs::with_value(slot, key, |v| v.map(str::to_string))
}

/// How many times this node's stores changed: a function's cached reads are dropped when it
/// moves.
#[op2(fast)]
pub fn op_edge_kvs_generation() -> u32 {
    crate::cloudfront::kvs::generation()
}

/// `[creation ms, last update ms, key count]` of a store, or `None` when this node has none
/// in that slot.
#[op2]
#[serde]
pub fn op_edge_kvs_meta(#[smi] slot: u32) -> Option<(u64, u64, usize)> {
    crate::cloudfront::kvs::store_at(slot).map(|s| (s.created_ms, s.updated_ms, s.items.len()))
}

deno_core::extension!(
    edge_runtime,
    ops = [
        op_edge_log,
        op_edge_base64_encode,
        op_edge_base64_decode,
        op_edge_digest,
        op_edge_hmac,
        op_edge_random_bytes,
        op_edge_zlib,
        op_edge_url_parse,
        op_edge_url_set,
        op_edge_fetch,
        op_edge_kvs_slot,
        op_edge_kvs_get,
        op_edge_kvs_generation,
        op_edge_kvs_meta,
        super::sign::op_edge_sign,
        super::sign::op_edge_verify,
        super::sign::op_edge_public_key,
        super::sign::op_edge_private_key,
        super::sign::op_edge_jwk_spki,
        super::modules::op_edge_resolve,
        super::modules::op_edge_module_source,
        super::modules::op_edge_compile,
        super::modules::op_edge_node_module,
        super::modules::op_edge_package_file,
        super::modules::op_edge_package_kind,
        super::modules::op_edge_package_dir,
    ],
);
