//! The edge node's two error enums: `EdgeError`, every failure on the request path (it knows
//! the status, `X-Cache` value and message CloudFront would show the viewer), and
//! `NodeError`, everything that goes wrong with a configuration or the node's own life
//! (refused before it serves anything, or reported to whoever asked for the change).

use crate::http::respond::XCache;
use crate::lambda::Stage;
use http::StatusCode;
use std::borrow::Cow;

/// Errors raised while serving one viewer request.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// The origin refused the connection, reset it or answered with something that is not HTTP.
    #[error("origin {origin} could not be reached: {reason}")]
    OriginConnect { origin: String, reason: String },
    /// The origin did not answer (or stopped sending) within its read timeout.
    #[error("origin {origin} did not answer within {timeout_ms} ms")]
    OriginTimeout { origin: String, timeout_ms: u64 },
    /// The viewer sent a method the cache behavior does not allow.
    #[error("method {0} is not allowed by this cache behavior")]
    MethodNotAllowed(String),
    /// The viewer's request body is larger than the node accepts.
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The viewer's request could not be read (client went away, malformed body).
    #[error("request could not be read: {0}")]
    BadRequest(String),
    /// The request's URI is longer than CloudFront accepts.
    #[error("the URI is {len} bytes; CloudFront accepts at most {limit}")]
    UriTooLong { len: usize, limit: usize },
    /// No distribution answers for the request's Host.
    #[error("no distribution is configured for host {0:?}")]
    UnknownHost(String),
    /// A plain-HTTP request to a behavior whose ViewerProtocolPolicy is https-only.
    #[error("this cache behavior serves HTTPS only")]
    HttpsOnly,
    /// A behavior with trusted key groups got no valid signed URL or cookies.
    #[error("signed URL or cookies refused: {}", .0.code_and_message().1)]
    SignedUrl(crate::viewer::signed::Denied),
    /// The distribution's geographic restriction refuses the viewer's country.
    #[error("viewers in {0} are blocked by the distribution's geographic restriction")]
    GeoBlocked(String),
    /// A function's result failed CloudFront's validation (docs/cloudfront-behaviour.md: "Invalid
    /// results").
    #[error("{stage} function {function} result failed validation: {detail}")]
    LambdaValidation {
        function: String,
        stage: Stage,
        message: String,
        detail: String,
    },
    /// A function threw, rejected, never settled or ran out of memory.
    #[error("{stage} function {function} failed: {detail}")]
    LambdaExecution {
        function: String,
        stage: Stage,
        detail: String,
        status: StatusCode,
    },
    /// A function timed out or was throttled.
    #[error("{stage} function {function} exceeded a limit: {detail}")]
    LambdaLimitExceeded {
        function: String,
        stage: Stage,
        detail: String,
    },
    /// A CloudFront function's result failed validation (docs/cloudfront-functions.md).
    #[error("{stage} CloudFront function {function} result failed validation: {detail}")]
    FunctionValidation {
        function: String,
        stage: Stage,
        message: String,
        detail: String,
    },
    /// A CloudFront function threw, rejected or never settled.
    #[error("{stage} CloudFront function {function} failed: {detail}")]
    FunctionExecution {
        function: String,
        stage: Stage,
        detail: String,
    },
    /// A CloudFront function ran past its limit or was throttled.
    #[error("{stage} CloudFront function {function} was throttled: {detail}")]
    FunctionThrottled {
        function: String,
        stage: Stage,
        detail: String,
    },
}

