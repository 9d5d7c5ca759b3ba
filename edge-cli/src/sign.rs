//! `edge sign-url` and `edge sign-cookies`: signed URLs and cookies for behaviors with
//! `TrustedKeyGroups`, made as `aws cloudfront sign` and CloudFront's SDKs make them: a canned
//! policy (`Expires`) unless a start time, an address or a policy file asks for a custom one.

use anyhow::{anyhow, Context, Result};
use edge_node::viewer::signed::{canned_policy, encode, sign};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SignArgs {
    /// The URL (for a custom policy it may hold `*` and `?` wildcards, as in
    /// `https://d111111abcdef8.cloudfront.net/private/*`).
    url: String,
    /// The ID of the public key (in one of the behavior's key groups) that checks the signature.
    #[arg(long, value_name = "ID")]
    key_pair_id: String,
    /// The RSA private key, PEM (PKCS#1 or PKCS#8).
    #[arg(long, value_name = "FILE")]
    private_key: PathBuf,
    /// Good until this time (Unix seconds).
    #[arg(long, value_name = "EPOCH", conflicts_with = "expires_in")]
    date_less_than: Option<u64>,
    /// Good for this many seconds from now (default 3600).
    #[arg(long, value_name = "SECONDS")]
    expires_in: Option<u64>,
    /// Not good before this time (Unix seconds): makes a custom policy.
    #[arg(long, value_name = "EPOCH")]
    date_greater_than: Option<u64>,
    /// Only for viewers in this network (`192.0.2.0/24`): makes a custom policy.
    #[arg(long, value_name = "CIDR")]
    ip_address: Option<String>,
    /// A whole custom policy statement (JSON) instead of the options above.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["date_less_than", "expires_in", "date_greater_than", "ip_address"])]
    policy: Option<PathBuf>,
    /// sign-cookies: print one `Cookie` header value instead of `Set-Cookie` lines.
    #[arg(long)]
    cookie_header: bool,
}

/// What a signature is made of: the statement, and `Expires` when it is a canned policy.
struct Signed {
    statement: Vec<u8>,
    expires: Option<u64>,
    signature: String,
}

fn signed(a: &SignArgs, url_for_canned: &str) -> Result<Signed> {
    let pem = std::fs::read_to_string(&a.private_key)
        .with_context(|| format!("cannot read {}", a.private_key.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let (statement, expires) = match &a.policy {
        Some(p) => {
            let text = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            let v: serde_json::Value = serde_json::from_slice(&text)
                .map_err(|e| anyhow!("{}: not a JSON policy statement: {e}", p.display()))?;
            if v["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
                .as_u64()
                .is_none()
            {
                return Err(anyhow!(
                    "{}: a policy needs Statement[0].Condition.DateLessThan.AWS:EpochTime",
                    p.display()
                ));
            }
            // Signed as it is sent: without whitespace.
            (serde_json::to_vec(&v)?, None)
        }
        None => {
            let until = a
                .date_less_than
                .unwrap_or_else(|| now + a.expires_in.unwrap_or(3600));
            if a.date_greater_than.is_none() && a.ip_address.is_none() {
                (
                    canned_policy(url_for_canned, until).into_bytes(),
                    Some(until),
                )
            } else {
                let mut condition = serde_json::json!({"DateLessThan": {"AWS:EpochTime": until}});
                if let Some(t) = a.date_greater_than {
                    condition["DateGreaterThan"] = serde_json::json!({"AWS:EpochTime": t});
                }
                if let Some(ip) = &a.ip_address {
                    condition["IpAddress"] = serde_json::json!({"AWS:SourceIp": ip});
                }
                let policy =
                    serde_json::json!({"Statement": [{"Resource": a.url, "Condition": condition}]});
                (serde_json::to_vec(&policy)?, None)
            }
        }
    };
    let signature =
        sign(&statement, &pem).map_err(|e| anyhow!("{}: {e}", a.private_key.display()))?;
    Ok(Signed {
        statement,
        expires,
        signature,
    })
}

/// `edge sign-url`: prints the URL with its signing parameters.
pub fn url(a: SignArgs) -> Result<()> {
    let custom = a.policy.is_some() || a.ip_address.is_some() || a.date_greater_than.is_some();
    if a.url.contains('*') && !custom {
        return Err(anyhow!(
            "a URL with a * wildcard needs a custom policy (--date-greater-than, --ip-address or --policy): a canned policy signs one exact URL"
        ));
    }
    let s = signed(&a, &a.url)?;
    let sep = if a.url.contains('?') { '&' } else { '?' };
    let mut out = a.url.clone();
    out.push(sep);
    match s.expires {
        Some(e) => out.push_str(&format!("Expires={e}")),
        None => out.push_str(&format!("Policy={}", encode(&s.statement))),
    }
    out.push_str(&format!(
        "&Signature={}&Key-Pair-Id={}",
        s.signature, a.key_pair_id
    ));
    println!("{out}");
    Ok(())
}

/// `edge sign-cookies`: prints the three cookies CloudFront reads.
pub fn cookies(a: SignArgs) -> Result<()> {
    let s = signed(&a, &a.url)?;
    let first = match s.expires {
        Some(e) => ("CloudFront-Expires", e.to_string()),
        None => ("CloudFront-Policy", encode(&s.statement)),
    };
    let all = [
        first,
        ("CloudFront-Signature", s.signature),
        ("CloudFront-Key-Pair-Id", a.key_pair_id.clone()),
    ];
    if a.cookie_header {
        let pairs: Vec<String> = all.iter().map(|(n, v)| format!("{n}={v}")).collect();
        println!("{}", pairs.join("; "));
    } else {
        for (n, v) in all {
            println!("Set-Cookie: {n}={v}; Path=/; Secure; HttpOnly");
        }
    }
    Ok(())
}
