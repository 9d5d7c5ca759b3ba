//! One warm JavaScript isolate running one function version: created and loaded once, then
//! invoked many times with globals kept between invocations, like a warm Lambda.

use super::ops::{edge_runtime, LogContext, MemoryLimit};
use super::package::{self, Package};
use super::watchdog::{Guard, Slot, Watchdog};
use super::{qjs, FnError, FunctionCode, FunctionLimits};
use deno_core::error::ModuleLoaderError;
use deno_core::{
    v8, JsRuntime, ModuleLoadOptions, ModuleLoadReferrer, ModuleLoadResponse, ModuleLoader,
    ModuleSource, ModuleSourceCode, ModuleSpecifier, ModuleType, PollEventLoopOptions,
    ResolutionKind, RuntimeOptions,
};
use deno_error::JsErrorBox;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// What a handler returned: its JSON, and whether it is the object the event gave with that
/// object's headers never read (left out of the JSON; the node keeps what it sent).
#[derive(Debug)]
pub struct Returned {
    pub json: String,
    /// The value itself, when the engine handed it over as data (js/qjs.rs): no `json`.
    pub value: Option<serde_json::Value>,
    pub untouched_headers: bool,
    /// A CloudFront function's origin change (`cf.updateRequestOrigin` and the like), JSON.
    pub origin: Option<String>,
}

/// What a call hands the function: its event as JSON text (and lazy parts, "" for none), or
/// a builder of the same event as engine objects (CloudFront functions on QuickJS-ng, see
/// js/qjs.rs), with the JSON for where objects cannot go (another engine, a function thread).
#[derive(Clone, Copy)]
pub enum Input<'a> {
    Json {
        event: &'a str,
        parts: &'a str,
    },
    Built {
        /// Builds the event; lazy parts' JSON goes into the string (cloudfront::event::build).
        build: &'a dyn Fn(&mut qjs::Builder, &mut String) -> Option<qjs::JsValue>,
        json: &'a dyn Fn() -> String,
    },
}

/// The engine reached directly (js/qjs.rs) for a CloudFront function's calls: `invokeDirect`
/// and `outcomeOf` of runtime.js and its `DEFERRED` marker, owned, and the builder and reader.
struct Direct {
    ctx: qjs::Ctx,
    invoke: qjs::JsValue,
    outcome_of: qjs::JsValue,
    deferred: qjs::JsValue,
    builder: qjs::Builder,
    reader: qjs::Reader,
    /// The call's lazy parts (reused: cleared per call).
    parts: String,
}

impl Drop for Direct {
    fn drop(&mut self) {
        for v in [self.invoke, self.outcome_of, self.deferred] {
            self.ctx.free(v);
        }
    }
}

impl Direct {
    fn new(rt: &mut JsRuntime, internals: &Internals) -> Option<Direct> {
        deno_core::scope!(scope, rt);
        let ctx = qjs::context(scope)?;
        let own = |g: v8::Local<v8::Value>| ctx.value_of(g);
        let invoke = own(v8::Local::new(scope, &internals.invoke_direct).into());
        let outcome_of = own(v8::Local::new(scope, &internals.outcome_of).into());
        let deferred = own(v8::Local::new(scope, &internals.deferred));
        let mut builder = qjs::Builder::new(ctx);
        let built = own(v8::Local::new(scope, &internals.built));
        let lazy = builder.set_lazy(built);
        ctx.free(built);
        let direct = Direct {
            ctx,
            invoke,
            outcome_of,
            deferred,
            builder,
            reader: qjs::Reader::new(ctx),
            parts: String::with_capacity(2048),
        };
        // Without the runtime's lazy parts the event could not be built: calls take JSON.
        lazy.then_some(direct)
    }

    /// Builds the event, calls the handler through `invokeDirect` and reads what it gave:
    /// `Ok(Some(value))`, or the recorded outcome text (`Ok(None)`: take it from the
    /// runtime as for a JSON call), or `Err(())` when the call did not complete (terminated).
    fn call(
        &mut self,
        build: &dyn Fn(&mut qjs::Builder, &mut String) -> Option<qjs::JsValue>,
    ) -> Result<Option<Result<serde_json::Value, String>>, ()> {
        self.parts.clear();
        let event = build(&mut self.builder, &mut self.parts).ok_or(())?;
        let result = self.ctx.call(self.invoke, &[event]);
        self.ctx.free(event);
        let result = result.ok_or(())?;
        if qjs::same_object(result, self.deferred) {
            self.ctx.free(result);
            return Ok(None);
        }
        let read = read_value(self.ctx, &self.reader, self.outcome_of, result);
        self.ctx.free(result);
        read.map(Some)
    }
}

/// `v` (borrowed) as data (`Ok(Ok)`), or, when it is not plain data, the outcome text
/// runtime.js `outcomeOf` makes of it with `JSON.stringify` (`Ok(Err)`); `Err(())` when that
/// call did not complete (terminated).
fn read_value(
    ctx: qjs::Ctx,
    reader: &qjs::Reader,
    outcome_of: qjs::JsValue,
    v: qjs::JsValue,
) -> Result<Result<serde_json::Value, String>, ()> {
    if let Some(value) = reader.read(v) {
        return Ok(Ok(value));
    }
    let text = ctx.call(outcome_of, &[v]).ok_or(())?;
    let read = reader.read(text);
    ctx.free(text);
    match read {
        Some(serde_json::Value::String(t)) => Ok(Err(t)),
        _ => Err(()),
    }
}

/// A Lambda@Edge handler's settled value read straight from the engine (js/qjs.rs), not
/// through its JSON text: `invoke` in direct mode hands it over in runtime.js's `HANDED`,
/// `[value, untouched headers]`.
struct ReadBack {
    ctx: qjs::Ctx,
    handed: qjs::JsValue,
    handed_over: qjs::JsValue,
    outcome_of: qjs::JsValue,
    reader: qjs::Reader,
}

impl Drop for ReadBack {
    fn drop(&mut self) {
        for v in [self.handed, self.handed_over, self.outcome_of] {
            self.ctx.free(v);
        }
    }
}

