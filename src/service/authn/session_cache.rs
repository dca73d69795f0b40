//! The cache of opened session tokens.
//!
//! Owns: [`SessionCache`], which keeps each opened token's [`Session`] by
//! the token's SHA-256 (a hit is exactly a token opened before, up to a
//! SHA-256 collision, without holding the ~400-byte token), with the
//! signing keys derived from the session's secret (one per scope it signed
//! for, the latest [`MAX_SCOPES`]), so a session's keys live and die with
//! its entry. Bounded by `[caches] sessions`: a full cache evicts by CLOCK
//! (second chance: an entry used since the hand last passed is kept one
//! more round), so the sessions in use stay and idle ones go. The bound
//! is the whole cache's (one counter), not a share per shard.
//!
//! Built for memory (issue 11; BENCHMARKS.md, `session_memory`): a
//! million cached sessions are a million entries, so an entry is one slot
//! of a shard's `Vec` (the digest, the session's `Arc`, its keys and the
//! CLOCK bit) plus a 4-byte index in a hash table keyed by the digest —
//! about 70 bytes, where moka's entry (key and value `Arc`s, access-order
//! node, frequency sketch) cost about 300 plus a separate allocation for
//! the keys. The digest's first eight bytes are the hash: only tokens that
//! opened (sealed by this daemon, with a random nonce) are inserted, so
//! nobody chooses where they land. Sharded (up to 16 mutexes, by another
//! digest byte) so concurrent requests rarely wait; nothing is pending in
//! the background. May import `domain`, the parent's error helpers, the
//! session keys (`service::session_keys`) and the metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::HashTable;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use super::invalid_token;
use crate::domain::credential::Session;
use crate::domain::secret::SigningKey;
use crate::domain::sigv4::CredentialScope;
use crate::service::error::ServiceError;
use crate::service::session_keys::SessionKeys;

/// Signing keys kept per opened token: a session signs for one scope a
/// day in most uses (STS or one service in one region); one that
/// alternates between more scopes than this derives again (four HMACs).
pub(super) const MAX_SCOPES: usize = 4;

/// Sessions kept when no size is configured.
pub(super) const DEFAULT_CAPACITY: u64 = 10_000;

/// Most shards; a cache gets one per [`SHARD_MIN`] sessions of capacity,
/// so a small cache is one shard (one CLOCK over all its entries).
const MAX_SHARDS: usize = 16;

/// Capacity per shard below which shards are not split further.
const SHARD_MIN: u64 = 4_096;

/// A token's SHA-256.
type TokenDigest = [u8; 32];

/// A session's signing keys by `date/region/service`, oldest first.
type ScopedKeys = Box<[(Box<str>, SigningKey)]>;

/// Opened session tokens by the token's SHA-256.
pub(crate) struct SessionCache {
    shards: Box<[Mutex<Shard>]>,
    /// Entries held, in all shards: never above `capacity`.
    len: AtomicU64,
    capacity: u64,
}

/// What [`SessionCache::open`] found: the session, and the signing key of
/// the request's scope when one is kept.
pub(super) struct Opened {
    digest: TokenDigest,
    /// The opened session.
    pub(super) session: Arc<Session>,
    key: Option<SigningKey>,
}

/// Some of the sessions, in slots that the CLOCK hand reuses once the
/// cache is full.
struct Shard {
    /// Slot indexes, hashed by their slot's digest.
    index: HashTable<u32>,
    slots: Vec<Slot>,
    hand: usize,
}

/// One opened token.
struct Slot {
    digest: TokenDigest,
    session: Arc<Session>,
    /// The signing keys derived for it.
    keys: ScopedKeys,
    /// Used since the CLOCK hand last passed.
    referenced: bool,
}

// === impl SessionCache ===

impl SessionCache {
    /// An empty cache of at most `capacity` sessions (at least one).
    pub(crate) fn with_capacity(capacity: u64) -> Self {
        let capacity = capacity.max(1);
        let shards = usize::try_from(capacity / SHARD_MIN)
            .unwrap_or(MAX_SHARDS)
            .clamp(1, MAX_SHARDS)
            .next_power_of_two();
        Self {
            shards: (0..shards).map(|_| Mutex::new(Shard::new())).collect(),
            len: AtomicU64::new(0),
            capacity,
        }
    }

    /// Forgets every opened token (their memory is freed).
    pub(super) fn clear(&self) {
        for shard in &*self.shards {
            let mut guard = shard.lock();
            let old = std::mem::take(&mut *guard);
            let held = u64::try_from(old.slots.len()).unwrap_or(0);
            self.len.fetch_sub(held, Ordering::Relaxed);
            drop(guard);
            // The sessions (and their zeroizing keys) drop outside the lock.
            drop(old);
        }
    }

