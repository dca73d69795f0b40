//! The unit of writing: an all-or-nothing transaction with optimistic
//! preconditions.
//!
//! Owns: [`Transaction`] (preconditions, puts, deletes), [`Precondition`],
//! and [`Transaction::validate`], the rules every adapter applies before
//! committing. May import the rest of `service::store` and `domain`.
//!
//! The rules, shared by every adapter:
//! - every key of a transaction belongs to one account (a Redis Cluster
//!   adapter keeps an account in one hash slot);
//! - a key is written (put or deleted) at most once;
//! - at most [`MAX_WRITES`] keys are written;
//! - all preconditions are checked against the state before the
//!   transaction, then every write is applied, or none is;
//! - every put record gets the commit's new revision;
//! - deleting an absent key is not an error (require its revision when
//!   that matters).

use std::collections::HashSet;

use super::error::StoreError;
use super::key::{Key, Revision, Versioned};
use super::model::{Entity, Record};
use crate::domain::ids::AccountId;

/// The most keys one commit may write.
pub const MAX_WRITES: usize = 1000;

/// What a commit requires of a key before it writes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// The key holds no record. For access keys, no account holds the ID.
    Absent(Key),
    /// The key holds a record at exactly this revision.
    At(Key, Revision),
}

// === impl Precondition ===

impl Precondition {
    /// The key it is about.
    pub fn key(&self) -> &Key {
        match self {
            Self::Absent(key) | Self::At(key, _) => key,
        }
    }
}

/// An atomic multi-key write: preconditions, then puts and deletes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transaction {
    preconditions: Vec<Precondition>,
    puts: Vec<Record>,
    deletes: Vec<Key>,
}

// === impl Transaction ===

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `key` to hold no record.
    pub fn require_absent(&mut self, key: Key) -> &mut Self {
        self.preconditions.push(Precondition::Absent(key));
        self
    }

    /// Requires `key` to hold a record at `revision`.
    pub fn require_revision(&mut self, key: Key, revision: Revision) -> &mut Self {
        self.preconditions.push(Precondition::At(key, revision));
        self
    }

    /// Requires `read` to be unchanged since it was read.
    pub fn require_unchanged<T: Entity>(&mut self, read: &Versioned<T>) -> &mut Self {
        self.require_revision(read.record.key(), read.revision)
    }

    /// Writes `record` under its key.
    pub fn put(&mut self, record: impl Into<Record>) -> &mut Self {
        self.puts.push(record.into());
        self
    }

    /// Deletes the record under `key`.
    pub fn delete(&mut self, key: Key) -> &mut Self {
        self.deletes.push(key);
        self
    }

    /// The preconditions.
    pub fn preconditions(&self) -> &[Precondition] {
        &self.preconditions
    }

    /// The records to write.
    pub fn puts(&self) -> &[Record] {
        &self.puts
    }

    /// The keys to delete.
    pub fn deletes(&self) -> &[Key] {
        &self.deletes
    }

    /// Whether the transaction writes nothing (a check-only commit does not
    /// advance the generation).
    pub fn is_read_only(&self) -> bool {
        self.puts.is_empty() && self.deletes.is_empty()
    }

    /// Checks the rules in the module docs; returns the one account the
    /// transaction touches (`None` when it is empty).
    pub fn validate(&self) -> Result<Option<AccountId>, StoreError> {
        let writes = self.puts.len() + self.deletes.len();
        if writes > MAX_WRITES {
            return Err(StoreError::TransactionTooLarge {
                ops: writes,
                max: MAX_WRITES,
            });
        }
        let put_keys: Vec<Key> = self.puts.iter().map(Record::key).collect();
        let mut account = None;
        let every_key = self
            .preconditions
            .iter()
            .map(Precondition::key)
            .chain(&put_keys)
            .chain(&self.deletes);
        for key in every_key {
            match account {
                None => account = Some(key.account_id()),
                Some(a) if a != key.account_id() => {
                    return Err(StoreError::InvalidTransaction {
                        reason: "a transaction may touch one account only",
                    });
                }
                Some(_) => {}
            }
        }
        let mut written = HashSet::with_capacity(writes);
        if !put_keys
            .iter()
            .chain(&self.deletes)
            .all(|k| written.insert(k))
        {
            return Err(StoreError::InvalidTransaction {
                reason: "a transaction may write a key only once",
            });
        }
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::RoleName;

    fn key(account: u64, name: &str) -> Key {
        Key::role(
            AccountId::from_u64(account).unwrap(),
            &name.parse::<RoleName>().unwrap(),
        )
    }

    #[test]
    fn one_account_per_transaction() {
        let mut txn = Transaction::new();
        txn.require_absent(key(1, "a")).delete(key(1, "b"));
        assert_eq!(txn.validate().unwrap(), AccountId::from_u64(1));
        txn.delete(key(2, "c"));
        assert!(matches!(
            txn.validate(),
            Err(StoreError::InvalidTransaction { .. })
        ));
    }

    #[test]
    fn a_key_is_written_once() {
        let mut txn = Transaction::new();
        txn.delete(key(1, "a")).delete(key(1, "A"));
        assert!(matches!(
            txn.validate(),
            Err(StoreError::InvalidTransaction { .. })
        ));
    }

    #[test]
    fn size_is_bounded() {
        let mut txn = Transaction::new();
        for i in 0..=MAX_WRITES {
            txn.delete(key(1, &format!("r{i}")));
        }
        assert!(matches!(
            txn.validate(),
            Err(StoreError::TransactionTooLarge { .. })
        ));
        assert_eq!(Transaction::new().validate().unwrap(), None);
        assert!(Transaction::new().is_read_only());
    }
}