impl ReadBack {
    fn new(rt: &mut JsRuntime, internals: &Internals) -> Option<ReadBack> {
        deno_core::scope!(scope, rt);
        let ctx = qjs::context(scope)?;
        let own = |g: v8::Local<v8::Value>| ctx.value_of(g);
        Some(ReadBack {
            ctx,
            handed: own(v8::Local::new(scope, &internals.handed)),
            handed_over: own(v8::Local::new(scope, &internals.handed_over).into()),
            outcome_of: own(v8::Local::new(scope, &internals.outcome_of).into()),
            reader: qjs::Reader::new(ctx),
        })
    }

    /// What `invoke` returned when it was not an outcome's text: the value handed over
    /// (`Ok(Some)`), or nothing yet (`Ok(None)`: the handler has not settled). A value that is
    /// not plain data comes back as the outcome text `JSON.stringify` makes of it.
    fn take(&self, returned: v8::Local<v8::Value>) -> Result<Option<Fast>, ()> {
        let v = self.ctx.value_of(returned);
        let handed = qjs::same_object(v, self.handed);
        self.ctx.free(v);
        if !handed {
            return Ok(None);
        }
        let value = self.ctx.element(self.handed, 0);
        let flag = self.ctx.element(self.handed, 1);
        let untouched = qjs::is_true(flag);
        self.ctx.free(flag);
        let fast =
            read_value(self.ctx, &self.reader, self.outcome_of, value).map(|read| match read {
                Ok(read) => Fast::Value(read, untouched),
                // "o<json>" of the object the event gave with its headers unread is what `finish`
                // records as "c1<json>".
                Err(t) if untouched && t.starts_with('o') => Fast::Text(format!("c1{}", &t[1..])),
                Err(t) => Fast::Text(t),
            });
        self.ctx.free(value);
        match self.ctx.call(self.handed_over, &[]) {
            Some(r) => self.ctx.free(r),
            None => return Err(()),
        }
        fast.map(Some)
    }
}

pub struct Isolate {
    /// Declared before `rt`: handles into the engine must be dropped before the engine.
    direct: Option<Direct>,
    read_back: Option<ReadBack>,
    internals: Internals,
    rt: JsRuntime,
    slot: Arc<Slot>,
    heap_hit: Rc<Cell<bool>>,
    heap_bytes: usize,
    /// Set when the isolate must not be used again (terminated, timed out mid-flight).
    pub tainted: bool,
    /// How long creating it and running the top level took, until its first call reports it
    /// (Lambda's `Init Duration`).
    init: Option<std::time::Duration>,
    /// Calls so far, the most heap seen in use, and when it was last measured (measuring
    /// walks the whole heap: about a millisecond).
    calls: u64,
    max_heap: usize,
    sampled: Option<Instant>,
}

/// The heap is measured on an isolate's first call, then at most once per this interval
/// (looked at every `HEAP_LOOK_EVERY` calls).
const HEAP_SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
const HEAP_LOOK_EVERY: u64 = 256;

thread_local! {
    /// Isolates made on this thread so far.
    static MADE: Cell<usize> = const { Cell::new(0) };
}

#[cfg(test)]
thread_local! {
    /// Tests: Lambda@Edge isolates made on this thread take every result as JSON text (the
    /// reference the values read back are compared with).
    pub(super) static JSON_RESULTS: Cell<bool> = const { Cell::new(false) };
}

/// Whether `source` is an ES module (has top-level import/export statements).
pub fn is_es_module(source: &str) -> bool {
    source.lines().map(str::trim_start).any(|l| {
        l.starts_with("export ")
            || l.starts_with("export{")
            || l.starts_with("export default")
            || (l.starts_with("import ") && !l.starts_with("import("))
            || l.starts_with("import{")
    })
}

/// Named exports of the Node modules an ES module may import.
/// The Node modules a function may import or require.
const BUILTINS: [&str; 21] = [
    "assert",
    "assert/strict",
    "buffer",
    "crypto",
    "events",
    "fs",
    "fs/promises",
    "http",
    "https",
    "os",
    "path",
    "path/posix",
    "process",
    "querystring",
    "stream",
    "stream/promises",
    "string_decoder",
    "timers",
    "url",
    "util",
    "zlib",
];

