//! Where a distribution's functions may send requests (`fetch`, and Node's `http`/`https`, at
//! the origin stages). Lambda@Edge functions run in AWS's network, where nothing of the host
//! is reachable; here they run beside the node, so what only the host can reach is refused
//! unless the distribution lists it:
//!
//! - loopback (`127.0.0.0/8`, `::1`), link-local (`169.254.0.0/16` with its metadata address,
//!   `fe80::/10`) and unspecified (`0.0.0.0`, `::`) addresses are refused by default;
//! - the distribution's own origins are allowed (the node already talks to them);
//! - `FetchAllow` on a distribution adds networks (`10.0.0.0/8`), addresses with or without a
//!   port (`127.0.0.1:9000`, `[::1]:9000`) and host names with or without a port
//!   (`api.internal`, `localhost:9000`);
//! - the node's own admin listener and its control node are refused whatever is listed
//!   (`reaches_node` in ops.rs).
//!
//! A host name is resolved and every address it resolves to must be allowed, so a name cannot
//! smuggle a loopback address past the rule.

use crate::config::Origin;
use crate::error::NodeError;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;

/// One distribution's rules.
#[derive(Debug, Default)]
pub struct Egress {
    nets: Vec<(IpNet, Option<u16>)>,
    /// Lowercase host names.
    hosts: Vec<(String, Option<u16>)>,
}

impl Egress {
    /// The rules for a distribution with these origins and `FetchAllow` entries (`at` names
    /// the field in errors).
    pub fn new(origins: &[Arc<Origin>], allow: &[String], at: &str) -> Result<Egress, NodeError> {
        let mut e = Egress::default();
        for o in origins {
            for port in [o.http_port, o.https_port] {
                e.add(&o.domain_name, Some(port));
            }
        }
        for (i, rule) in allow.iter().enumerate() {
            let bad = |why: &str| {
                NodeError::config(
                    format!("{at}.FetchAllow[{i}]"),
                    format!("{rule:?} {why}: give a network (10.0.0.0/8), an address (127.0.0.1 or 127.0.0.1:9000) or a host name (api.internal or api.internal:9000)"),
                )
            };
            let rule = rule.trim();
            if let Ok(net) = rule.parse::<IpNet>() {
                e.nets.push((net, None));
                continue;
            }
            if rule.is_empty() || rule.contains(['/', ' ']) {
                return Err(bad("is not a network, address or host"));
            }
            let (host, port) = match rule.rsplit_once(':') {
                // An IPv6 address without a port has colons but no brackets.
                Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                    let port = p
                        .parse::<u16>()
                        .map_err(|_| bad("has a port that is not a number from 0 to 65535"))?;
                    (h, Some(port))
                }
                _ => (rule, None),
            };
            let bare = host.trim_matches(['[', ']']);
            if bare.parse::<IpAddr>().is_err()
                && !matches!(url::Host::parse(bare), Ok(url::Host::Domain(_)))
            {
                return Err(bad("is not a network, address or host"));
            }
            e.add(host, port);
        }
        Ok(e)
    }

    fn add(&mut self, host: &str, port: Option<u16>) {
        let bare = host.trim_matches(['[', ']']);
        match bare.parse::<IpAddr>() {
            Ok(ip) => self.nets.push((IpNet::from(ip), port)),
            Err(_) => self.hosts.push((bare.to_ascii_lowercase(), port)),
        }
    }

    fn lists_host(&self, host: &str, port: u16) -> bool {
        self.hosts
            .iter()
            .any(|(h, p)| h.eq_ignore_ascii_case(host) && p.is_none_or(|p| p == port))
    }

    fn lists_addr(&self, ip: IpAddr, port: u16) -> bool {
        self.nets
            .iter()
            .any(|(n, p)| n.contains(&ip) && p.is_none_or(|p| p == port))
    }

    /// Whether a request to `url` may leave: `Err` says why not.
    pub async fn check(&self, url: &url::Url) -> Result<(), String> {
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Ok(()); // Not an HTTP URL: the client refuses it with its own reason.
        };
        let addrs: Vec<IpAddr> = match host {
            url::Host::Domain(name) => {
                if self.lists_host(name, port) {
                    return Ok(());
                }
                match tokio::net::lookup_host((name, port)).await {
                    Ok(a) => a.map(|a| a.ip()).collect(),
                    // Left to the client, which fails with the resolver's reason.
                    Err(_) => return Ok(()),
                }
            }
            url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        };
        for ip in addrs {
            if let Some(kind) = restricted(ip) {
                if !self.lists_addr(ip, port) {
                    return Err(format!(
                        "{ip} is {kind}, which this distribution's functions may not reach unless its FetchAllow lists it"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What kind of host-only address `ip` is, if it is one.
fn restricted(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
        IpAddr::V4(v4) if v4.is_unspecified() => Some("an unspecified address"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("a loopback address"),
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("a link-local address"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("an unspecified address"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(e: &Egress, url: &str) -> bool {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(e.check(&url::Url::parse(url).unwrap())).is_ok()
    }

    #[test]
    fn host_only_addresses_need_listing() {
        let none = Egress::new(&[], &[], "d").unwrap();
        for url in [
            "http://127.0.0.1:9000/",
            "http://localhost:9000/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://0.0.0.0:80/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(!allows(&none, url), "{url}");
        }
        assert!(allows(&none, "http://192.0.2.1/"));
        let listed = Egress::new(
            &[],
            &[
                "127.0.0.1:9000".into(),
                "169.254.0.0/16".into(),
                "localhost".into(),
            ],
            "d",
        )
        .unwrap();
        assert!(allows(&listed, "http://127.0.0.1:9000/"));
        assert!(!allows(&listed, "http://127.0.0.1:9001/"));
        assert!(allows(&listed, "http://169.254.169.254/"));
        assert!(allows(&listed, "http://LOCALHOST:1234/"));
    }

    #[test]
    fn bad_rules_name_the_field() {
        for rule in ["", "a b", "10.0.0.0/33", "host:port", "host:70000"] {
            let e = Egress::new(&[], &[rule.into()], "distributions[0]").unwrap_err();
            assert!(
                e.to_string().contains("distributions[0].FetchAllow[0]"),
                "{rule}: {e}"
            );
        }
    }
}
