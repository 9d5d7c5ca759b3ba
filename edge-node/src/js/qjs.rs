//! The engine under the V8 API, reached directly for the one thing that must be cheap: handing
//! a function its event and reading back what it returned.
//!
//! deno_core runs on QuickJS-ng through `v8x`, a shim of V8's C API. Going through that shim
//! an event can only cross as JSON text (`JSON.parse` of a CloudFront function's event ≈ 4.5
//! µs, `JSON.stringify` of its result ≈ 8 µs on this machine), while building the same event
//! with QuickJS-ng's own C API and calling the handler costs 0.5–2 µs
//! (`examples/raw_engine.rs`, bench/RESULTS.md "The engine's own floor"). So this module
//! builds objects with `JS_NewObject`/`JS_DefinePropertyValue` and reads plain results back into
//! `serde_json::Value` with the rules of `JSON.stringify`; anything that is not plain data
//! (a `toJSON`, a proxy, a boxed primitive, a lone surrogate, a cycle)
//! makes the reader give up, and the caller takes the JSON path, which is exact.
//!
//! Only for the QuickJS backend: `context` checks that a `v8::Context` handle holds a QuickJS
//! context (the shim's tag) and answers `None` otherwise (a V8 build takes the JSON path).

#![allow(unsafe_code)]

use deno_core::v8;
use serde_json::{Map, Number, Value};
use std::ffi::{c_char, c_int, c_void};

#[repr(C)]
#[derive(Copy, Clone)]
union Payload {
    int: i32,
    float: f64,
    ptr: *mut c_void,
}

/// QuickJS-ng's `JSValue` on 64-bit targets (no NaN boxing): a payload and a tag.
#[repr(C)]
#[derive(Copy, Clone)]
pub struct JsValue {
    u: Payload,
    tag: i64,
}

#[repr(C)]
pub struct JsContext {
    _opaque: [u8; 0],
}

type Atom = u32;

#[repr(C)]
struct PropertyEnum {
    is_enumerable: bool,
    atom: Atom,
}

const TAG_STRING: i64 = -7;
const TAG_STRING_ROPE: i64 = -6;
const TAG_OBJECT: i64 = -1;
const TAG_INT: i64 = 0;
const TAG_BOOL: i64 = 1;
const TAG_NULL: i64 = 2;
const TAG_UNDEFINED: i64 = 3;
const TAG_EXCEPTION: i64 = 6;
const TAG_FLOAT64: i64 = 8;
/// The shim's tag for a `v8::Context` handle (`JS_TAG_V8_CONTEXT` in v8x's core.rs).
const TAG_V8_CONTEXT: i64 = 0x7632;
const CLASS_OBJECT: u32 = 1;
const CLASS_ARRAY: u32 = 2;
const GPN_STRING_MASK: c_int = 1 << 0;
const GPN_PRIVATE_MASK: c_int = 1 << 2;
/// Configurable, enumerable: an accessor as `Object.defineProperty` makes it from the
/// runtime's descriptors.
const PROP_C_E: c_int = 0b101;
/// Configurable, writable, enumerable: a property as an object literal makes it.
const PROP_C_W_E: c_int = 0b111;
const GPN_ENUM_ONLY: c_int = 1 << 4;

pub const UNDEFINED: JsValue = JsValue {
    u: Payload { int: 0 },
    tag: TAG_UNDEFINED,
};