fn builtin_exports(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "buffer" => &[
            "Buffer",
            "SlowBuffer",
            "kMaxLength",
            "kStringMaxLength",
            "constants",
            "INSPECT_MAX_BYTES",
            "atob",
            "btoa",
        ],
        "path" | "path/posix" => &[
            "sep",
            "delimiter",
            "normalize",
            "join",
            "resolve",
            "isAbsolute",
            "relative",
            "dirname",
            "basename",
            "extname",
            "parse",
            "format",
            "toNamespacedPath",
            "posix",
        ],
        "crypto" => &[
            "createPublicKey",
            "createPrivateKey",
            "createSecretKey",
            "KeyObject",
            "createSign",
            "createVerify",
            "sign",
            "verify",
            "createHash",
            "createHmac",
            "randomBytes",
            "randomUUID",
            "timingSafeEqual",
            "getRandomValues",
            "webcrypto",
            "subtle",
        ],
        "querystring" => &[
            "parse",
            "stringify",
            "escape",
            "unescape",
            "decode",
            "encode",
        ],
        "url" => &["URL", "URLSearchParams", "parse", "format"],
        "util" => &[
            "format",
            "inspect",
            "promisify",
            "callbackify",
            "inherits",
            "deprecate",
            "isDeepStrictEqual",
            "types",
            "TextEncoder",
            "TextDecoder",
        ],
        "zlib" => &[
            "gzipSync",
            "gunzipSync",
            "deflateSync",
            "inflateSync",
            "deflateRawSync",
            "inflateRawSync",
            "unzipSync",
            "brotliCompressSync",
            "brotliDecompressSync",
            "gzip",
            "gunzip",
            "deflate",
            "inflate",
            "deflateRaw",
            "inflateRaw",
            "unzip",
            "brotliCompress",
            "brotliDecompress",
            "createGzip",
            "createGunzip",
            "createDeflate",
            "createInflate",
            "createBrotliCompress",
            "createBrotliDecompress",
            "constants",
        ],
        "timers" => &[
            "setTimeout",
            "setInterval",
            "setImmediate",
            "clearTimeout",
            "clearInterval",
            "clearImmediate",
        ],
        "string_decoder" => &["StringDecoder"],
        "stream" => &[
            "Stream",
            "Readable",
            "Writable",
            "Duplex",
            "Transform",
            "PassThrough",
            "pipeline",
            "finished",
            "promises",
        ],
        "stream/promises" => &["pipeline", "finished"],
        "assert" | "assert/strict" => &[
            "ok",
            "equal",
            "notEqual",
            "strictEqual",
            "notStrictEqual",
            "deepEqual",
            "notDeepEqual",
            "deepStrictEqual",
            "notDeepStrictEqual",
            "fail",
            "match",
            "doesNotMatch",
            "throws",
            "doesNotThrow",
            "rejects",
            "doesNotReject",
            "ifError",
            "AssertionError",
            "strict",
        ],
        "fs" => &[
            "readFileSync",
            "writeFileSync",
            "appendFileSync",
            "readdirSync",
            "statSync",
            "lstatSync",
            "existsSync",
            "accessSync",
            "mkdirSync",
            "unlinkSync",
            "rmSync",
            "readFile",
            "writeFile",
            "appendFile",
            "readdir",
            "stat",
            "lstat",
            "access",
            "mkdir",
            "unlink",
            "rm",
            "exists",
            "constants",
            "promises",
        ],
        "fs/promises" => &[
            "readFile",
            "writeFile",
            "appendFile",
            "readdir",
            "stat",
            "lstat",
            "access",
            "mkdir",
            "unlink",
            "rm",
            "constants",
        ],
        "os" => &[
            "EOL",
            "platform",
            "type",
            "arch",
            "release",
            "hostname",
            "homedir",
            "tmpdir",
            "uptime",
            "totalmem",
            "freemem",
            "cpus",
            "networkInterfaces",
            "userInfo",
            "endianness",
            "loadavg",
            "constants",
        ],
        "http" | "https" => &[
            "request",
            "get",
            "Agent",
            "globalAgent",
            "STATUS_CODES",
            "METHODS",
            "IncomingMessage",
            "ClientRequest",
        ],
        "events" => &[
            "EventEmitter",
            "once",
            "listenerCount",
            "defaultMaxListeners",
        ],
        "process" => &[
            "env", "version", "versions", "platform", "nextTick", "hrtime", "cwd",
        ],
        _ => return None,
    })
}

/// Serves the package's ES modules (resolved as Node does, package.rs), the Node modules and,
/// to those modules only, the one internal module that hands them their values; a CommonJS
/// module imported by an ES module is served as a module whose exports are the CommonJS
/// module's (its names found statically, as Node finds them). Anything else is refused with
/// Node's message.
pub(super) struct Loader {
    code: Arc<FunctionCode>,
    /// The handler's module (`file:///var/task/<file>`), so stack traces and errors say which
    /// file, as Lambda's Node runtime names it.
    pub(super) main: String,
}

impl Loader {
    pub(super) fn new(code: Arc<FunctionCode>) -> Loader {
        let main = code
            .package
            .entry()
            .map(|p| format!("file://{p}"))
            .unwrap_or_else(|_| format!("file://{}/index.js", package::TASK_ROOT));
        Loader { code, main }
    }
}

/// The Node modules' values, evaluated before the realm is sealed (see `runtime.js`).
const BUILTINS_SPECIFIER: &str = "edge:builtins";
const BUILTIN_PREFIX: &str = "edge:builtin/";
/// `edge:builtin/cjs:/var/task/x.js`: the ES module face of a CommonJS module.
const CJS_PREFIX: &str = "edge:builtin/cjs:";

/// The absolute path a module specifier or script name stands for.
fn module_path(s: &str) -> &str {
    s.strip_prefix("file://")
        .or_else(|| s.strip_prefix(CJS_PREFIX))
        .unwrap_or(s)
}

impl ModuleLoader for Loader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        _kind: ResolutionKind,
    ) -> Result<ModuleSpecifier, ModuleLoaderError> {
        let bare = specifier.strip_prefix("node:").unwrap_or(specifier);
        let internal = referrer.starts_with(BUILTIN_PREFIX);
        let resolved = match specifier {
            s if (s == self.main || s == BUILTINS_SPECIFIER) && (internal || referrer == ".") => {
                specifier.to_string()
            }
            _ if !specifier.starts_with("edge:") && builtin_exports(bare).is_some() => {
                format!("{BUILTIN_PREFIX}{bare}")
            }
            _ if specifier.starts_with("node:") || specifier.starts_with("edge:") => {
                return Err(JsErrorBox::generic(format!(
                    "Cannot find module '{specifier}' imported from {}: this runtime has the Node modules {}",
                    module_path(referrer),
                    BUILTINS.join(", ")
                )))
            }
            _ => {
                let parent = module_path(referrer);
                let request = specifier.strip_prefix("file://").unwrap_or(specifier);
                match self.code.package.resolve(request, parent, package::Mode::Import) {
                    Ok((path, package::Format::CommonJs)) => format!("{CJS_PREFIX}{path}"),
                    Ok((path, _)) => format!("file://{path}"),
                    Err(e) => {
                        let hint = if e.code == "ERR_MODULE_NOT_FOUND"
                            && !request.starts_with(['.', '/'])
                            && self.code.package.single
                        {
                            format!(" (a single-file function may import only the Node modules {}; publish a package with node_modules for others)", BUILTINS.join(", "))
                        } else {
                            String::new()
                        };
                        return Err(JsErrorBox::generic(format!("{}{hint}", e.message)));
                    }
                }
            }
        };
        ModuleSpecifier::parse(&resolved).map_err(|e| JsErrorBox::generic(e.to_string()))
    }

    fn load(
        &self,
        specifier: &ModuleSpecifier,
        _referrer: Option<&ModuleLoadReferrer>,
        _opts: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        let s = specifier.as_str();
        let source = |code: String, ty| {
            ModuleLoadResponse::Sync(Ok(ModuleSource::new(
                ty,
                ModuleSourceCode::String(code.into()),
                specifier,
                None,
            )))
        };
        let refuse = |m: String| ModuleLoadResponse::Sync(Err(JsErrorBox::generic(m)));
        if s == BUILTINS_SPECIFIER {
            return source(
                "const b = globalThis.__edge_builtins;\nexport default b.builtins;\nexport const requireFromEsm = b.requireFromEsm;\n".into(),
                ModuleType::JavaScript,
            );
        }
        if let Some(path) = s.strip_prefix(CJS_PREFIX) {
            return source(cjs_facade(&self.code.package, path), ModuleType::JavaScript);
        }
        if let Some(path) = s.strip_prefix("file://") {
            let Some(text) = self.code.package.source(path) else {
                return refuse(format!("Cannot find module '{path}'"));
            };
            let ty = match self
                .code
                .package
                .format_of(path.trim_start_matches("/var/task/"))
            {
                package::Format::Json => ModuleType::Json,
                _ => ModuleType::JavaScript,
            };
            return source(text.to_string(), ty);
        }
        match s.strip_prefix(BUILTIN_PREFIX).and_then(|n| builtin_exports(n).map(|e| (n, e))) {
            Some((name, exports)) => source(
                format!(
                    "import builtins from {BUILTINS_SPECIFIER:?};\nconst m = builtins[{name:?}];\nexport default m;\nexport const {{ {} }} = m;\n",
                    exports.join(", ")
                ),
                ModuleType::JavaScript,
            ),
            None => refuse(format!("Cannot find module '{s}'")),
        }
    }
}

