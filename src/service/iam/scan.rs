//! Reading every record of one kind in an account, page by page.
//!
//! Owns: [`list_page`], one page of a kind for the List actions, and
//! [`list_all`], for the operations that must look at a whole kind
//! (ListEntitiesForPolicy, ListPolicies with `OnlyAttached`, rendering
//! trust-policy principals back to ARNs, bootstrap). May import
//! `service::store` and `service::error`. Spec: reference section 12 (the
//! account quotas bound how much this reads).

use crate::domain::ids::AccountId;
use crate::service::error::ServiceError;
use crate::service::iam::{Listing, Paging};
use crate::service::store::{Entity, EntityReader, ListQuery, MAX_PAGE};

/// One page of `T`'s kind in `account`, in name order, as `paging` asks.
///
/// # Errors
///
/// The store's failure, or `InternalFailure` for a record of another kind.
pub async fn list_page<T: Entity>(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    paging: &Paging,
) -> Result<Listing<T>, ServiceError> {
    let page = store.list(account, T::KIND, &paging.query()).await?;
    let items = page
        .items
        .into_iter()
        .map(|v| v.downcast::<T>().map(|r| r.record))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Listing {
        items,
        marker: page.next,
    })
}

/// Every record of `T`'s kind in `account`, in name order.
///
/// # Errors
///
/// The store's failure, or `InternalFailure` for a record of another kind.
pub async fn list_all<T: Entity>(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
) -> Result<Vec<T>, ServiceError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let query = ListQuery {
            after,
            limit: MAX_PAGE,
            path_prefix: None,
        };
        let page = store.list(account, T::KIND, &query).await?;
        for item in page.items {
            out.push(item.downcast::<T>()?.record);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}
