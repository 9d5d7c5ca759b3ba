//! Deployment packages: a function is one JavaScript file or a package (a `.zip`, or a folder
//! the CLI packs into one) laid out as Lambda expects, with a `Handler` (`file.export`).
//! Inside a package modules resolve as Node's do (docs/cloudfront-behaviour.md: "Deployment
//! packages", with the sources).
//!
//! The published form of a package is a zip whose archive comment names the handler
//! (`edge-handler=src/app.handler`); a zip without one has Lambda's default, `index.handler`.
//! Its SHA-256 names the version everywhere, so the files and the handler travel as one unit.

use bytes::Bytes;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// Where Lambda puts a function's package; module paths and stack traces name files under it.
pub const TASK_ROOT: &str = "/var/task";

/// Lambda's default handler.
pub const DEFAULT_HANDLER: &str = "index.handler";

/// The most a package may hold once unzipped: Lambda's quota for a deployment package
/// (250 MB unzipped, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1000 * 1000;

const HANDLER_COMMENT: &str = "edge-handler=";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// `file.export` as Lambda reads it: the module path (relative to the package root, without
/// its extension) up to the first dot after the last slash, then the export (which may be a
/// dotted path into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    pub module: String,
    pub export: String,
}

impl Handler {
    pub fn parse(text: &str) -> Result<Handler, String> {
        let slash = text.rfind('/').map_or(0, |i| i + 1);
        let bad = || {
            format!("bad handler {text:?}: Lambda's form is FILE.EXPORT (e.g. index.handler or src/app.lambdaHandler)")
        };
        let dot = text[slash..].find('.').ok_or_else(bad)? + slash;
        let (module, export) = (&text[..dot], &text[dot + 1..]);
        if module.is_empty()
            || export.is_empty()
            || export.split('.').any(str::is_empty)
            || module.split('/').any(|s| s == ".." || s.is_empty())
        {
            return Err(bad());
        }
        Ok(Handler {
            module: module.trim_start_matches("./").to_string(),
            export: export.to_string(),
        })
    }
}

impl std::fmt::Display for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.export)
    }
}

/// A function's files (paths relative to the package root, `/`-separated) and its handler.
#[derive(Debug, Clone)]
pub struct Package {
    files: BTreeMap<String, Bytes>,
    pub handler: Handler,
    /// A single published file (not a zip): its `handler` export is looked up leniently, as
    /// this runtime always has (`module.exports = fn`, `export default` also count).
    pub single: bool,
}

/// How a resolved module is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CommonJs,
    Module,
    Json,
}

impl Format {
    pub fn tag(self) -> &'static str {
        match self {
            Format::CommonJs => "cjs",
            Format::Module => "esm",
            Format::Json => "json",
        }
    }
}

/// Who is asking: `require` (CommonJS rules: extensions and directory indexes are tried) or
/// `import` (ES module rules: the exact file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Require,
    Import,
}

/// A resolution that failed, with Node's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    pub code: &'static str,
    pub message: String,
}

fn not_found(mode: Mode, request: &str, parent: &str) -> ResolveError {
    match mode {
        Mode::Require => ResolveError {
            code: "MODULE_NOT_FOUND",
            message: format!("Cannot find module '{request}'\nRequire stack:\n- {parent}"),
        },
        Mode::Import => ResolveError {
            code: "ERR_MODULE_NOT_FOUND",
            message: if is_bare(request) {
                format!("Cannot find package '{request}' imported from {parent}")
            } else {
                format!("Cannot find module '{request}' imported from {parent}")
            },
        },
    }
}

fn is_bare(request: &str) -> bool {
    !(request.starts_with("./")
        || request.starts_with("../")
        || request.starts_with('/')
        || request == "."
        || request == "..")
}

/// `/var/task/<rel>`.
pub fn absolute(rel: &str) -> String {
    format!("{TASK_ROOT}/{rel}")
}

/// The path under the package root of an absolute module path, if it is inside the package.
fn relative(abs: &str) -> Option<&str> {
    abs.strip_prefix(TASK_ROOT)?.strip_prefix('/')
}