/// The ES module face of the CommonJS module at `path`: `default` is its `module.exports`,
/// and each name it exports statically (and those of modules it re-exports whole) is a named
/// export, as Node's cjs-module-lexer finds them.
fn cjs_facade(package: &Package, path: &str) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut todo = vec![path.to_string()];
    let mut seen = Vec::new();
    while let Some(p) = todo.pop() {
        if seen.contains(&p) || seen.len() > 32 {
            continue;
        }
        let Some(text) = package.source(&p) else {
            continue;
        };
        let (found, reexports) = package::cjs_exports(text);
        for n in found {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        for r in reexports {
            if let Ok((rp, package::Format::CommonJs)) =
                package.resolve(&r, &p, package::Mode::Require)
            {
                todo.push(rp);
            }
        }
        seen.push(p);
    }
    let mut out = format!(
        "import {{ requireFromEsm }} from {BUILTINS_SPECIFIER:?};\nconst m = requireFromEsm({path:?});\nexport default m;\n"
    );
    if !names.is_empty() {
        let locals: Vec<String> = (0..names.len()).map(|i| format!("$e{i}")).collect();
        let pick: Vec<String> = names
            .iter()
            .zip(&locals)
            .map(|(n, l)| format!("{n}: {l}"))
            .collect();
        let export: Vec<String> = names
            .iter()
            .zip(&locals)
            .map(|(n, l)| format!("{l} as {n}"))
            .collect();
        out.push_str(&format!(
            "const {{ {} }} = m ?? {{}};\nexport {{ {} }};\n",
            pick.join(", "),
            export.join(", ")
        ));
    }
    out
}

fn js_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The runtime's own functions (the value of `runtime.js`), held only here: user code has no
/// path to them.
struct Internals {
    invoke: v8::Global<v8::Function>,
    invoke_direct: v8::Global<v8::Function>,
    outcome_of: v8::Global<v8::Function>,
    deferred: v8::Global<v8::Value>,
    /// Where `invoke` in direct mode hands a settled value over, and what the node calls
    /// once it has read it (runtime.js `HANDED`, `handedOver`).
    handed: v8::Global<v8::Value>,
    handed_over: v8::Global<v8::Function>,
    /// What the node needs to build lazy parts itself (runtime.js `built`).
    built: v8::Global<v8::Value>,
    take: v8::Global<v8::Function>,
    wait: v8::Global<v8::Function>,
    thenable: v8::Global<v8::Function>,
    load_common_js: v8::Global<v8::Function>,
    set_module: v8::Global<v8::Function>,
    set_context: v8::Global<v8::Function>,
    seal: v8::Global<v8::Function>,
    load_cff: v8::Global<v8::Function>,
}

/// Where a runtime made for the startup snapshot keeps `runtime.js`'s value until a runtime
/// made from the snapshot takes it (and deletes it, before any user code runs).
const INTERNALS_GLOBAL: &str = "__edge_internals";

static SNAPSHOT: std::sync::OnceLock<Option<&'static [u8]>> = std::sync::OnceLock::new();

/// Isolates made in this process run the scripts themselves, unless a snapshot was made
/// already (`super::without_startup_snapshot`).
pub(super) fn skip_startup_snapshot() {
    let _ = SNAPSHOT.set(None);
}

