//! The dependency rules between our crates, read from `cargo metadata`: the mock origin
//! depends on nothing of ours; the edge node never on the control node; the benchmark
//! library only on the product's public surface (its processes, HTTP and the control client,
//! a crate that itself depends on nothing of ours) — its micro-benchmarks (`bench/benches`,
//! dev-dependencies) are the exception.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Our crates and, for each, the crates of ours it links (normal and build dependencies,
/// followed transitively; dev-dependencies only serve its tests and benches).
fn links(metadata: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let ours: BTreeSet<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            metadata["workspace_members"]
                .as_array()
                .unwrap()
                .contains(&p["id"])
        })
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in metadata["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        if !ours.contains(name) {
            continue;
        }
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].as_str() != Some("dev"))
            .filter_map(|d| d["name"].as_str())
            .filter(|d| ours.contains(*d))
            .map(str::to_string)
            .collect();
        direct.insert(name.to_string(), deps);
    }
    let mut all = BTreeMap::new();
    for name in direct.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = direct[name].iter().collect();
        while let Some(d) = todo.pop() {
            if seen.insert(d.clone()) {
                todo.extend(direct.get(d).into_iter().flatten());
            }
        }
        all.insert(name.clone(), seen);
    }
    all
}

/// Every broken rule, as a sentence.
fn broken(metadata: &Value) -> Vec<String> {
    let links = links(metadata);
    let mut out = Vec::new();
    let rule = |out: &mut Vec<String>, krate: &str, forbidden: &[&str], why: &str| {
        for f in forbidden {
            if links.get(krate).is_some_and(|l| l.contains(*f)) {
                out.push(format!("{krate} links {f}: {why}"));
            }
        }
    };
    let ours: Vec<&str> = links.keys().map(String::as_str).collect();
    rule(
        &mut out,
        "edge-client",
        &ours,
        "the client (control API, process protocol) is the one piece of ours a driving program links",
    );
    rule(
        &mut out,
        "origin-mock",
        &ours,
        "the mock origin depends on nothing of ours",
    );
    rule(
        &mut out,
        "edge-node",
        &["control-node"],
        "an edge never depends on the control node",
    );
    rule(
        &mut out,
        "edge-bench",
        &["edge-node", "control-node", "origin-mock", "edge-cli"],
        "the benchmark library drives the product through its processes, HTTP and the control client",
    );
    out
}

fn metadata() -> Value {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn our_crates_keep_the_dependency_rules() {
    let broken = broken(&metadata());
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The check catches a broken rule: the workspace as it is, with one forbidden dependency
/// added to each crate a rule is about.
#[test]
fn a_broken_dependency_rule_is_reported() {
    let mut m = metadata();
    let add = |m: &mut Value, krate: &str, dep: &str, kind: Value| {
        let p = m["packages"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|p| p["name"] == krate)
            .unwrap();
        p["dependencies"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({ "name": dep, "kind": kind }));
    };
    add(&mut m, "edge-bench", "edge-node", Value::Null);
    add(&mut m, "origin-mock", "edge-bench", Value::Null);
    add(
        &mut m,
        "edge-node",
        "control-node",
        Value::String("build".into()),
    );
    // A dev-dependency (a micro-benchmark's) is allowed.
    add(
        &mut m,
        "control-node",
        "edge-bench",
        Value::String("dev".into()),
    );
    let b = broken(&m);
    assert!(b.contains(&"edge-bench links edge-node: the benchmark library drives the product through its processes, HTTP and the control client".to_string()), "{b:#?}");
    // Transitively: origin-mock → edge-bench → edge-node, control-node.
    for f in ["edge-bench", "edge-node", "control-node"] {
        assert!(
            b.iter()
                .any(|s| s.starts_with(&format!("origin-mock links {f}:"))),
            "{f}: {b:#?}"
        );
    }
    assert!(
        b.iter()
            .any(|s| s.starts_with("edge-node links control-node")),
        "{b:#?}"
    );
    assert_eq!(
        b.iter().filter(|s| s.starts_with("control-node")).count(),
        0
    );
}
