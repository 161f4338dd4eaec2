//! Graph API errors: Meta's own fields kept intact, plus a classification callers branch on.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::redact::Redactor;

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// 190 (and its subcodes), 102, 104: a new token is needed.
    TokenInvalid,
    /// 3, 10, 200–299: the token or app lacks a permission.
    Permission,
    /// 4, 17, 32, 613, 80000–80014: back off until the regain time.
    Throttled,
    /// 1, 2, `is_transient`, HTTP 5xx: retry with backoff.
    Transient,
    /// 100 and everything else Meta rejects: permanent for this request.
    InvalidRequest,
    /// Timeout, refused or reset connection: we could not reach Meta.
    Transport,
    /// The body was not the JSON Meta promises (HTML error page, truncated JSON).
    Undecodable,
}

impl ErrorClass {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenInvalid => "token_invalid",
            Self::Permission => "permission",
            Self::Throttled => "throttled",
            Self::Transient => "transient",
            Self::InvalidRequest => "invalid_request",
            Self::Transport => "transport",
            Self::Undecodable => "undecodable",
        }
    }
}

/// The `error` object of a Graph API error body, as Meta sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaError {
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub code: i64,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub is_transient: Option<bool>,
    #[serde(default)]
    pub error_user_title: Option<String>,
    #[serde(default)]
    pub error_user_msg: Option<String>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    /// Filled by the client: the HTTP status the error arrived with.
    #[serde(skip_deserializing, default)]
    pub http_status: u16,
    /// Filled by the client from the rate-limit headers of the same response.
    #[serde(skip, default)]
    pub regain_after: Option<Duration>,
}

impl MetaError {
    pub fn class(&self) -> ErrorClass {
        classify(
            self.code,
            self.is_transient.unwrap_or(false),
            self.http_status,
        )
    }

    /// Meta's meaning of this token error, in words an operator can act on.
    pub fn token_reason(&self) -> Option<&'static str> {
        token_reason(self.code, self.error_subcode)
    }
}

/// Meta's meaning of a token error code (190 with its subcodes, 102, 104).
pub fn token_reason(code: i64, subcode: Option<i64>) -> Option<&'static str> {
    match code {
        102 => return Some("session invalid: log in again and create a new token"),
        104 => return Some("no access token was sent"),
        190 => {}
        _ => return None,
    }
    Some(match subcode {
        Some(458) => "the app is not installed for this user (removed or never logged in)",
        Some(459) => "the user is checkpointed: they must log in at facebook.com",
        Some(460) => "the password was changed: create a new token",
        Some(463) => "the token has expired: create a new token",
        Some(464) => "the user is unconfirmed: they must confirm their account",
        Some(467) => "the token is invalid (logged out or revoked): create a new token",
        Some(492) => "the session is invalid (e.g. the role on the Page was lost)",
        _ => "the token is expired, revoked or invalid: create a new token",
    })
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error_subcode {
            Some(sub) => write!(f, "Graph error {}/{sub}: {}", self.code, self.message)?,
            None => write!(f, "Graph error {}: {}", self.code, self.message)?,
        }
        if let Some(trace) = &self.fbtrace_id {
            write!(f, " (fbtrace_id {trace})")?;
        }
        Ok(())
    }
}

/// Classifies a Graph error code. Token problems come first (a 190 is never retried), then
/// throttles, permissions, transient failures; anything else is an invalid request.
pub fn classify(code: i64, is_transient: bool, http_status: u16) -> ErrorClass {
    match code {
        190 | 102 | 104 => ErrorClass::TokenInvalid,
        4 | 17 | 32 | 613 | 80000..=80014 => ErrorClass::Throttled,
        3 | 10 | 200..=299 => ErrorClass::Permission,
        1 | 2 => ErrorClass::Transient,
        _ if is_transient || http_status >= 500 => ErrorClass::Transient,
        _ => ErrorClass::InvalidRequest,
    }
}

/// Why a request never produced a Graph response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    Timeout,
    Refused,
    /// The connection was reset or closed before the whole response arrived.
    Reset,
    /// The server answered with a redirect, which is never followed (the token, a webhook's
    /// secret path or a signed delivery would go along to another host).
    Redirected,
    /// The body was larger than [`super::MAX_BODY`]; the rest was not read.
    TooLarge,
    /// The server's certificate is not trusted by this machine (a company's TLS-inspecting
    /// proxy whose CA is not in the OS trust store, a wrong host, an expired certificate).
    Untrusted,
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "timed out",
            Self::Refused => "connection refused",
            Self::Reset => "connection dropped",
            Self::Redirected => "redirect not followed",
            Self::TooLarge => "response too large",
            Self::Untrusted => {
                "certificate not trusted (if your network inspects HTTPS, add its CA to the \
                 operating system's trust store)"
            }
            Self::Other => "network error",
        })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    #[error("{0}")]
    Meta(Box<MetaError>),
    #[error("{kind}: {detail}")]
    Transport { kind: TransportKind, detail: String },
    #[error("undecodable response (HTTP {http_status}) at {at}: {reason}; body starts {snippet:?}")]
    Undecodable {
        http_status: u16,
        at: String,
        reason: String,
        snippet: String,
    },
    #[error("HTTP {http_status} with no Graph error in the body")]
    Http { http_status: u16 },
    #[error("{0}")]
    NotConfigured(String),
}

