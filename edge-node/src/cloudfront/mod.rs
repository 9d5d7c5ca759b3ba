//! The CloudFront Functions model (docs/cloudfront-functions.md): the two runtimes, the limits,
//! the event a function receives and what its result may be. Lambda@Edge's rules live in
//! `crate::lambda`; both kinds run on the same engine and isolate pools (`crate::js`), and the
//! driver picks the model by the function's runtime.
//!
//! Facts relied on here, with AWS's pages:
//! - Only viewer-request and viewer-response; `function handler(event)` returns the request or a
//!   response; headers `{value, multiValue}` with lowercase names, cookies split out of
//!   headers, a numeric `statusCode`, a write-only body
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html>).
//! - Runtime 1.0 is ES 5.1 with some ES 6–9 and has no `const`/`let`; runtime 2.0 adds them,
//!   `async`/`await`, Buffer and `import cf from 'cloudfront'`
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-10.html>,
//!   <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html>).
//! - 10 KB of code, 2 MB of memory, no network, file system, timers or dynamic code
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-function-restrictions.html>).
//! - A cache behavior cannot combine CloudFront Functions and Lambda@Edge in viewer events;
//!   each event type takes one function
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html>).

pub mod event;
pub mod kvs;
pub mod origin;
pub mod syntax;
pub mod validate;

/// A CloudFront Functions JavaScript runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// `cloudfront-js-1.0`
    Js1,
    /// `cloudfront-js-2.0`
    Js2,
}

impl Runtime {
    pub fn parse(s: &str) -> Option<Runtime> {
        match s {
            "cloudfront-js-1.0" => Some(Runtime::Js1),
            "cloudfront-js-2.0" => Some(Runtime::Js2),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Runtime::Js1 => "cloudfront-js-1.0",
            Runtime::Js2 => "cloudfront-js-2.0",
        }
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The account every local ARN names.
pub const ACCOUNT: &str = "123456789012";

/// A CloudFront function's ARN, `arn:aws:cloudfront::ACCOUNT:function/NAME`
/// (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_FunctionMetadata.html>).
pub fn function_arn(name: &str) -> String {
    format!("arn:aws:cloudfront::{ACCOUNT}:function/{name}")
}

/// The function a CloudFront function ARN names (any account), if `s` is one.
pub fn function_of_arn(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("arn:aws:cloudfront::")?;
    let (_, name) = rest.split_once(":function/")?;
    Some(name)
}

/// The most code a CloudFront function may have (10 KB).
pub const CODE_BYTES: usize = 10 * 1024;

/// The memory a CloudFront function may use beyond what its loaded code holds (2 MB).
pub const MEMORY_BYTES: usize = 2 << 20;

/// The largest body a function may give a response it generates or changes (CloudFront's 40 KB
/// for viewer-side answers).
pub const BODY_BYTES: usize = 40 * 1024;

/// Checks a function's code before anything runs it: UTF-8 text, at most 10 KB, a runtime 1.0
/// function without runtime 2.0's syntax, and a top-level `handler`. The error names what is
/// wrong and where (CloudFront's `FunctionSizeLimitExceeded` / `InvalidArgument`).
pub fn check_code(file: &str, bytes: &[u8], runtime: Runtime) -> Result<(), String> {
    if bytes.len() > CODE_BYTES {
        return Err(format!(
            "FunctionSizeLimitExceeded: {file} is {} bytes; a CloudFront function's code may be at most {CODE_BYTES} bytes (10 KB)",
            bytes.len()
        ));
    }
    let source = std::str::from_utf8(bytes)
        .map_err(|e| format!("InvalidArgument: {file} is not UTF-8 text ({e})"))?;
    let tokens = syntax::tokens(source).map_err(|e| format!("InvalidArgument: {file}:{e}"))?;
    if runtime == Runtime::Js1 {
        syntax::refuse_runtime_2(&tokens).map_err(|e| format!("InvalidArgument: {file}:{e}"))?;
    }
    if !syntax::declares_handler(&tokens) {
        return Err(format!(
            "InvalidArgument: {file} has no function named handler at its top level; CloudFront Functions call `function handler(event)`"
        ));
    }
    Ok(())
}
