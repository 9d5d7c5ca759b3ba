//! The Lambda@Edge model: the four stages, the event a function receives
//! (docs/cloudfront-behaviour.md: "Event shape"), and what its result may be and change ("What a
//! function may return"). Pure functions over
//! `serde_json::Value`: the JavaScript runtime lives in `crate::js`, the stage order in
//! `crate::driver`.

pub mod event;
pub mod headers;
pub mod origin;
pub mod validate;

use std::time::Duration;

/// Where a function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    ViewerRequest,
    OriginRequest,
    OriginResponse,
    ViewerResponse,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::ViewerRequest,
        Stage::OriginRequest,
        Stage::OriginResponse,
        Stage::ViewerResponse,
    ];

    /// The event's `eventType`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::ViewerRequest => "viewer-request",
            Stage::OriginRequest => "origin-request",
            Stage::OriginResponse => "origin-response",
            Stage::ViewerResponse => "viewer-response",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn index(&self) -> usize {
        *self as usize
    }

    pub fn is_viewer(&self) -> bool {
        matches!(self, Stage::ViewerRequest | Stage::ViewerResponse)
    }

    pub fn is_request(&self) -> bool {
        matches!(self, Stage::ViewerRequest | Stage::OriginRequest)
    }

    /// Lambda@Edge's timeout for the stage (docs/cloudfront-behaviour.md: "Limits per stage").
    pub fn default_timeout(&self) -> Duration {
        if self.is_viewer() {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(30)
        }
    }

    /// Generated-response and body size limit (docs/cloudfront-behaviour.md: "Size limits").
    pub fn size_limit(&self) -> usize {
        if self.is_viewer() {
            40 * 1024
        } else {
            1024 * 1024
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
