//! Simulated geography: each POP of `[[pops]]` adds its viewer ↔ edge round trip to every
//! response and new connection, and its edge ↔ origin round trip to every origin fetch.

use crate::harness::*;
use std::time::{Duration, Instant};

async fn timed(url: &str) -> (Resp, Duration) {
    let t0 = Instant::now();
    let r = get(url).await;
    (r, t0.elapsed())
}

/// The `origin` stage of a Server-Timing header, in ms.
fn origin_ms(r: &Resp) -> f64 {
    r.header("server-timing")
        .split(',')
        .find_map(|p| p.trim().strip_prefix("origin;dur="))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no origin timing in {:?}", r.header("server-timing")))
}

#[tokio::test]
async fn a_pop_simulates_its_round_trips_to_viewers_and_origin() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .pop("FRA56-C1", 40, 60)
        .pop("IAD89-C1", 0, 0)
        .text();
    let (far, _f) = edge_with_config(&cfg, &["--pop", "FRA56-C1", "--server-timing"]);
    // A miss: a new connection (one round trip), the answer (one more), and the origin fetch.
    let (r, took) = timed(&format!("{}/bytes/8?cache_control=max-age%3D60", far.base)).await;
    assert_eq!(r.x_cache(), x_cache::MISS);
    assert!(took >= Duration::from_millis(80 + 60), "{took:?}");
    assert!(origin_ms(&r) >= 60.0, "{}", r.header("server-timing"));
    // A hit saves the origin round trip but not the viewer's.
    let (r, took) = timed(&format!("{}/bytes/8?cache_control=max-age%3D60", far.base)).await;
    assert_eq!(r.x_cache(), x_cache::HIT);
    assert!(took >= Duration::from_millis(80), "{took:?}");

    // A POP listed without distances, and a flag overriding the file.
    let (near, _n) = edge_with_config(&cfg, &["--pop", "IAD89-C1", "--server-timing"]);
    let r = get(&format!("{}/bytes/8?cache_control=no-store", near.base)).await;
    assert!(origin_ms(&r) < 60.0, "{}", r.header("server-timing"));
    let (flag, _g) = edge_with_config(
        &cfg,
        &[
            "--pop",
            "IAD89-C1",
            "--origin-rtt-ms",
            "70",
            "--server-timing",
        ],
    );
    let r = get(&format!("{}/bytes/8?cache_control=no-store", flag.base)).await;
    assert!(origin_ms(&r) >= 70.0, "{}", r.header("server-timing"));
}

#[test]
fn bad_pops_are_refused_with_the_field_named() {
    for (pops, needle) in [
        (
            r#"
[[pops]]
name = "A-1"
viewer_rtt_ms = -1
"#,
            "pops[0].viewer_rtt_ms",
        ),
        (
            r#"
[[pops]]
name = "A-1"
origin_rtt_ms = 20000
"#,
            "pops[0].origin_rtt_ms",
        ),
        ("[[pops]]\nname = \"A 1\"\n", "pops[0].name"),
        (
            r#"
[[pops]]
name = "A"
[[pops]]
name = "A"
"#,
            "listed twice",
        ),
        (
            r#"
[[pops]]
name = "A"
rtt = 3
"#,
            "rtt",
        ),
    ] {
        let toml = format!(
            r#"
[[distributions]]
[[distributions.Origins]]
Id = "a"
DomainName = "example.org"
[distributions.DefaultCacheBehavior]
TargetOriginId = "a"
{pops}"#
        );
        let e = match Proc::try_spawn(&[
            "node",
            "--listen",
            "127.0.0.1:0",
            "--config",
            write_temp(&toml).to_str().unwrap(),
        ]) {
            Ok(_) => panic!("accepted: {pops}"),
            Err(e) => e,
        };
        assert!(e.contains(needle), "{pops}: {e}");
    }
}
