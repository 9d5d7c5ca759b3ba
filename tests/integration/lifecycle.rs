//! A node's life: SIGTERM stops it cleanly and lets the requests in flight finish.

use crate::harness::*;

#[tokio::test]
async fn sigterm_lets_the_node_exit_cleanly() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    assert_eq!(get(&format!("{}/x", edge.base)).await.status, 200);
    let status = edge.proc.terminate();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let url = format!("{}/slow?delay_ms=800", edge.base);
    let in_flight = tokio::spawn(async move { get(&url).await });
    // The origin has the request once it counts it; then stop the node.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while origin.total().await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the request never reached the origin"
        );
        tokio::task::yield_now().await;
    }
    let status = tokio::task::spawn_blocking(move || edge.proc.terminate())
        .await
        .unwrap();
    let r = in_flight.await.unwrap();
    assert_eq!(r.status, 200, "the in-flight request finished");
    assert!(status.success(), "{status:?}");
}

/// Workers share their port with SO_REUSEPORT; a second node on a port another process
/// listens on is refused instead of silently taking half its traffic.
#[test]
fn a_port_already_in_use_is_refused() {
    let origin = origin();
    let first = edge_for(&origin, &[]);
    let addr = first.proc.addr("http");
    let e = Proc::try_spawn(&["node", "--listen", &addr, "--origin", &origin.base])
        .err()
        .expect("a second node on the same port must not start");
    assert!(
        e.contains(&format!("cannot listen on {addr}")) && e.contains("already in use"),
        "{e}"
    );
    // The TLS and admin ports too: a port another process holds is refused at start.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().to_string();
    for flag in ["--tls-listen", "--admin-listen"] {
        let e = Proc::try_spawn(&[
            "node",
            "--listen",
            "127.0.0.1:0",
            flag,
            &taken,
            "--admin-token",
            ADMIN_TOKEN,
            "--origin",
            &origin.base,
        ])
        .err()
        .unwrap_or_else(|| panic!("a node must not start on a {flag} port in use"));
        assert!(
            e.contains(&format!("cannot listen on {taken}")) && e.contains("in use"),
            "{flag}: {e}"
        );
    }
}
