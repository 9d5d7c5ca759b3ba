//! `edge logs NAME`: one function's Lambda-style logs (START, its console lines, END, REPORT)
//! from every edge, like `aws logs tail` and `wrangler tail`. The control node names the edges
//! and their admin APIs; each edge serves its recent records (`GET /__edge/logs`, long-polled
//! with `--follow`).

use crate::ctl::Target;
use anyhow::{anyhow, bail, Context, Result};
use edge_client::control::Client;
use http::Method;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(clap::Args)]
pub struct LogsArgs {
    /// The function's name.
    name: String,
    /// Keep printing new records as they arrive (Ctrl-C stops).
    #[arg(long, short)]
    follow: bool,
    /// Only this edge's records (its POP, e.g. IAD89-C1).
    #[arg(long)]
    pop: Option<String>,
    /// How far back to start: `30s`, `10m`, `2h`, `1d` (default 10m, as `aws logs tail`).
    #[arg(long, default_value = "10m")]
    since: String,
    /// Only records whose text contains this.
    #[arg(long)]
    filter: Option<String>,
    /// One JSON object per record: seq, time_ms, pop, log_group, function, version, stage,
    /// request_id, level, message.
    #[arg(long)]
    json: bool,
    /// Read this edge's admin API (`http://ADDR`) instead of asking the control node
    /// (repeatable).
    #[arg(long = "edge", value_name = "ADMIN_URL")]
    edges: Vec<String>,
    /// The edges' admin token (default: the control node's token, which edges following it
    /// accept).
    #[arg(long, env = "EDGE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    #[command(flatten)]
    target: Target,
}

/// `10m` → 10 minutes: a number and one of s, m, h, d.
pub fn parse_since(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n.parse().map_err(|_| {
        anyhow!("--since {s:?}: expected a number and a unit, like 30s, 10m, 2h or 1d")
    })?;
    let secs = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("--since {s:?}: the unit must be s, m, h or d"),
    };
    Ok(Duration::from_secs(n * secs))
}

pub async fn run(a: LogsArgs) -> Result<()> {
    let since = parse_since(&a.since)?;
    let edges: Vec<(String, String)> = if a.edges.is_empty() {
        let client = a.target.client()?;
        let status = client.status().await?;
        if status.edges.is_empty() {
            bail!("the control node knows no edges yet");
        }
        let mut with_admin = vec![];
        for e in status.edges {
            if a.pop.as_ref().is_some_and(|p| *p != e.pop) {
                continue;
            }
            match e.admin {
                Some(admin) => with_admin.push((e.pop, admin)),
                None => eprintln!(
                    "edge logs: {} has no admin API (start it with --admin-listen); its logs are not shown",
                    e.pop
                ),
            }
        }
        if with_admin.is_empty() {
            match &a.pop {
                Some(p) => bail!("no edge {p} with an admin API is known to the control node"),
                None => bail!("no edge has an admin API (start edges with --admin-listen)"),
            }
        }
        with_admin
    } else {
        a.edges.iter().map(|u| (String::new(), u.clone())).collect()
    };
    let token = match a.admin_token.clone().filter(|t| !t.is_empty()) {
        Some(t) => t,
        None => a
            .target
            .token()
            .context("the edges' admin APIs need a token: give --admin-token or --token")?,
    };
    let since_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(since)
        .as_millis() as u64;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Result<Vec<Value>>>();
    for (pop, admin) in edges {
        let tx = tx.clone();
        let (name, filter, follow, want_pop) =
            (a.name.clone(), a.filter.clone(), a.follow, a.pop.clone());
        let token = token.clone();
        tokio::spawn(async move {
            let client = Client::new(&admin, &token);
            let mut after = 0u64;
            loop {
                let path = {
                    let mut q = url::form_urlencoded::Serializer::new(String::new());
                    q.append_pair("function", &name)
                        .append_pair("after", &after.to_string())
                        .append_pair("since_ms", &since_ms.to_string())
                        .append_pair("wait", if follow { "20" } else { "0" });
                    if let Some(f) = &filter {
                        q.append_pair("filter", f);
                    }
                    format!("/__edge/logs?{}", q.finish())
                };
                let got = client
                    .json(Method::GET, &path, None)
                    .await
                    .with_context(|| format!("edge {pop} at {admin}"));
                let v = match got {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                after = v["next"].as_u64().unwrap_or(after);
                let mut records: Vec<Value> = v["records"].as_array().cloned().unwrap_or_default();
                if let Some(p) = &want_pop {
                    records.retain(|r| r["pop"] == p.as_str());
                }
                let full = records.len() >= 1000;
                if tx.send(Ok(records)).is_err() || (!follow && !full) {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut all = vec![];
    let mut failed = None;
    while let Some(batch) = rx.recv().await {
        match batch {
            Ok(records) if a.follow => records.iter().for_each(|r| print(r, a.json)),
            Ok(records) => all.extend(records),
            Err(e) => {
                eprintln!("edge logs: {e:#}");
                failed = Some(e);
            }
        }
    }
    // Without --follow: every edge's records, merged in time order.
    all.sort_by_key(|r| r["time_ms"].as_u64().unwrap_or(0));
    for r in &all {
        print(r, a.json);
    }
    match failed {
        Some(e) if all.is_empty() => Err(e),
        _ => Ok(()),
    }
}

/// `2026-12-01T17:53:26.123Z IAD89-C1 /aws/lambda/us-east-1.NAME START RequestId: …`
fn print(r: &Value, json: bool) {
    if json {
        println!("{r}");
        return;
    }
    println!(
        "{} {} {} {}",
        edge_node::js::logs::rfc3339_ms(r["time_ms"].as_u64().unwrap_or(0)),
        r["pop"].as_str().unwrap_or("-"),
        r["log_group"].as_str().unwrap_or("-"),
        r["message"].as_str().unwrap_or(""),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_number_and_a_unit() {
        assert_eq!(parse_since("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_since("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_since("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_since("1d").unwrap(), Duration::from_secs(86_400));
        assert!(parse_since("ten")
            .unwrap_err()
            .to_string()
            .contains("like 30s"));
        assert!(parse_since("5y")
            .unwrap_err()
            .to_string()
            .contains("s, m, h or d"));
    }
}
