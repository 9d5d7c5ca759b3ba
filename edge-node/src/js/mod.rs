//! The JavaScript engine (deno_core; QuickJS by default, V8 behind the `v8` feature). This
//! module will host the Lambda@Edge runtime; today it proves the engine builds and runs here.

use deno_core::{JsRuntime, RuntimeOptions};

/// Which engine this build runs.
pub fn engine() -> &'static str {
    if cfg!(feature = "v8") {
        "v8"
    } else {
        "quickjs"
    }
}

/// Evaluates a script in a fresh runtime and returns its result as JSON text.
pub fn eval_json(source: &'static str) -> Result<String, String> {
    let mut rt = JsRuntime::new(RuntimeOptions::default());
    let wrapped = format!("JSON.stringify((() => {{ return ({source}); }})())");
    let value = rt
        .execute_script("<eval>", wrapped)
        .map_err(|e| e.to_string())?;
    deno_core::scope!(scope, rt);
    let local = deno_core::v8::Local::new(scope, value);
    Ok(local.to_rust_string_lossy(scope))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_engine_runs_javascript() {
        let out = super::eval_json(
            "{ sum: [1, 2, 3].reduce((a, b) => a + b, 0), engine: typeof globalThis }",
        )
        .unwrap();
        assert_eq!(out, r#"{"sum":6,"engine":"object"}"#);
    }
}