/// The startup snapshot every isolate starts from: deno_core's own JavaScript, our ops and
/// `runtime.js` already run, made once per process (about 0.3 s; a node makes it on a thread
/// of its own as it starts, `super::make_startup_snapshot`). Restoring it costs about a
/// quarter of running those scripts again; the heap it restores is as large
/// (bench/RESULTS.md "Isolates from a startup snapshot"). Nothing in `runtime.js`'s top
/// level depends on when or where it ran, except the start time behind `process.uptime()`,
/// which `setContext` resets. `None` when the snapshot could not be made (the error is logged
/// once), was skipped (`skip_startup_snapshot`) or `EDGE_ISOLATE_SNAPSHOT=0`: isolates then
/// run the scripts themselves, as before.
pub(super) fn startup_snapshot() -> Option<&'static [u8]> {
    *SNAPSHOT.get_or_init(|| {
        if std::env::var_os("EDGE_ISOLATE_SNAPSHOT").is_some_and(|v| v == "0") {
            return None;
        }
        super::pin_platform();
        let made = std::panic::catch_unwind(|| -> Result<&'static [u8], String> {
            let mut rt = deno_core::JsRuntimeForSnapshot::new(RuntimeOptions {
                extensions: vec![edge_runtime::init()],
                ..Default::default()
            });
            // The same text as a runtime without the snapshot runs, so lines in errors agree.
            let source = format!("globalThis.{INTERNALS_GLOBAL} = {}", include_str!("runtime.js"));
            rt.execute_script("edge:runtime.js", source).map_err(js_err)?;
            let blob = Box::leak(rt.snapshot());
            // The runtime it was made in is gone: give its memory back (js/mod.rs).
            super::collect_this_thread();
            Ok(&*blob)
        });
        match made {
            Ok(Ok(blob)) => Some(blob),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the isolates' startup snapshot could not be made; each isolate runs the runtime itself");
                None
            }
            Err(_) => {
                tracing::error!("the isolates' startup snapshot could not be made (the engine panicked); each isolate runs the runtime itself");
                None
            }
        }
    })
}

impl Internals {
    /// Takes the runtime's internals: from the global a snapshot left them on (deleting it),
    /// or by running `runtime.js`.
    fn install(rt: &mut JsRuntime, from_snapshot: bool) -> Result<Internals, String> {
        let value = if from_snapshot {
            deno_core::scope!(scope, rt);
            let global = scope.get_current_context().global(scope);
            let key = v8::String::new(scope, INTERNALS_GLOBAL).ok_or("out of memory")?;
            let value = global
                .get(scope, key.into())
                .filter(|v| v.is_object())
                .ok_or("the startup snapshot holds no runtime")?;
            if global.delete(scope, key.into()) != Some(true) {
                return Err("the runtime's internals could not be taken off the global".into());
            }
            v8::Global::new(scope, value)
        } else {
            rt.execute_script("edge:runtime.js", include_str!("runtime.js"))
                .map_err(js_err)?
        };
        deno_core::scope!(scope, rt);
        let local = v8::Local::new(scope, value);
        let obj = v8::Local::<v8::Object>::try_from(local)
            .map_err(|_| "runtime.js did not return its internals".to_string())?;
        let function = |name: &'static str| -> Result<v8::Global<v8::Function>, String> {
            let key = v8::String::new(scope, name).ok_or("out of memory")?;
            let f = obj
                .get(scope, key.into())
                .and_then(|v| v8::Local::<v8::Function>::try_from(v).ok())
                .ok_or_else(|| format!("runtime.js has no function {name}"))?;
            Ok(v8::Global::new(scope, f))
        };
        let key = v8::String::new(scope, "deferred").ok_or("out of memory")?;
        let deferred = obj
            .get(scope, key.into())
            .ok_or("runtime.js has no deferred")?;
        let deferred = v8::Global::new(scope, deferred);
        let key = v8::String::new(scope, "handed").ok_or("out of memory")?;
        let handed = obj
            .get(scope, key.into())
            .ok_or("runtime.js has no handed")?;
        let handed = v8::Global::new(scope, handed);
        let key = v8::String::new(scope, "built").ok_or("out of memory")?;
        let built = obj
            .get(scope, key.into())
            .ok_or("runtime.js has no built")?;
        let built = v8::Global::new(scope, built);
        Ok(Internals {
            built,
            invoke: function("invoke")?,
            invoke_direct: function("invokeDirect")?,
            outcome_of: function("outcomeOf")?,
            deferred,
            handed,
            handed_over: function("handedOver")?,
            take: function("take")?,
            wait: function("wait")?,
            thenable: function("thenable")?,
            load_common_js: function("loadCommonJs")?,
            set_module: function("setModule")?,
            set_context: function("setContext")?,
            seal: function("seal")?,
            load_cff: function("loadCff")?,
        })
    }
}

/// What the engine calls near the heap limit: mark the isolate, stop it, and give it room to
/// unwind (it is thrown away afterwards), but bounded: the engine may call again before it
/// stops, and doubling each time let one string bomb under a 128 MB limit reach 1.35 GB of RSS.
fn near_heap_limit(
    hit: &Rc<Cell<bool>>,
    handle: &v8::IsolateHandle,
) -> impl FnMut(usize, usize) -> usize + 'static {
    let (hit, handle) = (hit.clone(), handle.clone());
    move |current, initial| {
        hit.set(true);
        handle.terminate_execution();
        (current + initial / 2).min(initial * 2).max(current)
    }
}

/// Calls `f` with `args` and waits for it (and a promise it returns) to settle.
async fn call(
    rt: &mut JsRuntime,
    f: &v8::Global<v8::Function>,
    args: &[v8::Global<v8::Value>],
) -> Result<v8::Global<v8::Value>, String> {
    let call = rt.call_with_args(f, args);
    rt.with_event_loop_promise(call, PollEventLoopOptions::default())
        .await
        .map_err(js_err)
}

/// `text` as a JavaScript string value.
fn string(rt: &mut JsRuntime, text: &str) -> Result<v8::Global<v8::Value>, String> {
    deno_core::scope!(scope, rt);
    let s = v8::String::new(scope, text).ok_or("the text is too large for the engine")?;
    let value: v8::Local<v8::Value> = s.into();
    Ok(v8::Global::new(scope, value))
}

impl Isolate {
    /// Creates an isolate, installs the runtime, seals the realm and loads the function, whose
    /// top level must finish within `limits.init_timeout` and its heap. Errors name what failed
    /// (a syntax error, a missing module, no handler, the init limit, the heap).
    pub async fn load(
        code: Arc<FunctionCode>,
        limits: &FunctionLimits,
        watchdog: &Watchdog,
        context: &str,
        pop: &Arc<str>,
    ) -> Result<Isolate, FnError> {
        let (function, file) = (code.name.clone(), code.file.clone());
        Self::create(code, limits, watchdog, context, pop)
            .await
            .map_err(|reason| FnError::Load {
                function,
                file,
                reason,
            })
    }

