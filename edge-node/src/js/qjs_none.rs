//! `qjs` on an engine other than QuickJS-ng: there is no engine context to reach, so
//! `context` answers `None` and every call takes the JSON path. The builder's methods exist
//! so that event builders compile; nothing calls them.

use deno_core::v8;

#[derive(Clone, Copy)]
pub struct JsValue;

#[derive(Clone, Copy)]
pub struct Ctx;

pub struct Builder;

pub struct Reader;

pub fn context(_scope: &mut v8::PinScope) -> Option<Ctx> {
    None
}

impl Builder {
    pub fn object(&mut self) {}
    pub fn array(&mut self) {}
    pub fn key(&mut self, _key: &'static str) {}
    pub fn name(&mut self, _key: &str) {}
    pub fn string(&mut self, _s: &str) {}
    pub fn number(&mut self, _n: i32) {}
    pub fn lazy(&mut self, _which: usize) {}
    pub fn stamp(&mut self) {}
    pub fn set_lazy(&mut self, _built: JsValue) -> bool {
        false
    }
    pub fn close(&mut self) -> Option<JsValue> {
        None
    }
}

// Never reached (`context` is `None`), here so that the callers compile unchanged.
impl Ctx {
    pub fn value_of(self, _local: v8::Local<v8::Value>) -> JsValue {
        JsValue
    }
    pub fn string(self, _s: &str) -> JsValue {
        JsValue
    }
    pub fn call(self, _f: JsValue, _args: &[JsValue]) -> Option<JsValue> {
        None
    }
    pub fn free(self, _v: JsValue) {}
    pub fn element(self, _v: JsValue, _i: u32) -> JsValue {
        JsValue
    }
}

pub fn is_true(_v: JsValue) -> bool {
    false
}

pub fn same_object(_a: JsValue, _b: JsValue) -> bool {
    false
}

impl Builder {
    pub fn new(_ctx: Ctx) -> Builder {
        Builder
    }
}

impl Reader {
    pub fn new(_ctx: Ctx) -> Reader {
        Reader
    }
    pub fn read(&self, _v: JsValue) -> Option<serde_json::Value> {
        None
    }
}