impl EdgeError {
    /// The HTTP status CloudFront answers with for this failure.
    pub fn status_code(&self) -> StatusCode {
        match self {
            EdgeError::OriginConnect { .. } => StatusCode::BAD_GATEWAY,
            EdgeError::OriginTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            EdgeError::MethodNotAllowed(_) => StatusCode::FORBIDDEN,
            EdgeError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            EdgeError::BadRequest(_) => StatusCode::BAD_REQUEST,
            EdgeError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            EdgeError::UnknownHost(_)
            | EdgeError::GeoBlocked(_)
            | EdgeError::HttpsOnly
            | EdgeError::SignedUrl(_) => StatusCode::FORBIDDEN,
            EdgeError::LambdaValidation { .. } => StatusCode::BAD_GATEWAY,
            EdgeError::LambdaExecution { status, .. } => *status,
            EdgeError::LambdaLimitExceeded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            EdgeError::FunctionValidation { .. } => StatusCode::BAD_GATEWAY,
            EdgeError::FunctionExecution { .. } | EdgeError::FunctionThrottled { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The `X-Cache` value that goes with the error answer.
    pub fn x_cache(&self) -> XCache {
        match self {
            EdgeError::LambdaValidation { .. } => XCache::LambdaValidationError,
            EdgeError::LambdaExecution { .. } => XCache::LambdaExecutionError,
            EdgeError::LambdaLimitExceeded { .. } => XCache::LambdaLimitExceeded,
            EdgeError::FunctionValidation { .. } => XCache::FunctionValidationError,
            EdgeError::FunctionExecution { .. } => XCache::FunctionExecutionError,
            EdgeError::FunctionThrottled { .. } => XCache::FunctionThrottledError,
            _ => XCache::Error,
        }
    }

    /// The sentence CloudFront's error page shows for this kind of failure.
    pub fn page_text(&self) -> Cow<'static, str> {
        const LAMBDA: &str = "The Lambda function associated with the CloudFront distribution is invalid or doesn't have the required permissions.";
        // Our wording: AWS documents the 503 of a CloudFront function, not its page's text.
        const FUNCTION: &str = "The CloudFront function associated with the CloudFront distribution is invalid or could not run correctly.";
        const CONNECT: &str = "We can't connect to the server for this app or website at this time. There might be too much traffic or a configuration error. Try again later, or contact the app or website owner.";
        Cow::Borrowed(match self {
            EdgeError::LambdaValidation { message, .. }
            | EdgeError::FunctionValidation { message, .. } => {
                return Cow::Owned(format!("{message}\n{CONNECT}"))
            }
            EdgeError::FunctionExecution { .. } | EdgeError::FunctionThrottled { .. } => {
                return Cow::Owned(format!("{FUNCTION}\n{CONNECT}"))
            }
            EdgeError::LambdaExecution { .. } | EdgeError::LambdaLimitExceeded { .. } => {
                return Cow::Owned(format!("{LAMBDA}\n{CONNECT}"))
            }
            EdgeError::OriginConnect { .. } | EdgeError::OriginTimeout { .. } => CONNECT,
            EdgeError::MethodNotAllowed(_) => {
                "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests."
            }
            EdgeError::BodyTooLarge { .. }
            | EdgeError::BadRequest(_)
            | EdgeError::UriTooLong { .. } => "Bad request.",
            EdgeError::UnknownHost(_) => {
                "The request could not be satisfied. No distribution is configured for this host."
            }
            EdgeError::GeoBlocked(_) => {
                "The Amazon CloudFront distribution is configured to block access from your country."
            }
            EdgeError::SignedUrl(d) => d.code_and_message().1,
            // Our wording: AWS documents the 403, not the page's text.
            EdgeError::HttpsOnly => "This distribution is configured to serve this content over HTTPS only.",
        })
    }

    /// `x-edge-detailed-result-type` in the access log: the kind of error, in CloudFront's
    /// words (docs/access-logs.md).
    pub fn log_result(&self) -> &'static str {
        match self {
            EdgeError::OriginConnect { .. } => "OriginConnectError",
            EdgeError::OriginTimeout { .. } => "OriginReadError",
            EdgeError::MethodNotAllowed(_) => "InvalidRequestMethod",
            EdgeError::BodyTooLarge { .. }
            | EdgeError::BadRequest(_)
            | EdgeError::UriTooLong { .. } => "InvalidRequest",
            EdgeError::UnknownHost(_) => "InvalidRequestHeader",
            EdgeError::GeoBlocked(_) => "ClientGeoBlocked",
            EdgeError::SignedUrl(_) => "AccessDenied",
            EdgeError::HttpsOnly => "InvalidRequest",
            EdgeError::LambdaValidation { .. } => "LambdaValidationError",
            EdgeError::LambdaExecution { .. } => "LambdaExecutionError",
            EdgeError::LambdaLimitExceeded { .. } => "LambdaLimitExceeded",
            EdgeError::FunctionValidation { .. } => "FunctionValidationError",
            EdgeError::FunctionExecution { .. } => "FunctionExecutionError",
            EdgeError::FunctionThrottled { .. } => "FunctionThrottledError",
        }
    }

    /// Whether a stale cached object may be served instead (origin-side failures only).
    pub fn is_origin_failure(&self) -> bool {
        matches!(
            self,
            EdgeError::OriginConnect { .. } | EdgeError::OriginTimeout { .. }
        )
    }
}

/// A configuration the node cannot use, or a node that cannot start or change.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// What is wrong with a configuration file, naming the file.
    #[error("{}: {error}", path.display())]
    File {
        path: std::path::PathBuf,
        error: Box<NodeError>,
    },
    /// The configuration is invalid; `field` names where (e.g. `distributions[0].Origins[1].DomainName`).
    #[error("invalid configuration: {field}: {reason}")]
    Config { field: String, reason: String },
    /// A function association CloudFront would refuse (its `InvalidLambdaFunctionAssociation`).
    #[error("invalid configuration: {field}: InvalidLambdaFunctionAssociation: {reason}")]
    Association { field: String, reason: String },
    /// A CloudFront Functions association CloudFront would refuse (its
    /// `InvalidFunctionAssociation`).
    #[error("invalid configuration: {field}: InvalidFunctionAssociation: {reason}")]
    FunctionAssociation { field: String, reason: String },
    /// A function could not be loaded (it does not compile, its top level threw or ran too long).
    #[error("{0}")]
    Function(#[from] crate::js::FnError),
    /// An invalidation CloudFront would refuse (docs/cloudfront-behaviour.md: "Invalidation paths").
    #[error("{0}")]
    Invalidation(String),
    /// The node could not start (address in use, unreadable certificate, ...).
    #[error("{0}")]
    Startup(String),
}

impl NodeError {
    /// The admin API's answer: the change asked for is refused (400), or the node failed (500).
    pub fn status_code(&self) -> StatusCode {
        match self {
            NodeError::File { error, .. } => error.status_code(),
            NodeError::Config { .. }
            | NodeError::Association { .. }
            | NodeError::FunctionAssociation { .. }
            | NodeError::Function(_)
            | NodeError::Invalidation(_) => StatusCode::BAD_REQUEST,
            NodeError::Startup(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> NodeError {
        NodeError::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