    async fn create(
        code: Arc<FunctionCode>,
        limits: &FunctionLimits,
        watchdog: &Watchdog,
        context: &str,
        pop: &Arc<str>,
    ) -> Result<Isolate, String> {
        let began = Instant::now();
        let heap_bytes = limits.heap_bytes;
        let heap_hit = Rc::new(Cell::new(false));
        let made = MADE.with(|m| {
            m.set(m.get() + 1);
            m.get()
        });
        // deno_core on QuickJS-ng makes a bounded number of engines per thread over the
        // thread's life (about 128 that load ES modules, ~270 in all: `examples/
        // many_runtimes.rs`; the engine shim numbers every op function of every runtime in
        // one thread-wide table whose index must fit QuickJS's 16-bit `magic`, see
        // bench/RESULTS.md "Deployment packages"); past it, creation panics or module
        // evaluation stalls. Either is a refused load that says so, never a crashed thread.
        let exhausted = move |what: &str| {
            format!("{what} (this thread has made {made} isolates; the QuickJS-ng engine makes only about 128 per thread: restart the node)")
        };
        super::pin_platform();
        let snapshot = startup_snapshot();
        let created = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            JsRuntime::new(RuntimeOptions {
                extensions: vec![edge_runtime::init()],
                module_loader: Some(Rc::new(Loader::new(code.clone()))),
                create_params: Some(v8::CreateParams::default().heap_limits(0, heap_bytes)),
                startup_snapshot: snapshot,
                ..Default::default()
            })
        }));
        let Ok(mut rt) = created else {
            return Err(exhausted("the engine could not be created"));
        };
        let handle = rt.v8_isolate().thread_safe_handle();
        rt.add_near_heap_limit_callback(near_heap_limit(&heap_hit, &handle));
        let internals = Internals::install(&mut rt, snapshot.is_some())?;
        let context = rt
            .execute_script("edge:context", format!("({context})"))
            .map_err(js_err)?;
        call(&mut rt, &internals.set_context, &[context]).await?;
        rt.op_state().borrow_mut().put(MemoryLimit(heap_bytes));
        rt.op_state()
            .borrow_mut()
            .put(super::modules::ModuleFiles(code.clone()));
        // The top level's console output is the function's too, in its init phase.
        rt.op_state().borrow_mut().put(LogContext {
            function: code.name.as_str().into(),
            version: code.version,
            stage: "init",
            request_id: String::new(),
            pop: pop.clone(),
            egress: None,
            held: None,
        });
        let slot = watchdog.slot(handle.clone());
        rt.op_state().borrow_mut().put(slot.clone());
        let deadline = Instant::now() + limits.init_timeout;
        let guard = watchdog.arm(&slot, deadline);
        let loaded =
            tokio::time::timeout_at(deadline.into(), load_function(&mut rt, &internals, &code))
                .await;
        // A deadline taken at the very end still terminates: such an isolate is not kept.
        let fired = guard.finish();
        drop(guard);
        match loaded {
            _ if heap_hit.get() => Err(format!(
                "its top-level code ran out of memory ({} MB heap limit)",
                heap_bytes >> 20
            )),
            Err(_) => Err(init_limit(limits)),
            _ if fired => Err(init_limit(limits)),
            Ok(Err(e)) if made > 100 && e.contains("event loop has already resolved") => {
                Err(exhausted(&e))
            }
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => {
                // A CloudFront function has 2 MB of memory: what it holds after loading is
                // the runtime's and its code's; from here on it gets 2 MB more.
                let heap_bytes = if code.cloudfront.is_some() {
                    let used = rt.v8_isolate().get_heap_statistics().used_heap_size();
                    rt.remove_near_heap_limit_callback(used + crate::cloudfront::MEMORY_BYTES);
                    rt.add_near_heap_limit_callback(near_heap_limit(&heap_hit, &handle));
                    crate::cloudfront::MEMORY_BYTES
                } else {
                    heap_bytes
                };
                let (direct, read_back) = if code.cloudfront.is_some() {
                    (Direct::new(&mut rt, &internals), None)
                } else {
                    let read_back = ReadBack::new(&mut rt, &internals);
                    #[cfg(test)]
                    let read_back = read_back.filter(|_| !JSON_RESULTS.get());
                    (None, read_back)
                };
                Ok(Isolate {
                    direct,
                    read_back,
                    rt,
                    internals,
                    slot,
                    heap_hit,
                    heap_bytes,
                    tainted: false,
                    init: Some(began.elapsed()),
                    calls: 0,
                    max_heap: 0,
                    sampled: None,
                })
            }
        }
    }

    /// The init duration, once: on the isolate's first call.
    pub fn take_init(&mut self) -> Option<std::time::Duration> {
        self.init.take()
    }

    /// The most heap this isolate was seen to use, in MB (Lambda's `Max Memory Used`),
    /// measured on the first call and then at most every `HEAP_SAMPLE_EVERY`.
    pub fn max_heap_mb(&mut self) -> u64 {
        let due = match self.sampled {
            None => true,
            Some(at) => {
                self.calls.is_multiple_of(HEAP_LOOK_EVERY) && at.elapsed() >= HEAP_SAMPLE_EVERY
            }
        };
        if due {
            let used = self.rt.v8_isolate().get_heap_statistics().used_heap_size();
            self.max_heap = self.max_heap.max(used);
            self.sampled = Some(Instant::now());
        }
        self.calls += 1;
        (self.max_heap as u64).div_ceil(1 << 20).max(1)
    }

    /// Runs the handler on `event` (JSON text) and returns its result as JSON text.
    ///
    /// Fast path: call the handler and run one microtask checkpoint; most handlers have
    /// settled by then. Otherwise drive deno_core's event loop (timers, fetch) until the
    /// outcome is recorded, the loop drains, or the deadline passes.
    ///
    /// With a `slice` (a call on a thread that serves viewers), the synchronous part is
    /// stopped at the slice unless it finished or fetched first: `FnError::Sliced`, and the
    /// caller runs it again elsewhere. Its console lines are held until then, so they are
    /// written once.
    #[allow(clippy::too_many_arguments)]
    pub async fn invoke(
        &mut self,
        input: Input<'_>,
        request_id: &str,
        mut ctx: LogContext,
        timeout_ms: u64,
        deadline: Instant,
        slice: Option<Instant>,
        watchdog: &Watchdog,
    ) -> Result<Returned, FnError> {
        if slice.is_some() {
            ctx.held = Some(Vec::new());
        }
        {
            // Replaced in place: no new allocation in the op state per call.
            let state = self.rt.op_state();
            let mut state = state.borrow_mut();
            match state.try_borrow_mut::<LogContext>() {
                Some(c) => *c = ctx,
                None => state.put(ctx),
            }
        }
        let slot = self.slot.clone();
        let guard = watchdog.arm_sliced(&slot, slice, deadline);
        let fast = match (input, self.direct.as_mut()) {
            (Input::Built { build, .. }, Some(direct)) => {
                // The op layer and the microtask checkpoint need the engine's scope open.
                deno_core::scope!(scope, self.rt);
                match direct.call(build) {
                    Err(()) => Err(()),
                    Ok(Some(Ok(value))) => Ok(Some(Fast::Value(value, false))),
                    Ok(Some(Err(text))) => Ok(Some(Fast::Text(text))),
                    Ok(None) => Ok(take(scope, &self.internals.take).map(Fast::Text)),
                }
            }
            (input, _) => {
                let text;
                let (event, parts) = match input {
                    Input::Json { event, parts } => (event, parts),
                    Input::Built { json, .. } => {
                        text = json();
                        (text.as_str(), "")
                    }
                };
                deno_core::scope!(scope, self.rt);
                let recv: v8::Local<v8::Value> = v8::undefined(scope).into();
                let (Some(e), Some(p), Some(r)) = (
                    v8::String::new(scope, event),
                    v8::String::new(scope, parts),
                    v8::String::new(scope, request_id),
                ) else {
                    return Err(FnError::Threw(
                        "the event is too large for the engine".into(),
                    ));
                };
                let t = v8::Number::new(scope, timeout_ms as f64);
                let d = v8::Boolean::new(scope, self.read_back.is_some());
                let f = v8::Local::new(scope, &self.internals.invoke);
                // `invoke` runs the microtasks and returns the outcome if the handler settled
                // (in direct mode a settled value is handed over as it is).
                match f.call(
                    scope,
                    recv,
                    &[e.into(), p.into(), r.into(), t.into(), d.into()],
                ) {
                    None => Err(()),
                    Some(v) if v.is_string() => Ok(Some(Fast::Text(v.to_rust_string_lossy(scope)))),
                    Some(v) => match self.read_back.as_ref() {
                        Some(read_back) => read_back.take(v),
                        None => Ok(None),
                    },
                }
            }
        };
        if guard.sliced() {
            self.tainted = true;
            return Err(FnError::Sliced);
        }
        if !guard.unslice() {
            // The watchdog took the slice as the call finished: its termination is on its
            // way, so this isolate is done, and the call runs again on a function thread.
            self.tainted = true;
            return Err(FnError::Sliced);
        }
        if slice.is_some() {
            if let Some(c) = self
                .rt
                .op_state()
                .borrow_mut()
                .try_borrow_mut::<LogContext>()
            {
                c.release();
            }
        }
        let outcome = match fast {
            Ok(Some(fast)) => Ok(fast),
            Err(()) => {
                Err(self.stopped(&guard, "the runtime could not call the handler", timeout_ms))
            }
            Ok(None) => {
                let call = {
                    deno_core::scope!(scope, self.rt);
                    JsRuntime::scoped_call_with_args(scope, &self.internals.wait, &[])
                };
                let waited = tokio::time::timeout_at(
                    deadline.into(),
                    self.rt
                        .with_event_loop_promise(call, PollEventLoopOptions::default()),
                )
                .await;
                match waited {
                    Err(_) => {
                        self.tainted = true;
                        Err(FnError::Timeout(std::time::Duration::from_millis(
                            timeout_ms,
                        )))
                    }
                    Ok(Ok(_)) => {
                        deno_core::scope!(scope, self.rt);
                        take(scope, &self.internals.take)
                            .map(Fast::Text)
                            .ok_or_else(|| {
                                FnError::Threw("the handler settled without an outcome".into())
                            })
                    }
                    Ok(Err(e))
                        if !guard.fired()
                            && !self.heap_hit.get()
                            && e.to_string()
                                .contains("Promise resolution is still pending") =>
                    {
                        let thenable = {
                            deno_core::scope!(scope, self.rt);
                            let recv: v8::Local<v8::Value> = v8::undefined(scope).into();
                            let f = v8::Local::new(scope, &self.internals.thenable);
                            f.call(scope, recv, &[]).is_some_and(|v| v.is_true())
                        };
                        return if thenable {
                            Err(FnError::NeverSettled)
                        } else {
                            Ok(Returned {
                                json: "null".into(),
                                value: None,
                                untouched_headers: false,
                                origin: None,
                            })
                        };
                    }
                    Ok(Err(e)) => Err(self.stopped(&guard, &e.to_string(), timeout_ms)),
                }
            }
        };
        if guard.finish() {
            // Stopped, or about to be: whatever it answered, this isolate runs nothing more.
            self.tainted = true;
        }
        drop(guard);
        match outcome? {
            Fast::Text(text) => outcome_of(&text),
            Fast::Value(value, untouched_headers) => Ok(Returned {
                json: String::new(),
                value: Some(value),
                untouched_headers,
                origin: None,
            }),
        }
    }
}