/// `base/rel` with `.` and `..` resolved; `None` if it leaves the package root.
fn join(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

fn dirname(rel: &str) -> &str {
    rel.rfind('/').map_or("", |i| &rel[..i])
}

impl Package {
    /// The package of one JavaScript file named `file` (only its name is kept).
    pub fn single(file: &str, source: Bytes) -> Package {
        let base = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("index.js");
        let name = if [".js", ".mjs", ".cjs"].iter().any(|e| base.ends_with(e)) {
            base.to_string()
        } else if super::is_es_module(&String::from_utf8_lossy(&source)) {
            "index.mjs".to_string()
        } else {
            "index.js".to_string()
        };
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let handler = Handler {
            module: stem.to_string(),
            export: "handler".into(),
        };
        Package {
            files: BTreeMap::from([(name, source)]),
            handler,
            single: true,
        }
    }

    /// The package `bytes` hold: a zip (by its signature) or a single JavaScript file.
    pub fn from_bytes(file: &str, bytes: Bytes) -> Result<Package, String> {
        if !bytes.starts_with(ZIP_MAGIC) {
            if std::str::from_utf8(&bytes).is_err() {
                return Err("the function code is neither UTF-8 JavaScript nor a zip".into());
            }
            return Ok(Package::single(file, bytes));
        }
        let (files, comment) = unzip(&bytes)?;
        let handler = match comment.strip_prefix(HANDLER_COMMENT) {
            Some(h) => Handler::parse(h.trim())?,
            None => Handler::parse(DEFAULT_HANDLER)?,
        };
        let package = Package {
            files,
            handler,
            single: false,
        };
        package.entry()?;
        Ok(package)
    }

    pub fn file(&self, rel: &str) -> Option<&Bytes> {
        self.files.get(rel)
    }

    /// The text of the module at `abs` (an absolute path under /var/task).
    pub fn source(&self, abs: &str) -> Option<&str> {
        let bytes = self.files.get(relative(abs)?)?;
        std::str::from_utf8(bytes).ok()
    }

    /// The names in the folder at `rel` ("" is the root) with whether each is a folder, or
    /// `None` when there is no such folder.
    pub fn list_dir(&self, rel: &str) -> Option<Vec<(String, bool)>> {
        if !self.is_dir(rel) {
            return None;
        }
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        let mut out: Vec<(String, bool)> = Vec::new();
        for (k, _) in self.files.range(prefix.clone()..) {
            let Some(rest) = k.strip_prefix(&prefix) else {
                break;
            };
            let (name, dir) = match rest.split_once('/') {
                Some((d, _)) => (d, true),
                None => (rest, false),
            };
            if out.last().is_none_or(|(n, _)| n != name) {
                out.push((name.to_string(), dir));
            }
        }
        Some(out)
    }

    /// What is at the absolute path `abs`: 1 a file, 2 a folder, 0 nothing.
    pub fn kind_at(&self, abs: &str) -> u8 {
        let rel = if abs == TASK_ROOT {
            Some("")
        } else {
            relative(abs)
        };
        match rel.map(|r| r.trim_end_matches('/')) {
            Some(r) if self.is_file(r) => 1,
            Some(r) if self.is_dir(r) => 2,
            _ => 0,
        }
    }

    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    fn is_dir(&self, rel: &str) -> bool {
        if rel.is_empty() {
            return true;
        }
        let prefix = format!("{rel}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// The handler's module file, as Lambda's Node runtime looks for it (`.js`, `.mjs`,
    /// `.cjs`, in that order), as an absolute path.
    pub fn entry(&self) -> Result<String, String> {
        let m = &self.handler.module;
        for ext in ["js", "mjs", "cjs"] {
            let rel = format!("{m}.{ext}");
            if self.is_file(&rel) {
                return Ok(absolute(&rel));
            }
        }
        let mut reason = format!(
            "Runtime.ImportModuleError: Cannot find module '{m}' for handler {}: the package has no {m}.js, {m}.mjs or {m}.cjs",
            self.handler
        );
        // A zip made of the folder rather than its contents has everything one level down.
        let tops: std::collections::BTreeSet<&str> = self
            .files
            .keys()
            .filter_map(|k| k.split_once('/').map(|(d, _)| d))
            .collect();
        if let Some(dir) = tops.iter().find(|d| {
            ["js", "mjs", "cjs"]
                .iter()
                .any(|e| self.is_file(&format!("{d}/{m}.{e}")))
        }) {
            reason.push_str(&format!(
                " (it is under {dir}/: zip the folder's contents, not the folder, or set the handler to {dir}/{})",
                self.handler
            ));
        }
        Err(reason)
    }

    /// How the file at `rel` loads: by its extension, and for `.js` by the nearest
    /// package.json's `"type"` (a `.js` file with no package.json above it is an ES module
    /// when it has import/export statements, as Node 22 detects).
    pub fn format_of(&self, rel: &str) -> Format {
        if rel.ends_with(".mjs") {
            return Format::Module;
        }
        if rel.ends_with(".cjs") {
            return Format::CommonJs;
        }
        if rel.ends_with(".json") {
            return Format::Json;
        }
        let mut dir = dirname(rel);
        loop {
            let pj = if dir.is_empty() {
                "package.json".to_string()
            } else {
                format!("{dir}/package.json")
            };
            if let Some(json) = self.package_json(&pj) {
                return match json.get("type").and_then(Value::as_str) {
                    Some("module") => Format::Module,
                    _ => Format::CommonJs,
                };
            }
            if dir.is_empty() {
                break;
            }
            dir = dirname(dir);
        }
        match self.source(&absolute(rel)) {
            Some(s) if super::is_es_module(s) => Format::Module,
            _ => Format::CommonJs,
        }
    }

    fn package_json(&self, rel: &str) -> Option<Value> {
        let bytes = self.files.get(rel)?;
        serde_json::from_slice(bytes).ok()
    }

    /// Resolves `request` from the module at `parent` (absolute) as Node does.
    pub fn resolve(
        &self,
        request: &str,
        parent: &str,
        mode: Mode,
    ) -> Result<(String, Format), ResolveError> {
        let from = dirname(relative(parent).unwrap_or(""));
        let found = if request.starts_with('/') {
            relative(request)
                .and_then(|r| join("", r))
                .and_then(|p| self.locate(&p, mode))
        } else if !is_bare(request) {
            join(from, request).and_then(|p| self.locate(&p, mode))
        } else if request.starts_with('#') {
            self.through_imports(request, from, parent, mode)?
        } else {
            self.in_node_modules(request, from, parent, mode)?
        };
        let Some(rel) = found else {
            let mut e = not_found(mode, request, parent);
            if request.starts_with("@aws-sdk/") || request == "aws-sdk" {
                e.message.push_str(
                    "\n(Lambda's runtime provides the AWS SDK; this runtime does not: bundle it into the package)",
                );
            } else if mode == Mode::Import && !is_bare(request) {
                if let Some(hint) = join(from, request).and_then(|p| self.locate(&p, Mode::Require))
                {
                    e.message.push_str(&format!(
                        "\nDid you mean to import \"./{}\"?",
                        pathdiff(from, &hint)
                    ));
                }
            }
            return Err(e);
        };
        if rel.ends_with(".node") {
            return Err(ResolveError {
                code: "ERR_DLOPEN_FAILED",
                message: format!(
                    "{}: native add-ons (.node files) cannot load in this runtime",
                    absolute(&rel)
                ),
            });
        }
        let format = self.format_of(&rel);
        Ok((absolute(&rel), format))
    }

    /// The file a path names: for `import` the file itself; for `require` the file, then with
    /// `.js`/`.json`/`.node` appended, then the directory's package.json `main` or index.
    fn locate(&self, rel: &str, mode: Mode) -> Option<String> {
        match mode {
            Mode::Import => self.is_file(rel).then(|| rel.to_string()),
            Mode::Require => self.load_as_file(rel).or_else(|| self.load_as_dir(rel)),
        }
    }

    fn load_as_file(&self, rel: &str) -> Option<String> {
        if self.is_file(rel) {
            return Some(rel.to_string());
        }
        ["js", "json", "node"]
            .iter()
            .map(|e| format!("{rel}.{e}"))
            .find(|p| self.is_file(p))
    }

    fn load_index(&self, rel: &str) -> Option<String> {
        ["index.js", "index.json", "index.node"]
            .iter()
            .map(|i| {
                if rel.is_empty() {
                    i.to_string()
                } else {
                    format!("{rel}/{i}")
                }
            })
            .find(|p| self.is_file(p))
    }

    fn load_as_dir(&self, rel: &str) -> Option<String> {
        if !self.is_dir(rel) {
            return None;
        }
        let pj = if rel.is_empty() {
            "package.json".to_string()
        } else {
            format!("{rel}/package.json")
        };
        if let Some(main) = self
            .package_json(&pj)
            .and_then(|j| j.get("main").and_then(Value::as_str).map(str::to_string))
        {
            if let Some(m) = join(rel, &main) {
                if let Some(found) = self.load_as_file(&m).or_else(|| self.load_index(&m)) {
                    return Some(found);
                }
            }
        }
        self.load_index(rel)
    }

    /// A `#name` import through the nearest package.json's `"imports"`: a file of that package
    /// (`./…`) or another package.
    fn through_imports(
        &self,
        request: &str,
        from: &str,
        parent: &str,
        mode: Mode,
    ) -> Result<Option<String>, ResolveError> {
        let undefined = |pj: &str| {
            ResolveError {
            code: "ERR_PACKAGE_IMPORT_NOT_DEFINED",
            message: format!("Package import specifier \"{request}\" is not defined in package {} imported from {parent}", absolute(pj)),
        }
        };
        let mut dir = Some(from);
        while let Some(d) = dir {
            let pj = if d.is_empty() {
                "package.json".to_string()
            } else {
                format!("{d}/package.json")
            };
            if let Some(json) = self.package_json(&pj) {
                let Some(imports) = json.get("imports").and_then(Value::as_object) else {
                    return Err(undefined(&pj));
                };
                let Some(target) = map_target(imports, request, mode).or_else(|| {
                    // A bare package name as the target.
                    imports.get(request).and_then(|t| bare_target(t, mode))
                }) else {
                    return Err(undefined(&pj));
                };
                if let Some(rel) = target.strip_prefix("./") {
                    return Ok(join(d, rel).filter(|p| self.is_file(p)));
                }
                return self.in_node_modules(&target, d, parent, mode);
            }
            dir = if d.is_empty() { None } else { Some(dirname(d)) };
        }
        Err(undefined("package.json"))
    }

    fn in_node_modules(
        &self,
        request: &str,
        from: &str,
        parent: &str,
        mode: Mode,
    ) -> Result<Option<String>, ResolveError> {
        let (name, sub) = split_package(request);
        let mut dir = Some(from);
        while let Some(d) = dir {
            let is_nm = d.rsplit('/').next() == Some("node_modules");
            if !is_nm {
                let nm = if d.is_empty() {
                    "node_modules".to_string()
                } else {
                    format!("{d}/node_modules")
                };
                let pkg = format!("{nm}/{name}");
                if self.is_dir(&pkg) {
                    let pj = self.package_json(&format!("{pkg}/package.json"));
                    if let Some(exports) = pj.as_ref().and_then(|j| j.get("exports")) {
                        let subpath = if sub.is_empty() {
                            ".".to_string()
                        } else {
                            format!("./{sub}")
                        };
                        let target = exports_target(exports, &subpath, mode).ok_or_else(|| {
                            ResolveError {
                                code: "ERR_PACKAGE_PATH_NOT_EXPORTED",
                                message: if subpath == "." {
                                    format!("No \"exports\" main defined in {}/package.json", absolute(&pkg))
                                } else {
                                    format!(
                                        "Package subpath '{subpath}' is not defined by \"exports\" in {}/package.json imported from {parent}",
                                        absolute(&pkg)
                                    )
                                },
                            }
                        })?;
                        let file = join(&pkg, &target).filter(|p| self.is_file(p));
                        return Ok(file);
                    }
                    let found = if sub.is_empty() {
                        self.load_as_dir(&pkg)
                    } else {
                        let p = format!("{pkg}/{sub}");
                        match mode {
                            Mode::Import => self.is_file(&p).then_some(p),
                            Mode::Require => self.load_as_file(&p).or_else(|| self.load_as_dir(&p)),
                        }
                    };
                    if found.is_some() {
                        return Ok(found);
                    }
                }
            }
            dir = if d.is_empty() { None } else { Some(dirname(d)) };
        }
        Ok(None)
    }
}

/// `@scope/name/sub` → (`@scope/name`, `sub`); `name/sub` → (`name`, `sub`).
fn split_package(request: &str) -> (&str, &str) {
    let mut cut = request.match_indices('/').map(|(i, _)| i);
    let end = if request.starts_with('@') {
        cut.nth(1)
    } else {
        cut.next()
    };
    match end {
        Some(i) => (&request[..i], &request[i + 1..]),
        None => (request, ""),
    }
}

/// `to` relative to directory `from` (both under the package root, `to` inside `from`'s
/// subtree or not).
fn pathdiff(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; f.len() - common];
    out.extend(&t[common..]);
    out.join("/")
}

/// The conditions Node 20 matches in `exports`, besides `default`.
fn conditions(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Require => &["node", "require"],
        Mode::Import => &["node", "import"],
    }
}

/// The target (`./…`, relative to the package) that `exports` maps `subpath` to.
fn exports_target(exports: &Value, subpath: &str, mode: Mode) -> Option<String> {
    let is_subpath_map = exports
        .as_object()
        .is_some_and(|o| o.keys().next().is_some_and(|k| k.starts_with('.')));
    if !is_subpath_map {
        return (subpath == ".")
            .then(|| target(exports, "", mode))
            .flatten();
    }
    map_target(exports.as_object()?, subpath, mode)
}

/// The target a subpath map (`exports` with `./…` keys, or `imports` with `#…` keys) gives
/// `key`: the exact key, else the longest matching pattern with one `*`.
fn map_target(map: &serde_json::Map<String, Value>, subpath: &str, mode: Mode) -> Option<String> {
    if let Some(t) = map.get(subpath) {
        return target(t, "", mode);
    }
    // Patterns: the longest key prefix with one `*` wins.
    let mut best: Option<(&str, &Value, String)> = None;
    for (key, value) in map {
        let Some((pre, post)) = key.split_once('*') else {
            continue;
        };
        if subpath.starts_with(pre)
            && subpath.ends_with(post)
            && subpath.len() >= pre.len() + post.len()
            && best.as_ref().is_none_or(|(k, _, _)| pre.len() > k.len())
        {
            let star = subpath[pre.len()..subpath.len() - post.len()].to_string();
            best = Some((pre, value, star));
        }
    }
    let (_, value, star) = best?;
    target(value, &star, mode)
}

/// An `imports` target that names another package (`"#dep": "some-package"`), by conditions.
fn bare_target(t: &Value, mode: Mode) -> Option<String> {
    match t {
        Value::String(s) if !s.starts_with("./") && !s.starts_with('/') => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(|i| bare_target(i, mode)),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| *k == "default" || conditions(mode).contains(&k.as_str()))
            .find_map(|(_, v)| bare_target(v, mode)),
        _ => None,
    }
}

