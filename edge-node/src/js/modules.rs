//! The native half of `require` inside a package: Node's resolution (package.rs), the
//! module's text, and compiling a CommonJS module under its own path so that stack traces
//! name it as Node does (`/var/task/lib/a.js:3:11`). `runtime.js` holds these ops in a
//! closure; user code never sees them.

use super::package::Mode;
use super::FunctionCode;
use deno_core::{op2, v8, OpState};
use std::sync::Arc;

/// The function whose files `require` reads, in the isolate's op state.
pub struct ModuleFiles(pub Arc<FunctionCode>);

/// `"<cjs|esm|json>\n<absolute path>"`, or `"!<Node error code>\n<message>"`.
#[op2]
#[string]
pub fn op_edge_resolve(
    state: &mut OpState,
    #[string] request: &str,
    #[string] parent: &str,
) -> String {
    let Some(files) = state.try_borrow::<ModuleFiles>() else {
        return format!("!MODULE_NOT_FOUND\nCannot find module '{request}'");
    };
    match files.0.package.resolve(request, parent, Mode::Require) {
        Ok((path, format)) => format!("{}\n{path}", format.tag()),
        Err(e) => format!("!{}\n{}", e.code, e.message),
    }
}

/// The text of the module at `path` (resolved, so it exists; a file that is not UTF-8 reads
/// as `null`).
#[op2]
#[string]
pub fn op_edge_module_source(state: &mut OpState, #[string] path: &str) -> Option<String> {
    let files = state.try_borrow::<ModuleFiles>()?;
    files.0.package.source(path).map(str::to_string)
}

/// Compiles and runs `source` as a script named `name`: `[value, null]`, or `[null, thrown]`
/// when it does not compile or throws.
#[op2(reentrant)]
pub fn op_edge_compile<'s, 'i>(
    scope: &mut v8::PinScope<'s, 'i>,
    source: v8::Local<'s, v8::String>,
    #[string] name: &str,
) -> v8::Local<'s, v8::Value> {
    let out = v8::Array::new(scope, 2);
    let null: v8::Local<v8::Value> = v8::null(scope).into();
    let Some(name) = v8::String::new(scope, name) else {
        return out.into();
    };
    let origin = v8::ScriptOrigin::new(
        scope,
        name.into(),
        0,
        0,
        false,
        0,
        None,
        false,
        false,
        false,
        None,
    );
    v8::tc_scope!(let tc, scope);
    let value = v8::Script::compile(tc, source, Some(&origin)).and_then(|s| s.run(tc));
    match value {
        Some(v) => {
            out.set_index(tc, 0, v);
            out.set_index(tc, 1, null);
        }
        None => {
            let thrown = tc.exception().unwrap_or(null);
            out.set_index(tc, 0, null);
            out.set_index(tc, 1, thrown);
        }
    }
    out.into()
}

/// The source of one of the runtime's Node modules that are made on first use
/// (`src/js/node/*.js`).
#[op2]
#[string]
pub fn op_edge_node_module(#[string] name: &str) -> Result<&'static str, deno_error::JsErrorBox> {
    Ok(match name {
        "stream" => include_str!("node/stream.js"),
        "assert" => include_str!("node/assert.js"),
        "os" => include_str!("node/os.js"),
        "http" => include_str!("node/http.js"),
        "keys" => include_str!("node/keys.js"),
        "fs" => include_str!("node/fs.js"),
        "webcrypto" => include_str!("node/webcrypto.js"),
        "zlib" => include_str!("node/zlib.js"),
        "string_decoder" => include_str!("node/string_decoder.js"),
        "abort" => include_str!("node/abort.js"),
        other => {
            return Err(deno_error::JsErrorBox::generic(format!(
                "no runtime module {other}"
            )))
        }
    })
}

/// The bytes of the package's file at `path` (absolute, under /var/task), if there is one.
#[op2]
#[buffer]
pub fn op_edge_package_file(state: &mut OpState, #[string] path: &str) -> Option<Vec<u8>> {
    let files = state.try_borrow::<ModuleFiles>()?;
    let rel = path.strip_prefix("/var/task/")?;
    files.0.package.file(rel).map(|b| b.to_vec())
}

/// What is at `path` in the package: 1 a file, 2 a folder, 0 nothing.
#[op2(fast)]
#[smi]
pub fn op_edge_package_kind(state: &mut OpState, #[string] path: &str) -> u32 {
    state
        .try_borrow::<ModuleFiles>()
        .map_or(0, |f| u32::from(f.0.package.kind_at(path)))
}

/// The entries of the package's folder at `path`: names, a trailing `/` on folders.
#[op2]
#[serde]
pub fn op_edge_package_dir(state: &mut OpState, #[string] path: &str) -> Option<Vec<String>> {
    let files = state.try_borrow::<ModuleFiles>()?;
    let rel = if path == "/var/task" {
        ""
    } else {
        path.strip_prefix("/var/task/")?.trim_end_matches('/')
    };
    let list = files.0.package.list_dir(rel)?;
    Some(
        list.into_iter()
            .map(|(n, dir)| if dir { format!("{n}/") } else { n })
            .collect(),
    )
}
