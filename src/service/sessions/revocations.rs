//! The live revocation set of this process.
//!
//! Owns: [`Revocations`], the compiled [`RevocationSet`] behind a
//! `parking_lot` lock, with the store's revocation counter it reflects.
//! [`Revocations::check`] is the hot path (a read lock and a few hash
//! lookups, no store read); [`Revocations::refresh`] reloads the rules
//! when the store's counter moved (another replica revoked), and a revoke
//! in this process adds its rule at once ([`Revocations::add`]), so it
//! holds on the very next call. On a shared store the set may go stale
//! while the store is unreachable: with [`Revocations::fail_closed_after`]
//! the set serves its last known rules for that grace after the last
//! successful refresh, and then [`Revocations::ensure_current`] refuses
//! until a refresh succeeds again. May import `domain` and
//! `service::store`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;

use crate::domain::clock::Clock;
use crate::domain::credential::Session;
use crate::domain::sessions::{RevocationRule, RevocationSet, Revoked};
use crate::service::store::{RevocationStore, StoreError, Timestamp};

/// The rules this process enforces.
pub struct Revocations {
    store: Arc<dyn RevocationStore>,
    clock: Arc<dyn Clock>,
    loaded: RwLock<Loaded>,
    /// How long the rules may go unconfirmed; `None`: forever (a store
    /// only this process writes).
    grace: Option<Duration>,
    /// Clock time (ms) of the last successful read of the counter.
    confirmed_ms: AtomicU64,
}

#[derive(Default)]
struct Loaded {
    /// The store's counter the set reflects; `None` before the first load.
    counter: Option<u64>,
    set: RevocationSet,
}

// === impl Revocations ===

impl Revocations {
    /// The rules of `store`, loaded now.
    ///
    /// # Errors
    ///
    /// The store's.
    pub async fn load(
        store: Arc<dyn RevocationStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let me = Self {
            store,
            clock,
            loaded: RwLock::new(Loaded::default()),
            grace: None,
            confirmed_ms: AtomicU64::new(0),
        };
        me.refresh().await?;
        Ok(me)
    }

    /// Fails closed once the rules are `grace` older than the last
    /// successful refresh (the store unreachable): see
    /// [`Revocations::ensure_current`].
    #[must_use]
    pub fn fail_closed_after(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// An error when the rules may be out of date beyond the grace: no
    /// refresh succeeded for longer than it. Session authentication
    /// refuses (`ServiceUnavailable`) rather than trust them.
    ///
    /// # Errors
    ///
    /// [`StoreError::BackendUnavailable`] while the rules are stale.
    pub fn ensure_current(&self) -> Result<(), StoreError> {
        let Some(grace) = self.grace else {
            return Ok(());
        };
        let now = millis(self.clock.now());
        let confirmed = self.confirmed_ms.load(Ordering::Acquire);
        if now.saturating_sub(confirmed) > millis(grace) {
            return Err(StoreError::unavailable(
                "revocation rules could not be refreshed within the grace period",
            ));
        }
        Ok(())
    }

    /// The rule revoking `session`, if any: the check every session
    /// authentication (and `Authorize`) makes. No store read.
    pub fn check(&self, session: &Session) -> Option<Revoked> {
        self.loaded.read().set.check(session)
    }

    /// How many rules are enforced.
    pub fn len(&self) -> usize {
        self.loaded.read().set.len()
    }

    /// Whether no rule is enforced.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reloads the rules if the store's revocation counter moved since the
    /// last load; true when it did. Rules past their retention are left
    /// out.
    ///
    /// # Errors
    ///
    /// The store's; the current set stays in force.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let started = millis(self.clock.now());
        let counter = self.store.revocation_counter().await?;
        if self.loaded.read().counter == Some(counter) {
            self.confirmed_ms.fetch_max(started, Ordering::AcqRel);
            return Ok(false);
        }
        let (counter, rules) = self.store.revocations().await?;
        self.confirmed_ms.fetch_max(started, Ordering::AcqRel);
        let now = Timestamp::now(self.clock.as_ref()).as_unix_secs();
        let set = RevocationSet::compile(&rules, now);
        let mut loaded = self.loaded.write();
        // A concurrent, later load or add wins.
        if loaded.counter.is_none_or(|c| c < counter) {
            *loaded = Loaded {
                counter: Some(counter),
                set,
            };
        }
        Ok(true)
    }

    /// Enforces `rule` at once; `counter` is what the store returned for
    /// its put. The counter is adopted only when no other put came in
    /// between, so a rule of another replica is still picked up by the
    /// next [`Revocations::refresh`].
    pub fn add(&self, rule: &RevocationRule, counter: u64) {
        let mut loaded = self.loaded.write();
        loaded.set.insert(rule);
        if loaded.counter.map(|c| c + 1) == Some(counter) {
            loaded.counter = Some(counter);
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("rules", &self.len())
            .finish_non_exhaustive()
    }
}
