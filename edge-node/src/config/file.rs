//! A configuration file: read once, its relative paths resolved from its own directory, and
//! every error naming the file. `load_file` is how every caller (the node, `edge up`,
//! `edge deploy`, `edge bench`, a reload) gets a validated configuration from a path.

use super::{local, NodeConfig};
use crate::error::NodeError;
use std::path::{Path, PathBuf};

/// The file as given: its text (for callers that rewrite a copy) and the directory its
/// relative paths start from.
pub struct ConfigFile {
    pub path: PathBuf,
    /// The configuration as TOML (converted when the file is AWS's JSON).
    pub text: String,
    pub base: PathBuf,
    /// The file's own text when it was JSON: errors are placed in it.
    json: Option<String>,
    /// AWS's fields taken but not emulated (`DistributionConfig.PriceClass`, …).
    accepted: Vec<String>,
}

/// Reads, parses and validates the configuration at `path` (naming the fields it takes but
/// does not emulate).
pub fn load_file(path: &Path) -> Result<NodeConfig, NodeError> {
    let file = ConfigFile::read(path)?;
    file.log_accepted();
    file.parse()
}

impl ConfigFile {
    pub fn read(path: &Path) -> Result<ConfigFile, NodeError> {
        let text = std::fs::read_to_string(path).map_err(|e| NodeError::File {
            path: path.to_path_buf(),
            error: Box::new(NodeError::config("file", format!("cannot read: {e}"))),
        })?;
        // AWS's JSON (get-distribution-config, get-distribution) is taken as the TOML form.
        let json = super::aws_json::is_json(&text).then(|| text.clone());
        let mut accepted = Vec::new();
        let text = if json.is_some() {
            let (doc, fields) = super::aws_json::to_config(&text).map_err(|e| NodeError::File {
                path: path.to_path_buf(),
                error: Box::new(e),
            })?;
            accepted = fields;
            toml::to_string(&doc).map_err(|e| NodeError::File {
                path: path.to_path_buf(),
                error: Box::new(NodeError::config("file", e.to_string())),
            })?
        } else {
            text
        };
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
            base,
            json,
            accepted,
        })
    }

    /// Logs, once, AWS's fields the file gives that have no local meaning.
    pub fn log_accepted(&self) {
        if !self.accepted.is_empty() {
            tracing::info!(file = %self.path.display(), fields = %self.accepted.join(", "), "accepted, not emulated");
        }
    }

    /// The validated configuration.
    pub fn parse(&self) -> Result<NodeConfig, NodeError> {
        super::parse_toml_in(&self.text, &self.base).map_err(|e| {
            let e = match &self.json {
                Some(json) => super::aws_json::relocate(json, e),
                None => e,
            };
            self.error(e)
        })
    }

    /// The file as a TOML document (for callers that rewrite a copy).
    pub fn document(&self) -> Result<toml::Value, NodeError> {
        toml::from_str(&self.text)
            .map_err(|e| self.error(NodeError::config("file", e.message().to_string())))
    }

    /// Writes a copy into `dir` whose loopback origins go to `origin_port` and whose relative
    /// paths still resolve; returns the copy's path.
    pub fn copy_for_origin(&self, dir: &Path, origin_port: u16) -> Result<PathBuf, NodeError> {
        let mut doc = self.document()?;
        if let Some(from) = local::loopback_origin_port(&doc) {
            for d in doc
                .get_mut("distributions")
                .and_then(|d| d.as_array_mut())
                .into_iter()
                .flatten()
            {
                local::rewrite_loopback_port(d, from, origin_port);
            }
        }
        let base = self
            .base
            .canonicalize()
            .unwrap_or_else(|_| self.base.clone());
        local::anchor_paths(&mut doc, &base);
        let name = self.path.file_name().unwrap_or("edge.toml".as_ref());
        let copy = dir.join(name);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            std::fs::write(&copy, toml::to_string(&doc).unwrap_or_default())
        };
        write().map_err(|e| {
            NodeError::config(copy.display().to_string(), format!("cannot write: {e}"))
        })?;
        Ok(copy)
    }

    fn error(&self, e: NodeError) -> NodeError {
        NodeError::File {
            path: self.path.clone(),
            error: Box::new(e),
        }
    }
}