fn target(t: &Value, star: &str, mode: Mode) -> Option<String> {
    match t {
        Value::String(s) if s.starts_with("./") => Some(s.replace('*', star)),
        Value::Array(items) => items.iter().find_map(|i| target(i, star, mode)),
        Value::Object(o) => o
            .iter()
            .filter(|(k, _)| *k == "default" || conditions(mode).contains(&k.as_str()))
            .find_map(|(_, v)| target(v, star, mode)),
        _ => None,
    }
}

/// The files of a zip (its directories left out) and its comment. Refuses names that leave
/// the package (`../`, absolute), and more than `MAX_UNZIPPED_BYTES` in all.
fn unzip(bytes: &[u8]) -> Result<(BTreeMap<String, Bytes>, String), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("the package is not a readable zip: {e}"))?;
    let comment = String::from_utf8_lossy(zip.comment()).into_owned();
    let mut files = BTreeMap::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| format!("the package is not a readable zip: entry {i}: {e}"))?;
        if f.is_dir() {
            continue;
        }
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let Some(path) = f.enclosed_name() else {
            return Err(format!(
                "the package's entry {name:?} points outside the package"
            ));
        };
        let rel: Vec<String> = path
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        let rel = rel.join("/");
        let mut out = Vec::with_capacity(f.size().min(1 << 20) as usize);
        let room = MAX_UNZIPPED_BYTES - total;
        (&mut f)
            .take(room + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the package's file {rel} cannot be read: {e}"))?;
        total += out.len() as u64;
        if total > MAX_UNZIPPED_BYTES {
            return Err(format!(
                "the package holds more than {} MB unzipped (Lambda's limit)",
                MAX_UNZIPPED_BYTES / 1_000_000
            ));
        }
        files.insert(rel, Bytes::from(out));
    }
    Ok((files, comment))
}

