//! CloudFront distribution features through a real edge node (issue #15's list): what a
//! distribution's settings do to requests, each as CloudFront documents it.

use crate::configs::NodeToml;
use crate::harness::*;
use serde_json::Value;

#[tokio::test]
async fn the_root_url_gets_the_default_root_object() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .distribution_key("DefaultRootObject", "echo/root.html")
        .cache_policy("QueryStringBehavior", "all");
    let (edge, _cfg) = edge_with_config(&cfg.text(), &[]);
    for (asked, path, query) in [
        ("/", "/echo/root.html", ""),
        ("/?lang=de", "/echo/root.html", "lang=de"),
    ] {
        let r = get(&format!("{}{asked}", edge.base)).await;
        assert_eq!(r.status, 200, "{asked}: {}", r.text());
        let echo: Value = serde_json::from_str(&r.text()).unwrap();
        assert_eq!(
            (
                echo["path"].as_str().unwrap(),
                echo["query"].as_str().unwrap()
            ),
            (path, query),
            "{asked}"
        );
    }
    // Only the root: a directory is asked for as it is.
    let r = get(&format!("{}/echo/sub/", edge.base)).await;
    let echo: Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(echo["path"], "/echo/sub/");
    // CloudFront refuses a name with a leading slash.
    let bad = NodeToml::for_origin(&origin).distribution_key("DefaultRootObject", "/index.html");
    let path = write_temp(&bad.text());
    let err = config_refused(&path);
    assert!(
        err.contains("DefaultRootObject") && err.contains("starts with '/'"),
        "{err}"
    );
}
