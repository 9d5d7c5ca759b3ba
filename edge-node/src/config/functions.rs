//! Function associations: a version (and an optional canary) at a stage of a behavior,
//! CloudFront's association rules, and the `--function` / `--skip-stage` shortcuts.

use super::raw::*;
use super::validate::Result;
use super::*;
use crate::error::NodeError;
use std::path::Path;

/// A function version associated with a stage of a behavior.
#[derive(Debug, Clone)]
pub struct Association {
    pub code: Arc<FunctionCode>,
    pub include_body: bool,
    /// A second version that serves a sticky slice of viewers (a canary rollout).
    pub canary: Option<Canary>,
}

/// `percent` of viewers (chosen by a hash of the viewer IP, so each viewer always gets the
/// same version) run `code` instead of the association's main version.
#[derive(Debug, Clone)]
pub struct Canary {
    pub code: Arc<FunctionCode>,
    pub percent: u8,
}

impl Association {
    pub fn new(code: Arc<FunctionCode>, include_body: bool) -> Association {
        Association {
            code,
            include_body,
            canary: None,
        }
    }

    /// The version that runs for `viewer`.
    pub fn code_for(&self, viewer: std::net::IpAddr) -> &Arc<FunctionCode> {
        match &self.canary {
            Some(c) if viewer_bucket(viewer, &c.code.name) < c.percent => &c.code,
            _ => &self.code,
        }
    }
}

/// A viewer's stable bucket in 0..100 for a canary: FNV-1a over the IP and the function name,
/// so different functions split viewers independently.
pub fn viewer_bucket(viewer: std::net::IpAddr, function: &str) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let ip = match viewer {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    };
    for b in ip.iter().chain(function.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Fold the high bits in: FNV's low bits mix poorly for inputs that differ in the last byte.
    ((h ^ (h >> 32)) % 100) as u8
}

/// Reads a function (a file, a folder or a zip, with an optional handler) into a version-1
/// function named after the file.
pub fn load_function(path: &Path, handler: Option<&str>, field: &str) -> Result<Arc<FunctionCode>> {
    let bytes =
        crate::js::package::read_path(path, handler).map_err(|e| NodeError::config(field, e))?;
    let code =
        FunctionCode::from_bytes(function_name_of(path), 1, path.display().to_string(), bytes)
            .map_err(|e| NodeError::config(field, format!("{}: {e}", path.display())))?;
    Ok(Arc::new(code))
}

/// A function's name from its file: the stem, with anything but letters, digits, `-` and `_`
/// as `-`.
pub fn function_name_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("function")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The folder, beside a configuration file, that functions named by ARN are read from.
pub const FUNCTIONS_DIR: &str = "functions";

/// The local source of the function `name` named by ARN in a configuration whose files are
/// relative to `base`: `functions/NAME.js` (`.mjs`, `.cjs`), `functions/NAME.zip` or the folder
/// `functions/NAME/`.
pub fn local_source(base: &Path, name: &str) -> Option<std::path::PathBuf> {
    let dir = base.join(FUNCTIONS_DIR);
    ["js", "mjs", "cjs", "zip"]
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .find(|p| p.is_file())
        .or_else(|| Some(dir.join(name)).filter(|p| p.is_dir()))
}

