//! One warm JavaScript isolate running one function version: created and loaded once, then
//! invoked many times with globals kept between invocations, like a warm Lambda.

use super::ops::{edge_runtime, LogContext};
use super::watchdog::{Slot, Watchdog};
use super::FunctionCode;
use deno_core::error::ModuleLoaderError;
use deno_core::{
    v8, JsRuntime, ModuleLoadOptions, ModuleLoadReferrer, ModuleLoadResponse, ModuleLoader,
    ModuleSource, ModuleSourceCode, ModuleSpecifier, ModuleType, PollEventLoopOptions,
    RequestedModuleType, ResolutionKind, RuntimeOptions,
};
use deno_error::JsErrorBox;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// Why an invocation produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeFailure {
    /// The function threw, rejected or called back with an error.
    Threw(String),
    /// Its promise never settled and nothing was left to run.
    NeverSettled,
    Timeout,
    /// The heap limit was reached.
    Memory(usize),
    /// The result could not be turned into JSON.
    Unserializable(String),
}

pub struct Isolate {
    rt: JsRuntime,
    invoke: v8::Global<v8::Function>,
    take: v8::Global<v8::Function>,
    wait: v8::Global<v8::Function>,
    slot: Arc<Slot>,
    heap_hit: Rc<Cell<bool>>,
    heap_bytes: usize,
    /// Set when the isolate must not be used again (terminated, timed out mid-flight).
    pub tainted: bool,
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
fn builtin_exports(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "buffer" => &["Buffer"],
        "crypto" => &[
            "createHash",
            "createHmac",
            "randomBytes",
            "randomUUID",
            "timingSafeEqual",
            "getRandomValues",
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
        "util" => &["format", "inspect", "promisify"],
        "zlib" => &[
            "gzipSync",
            "gunzipSync",
            "deflateSync",
            "inflateSync",
            "deflateRawSync",
            "inflateRawSync",
            "unzipSync",
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
        _ => return None,
    })
}

/// Serves the function's own source, a wrapper that hands its namespace to the runtime, and
/// the Node modules; anything else is refused with its name.
struct Loader {
    code: Arc<FunctionCode>,
}

impl ModuleLoader for Loader {
    fn resolve(
        &self,
        specifier: &str,
        _referrer: &str,
        _kind: ResolutionKind,
    ) -> Result<ModuleSpecifier, ModuleLoaderError> {
        let bare = specifier.strip_prefix("node:").unwrap_or(specifier);
        let resolved = match specifier {
            "edge:main" | "edge:function" => specifier.to_string(),
            _ if builtin_exports(bare).is_some() => format!("edge:builtin/{bare}"),
            _ if specifier.starts_with("edge:builtin/") => specifier.to_string(),
            _ => {
                return Err(JsErrorBox::generic(format!(
                    "Cannot find module '{specifier}' imported by {}: functions here may import only buffer, crypto, querystring, url, util, zlib, timers, string_decoder (bundle other dependencies into the function file)",
                    self.code.file
                )))
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
        let code = match s {
            "edge:main" => format!(
                "import * as ns from \"edge:function\";\n__edge.setModule(ns, {});\n",
                serde_json::to_string(&self.code.file).unwrap_or_default()
            ),
            "edge:function" => self.code.source.to_string(),
            _ => match s.strip_prefix("edge:builtin/").and_then(|n| builtin_exports(n).map(|e| (n, e))) {
                Some((name, exports)) => format!(
                    "const m = __edge.builtins[{name:?}];\nexport default m;\nexport const {{ {} }} = m;\n",
                    exports.join(", ")
                ),
                None => {
                    return ModuleLoadResponse::Sync(Err(JsErrorBox::generic(format!("Cannot find module '{s}'"))));
                }
            },
        };
        ModuleLoadResponse::Sync(Ok(ModuleSource::new(
            ModuleType::JavaScript,
            ModuleSourceCode::String(code.into()),
            specifier,
            None,
        )))
    }
}

fn js_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Isolate {
    /// Creates an isolate, installs the runtime and loads the function. Errors name what failed
    /// (a syntax error, a missing module, no handler).
    pub async fn load(
        code: Arc<FunctionCode>,
        heap_bytes: usize,
        watchdog: &Watchdog,
        context: &str,
    ) -> Result<Isolate, String> {
        let _ = RequestedModuleType::None;
        let heap_hit = Rc::new(Cell::new(false));
        let mut rt = JsRuntime::new(RuntimeOptions {
            extensions: vec![edge_runtime::init()],
            module_loader: Some(Rc::new(Loader { code: code.clone() })),
            create_params: Some(v8::CreateParams::default().heap_limits(0, heap_bytes)),
            ..Default::default()
        });
        let handle = rt.v8_isolate().thread_safe_handle();
        {
            let (hit, handle) = (heap_hit.clone(), handle.clone());
            rt.add_near_heap_limit_callback(move |current, _initial| {
                hit.set(true);
                handle.terminate_execution();
                // Room to unwind; the isolate is thrown away afterwards.
                current * 2
            });
        }
        rt.execute_script("edge:runtime.js", include_str!("runtime.js"))
            .map_err(js_err)?;
        rt.execute_script("edge:context", format!("__edge.setContext({context});"))
            .map_err(js_err)?;
        let file_json = serde_json::to_string(&code.file).unwrap_or_default();
        if is_es_module(&code.source) {
            let main = ModuleSpecifier::parse("edge:main").map_err(js_err)?;
            let id = rt.load_main_es_module(&main).await.map_err(js_err)?;
            let eval = rt.mod_evaluate(id);
            rt.run_event_loop(PollEventLoopOptions::default())
                .await
                .map_err(js_err)?;
            eval.await.map_err(js_err)?;
        } else {
            let wrapped = format!(
                "__edge.loadCommonJs(function (exports, require, module, __filename, __dirname) {{\n{}\n}}, {file_json});",
                code.source
            );
            rt.execute_script(code.file.clone(), wrapped)
                .map_err(js_err)?;
            rt.run_event_loop(PollEventLoopOptions::default())
                .await
                .map_err(js_err)?;
        }
        let mut function = |name: &'static str| -> Result<v8::Global<v8::Function>, String> {
            let v = rt
                .execute_script("edge:lookup", format!("__edge.{name}"))
                .map_err(js_err)?;
            deno_core::scope!(scope, rt);
            let local = v8::Local::new(scope, v);
            let f = v8::Local::<v8::Function>::try_from(local)
                .map_err(|_| format!("__edge.{name} is not a function"))?;
            Ok(v8::Global::new(scope, f))
        };
        let (invoke, take, wait) = (function("invoke")?, function("take")?, function("wait")?);
        let slot = watchdog.slot(handle);
        Ok(Isolate {
            rt,
            invoke,
            take,
            wait,
            slot,
            heap_hit,
            heap_bytes,
            tainted: false,
        })
    }

    /// Runs the handler on `event` (JSON text) and returns its result as JSON text.
    ///
    /// Fast path: call the handler and run one microtask checkpoint; most handlers have
    /// settled by then. Otherwise drive deno_core's event loop (timers, fetch) until the
    /// outcome is recorded, the loop drains, or the deadline passes.
    pub async fn invoke(
        &mut self,
        event: &str,
        ctx: LogContext,
        timeout_ms: u64,
        deadline: Instant,
        watchdog: &Watchdog,
    ) -> Result<String, InvokeFailure> {
        let request_id = ctx.request_id.clone();
        self.rt.op_state().borrow_mut().put(ctx);
        let slot = self.slot.clone();
        let guard = watchdog.arm(&slot, deadline);
        let fast = {
            deno_core::scope!(scope, self.rt);
            let recv: v8::Local<v8::Value> = v8::undefined(scope).into();
            let (Some(e), Some(r)) = (
                v8::String::new(scope, event),
                v8::String::new(scope, &request_id),
            ) else {
                return Err(InvokeFailure::Threw(
                    "the event is too large for the engine".into(),
                ));
            };
            let t = v8::Number::new(scope, timeout_ms as f64);
            let f = v8::Local::new(scope, &self.invoke);
            match f.call(scope, recv, &[e.into(), r.into(), t.into()]) {
                None => Err(()),
                Some(_) => {
                    scope.perform_microtask_checkpoint();
                    Ok(take(scope, &self.take))
                }
            }
        };
        let outcome = match fast {
            Ok(Some(text)) => Ok(text),
            Err(()) => Err(self.stopped(guard.fired(), "the runtime could not call the handler")),
            Ok(None) => {
                let call = {
                    deno_core::scope!(scope, self.rt);
                    JsRuntime::scoped_call_with_args(scope, &self.wait, &[])
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
                        Err(InvokeFailure::Timeout)
                    }
                    Ok(Ok(_)) => {
                        deno_core::scope!(scope, self.rt);
                        take(scope, &self.take).ok_or_else(|| {
                            InvokeFailure::Threw("the handler settled without an outcome".into())
                        })
                    }
                    Ok(Err(e))
                        if !guard.fired()
                            && !self.heap_hit.get()
                            && e.to_string()
                                .contains("Promise resolution is still pending") =>
                    {
                        let thenable = self
                            .rt
                            .execute_script("edge:state", "__edge.state.thenable")
                            .ok()
                            .map(|v| {
                                deno_core::scope!(scope, self.rt);
                                v8::Local::new(scope, v).is_true()
                            })
                            .unwrap_or(false);
                        return if thenable {
                            Err(InvokeFailure::NeverSettled)
                        } else {
                            Ok("null".into())
                        };
                    }
                    Ok(Err(e)) => Err(self.stopped(guard.fired(), &e.to_string())),
                }
            }
        };
        drop(guard);
        let text = outcome?;
        match text.split_at_checked(1) {
            Some(("o", json)) => Ok(json.to_string()),
            Some(("e", err)) => Err(InvokeFailure::Threw(err.to_string())),
            Some(("u", err)) => Err(InvokeFailure::Unserializable(err.to_string())),
            _ => Err(InvokeFailure::Threw(format!("unexpected outcome {text:?}"))),
        }
    }

    /// Why JavaScript stopped: the heap limit, the deadline, or an error; the first two leave
    /// the isolate unusable.
    fn stopped(&mut self, fired: bool, error: &str) -> InvokeFailure {
        if self.heap_hit.get() {
            self.tainted = true;
            InvokeFailure::Memory(self.heap_bytes)
        } else if fired {
            self.tainted = true;
            InvokeFailure::Timeout
        } else {
            InvokeFailure::Threw(error.to_string())
        }
    }
}

/// The recorded outcome, if the handler has settled.
fn take(scope: &mut v8::PinScope, f: &v8::Global<v8::Function>) -> Option<String> {
    let recv: v8::Local<v8::Value> = v8::undefined(scope).into();
    let f = v8::Local::new(scope, f);
    f.call(scope, recv, &[])
        .filter(|v| v.is_string())
        .map(|v| v.to_rust_string_lossy(scope))
}
