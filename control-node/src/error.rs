//! Every refusal of the control node, with its HTTP status and an AWS-style error code.

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("missing or wrong bearer token (send Authorization: Bearer TOKEN)")]
    Unauthorized,
    /// A request the API refuses: `code` is AWS's exception name where there is one.
    #[error("{code}: {message}")]
    Invalid { code: &'static str, message: String },
    #[error("ResourceNotFoundException: {0} not found")]
    NotFound(String),
    #[error("ResourceConflictException: {0}")]
    Conflict(String),
    #[error("RequestEntityTooLargeException: {0}")]
    TooLarge(String),
    /// A conditional request whose condition no longer holds (Lambda's PublishVersion with a
    /// CodeSha256 that `$LATEST` no longer has).
    #[error("PreconditionFailedException: {0}")]
    PreconditionFailed(String),
    /// Something missing, under the AWS error code of its service (CloudFront's
    /// `NoSuchFunctionExists`, `EntityNotFound`).
    #[error("{code}: {what} not found")]
    Missing { code: &'static str, what: String },
    /// A conflict under the AWS error code of its service (`FunctionAlreadyExists`,
    /// `FunctionInUse`, `EntityAlreadyExists`).
    #[error("{code}: {message}")]
    InUse { code: &'static str, message: String },
    #[error("store: {0}")]
    Store(String),
}

impl ControlError {
    /// The message without the code (the API sends them apart).
    pub fn message(&self) -> String {
        match self {
            ControlError::Invalid { message, .. } => message.clone(),
            ControlError::NotFound(what) | ControlError::Missing { what, .. } => {
                format!("{what} not found")
            }
            ControlError::InUse { message, .. } => message.clone(),
            ControlError::Conflict(m)
            | ControlError::TooLarge(m)
            | ControlError::PreconditionFailed(m) => m.clone(),
            other => other.to_string(),
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> ControlError {
        ControlError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A refusal of the request's part `at`, so the message names it.
    pub fn within(self, at: &str) -> ControlError {
        match self {
            ControlError::Invalid { code, message } => ControlError::Invalid {
                code,
                message: format!("{at}: {message}"),
            },
            ControlError::NotFound(what) => ControlError::NotFound(format!("{at}: {what}")),
            ControlError::Conflict(m) => ControlError::Conflict(format!("{at}: {m}")),
            other => other,
        }
    }

    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            ControlError::Unauthorized => S::UNAUTHORIZED,
            ControlError::Invalid { .. } => S::BAD_REQUEST,
            ControlError::NotFound(_) | ControlError::Missing { .. } => S::NOT_FOUND,
            ControlError::InUse { .. } => S::CONFLICT,
            ControlError::Conflict(_) => S::CONFLICT,
            ControlError::TooLarge(_) => S::PAYLOAD_TOO_LARGE,
            ControlError::PreconditionFailed(_) => S::PRECONDITION_FAILED,
            ControlError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error's code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            ControlError::Unauthorized => "Unauthorized",
            ControlError::Invalid { code, .. } => code,
            ControlError::NotFound(_) => "ResourceNotFoundException",
            ControlError::Missing { code, .. } | ControlError::InUse { code, .. } => code,
            ControlError::Conflict(_) => "ResourceConflictException",
            ControlError::TooLarge(_) => "RequestEntityTooLargeException",
            ControlError::PreconditionFailed(_) => "PreconditionFailedException",
            ControlError::Store(_) => "ServiceException",
        }
    }
}