/// The name and version a Lambda function version ARN names
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION`); `None` for anything else,
/// `$LATEST`, an alias or an unqualified ARN among them (CloudFront takes only a numbered version).
pub fn lambda_version_arn(s: &str) -> Option<(&str, u64)> {
    let rest = s.strip_prefix("arn:aws:lambda:")?;
    let mut parts = rest.splitn(5, ':');
    let (_region, _account, kind) = (parts.next()?, parts.next()?, parts.next()?);
    let (name, version) = (parts.next()?, parts.next()?);
    let version: u64 = version.parse().ok().filter(|v| *v > 0)?;
    (kind == "function" && !name.is_empty()).then_some((name, version))
}

/// The file an association's function comes from and the field that named it: its `File`, or
/// the local source of the function its ARN (`by_arn`: the name and the ARN, in `arn_field`)
/// names.
fn source_file(
    base: &Path,
    file: Option<&str>,
    by_arn: Option<(&str, &str)>,
    field: &str,
    arn_field: &str,
) -> Result<(std::path::PathBuf, String)> {
    match (file, by_arn) {
        (Some(file), _) => Ok((base.join(file), format!("{field}.File"))),
        (None, Some((name, arn))) => {
            let at = format!("{field}.{arn_field}");
            let dir = base.join(FUNCTIONS_DIR).display().to_string();
            match local_source(base, name) {
                Some(path) => Ok((path, at)),
                None => Err(NodeError::config(
                    at,
                    format!("{arn:?}: no local source for the function {name:?}: looked for {dir}/{name}.js (.mjs, .cjs), {dir}/{name}.zip or the folder {dir}/{name}/; add one, or give the association a File"),
                )),
            }
        }
        (None, None) => Err(NodeError::config(
            format!("{field}.File"),
            format!("a function association needs a File (or a {arn_field})"),
        )),
    }
}

/// Associates `code` with `stage` on the default behavior of every distribution (the
/// `--function STAGE=FILE` shortcut).
pub fn add_function(
    cfg: &mut NodeConfig,
    stage: Stage,
    code: Arc<FunctionCode>,
    include_body: bool,
) -> Result<()> {
    check_association(stage, &code, include_body, "--function")?;
    for d in cfg.distributions.iter_mut() {
        let d = Arc::get_mut(d)
            .ok_or_else(|| NodeError::config("--function", "configuration is already in use"))?;
        let default = d.behaviors.last_mut().expect("a default behavior");
        default.functions[stage.index()] = Some(Association::new(code.clone(), include_body));
        check_combination(&default.functions, "--function")?;
    }
    Ok(())
}

/// Leaves out every function associated with `stage`, in every behavior (to measure a
/// configuration with and without its functions).
pub fn remove_functions(cfg: &mut NodeConfig, stage: Stage) -> Result<()> {
    for d in cfg.distributions.iter_mut() {
        let d = Arc::get_mut(d)
            .ok_or_else(|| NodeError::config("--skip-stage", "configuration is already in use"))?;
        for b in &mut d.behaviors {
            b.functions[stage.index()] = None;
        }
    }
    Ok(())
}

/// Associates a function version with a stage of one cache behavior (`behavior` is its
/// PathPattern; `None` is the default behavior), replacing what was there.
pub fn associate(
    cfg: &mut NodeConfig,
    distribution: &str,
    behavior: Option<&str>,
    stage: Stage,
    association: Association,
) -> Result<()> {
    let field = format!("{distribution}:{}:{stage}", behavior.unwrap_or("default"));
    check_association(stage, &association.code, association.include_body, &field)?;
    if let Some(c) = &association.canary {
        check_association(stage, &c.code, association.include_body, &field)?;
    }
    let d = cfg
        .distributions
        .iter_mut()
        .find(|d| d.id == distribution)
        .ok_or_else(|| {
            NodeError::config(
                &field,
                format!("no distribution has the Id {distribution:?}"),
            )
        })?;
    let d = Arc::get_mut(d)
        .ok_or_else(|| NodeError::config(&field, "configuration is already in use"))?;
    let b = d
        .behaviors
        .iter_mut()
        .find(|b| b.path_pattern.as_deref() == behavior)
        .ok_or_else(|| {
            NodeError::config(
                &field,
                format!(
                    "distribution {distribution} has no cache behavior with PathPattern {:?}",
                    behavior.unwrap_or("")
                ),
            )
        })?;
    let before = b.functions[stage.index()].replace(association);
    if let Err(e) = check_combination(&b.functions, &field) {
        b.functions[stage.index()] = before;
        return Err(e);
    }
    Ok(())
}

/// Refuses a CloudFront function at `stage` of a behavior where a Lambda@Edge function
/// already is (CloudFront takes one function per event type).
pub fn check_free(
    cfg: &NodeConfig,
    distribution: &str,
    behavior: Option<&str>,
    stage: Stage,
) -> Result<()> {
    let taken = cfg
        .distributions
        .iter()
        .filter(|d| d.id == distribution)
        .flat_map(|d| d.behaviors.iter())
        .filter(|b| b.path_pattern.as_deref() == behavior)
        .find_map(|b| b.functions[stage.index()].as_ref());
    match taken {
        None => Ok(()),
        Some(a) => Err(NodeError::FunctionAssociation {
            field: format!("{distribution}:{}:{stage}", behavior.unwrap_or("default")),
            reason: format!(
                "a cache behavior takes one function per event type; {stage} already has the Lambda@Edge function {}:{}",
                a.code.name, a.code.version
            ),
        }),
    }
}

/// CloudFront's association rules (docs/cloudfront-behaviour.md: "Versions and associations",
/// "Request body (IncludeBody)", "Limits per stage").
pub fn check_association(
    stage: Stage,
    code: &FunctionCode,
    include_body: bool,
    field: &str,
) -> Result<()> {
    if code.cloudfront.is_some() {
        if !stage.is_viewer() {
            return Err(NodeError::FunctionAssociation {
                field: field.into(),
                reason: format!("{stage} can't be used with a CloudFront function: CloudFront Functions run at viewer-request and viewer-response"),
            });
        }
        return Ok(());
    }
    if include_body && !stage.is_request() {
        return Err(NodeError::Association {
            field: field.into(),
            reason: "The IncludeBody option can only be used with viewer-request or origin-request events.".into(),
        });
    }
    let limit = if stage.is_viewer() {
        defaults::VIEWER_CODE_BYTES
    } else {
        defaults::ORIGIN_CODE_BYTES
    };
    if code.bytes.len() > limit {
        return Err(NodeError::Association {
            field: field.into(),
            reason: format!(
                "the function is {} bytes; {stage} functions may be at most {limit} bytes",
                code.bytes.len()
            ),
        });
    }
    Ok(())
}

pub(super) fn associations(
    raw: Vec<RawAssociation>,
    cloudfront: Vec<RawFunctionAssociation>,
    at: &str,
    base: &Path,
    stores: &Stores,
) -> Result<[Option<Association>; 4]> {
    let mut out: [Option<Association>; 4] = Default::default();
    lambda_associations(raw, at, base, &mut out)?;
    function_associations(cloudfront, at, base, stores, &mut out)?;
    check_combination(&out, at)?;
    Ok(out)
}

/// A CloudFront function from a file: named after the file unless `name` is given.
pub fn load_cloudfront_function(
    path: &Path,
    runtime: crate::cloudfront::Runtime,
    name: Option<&str>,
    kvs: Option<String>,
    field: &str,
) -> Result<Arc<FunctionCode>> {
    let bytes = std::fs::read(path)
        .map_err(|e| NodeError::config(field, format!("{}: {e}", path.display())))?;
    let name = name.map_or_else(|| function_name_of(path), str::to_string);
    let code = FunctionCode::cloudfront(name, 1, path.display().to_string(), bytes.into(), runtime)
        .map_err(|e| NodeError::config(field, e))?
        .with_kvs(kvs);
    Ok(Arc::new(code))
}

/// CloudFront Functions associations (`FunctionAssociations`): viewer events only.
fn function_associations(
    raw: Vec<RawFunctionAssociation>,
    at: &str,
    base: &Path,
    stores: &Stores,
    out: &mut [Option<Association>; 4],
) -> Result<()> {
    for (i, a) in raw.into_iter().enumerate() {
        let field = format!("{at}.FunctionAssociations[{i}]");
        let stage = match a.event_type.as_deref().and_then(Stage::parse) {
            Some(s) if s.is_viewer() => s,
            Some(s) => {
                return Err(NodeError::FunctionAssociation {
                    field: format!("{field}.EventType"),
                    reason: format!("{s} can't be used with a CloudFront function: CloudFront Functions run at viewer-request and viewer-response"),
                })
            }
            None => {
                return Err(NodeError::config(
                    format!("{field}.EventType"),
                    format!("{:?} is not one of viewer-request, viewer-response", a.event_type.as_deref().unwrap_or("")),
                ))
            }
        };
        // A function named by ARN is the local source of its name.
        let by_arn = match &a.function_arn {
            None => None,
            Some(arn) => Some(crate::cloudfront::function_of_arn(arn).ok_or_else(|| {
                NodeError::config(
                    format!("{field}.FunctionARN"),
                    format!("{arn:?} is not a CloudFront function ARN (arn:aws:cloudfront::ACCOUNT:function/NAME)"),
                )
            })?),
        };
        let runtime = match a.runtime.as_deref() {
            None => crate::cloudfront::Runtime::Js2,
            Some(r) => crate::cloudfront::Runtime::parse(r).ok_or_else(|| {
                NodeError::config(
                    format!("{field}.Runtime"),
                    format!("{r:?} is not a CloudFront Functions runtime: cloudfront-js-1.0 or cloudfront-js-2.0"),
                )
            })?,
        };
        let (file, at) = source_file(
            base,
            a.file.as_deref(),
            by_arn.zip(a.function_arn.as_deref()),
            &field,
            "FunctionARN",
        )?;
        let kvs = match &a.key_value_store {
            None => None,
            Some(name) => Some(stores.get(name).cloned().ok_or_else(|| {
                NodeError::config(
                    format!("{field}.KeyValueStore"),
                    format!("no [[key_value_stores]] entry is named {name:?}"),
                )
            })?),
        };
        let code =
            load_cloudfront_function(&file, runtime, a.name.as_deref().or(by_arn), kvs, &at)?;
        if out[stage.index()].is_some() {
            return Err(NodeError::FunctionAssociation {
                field: format!("{field}.EventType"),
                reason: format!(
                    "a cache behavior takes one function per event type; {stage} already has one"
                ),
            });
        }
        out[stage.index()] = Some(Association::new(code, false));
    }
    Ok(())
}

/// CloudFront's rule for one cache behavior: CloudFront Functions and Lambda@Edge do not mix
/// in viewer events (either may pair with Lambda@Edge at the origin events).
pub fn check_combination(functions: &[Option<Association>; 4], at: &str) -> Result<()> {
    let viewer = [Stage::ViewerRequest, Stage::ViewerResponse];
    let kinds: Vec<bool> = viewer
        .iter()
        .filter_map(|s| functions[s.index()].as_ref())
        .map(|a| a.code.cloudfront.is_some())
        .collect();
    if kinds.contains(&true) && kinds.contains(&false) {
        return Err(NodeError::FunctionAssociation {
            field: at.to_string(),
            reason: "You can't combine CloudFront Functions and Lambda@Edge in viewer events (viewer request and viewer response) of one cache behavior".into(),
        });
    }
    Ok(())
}

fn lambda_associations(
    raw: Vec<RawAssociation>,
    at: &str,
    base: &Path,
    out: &mut [Option<Association>; 4],
) -> Result<()> {
    for (i, a) in raw.into_iter().enumerate() {
        let field = format!("{at}.LambdaFunctionAssociations[{i}]");
        let stage = a.event_type.as_deref().and_then(Stage::parse).ok_or_else(|| {
            NodeError::config(
                format!("{field}.EventType"),
                format!("{:?} is not one of viewer-request, origin-request, origin-response, viewer-response", a.event_type.as_deref().unwrap_or("")),
            )
        })?;
        // A function named by ARN is that version of the local source of its name.
        let arn = match &a.lambda_function_arn {
            None => None,
            Some(arn) => Some(lambda_version_arn(arn).ok_or_else(|| {
                NodeError::config(
                    format!("{field}.LambdaFunctionARN"),
                    format!("{arn:?}: the function ARN must reference a specific function version (arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION)"),
                )
            })?),
        };
        let (file, at) = source_file(
            base,
            a.file.as_deref(),
            arn.map(|(name, _)| name)
                .zip(a.lambda_function_arn.as_deref()),
            &field,
            "LambdaFunctionARN",
        )?;
        let mut code = load_function(&file, a.handler.as_deref(), &at)?;
        if let Some((name, version)) = arn {
            code = Arc::new(code.as_version(a.name.as_deref().unwrap_or(name), version));
        } else if let Some(name) = a.name {
            code = Arc::new(code.renamed(name));
        }
        let include_body = a.include_body.unwrap_or(false);
        check_association(stage, &code, include_body, &field)?;
        if out[stage.index()].is_some() {
            return Err(NodeError::config(
                format!("{field}.EventType"),
                format!("a cache behavior takes one function per event type; {stage} is associated twice"),
            ));
        }
        out[stage.index()] = Some(Association::new(code, include_body));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn canary_buckets_are_stable_and_spread() {
        let mut in_ten = 0;
        for i in 0..10_000u32 {
            let ip = std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let b = super::viewer_bucket(ip, "ab-test");
            assert_eq!(b, super::viewer_bucket(ip, "ab-test"));
            if b < 10 {
                in_ten += 1;
            }
        }
        assert!(
            (800..1200).contains(&in_ten),
            "{in_ten} of 10000 in a 10% slice"
        );
    }
}