/// What a call's first entry into the engine gave: the recorded outcome's text, or the value
/// itself (js/qjs.rs).
enum Fast {
    Text(String),
    /// The value, and whether it is the object the event gave with its headers unread.
    Value(serde_json::Value, bool),
}

impl Isolate {
    /// Why JavaScript stopped: the heap limit, the deadline, or an error; the first two leave
    /// the isolate unusable.
    fn stopped(&mut self, guard: &Guard<'_>, error: &str, timeout_ms: u64) -> FnError {
        if self.heap_hit.get() {
            self.tainted = true;
            FnError::Memory(self.heap_bytes)
        } else if guard.sliced() {
            self.tainted = true;
            FnError::Sliced
        } else if guard.fired() {
            self.tainted = true;
            FnError::Timeout(std::time::Duration::from_millis(timeout_ms))
        } else {
            FnError::Threw(error.to_string())
        }
    }
}

/// The outcome the runtime recorded: "o<json>", "c<0|1><json>", "e<error>" or "u<error>",
/// after "g<origin change>\n" when a CloudFront function changed the origin.
fn outcome_of(text: &str) -> Result<Returned, FnError> {
    match text.split_at_checked(1) {
        Some(("g", rest)) => {
            let (origin, rest) = rest.split_once('\n').unwrap_or((rest, "onull"));
            let mut r = outcome_of(rest)?;
            r.origin = Some(origin.to_string());
            Ok(r)
        }
        Some(("o", json)) => Ok(Returned {
            value: None,
            json: json.to_string(),
            untouched_headers: false,
            origin: None,
        }),
        Some(("c", rest)) => Ok(Returned {
            value: None,
            untouched_headers: rest.starts_with('1'),
            json: rest.get(1..).unwrap_or("null").to_string(),
            origin: None,
        }),
        Some(("e", err)) => Err(FnError::Threw(err.to_string())),
        Some(("u", err)) => Err(FnError::Unserializable(err.to_string())),
        _ => Err(FnError::Threw(format!("unexpected outcome {text:?}"))),
    }
}