    /// Sessions held.
    pub(crate) fn entry_count(&self) -> u64 {
        self.len.load(Ordering::Relaxed)
    }

    /// Nothing is pending: evictions happen on insertion. Kept so that
    /// [`super::Authenticator::run_pending_cache_tasks`] covers every cache.
    pub(crate) fn run_pending_tasks(&self) {}

    /// `token` opened with `ring` (from the cache when it was opened
    /// before), with the key kept for `scope` if any.
    pub(super) fn open(
        &self,
        ring: &SessionKeys,
        token: &str,
        scope: &CredentialScope<'_>,
    ) -> Result<Opened, ServiceError> {
        let digest: TokenDigest = Sha256::digest(token.as_bytes()).into();
        let hit = self.get(&digest, scope);
        crate::telemetry::metrics::metrics()
            .cache(crate::telemetry::metrics::Cache::Sessions, hit.is_some());
        if let Some(hit) = hit {
            return Ok(hit);
        }
        let session = ring.open(token).map_err(|e| {
            tracing::debug!(error = %e, "session token refused");
            invalid_token()
        })?;
        let session = Arc::new(session);
        self.insert(digest, Arc::clone(&session));
        Ok(Opened {
            digest,
            session,
            key: None,
        })
    }

    /// The signing key of `scope` for `opened`: the kept one, or derived
    /// from the session's secret and kept with its entry (the oldest of
    /// [`MAX_SCOPES`] is dropped).
    pub(super) fn signing_key(&self, opened: Opened, scope: &CredentialScope<'_>) -> SigningKey {
        if let Some(key) = opened.key {
            return key;
        }
        let key = SigningKey::derive(
            &opened.session.secret,
            scope.date,
            scope.region,
            scope.service,
        );
        if let Some(shard) = self.shard(&opened.digest) {
            let dropped = shard.lock().keep(&opened.digest, scope, &key);
            drop(dropped);
        }
        key
    }

    /// The entry of `digest`, marked used, with its key for `scope`.
    fn get(&self, digest: &TokenDigest, scope: &CredentialScope<'_>) -> Option<Opened> {
        let mut shard = self.shard(digest)?.lock();
        let slot = shard.find_mut(digest)?;
        slot.referenced = true;
        let key = slot
            .keys
            .iter()
            .find(|(kept, _)| same_scope(kept, scope))
            .map(|(_, key)| key.clone());
        Some(Opened {
            digest: *digest,
            session: Arc::clone(&slot.session),
            key,
        })
    }

    /// Keeps `session` under `digest` (unless a concurrent miss did).
    fn insert(&self, digest: TokenDigest, session: Arc<Session>) {
        let Some(shard) = self.shard(&digest) else {
            return;
        };
        let mut shard = shard.lock();
        if shard.find_mut(&digest).is_some() {
            return;
        }
        // A place is taken under the shard's lock: the shards together
        // never hold more than the capacity, whichever fills first.
        let evicted = if self.len.fetch_add(1, Ordering::Relaxed) < self.capacity {
            shard.push(digest, session);
            None
        } else {
            self.len.fetch_sub(1, Ordering::Relaxed);
            shard.replace(digest, session)
        };
        drop(shard);
        // Dropped outside the lock.
        drop(evicted);
    }

    /// The shard of `digest` (always `Some`: the count is a power of two).
    fn shard(&self, digest: &TokenDigest) -> Option<&Mutex<Shard>> {
        // Another byte than the hash's, whose low bits pick the bucket.
        let [.., last] = *digest;
        self.shards
            .get(usize::from(last) & self.shards.len().saturating_sub(1))
    }

    /// Scopes kept for `digest` (`None` when it is not cached).
    #[cfg(test)]
    pub(super) fn kept_scopes(&self, digest: &TokenDigest) -> Option<usize> {
        let mut shard = self.shard(digest)?.lock();
        shard.find_mut(digest).map(|slot| slot.keys.len())
    }

    /// Caches `session` under `digest` as if its token had been opened.
    #[cfg(test)]
    pub(super) fn insert_for_tests(&self, digest: TokenDigest, session: Session) {
        self.insert(digest, Arc::new(session));
    }

    /// [`SessionCache::get`] for tests: `Some` when `digest` is cached.
    #[cfg(test)]
    pub(super) fn get_for_tests(
        &self,
        digest: &TokenDigest,
        scope: &CredentialScope<'_>,
    ) -> Option<Opened> {
        self.get(digest, scope)
    }