unsafe extern "C" {
    fn JS_NewObject(ctx: *mut JsContext) -> JsValue;
    fn JS_DefinePropertyValue(
        ctx: *mut JsContext,
        obj: JsValue,
        atom: Atom,
        value: JsValue,
        flags: c_int,
    ) -> c_int;
    fn JS_NewArrayFrom(ctx: *mut JsContext, count: c_int, values: *const JsValue) -> JsValue;
    fn JS_NewAtomLen(ctx: *mut JsContext, s: *const c_char, len: usize) -> Atom;
    fn JS_FreeAtom(ctx: *mut JsContext, atom: Atom);
    fn JS_NewStringLen(ctx: *mut JsContext, s: *const c_char, len: usize) -> JsValue;
    fn JS_Call(
        ctx: *mut JsContext,
        f: JsValue,
        this: JsValue,
        argc: c_int,
        argv: *const JsValue,
    ) -> JsValue;
    fn JS_GetProperty(ctx: *mut JsContext, obj: JsValue, atom: Atom) -> JsValue;
    fn JS_GetPropertyUint32(ctx: *mut JsContext, obj: JsValue, idx: u32) -> JsValue;
    fn JS_GetLength(ctx: *mut JsContext, obj: JsValue, len: *mut i64) -> c_int;
    fn JS_GetOwnPropertyNames(
        ctx: *mut JsContext,
        tab: *mut *mut PropertyEnum,
        len: *mut u32,
        obj: JsValue,
        flags: c_int,
    ) -> c_int;
    fn JS_FreePropertyEnum(ctx: *mut JsContext, tab: *mut PropertyEnum, len: u32);
    fn JS_AtomToCStringLen(ctx: *mut JsContext, len: *mut usize, atom: Atom) -> *const c_char;
    fn JS_GetClassID(v: JsValue) -> u32;
    fn JS_IsProxy(v: JsValue) -> bool;
    fn JS_IsFunction(ctx: *mut JsContext, v: JsValue) -> bool;
    fn JS_FreeValue(ctx: *mut JsContext, v: JsValue);
    fn JS_DupValue(ctx: *mut JsContext, v: JsValue) -> JsValue;
    fn JS_ToCStringLen2(
        ctx: *mut JsContext,
        len: *mut usize,
        v: JsValue,
        cesu8: bool,
    ) -> *const c_char;
    fn JS_FreeCString(ctx: *mut JsContext, p: *const c_char);
    fn JS_GetException(ctx: *mut JsContext) -> JsValue;
    fn JS_DefinePropertyGetSet(
        ctx: *mut JsContext,
        obj: JsValue,
        atom: Atom,
        getter: JsValue,
        setter: JsValue,
        flags: c_int,
    ) -> c_int;
    fn JS_DupAtom(ctx: *mut JsContext, atom: Atom) -> Atom;
}

/// A live QuickJS context: made only by `context` from an open scope, and used while the
/// isolate it belongs to lives.
#[derive(Clone, Copy)]
pub struct Ctx(*mut JsContext);

/// The QuickJS context behind the current `v8::Context` of `scope`, when the engine is
/// QuickJS-ng.
pub fn context(scope: &mut v8::PinScope) -> Option<Ctx> {
    let local = scope.get_current_context();
    // SAFETY: a `Local<Context>` is a pointer to a handle slot; under v8x's QuickJS backend
    // the slot holds a JSValue tagged `TAG_V8_CONTEXT` whose payload is the JSContext (v8x
    // core.rs `ctx_to_jsval`). The tag is checked before the payload is used.
    let v = unsafe { *(&*local as *const v8::Context as *const JsValue) };
    // SAFETY: reading the union member the tag says is set.
    (v.tag == TAG_V8_CONTEXT).then_some(Ctx(unsafe { v.u.ptr }.cast::<JsContext>()))
}

impl Ctx {
    /// `s` as an engine string (owned).
    pub fn string(self, s: &str) -> JsValue {
        // SAFETY: the bytes are valid for their length; the context is live.
        unsafe { JS_NewStringLen(self.0, s.as_ptr().cast(), s.len()) }
    }

    /// The engine value a V8 handle stands for, with its own reference (free it with `free`).
    pub fn value_of(self, local: v8::Local<v8::Value>) -> JsValue {
        // SAFETY: under the QuickJS backend a `Local<Value>` points at the value's JSValue
        // slot (v8x core.rs `jsval_of`); `self` is this isolate's live context.
        unsafe { JS_DupValue(self.0, *(&*local as *const v8::Value as *const JsValue)) }
    }

    /// Calls `f` with `this` undefined and `args` (borrowed); the result is owned, or `None`
    /// when the call threw (our callers' functions throw only when terminated).
    pub fn call(self, f: JsValue, args: &[JsValue]) -> Option<JsValue> {
        // SAFETY: `f` and `args` are live values of this context's runtime; a pending
        // exception is taken and dropped (a termination leaves one too).
        unsafe {
            let r = JS_Call(self.0, f, UNDEFINED, args.len() as c_int, args.as_ptr());
            if r.tag == TAG_EXCEPTION {
                JS_FreeValue(self.0, JS_GetException(self.0));
                return None;
            }
            Some(r)
        }
    }

