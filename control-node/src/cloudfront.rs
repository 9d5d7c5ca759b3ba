//! CloudFront Functions on the control node, with CloudFront's lifecycle
//! (docs/cloudfront-functions.md: "Lifecycle"): a function has a `DEVELOPMENT` stage that is
//! created, updated and tested, and a `LIVE` stage that publishing copies it to; only `LIVE`
//! can be associated with a cache behavior, and every association follows `LIVE`, so a publish
//! reaches every edge in one revision. Facts from AWS's API reference:
//! - the stages and what each allows
//!   (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_FunctionMetadata.html>);
//! - names are 1–64 of `[a-zA-Z0-9-_]`, DescribeFunction answers a FunctionSummary
//!   (Name, Status, FunctionConfig {Comment, Runtime, KeyValueStoreAssociations},
//!   FunctionMetadata {FunctionARN, Stage, CreatedTime, LastModifiedTime}) and an ETag
//!   (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DescribeFunction.html>);
//! - the errors: `FunctionAlreadyExists` (409), `NoSuchFunctionExists` (404), `FunctionInUse`
//!   (409), `PreconditionFailed` (412) for a stale `If-Match`, `FunctionSizeLimitExceeded`
//!   (413) (<https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateFunction.html>,
//!   <https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteFunction.html>).

use crate::*;
use edge_node::cloudfront::{self as cff, Runtime};
use serde_json::{json, Value};
use store::{CfFunctionRow, FunctionAssociationRow};

/// DEVELOPMENT or LIVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnStage {
    Development,
    Live,
}

