//! The control plane under faults: a control node that stops and comes back, a tampered
//! code bundle or state, a state signed by another key, an edited saved state, a kill -9 in the
//! middle of publishing.

use super::*;

#[tokio::test]
async fn edges_survive_the_control_node_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control_dir = dir.path().join("control");
    let control = control_on(&control_dir, 0);
    let port = control.port();
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    deploy_plain(&control, &origin, dir.path());
    let v1 = stamp(dir.path(), "one");
    cli_ok(&control.url, &["publish", "stamp", v1.to_str().unwrap()]);
    cli_ok(
        &control.url,
        &[
            "associate",
            "stamp:1",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );

    // kill -9 the control node: edges keep serving.
    drop(control.proc);
    for e in [&a, &b] {
        assert_eq!(x_version(e).await, "one");
    }
    // An edge restarted while the control node is down serves its last configuration.
    drop(a);
    let a = follower_of(
        &format!("https://127.0.0.1:{port}"),
        &control.key,
        "IAD89-C1",
        &dir.path().join("a"),
    );
    let saved_revision = a.proc.addr("revision");
    assert_ne!(saved_revision, "0");
    assert_eq!(x_version(&a).await, "one");

    // The control node restarted: nothing lost. An edge down during a change catches up.
    let control = control_on(&control_dir, port);
    let v = cli_ok(&control.url, &["versions", "stamp", "--json"]);
    assert!(v.contains("EDFDVBD6EXAMPLE:default:viewer-response"), "{v}");
    cli_ok(&control.url, &["status", "--wait"]);
    drop(b);
    let v2 = stamp(dir.path(), "two");
    cli_ok(&control.url, &["publish", "stamp", v2.to_str().unwrap()]);
    // --wait waits for the edges still connected: the one just killed is not waited for (its
    // abandoned poll ends the moment its connection closes, long before a poll's 20 s hold).
    let started = std::time::Instant::now();
    cli_ok(
        &control.url,
        &[
            "associate",
            "stamp:2",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(x_version(&a).await, "two");
    // Restarted, the edge first serves its saved state (the revision it was ready with; a
    // request right after would race its catch-up), then takes the change.
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    assert_eq!(
        b.proc.addr("revision"),
        saved_revision,
        "serves its saved state first"
    );
    cli_ok(&control.url, &["status", "--wait"]);
    assert_eq!(x_version(&b).await, "two");
}

/// What the man in the middle alters.
const TAMPER_NOTHING: u8 = 0;
const TAMPER_CODE: u8 = 1;
const TAMPER_STATE: u8 = 2;

/// A man in the middle between edges and the control node that replaces every code bundle
/// (`TAMPER_CODE`) or moves every association to viewer-request in the signed state it
/// carries (`TAMPER_STATE`); returns its URL.
async fn tampering_proxy(
    control: String,
    tamper: std::sync::Arc<std::sync::atomic::AtomicU8>,
) -> String {
    use http_body_util::{BodyExt, Full};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (control, tamper) = (control.clone(), tamper.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (control, tamper) = (control.clone(), tamper.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let headers: Vec<(String, String)> = parts
                                .headers
                                .iter()
                                .filter(|(k, _)| *k == "authorization" || *k == "content-type")
                                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                                .collect();
                            let h: Vec<(&str, &str)> = headers
                                .iter()
                                .map(|(k, v)| (k.as_str(), v.as_str()))
                                .collect();
                            let r = request(
                                parts.method,
                                &format!("{control}{}", parts.uri.path()),
                                &h,
                                body,
                            )
                            .await;
                            let mut out = r.body;
                            let mode = tamper.load(std::sync::atomic::Ordering::SeqCst);
                            let path = parts.uri.path();
                            if path.starts_with("/v1/code/") && mode == TAMPER_CODE {
                                out = bytes::Bytes::from_static(
                                    b"exports.handler = async () => { throw new Error('evil'); };",
                                );
                            }
                            if path == "/v1/edge/poll" && mode == TAMPER_STATE && r.status == 200 {
                                let mut v: Value = serde_json::from_slice(&out).unwrap();
                                let state = v["state"]
                                    .as_str()
                                    .unwrap()
                                    .replace("\"viewer-response\"", "\"viewer-request\"");
                                v["state"] = Value::String(state);
                                out = serde_json::to_vec(&v).unwrap().into();
                            }
                            let mut resp = http::Response::new(Full::new(out));
                            *resp.status_mut() = r.status;
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_bundle_is_refused_and_the_previous_version_serves() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let tamper = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(TAMPER_NOTHING));
    let proxy = tampering_proxy(control.url.clone(), tamper.clone()).await;
    let a = follower_of(&proxy, &control.key, "IAD89-C1", &dir.path().join("a"));
    deploy_plain(&control, &origin, dir.path());
    let v1 = stamp(dir.path(), "one");
    cli_ok(&control.url, &["publish", "stamp", v1.to_str().unwrap()]);
    cli_ok(
        &control.url,
        &[
            "associate",
            "stamp:1",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );
    let r = get(&format!("{}/x", a.base)).await;
    assert_eq!(
        r.header("x-version"),
        "one",
        "{r:?} {}",
        a.proc.wait_for_log("@@")
    );

    tamper.store(TAMPER_CODE, std::sync::atomic::Ordering::SeqCst);
    let v2 = stamp(dir.path(), "two");
    cli_ok(&control.url, &["publish", "stamp", v2.to_str().unwrap()]);
    cli_ok(
        &control.url,
        &["associate", "stamp:2", "--stage", "viewer-response"],
    );
    a.proc.wait_for_log("does not match its hash");
    assert_eq!(x_version(&a).await, "one");
    let s = status(&control.url);
    let e = &s["edges"][0];
    assert_eq!(e["state"], "InProgress", "{s}");
    assert!(
        e["error"]
            .as_str()
            .unwrap_or("")
            .contains("does not match its hash"),
        "{s}"
    );

    // Once the bundle arrives intact, the edge takes it (it retries on its own).
    tamper.store(TAMPER_NOTHING, std::sync::atomic::Ordering::SeqCst);
    cli_ok(&control.url, &["status", "--wait"]);
    assert_eq!(x_version(&a).await, "two");

    // A state altered on the way (the code untouched, its associations moved): the signature
    // does not verify, the edge refuses it, and --wait fails with the edge's own error.
    tamper.store(TAMPER_STATE, std::sync::atomic::Ordering::SeqCst);
    let v3 = stamp(dir.path(), "three");
    cli_ok(&control.url, &["publish", "stamp", v3.to_str().unwrap()]);
    let (ok, _, err) = cli(
        &control.url,
        &[
            "associate",
            "stamp:3",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );
    assert!(!ok, "--wait must fail when the edge refuses the revision");
    assert!(
        err.contains("IAD89-C1") && err.contains("signature does not verify"),
        "{err}"
    );
    assert!(a.proc.logs().contains("the signature does not verify"));
    assert_eq!(x_version(&a).await, "two");
    tamper.store(TAMPER_NOTHING, std::sync::atomic::Ordering::SeqCst);
    cli_ok(&control.url, &["status", "--wait"]);
    assert_eq!(x_version(&a).await, "three");
}

/// An edge pinned to another key applies nothing from this control node; an edge whose saved
/// state was edited refuses it at restart (its code file and state.json rewritten together
/// included) and takes the control node's signed state instead.
#[tokio::test]
async fn only_states_signed_by_the_pinned_key_are_applied_or_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    let port = control.port();
    // The key file the control node writes works as well as its fingerprint.
    let key_file = dir.path().join("control").join("control.pub");
    let a = follower_of(
        &control.url,
        key_file.to_str().unwrap(),
        "IAD89-C1",
        &dir.path().join("a"),
    );
    deploy_plain(&control, &origin, dir.path());
    let other = dir.path().join("other");
    let stranger = control_on(&other, 0);
    let b = follower_of(
        &control.url,
        &stranger.key,
        "FRA56-C1",
        &dir.path().join("b"),
    );
    drop(stranger);
    let v1 = stamp(dir.path(), "one");
    cli_ok(&control.url, &["publish", "stamp", v1.to_str().unwrap()]);
    // Over TLS the edge pinned to another key refuses the control node's certificate (made
    // from its signing key) before any state arrives: it never joins, and serves nothing.
    cli_ok(
        &control.url,
        &[
            "associate",
            "stamp:1",
            "--stage",
            "viewer-response",
            "--wait",
        ],
    );
    let logs = b.proc.wait_for_log("not the pinned");
    assert!(logs.contains("certificate carries key"), "{logs}");
    assert_eq!(x_version(&a).await, "one");
    assert_eq!(get(&format!("{}/x", b.base)).await.status, 403);
    let status = cli_ok(&control.url, &["status", "--json"]);
    assert!(!status.contains("FRA56-C1"), "{status}");
    drop(b);

    // Edit the saved state: point the association at code of our own, written beside it.
    drop(a);
    drop(control.proc);
    let saved = dir.path().join("a").join("state.json");
    let signed: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let state: Value = serde_json::from_str(signed["state"].as_str().unwrap()).unwrap();
    let sha = state["associations"][0]["function"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let evil = "exports.handler = async (e) => { const r = e.Records[0].cf.response; r.headers['x-version'] = [{ value: 'evil' }]; return r; };";
    let evil_sha = edge_node::replica::sha256_hex(evil.as_bytes());
    std::fs::write(
        dir.path()
            .join("a")
            .join("code")
            .join(format!("{evil_sha}.js")),
        evil,
    )
    .unwrap();
    let mut forged = signed.clone();
    forged["state"] = Value::String(signed["state"].as_str().unwrap().replace(&sha, &evil_sha));
    std::fs::write(&saved, serde_json::to_string(&forged).unwrap()).unwrap();
    let a = follower_of(
        &format!("https://127.0.0.1:{port}"),
        &control.key,
        "IAD89-C1",
        &dir.path().join("a"),
    );
    assert_eq!(
        a.proc.addr("revision"),
        "0",
        "the edited state is not served"
    );
    assert!(
        a.proc.logs().contains("the saved state is refused"),
        "{}",
        a.proc.logs()
    );
    assert_eq!(get(&format!("{}/x", a.base)).await.status, 403);
    // The control node back: the edge takes its signed state.
    let control = control_on(&control.dir, port);
    cli_ok(&control.url, &["status", "--wait"]);
    assert_eq!(x_version(&a).await, "one");
}

#[tokio::test]
async fn a_kill_minus_9_never_leaves_a_half_published_version() {
    let dir = tempfile::tempdir().unwrap();
    let control = control_on(&dir.path().join("control"), 0);
    let port = control.port();
    // Publish in a loop from another thread while the control node is killed.
    let script = dir.path().join("f.js");
    let url = control.url.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let publisher = std::thread::spawn(move || {
        let mut published = 0;
        for i in 0..400 {
            std::fs::write(&script, format!("exports.handler = async (e) => e; // {i}")).unwrap();
            let (ok, _, _) = cli(&url, &["publish", "f", script.to_str().unwrap()]);
            if !ok {
                break;
            }
            published += 1;
            let _ = tx.send(published);
        }
        published
    });
    // Kill once several versions are in, while more are being published.
    while rx.recv().unwrap() < 5 {}
    drop(control.proc);
    let published = publisher.join().unwrap();
    assert!((5..400).contains(&published));

    let control = control_on(&control.dir, port);
    let v: Value =
        serde_json::from_str(&cli_ok(&control.url, &["versions", "f", "--json"])).unwrap();
    let versions = v["versions"].as_array().unwrap();
    assert!(
        versions.len() >= published,
        "{} versions, {published} acknowledged",
        versions.len()
    );
    let auth = format!("Bearer {TOKEN}");
    for (i, x) in versions.iter().enumerate() {
        assert_eq!(
            x["version"].as_u64().unwrap(),
            i as u64 + 1,
            "versions are contiguous"
        );
        let code = get_with(
            &format!("{}/v1/functions/f/versions/{}/code", control.url, i + 1),
            &[("authorization", &auth)],
        )
        .await;
        assert_eq!(code.status, 200);
        assert_eq!(
            edge_node::replica::sha256_hex(&code.body),
            x["sha256"].as_str().unwrap()
        );
    }
    // The store still takes changes.
    std::fs::write(dir.path().join("g.js"), "exports.handler = async (e) => e;").unwrap();
    let out = cli_ok(
        &control.url,
        &["publish", "f", dir.path().join("g.js").to_str().unwrap()],
    );
    assert_eq!(out.trim().parse::<usize>().unwrap(), versions.len() + 1);
}

/// `--wait` right after a control-node restart waits for every edge the store knows, though
/// none has polled the new process yet: when it returns, both edges serve the change.
#[tokio::test]
async fn wait_right_after_a_control_restart_counts_the_edges_the_store_knows() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let data = dir.path().join("control");
    let mut control = control_on(&data, 0);
    let port = control.port();
    let a = follower(&control, "IAD89-C1", &dir.path().join("a"));
    let b = follower(&control, "FRA56-C1", &dir.path().join("b"));
    deploy_plain(&control, &origin, dir.path());
    roll_out_stamp(&control.url, dir.path(), "v0");
    for round in 1..=3u64 {
        let text = format!("v{round}");
        let f = stamp(dir.path(), &text);
        cli_ok(&control.url, &["publish", "stamp", f.to_str().unwrap()]);
        drop(control);
        // Both edges know it is gone, so neither is mid-poll when it comes back.
        a.proc
            .wait_for_logs("control node unreachable", round as usize);
        b.proc
            .wait_for_logs("control node unreachable", round as usize);
        control = control_on(&data, port);
        let name = format!("stamp:{}", round + 1);
        cli_ok(
            &control.url,
            &["associate", &name, "--stage", "viewer-response", "--wait"],
        );
        for e in [&a, &b] {
            assert_eq!(x_version(e).await, text, "round {round}");
        }
    }
}