    /// Element `i` of the array `v` (owned).
    pub fn element(self, v: JsValue, i: u32) -> JsValue {
        // SAFETY: `v` is a live value of this context; the result is owned by the caller.
        unsafe { JS_GetPropertyUint32(self.0, v, i) }
    }

    /// Drops a reference to `v`.
    pub fn free(self, v: JsValue) {
        // SAFETY: `v` is an owned value of this context's runtime.
        unsafe { JS_FreeValue(self.0, v) }
    }
}

/// Object and string building on one context, with the atoms of fixed key names made once.
pub struct Builder {
    ctx: *mut JsContext,
    /// Atoms of key names fixed in the program, kept for the builder's life.
    fixed: Vec<(&'static str, Atom)>,
    keys: Vec<Atom>,
    values: Vec<JsValue>,
    /// Atoms made from data (header and cookie names), freed once their object holds them.
    made: Vec<Atom>,
    /// Where each open object or array starts in `values` (and `keys`), and whether it is an
    /// array.
    open: Vec<(usize, usize, bool)>,
    /// The runtime's lazy parts, when it gave them (`set_lazy`).
    lazy: Option<Lazy>,
    /// Places in `values` that are lazy accessors (which of `Lazy::accessors`).
    lazy_at: Vec<(usize, usize)>,
}

/// What the builder needs to make an object's parts lazy as the runtime's `lazy()` does
/// (runtime.js `built`): the accessors' getter and setter functions, and the name of
/// `Pending`'s private field, where the parts' text and places go.
struct Lazy {
    accessors: Vec<(JsValue, JsValue)>,
    private: Atom,
}

impl Builder {
    pub fn new(ctx: Ctx) -> Builder {
        Builder {
            ctx: ctx.0,
            fixed: Vec::new(),
            keys: Vec::with_capacity(64),
            values: Vec::with_capacity(64),
            made: Vec::with_capacity(32),
            open: Vec::with_capacity(8),
            lazy: None,
            lazy_at: Vec::with_capacity(4),
        }
    }

    /// Takes the runtime's lazy parts from `built` (borrowed: runtime.js `built`, with
    /// `accessors`, getter and setter pairs, and `stamped`, an object carrying `Pending`'s
    /// private field). False when it is not that shape.
    pub fn set_lazy(&mut self, built: JsValue) -> bool {
        // SAFETY: `built` is a live value of `ctx`; every value gotten is freed or kept (the
        // accessors, freed on drop); the name table is freed after its one atom is duplicated.
        unsafe {
            let get = |obj: JsValue, name: &str| {
                let a = JS_NewAtomLen(self.ctx, name.as_ptr().cast(), name.len());
                let v = JS_GetProperty(self.ctx, obj, a);
                JS_FreeAtom(self.ctx, a);
                v
            };
            let list = get(built, "accessors");
            let mut fns = Vec::with_capacity(6);
            let mut len = 0i64;
            if JS_GetLength(self.ctx, list, &mut len) == 0 {
                for i in 0..len as u32 {
                    fns.push(JS_GetPropertyUint32(self.ctx, list, i));
                }
            }
            JS_FreeValue(self.ctx, list);
            let stamped = get(built, "stamped");
            let mut tab: *mut PropertyEnum = std::ptr::null_mut();
            let mut n = 0u32;
            let private = if stamped.tag == TAG_OBJECT
                && JS_GetOwnPropertyNames(self.ctx, &mut tab, &mut n, stamped, GPN_PRIVATE_MASK)
                    == 0
            {
                let one = (n == 1).then(|| JS_DupAtom(self.ctx, (*tab).atom));
                JS_FreePropertyEnum(self.ctx, tab, n);
                one
            } else {
                None
            };
            JS_FreeValue(self.ctx, stamped);
            let functions = fns.len() % 2 == 0
                && !fns.is_empty()
                && fns.iter().all(|f| JS_IsFunction(self.ctx, *f));
            match private {
                Some(private) if functions => {
                    let accessors = fns.chunks(2).map(|c| (c[0], c[1])).collect();
                    self.lazy = Some(Lazy { accessors, private });
                    true
                }
                other => {
                    for f in fns {
                        JS_FreeValue(self.ctx, f);
                    }
                    if let Some(a) = other {
                        JS_FreeAtom(self.ctx, a);
                    }
                    false
                }
            }
        }
    }

