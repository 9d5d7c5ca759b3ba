//! Node configurations for tests, built as TOML tables rather than assembled text: one
//! distribution in front of the mock origin, then only what a test is about.
//!
//! ```ignore
//! let cfg = NodeToml::for_origin(&origin)
//!     .node("function_concurrency", 1)
//!     .cache_policy("QueryStringBehavior", "all")
//!     .function("origin-request", &file);
//! let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
//! ```

use crate::harness::Origin;
use toml::{Table, Value};

/// X-Cache values, as CloudFront spells them.
pub mod x_cache {
    pub const HIT: &str = "Hit from cloudfront";
    pub const MISS: &str = "Miss from cloudfront";
    pub const REFRESH_HIT: &str = "RefreshHit from cloudfront";
    pub const ERROR: &str = "Error from cloudfront";
    pub const GENERATED: &str = "LambdaGeneratedResponse from cloudfront";
    pub const VALIDATION_ERROR: &str = "LambdaValidationError from CloudFront";
    pub const EXECUTION_ERROR: &str = "LambdaExecutionError from CloudFront";
    pub const LIMIT_EXCEEDED: &str = "LambdaLimitExceeded from CloudFront";
    pub const FUNCTION_GENERATED: &str = "FunctionGeneratedResponse from cloudfront";
    pub const FUNCTION_VALIDATION_ERROR: &str = "FunctionValidationError from cloudfront";
    pub const FUNCTION_EXECUTION_ERROR: &str = "FunctionExecutionError from cloudfront";
    pub const FUNCTION_THROTTLED_ERROR: &str = "FunctionThrottledError from cloudfront";
}

pub struct NodeToml(Table);

impl NodeToml {
    /// One distribution whose origin `mock` is the test's mock origin; the default behavior
    /// allows every method.
    pub fn for_origin(origin: &Origin) -> NodeToml {
        let port: i64 = origin.base.rsplit(':').next().unwrap().parse().unwrap();
        let doc: Table = toml::from_str(&format!(
            r#"
[[distributions]]
[[distributions.Origins]]
Id = "mock"
DomainName = "127.0.0.1"
[distributions.Origins.CustomOriginConfig]
HTTPPort = {port}
OriginProtocolPolicy = "http-only"
[distributions.DefaultCacheBehavior]
TargetOriginId = "mock"
AllowedMethods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
"#
        ))
        .unwrap();
        NodeToml(doc)
    }

    /// `[node] key = value`.
    pub fn node(mut self, key: &str, value: impl Into<Value>) -> NodeToml {
        table(&mut self.0, "node").insert(key.into(), value.into());
        self
    }

    /// `key = value` in the distribution itself.
    pub fn distribution_key(mut self, key: &str, value: impl Into<Value>) -> NodeToml {
        self.distribution().insert(key.into(), value.into());
        self
    }

    /// `key = value` in the default cache behavior.
    pub fn behavior(mut self, key: &str, value: impl Into<Value>) -> NodeToml {
        self.default_behavior().insert(key.into(), value.into());
        self
    }

    /// `key = value` in the default behavior's cache policy.
    pub fn cache_policy(mut self, key: &str, value: impl Into<Value>) -> NodeToml {
        table(self.default_behavior(), "CachePolicy").insert(key.into(), value.into());
        self
    }

    /// `key = value` in the default behavior's origin request policy.
    pub fn origin_request_policy(mut self, key: &str, value: impl Into<Value>) -> NodeToml {
        table(self.default_behavior(), "OriginRequestPolicy").insert(key.into(), value.into());
        self
    }

    /// `key = value` in the mock origin's `CustomOriginConfig`.
    pub fn custom_origin(mut self, key: &str, value: impl Into<Value>) -> NodeToml {
        let o = &mut self.distribution()["Origins"].as_array_mut().unwrap()[0];
        table(o.as_table_mut().unwrap(), "CustomOriginConfig").insert(key.into(), value.into());
        self
    }

    /// A function file at `stage` of the default behavior.
    pub fn function(mut self, stage: &str, file: &str) -> NodeToml {
        let mut a = Table::new();
        a.insert("EventType".into(), stage.into());
        a.insert("File".into(), file.into());
        let list = self
            .default_behavior()
            .entry("LambdaFunctionAssociations")
            .or_insert_with(|| Value::Array(vec![]));
        list.as_array_mut().unwrap().push(Value::Table(a));
        self
    }

    /// A CloudFront function file (`runtime` cloudfront-js-1.0 or -2.0) at `stage` of the
    /// default behavior.
    pub fn cloudfront_function(mut self, stage: &str, file: &str, runtime: &str) -> NodeToml {
        let mut a = Table::new();
        a.insert("EventType".into(), stage.into());
        a.insert("File".into(), file.into());
        a.insert("Runtime".into(), runtime.into());
        let list = self
            .default_behavior()
            .entry("FunctionAssociations")
            .or_insert_with(|| Value::Array(vec![]));
        list.as_array_mut().unwrap().push(Value::Table(a));
        self
    }

    /// A cache behavior for `path_pattern` (before the default) with a function file at `stage`.
    pub fn behavior_with_function(
        mut self,
        path_pattern: &str,
        stage: &str,
        file: &str,
    ) -> NodeToml {
        let mut a = Table::new();
        a.insert("EventType".into(), stage.into());
        a.insert("File".into(), file.into());
        let mut b = Table::new();
        b.insert("PathPattern".into(), path_pattern.into());
        b.insert("TargetOriginId".into(), "mock".into());
        b.insert(
            "LambdaFunctionAssociations".into(),
            Value::Array(vec![Value::Table(a)]),
        );
        let list = self
            .distribution()
            .entry("CacheBehaviors")
            .or_insert_with(|| Value::Array(vec![]));
        list.as_array_mut().unwrap().push(Value::Table(b));
        self
    }

    /// A `[[pops]]` entry (round trips in ms).
    pub fn pop(mut self, name: &str, viewer_rtt_ms: i64, origin_rtt_ms: i64) -> NodeToml {
        let mut p = Table::new();
        p.insert("name".into(), name.into());
        if viewer_rtt_ms > 0 || origin_rtt_ms > 0 {
            p.insert("viewer_rtt_ms".into(), viewer_rtt_ms.into());
            p.insert("origin_rtt_ms".into(), origin_rtt_ms.into());
        }
        let list = self.0.entry("pops").or_insert_with(|| Value::Array(vec![]));
        list.as_array_mut().unwrap().push(Value::Table(p));
        self
    }

    pub fn text(&self) -> String {
        toml::to_string(&self.0).unwrap()
    }

    fn distribution(&mut self) -> &mut Table {
        self.0["distributions"].as_array_mut().unwrap()[0]
            .as_table_mut()
            .unwrap()
    }

    fn default_behavior(&mut self) -> &mut Table {
        table(self.distribution(), "DefaultCacheBehavior")
    }
}

fn table<'t>(t: &'t mut Table, key: &str) -> &'t mut Table {
    t.entry(key)
        .or_insert_with(|| Value::Table(Table::new()))
        .as_table_mut()
        .unwrap()
}