impl GraphError {
    /// The same error with every text that came from the server scrubbed.
    pub fn redacted(self, redactor: &Redactor) -> Self {
        match self {
            Self::Meta(mut e) => {
                e.message = redactor.scrub(&e.message);
                for text in [&mut e.error_user_title, &mut e.error_user_msg]
                    .into_iter()
                    .flatten()
                {
                    *text = redactor.scrub(text);
                }
                Self::Meta(e)
            }
            Self::Transport { kind, detail } => Self::Transport {
                kind,
                detail: redactor.scrub(&detail),
            },
            Self::Undecodable {
                http_status,
                at,
                reason,
                snippet,
            } => Self::Undecodable {
                http_status,
                at,
                reason: redactor.scrub(&reason),
                snippet: redactor.scrub(&snippet),
            },
            other @ (Self::Http { .. } | Self::NotConfigured(_)) => other,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Meta(e) => e.class(),
            Self::Transport { .. } => ErrorClass::Transport,
            Self::Undecodable { .. } => ErrorClass::Undecodable,
            Self::Http { http_status } if *http_status >= 500 => ErrorClass::Transient,
            Self::Http { .. } | Self::NotConfigured(_) => ErrorClass::InvalidRequest,
        }
    }

    pub fn meta(&self) -> Option<&MetaError> {
        match self {
            Self::Meta(e) => Some(e),
            _ => None,
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Meta(e) => Some(e.http_status),
            Self::Undecodable { http_status, .. } | Self::Http { http_status } => {
                Some(*http_status)
            }
            Self::Transport { .. } | Self::NotConfigured(_) => None,
        }
    }

    /// Worth retrying with backoff: transient errors and 5xx, never token or permission errors.
    pub fn is_retryable(&self) -> bool {
        if let Self::Transport {
            kind: TransportKind::Redirected | TransportKind::TooLarge | TransportKind::Untrusted,
            ..
        } = self
        {
            // The same answer would come again.
            return false;
        }
        match self.class() {
            ErrorClass::Transient | ErrorClass::Transport => true,
            ErrorClass::Undecodable => self.http_status().is_some_and(|s| s >= 500),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let table: &[(i64, bool, u16, ErrorClass)] = &[
            (190, false, 400, ErrorClass::TokenInvalid),
            (102, false, 400, ErrorClass::TokenInvalid),
            (104, false, 400, ErrorClass::TokenInvalid),
            (3, false, 400, ErrorClass::Permission),
            (10, false, 403, ErrorClass::Permission),
            (200, false, 403, ErrorClass::Permission),
            (278, false, 400, ErrorClass::Permission),
            (299, false, 400, ErrorClass::Permission),
            (4, true, 400, ErrorClass::Throttled),
            (17, false, 400, ErrorClass::Throttled),
            (32, false, 400, ErrorClass::Throttled),
            (613, false, 400, ErrorClass::Throttled),
            (80000, false, 400, ErrorClass::Throttled),
            (80004, false, 400, ErrorClass::Throttled),
            (80014, false, 400, ErrorClass::Throttled),
            (1, false, 500, ErrorClass::Transient),
            (2, false, 503, ErrorClass::Transient),
            (100, true, 400, ErrorClass::Transient),
            (100, false, 400, ErrorClass::InvalidRequest),
            (803, false, 400, ErrorClass::InvalidRequest),
            (2500, false, 400, ErrorClass::InvalidRequest),
            (80015, false, 400, ErrorClass::InvalidRequest),
            (300, false, 400, ErrorClass::InvalidRequest),
            (9999, false, 502, ErrorClass::Transient),
        ];
        for &(code, transient, status, expected) in table {
            assert_eq!(
                classify(code, transient, status),
                expected,
                "code {code}, is_transient {transient}, HTTP {status}"
            );
        }
    }

    #[test]
    fn token_reasons_and_retry_policy() {
        let body = r#"{"message":"Error validating access token: The user has changed the password.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AbC"}"#;
        let mut err: MetaError = serde_json::from_str(body).expect("Meta error body parses");
        err.http_status = 400;
        assert_eq!(
            err.token_reason(),
            Some("the password was changed: create a new token")
        );
        let err = GraphError::Meta(Box::new(err));
        assert!(!err.is_retryable(), "a token error is never retried");
        assert!(
            err.to_string().contains("190/460"),
            "display keeps code/subcode: {err}"
        );
        assert!(
            err.to_string().contains("fbtrace_id AbC"),
            "display keeps the trace id: {err}"
        );
        let timeout = GraphError::Transport {
            kind: TransportKind::Timeout,
            detail: "10 s".into(),
        };
        assert!(timeout.is_retryable(), "timeouts are retried");
        let html = GraphError::Undecodable {
            http_status: 502,
            at: "line 1 column 1".into(),
            reason: "expected value".into(),
            snippet: "<html>".into(),
        };
        assert!(
            html.is_retryable(),
            "an HTML 5xx page is a transient outage"
        );
    }
}