    /// Opens an object: the next values are its properties, each after `key` or `name`.
    pub fn object(&mut self) {
        self.open.push((self.values.len(), self.keys.len(), false));
    }

    /// Opens an array.
    pub fn array(&mut self) {
        self.open.push((self.values.len(), self.keys.len(), true));
    }

    /// The next property's name, one fixed in the program (its atom is made once).
    pub fn key(&mut self, key: &'static str) {
        let found = self
            .fixed
            .iter()
            .find(|(k, _)| std::ptr::eq(*k, key))
            .map(|(_, a)| *a);
        let atom = found.unwrap_or_else(|| {
            // SAFETY: `ctx` outlives the builder (both belong to one isolate); the bytes are
            // valid for their length.
            let a = unsafe { JS_NewAtomLen(self.ctx, key.as_ptr().cast(), key.len()) };
            self.fixed.push((key, a));
            a
        });
        self.keys.push(atom);
    }

    /// The next property's name, from data (a header or cookie name).
    pub fn name(&mut self, key: &str) {
        // SAFETY: as in `key`.
        let a = unsafe { JS_NewAtomLen(self.ctx, key.as_ptr().cast(), key.len()) };
        self.made.push(a);
        self.keys.push(a);
    }

    pub fn string(&mut self, s: &str) {
        // SAFETY: as in `key`.
        let v = unsafe { JS_NewStringLen(self.ctx, s.as_ptr().cast(), s.len()) };
        self.values.push(v);
    }

    pub fn number(&mut self, n: i32) {
        self.values.push(JsValue {
            u: Payload { int: n },
            tag: TAG_INT,
        });
    }

    /// The current key's value is the runtime's lazy accessor `which` (its getter makes the
    /// part from the text `stamp` leaves on the object). A builder without the runtime's lazy
    /// parts (`set_lazy`) gives the property the value `undefined`.
    pub fn lazy(&mut self, which: usize) {
        if self
            .lazy
            .as_ref()
            .is_some_and(|l| which < l.accessors.len())
        {
            self.lazy_at.push((self.values.len(), which));
        }
        self.values.push(UNDEFINED);
    }

    /// Closes the innermost object or array (the parts: their text and places) and leaves it in
    /// `Pending`'s private field of the value before it, the object whose parts are lazy: what
    /// `new Pending(obj, parts)` does in JavaScript. Without the runtime's lazy parts the
    /// object is dropped.
    pub fn stamp(&mut self) {
        let nested = self.open.len() >= 2;
        if let Some(alone) = self.close() {
            // Not inside anything: nothing to stamp.
            // SAFETY: the outermost object is owned.
            unsafe { JS_FreeValue(self.ctx, alone) };
            return;
        }
        let Some(parts) = self.values.pop().filter(|_| nested) else {
            return;
        };
        let (Some(lazy), Some(obj)) = (&self.lazy, self.values.last()) else {
            // SAFETY: `parts` is owned.
            unsafe { JS_FreeValue(self.ctx, parts) };
            return;
        };
        // SAFETY: `obj` is a live object of `ctx` still owned by the builder; `parts` is owned
        // and handed over; the atom is kept by the builder. A private field is a property
        // under that atom, added as class fields add it (configurable, writable, enumerable,
        // invisible to every reflection).
        unsafe {
            JS_DefinePropertyValue(self.ctx, *obj, lazy.private, parts, PROP_C_W_E);
        }
    }

