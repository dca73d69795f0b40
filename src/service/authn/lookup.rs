//! Where access keys are found.
//!
//! Owns: [`StoreCredentials`], the lookup over the identity store (the
//! `AccessKeyIndex` port, then the owning user's record) that unseals the
//! secret under the master key, once per revision of those records, and
//! while the store's change stamp ([`StoreGeneration::changes_seen`]) is
//! unchanged answers from what it found without reading the records
//! again (any commit — a key deactivated or deleted, a user deleted —
//! makes the next lookup read them); [`StaticCredentials`], the keys known from
//! configuration (the default account's root credentials from the
//! environment or the data directory); and [`Chain`], which asks several
//! lookups in turn so the composition root can put the static keys in
//! front of the store.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::{CredentialLookup, Identity, KeyStatus, StoredKey};
use crate::domain::ids::{AccessKeyId, AccountId};
use crate::domain::seal::{self, MasterKey, SealPurpose};
use crate::domain::secret::SecretAccessKey;
use crate::service::error::ServiceError;
use crate::service::store::model::{AccessKeyStatus, CredentialOwner, UserRecord};
use crate::service::store::{AccessKeyIndex, EntityReader, Key, Revision, StoreGeneration, fetch};

/// A fixed set of keys.
#[derive(Debug, Default)]
pub struct StaticCredentials {
    keys: HashMap<AccessKeyId, Arc<StoredKey>>,
}

/// Access keys of the identity store, unsealed with the master key.
pub struct StoreCredentials<S: ?Sized> {
    store: Arc<S>,
    master_key: Arc<MasterKey>,
    /// Keys already unsealed, by id, with the revisions of the key record
    /// and of its user's record they were built from: an entry serves only
    /// while both records are unchanged, so a deactivated key, a rotated
    /// secret or a recreated user is never served from it.
    unsealed: Mutex<HashMap<AccessKeyId, Unsealed>>,
}

/// An entry of [`StoreCredentials::unsealed`].
struct Unsealed {
    key_revision: Revision,
    user_revision: Option<Revision>,
    /// The store's change stamp read before the records were.
    stamp: u64,
    key: Arc<StoredKey>,
}

/// Unsealed keys kept before the map is emptied (entries are cheap to
/// rebuild).
const UNSEALED_CAPACITY: usize = 16_384;

/// Lookups asked in order; the first that knows the key answers.
#[derive(Default)]
pub struct Chain {
    links: Vec<Arc<dyn CredentialLookup>>,
}

// === impl StaticCredentials ===

impl StaticCredentials {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the root key pair of `account`.
    pub fn insert_root(&mut self, account: AccountId, id: AccessKeyId, secret: SecretAccessKey) {
        let key = StoredKey {
            secret,
            status: KeyStatus::Active,
            account,
            owner: Identity::Root,
            in_store: false,
        };
        self.keys.insert(id, Arc::new(key));
    }

    /// Adds any key.
    pub fn insert(&mut self, id: AccessKeyId, key: StoredKey) {
        self.keys.insert(id, Arc::new(key));
    }
}

#[async_trait]
impl CredentialLookup for StaticCredentials {
    async fn lookup(&self, id: &AccessKeyId) -> Result<Option<Arc<StoredKey>>, ServiceError> {
        Ok(self.keys.get(id).cloned())
    }
}

// === impl StoreCredentials ===

impl<S: AccessKeyIndex + EntityReader + StoreGeneration + ?Sized> StoreCredentials<S> {
    /// Keys of `store`, whose secrets are sealed under `master_key`.
    pub fn new(store: Arc<S>, master_key: Arc<MasterKey>) -> Self {
        Self {
            store,
            master_key,
            unsealed: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the key's records and unseals the secret (once per revision).
    async fn load(
        &self,
        id: &AccessKeyId,
        stamp: u64,
    ) -> Result<Option<Arc<StoredKey>>, ServiceError> {
        let Some(found) = self.store.access_key(id).await? else {
            return Ok(None);
        };
        let key_revision = found.revision;
        let record = found.record;
        let (owner, user_revision) = match &record.owner {
            CredentialOwner::Root => (Identity::Root, None),
            CredentialOwner::User(name) => {
                let key = Key::user(record.account, name);
                // A key whose user is gone signs for nobody.
                let Some(user) = fetch::<UserRecord>(self.store.as_ref(), &key).await? else {
                    return Ok(None);
                };
                let owner = Identity::User {
                    name: user.record.name,
                    unique_id: user.record.id,
                    path: user.record.path,
                };
                (owner, Some(user.revision))
            }
        };
        if let Some(hit) = self
            .unsealed
            .lock()
            .get_mut(id)
            .filter(|u| u.key_revision == key_revision && u.user_revision == user_revision)
        {
            hit.stamp = stamp;
            return Ok(Some(Arc::clone(&hit.key)));
        }
        let opened = seal::open(
            &self.master_key,
            &SealPurpose::access_key_secret(id),
            &record.secret,
        )
        .map_err(ServiceError::internal)?;
        let text = std::str::from_utf8(opened.expose_secret())
            .map_err(|_| ServiceError::internal("a sealed secret access key is not UTF-8"))?;
        let secret = SecretAccessKey::try_from(text.to_owned()).map_err(ServiceError::internal)?;
        let status = match record.status {
            AccessKeyStatus::Active => KeyStatus::Active,
            AccessKeyStatus::Inactive => KeyStatus::Inactive,
        };
        let key = Arc::new(StoredKey {
            secret,
            status,
            account: record.account,
            owner,
            in_store: true,
        });
        let mut unsealed = self.unsealed.lock();
        if unsealed.len() >= UNSEALED_CAPACITY {
            unsealed.clear();
        }
        unsealed.insert(
            id.clone(),
            Unsealed {
                key_revision,
                user_revision,
                stamp,
                key: Arc::clone(&key),
            },
        );
        Ok(Some(key))
    }
}

impl<S: ?Sized> std::fmt::Debug for StoreCredentials<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreCredentials").finish_non_exhaustive()
    }
}

#[async_trait]
impl<S: AccessKeyIndex + EntityReader + StoreGeneration + ?Sized> CredentialLookup
    for StoreCredentials<S>
{
    async fn lookup(&self, id: &AccessKeyId) -> Result<Option<Arc<StoredKey>>, ServiceError> {
        let stamp = self.store.changes_seen();
        if let Some(hit) = self.unsealed.lock().get(id).filter(|u| u.stamp == stamp) {
            return Ok(Some(Arc::clone(&hit.key)));
        }
        let loaded = self.load(id, stamp).await;
        if !matches!(loaded, Ok(Some(_))) {
            // Gone, or unreadable: nothing kept for it may serve later.
            self.unsealed.lock().remove(id);
        }
        loaded
    }
}

// === impl Chain ===

impl Chain {
    /// An empty chain (knows no key).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `lookup`, asked after the ones before it.
    #[must_use]
    pub fn then(mut self, lookup: Arc<dyn CredentialLookup>) -> Self {
        self.links.push(lookup);
        self
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("links", &self.links.len())
            .finish()
    }
}

#[async_trait]
impl CredentialLookup for Chain {
    async fn lookup(&self, id: &AccessKeyId) -> Result<Option<Arc<StoredKey>>, ServiceError> {
        for link in &self.links {
            if let Some(key) = link.lookup(id).await? {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }
}
