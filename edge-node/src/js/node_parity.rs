//! Checked against real Node: each script in `tests/node-parity/` is a list of cases
//! (`t(name, f)`); it runs in our runtime and in Node (the oracle), and every case must give
//! the same printed result or the same error (its class and message).

use super::tests::{local, runner};
use super::FunctionCode;
use crate::lambda::Stage;
use std::sync::Arc;

/// What every script starts with: `t` records a case's value (as JSON) or its error.
const PRELUDE: &str = r#"
const out = [];
const t = (name, f) => {
  try { out.push([name, JSON.stringify(f()) ?? "undefined"]); }
  catch (e) { out.push([name, "throws " + (e && e.constructor && e.constructor.name) + ": " + (e && e.message)]); }
};
// `ta` is `t` for a case that settles later (a promise, or one it makes from callbacks).
const pending = [];
const ta = (name, f) => {
  const slot = [name, null];
  out.push(slot);
  pending.push(Promise.resolve().then(f).then(
    (v) => { slot[1] = JSON.stringify(v) ?? "undefined"; },
    (e) => { slot[1] = "throws " + (e && e.constructor && e.constructor.name) + ": " + (e && e.message); }));
};
"#;

fn script(name: &str) -> String {
    let path = format!("{}/../tests/node-parity/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The cases' results in Node.
fn in_node(cases: &str) -> Vec<(String, String)> {
    let src = format!(
        "{PRELUDE}{cases}\nPromise.all(pending).then(() => console.log(JSON.stringify(out)));"
    );
    let out = std::process::Command::new("node")
        .args(["--no-deprecation", "-e", &src])
        .output()
        .expect("node is needed for this test (Debian: apt-get install -y nodejs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What `source` (a function named `name`, version `version`, in `file`) returns for `{}`.
fn returned(name: &str, version: u64, file: &str, source: &str) -> serde_json::Value {
    local(async {
        let r = runner();
        let code = Arc::new(FunctionCode::new(name, version, file, source));
        r.load(&code).await.unwrap();
        let out = r
            .invoke(&code, Stage::ViewerRequest, "{}", "", "rid", None)
            .await
            .unwrap();
        out.value
    })
}

/// The cases' results here, as a function's return value.
fn here(cases: &str) -> Vec<(String, String)> {
    let src = format!(
        "{PRELUDE}exports.handler = async () => {{ {cases}\nawait Promise.all(pending); return out; }};"
    );
    serde_json::from_value(returned("parity", 1, "parity.js", &src)).unwrap()
}

fn same_as_node(name: &str) {
    let cases = script(name);
    let (ours, node) = (here(&cases), in_node(&cases));
    assert_eq!(ours.len(), node.len(), "{name}: case count");
    let differ: Vec<String> = ours
        .iter()
        .zip(&node)
        .filter(|(a, b)| a != b)
        .map(|((case, a), (_, b))| format!("{case}:\n  ours: {a}\n  node: {b}"))
        .collect();
    assert!(differ.is_empty(), "{name}:\n{}", differ.join("\n"));
}

#[test]
fn buffer_behaves_as_in_node() {
    same_as_node("buffer.js");
}

#[test]
fn path_behaves_as_in_node() {
    same_as_node("path.js");
}

/// The ES module form of `path`: named and default imports, `node:` and `path/posix`.
#[test]
fn path_imports_as_an_es_module() {
    let src = "import path, { extname, join } from 'node:path';\nimport posix from 'path';\nexport const handler = async () => [extname('/a/b.html'), join('/a', '../b'), path.basename('/x/y.js', '.js'), posix.sep];";
    assert_eq!(
        returned("esm", 1, "esm.mjs", src),
        serde_json::json!([".html", "/b", "y", "/"])
    );
}

#[test]
fn events_behave_as_in_node() {
    same_as_node("events.js");
}

#[test]
fn util_behaves_as_in_node() {
    same_as_node("util.js");
}

#[test]
fn signatures_behave_as_in_node() {
    same_as_node("crypto-sign.js");
}

#[test]
fn streams_behave_as_in_node() {
    same_as_node("stream.js");
}

#[test]
fn assert_behaves_as_in_node() {
    same_as_node("assert.js");
}

#[test]
fn zlib_behaves_as_in_node() {
    same_as_node("zlib.js");
}

#[test]
fn urls_behave_as_in_node() {
    same_as_node("url.js");
}

#[test]
fn querystring_behaves_as_in_node() {
    same_as_node("querystring.js");
}

#[test]
fn hashes_behave_as_in_node() {
    same_as_node("crypto-hash.js");
}

#[test]
fn web_crypto_behaves_as_in_node() {
    same_as_node("webcrypto.js");
}

#[test]
fn globals_behave_as_in_node() {
    same_as_node("globals.js");
}

/// The environment Lambda gives a function (checked here, not against this machine's Node).
#[test]
fn process_env_holds_what_lambda_sets() {
    let src = "exports.handler = async () => [process.env.AWS_REGION, process.env.AWS_LAMBDA_FUNCTION_NAME, process.env.AWS_LAMBDA_FUNCTION_VERSION, process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, process.env.AWS_EXECUTION_ENV, process.env.HOME, process.cwd()];";
    assert_eq!(
        returned("env-fn", 3, "e.js", src),
        serde_json::json!([
            "us-east-1",
            "us-east-1.env-fn",
            "3",
            "64",
            "AWS_Lambda_nodejs20.x",
            null,
            "/var/task"
        ])
    );
}