/// A package in its published form: files sorted by path, stored with no timestamps, and the
/// handler in the archive comment, so the same files and handler always give the same bytes.
pub fn pack(files: &BTreeMap<String, Bytes>, handler: &Handler) -> Result<Vec<u8>, String> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, body) in files {
        w.start_file(name.as_str(), opts)
            .map_err(|e| e.to_string())?;
        w.write_all(body).map_err(|e| e.to_string())?;
    }
    w.set_comment(format!("{HANDLER_COMMENT}{handler}"))
        .map_err(|e| e.to_string())?;
    Ok(w.finish().map_err(|e| e.to_string())?.into_inner())
}

/// A function as named on a command line or in a config file (`PATH [--handler H]`), in its
/// published form: a `.js`/`.mjs`/`.cjs` file without a handler as its text; a file with a
/// handler, a folder or a `.zip` as a packed package.
pub fn read_path(path: &Path, handler: Option<&str>) -> Result<Bytes, String> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read function file {shown}: {e}"))?;
    let handler = handler.map(Handler::parse).transpose()?;
    let mut files = BTreeMap::new();
    if meta.is_dir() {
        walk(path, "", &mut files)?;
        if files.is_empty() {
            return Err(format!("{shown} is an empty folder"));
        }
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if bytes.starts_with(ZIP_MAGIC) {
            let (f, comment) = unzip(&bytes).map_err(|e| format!("{shown}: {e}"))?;
            files = f;
            if handler.is_none() {
                if let Some(h) = comment.strip_prefix(HANDLER_COMMENT) {
                    let h = Handler::parse(h.trim())?;
                    return finish(files, &h, path);
                }
            }
        } else {
            let Some(h) = handler else {
                return Ok(Bytes::from(bytes));
            };
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{shown} has no file name"))?;
            files.insert(name.to_string(), Bytes::from(bytes));
            return finish(files, &h, path);
        }
    }
    let h = match handler {
        Some(h) => h,
        None => Handler::parse(DEFAULT_HANDLER)?,
    };
    finish(files, &h, path)
}

