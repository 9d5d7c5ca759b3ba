//! `edge kvs …`: KeyValueStores on the control node (docs/cloudfront-functions.md:
//! "KeyValueStore"). Every change is a revision that every edge applies; output is what the
//! `aws cloudfront` / `aws cloudfront-keyvaluestore` commands of the same names print.

use crate::ctl::Target;
use anyhow::{Context, Result};
use http::Method;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct KvsArgs {
    #[command(subcommand)]
    command: KvsCommand,
}

#[derive(clap::Subcommand)]
enum KvsCommand {
    /// Create a store, filled from an import file when given.
    Create {
        name: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// AWS's import format: {"data":[{"key":"…","value":"…"}]}.
        #[arg(long)]
        import: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
    /// A store's name, id, ARN, item count and size.
    Describe {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Every store.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Delete a store (refused while a function reads it).
    Delete {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Put one key (a new value reaches every edge without a code publish).
    Put {
        name: String,
        key: String,
        value: String,
        #[command(flatten)]
        target: Target,
    },
    /// One key's value.
    Get {
        name: String,
        key: String,
        #[command(flatten)]
        target: Target,
    },
    /// Delete one key.
    DeleteKey {
        name: String,
        key: String,
        #[command(flatten)]
        target: Target,
    },
    /// Every key and value.
    ListKeys {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Replace every item with an import file's (all or nothing).
    Import {
        name: String,
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
}

fn print(v: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn read(file: &PathBuf) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// Sends a change and, with --wait, waits for every edge to apply its revision.
async fn change(target: &Target, method: Method, path: &str, body: Option<Value>) -> Result<()> {
    let client = target.client()?;
    let v = client.json(method, path, body.as_ref()).await?;
    target.settle(&client, &v["revision"]).await?;
    print(&v)
}

pub async fn run(a: KvsArgs) -> Result<()> {
    let path = |name: &str| format!("/v1/kvs/{name}");
    match a.command {
        KvsCommand::Create {
            name,
            comment,
            import,
            target,
        } => {
            let data = import.as_ref().map(read).transpose()?;
            change(
                &target,
                Method::POST,
                &path(&name),
                Some(json!({"comment": comment, "data": data})),
            )
            .await
        }
        KvsCommand::Describe { name, target } => print(
            &target
                .client()?
                .json(Method::GET, &path(&name), None)
                .await?,
        ),
        KvsCommand::List { target } => {
            print(&target.client()?.json(Method::GET, "/v1/kvs", None).await?)
        }
        KvsCommand::Delete { name, target } => {
            change(&target, Method::DELETE, &path(&name), None).await
        }
        KvsCommand::Put {
            name,
            key,
            value,
            target,
        } => {
            change(
                &target,
                Method::POST,
                &format!("{}/put", path(&name)),
                Some(json!({"Key": key, "Value": value})),
            )
            .await
        }
        KvsCommand::Get { name, key, target } => print(
            &target
                .client()?
                .json(
                    Method::POST,
                    &format!("{}/get", path(&name)),
                    Some(&json!({"Key": key})),
                )
                .await?,
        ),
        KvsCommand::DeleteKey { name, key, target } => {
            change(
                &target,
                Method::POST,
                &format!("{}/delete-key", path(&name)),
                Some(json!({"Key": key})),
            )
            .await
        }
        KvsCommand::ListKeys { name, target } => print(
            &target
                .client()?
                .json(Method::GET, &format!("{}/keys", path(&name)), None)
                .await?,
        ),
        KvsCommand::Import { name, file, target } => {
            let client = target.client()?;
            let (_, b) = client
                .send(
                    Method::PUT,
                    &format!("{}/data", path(&name)),
                    "application/json",
                    read(&file)?.into_bytes(),
                )
                .await?;
            let v: Value = serde_json::from_slice(&b)?;
            target.settle(&client, &v["revision"]).await?;
            print(&v)
        }
    }
}
