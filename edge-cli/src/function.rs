//! `edge function …`: CloudFront Functions on the control node, with CloudFront's lifecycle
//! (docs/cloudfront-functions.md: "Lifecycle"): create and update the DEVELOPMENT stage, test
//! either stage, publish DEVELOPMENT to LIVE (what associations run), describe, list, delete.
//! Output is what the `aws cloudfront` commands of the same names print.

use crate::ctl::Target;
use anyhow::{anyhow, Context, Result};
use http::Method;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct FunctionArgs {
    #[command(subcommand)]
    command: FunctionCommand,
}

#[derive(clap::Subcommand)]
enum FunctionCommand {
    /// Create a function (its DEVELOPMENT stage) from a file.
    Create(CodeArgs),
    /// Replace the DEVELOPMENT stage's code (LIVE keeps running until `publish`).
    Update(CodeArgs),
    /// Copy DEVELOPMENT to LIVE; every association runs it at every edge.
    Publish(StageArgs),
    /// A stage's summary: name, status, runtime, ARN, stage, times and ETag.
    Describe(StageArgs),
    /// Every function.
    List(ListArgs),
    /// Delete a function (refused while a cache behavior uses it).
    Delete(StageArgs),
    /// Run a stage once on an event; prints what `aws cloudfront test-function` prints.
    Test(TestArgs),
}

#[derive(clap::Args)]
struct CodeArgs {
    name: String,
    /// The function's code (one JavaScript file, at most 10 KB).
    file: PathBuf,
    /// cloudfront-js-1.0 or cloudfront-js-2.0 (create: 2.0; update: unchanged).
    #[arg(long)]
    runtime: Option<String>,
    #[arg(long)]
    comment: Option<String>,
    /// The KeyValueStore (name or ARN) its `cf.kvs()` reads; `""` removes it.
    #[arg(long)]
    kvs: Option<String>,
    /// Only if the function's ETag is still this (as `describe` printed it).
    #[arg(long)]
    if_match: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct StageArgs {
    name: String,
    /// DEVELOPMENT or LIVE (describe; default DEVELOPMENT).
    #[arg(long)]
    stage: Option<String>,
    #[arg(long)]
    if_match: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct ListArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct TestArgs {
    name: String,
    /// A CloudFront Functions event (JSON, AWS's shape); `-` reads standard input.
    #[arg(long)]
    event: String,
    /// DEVELOPMENT (default) or LIVE.
    #[arg(long, default_value = "DEVELOPMENT")]
    stage: String,
    #[command(flatten)]
    target: Target,
}

fn path(name: &str) -> String {
    format!("/v1/cloudfront-functions/{name}")
}

fn print(v: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn run(a: FunctionArgs) -> Result<()> {
    match a.command {
        FunctionCommand::Create(c) => code(c, Method::POST).await,
        FunctionCommand::Update(c) => code(c, Method::PUT).await,
        FunctionCommand::Publish(s) => {
            let client = s.target.client()?;
            let v = client
                .json_if_match(
                    Method::POST,
                    &format!("{}/publish", path(&s.name)),
                    None,
                    s.if_match.as_deref(),
                )
                .await?;
            s.target.settle(&client, &v["revision"]).await?;
            print(&json!({"FunctionSummary": v["FunctionSummary"], "revision": v["revision"]}))
        }
        FunctionCommand::Describe(s) => {
            let stage = s.stage.as_deref().unwrap_or("DEVELOPMENT");
            let v = s
                .target
                .client()?
                .json(
                    Method::GET,
                    &format!("{}?stage={stage}", path(&s.name)),
                    None,
                )
                .await?;
            print(&json!({"ETag": v["ETag"], "FunctionSummary": v["FunctionSummary"]}))
        }
        FunctionCommand::List(l) => print(
            &l.target
                .client()?
                .json(Method::GET, "/v1/cloudfront-functions", None)
                .await?,
        ),
        FunctionCommand::Delete(s) => {
            s.target
                .client()?
                .json_if_match(Method::DELETE, &path(&s.name), None, s.if_match.as_deref())
                .await?;
            Ok(())
        }
        FunctionCommand::Test(t) => test(t).await,
    }
}

async fn code(c: CodeArgs, method: Method) -> Result<()> {
    let code = std::fs::read_to_string(&c.file)
        .with_context(|| format!("cannot read {}", c.file.display()))?;
    let body =
        json!({"runtime": c.runtime, "comment": c.comment, "code": code, "key_value_store": c.kvs});
    let v = c
        .target
        .client()?
        .json_if_match(method, &path(&c.name), Some(&body), c.if_match.as_deref())
        .await?;
    print(&json!({"ETag": v["ETag"], "FunctionSummary": v["FunctionSummary"]}))
}

/// The stage's code comes from the control node and runs here, on the engine and with the
/// checks an edge uses.
async fn test(t: TestArgs) -> Result<()> {
    let ev = crate::invoke::read_event(&t.event)?;
    let v = t
        .target
        .client()?
        .json(
            Method::GET,
            &format!("{}/code?stage={}", path(&t.name), t.stage),
            None,
        )
        .await?;
    let summary = v["FunctionSummary"].clone();
    let runtime = summary["FunctionConfig"]["Runtime"]
        .as_str()
        .unwrap_or_default();
    let runtime = edge_node::cloudfront::Runtime::parse(runtime)
        .ok_or_else(|| anyhow!("the control node gave the runtime {runtime:?}"))?;
    let code = v["code"].as_str().unwrap_or_default().as_bytes().to_vec();
    // The store the stage reads, as the control node has it now.
    let kvs = match summary["FunctionConfig"]["KeyValueStoreAssociations"]["Items"][0]
        ["KeyValueStoreARN"]
        .as_str()
    {
        Some(arn) => Some(load_store(&t.target, arn).await?),
        None => None,
    };
    let code = edge_node::js::FunctionCode::cloudfront(
        t.name.clone(),
        1,
        format!("{}.js", t.name),
        code.into(),
        runtime,
    )
    .map_err(|e| anyhow!("{e}"))?
    .with_kvs(kvs);
    let out = tokio::task::spawn_blocking(move || {
        crate::invoke::test_cloudfront(code, &ev, None, summary)
    })
    .await??;
    crate::invoke::print_test_result(out)
}

/// Puts the control node's copy of the store `arn` names in this process's registry; its id.
async fn load_store(target: &Target, arn: &str) -> Result<String> {
    use edge_node::cloudfront::kvs;
    let client = target.client()?;
    let id = kvs::id_of_arn(arn).ok_or_else(|| anyhow!("{arn:?} is not a KeyValueStore ARN"))?;
    let list = client.json(Method::GET, "/v1/kvs", None).await?;
    let store = list["KeyValueStoreList"]["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["Id"] == id)
        .ok_or_else(|| anyhow!("the KeyValueStore {arn} is not on the control node"))?;
    let name = store["Name"].as_str().unwrap_or_default();
    let keys = client
        .json(Method::GET, &format!("/v1/kvs/{name}/keys"), None)
        .await?;
    let items = keys["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["Key"].as_str().unwrap_or_default().to_string(),
                i["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    kvs::install(vec![std::sync::Arc::new(kvs::Store {
        id: id.to_string(),
        name: name.to_string(),
        created_ms: now,
        updated_ms: now,
        items,
    })]);
    Ok(id.to_string())
}