impl FnStage {
    pub fn parse(s: Option<&str>) -> Result<FnStage> {
        match s {
            None | Some("DEVELOPMENT") => Ok(FnStage::Development),
            Some("LIVE") => Ok(FnStage::Live),
            Some(other) => Err(ControlError::invalid(
                "InvalidArgument",
                format!("Stage {other:?} is not DEVELOPMENT or LIVE"),
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            FnStage::Development => "DEVELOPMENT",
            FnStage::Live => "LIVE",
        }
    }
}

/// `POST /v1/cloudfront-functions/NAME` and `PUT` (CreateFunction, UpdateFunction).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CfFunctionRequest {
    /// `cloudfront-js-1.0` or `cloudfront-js-2.0` (create: the default is 2.0; update: the
    /// function's runtime stays unless given).
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    pub code: String,
    /// The KeyValueStore (name or ARN) `cf.kvs()` reads; `""` removes it (update: unchanged
    /// unless given). CloudFront's KeyValueStoreAssociations, of which a function has one.
    #[serde(default)]
    pub key_value_store: Option<String>,
}

fn no_such(name: &str) -> ControlError {
    ControlError::Missing {
        code: "NoSuchFunctionExists",
        what: format!("CloudFront function {name}"),
    }
}

fn runtime_of(s: &str) -> Result<Runtime> {
    Runtime::parse(s).ok_or_else(|| {
        ControlError::invalid(
            "InvalidArgument",
            format!("Runtime {s:?} is not cloudfront-js-1.0 or cloudfront-js-2.0"),
        )
    })
}

/// The same checks an edge makes before it serves the code, on a thread of its own (the check
/// makes an engine with its own runtime).
fn check(name: &str, code: &[u8], runtime: Runtime, kvs: Option<String>) -> Result<()> {
    if code.len() > cff::CODE_BYTES {
        return Err(ControlError::TooLarge(format!(
            "the function code is {} bytes; CloudFront functions may be at most {} bytes",
            code.len(),
            cff::CODE_BYTES
        )));
    }
    let bytes = bytes::Bytes::copy_from_slice(code);
    let file = format!("{name}.js");
    let checked = std::thread::scope(|s| {
        s.spawn(|| edge_node::js::check_cloudfront(&file, bytes, runtime, kvs))
            .join()
            .unwrap_or_else(|_| {
                Err(edge_node::js::FnError::Threw(
                    "the code check failed".into(),
                ))
            })
    });
    checked.map_err(|e| {
        let reason = match e {
            edge_node::js::FnError::Load { reason, .. } => reason,
            other => other.to_string(),
        };
        ControlError::invalid(
            "InvalidArgument",
            format!("the function code does not load: {reason}"),
        )
    })
}

fn check_if_match(f: &CfFunctionRow, if_match: Option<&str>) -> Result<()> {
    match if_match {
        Some(tag) if tag != etag(f) => Err(ControlError::PreconditionFailed(format!(
            "the If-Match ETag {tag:?} is not the function's current ETag {:?}: it changed since; describe it again",
            etag(f)
        ))),
        _ => Ok(()),
    }
}

/// The function's ETag: changes with every update and publish.
pub fn etag(f: &CfFunctionRow) -> String {
    format!("E{}", f.dev_etag)
}

fn iso(t: u64) -> String {
    edge_node::js::logs::rfc3339_ms(t * 1000)
}

impl Control {
    /// CreateFunction: a new function's DEVELOPMENT stage.
    pub fn cf_create(&self, name: &str, r: &CfFunctionRequest) -> Result<Value> {
        check_name(name)?;
        let runtime = runtime_of(r.runtime.as_deref().unwrap_or("cloudfront-js-2.0"))?;
        let kvs = self.kvs_id(r.key_value_store.as_deref())?;
        check(name, r.code.as_bytes(), runtime, kvs)?;
        let sha = edge_node::replica::sha256_hex(r.code.as_bytes());
        let row = self.store().tx(|tx| {
            if store::cf_function(tx, name)?.is_some() {
                return Err(ControlError::InUse {
                    code: "FunctionAlreadyExists",
                    message: format!("a CloudFront function named {name} already exists: update it (edge function update {name} FILE)"),
                });
            }
            store::put_code(tx, &sha, r.code.as_bytes())?;
            let now = store::now();
            let row = CfFunctionRow {
                name: name.to_string(),
                comment: r.comment.clone().unwrap_or_default(),
                runtime: runtime.as_str().to_string(),
                dev_sha256: sha.clone(),
                dev_etag: 1,
                live: None,
                live_version: 0,
                created_at: now,
                updated_at: now,
                published_at: None,
                kvs: crate::kvs::store_named(tx, r.key_value_store.as_deref())?,
                live_kvs: None,
            };
            store::put_cf_function(tx, &row)?;
            Ok(row)
        })?;
        self.cf_summary(&row, FnStage::Development)
    }

    /// UpdateFunction: new code (and maybe runtime or comment) for the DEVELOPMENT stage; LIVE
    /// and every edge keep what they run until a publish.
    pub fn cf_update(
        &self,
        name: &str,
        r: &CfFunctionRequest,
        if_match: Option<&str>,
    ) -> Result<Value> {
        let current = self
            .store()
            .cf_function(name)?
            .ok_or_else(|| no_such(name))?;
        let runtime = runtime_of(r.runtime.as_deref().unwrap_or(&current.runtime))?;
        let kvs = match &r.key_value_store {
            Some(given) => self.kvs_id(Some(given))?,
            None => self.kvs_id(current.kvs.as_deref())?,
        };
        check(name, r.code.as_bytes(), runtime, kvs)?;
        let sha = edge_node::replica::sha256_hex(r.code.as_bytes());
        let row = self.store().tx(|tx| {
            let mut row = store::cf_function(tx, name)?.ok_or_else(|| no_such(name))?;
            check_if_match(&row, if_match)?;
            store::put_code(tx, &sha, r.code.as_bytes())?;
            row.runtime = runtime.as_str().to_string();
            if let Some(c) = &r.comment {
                row.comment = c.clone();
            }
            if r.key_value_store.is_some() {
                row.kvs = crate::kvs::store_named(tx, r.key_value_store.as_deref())?;
            }
            row.dev_sha256 = sha.clone();
            row.dev_etag += 1;
            row.updated_at = store::now();
            store::put_cf_function(tx, &row)?;
            Ok(row)
        })?;
        self.cf_summary(&row, FnStage::Development)
    }

