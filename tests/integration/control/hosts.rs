//! Several hosts, for real: the control node, the origin and three edges each in a network
//! namespace of its own (its own stack, address and loopback), joined by veth links to a
//! bridge in a "lan" namespace; the test is the operator, on the LAN through one more link.
//! Needs root (CAP_NET_ADMIN) and iproute2; skipped with a message otherwise.
//!
//! The LAN is 10.213.N.0/24, N from the test's pid: its addresses exist only on links this test
//! makes, between namespaces it makes and deletes, so no packet of it leaves the machine. A run
//! killed before it could clean up leaves namespaces named `e<pid>-…`; the next run deletes them.

use super::*;
use std::time::Instant;

/// Runs `ip ARGS`; `Err` carries what it said.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The namespaces and links of one run; removed when dropped.
struct Lan {
    /// Prefix of every namespace and link name of this run.
    tag: String,
    /// 10.213.NET.0/24.
    net: u8,
    hosts: Vec<String>,
}

impl Lan {
    /// A LAN with `hosts` at 10.213.NET.1, .2, … and the test at .254.
    fn new(hosts: &[&str]) -> Result<Lan, String> {
        let pid = std::process::id();
        remove_stale_namespaces();
        let lan = Lan {
            tag: format!("e{pid}"),
            net: 20 + (pid % 200) as u8,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        };
        let hub = lan.ns("lan");
        ip(&["netns", "add", &hub])?;
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &hub, "link", "set", "br0", "up"])?;
        // The test's own link: its end stays here, with the LAN's last address.
        let mine = format!("{}r", lan.tag);
        ip(&[
            "link", "add", &mine, "type", "veth", "peer", "name", "up0", "netns", &hub,
        ])?;
        ip(&["-n", &hub, "link", "set", "up0", "master", "br0", "up"])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/24", lan.addr(254)),
            "dev",
            &mine,
        ])?;
        ip(&["link", "set", &mine, "up"])?;
        for h in hosts {
            lan.plug(h)?;
        }
        Ok(lan)
    }

    /// Makes `host`'s namespace and links it to the bridge, with its address and loopback up.
    fn plug(&self, host: &str) -> Result<(), String> {
        let i = self
            .hosts
            .iter()
            .position(|h| h == host)
            .expect("a host of this LAN");
        let (ns, hub) = (self.ns(host), self.ns("lan"));
        ip(&["netns", "add", &ns])?;
        // The hub's end is named afresh each time: a replaced host's old end goes only once
        // the kernel has finished with its namespace.
        static PLUGGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = PLUGGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = format!("p{i}n{n}");
        // A host keeps its MAC address when it comes back, as a rebooted machine does (the
        // others' ARP entries stay right).
        let mac = format!("02:00:00:00:{:02x}:{:02x}", self.net, i + 1);
        ip(&[
            "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "address",
            &mac, "netns", &ns,
        ])?;
        ip(&["-n", &hub, "link", "set", &port, "master", "br0", "up"])?;
        let addr = format!("{}/24", self.addr(i as u8 + 1));
        ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])
    }

    /// `host` is lost and comes back with nothing of its old network state: its link goes
    /// down, `stop` ends what ran there (nothing it sends leaves the host), and its namespace
    /// is deleted and made anew.
    fn replace(&self, host: &str, stop: impl FnOnce()) {
        self.link(host, false);
        stop();
        ip(&["netns", "del", &self.ns(host)]).unwrap();
        self.plug(host).unwrap();
    }

    fn ns(&self, host: &str) -> String {
        format!("{}-{host}", self.tag)
    }

    fn addr(&self, n: u8) -> String {
        format!("10.213.{}.{n}", self.net)
    }

    /// Makes `host` refuse (or again reach) `addr`: an `unreachable` route there, so the
    /// host is cut off from that address alone while the rest of the LAN still reaches it.
    fn refuse(&self, host: &str, addr: &str, refused: bool) {
        let dest = format!("{addr}/32");
        let verb = if refused { "add" } else { "del" };
        ip(&["-n", &self.ns(host), "route", verb, "unreachable", &dest]).unwrap();
    }

    /// Cuts (or restores) `host`'s link to the LAN.
    fn link(&self, host: &str, up: bool) {
        ip(&[
            "-n",
            &self.ns(host),
            "link",
            "set",
            "eth0",
            if up { "up" } else { "down" },
        ])
        .unwrap();
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        // Deleting a namespace deletes its links (the hub's, the test's end of its own).
        for h in self.hosts.iter().map(String::as_str).chain(["lan"]) {
            let _ = ip(&["netns", "del", &self.ns(h)]);
        }
    }
}

