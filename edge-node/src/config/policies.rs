//! Cache and origin request policies: which query strings, headers and cookies go into the
//! cache key and which are only forwarded.

use super::validate::Result;
use super::*;
use crate::error::NodeError;

/// Which query string parameters, headers or cookies a policy selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    None,
    All,
    /// CloudFront's `whitelist`.
    Only(Vec<String>),
    AllExcept(Vec<String>),
}

/// Appends `?` and the pairs of `query` whose names `keep` accepts (every pair when `all`), in
/// their order; nothing when none is kept. The cache key and the origin request both select
/// query strings this way.
pub fn append_query(out: &mut String, query: &str, all: bool, keep: impl Fn(&str) -> bool) {
    if query.is_empty() {
        return;
    }
    if all {
        out.push('?');
        out.push_str(query);
        return;
    }
    let mut first = true;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        if keep(name) {
            out.push(if first { '?' } else { '&' });
            out.push_str(pair);
            first = false;
        }
    }
}

impl Selection {
    pub fn selects(&self, name: &str) -> bool {
        match self {
            Selection::None => false,
            Selection::All => true,
            Selection::Only(names) => names.iter().any(|n| n == name),
            Selection::AllExcept(names) => !names.iter().any(|n| n == name),
        }
    }

    /// Header names compare case-insensitively (they are stored lowercase).
    pub fn selects_header(&self, lower_name: &str) -> bool {
        self.selects(lower_name)
    }
}

/// What goes into the cache key (and is therefore forwarded to the origin).
#[derive(Debug, Clone)]
pub struct CachePolicy {
    pub query_strings: Selection,
    /// Lowercase header names (CloudFront allows only none or a list here).
    pub headers: Vec<HeaderName>,
    pub cookies: Selection,
    pub accept_encoding_gzip: bool,
    pub accept_encoding_brotli: bool,
}

/// What is forwarded to the origin without being part of the cache key.
#[derive(Debug, Clone)]
pub struct OriginRequestPolicy {
    pub query_strings: Selection,
    /// Header selection over lowercase names; `All` is CloudFront's `allViewer`.
    pub headers: Selection,
    pub cookies: Selection,
}

/// CloudFront's behavior names: none, whitelist, allExcept, all (and allViewer for origin
/// request policy headers).
pub(super) fn selection(
    field: &str,
    behavior: Option<&str>,
    names: Vec<String>,
    origin_policy: bool,
) -> Result<Selection> {
    let s = match behavior.unwrap_or(if names.is_empty() {
        "none"
    } else {
        "whitelist"
    }) {
        "none" => Selection::None,
        "whitelist" => Selection::Only(names.clone()),
        "allExcept" => Selection::AllExcept(names.clone()),
        "all" | "allViewer" => Selection::All,
        "allViewerAndWhitelistCloudFront" if origin_policy => Selection::All,
        other => {
            return Err(NodeError::config(
                field,
                format!("{other:?} is not one of none, whitelist, allExcept, all"),
            ))
        }
    };
    let cloudfront_list = behavior == Some("allViewerAndWhitelistCloudFront");
    if matches!(s, Selection::None | Selection::All) && !names.is_empty() && !cloudfront_list {
        return Err(NodeError::config(
            field,
            "a list of names goes with whitelist or allExcept",
        ));
    }
    Ok(s)
}
