//! Client input cannot harm the node: oversized headers get 431, bodies are bounded.

use crate::harness::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn oversized_headers_get_431_and_the_node_keeps_serving() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let addr = edge.proc.addr("http");
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let big = "a".repeat(64 * 1024);
    let req = format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\n\r\n");
    // The node may close before reading everything; the answer is what counts.
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let head = String::from_utf8_lossy(&buf);
    assert!(head.starts_with("HTTP/1.1 431"), "{head}");
    assert_eq!(get(&format!("{}/ok", edge.base)).await.status, 200);
    assert_eq!(origin.total().await, 1);
}

#[tokio::test]
async fn too_many_headers_get_431() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let mut s = tokio::net::TcpStream::connect(edge.proc.addr("http"))
        .await
        .unwrap();
    let mut req = String::from("GET / HTTP/1.1\r\nhost: x\r\n");
    for i in 0..500 {
        req.push_str(&format!("x-h{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 431"));
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .node("max_request_body_bytes", 1024)
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let r = request(
        http::Method::POST,
        &format!("{}/echo", edge.base),
        &[],
        bytes::Bytes::from(vec![b'x'; 4096]),
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(origin.total().await, 0);
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_and_the_rest_are_served() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .node("max_connections", 2)
        .node("workers", 1)
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let addr = edge.proc.addr("http");
    let held: Vec<_> = futures_held(&addr, 2).await;
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _ = third.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    let mut buf = Vec::new();
    let n = third.read_to_end(&mut buf).await.unwrap_or(0);
    assert_eq!(n, 0, "the third connection is closed without an answer");
    drop(held);
    // With the held connections gone, new ones are served.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let _ = s
            .write_all(b"GET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await;
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
        if buf.starts_with(b"HTTP/1.1 200") {
            break;
        }
        // The worker notices closed connections when their tasks end; try again.
        assert!(std::time::Instant::now() < deadline, "never served again");
        tokio::task::yield_now().await;
    }
}

/// Connections that never send a byte are closed after the header read timeout, so they cannot
/// hold the connection limit: with two places, two silent connections end and a viewer is served.
#[tokio::test]
async fn silent_connections_are_closed_and_free_their_place() {
    let origin = origin();
    let cfg = NodeToml::for_origin(&origin)
        .node("max_connections", 2)
        .node("workers", 1)
        .node("header_read_timeout", 1.0)
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let addr = edge.proc.addr("http");
    let mut silent = Vec::new();
    for _ in 0..2 {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    for s in &mut silent {
        let mut buf = Vec::new();
        let closed =
            tokio::time::timeout(std::time::Duration::from_secs(20), s.read_to_end(&mut buf)).await;
        assert!(
            matches!(closed, Ok(Ok(0))),
            "a silent connection is closed by the node: {closed:?}"
        );
    }
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    assert!(
        buf.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
}

/// `n` open connections, each having completed one request (so the node has accepted them).
async fn futures_held(addr: &str, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /held HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        out.push(s);
    }
    out
}

/// One raw HTTP/1.1 exchange (`connection: close`): the status line.
async fn raw_status(addr: &str, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// RFC 9112 §3.2 and CloudFront's URL limit: a missing or repeated Host is 400, a URI over
/// 8,192 bytes is 414; neither reaches the origin.
#[tokio::test]
async fn host_and_uri_limits_are_enforced_before_the_origin() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let addr = edge.proc.addr("http");
    let s = raw_status(&addr, "GET /a HTTP/1.1\r\nconnection: close\r\n\r\n").await;
    assert!(s.starts_with("HTTP/1.1 400"), "{s}");
    let s = raw_status(
        &addr,
        "GET /a HTTP/1.1\r\nhost: a\r\nhost: b\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(s.starts_with("HTTP/1.1 400"), "{s}");
    let long = format!("/{}", "x".repeat(8192));
    let r = get(&format!("{}{long}", edge.base)).await;
    assert_eq!(r.status, 414);
    let just = format!("/{}", "x".repeat(8191));
    assert_eq!(get(&format!("{}{just}", edge.base)).await.status, 200);
    let s = raw_status(&addr, "GET /ok HTTP/1.0\r\n\r\n").await;
    assert!(
        s.starts_with("HTTP/1.0 200") || s.starts_with("HTTP/1.1 200"),
        "HTTP/1.0 needs no Host: {s}"
    );
    assert_eq!(origin.total().await, 2);
}

/// Headers a `Connection` field nominates belong to that connection: not forwarded to the
/// origin, not passed on to the viewer (RFC 9110 §7.6.1).
#[tokio::test]
async fn connection_nominated_headers_go_no_further() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let r = get_with(
        &format!("{}/echo", edge.base),
        &[
            ("connection", "x-hop, keep-alive"),
            ("x-hop", "1"),
            ("x-end", "2"),
        ],
    )
    .await;
    let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(echo["headers"].get("x-hop").is_none(), "{echo}");
    assert_eq!(echo["headers"]["x-end"], "2", "{echo}");
    // The mock origin sets response headers from the query: one nominated by its Connection.
    let r = get(&format!(
        "{}/page?headers=connection:x-secret|x-secret:1|x-kept:2",
        edge.base
    ))
    .await;
    assert_eq!(r.header("x-kept"), "2");
    assert_eq!(r.header("x-secret"), "");
}

/// HTTP/2 control-frame floods (PING, SETTINGS, WINDOW_UPDATE, PRIORITY, empty DATA) end with GOAWAY
/// ENHANCE_YOUR_CALM long before 200,000 frames, and the node keeps serving.
#[tokio::test]
async fn http2_control_frame_floods_end_with_goaway() {
    let origin = origin();
    let edge = edge_for(&origin, &[]);
    let addr = edge.proc.addr("http");
    let frame = |kind: u8, flags: u8, stream: u32, payload: &[u8]| {
        let len = payload.len() as u32;
        let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        f.extend(stream.to_be_bytes());
        f.extend(payload);
        f
    };
    // A POST on stream 1 whose body never comes (HPACK: :method POST, :scheme http, :path /,
    // :authority localhost), for empty DATA frames to follow.
    let mut block = vec![0x83, 0x86, 0x84, 0x41, 9];
    block.extend(b"localhost");
    let post = frame(0x1, 0x4, 1, &block);
    let floods = [
        ("PING", vec![], frame(0x6, 0, 0, &[7; 8])),
        ("SETTINGS", vec![], frame(0x4, 0, 0, &[])),
        (
            "WINDOW_UPDATE",
            vec![],
            frame(0x8, 0, 0, &1u32.to_be_bytes()),
        ),
        ("PRIORITY", vec![], frame(0x2, 0, 3, &[0, 0, 0, 0, 16])),
        ("empty DATA", post, frame(0x0, 0, 1, &[])),
    ];
    for (name, open, one) in floods {
        let s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (mut rd, mut wr) = s.into_split();
        let reader = tokio::spawn(async move {
            // Frames from the server until GOAWAY: its error code and how many frames came
            // before it, or None at the end.
            let mut buf = Vec::new();
            let mut frames = 0u64;
            let mut chunk = [0u8; 16384];
            loop {
                while buf.len() >= 9 {
                    let len = (buf[0] as usize) << 16 | (buf[1] as usize) << 8 | buf[2] as usize;
                    if buf.len() < 9 + len {
                        break;
                    }
                    if buf[3] == 0x7 {
                        let code = u32::from_be_bytes([buf[13], buf[14], buf[15], buf[16]]);
                        return Some((code, frames));
                    }
                    frames += 1;
                    buf.drain(..9 + len);
                }
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        });
        let mut start = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        start.extend(frame(0x4, 0, 0, &[]));
        start.extend(open);
        wr.write_all(&start).await.unwrap();
        let batch: Vec<u8> = one.iter().copied().cycle().take(one.len() * 1000).collect();
        let mut sent = 0;
        while sent < 200_000 {
            if wr.write_all(&batch).await.is_err() {
                break;
            }
            sent += 1000;
        }
        let (code, answered) = tokio::time::timeout(std::time::Duration::from_secs(20), reader)
            .await
            .expect("the server ends the connection")
            .unwrap()
            .expect("GOAWAY before the connection ends");
        assert_eq!(code, 0xb, "{name} flood: GOAWAY ENHANCE_YOUR_CALM");
        // SETTINGS and PING are answered one for one until the node stops reading them.
        assert!(
            answered < 5_000,
            "{name}: {answered} frames answered of {sent} sent before GOAWAY"
        );
        eprintln!("{name} flood: {sent} frames sent, {answered} answered before GOAWAY");
    }
    assert_eq!(get(&format!("{}/after", edge.base)).await.status, 200);
}