    /// PublishFunction: LIVE := DEVELOPMENT. One revision: every behavior associated with the
    /// function runs the new code at every edge.
    pub fn cf_publish(&self, name: &str, if_match: Option<&str>) -> Result<(Value, u64)> {
        let (row, revision) = self.change(|tx| {
            let mut row = store::cf_function(tx, name)?.ok_or_else(|| no_such(name))?;
            check_if_match(&row, if_match)?;
            row.live = Some((row.dev_sha256.clone(), row.runtime.clone()));
            row.live_kvs = row.kvs.clone();
            row.live_version += 1;
            row.dev_etag += 1;
            row.published_at = Some(store::now());
            row.updated_at = store::now();
            store::put_cf_function(tx, &row)?;
            Ok(row)
        })?;
        Ok((self.cf_summary(&row, FnStage::Live)?, revision))
    }

    /// The id of the store a function names (name or ARN), if it names one.
    fn kvs_id(&self, given: Option<&str>) -> Result<Option<String>> {
        let store = self.store();
        let conn = store.conn();
        match crate::kvs::store_named(conn, given)? {
            Some(name) => Ok(store.kv_store(&name)?.map(|s| s.id)),
            None => Ok(None),
        }
    }

    /// DescribeFunction: a stage's FunctionSummary and the ETag.
    pub fn cf_describe(&self, name: &str, stage: FnStage) -> Result<Value> {
        let row = self
            .store()
            .cf_function(name)?
            .ok_or_else(|| no_such(name))?;
        if stage == FnStage::Live && row.live.is_none() {
            return Err(ControlError::Missing {
                code: "NoSuchFunctionExists",
                what: format!(
                    "the LIVE stage of CloudFront function {name} (it was never published)"
                ),
            });
        }
        self.cf_summary(&row, stage)
    }

    /// ListFunctions: every function's summary (its LIVE stage once published, as CloudFront
    /// lists it, else DEVELOPMENT).
    pub fn cf_list(&self) -> Result<Value> {
        let rows = self.store().cf_functions()?;
        let mut items = Vec::new();
        for r in &rows {
            let stage = if r.live.is_some() {
                FnStage::Live
            } else {
                FnStage::Development
            };
            items.push(self.cf_summary(r, stage)?["FunctionSummary"].clone());
        }
        Ok(json!({"FunctionList": {"Quantity": items.len(), "Items": items}}))
    }

    /// A stage's code and runtime (GetFunction).
    pub fn cf_code(&self, name: &str, stage: FnStage) -> Result<(Vec<u8>, String, Value)> {
        let store = self.store();
        let row = store.cf_function(name)?.ok_or_else(|| no_such(name))?;
        let (sha, runtime) = match stage {
            FnStage::Development => (row.dev_sha256.clone(), row.runtime.clone()),
            FnStage::Live => row.live.clone().ok_or_else(|| ControlError::Missing {
                code: "NoSuchFunctionExists",
                what: format!(
                    "the LIVE stage of CloudFront function {name} (it was never published)"
                ),
            })?,
        };
        let code = store
            .code(&sha)?
            .ok_or_else(|| ControlError::NotFound(format!("code {sha}")))?;
        drop(store);
        let summary = self.cf_summary(&row, stage)?;
        Ok((code, runtime, summary))
    }

    /// DeleteFunction: refused while a cache behavior uses it.
    pub fn cf_delete(&self, name: &str, if_match: Option<&str>) -> Result<()> {
        self.store().tx(|tx| {
            let row = store::cf_function(tx, name)?.ok_or_else(|| no_such(name))?;
            check_if_match(&row, if_match)?;
            if let Some(a) = store::function_associations(tx)?.iter().find(|a| a.name == name) {
                return Err(ControlError::InUse {
                    code: "FunctionInUse",
                    message: format!(
                        "CloudFront function {name} is associated with {}: remove the association first",
                        fn_slot_name(a)
                    ),
                });
            }
            store::delete_cf_function(tx, name)?;
            Ok(())
        })
    }