fn finish(files: BTreeMap<String, Bytes>, handler: &Handler, path: &Path) -> Result<Bytes, String> {
    let bytes = pack(&files, handler)?;
    Package::from_bytes(&path.display().to_string(), Bytes::from(bytes.clone()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Bytes::from(bytes))
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Bytes>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            return Err(format!(
                "{}: a file name that is not UTF-8",
                e.path().display()
            ));
        };
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let ty = e
            .file_type()
            .map_err(|err| format!("cannot read {}: {err}", e.path().display()))?;
        // A folder link is not followed (it may point back up); a file link is read.
        if ty.is_dir() {
            walk(&e.path(), &rel, out)?;
        } else if ty.is_file() || (ty.is_symlink() && e.path().is_file()) {
            let body = std::fs::read(e.path())
                .map_err(|err| format!("cannot read {}: {err}", e.path().display()))?;
            out.insert(rel, Bytes::from(body));
        }
    }
    Ok(())
}

/// The names a CommonJS module exports, found without running it (as Node finds them for an
/// ES module that imports it): `exports.x =`, `module.exports.x =`, `exports["x"] =`,
/// `Object.defineProperty(exports, "x"`, and the keys of `module.exports = { … }`. Also the
/// modules it re-exports whole (`module.exports = require("./x")`).
pub fn cjs_exports(source: &str) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = Vec::new();
    let mut reexports = Vec::new();
    let add = |n: &str, names: &mut Vec<String>| {
        if is_identifier(n) && n != "default" && !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    };
    let b = source.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &source[i..];
        let prev_ok = i == 0 || !is_ident_byte(b[i - 1]) && b[i - 1] != b'.';
        if prev_ok && (rest.starts_with("exports") || rest.starts_with("module.exports")) {
            let after = if rest.starts_with("exports") { 7 } else { 14 };
            let tail = &rest[after..];
            if let Some(t) = tail.strip_prefix('.') {
                let n: String = t.chars().take_while(|c| is_ident_char(*c)).collect();
                let t2 = t[n.len()..].trim_start();
                if t2.starts_with('=') && !t2.starts_with("==") {
                    add(&n, &mut names);
                }
            } else if let Some(t) = tail.strip_prefix('[') {
                if let Some(n) = quoted(t) {
                    add(&n, &mut names);
                }
            } else if after == 14 {
                let t2 = tail.trim_start();
                if let Some(t3) = t2.strip_prefix('=').filter(|t| !t.starts_with('=')) {
                    let t3 = t3.trim_start();
                    if let Some(obj) = t3.strip_prefix('{') {
                        object_keys(obj, |n| add(n, &mut names));
                    } else if let Some(r) = t3.strip_prefix("require(") {
                        if let Some(m) = quoted(r) {
                            reexports.push(m);
                        }
                    }
                }
            }
            i += after;
            continue;
        }
        if let Some(t) = rest.strip_prefix("Object.defineProperty(") {
            let t = t.trim_start();
            let t = t
                .strip_prefix("module.exports")
                .or_else(|| t.strip_prefix("exports"));
            if let Some(t) = t.and_then(|t| t.trim_start().strip_prefix(',')) {
                if let Some(n) = quoted(t.trim_start()) {
                    add(&n, &mut names);
                }
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    (names, reexports)
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

pub fn is_identifier(n: &str) -> bool {
    !n.is_empty() && !n.starts_with(|c: char| c.is_ascii_digit()) && n.chars().all(is_ident_char)
}

/// The string literal at the start of `t` (single or double quotes, no escapes).
fn quoted(t: &str) -> Option<String> {
    let q = t.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = t[1..].find(q)?;
    Some(t[1..1 + end].to_string())
}

/// The top-level keys of an object literal (`a`, `b: …`, `c() {…}`, `"d": …`, `...x` skipped),
/// stopping at the closing brace.
fn object_keys(body: &str, mut f: impl FnMut(&str)) {
    let mut depth = 0usize;
    let mut expect_key = true;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => {
                if depth == 0 {
                    return;
                }
                depth -= 1;
            }
            ',' if depth == 0 => expect_key = true,
            // `...spread` adds no name we can know.
            '.' if expect_key && depth == 0 => expect_key = false,
            '"' | '\'' | '`' => {
                let key_start = expect_key && depth == 0 && c != '`';
                let mut s = String::new();
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    s.push(d);
                }
                if key_start {
                    f(&s);
                    expect_key = false;
                }
            }
            c if expect_key && depth == 0 && is_ident_char(c) => {
                let n: String = body[i..]
                    .chars()
                    .take_while(|c| is_ident_char(*c))
                    .collect();
                for _ in 1..n.chars().count() {
                    chars.next();
                }
                f(&n);
                expect_key = false;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(files: &[(&str, &str)], handler: &str) -> Package {
        let files: BTreeMap<String, Bytes> = files
            .iter()
            .map(|(k, v)| (k.to_string(), Bytes::from(v.to_string())))
            .collect();
        let zip = pack(&files, &Handler::parse(handler).unwrap()).unwrap();
        Package::from_bytes("test.zip", Bytes::from(zip)).unwrap()
    }

    #[test]
    fn handlers_parse_as_lambda_reads_them() {
        let h = Handler::parse("src/app.lambda.handler").unwrap();
        assert_eq!(
            (h.module.as_str(), h.export.as_str()),
            ("src/app", "lambda.handler")
        );
        let h = Handler::parse("a.b/index.handler").unwrap();
        assert_eq!(h.module, "a.b/index");
        for bad in [
            "index",
            "index.",
            ".handler",
            "../x.handler",
            "a//b.h",
            "a.b..c",
        ] {
            assert!(Handler::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packing_is_deterministic_and_keeps_the_handler() {
        let files = BTreeMap::from([
            ("b.js".to_string(), Bytes::from("exports.x=1")),
            (
                "a/index.js".to_string(),
                Bytes::from("exports.handler=()=>1"),
            ),
        ]);
        let h = Handler::parse("a/index.handler").unwrap();
        let one = pack(&files, &h).unwrap();
        assert_eq!(one, pack(&files, &h).unwrap());
        let p = Package::from_bytes("p.zip", Bytes::from(one)).unwrap();
        assert_eq!(p.handler, h);
        assert_eq!(p.entry().unwrap(), "/var/task/a/index.js");
        assert!(!p.single);
    }

    #[test]
    fn node_resolution_inside_a_package() {
        let p = pkg(
            &[
                ("index.js", ""),
                (
                    "package.json",
                    r##"{"imports":{"#conf":"./lib/data.json","#dep":{"node":"@s/p"}}}"##,
                ),
                ("lib/util.js", ""),
                ("lib/data.json", "{}"),
                ("lib/sub/index.js", ""),
                ("m.mjs", ""),
                (
                    "node_modules/cookie/package.json",
                    r#"{"main":"./dist/main"}"#,
                ),
                ("node_modules/cookie/dist/main.js", ""),
                (
                    "node_modules/@s/p/package.json",
                    r#"{"exports":{".":{"import":"./esm.mjs","require":"./cjs.cjs"},"./feature/*":"./f/*.js","./package.json":"./package.json"}}"#,
                ),
                ("node_modules/@s/p/esm.mjs", ""),
                ("node_modules/@s/p/cjs.cjs", ""),
                ("node_modules/@s/p/f/x.js", ""),
                ("node_modules/@s/p/hidden.js", ""),
                (
                    "node_modules/typed/package.json",
                    r#"{"type":"module","main":"i.js"}"#,
                ),
                ("node_modules/typed/i.js", ""),
                ("node_modules/plain/index.js", ""),
                ("node_modules/plain/node_modules/inner/index.js", ""),
            ],
            "index.handler",
        );
        let r = |req: &str, from: &str, mode| p.resolve(req, &absolute(from), mode);
        let ok = |req: &str, from: &str, mode| {
            let (path, f) = r(req, from, mode).unwrap_or_else(|e| panic!("{req}: {e:?}"));
            (path.trim_start_matches("/var/task/").to_string(), f.tag())
        };
        use Mode::*;
        assert_eq!(
            ok("./lib/util", "index.js", Require),
            ("lib/util.js".into(), "cjs")
        );
        assert_eq!(
            ok("./data.json", "lib/util.js", Require),
            ("lib/data.json".into(), "json")
        );
        assert_eq!(
            ok("./data", "lib/util.js", Require),
            ("lib/data.json".into(), "json")
        );
        assert_eq!(
            ok("./sub", "lib/util.js", Require),
            ("lib/sub/index.js".into(), "cjs")
        );
        assert_eq!(
            ok("../m.mjs", "lib/util.js", Import),
            ("m.mjs".into(), "esm")
        );
        assert_eq!(
            ok("/var/task/lib/util.js", "m.mjs", Import),
            ("lib/util.js".into(), "cjs")
        );
        assert_eq!(
            ok("cookie", "lib/sub/index.js", Require),
            ("node_modules/cookie/dist/main.js".into(), "cjs")
        );
        assert_eq!(
            ok("@s/p", "index.js", Require),
            ("node_modules/@s/p/cjs.cjs".into(), "cjs")
        );
        assert_eq!(
            ok("@s/p", "m.mjs", Import),
            ("node_modules/@s/p/esm.mjs".into(), "esm")
        );
        assert_eq!(
            ok("@s/p/feature/x", "index.js", Require),
            ("node_modules/@s/p/f/x.js".into(), "cjs")
        );
        assert_eq!(
            ok("typed", "index.js", Import),
            ("node_modules/typed/i.js".into(), "esm")
        );
        assert_eq!(
            ok("inner", "node_modules/plain/index.js", Require),
            (
                "node_modules/plain/node_modules/inner/index.js".into(),
                "cjs"
            )
        );
        let e = r("@s/p/hidden.js", "index.js", Require).unwrap_err();
        assert_eq!(e.code, "ERR_PACKAGE_PATH_NOT_EXPORTED", "{e:?}");
        let e = r("inner", "index.js", Require).unwrap_err();
        assert_eq!(e.code, "MODULE_NOT_FOUND");
        assert_eq!(
            e.message,
            "Cannot find module 'inner'\nRequire stack:\n- /var/task/index.js"
        );
        let e = r("./lib/util", "m.mjs", Import).unwrap_err();
        assert_eq!(e.code, "ERR_MODULE_NOT_FOUND");
        assert!(
            e.message
                .ends_with("Did you mean to import \"./lib/util.js\"?"),
            "{}",
            e.message
        );
        let e = r("../../etc/passwd", "index.js", Require).unwrap_err();
        assert_eq!(e.code, "MODULE_NOT_FOUND");
        assert_eq!(
            ok("#conf", "lib/util.js", Require),
            ("lib/data.json".into(), "json")
        );
        assert_eq!(
            ok("#dep", "index.js", Import),
            ("node_modules/@s/p/esm.mjs".into(), "esm")
        );
        assert_eq!(
            ok("#dep", "index.js", Require),
            ("node_modules/@s/p/cjs.cjs".into(), "cjs")
        );
        assert_eq!(
            r("#none", "index.js", Require).unwrap_err().code,
            "ERR_PACKAGE_IMPORT_NOT_DEFINED"
        );
        let e = r("@aws-sdk/client-s3", "index.js", Require).unwrap_err();
        assert!(e.message.contains("bundle it"), "{}", e.message);
    }

    #[test]
    fn a_missing_handler_module_is_named_with_a_hint() {
        let files = BTreeMap::from([("pkg/index.js".to_string(), Bytes::from(""))]);
        let zip = pack(&files, &Handler::parse("index.handler").unwrap()).unwrap();
        let e = Package::from_bytes("p.zip", Bytes::from(zip)).unwrap_err();
        assert!(e.contains("Cannot find module 'index'"), "{e}");
        assert!(e.contains("it is under pkg/"), "{e}");
        let e = Package::from_bytes("p.zip", Bytes::from_static(b"PK\x03\x04garbage")).unwrap_err();
        assert!(e.contains("not a readable zip"), "{e}");
    }

    #[test]
    fn commonjs_export_names_are_found_statically() {
        let (names, re) = cjs_exports(
            "'use strict';\nObject.defineProperty(exports, \"__esModule\", { value: true });\nexports.handler = void 0;\nexports.parse = parse; module.exports.serialize = s;\nexports['dash'] = 1; if (exports.x == 1) {}\nmodule.exports = { a, b: 1, c() { return {z: 1} }, 'd': [1,2], ...rest };\n",
        );
        assert_eq!(
            names,
            [
                "__esModule",
                "handler",
                "parse",
                "serialize",
                "dash",
                "a",
                "b",
                "c",
                "d"
            ]
        );
        assert!(re.is_empty());
        let (_, re) = cjs_exports("module.exports = require('./lib/x');");
        assert_eq!(re, ["./lib/x"]);
        assert!(cjs_exports("myexports.y = 1; a.exports.z = 2;")
            .0
            .is_empty());
    }
}
