//! The one error type of the store ports.
//!
//! Owns: [`StoreError`] and its translation into [`ServiceError`]. The
//! three precondition failures ([`StoreError::DuplicateKey`],
//! [`StoreError::MissingKey`], [`StoreError::StaleRevision`]) tell a
//! read-modify-write to retry; the rest are final. Messages are lowercase,
//! name no Rust types and never include record contents.

use super::key::{Key, Revision};
use crate::service::error::{ErrorCode, ServiceError};

/// A boxed cause kept for the log.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A commit required `key` to be absent (or wrote an access key ID that
    /// another account owns), and it exists.
    #[error("{key} already exists")]
    DuplicateKey {
        /// The key.
        key: Key,
    },
    /// A commit required `key` at a revision, and it is gone.
    #[error("{key} does not exist")]
    MissingKey {
        /// The key.
        key: Key,
    },
    /// A commit required `key` at `expected`, and it was changed since.
    #[error("{key} changed concurrently: expected revision {expected}, found {found}")]
    StaleRevision {
        /// The key.
        key: Key,
        /// The revision the commit required.
        expected: Revision,
        /// The revision stored now.
        found: Revision,
    },
    /// A transaction broke the rules of a commit (a caller bug).
    #[error("invalid transaction: {reason}")]
    InvalidTransaction {
        /// Which rule.
        reason: &'static str,
    },
    /// A transaction writes more keys than one commit may.
    #[error("a commit may write at most {max} keys, this one writes {ops}")]
    TransactionTooLarge {
        /// Keys the transaction writes.
        ops: usize,
        /// The limit.
        max: usize,
    },
    /// A one-time identifier is empty or too long.
    #[error("a one-time identifier must be 1 to {max} bytes, got {len}")]
    ReplayIdLength {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A stored value could not be decoded.
    #[error("stored record is corrupt: {detail}")]
    CorruptRecord {
        /// What was wrong, without the contents.
        detail: String,
    },
    /// The backend cannot be reached or cannot write now; retryable.
    #[error("the store is unavailable")]
    BackendUnavailable {
        /// The cause, for the log.
        #[source]
        source: Cause,
    },
    /// The backend failed unexpectedly.
    #[error("the store failed")]
    BackendFailure {
        /// The cause, for the log.
        #[source]
        source: Cause,
    },
}

// === impl StoreError ===

impl StoreError {
    /// Whether a commit's precondition failed: re-read and try the
    /// read-modify-write again (see `commit_with_retry`).
    pub fn is_precondition_failure(&self) -> bool {
        matches!(
            self,
            Self::DuplicateKey { .. } | Self::MissingKey { .. } | Self::StaleRevision { .. }
        )
    }

    /// A [`StoreError::BackendUnavailable`] from any error.
    pub fn unavailable(source: impl Into<Cause>) -> Self {
        Self::BackendUnavailable {
            source: source.into(),
        }
    }

    /// A [`StoreError::BackendFailure`] from any error.
    pub fn failure(source: impl Into<Cause>) -> Self {
        Self::BackendFailure {
            source: source.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DuplicateKey { key } => ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!(
                    "{} with name {} already exists.",
                    capitalized(key.kind().noun()),
                    key.name()
                ),
            ),
            StoreError::MissingKey { key } => {
                ServiceError::no_such_entity(key.kind().noun(), key.name())
            }
            StoreError::StaleRevision { .. } => ServiceError::new(
                ErrorCode::ConcurrentModification,
                "The request was rejected because it conflicted with a concurrent modification. Please try again.",
            ),
            StoreError::TransactionTooLarge { .. } => ServiceError::new(
                ErrorCode::LimitExceeded,
                "The request would change too many entities at once.",
            ),
            StoreError::ReplayIdLength { .. } => ServiceError::new(
                ErrorCode::InvalidInput,
                "A one-time identifier is too long.",
            ),
            e @ StoreError::BackendUnavailable { .. } => ServiceError::unavailable(e),
            e @ (StoreError::InvalidTransaction { .. }
            | StoreError::CorruptRecord { .. }
            | StoreError::BackendFailure { .. }) => ServiceError::internal(e),
        }
    }
}

/// `word` with its first letter upper-cased (`user` → `User`).
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::AccountId;

    fn user_key() -> Key {
        Key::user(AccountId::from_u64(1).unwrap(), &"Alice".parse().unwrap())
    }

    #[test]
    fn precondition_failures_map_to_iam_codes() {
        let dup: ServiceError = StoreError::DuplicateKey { key: user_key() }.into();
        assert_eq!(dup.code(), ErrorCode::EntityAlreadyExists);
        assert_eq!(dup.message(), "User with name alice already exists.");
        let missing: ServiceError = StoreError::MissingKey { key: user_key() }.into();
        assert_eq!(missing.code(), ErrorCode::NoSuchEntity);
        let stale = StoreError::StaleRevision {
            key: user_key(),
            expected: Revision::new(1),
            found: Revision::new(2),
        };
        assert!(stale.is_precondition_failure());
        assert_eq!(
            ServiceError::from(stale).code(),
            ErrorCode::ConcurrentModification
        );
    }

    #[test]
    fn backend_errors_hide_their_cause() {
        let down: ServiceError = StoreError::unavailable("disk gone at /var/lib/x").into();
        assert_eq!(down.code(), ErrorCode::ServiceUnavailable);
        assert!(!down.message().contains("/var/lib"));
        assert!(down.cause().is_some());
        let bug: ServiceError = StoreError::InvalidTransaction { reason: "x" }.into();
        assert_eq!(bug.code(), ErrorCode::InternalFailure);
        let big: ServiceError = StoreError::TransactionTooLarge {
            ops: 2000,
            max: 1000,
        }
        .into();
        assert_eq!(big.code(), ErrorCode::LimitExceeded);
    }

    #[test]
    fn messages_are_lowercase_single_lines() {
        let errors = [
            StoreError::DuplicateKey { key: user_key() },
            StoreError::InvalidTransaction {
                reason: "two accounts",
            },
            StoreError::unavailable("x"),
        ];
        for e in errors {
            let text = e.to_string();
            assert!(!text.contains('\n'));
            assert!(
                text.chars().next().is_some_and(|c| !c.is_uppercase()),
                "{text}"
            );
        }
    }
}