/// Deletes the namespaces of earlier runs whose test process is gone (killed before its `Lan`
/// was dropped): their names start `e<pid>-`.
fn remove_stale_namespaces() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let pid = name
            .strip_prefix('e')
            .and_then(|r| r.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// An edge following `control` from its own host (`n`: its address .n), with an admin API.
/// The first edge listens on every address, as one would on a real machine; the others on
/// their LAN address.
fn edge_on(
    lan: &Lan,
    host: &str,
    n: u8,
    pop: &str,
    control: &Control,
    key: &str,
    dir: &Path,
) -> Edge {
    let ip = if n == 3 {
        "0.0.0.0".to_string()
    } else {
        lan.addr(n)
    };
    let listen = format!("{ip}:0");
    let state = dir.join(pop);
    let proc = Proc::spawn_in_netns(
        &lan.ns(host),
        &[
            "node",
            "--listen",
            &listen,
            "--admin-listen",
            &listen,
            "--pop",
            pop,
            "--control",
            &control.url,
            "--control-key",
            key,
            "--state-dir",
            state.to_str().unwrap(),
            "--token",
            TOKEN,
            "--workers",
            "1",
        ],
    );
    // How the test (another host) reaches it.
    let on_lan = |key: &str| {
        let port = proc.addr(key).rsplit(':').next().unwrap().to_string();
        format!("http://{}:{port}", lan.addr(n))
    };
    let (base, admin) = (on_lan("http"), on_lan("admin"));
    Edge { proc, base, admin }
}

fn control_in(lan: &Lan, dir: &Path, port: u16) -> Control {
    let listen = format!("{}:{port}", lan.addr(1));
    let proc = Proc::spawn_in_netns(
        &lan.ns("ctl"),
        &[
            "control",
            "--listen",
            &listen,
            "--data-dir",
            dir.to_str().unwrap(),
            "--token",
            TOKEN,
        ],
    );
    let (url, key) = (proc.addr("url"), proc.addr("key"));
    KEYS.lock().unwrap().insert(url.clone(), key.clone());
    Control {
        proc,
        url,
        dir: dir.to_path_buf(),
        key,
    }
}

#[tokio::test]
async fn a_cluster_across_network_namespaces_publishes_invalidates_refuses_and_survives() {
    if !nix_is_root() {
        eprintln!("skipped: the multi-host test needs root (network namespaces); run the suite as root to include it");
        return;
    }
    let lan = match Lan::new(&["ctl", "org", "e1", "e2", "e3"]) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("skipped: cannot make network namespaces here ({e})");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let control = control_in(&lan, &dir.path().join("control"), 0);
    assert!(
        control
            .url
            .starts_with(&format!("https://{}:", lan.addr(1))),
        "{}",
        control.url
    );
    let origin = Proc::spawn_in_netns(
        &lan.ns("org"),
        &["origin", "--listen", &format!("{}:0", lan.addr(2))],
    );
    let origin_port = origin.addr("http").rsplit(':').next().unwrap().to_string();
    let pops = [
        ("e1", 3, "IAD89-C1"),
        ("e2", 4, "FRA56-C1"),
        ("e3", 5, "NRT57-C1"),
    ];
    let mut edges: Vec<Edge> = pops
        .iter()
        .map(|(h, n, pop)| edge_on(&lan, h, *n, pop, &control, &control.key, dir.path()))
        .collect();

    // The distribution names the origin by its address on the LAN.
    let cfg = dir.path().join("edge.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[distributions]]\n[[distributions.Origins]]\nId = \"o\"\nDomainName = \"{}\"\n[distributions.Origins.CustomOriginConfig]\nHTTPPort = {origin_port}\nOriginProtocolPolicy = \"http-only\"\n[distributions.DefaultCacheBehavior]\nTargetOriginId = \"o\"\n",
            lan.addr(2)
        ),
    )
    .unwrap();
    cli_ok(
        &control.url,
        &["deploy", "--config", cfg.to_str().unwrap(), "--wait"],
    );
    // Publish and associate --wait: every edge serves it when the command returns.
    let started = Instant::now();
    roll_out_stamp(&control.url, dir.path(), "one");
    let publish_ms = started.elapsed().as_millis();
    for e in &edges {
        assert_eq!(x_version(e).await, "one", "{}", e.base);
        assert_eq!(get(&format!("{}/x", e.base)).await.x_cache(), x_cache::HIT);
    }
    // edge status names each edge where the others reach it (the one on 0.0.0.0 by the
    // address its polls come from), and edge logs gathers a function's calls from all three.
    let s = status(&control.url);
    for ((_, _, pop), edge) in pops.iter().zip(&edges) {
        let e = s["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["pop"] == *pop)
            .unwrap_or_else(|| panic!("{pop} in {s}"));
        assert_eq!(
            (e["state"].as_str(), e["tls"].as_bool()),
            (Some("Deployed"), Some(true)),
            "{s}"
        );
        assert_eq!(e["url"].as_str(), Some(edge.base.as_str()), "{s}");
        assert_eq!(e["admin"].as_str(), Some(edge.admin.as_str()), "{s}");
    }
    let (ok, logs, err) = cli(&control.url, &["logs", "stamp"]);
    assert!(ok, "{err}");
    for (_, _, pop) in pops {
        assert!(
            logs.lines()
                .any(|l| l.contains(pop) && l.contains("REPORT RequestId")),
            "{pop} in\n{logs}\nstderr: {err}"
        );
    }

    // An invalidation reaches every edge before --wait returns.
    cli_ok(&control.url, &["invalidate", "/x", "--wait"]);
    for e in &edges {
        assert_eq!(
            get(&format!("{}/x", e.base)).await.x_cache(),
            x_cache::MISS,
            "{}",
            e.base
        );
    }

    // An edge restarted pinned to another key refuses its own saved state (signed by the
    // real key) and the control node's certificate: it serves nothing it cannot verify.
    let stranger = format!("sha256:{}", "0".repeat(64));
    drop(edges.pop());
    let refused = edge_on(&lan, "e3", 5, "NRT57-C1", &control, &stranger, dir.path());
    let logs = refused.proc.wait_for_log("not the pinned");
    assert!(logs.contains("the saved state is refused"), "{logs}");
    assert_eq!(get(&format!("{}/x", refused.base)).await.status, 403);
    drop(refused);
    edges.push(edge_on(
        &lan,
        "e3",
        5,
        "NRT57-C1",
        &control,
        &control.key,
        dir.path(),
    ));
    cli_ok(&control.url, &["status", "--wait"]);
    assert_eq!(x_version(&edges[2]).await, "one");

    // The control node's host is lost without a word: no FIN or RST reaches the edges, whose
    // held polls hang on a peer that is gone. They keep serving.
    let port = control.port();
    let Control { proc, .. } = control;
    lan.replace("ctl", || drop(proc));
    for e in &edges {
        assert_eq!(x_version(e).await, "one");
    }
    // Meanwhile e2 is cut off from the control node's address (the test still reaches it).
    lan.refuse("e2", &lan.addr(1), true);
    // The host is back with a new control process on the same address and a new version
    // rolls out: --wait returns once the reachable edges serve it, which they can only do
    // if they noticed that their old polls were dead (TCP keepalive), well inside the
    // control node's reconnect grace.
    let back = Instant::now();
    let control = control_in(&lan, &dir.path().join("control"), port);
    // (Its log names each edge at its first poll.)
    control.proc.wait_for_logs("edge connected", 2);
    let reconnect_ms = back.elapsed().as_millis();
    let f = stamp(dir.path(), "two");
    cli_ok(&control.url, &["publish", "stamp", f.to_str().unwrap()]);
    cli_ok(
        &control.url,
        &["associate", "stamp:2", "--stage", "viewer-response"],
    );
    cli_ok(&control.url, &["status", "--wait"]);
    let recovered_ms = back.elapsed().as_millis();
    assert_eq!(x_version(&edges[0]).await, "two");
    assert_eq!(x_version(&edges[2]).await, "two");
    assert_eq!(
        x_version(&edges[1]).await,
        "one",
        "the cut-off edge serves its last revision"
    );
    let applied = edges[1].proc.logs().matches("applied revision").count();
    lan.refuse("e2", &lan.addr(1), false);
    let caught = Instant::now();
    edges[1].proc.wait_for_logs("applied revision", applied + 1);
    assert_eq!(x_version(&edges[1]).await, "two");
    eprintln!(
        "hosts: publish+associate --wait across 3 edges {publish_ms} ms; control host back: reachable edges reconnected in {reconnect_ms} ms, on a new version (--wait returned) in {recovered_ms} ms; a cut-off edge caught up {} ms after its route came back",
        caught.elapsed().as_millis()
    );
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
