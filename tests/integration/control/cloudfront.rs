//! CloudFront Functions through the control node: CloudFront's lifecycle (DEVELOPMENT, test,
//! publish to LIVE), associations by name or ARN, `edge deploy` with FunctionAssociations, and
//! what every edge serves after each step.

use super::*;

/// A viewer-request CloudFront function answering `V` itself.
fn answering(dir: &Path, v: &str) -> PathBuf {
    let path = dir.join(format!("cff-{v}.js"));
    std::fs::write(
        &path,
        format!("function handler(event) {{ return {{ statusCode: 200, statusDescription: 'OK', body: '{v}' }}; }}"),
    )
    .unwrap();
    path
}

/// `edge …` that must fail: its exit code and stderr.
fn cli_fails(control: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(EDGE)
        .args(args)
        .args(["--control", control, "--token", TOKEN])
        .args(key_of(control))
        .env("EDGE_LOG", "warn")
        .output()
        .expect("run edge");
    assert!(!out.status.success(), "edge {} succeeded", args.join(" "));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` to `dir/name`: the path.
fn write_in(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// AWS's CloudFront Functions sample event, turned into a viewer-request event.
fn request_event(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(format!(
        "{}/../../shared/lambda-edge/events/aws-docs/cloudfront-functions-viewer-response-event.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut ev: Value = serde_json::from_str(&text).unwrap();
    ev["context"]["eventType"] = "viewer-request".into();
    ev.as_object_mut().unwrap().remove("response");
    let path = dir.join("event.json");
    std::fs::write(&path, ev.to_string()).unwrap();
    path
}

/// A control node and two edges in front of a mock origin, one plain distribution deployed.
fn two_edges() -> (tempfile::TempDir, Origin, Control, Edge, Edge) {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    deploy_plain(&control, &origin, dir.path());
    (dir, origin, control, a, b)
}

#[tokio::test]
async fn a_function_goes_from_development_to_live_and_every_edge_follows_live() {
    let (dir, _origin, control, a, b) = two_edges();
    let url = control.url.as_str();
    let v1 = answering(dir.path(), "one");
    let event = request_event(dir.path());
    let event = event.to_str().unwrap();

    let created = json(&cli_ok(
        url,
        &["function", "create", "greet", v1.to_str().unwrap()],
    ));
    let summary = &created["FunctionSummary"];
    assert_eq!(summary["Status"], "UNPUBLISHED");
    assert_eq!(summary["FunctionConfig"]["Runtime"], "cloudfront-js-2.0");
    assert_eq!(summary["FunctionMetadata"]["Stage"], "DEVELOPMENT");
    assert_eq!(
        summary["FunctionMetadata"]["FunctionARN"],
        "arn:aws:cloudfront::123456789012:function/greet"
    );
    let (code, err) = cli_fails(url, &["function", "create", "greet", v1.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("FunctionAlreadyExists"), "{err}");

    // Only LIVE can be associated.
    let (code, err) = cli_fails(url, &["associate", "greet", "--stage", "viewer-request"]);
    assert_eq!(code, 3);
    assert!(
        err.contains("InvalidFunctionAssociation") && err.contains("DEVELOPMENT"),
        "{err}"
    );
    let (_, err) = cli_fails(url, &["function", "describe", "greet", "--stage", "LIVE"]);
    assert!(err.contains("NoSuchFunctionExists"), "{err}");

    // DEVELOPMENT can be tested: what `aws cloudfront test-function` prints.
    let t = json(&cli_ok(
        url,
        &["function", "test", "greet", "--event", event],
    ));
    let r = &t["TestResult"];
    assert_eq!(
        r["FunctionSummary"]["FunctionMetadata"]["Stage"],
        "DEVELOPMENT"
    );
    assert_eq!(r["FunctionErrorMessage"], "");
    let output: Value = serde_json::from_str(r["FunctionOutput"].as_str().unwrap()).unwrap();
    assert_eq!(output["body"], "one");
    assert!(
        r["ComputeUtilization"]
            .as_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            <= 100
    );

    let p = json(&cli_ok(url, &["function", "publish", "greet", "--wait"]));
    assert_eq!(p["FunctionSummary"]["Stage"], Value::Null);
    assert_eq!(p["FunctionSummary"]["FunctionMetadata"]["Stage"], "LIVE");
    // By ARN, as CloudFront names it.
    cli_ok(
        url,
        &[
            "associate",
            "arn:aws:cloudfront::123456789012:function/greet",
            "--stage",
            "viewer-request",
            "--wait",
        ],
    );
    for e in [&a, &b] {
        let r = get(&format!("{}/x", e.base)).await;
        assert_eq!(r.text(), "one");
        assert_eq!(r.x_cache(), x_cache::FUNCTION_GENERATED);
    }
    let d = json(&cli_ok(
        url,
        &["function", "describe", "greet", "--stage", "LIVE"],
    ));
    assert_eq!(d["FunctionSummary"]["Status"], "DEPLOYED");

    // An update changes DEVELOPMENT only; the edges keep running LIVE until a publish.
    let v2 = answering(dir.path(), "two");
    let etag = d["ETag"].as_str().unwrap().to_string();
    cli_ok(
        url,
        &[
            "function",
            "update",
            "greet",
            v2.to_str().unwrap(),
            "--if-match",
            &etag,
        ],
    );
    let (code, err) = cli_fails(
        url,
        &[
            "function",
            "update",
            "greet",
            v2.to_str().unwrap(),
            "--if-match",
            &etag,
        ],
    );
    assert_eq!(code, 3);
    assert!(err.contains("PreconditionFailed"), "{err}");
    cli_ok(url, &["status", "--wait"]);
    for e in [&a, &b] {
        assert_eq!(get(&format!("{}/x", e.base)).await.text(), "one");
    }
    let live = json(&cli_ok(
        url,
        &[
            "function", "test", "greet", "--event", event, "--stage", "LIVE",
        ],
    ));
    assert!(live["TestResult"]["FunctionOutput"]
        .as_str()
        .unwrap()
        .contains("one"));
    let dev = json(&cli_ok(
        url,
        &["function", "test", "greet", "--event", event],
    ));
    assert!(dev["TestResult"]["FunctionOutput"]
        .as_str()
        .unwrap()
        .contains("two"));
    cli_ok(url, &["function", "publish", "greet", "--wait"]);
    for e in [&a, &b] {
        assert_eq!(get(&format!("{}/x", e.base)).await.text(), "two");
    }

    // CloudFront's combination rules: no Lambda@Edge beside it in viewer events; origin
    // events are fine.
    let lambda = stamp(dir.path(), "lambda");
    cli_ok(url, &["publish", "stamp", lambda.to_str().unwrap()]);
    let (_, err) = cli_fails(url, &["associate", "stamp:1", "--stage", "viewer-response"]);
    assert!(
        err.contains("combine CloudFront Functions and Lambda@Edge"),
        "{err}"
    );
    let (_, err) = cli_fails(url, &["associate", "stamp:1", "--stage", "viewer-request"]);
    assert!(err.contains("one function per event type"), "{err}");
    let origin_fn = dir.path().join("origin.js");
    std::fs::write(
        &origin_fn,
        "exports.handler = async (e) => e.Records[0].cf.request;",
    )
    .unwrap();
    cli_ok(url, &["publish", "pass", origin_fn.to_str().unwrap()]);
    cli_ok(url, &["associate", "pass:1", "--stage", "origin-request"]);

    // In use: not deleted. An unassociated function is.
    let (code, err) = cli_fails(url, &["function", "delete", "greet"]);
    assert_eq!(code, 3);
    assert!(err.contains("FunctionInUse"), "{err}");
    cli_ok(
        url,
        &[
            "function",
            "create",
            "spare",
            v1.to_str().unwrap(),
            "--runtime",
            "cloudfront-js-1.0",
        ],
    );
    cli_ok(url, &["function", "delete", "spare"]);
    let list = json(&cli_ok(url, &["function", "list"]));
    let names: Vec<&str> = list["FunctionList"]["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["greet"]);

    // An edge restarted without its control node serves the CloudFront function it saved.
    let port = control.port();
    drop(control.proc);
    drop(a);
    let a = follower_of(
        &format!("https://127.0.0.1:{port}"),
        &control.key,
        "IAD89-C1",
        &dir.path().join("a"),
    );
    assert_eq!(get(&format!("{}/x", a.base)).await.text(), "two");
}

#[tokio::test]
async fn bad_functions_are_refused_with_the_item_named_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let control = control_on(&dir.path().join("control"), 0);
    let url = control.url.as_str();
    let write = |name: &str, text: &str| write_in(dir.path(), name, text);
    let big = write(
        "big.js",
        &format!(
            "function handler(e) {{ return e.request; }}\n//{}",
            "x".repeat(10 * 1024)
        ),
    );
    let (code, err) = cli_fails(url, &["function", "create", "big", &big]);
    assert_eq!(code, 3);
    assert!(err.contains("10240 bytes"), "{err}");
    let modern = write(
        "modern.js",
        "const x = 1;\nfunction handler(e) { return e.request; }",
    );
    let (_, err) = cli_fails(
        url,
        &[
            "function",
            "create",
            "modern",
            &modern,
            "--runtime",
            "cloudfront-js-1.0",
        ],
    );
    assert!(err.contains("1:1") && err.contains("const"), "{err}");
    let headless = write("headless.js", "function other(e) { return e.request; }");
    let (_, err) = cli_fails(url, &["function", "create", "headless", &headless]);
    assert!(err.contains("handler"), "{err}");
    let (_, err) = cli_fails(
        url,
        &[
            "function",
            "create",
            "rt",
            &headless,
            "--runtime",
            "nodejs20.x",
        ],
    );
    assert!(err.contains("nodejs20.x"), "{err}");
    let (code, err) = cli_fails(url, &["function", "publish", "nothing"]);
    assert_eq!(code, 3);
    assert!(err.contains("NoSuchFunctionExists"), "{err}");
    let list = json(&cli_ok(url, &["function", "list"]));
    assert_eq!(list["FunctionList"]["Quantity"], 0);
}

#[tokio::test]
async fn deploy_publishes_function_associations_and_they_see_policy_named_viewer_headers() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let geo = test_db();
    let control = control_on(&dir.path().join("control"), 0);
    let proc = Proc::spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--pop",
        "IAD89-C1",
        "--control",
        &control.url,
        "--control-key",
        &control.key,
        "--state-dir",
        dir.path().join("edge").to_str().unwrap(),
        "--token",
        TOKEN,
        "--dev",
        "--geo-db",
        geo.to_str().unwrap(),
    ]);
    let base = format!("http://{}", proc.addr("http"));
    // The country is named by the cache policy only: a CloudFront function sees it at
    // viewer-request all the same.
    let cfg = NodeToml::for_origin(&origin)
        .cache_policy("HeaderBehavior", "whitelist")
        .cache_policy("Headers", vec!["CloudFront-Viewer-Country"])
        .cloudfront_function(
            "viewer-request",
            &example("cff-redirect-by-country.js"),
            "cloudfront-js-2.0",
        );
    let file = dir.path().join("edge.toml");
    std::fs::write(&file, cfg.text()).unwrap();
    let out = cli_ok(
        &control.url,
        &["deploy", "--config", file.to_str().unwrap(), "--wait"],
    );
    assert!(
        out.contains("cff-redirect-by-country (CloudFront function, LIVE #1)"),
        "{out}"
    );
    let gb = [("x-edge-viewer-ip", "192.0.2.7")];
    let r = get_with(&format!("{base}/shop/boots?size=9"), &gb).await;
    assert_eq!(r.status, 302, "{}", r.text());
    assert_eq!(r.header("location"), "/uk/shop/boots?size=9");
    let r = get_with(
        &format!("{base}/shop/boots"),
        &[("x-edge-viewer-ip", "198.51.100.7")],
    )
    .await;
    assert_eq!(r.status, 200, "no store for SE");

    // Deploying the same file again publishes nothing new; by ARN it names the LIVE function.
    let out = cli_ok(
        &control.url,
        &["deploy", "--config", file.to_str().unwrap()],
    );
    assert!(out.contains("LIVE #1"), "{out}");
    let by_arn = cfg_with_arn(&origin);
    std::fs::write(&file, by_arn).unwrap();
    cli_ok(
        &control.url,
        &["deploy", "--config", file.to_str().unwrap(), "--wait"],
    );
    let r = get_with(&format!("{base}/shop/boots"), &gb).await;
    assert_eq!(r.status, 302);
    let assoc: Value = json(&cli_ok(
        &control.url,
        &[
            "function",
            "describe",
            "cff-redirect-by-country",
            "--stage",
            "LIVE",
        ],
    ));
    assert_eq!(assoc["FunctionSummary"]["Status"], "DEPLOYED");
}

/// The same distribution with the function named by its ARN.
fn cfg_with_arn(origin: &Origin) -> String {
    let mut doc: toml::Table = toml::from_str(
        &NodeToml::for_origin(origin)
            .cache_policy("HeaderBehavior", "whitelist")
            .cache_policy("Headers", vec!["CloudFront-Viewer-Country"])
            .text(),
    )
    .unwrap();
    let mut a = toml::Table::new();
    a.insert("EventType".into(), "viewer-request".into());
    a.insert(
        "FunctionARN".into(),
        "arn:aws:cloudfront::123456789012:function/cff-redirect-by-country".into(),
    );
    doc["distributions"].as_array_mut().unwrap()[0]["DefaultCacheBehavior"]
        .as_table_mut()
        .unwrap()
        .insert(
            "FunctionAssociations".into(),
            toml::Value::Array(vec![a.into()]),
        );
    toml::to_string(&doc).unwrap()
}

#[tokio::test]
async fn a_key_value_store_reaches_every_edge_and_changes_without_a_publish() {
    let (dir, _origin, control, a, b) = two_edges();
    let url = control.url.as_str();
    let write = |name: &str, text: &str| write_in(dir.path(), name, text);
    let import = write(
        "redirects.json",
        r#"{"data":[{"key":"/old","value":"/new"},{"key":"/gone","value":"/"}]}"#,
    );
    let created = json(&cli_ok(
        url,
        &["kvs", "create", "redirects", "--import", &import],
    ));
    assert_eq!(created["ItemCount"], 2);
    let arn = created["KeyValueStore"]["ARN"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        arn.starts_with("arn:aws:cloudfront::123456789012:key-value-store/"),
        "{arn}"
    );
    let f = write(
        "redirect.js",
        "import cf from 'cloudfront';\nconst kvs = cf.kvs();\nasync function handler(event) {\n  const r = event.request;\n  try {\n    const to = await kvs.get(r.uri);\n    return { statusCode: 301, statusDescription: 'Moved', headers: { location: { value: to } } };\n  } catch (e) {\n    return r;\n  }\n}",
    );
    let c = json(&cli_ok(
        url,
        &["function", "create", "redirect", &f, "--kvs", &arn],
    ));
    assert_eq!(
        c["FunctionSummary"]["FunctionConfig"]["KeyValueStoreAssociations"]["Items"][0]
            ["KeyValueStoreARN"],
        arn.as_str()
    );
    // Tested with the store's data.
    let mut ev: Value =
        serde_json::from_str(&std::fs::read_to_string(request_event(dir.path())).unwrap()).unwrap();
    ev["request"]["uri"] = "/old".into();
    let event = write("old.json", &ev.to_string());
    let t = json(&cli_ok(
        url,
        &["function", "test", "redirect", "--event", &event],
    ));
    assert!(
        t["TestResult"]["FunctionOutput"]
            .as_str()
            .unwrap()
            .contains("/new"),
        "{t}"
    );
    cli_ok(url, &["function", "publish", "redirect"]);
    cli_ok(
        url,
        &[
            "associate",
            "redirect",
            "--stage",
            "viewer-request",
            "--wait",
        ],
    );
    for e in [&a, &b] {
        let r = get(&format!("{}/old", e.base)).await;
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), "/new");
        assert_eq!(get(&format!("{}/other", e.base)).await.status, 200);
    }

    // A new value, and a new key, on every edge without a code publish.
    let put = json(&cli_ok(
        url,
        &["kvs", "put", "redirects", "/old", "/newer", "--wait"],
    ));
    assert_eq!(put["ItemCount"], 2);
    let put = json(&cli_ok(
        url,
        &["kvs", "put", "redirects", "/other", "/elsewhere", "--wait"],
    ));
    // `edge status` says which edges have the store's current items.
    let st = json(&cli_ok(url, &["status", "--json"]));
    let k = &st["key_value_stores"][0];
    assert_eq!(k["name"], "redirects");
    assert_eq!(k["revision"], put["revision"]);
    assert_eq!(k["deployed"].as_array().unwrap().len(), 2, "{st}");
    let table = cli_ok(url, &["status"]);
    assert!(
        table.contains("redirects") && table.contains("2/2"),
        "{table}"
    );
    for e in [&a, &b] {
        assert_eq!(
            get(&format!("{}/old", e.base)).await.header("location"),
            "/newer"
        );
        assert_eq!(
            get(&format!("{}/other", e.base)).await.header("location"),
            "/elsewhere"
        );
    }
    let got = json(&cli_ok(url, &["kvs", "get", "redirects", "/old"]));
    assert_eq!(
        (got["Key"].as_str(), got["Value"].as_str()),
        (Some("/old"), Some("/newer"))
    );
    cli_ok(url, &["kvs", "delete-key", "redirects", "/other", "--wait"]);
    assert_eq!(get(&format!("{}/other", a.base)).await.status, 200);
    let keys = json(&cli_ok(url, &["kvs", "list-keys", "redirects"]));
    assert_eq!(keys["Items"].as_array().unwrap().len(), 2);

    // Bad input: each refused naming the item, nothing applied.
    let (code, err) = cli_fails(url, &["kvs", "get", "redirects", "/missing"]);
    assert_eq!(code, 3);
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    let dup = write(
        "dup.json",
        r#"{"data":[{"key":"k","value":"1"},{"key":"k","value":"2"}]}"#,
    );
    let (_, err) = cli_fails(url, &["kvs", "import", "redirects", &dup]);
    assert!(
        err.contains("ValidationException") && err.contains("\"k\" is there twice"),
        "{err}"
    );
    let long_key = "k".repeat(513);
    let (_, err) = cli_fails(url, &["kvs", "put", "redirects", &long_key, "v"]);
    assert!(err.contains("513 characters"), "{err}");
    let (_, err) = cli_fails(url, &["kvs", "put", "redirects", "k", &"v".repeat(1025)]);
    assert!(err.contains("1025 characters"), "{err}");
    // Over 5 MB in all: 6,000 values of 1,000 characters.
    let big: Vec<Value> = (0..6000)
        .map(|i| serde_json::json!({"key": format!("k{i}"), "value": "v".repeat(1000)}))
        .collect();
    let big = write("big.json", &serde_json::json!({"data": big}).to_string());
    let (_, err) = cli_fails(url, &["kvs", "import", "redirects", &big]);
    assert!(err.contains("5 MB"), "{err}");
    assert_eq!(
        json(&cli_ok(url, &["kvs", "describe", "redirects"]))["ItemCount"],
        2
    );
    let (_, err) = cli_fails(url, &["kvs", "create", "redirects"]);
    assert!(err.contains("EntityAlreadyExists"), "{err}");
    let (_, err) = cli_fails(url, &["kvs", "delete", "redirects"]);
    assert!(err.contains("CannotDeleteEntityWhileInUse"), "{err}");

    // An edge restarted without the control node serves the store it saved.
    let port = control.port();
    drop(control.proc);
    drop(a);
    let a = follower_of(
        &format!("https://127.0.0.1:{port}"),
        &control.key,
        "IAD89-C1",
        &dir.path().join("a"),
    );
    assert_eq!(
        get(&format!("{}/old", a.base)).await.header("location"),
        "/newer"
    );
}
