//! Checking a function before anyone serves it (the control node at `PUT
//! /v1/functions/NAME`, `edge invoke`): it is loaded exactly as an edge loads it — every
//! module it imports or requires at its top level compiled, the top level run within the
//! init limit, the handler looked up — so a syntax error, a missing module or export, or a
//! top level that throws comes back as `file:line:column: error`, the line, and a caret under
//! the column, and no edge ever receives code it would refuse.

use super::isolate::Isolate;
use super::watchdog::Watchdog;
use super::{context_json, FnError, FunctionCode, FunctionLimits};
use crate::config::defaults;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// Loads the function in `bytes` (its published form; named `file` in messages) on this
/// thread, with its own engine and runtime (about 7 ms from the startup snapshot, ~24 ms
/// without), its top level limited to `init_timeout`.
pub fn check_code(file: &str, bytes: Bytes, init_timeout: Duration) -> Result<(), FnError> {
    let load = |reason: String| FnError::Load {
        function: file.to_string(),
        file: file.to_string(),
        reason,
    };
    let code = Arc::new(FunctionCode::from_bytes("check", 0, file, bytes).map_err(load)?);
    check_function(code, init_timeout)
}

/// `check_code` for a CloudFront function of `runtime` (CloudFront's own checks first: size,
/// runtime 1.0 syntax, a handler; then loaded as an edge loads it).
pub fn check_cloudfront(
    file: &str,
    bytes: Bytes,
    runtime: crate::cloudfront::Runtime,
    kvs: Option<String>,
) -> Result<(), FnError> {
    let code = FunctionCode::cloudfront("check", 0, file, bytes, runtime).map_err(|reason| {
        FnError::Load {
            function: file.to_string(),
            file: file.to_string(),
            reason,
        }
    })?;
    check_function(
        Arc::new(code.with_kvs(kvs)),
        Duration::from_secs_f64(defaults::FUNCTION_INIT_TIMEOUT_S),
    )
}

fn check_function(code: Arc<FunctionCode>, init_timeout: Duration) -> Result<(), FnError> {
    let file = code.file.clone();
    let file = file.as_str();
    let load = |reason: String| FnError::Load {
        function: file.to_string(),
        file: file.to_string(),
        reason,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FnError::Threw(e.to_string()))?;
    let limits = FunctionLimits {
        viewer_timeout: Duration::from_secs_f64(defaults::VIEWER_FUNCTION_TIMEOUT_S),
        origin_timeout: Duration::from_secs_f64(defaults::ORIGIN_FUNCTION_TIMEOUT_S),
        init_timeout,
        heap_bytes: (defaults::FUNCTION_MEMORY_MB as usize) << 20,
        concurrency: 1,
        isolates_per_worker: 1,
        slice: Duration::ZERO,
        cloudfront_budget: Duration::from_millis(1),
    };
    let watchdog = Watchdog::start();
    let context = context_json(&code, limits.heap_bytes, "check");
    let pop: Arc<str> = "check".into();
    let loaded = rt.block_on(async {
        tokio::task::LocalSet::new()
            .run_until(Isolate::load(
                code.clone(),
                &limits,
                &watchdog,
                &context,
                &pop,
            ))
            .await
    });
    match loaded {
        Ok(_) => Ok(()),
        Err(FnError::Load { reason, .. }) => Err(load(pointed(&reason, file, &code))),
        Err(e) => Err(e),
    }
}

/// `check_code` for one JavaScript file's text, with Lambda's init limit.
#[cfg(test)]
fn check_source(file: &str, source: &str) -> Result<(), FnError> {
    check_code(
        file,
        Bytes::from(source.to_string()),
        Duration::from_secs_f64(defaults::FUNCTION_INIT_TIMEOUT_S),
    )
}

/// The engine's message with the offending line and a caret under its column, when the
/// message names a place in one of the function's files (`/var/task/<file>:line:column`).
fn pointed(message: &str, file: &str, code: &FunctionCode) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let place = message.lines().find_map(|l| {
        let at = l.find("/var/task/")?;
        let tail = &l[at..];
        let tail = tail.split([')', ' ']).next()?;
        let (rest, col) = tail.rsplit_once(':')?;
        let (path, line) = rest.rsplit_once(':')?;
        Some((
            path.to_string(),
            line.parse::<usize>().ok()?,
            col.parse::<usize>().ok()?,
        ))
    });
    let Some((path, line, col)) = place else {
        return first.to_string();
    };
    let Some(source) = code.package.source(&path) else {
        return first.to_string();
    };
    let shown = if code.package.single {
        file.to_string()
    } else {
        path.trim_start_matches("/var/task/").to_string()
    };
    let text = source.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let caret = " ".repeat(col.saturating_sub(1).min(text.len()));
    format!("{shown}:{line}:{col}: {first}\n  {text}\n  {caret}^")
}

#[cfg(test)]
mod tests {
    use super::check_source;

    #[test]
    fn code_that_parses_passes_without_running() {
        check_source("ok.js", "let n = 0;\nexports.handler = async () => ++n;").unwrap();
        check_source(
            "imp.mjs",
            "import { join } from 'node:path';\nexport const handler = async () => join('a');",
        )
        .unwrap();
    }

    #[test]
    fn syntax_errors_name_the_place_and_point_at_it() {
        let e = check_source(
            "bad.js",
            "const a = 1;\nexports.handler = async () => { return 1 +; };\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bad.js:2:43: SyntaxError"), "{e}");
        assert!(
            e.contains("\n  exports.handler = async () => { return 1 +; };\n  ")
                && e.ends_with('^'),
            "{e}"
        );
        let e = check_source(
            "bad.mjs",
            "export const handler = async () => {\n  return 1 +;\n};\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bad.mjs:2:13: SyntaxError"), "{e}");
        let e = check_source(
            "dep.mjs",
            "import pad from 'left-pad';\nexport const handler = async () => pad;",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("left-pad"), "{e}");
    }
}
