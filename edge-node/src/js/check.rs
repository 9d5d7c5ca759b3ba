//! Compiling a function without running any of it, for whoever accepts code before an edge
//! does (the control node at `PUT /v1/functions/NAME`): a syntax error, or an ES module
//! import of a module that does not exist, comes back as `file:line:column: error`, the line,
//! and a caret under the column — so no edge ever receives code that does not parse.

use super::isolate::{is_es_module, Loader, CJS_WRAPPER_OPEN};
use super::{FnError, FunctionCode};
use deno_core::{JsRuntime, ModuleSpecifier, RuntimeOptions};
use std::rc::Rc;
use std::sync::Arc;

/// Compiles `source` (named `file`) as Lambda would load it, CommonJS or ES module, without
/// running its top level. Makes its own runtime on this thread (about 12 ms).
pub fn check_source(file: &str, source: &str) -> Result<(), FnError> {
    let code = Arc::new(FunctionCode::new("check", 0, file, source));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| FnError::Threw(e.to_string()))?;
    let loader = Loader::new(code.clone());
    let main = loader.main.clone();
    let mut js = JsRuntime::new(RuntimeOptions {
        module_loader: Some(Rc::new(loader)),
        ..Default::default()
    });
    let compiled = if is_es_module(source) {
        rt.block_on(async {
            let main = ModuleSpecifier::parse(&main).map_err(|e| e.to_string())?;
            // Loading compiles and links the module; only evaluating would run it.
            js.load_main_es_module(&main)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    } else {
        let wrapped = format!("{CJS_WRAPPER_OPEN}{source}\n}})");
        js.execute_script(file.to_string(), wrapped)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    compiled.map_err(|e| FnError::Load {
        function: file.to_string(),
        file: file.to_string(),
        reason: pointed(&e, file, source),
    })
}

/// The engine's message with the offending line and a caret under its column, when the
/// message names a place in `file` (`(file:line:column)`).
fn pointed(message: &str, file: &str, source: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let place = message.lines().find_map(|l| {
        let inside = l.rsplit_once('(')?.1.strip_suffix(')')?;
        let (rest, col) = inside.rsplit_once(':')?;
        let (name, line) = rest.rsplit_once(':')?;
        name.ends_with(file_name(file))
            .then(|| Some((line.parse::<usize>().ok()?, col.parse::<usize>().ok()?)))
            .flatten()
    });
    let Some((line, col)) = place else {
        return first.to_string();
    };
    let text = source.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let caret = " ".repeat(col.saturating_sub(1).min(text.len()));
    format!("{file}:{line}:{col}: {first}\n  {text}\n  {caret}^")
}

fn file_name(file: &str) -> &str {
    std::path::Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

#[cfg(test)]
mod tests {
    use super::check_source;

    #[test]
    fn code_that_parses_passes_without_running() {
        // A top level that would loop forever, or throw, is not run.
        check_source("ok.js", "for (;;) {}\nexports.handler = async () => 1;").unwrap();
        check_source(
            "ok.mjs",
            "throw new Error('top');\nexport const handler = async () => 1;",
        )
        .unwrap();
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
