//! The control API and the edges' polling over TLS: the certificate made from the signing key
//! and pinned by it, a certificate of the user's own trusted by --control-ca, plain HTTP when
//! asked; `edge status` says how each edge connects.

use super::*;

/// `edge ARGS --control URL --token TOKEN` with nothing else: (exit code, stdout, stderr).
fn raw_cli(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(EDGE)
        .args(args)
        .args(["--control", url, "--token", TOKEN])
        .env("EDGE_LOG", "warn")
        .output()
        .expect("run edge");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_control_api_and_polling_run_over_tls_pinned_by_the_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let control = control_on(&dir.path().join("control"), 0);
    assert!(control.url.starts_with("https://"), "{}", control.url);
    let edge = follower(&control, "IAD89-C1", &dir.path().join("e"));
    deploy_plain(&control, &origin, dir.path());
    assert_eq!(get(&format!("{}/x", edge.base)).await.status, 200);
    let s = status(&control.url);
    assert_eq!(s["edges"][0]["tls"], true, "{s}");
    let text = cli_ok(&control.url, &["status"]);
    assert!(text.contains("TLS"), "{text}");
    let row = text.lines().find(|l| l.starts_with("IAD89-C1")).unwrap();
    assert!(row.contains("  yes    yes"), "{text}");

    // Without the key the CLI will not talk to it; with another key it is refused at the
    // handshake (exit 4: not reached), naming both keys.
    let (code, _, err) = raw_cli(&control.url, &["status"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("is served over TLS") && err.contains("--control-key"),
        "{err}"
    );
    let stranger = control_on(&dir.path().join("other"), 0);
    let (code, _, err) = raw_cli(&control.url, &["status", "--control-key", &stranger.key]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains(&format!("certificate carries key {}", control.key))
            && err.contains(&format!("not the pinned {}", stranger.key)),
        "{err}"
    );
    // The key file works as the fingerprint does; so does the certificate it wrote, for
    // clients that check names (curl --cacert).
    let pub_file = dir.path().join("control").join("control.pub");
    let (code, _, err) = raw_cli(
        &control.url,
        &["status", "--control-key", pub_file.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let cert = dir.path().join("control").join("control-cert.pem");
    let (code, _, err) = raw_cli(
        &control.url,
        &["status", "--control-ca", cert.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");

    // A function on the edge cannot reach the control API, whatever it sends.
    let f = dir.path().join("reach.js");
    std::fs::write(
        &f,
        format!(
            "exports.handler = async (e) => {{ const r = e.Records[0].cf.request; let seen; try {{ seen = 'reached ' + (await fetch('{}/v1/health')).status; }} catch (x) {{ seen = x.message; }} r.headers['x-seen'] = [{{ value: seen }}]; return r; }};",
            control.url
        ),
    )
    .unwrap();
    cli_ok(&control.url, &["publish", "reach", f.to_str().unwrap()]);
    cli_ok(
        &control.url,
        &[
            "associate",
            "reach:1",
            "--stage",
            "origin-request",
            "--wait",
        ],
    );
    let r = get(&format!("{}/echo/reach", edge.base)).await;
    let echo: Value = serde_json::from_slice(&r.body).unwrap();
    let seen = echo["headers"]["x-seen"].as_str().unwrap_or("");
    assert!(seen.contains("may not reach the control node"), "{seen}");
}

#[tokio::test]
async fn a_certificate_of_your_own_is_trusted_by_its_ca_and_plain_http_is_shown_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin();
    let (cert, key) = edge_node::tls::self_signed_pem(&["127.0.0.1"]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let (cert_arg, key_arg) = (cert_file.to_str().unwrap(), key_file.to_str().unwrap());
    let control = control_with(
        &dir.path().join("control"),
        0,
        &["--tls-cert", cert_arg, "--tls-key", key_arg],
    );
    // The signing key does not vouch for a certificate it did not make.
    let (code, _, err) = raw_cli(&control.url, &["status", "--control-key", &control.key]);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("give --control-ca"), "{err}");
    let (code, _, err) = raw_cli(&control.url, &["status", "--control-ca", cert_arg]);
    assert_eq!(code, Some(0), "{err}");
    let edge = follower_with(
        &control.url,
        &control.key,
        "IAD89-C1",
        &dir.path().join("e"),
        &["--control-ca", cert_arg],
    );
    let cfg = dir.path().join("edge.toml");
    std::fs::write(&cfg, NodeToml::for_origin(&origin).text()).unwrap();
    let (code, _, err) = raw_cli(
        &control.url,
        &[
            "deploy",
            "--config",
            cfg.to_str().unwrap(),
            "--wait",
            "--control-ca",
            cert_arg,
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(get(&format!("{}/x", edge.base)).await.status, 200);
    drop(edge);
    drop(control);

    // --plain-http: no TLS, and status says so.
    let plain = control_with(&dir.path().join("plain"), 0, &["--plain-http"]);
    assert!(plain.url.starts_with("http://"), "{}", plain.url);
    let edge = follower(&plain, "IAD89-C1", &dir.path().join("p"));
    deploy_plain(&plain, &origin, dir.path());
    assert_eq!(get(&format!("{}/x", edge.base)).await.status, 200);
    assert_eq!(status(&plain.url)["edges"][0]["tls"], false);
}
