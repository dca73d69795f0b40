//! The identity cache while the store is unreachable: a session's
//! identity is served as last loaded, a user's never is.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;

use super::*;
use crate::domain::credential::{Session, SessionPrincipal};
use crate::service::error::ErrorCode;
use crate::service::store::{
    EntityReader, Key, Kind, ListQuery, Page, Record, StoreError, StoreGeneration, Versioned,
};

/// A store that can go away, with a change stamp the test moves.
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
    stamp: AtomicU64,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("the test took the store down"));
        }
        Ok(())
    }
}

#[async_trait]
impl EntityReader for Flaky {
    async fn get(&self, key: &Key) -> Result<Option<Versioned<Record>>, StoreError> {
        self.check()?;
        self.inner.get(key).await
    }

    async fn list(
        &self,
        account: AccountId,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Page<Record>, StoreError> {
        self.check()?;
        self.inner.list(account, kind, query).await
    }
}

#[async_trait]
impl StoreGeneration for Flaky {
    async fn generation(&self) -> Result<u64, StoreError> {
        self.check()?;
        Ok(self.stamp.load(Ordering::SeqCst))
    }

    fn changes_seen(&self) -> u64 {
        self.stamp.load(Ordering::SeqCst)
    }
}

fn role_session() -> Session {
    super::sessions::session(SessionPrincipal::AssumedRole {
        role_arn: "arn:aws:iam::123456789012:role/app".parse().unwrap(),
        role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
        session_name: "s".into(),
    })
}

#[tokio::test]
async fn a_session_is_served_as_last_loaded_while_the_store_is_down_a_user_never() {
    let inner = MemoryStore::new(Arc::new(FixedClock::at_secs(T0)));
    let alice = user("alice");
    let mut txn = Transaction::new();
    txn.put(alice.clone());
    inner.commit(txn).await.unwrap();
    let store = Flaky {
        inner,
        down: AtomicBool::new(false),
        stamp: AtomicU64::new(1),
    };
    let cache = IdentityCache::new(100);
    let session = Caller {
        account: account(),
        identity: Identity::Session(Arc::new(role_session())),
        access_key_id: None,
        region: None,
    };
    let user = caller(&alice);
    let first = cache.load(&store, &partition(), &session).await.unwrap();
    cache.load(&store, &partition(), &user).await.unwrap();

    // A change, then the store goes away before this replica reloads.
    store.stamp.fetch_add(1, Ordering::SeqCst);
    store.down.store(true, Ordering::SeqCst);
    let stale = cache.load(&store, &partition(), &session).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &stale),
        "the session's identity as last loaded"
    );
    let refused = cache.load(&store, &partition(), &user).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ServiceUnavailable);

    // Back: reloaded, not the stale one.
    store.down.store(false, Ordering::SeqCst);
    let fresh = cache.load(&store, &partition(), &session).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &fresh));
    cache.load(&store, &partition(), &user).await.unwrap();
}