    /// Closes the innermost object or array; closing the outermost returns it (owned).
    pub fn close(&mut self) -> Option<JsValue> {
        let (start, keys_start, is_array) = self.open.pop()?;
        let count = (self.values.len() - start) as c_int;
        // SAFETY: the values from `start` are owned and handed over (`JS_NewArrayFrom` and
        // `JS_DefinePropertyValue` take them); the key atoms are borrowed (the object takes
        // its own references), and those made from data are freed once the outermost object
        // is made. (Not `JS_NewObjectFrom`: it fills the new object's shape in place, and an
        // empty object's shape is shared, so it corrupted every other empty object.)
        let made = unsafe {
            if is_array {
                JS_NewArrayFrom(self.ctx, count, self.values.as_ptr().add(start))
            } else {
                let obj = JS_NewObject(self.ctx);
                for (i, (k, v)) in self.keys[keys_start..]
                    .iter()
                    .zip(&self.values[start..])
                    .enumerate()
                {
                    let accessor = self
                        .lazy_at
                        .iter()
                        .find(|(at, _)| *at == start + i)
                        .zip(self.lazy.as_ref())
                        .map(|((_, which), l)| l.accessors[*which]);
                    match accessor {
                        // The getter and setter are the runtime's, shared: the object takes
                        // its own references.
                        Some((get, set)) => JS_DefinePropertyGetSet(
                            self.ctx,
                            obj,
                            *k,
                            JS_DupValue(self.ctx, get),
                            JS_DupValue(self.ctx, set),
                            PROP_C_E,
                        ),
                        None => JS_DefinePropertyValue(self.ctx, obj, *k, *v, PROP_C_W_E),
                    };
                }
                self.lazy_at.retain(|(at, _)| *at < start);
                obj
            }
        };
        self.keys.truncate(keys_start);
        self.values.truncate(start);
        if self.open.is_empty() {
            for a in self.made.drain(..) {
                // SAFETY: each was made by `name` and is no longer a pending key.
                unsafe { JS_FreeAtom(self.ctx, a) };
            }
            Some(made)
        } else {
            self.values.push(made);
            None
        }
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        for (_, a) in self.fixed.drain(..) {
            // SAFETY: made by `key`; the context is still alive (the isolate drops its
            // builder before its runtime).
            unsafe { JS_FreeAtom(self.ctx, a) };
        }
        if let Some(lazy) = self.lazy.take() {
            // SAFETY: kept by `set_lazy`; the context is still alive, as above.
            unsafe {
                for (get, set) in lazy.accessors {
                    JS_FreeValue(self.ctx, get);
                    JS_FreeValue(self.ctx, set);
                }
                JS_FreeAtom(self.ctx, lazy.private);
            }
        }
    }
}

/// Whether `v` is `true`.
pub fn is_true(v: JsValue) -> bool {
    // SAFETY: reading the int member of a bool-tagged value.
    v.tag == TAG_BOOL && unsafe { v.u.int != 0 }
}

/// Whether two values are the very same object.
pub fn same_object(a: JsValue, b: JsValue) -> bool {
    // SAFETY: reading the pointer member of object-tagged values.
    a.tag == TAG_OBJECT && b.tag == TAG_OBJECT && unsafe { a.u.ptr == b.u.ptr }
}

/// Reads plain data back as `JSON.stringify` then `serde_json` would see it, or `None` where
/// that could differ (the caller then takes the JSON path): `undefined`, functions and
/// symbols are left out of objects and are `null` in arrays; integral numbers below 10^21
/// come back as integers; `NaN` and infinities as `null`.
pub struct Reader {
    ctx: *mut JsContext,
    to_json: Atom,
}

impl Reader {
    pub fn new(ctx: Ctx) -> Reader {
        // SAFETY: as in `Builder::key`.
        let to_json = unsafe { JS_NewAtomLen(ctx.0, c"toJSON".as_ptr(), 6) };
        Reader {
            ctx: ctx.0,
            to_json,
        }
    }

    /// `v` (borrowed) as JSON data.
    pub fn read(&self, v: JsValue) -> Option<Value> {
        self.value(v, 0)?
    }

    /// `Some(None)`: a value `JSON.stringify` leaves out (undefined, a function, a symbol).
    fn value(&self, v: JsValue, depth: u32) -> Option<Option<Value>> {
        // SAFETY (whole body): `v` is a live value of `ctx`; every value gotten here is freed
        // before returning; member reads follow the tag.
        unsafe {
            Some(Some(match v.tag {
                TAG_NULL => Value::Null,
                TAG_BOOL => Value::Bool(v.u.int != 0),
                TAG_INT => Value::from(v.u.int),
                TAG_FLOAT64 => number(v.u.float),
                TAG_UNDEFINED => return Some(None),
                TAG_STRING | TAG_STRING_ROPE => Value::String(self.string(v)?),
                TAG_OBJECT => {
                    if depth > 32 || JS_IsProxy(v) {
                        return None;
                    }
                    match JS_GetClassID(v) {
                        CLASS_ARRAY => self.array(v, depth)?,
                        CLASS_OBJECT => {
                            let to_json = JS_GetProperty(self.ctx, v, self.to_json);
                            if to_json.tag == TAG_EXCEPTION {
                                JS_FreeValue(self.ctx, JS_GetException(self.ctx));
                                return None;
                            }
                            let plain = to_json.tag == TAG_UNDEFINED;
                            JS_FreeValue(self.ctx, to_json);
                            if !plain {
                                return None;
                            }
                            self.object(v, depth)?
                        }
                        _ if JS_IsFunction(self.ctx, v) => return Some(None),
                        _ => return None,
                    }
                }
                // Symbols are left out like undefined; BigInts throw in JSON.stringify.
                -8 => return Some(None),
                _ => return None,
            }))
        }
    }

