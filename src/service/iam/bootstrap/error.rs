//! What can go wrong with a bootstrap document.
//!
//! Owns: [`BootstrapError`]. Every variant names the file; those about an
//! entity name it (`user "alice"`) and the field at fault
//! (`UserPolicyList[0].PolicyDocument`), so an operator can find the line
//! to fix. May import `service::error`.

use crate::service::error::{ErrorCode, ServiceError};

/// A bootstrap document that cannot be read, parsed, validated or applied.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The file cannot be read.
    #[error("bootstrap file {file}: cannot read it: {message}")]
    Read {
        /// The file, as configured.
        file: String,
        /// The operating system's reason.
        message: String,
    },
    /// The file is not JSON.
    #[error("bootstrap file {file}: not JSON: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's reason, with its line and column.
        message: String,
    },
    /// Two documents (or one) describe the same entity.
    #[error("bootstrap file {file}: {entity} is also described in {first}")]
    Duplicate {
        /// The file of the second description.
        file: String,
        /// The entity.
        entity: String,
        /// The file of the first description.
        first: String,
    },
    /// A value is missing, of the wrong type, or breaks an IAM rule.
    #[error("bootstrap file {file}: {entity}: {field}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The entity (`user "alice"`), or its position in the file.
        entity: String,
        /// The field path (`Tags[2].Key`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The store refused a change the document asks for.
    #[error("bootstrap file {file}: {entity}: {field}: {}", describe(.error))]
    Apply {
        /// The file.
        file: String,
        /// The entity.
        entity: String,
        /// The field whose change failed.
        field: String,
        /// The operation's error.
        error: ServiceError,
    },
    /// The store cannot be read.
    #[error("bootstrap: the store failed: {}", describe(.0))]
    Store(#[from] ServiceError),
}

/// A service error with its code, and its internal cause when it has one
/// (an operator reads this, not an API caller).
fn describe(error: &ServiceError) -> String {
    match (error.code(), error.cause()) {
        (ErrorCode::InternalFailure | ErrorCode::ServiceUnavailable, Some(cause)) => {
            format!("{}: {cause}", error.code().as_str())
        }
        _ => error.to_string(),
    }
}