fn init_limit(limits: &FunctionLimits) -> String {
    format!(
        "its top-level code ran longer than the {:.1} s init limit (node.function_init_timeout)",
        limits.init_timeout.as_secs_f64()
    )
}

/// Seals the realm, then runs the function's top level and hands its exports to the runtime.
/// An ES module's Node imports are evaluated first, while the runtime can still give them
/// their values; no user code runs before the seal.
async fn load_function(
    rt: &mut JsRuntime,
    internals: &Internals,
    code: &FunctionCode,
) -> Result<(), String> {
    if let Some(runtime) = code.cloudfront {
        return load_cloudfront(rt, internals, code, runtime).await;
    }
    let package = &code.package;
    let entry = package.entry()?;
    let rel = entry.trim_start_matches("/var/task/");
    let file = string(rt, &entry)?;
    let export = string(rt, &package.handler.export)?;
    let lenient = {
        deno_core::scope!(scope, rt);
        let v: v8::Local<v8::Value> = v8::Boolean::new(scope, package.single).into();
        v8::Global::new(scope, v)
    };
    match package.format_of(rel) {
        package::Format::Module => {
            // The Node modules' ES module form reads their values before the realm is sealed.
            let builtins = ModuleSpecifier::parse(BUILTINS_SPECIFIER).map_err(js_err)?;
            let id = rt.load_side_es_module(&builtins).await.map_err(js_err)?;
            evaluate(rt, id).await?;
            call(rt, &internals.seal, &[]).await?;
            let main = ModuleSpecifier::parse(&format!("file://{entry}")).map_err(js_err)?;
            let id = rt.load_main_es_module(&main).await.map_err(js_err)?;
            evaluate(rt, id).await?;
            let ns = rt.get_module_namespace(id).map_err(js_err)?;
            let ns = {
                deno_core::scope!(scope, rt);
                let local: v8::Local<v8::Value> = v8::Local::new(scope, ns).into();
                v8::Global::new(scope, local)
            };
            call(rt, &internals.set_module, &[ns, file, export, lenient]).await?;
        }
        package::Format::CommonJs => {
            call(rt, &internals.seal, &[]).await?;
            call(rt, &internals.load_common_js, &[file, export, lenient]).await?;
        }
        package::Format::Json => {
            return Err(format!(
                "the handler's module {entry} is JSON, not JavaScript"
            ));
        }
    }
    Ok(())
}

/// A CloudFront function: a script (its `import` lines turned into bindings) whose top-level
/// `handler` the runtime keeps; the realm is sealed and narrowed first.
async fn load_cloudfront(
    rt: &mut JsRuntime,
    internals: &Internals,
    code: &FunctionCode,
    runtime: crate::cloudfront::Runtime,
) -> Result<(), String> {
    use crate::cloudfront::syntax;
    let source = std::str::from_utf8(&code.bytes)
        .map_err(|e| format!("the code is not UTF-8 text ({e})"))?;
    let tokens = syntax::tokens(source)?;
    let imports = syntax::imports(source, &tokens)?;
    let source = syntax::without_imports(source, &imports);
    let text = string(rt, &source)?;
    let file = string(rt, &code.file)?;
    let v2 = {
        deno_core::scope!(scope, rt);
        let v: v8::Local<v8::Value> =
            v8::Boolean::new(scope, runtime == crate::cloudfront::Runtime::Js2).into();
        v8::Global::new(scope, v)
    };
    let kvs = match &code.kvs {
        Some(id) => string(rt, id)?,
        None => {
            deno_core::scope!(scope, rt);
            let v: v8::Local<v8::Value> = v8::null(scope).into();
            v8::Global::new(scope, v)
        }
    };
    call(rt, &internals.load_cff, &[text, file, v2, kvs]).await?;
    Ok(())
}

/// Evaluates a loaded module, running the event loop until its top level (and a top-level
/// `await`) is done.
async fn evaluate(rt: &mut JsRuntime, id: deno_core::ModuleId) -> Result<(), String> {
    let eval = Box::pin(rt.mod_evaluate(id));
    rt.with_event_loop_promise(eval, PollEventLoopOptions::default())
        .await
        .map_err(js_err)
}

/// The recorded outcome, if the handler has settled.
fn take(scope: &mut v8::PinScope, f: &v8::Global<v8::Function>) -> Option<String> {
    let recv: v8::Local<v8::Value> = v8::undefined(scope).into();
    let f = v8::Local::new(scope, f);
    f.call(scope, recv, &[])
        .filter(|v| v.is_string())
        .map(|v| v.to_rust_string_lossy(scope))
}