    fn string(&self, v: JsValue) -> Option<String> {
        let mut len = 0usize;
        // SAFETY: `v` is a string of `ctx`; the C string is freed after copying.
        unsafe {
            let p = JS_ToCStringLen2(self.ctx, &mut len, v, false);
            if p.is_null() {
                return None;
            }
            let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len);
            // A lone surrogate comes out in its 3-byte form, which is not UTF-8 (and an escape
            // from JSON.stringify, which serde_json refuses): the JSON path decides.
            let text = std::str::from_utf8(bytes).ok().map(str::to_owned);
            JS_FreeCString(self.ctx, p);
            text
        }
    }

    fn array(&self, v: JsValue, depth: u32) -> Option<Value> {
        let mut len = 0i64;
        // SAFETY: `v` is an array of `ctx`; each element is freed after reading.
        unsafe {
            if JS_GetLength(self.ctx, v, &mut len) < 0 || len > u32::MAX as i64 {
                return None;
            }
            let mut out = Vec::with_capacity(len as usize);
            for i in 0..len as u32 {
                let e = JS_GetPropertyUint32(self.ctx, v, i);
                if e.tag == TAG_EXCEPTION {
                    JS_FreeValue(self.ctx, JS_GetException(self.ctx));
                    return None;
                }
                let read = self.value(e, depth + 1);
                JS_FreeValue(self.ctx, e);
                out.push(read?.unwrap_or(Value::Null));
            }
            Some(Value::Array(out))
        }
    }

    fn object(&self, v: JsValue, depth: u32) -> Option<Value> {
        let mut tab: *mut PropertyEnum = std::ptr::null_mut();
        let mut len = 0u32;
        // SAFETY: `v` is an object of `ctx`; the name table and every value are freed.
        unsafe {
            if JS_GetOwnPropertyNames(
                self.ctx,
                &mut tab,
                &mut len,
                v,
                GPN_STRING_MASK | GPN_ENUM_ONLY,
            ) < 0
            {
                return None;
            }
            let names = std::slice::from_raw_parts(tab, len as usize);
            let mut out = Map::new();
            let mut ok = true;
            for p in names {
                let e = JS_GetProperty(self.ctx, v, p.atom);
                if e.tag == TAG_EXCEPTION {
                    JS_FreeValue(self.ctx, JS_GetException(self.ctx));
                    ok = false;
                    break;
                }
                let read = self.value(e, depth + 1);
                JS_FreeValue(self.ctx, e);
                match read {
                    None => {
                        ok = false;
                        break;
                    }
                    Some(None) => {}
                    Some(Some(value)) => {
                        let mut n = 0usize;
                        let name = JS_AtomToCStringLen(self.ctx, &mut n, p.atom);
                        if name.is_null() {
                            ok = false;
                            break;
                        }
                        let key =
                            std::str::from_utf8(std::slice::from_raw_parts(name.cast::<u8>(), n))
                                .ok()
                                .map(str::to_owned);
                        JS_FreeCString(self.ctx, name);
                        let Some(key) = key else {
                            ok = false;
                            break;
                        };
                        out.insert(key, value);
                    }
                }
            }
            JS_FreePropertyEnum(self.ctx, tab, len);
            ok.then_some(Value::Object(out))
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: made in `new`; the context is alive (dropped before the runtime).
        unsafe { JS_FreeAtom(self.ctx, self.to_json) };
    }
}

/// A number as serde_json reads what `JSON.stringify` writes for it.
fn number(f: f64) -> Value {
    if !f.is_finite() {
        Value::Null
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        if f >= 0.0 && f < u64::MAX as f64 {
            Value::from(f as u64)
        } else if f < 0.0 && f >= i64::MIN as f64 {
            Value::from(f as i64)
        } else {
            Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}
