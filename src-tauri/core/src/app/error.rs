//! The one error shape the application API returns, and that crosses IPC to the window as
//! `{code, message}`: the window and the CLI branch on `code`, never on the message.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

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

/// The error codes callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ErrorCode {
    /// The local database could not be read or written.
    Store,
    /// No account of that name.
    NoSuchAccount,
    /// The OS keychain is missing, locked or refused.
    KeychainUnavailable,
    /// A form value or argument was refused; the message names the field and the reason.
    Validation,
    /// Something the app itself failed at (a task died).
    Internal,
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
        Self::new(ErrorCode::Validation, message)
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
            StoreError::DuplicateAccount(_) => Self::new(ErrorCode::Validation, e),
            other => Self::store(other),
        }
    }
}

impl From<KeychainError> for AppError {
    fn from(e: KeychainError) -> Self {
        Self::new(ErrorCode::KeychainUnavailable, e)
    }
}
