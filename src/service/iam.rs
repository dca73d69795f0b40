//! The IAM API operations, one concept per file.
//!
//! Owns: [`Iam`], what every operation needs (the store, the clock, the
//! partition, the CSPRNG), the [`Entropy`] port, and shared helpers for
//! tags and pages. Each operation takes an authorized caller
//! ([`AuthzCaller`]) and domain types, authorizes `iam:<Action>` on the
//! target's ARN, validates with AWS's messages and decides IAM's limits
//! inside one store commit ([`crate::service::store::commit_with_retry`]).
//!
//! May import `domain`, `service::authz`, `service::error` and
//! `service::store`. Spec: reference sections 3, 10 and 12.

pub mod access_keys;
pub mod bootstrap;
pub mod boundaries;
pub mod credential_report;
pub mod details;
pub mod groups;
pub mod holder;
pub mod inline;
pub mod login;
pub mod mfa;
pub mod policies;
pub mod providers;
pub mod quota;
pub mod roles;
pub mod scan;
pub mod simulate;
pub mod trust;
pub mod users;

use std::future::Future;
use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::ids::{Partition, RandomSource};
use crate::domain::seal::MasterKey;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::{
    Entity, IamStore, ListQuery, MAX_PAGE, Record, Tag, Transaction, Versioned, commit_with_retry,
};

/// At most this many tags per user, role, provider or policy.
pub const MAX_TAGS: usize = 50;

/// A source of random bytes that can fail (the OS CSPRNG).
pub trait Entropy: Send + Sync + std::fmt::Debug {
    /// Fills `buf` entirely with random bytes.
    ///
    /// # Errors
    ///
    /// `InternalFailure` when the source fails; nothing made from `buf`
    /// may then be used.
    fn fill(&self, buf: &mut [u8]) -> Result<(), ServiceError>;
}

impl Entropy for ring::rand::SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ServiceError> {
        ring::rand::SecureRandom::fill(self, buf)
            .map_err(|_| ServiceError::internal("the system random source failed"))
    }
}

/// What the IAM operations share.
#[derive(Debug, Clone)]
pub struct Iam {
    /// The identity store.
    pub store: Arc<dyn IamStore>,
    /// The time of creation dates and MFA codes.
    pub clock: Arc<dyn Clock>,
    /// The partition of every ARN (`aws`).
    pub partition: Partition,
    /// The CSPRNG of IDs and secrets.
    pub entropy: Arc<dyn Entropy>,
    /// Seals access key secrets and MFA seeds at rest.
    pub master_key: Arc<MasterKey>,
    /// Callers' loaded policies, until the store changes (shared with
    /// STS and Authorize).
    pub identities: Arc<crate::service::authz::IdentityCache>,
}

/// Reads a record with `load`, applies `edit` to it and commits the result
/// on condition that the record is unchanged since the read, reading again
/// after a lost race ([`commit_with_retry`]). Returns the stored record.
///
/// # Errors
///
/// `load`'s or `edit`'s error, or the store's.
pub(crate) async fn edit_record<T, L, Fut>(
    iam: &Iam,
    load: L,
    edit: impl Fn(&mut T) -> Result<(), ServiceError>,
) -> Result<T, ServiceError>
where
    T: Entity + Clone + Into<Record>,
    L: Fn() -> Fut,
    Fut: Future<Output = Result<Versioned<T>, ServiceError>>,
{
    let (load, edit) = (&load, &edit);
    let (updated, _) = commit_with_retry(&*iam.store, move || async move {
        let found = load().await?;
        let mut updated = found.record.clone();
        edit(&mut updated)?;
        let mut txn = Transaction::new();
        txn.require_unchanged(&found).put(updated.clone());
        Ok::<_, ServiceError>((txn, updated))
    })
    .await?;
    Ok(updated)
}

/// A page of results, IAM style.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The items.
    pub items: Vec<T>,
    /// `Marker` of the next page; `Some` exactly when `IsTruncated`.
    pub marker: Option<String>,
}

/// `Marker`, `MaxItems` and `PathPrefix` of a List call.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    /// Where the previous page ended.
    pub marker: Option<String>,
    /// At most this many (IAM default 100, at most 1000).
    pub max_items: Option<usize>,
    /// Only entities under this path.
    pub path_prefix: Option<String>,
}

// === impl Iam ===

impl Iam {
    /// Fills a buffer from [`Iam::entropy`] and hands a [`RandomSource`]
    /// over it to `make`.
    pub(crate) fn random<T>(
        &self,
        make: impl FnOnce(&mut dyn FnMut(&mut [u8])) -> T,
    ) -> Result<T, ServiceError> {
        let mut failure = None;
        let entropy = &self.entropy;
        let mut fill = |buf: &mut [u8]| {
            if let Err(e) = entropy.fill(buf) {
                failure = Some(e);
            }
        };
        let value = make(&mut fill);
        match failure {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }
}

/// Adapts `&mut dyn FnMut` to the generic [`RandomSource`] parameters.
pub(crate) struct Rng<'a>(pub(crate) &'a mut dyn FnMut(&mut [u8]));

impl RandomSource for Rng<'_> {
    fn fill(&mut self, buf: &mut [u8]) {
        (self.0)(buf);
    }
}

// === impl Paging ===

impl Paging {
    /// The store query of this page.
    pub fn query(&self) -> ListQuery {
        ListQuery {
            after: self.marker.clone(),
            limit: self.max_items.unwrap_or(100).min(MAX_PAGE),
            path_prefix: self.path_prefix.clone(),
        }
    }
}

/// Checks a tag list: at most [`MAX_TAGS`], no `aws:` keys, no key twice
/// (keys compare case-insensitively).
pub fn check_tags(tags: &[Tag]) -> Result<(), ServiceError> {
    if tags.len() > MAX_TAGS {
        return Err(ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("The number of tags has reached the maximum limit of {MAX_TAGS}."),
        ));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tag.key.is_reserved() {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "User is not authorized to tag with a key that starts with aws:.",
            ));
        }
        let later = tags.iter().skip(i + 1);
        if later
            .map(|t| t.key.as_str())
            .any(|k| k.eq_ignore_ascii_case(tag.key.as_str()))
        {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}

/// Merges `new` into `tags`: a key already there (any case) takes the new
/// value.
pub fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) {
    for tag in new {
        match tags
            .iter_mut()
            .find(|t| t.key.as_str().eq_ignore_ascii_case(tag.key.as_str()))
        {
            Some(slot) => slot.value = tag.value,
            None => tags.push(tag),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
