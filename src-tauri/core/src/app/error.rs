//! The one error shape the application API returns, and that crosses IPC to the window as
//! `{code, message}`: the window and the CLI branch on `code`, never on the message.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use crate::graph::{ErrorClass, GraphError};
use crate::secrets::KeychainError;
use crate::store::StoreError;

/// An operation's failure: a machine code and a sentence for the operator.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[ts(rename = "IpcError")]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

/// The machine codes callers branch on (never the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The local database could not be read or written.
    Store,
    /// No account of that name.
    NoSuchAccount,
    /// No such thing to act on: no alert firing under that key, no hold with that id.
    NotFound,
    /// The OS keychain is missing or refused (no Secret Service running, say).
    KeychainUnavailable,
    /// The OS keychain is locked: unlock it and retry.
    KeychainLocked,
    /// A secret the operation needs is not stored (no access token yet).
    SecretMissing,
    /// A form value or argument was refused; the message names the field and the reason.
    InvalidInput,
    /// Meta rejected the access token (expired, revoked, password changed).
    TokenInvalid,
    /// Meta Monitor cannot renew this token (its type, a missing app secret, already
    /// expired); the message says what to do instead.
    NotRenewable,
    /// Meta is throttling the app or the account: retry after the regain time.
    Throttled,
    /// Meta could not be reached, or answered with an error this operation cannot use.
    Meta,
    /// A feed source could not be read: the file is gone, the shop's server is down or
    /// answered an error, the download broke off.
    FeedUnavailable,
    /// Something the app itself failed at (a task died).
    Internal,
}

impl ErrorCode {
    /// Whether the caller's input was refused (the CLI's exit 2).
    pub fn is_refused_input(self) -> bool {
        matches!(
            self,
            Self::InvalidInput | Self::NoSuchAccount | Self::NotFound
        )
    }
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl std::fmt::Display) -> Self {
        Self {
            code,
            message: message.to_string(),
        }
    }

    pub fn store(e: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Store, e)
    }

    pub fn invalid(message: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// The database at `path` could not be opened: where it is and what to do, in words.
    pub fn database(path: &Path, e: StoreError) -> Self {
        let what_to_do = match &e {
            StoreError::Folder { .. } => "check that the folder can be created and written",
            StoreError::Migration(_) => {
                "it may come from a newer Meta Monitor: update the app, or move the file away \
                 to start afresh"
            }
            _ => {
                "it may be damaged or not a Meta Monitor database: move it away (it is not \
                 changed) to start afresh, or restore a backup"
            }
        };
        Self::store(format!(
            "The database {} cannot be opened ({e}); {what_to_do}.",
            path.display()
        ))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchAccount(_) => Self::new(ErrorCode::NoSuchAccount, e),
            StoreError::DuplicateAccount(_) => Self::new(ErrorCode::InvalidInput, e),
            other => Self::store(other),
        }
    }
}

impl From<KeychainError> for AppError {
    fn from(e: KeychainError) -> Self {
        let code = match &e {
            KeychainError::Locked { .. } => ErrorCode::KeychainLocked,
            KeychainError::Missing { .. } => ErrorCode::SecretMissing,
            KeychainError::Unavailable { .. } | KeychainError::Other(_) => {
                ErrorCode::KeychainUnavailable
            }
        };
        Self::new(code, e)
    }
}

impl From<&GraphError> for ErrorCode {
    fn from(e: &GraphError) -> Self {
        match e.class() {
            ErrorClass::TokenInvalid => Self::TokenInvalid,
            ErrorClass::Throttled => Self::Throttled,
            _ => Self::Meta,
        }
    }
}

impl From<crate::token::renew::RenewError> for AppError {
    fn from(e: crate::token::renew::RenewError) -> Self {
        use crate::token::renew::RenewError;
        let code = match &e {
            RenewError::Impossible { .. } => ErrorCode::NotRenewable,
            RenewError::Meta(graph) => ErrorCode::from(graph),
            RenewError::Rejected(_) => ErrorCode::TokenInvalid,
            RenewError::Vault(_) => ErrorCode::KeychainUnavailable,
        };
        Self::new(code, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_says_what_to_do_without_reading_the_message() {
        let locked = AppError::from(KeychainError::Locked {
            detail: "collection is locked".into(),
        });
        assert_eq!(locked.code, ErrorCode::KeychainLocked, "{locked}");
        let missing = AppError::from(KeychainError::Missing {
            account: "shop".into(),
            kind: "access-token",
        });
        assert_eq!(missing.code, ErrorCode::SecretMissing, "{missing}");
        let absent = AppError::from(KeychainError::Unavailable {
            detail: "no Secret Service".into(),
        });
        assert_eq!(absent.code, ErrorCode::KeychainUnavailable, "{absent}");
        let json = serde_json::to_value(&locked).unwrap_or_default();
        assert_eq!(
            json["code"], "keychain_locked",
            "the window reads a snake_case machine code: {json}"
        );
        assert!(
            AppError::invalid("bad").code.is_refused_input()
                && !AppError::store("disk full").code.is_refused_input(),
            "invalid input is the CLI's exit 2, a store failure is not"
        );
    }
}
