//! Invalid configuration is refused at start with a message naming the field.

use crate::harness::*;

fn refused(toml: &str) -> String {
    config_refused(&write_temp(toml))
}

#[test]
fn unknown_target_origin_is_named() {
    let e = refused(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "a"
DomainName = "example.org"
[distributions.DefaultCacheBehavior]
TargetOriginId = "nope"
"#,
    );
    assert!(
        e.contains("distributions[0].DefaultCacheBehavior.TargetOriginId"),
        "{e}"
    );
    assert!(
        e.contains("no origin or origin group has the Id \"nope\""),
        "{e}"
    );
    assert!(e.contains("exited with code Some(2)"), "{e}");
}

#[test]
fn unknown_field_and_bad_values_are_named() {
    let e = refused("[[distributions]]\nOrigns = []\n");
    assert!(e.contains("Origns"), "{e}");
    let e = refused(
        r#"
[[distributions]]
[[distributions.Origins]]
Id = "a"
DomainName = "example.org"
[distributions.Origins.CustomOriginConfig]
OriginProtocolPolicy = "ftp-only"
[distributions.DefaultCacheBehavior]
"#,
    );
    assert!(e.contains("OriginProtocolPolicy"), "{e}");
    assert!(e.contains("ftp-only"), "{e}");
}

#[test]
fn missing_origin_is_refused() {
    let e = refused("[[distributions]]\n[distributions.DefaultCacheBehavior]\n");
    assert!(
        e.contains("line 1, column 1 (distributions[0].Origins): at least one origin is required"),
        "{e}"
    );
}

#[test]
fn an_init_limit_out_of_range_is_named() {
    for bad in ["0", "-1.0", "601"] {
        let e = refused(&format!(
            r#"
[node]
function_init_timeout = {bad}
[[distributions]]
[[distributions.Origins]]
Id = "a"
DomainName = "example.org"
[distributions.DefaultCacheBehavior]
TargetOriginId = "a"
"#
        ));
        assert!(e.contains("node.function_init_timeout"), "{e}");
        assert!(e.contains("at most 600 seconds"), "{e}");
    }
}

#[test]
fn a_slice_out_of_range_is_named() {
    let e = refused(
        r#"
[node]
function_slice_ms = 5001
[[distributions]]
[[distributions.Origins]]
Id = "a"
DomainName = "example.org"
[distributions.DefaultCacheBehavior]
TargetOriginId = "a"
"#,
    );
    assert!(e.contains("node.function_slice_ms"), "{e}");
    assert!(e.contains("5001 must be 0 to 5000"), "{e}");
}

#[test]
fn the_repository_edge_toml_is_valid() {
    let root = format!("{}/..", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(format!("{root}/edge.toml")).unwrap();
    let cfg = edge_node::config::parse_toml_in(&text, std::path::Path::new(&root)).unwrap();
    assert!(
        cfg.functions().len() >= 8,
        "edge.toml demonstrates the examples"
    );
}

#[test]
fn config_errors_name_the_place_the_meant_name_and_the_type() {
    let cfg = "[[distributions]]\n[[distributions.Origins]]\nId = \"o\"\nDomainName = \"127.0.0.1\"\n[distributions.Origins.CustomOriginConfig]\nHTTPPort = 70000\nOriginProtocolPolicy = \"http-only\"\n[distributions.DefaultCacheBehavior]\nTargetOriginId = \"o\"\n";
    let e = refused(cfg);
    assert!(
        e.contains("line 6, column 12") && e.contains("expected an integer 0–65535"),
        "{e}"
    );
    let e = refused(
        &cfg.replace("HTTPPort = 70000", "HTTPPort = 80")
            .replace("TargetOriginId", "TargetOriginID"),
    );
    assert!(
        e.contains("line 9, column 1") && e.contains("did you mean `TargetOriginId`?"),
        "{e}"
    );
}
