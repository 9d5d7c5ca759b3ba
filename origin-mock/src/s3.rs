//! `edge origin --s3-root DIR`: the mock origin as an S3 bucket. Keys are files under DIR;
//! answers carry what S3 sends: a quoted MD5 `ETag`, `Last-Modified`, the `Content-Type` and
//! `x-amz-meta-*` of a sidecar `KEY.s3meta` (`Name: value` lines), `x-amz-request-id`,
//! `Server: AmazonS3`; a missing key is S3's 404 `NoSuchKey` XML, or its 403 `AccessDenied`
//! with `--s3-private` (a reader without s3:ListBucket, as CloudFront's origin access is);
//! `If-None-Match` / `If-Modified-Since` get 304. A key is only ever read below DIR.

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::Full;
use md5::{Digest, Md5};
use std::path::{Component, Path};

/// A sidecar's name: metadata of `KEY` is in `KEY.s3meta`.
const SIDECAR: &str = ".s3meta";

pub async fn answer(
    root: &Path,
    private: bool,
    method: &Method,
    path: &str,
    request: &HeaderMap,
    seq: u64,
) -> Response<Full<Bytes>> {
    let request_id = format!("{seq:016X}");
    let key = path.trim_start_matches('/');
    if !matches!(*method, Method::GET | Method::HEAD) {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            key,
            &request_id,
        );
    }
    let decoded = percent_decode(key);
    let safe = !decoded.is_empty()
        && !decoded.ends_with(SIDECAR)
        && Path::new(&decoded)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    let file = root.join(&decoded);
    let data = if safe && file.is_file() {
        tokio::fs::read(&file).await.ok()
    } else {
        None
    };
    let Some(data) = data else {
        return if private {
            error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Access Denied",
                key,
                &request_id,
            )
        } else {
            error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
                key,
                &request_id,
            )
        };
    };
    let etag = format!("\"{:x}\"", Md5::digest(&data));
    let modified = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    let mut headers = HeaderMap::new();
    headers.insert(header::SERVER, HeaderValue::from_static("AmazonS3"));
    headers.insert(
        HeaderName::from_static("x-amz-request-id"),
        HeaderValue::from_str(&request_id).expect("hex"),
    );
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(modified)) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("binary/octet-stream"),
    );
    if let Ok(meta) = std::fs::read_to_string(format!("{}{SIDECAR}", file.display())) {
        for line in meta.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            let keep = name == "content-type"
                || name == "cache-control"
                || name == "content-encoding"
                || name.starts_with("x-amz-meta-");
            if let (true, Ok(n), Ok(v)) = (
                keep,
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value.trim()),
            ) {
                headers.insert(n, v);
            }
        }
    }
    let not_modified = match request.get(header::IF_NONE_MATCH) {
        Some(inm) => inm
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")),
        None => request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| {
                modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|m| m.as_secs())
                    .unwrap_or(0)
                    <= since
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|s| s.as_secs())
                        .unwrap_or(0)
            }),
    };
    let (status, body) = if not_modified {
        headers.remove(header::CONTENT_TYPE);
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(data.len()));
        let body = if *method == Method::HEAD {
            Bytes::new()
        } else {
            Bytes::from(data)
        };
        (StatusCode::OK, body)
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    key: &str,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let key = key
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><Key>{key}</Key><RequestId>{request_id}</RequestId><HostId>edge-origin</HostId></Error>"
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    h.insert(header::SERVER, HeaderValue::from_static("AmazonS3"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(HeaderName::from_static("x-amz-request-id"), v);
    }
    r
}

/// `%XX` escapes of a key decoded (S3 keys are the decoded path).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
