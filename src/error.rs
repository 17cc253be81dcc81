//! The named errors (README, "Errors"). Every failure leaves the service as one of these, so a state machine can
//! `Retry` / `Catch` on the name; the message says what and where, never a secret.

use serde::Serialize;
use std::fmt;

/// The stable `errorType` names a Step Functions state matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    InvalidInvocation,
    ConfigNotFound,
    AccessDenied,
    SecretNotFound,
    TemplateError,
    ProviderThrottled,
    ProviderUnavailable,
    ProviderTimeout,
    ProviderRejected,
    ProviderResponseInvalid,
    ResponseTooLarge,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidInvocation => "InvalidInvocation",
            ErrorKind::ConfigNotFound => "ConfigNotFound",
            ErrorKind::AccessDenied => "AccessDenied",
            ErrorKind::SecretNotFound => "SecretNotFound",
            ErrorKind::TemplateError => "TemplateError",
            ErrorKind::ProviderThrottled => "ProviderThrottled",
            ErrorKind::ProviderUnavailable => "ProviderUnavailable",
            ErrorKind::ProviderTimeout => "ProviderTimeout",
            ErrorKind::ProviderRejected => "ProviderRejected",
            ErrorKind::ProviderResponseInvalid => "ProviderResponseInvalid",
            ErrorKind::ResponseTooLarge => "ResponseTooLarge",
        }
    }

    /// Failures another attempt (or another endpoint) may cure.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::ProviderThrottled
                | ErrorKind::ProviderUnavailable
                | ErrorKind::ProviderTimeout
        )
    }
}

/// What the provider said about a failed call, kept for the caller and the logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProviderErrorInfo {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// Seconds the provider asked us to wait (Retry-After or its own reset header).
    #[serde(skip)]
    pub retry_after_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub message: String,
    /// Boxed: most errors have none, and a small error keeps every `Result` cheap.
    pub provider: Option<Box<ProviderErrorInfo>>,
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl ServiceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ServiceError {
            kind,
            message: message.into(),
            provider: None,
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInvocation, message)
    }
    pub fn config_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ConfigNotFound, message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AccessDenied, message)
    }
    pub fn template(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TemplateError, message)
    }
    pub fn response_invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ProviderResponseInvalid, message)
    }

    /// Replaces every occurrence of `secret` in the message and provider details (an echoed header, say).
    pub fn redact(mut self, secret: &str) -> Self {
        if secret.len() >= 4 {
            self.message = crate::guard::redact(&self.message, secret);
            if let Some(p) = self.provider.as_mut() {
                if let Some(m) = p.message.as_mut() {
                    *m = crate::guard::redact(m, secret);
                }
            }
        }
        self
    }

    /// The message a caller sees: ours, then the provider's own words and ids.
    pub fn full_message(&self) -> String {
        let mut out = self.message.clone();
        if let Some(p) = &self.provider {
            let mut extra = Vec::new();
            if let Some(s) = p.status {
                extra.push(format!("status {s}"));
            }
            if let Some(c) = &p.code {
                extra.push(format!("code {c}"));
            }
            if let Some(r) = &p.request_id {
                extra.push(format!("request id {r}"));
            }
            if let Some(m) = &p.message {
                extra.push(format!("provider says: {m}"));
            }
            if !extra.is_empty() {
                out.push_str(" (");
                out.push_str(&extra.join("; "));
                out.push(')');
            }
        }
        out
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.full_message())
    }
}

impl std::error::Error for ServiceError {}

/// What serde_json found wrong, without its " at line L column C" (a field path says where instead).
pub fn json_cause(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split(" at line ").next().unwrap_or(&text).to_string()
}

impl From<ServiceError> for lambda_runtime::Diagnostic {
    fn from(e: ServiceError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind.name().to_string(),
            error_message: e.full_message(),
        }
    }
}