    fn cf_summary(&self, row: &CfFunctionRow, stage: FnStage) -> Result<Value> {
        let associated = self
            .store()
            .function_associations()?
            .into_iter()
            .any(|a| a.name == row.name);
        let status = match (&row.live, associated) {
            (None, _) => "UNPUBLISHED",
            (Some(_), false) => "UNASSOCIATED",
            (Some(_), true) => "DEPLOYED",
        };
        let (sha, runtime, modified, kvs) = match (stage, &row.live) {
            (FnStage::Live, Some((sha, rt))) => (
                sha.clone(),
                rt.clone(),
                row.published_at.unwrap_or(row.updated_at),
                &row.live_kvs,
            ),
            _ => (
                row.dev_sha256.clone(),
                row.runtime.clone(),
                row.updated_at,
                &row.kvs,
            ),
        };
        let kvs: Vec<Value> = match kvs {
            Some(name) => {
                let s = self.store().kv_store(name)?;
                s.map(|s| json!({"KeyValueStoreARN": cff::kvs::arn(&s.id)}))
                    .into_iter()
                    .collect()
            }
            None => Vec::new(),
        };
        Ok(json!({
            "ETag": etag(row),
            "FunctionSummary": {
                "Name": row.name,
                "Status": status,
                "FunctionConfig": {
                    "Comment": row.comment,
                    "Runtime": runtime,
                    "KeyValueStoreAssociations": {"Quantity": kvs.len(), "Items": kvs},
                },
                "FunctionMetadata": {
                    "FunctionARN": cff::function_arn(&row.name),
                    "Stage": stage.as_str(),
                    "CreatedTime": iso(row.created_at),
                    "LastModifiedTime": iso(modified),
                },
            },
            "CodeSha256": sha,
            "LiveVersion": row.live_version,
        }))
    }

    /// The row of a CloudFront function association: the function must exist and have a LIVE
    /// stage, at a viewer event, with none of Lambda's options.
    pub(crate) fn function_association_row(
        &self,
        tx: &rusqlite::Transaction<'_>,
        distribution: &str,
        name: &str,
        r: &AssociateRequest,
    ) -> Result<FunctionAssociationRow> {
        let stage = Stage::parse(&r.stage).filter(|s| s.is_viewer()).ok_or_else(|| {
            ControlError::invalid(
                "InvalidFunctionAssociation",
                format!("EventType {:?} can't be used with a CloudFront function: CloudFront Functions run at viewer-request and viewer-response", r.stage),
            )
        })?;
        if r.include_body || r.canary.is_some() || r.canary_percent.is_some() {
            return Err(ControlError::invalid(
                "InvalidFunctionAssociation",
                "IncludeBody and canaries are Lambda@Edge options; a CloudFront function association has only EventType and FunctionARN",
            ));
        }
        let f = store::cf_function(tx, name)?.ok_or_else(|| no_such(name))?;
        if f.live.is_none() {
            return Err(ControlError::invalid(
                "InvalidFunctionAssociation",
                format!("CloudFront function {name} is only in the DEVELOPMENT stage; only a LIVE function can be associated: publish it first (edge function publish {name})"),
            ));
        }
        Ok(FunctionAssociationRow {
            distribution: distribution.to_string(),
            behavior: behavior_key(r.behavior.as_deref()),
            stage: stage.as_str().to_string(),
            name: name.to_string(),
        })
    }
}

/// The CloudFront function an association request names: a CloudFront function ARN, or a bare
/// name (Lambda versions are always `NAME:VERSION`).
pub(crate) fn cloudfront_function_of(function: &str) -> Option<&str> {
    if function.starts_with("arn:aws:lambda:") {
        return None;
    }
    cff::function_of_arn(function).or((!function.contains(':')).then_some(function))
}

pub(crate) fn fn_slot_name(a: &FunctionAssociationRow) -> String {
    crate::associations::slot(&a.distribution, &a.behavior, &a.stage)
}