    /// The number of shards.
    #[cfg(test)]
    pub(super) fn shard_count(&self) -> usize {
        self.shards.len()
    }
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

// === impl Opened ===

impl Opened {
    /// Whether a signing key for the request's scope was kept.
    #[cfg(test)]
    pub(super) fn has_key(&self) -> bool {
        self.key.is_some()
    }
}

// === impl Slot ===

impl Slot {
    fn new(digest: TokenDigest, session: Arc<Session>) -> Self {
        Self {
            digest,
            session,
            keys: Box::default(),
            referenced: false,
        }
    }
}

// === impl Shard ===

impl Default for Shard {
    fn default() -> Self {
        Self::new()
    }
}

impl Shard {
    fn new() -> Self {
        Self {
            index: HashTable::new(),
            slots: Vec::new(),
            hand: 0,
        }
    }

    fn find_mut(&mut self, digest: &TokenDigest) -> Option<&mut Slot> {
        let slots = &self.slots;
        let &i = self.index.find(hash(digest), |&i| {
            slots.get(i as usize).is_some_and(|s| s.digest == *digest)
        })?;
        self.slots.get_mut(i as usize)
    }

    /// Adds an entry for `digest` (not held yet).
    fn push(&mut self, digest: TokenDigest, session: Arc<Session>) {
        let Ok(i) = u32::try_from(self.slots.len()) else {
            return;
        };
        self.slots.push(Slot::new(digest, session));
        self.index_at(&digest, i);
    }

    /// Puts an entry for `digest` (not held yet) in place of one chosen by
    /// CLOCK, and returns that one; an empty shard keeps nothing.
    fn replace(&mut self, digest: TokenDigest, session: Arc<Session>) -> Option<Slot> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        // The hand clears the bits of used entries and takes the first
        // unused one (within one turn).
        let at = loop {
            let at = self.hand % n;
            self.hand = (at + 1) % n;
            let used = self
                .slots
                .get_mut(at)
                .is_some_and(|s| std::mem::take(&mut s.referenced));
            if !used {
                break at;
            }
        };
        let i = u32::try_from(at).ok()?;
        let old = std::mem::replace(self.slots.get_mut(at)?, Slot::new(digest, session));
        if let Ok(entry) = self.index.find_entry(hash(&old.digest), |&j| j == i) {
            entry.remove();
        }
        self.index_at(&digest, i);
        Some(old)
    }

    /// Indexes slot `i`, which holds `digest`.
    fn index_at(&mut self, digest: &TokenDigest, i: u32) {
        let slots = &self.slots;
        self.index.insert_unique(hash(digest), i, |&j| {
            slots.get(j as usize).map_or(0, |s| hash(&s.digest))
        });
    }

    /// Keeps `key` for `scope` with `digest`'s entry if it is still
    /// cached; returns the keys it replaced, to drop outside the lock.
    fn keep(
        &mut self,
        digest: &TokenDigest,
        scope: &CredentialScope<'_>,
        key: &SigningKey,
    ) -> Option<ScopedKeys> {
        let slot = self.find_mut(digest)?;
        if slot.keys.iter().any(|(kept, _)| same_scope(kept, scope)) {
            // A concurrent request of the same session kept it first.
            return None;
        }
        // Rebuilt with exactly one more key (most sessions sign for one
        // scope, so no spare room), from copies: the old keys zeroize as
        // they drop instead of being moved and left behind.
        let skip = (slot.keys.len() + 1).saturating_sub(MAX_SCOPES);
        let name = format!("{}/{}/{}", scope.date, scope.region, scope.service);
        let keys: ScopedKeys = slot
            .keys
            .get(skip..)
            .unwrap_or_default()
            .iter()
            .cloned()
            .chain([(name.into_boxed_str(), key.clone())])
            .collect();
        Some(std::mem::replace(&mut slot.keys, keys))
    }
}

/// A digest's hash in the index: its first eight bytes (SHA-256 output is
/// uniform, and only tokens this daemon sealed are inserted).
fn hash(digest: &TokenDigest) -> u64 {
    let [a, b, c, d, e, f, g, h, ..] = *digest;
    u64::from_le_bytes([a, b, c, d, e, f, g, h])
}

/// Whether `kept` (`date/region/service`) names `scope`.
fn same_scope(kept: &str, scope: &CredentialScope<'_>) -> bool {
    let mut parts = kept.split('/');
    parts.next() == Some(scope.date)
        && parts.next() == Some(scope.region)
        && parts.next() == Some(scope.service)
        && parts.next().is_none()
}
