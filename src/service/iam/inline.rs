//! Inline policies of users, groups and roles: Put/Get/Delete/List
//! {User,Group,Role}Policy(ies).
//!
//! Owns: validating inline documents as identity policies, the aggregate
//! size quotas of reference 12 (all of an entity's inline documents
//! together, whitespace not counted: user 2,048, group 5,120, role 10,240
//! → `LimitExceeded`), and paging policy names. Documents are stored as
//! given (GetXPolicy returns them as given). May import `domain`,
//! `service::authz`, `service::error`, `service::store`.
//! Spec: reference sections 5.1 and 12.

use crate::domain::ids::PolicyName;
use crate::domain::policy::{Policy, PolicyError, PolicyKind};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::holder::{Holder, authorize_on, inline_mut, inline_of, load};
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::store::{Transaction, commit_with_retry};

/// The aggregate inline-policy quota of `holder`'s kind, in characters.
pub fn aggregate_limit(holder: &Holder) -> usize {
    match holder {
        Holder::User(_) => 2_048,
        Holder::Group(_) => 5_120,
        Holder::Role(_) => 10_240,
    }
}

/// Characters of `doc` that count towards size quotas.
pub fn counted_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// AWS's `LimitExceeded` for an entity over its inline quota.
fn too_large(holder: &Holder) -> ServiceError {
    ServiceError::new(
        ErrorCode::LimitExceeded,
        format!(
            "Maximum policy size of {} bytes exceeded for {} {}",
            aggregate_limit(holder),
            holder.noun(),
            holder.name()
        ),
    )
}

/// Validates `document` as an inline identity policy of `holder`.
///
/// # Errors
///
/// `MalformedPolicyDocument`, or `LimitExceeded` when the document alone
/// is over the entity's quota.
pub fn check_document(
    holder: &Holder,
    name: &PolicyName,
    document: &str,
) -> Result<(), ServiceError> {
    Policy::parse_with_limit(
        name.as_str(),
        PolicyKind::Identity,
        document,
        aggregate_limit(holder),
    )
    .map(drop)
    .map_err(|e| match e {
        PolicyError::Size { .. } => too_large(holder),
        other => other.into(),
    })
}

/// PutUserPolicy / PutGroupPolicy / PutRolePolicy: adds or replaces the
/// inline policy `name`.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `MalformedPolicyDocument`,
/// `LimitExceeded`.
pub async fn put_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    name: PolicyName,
    document: String,
) -> Result<(), ServiceError> {
    let action = format!("iam:Put{}Policy", holder.word());
    authorize_on(iam, caller, &action, &holder, &[]).await?;
    check_document(&holder, &name, &document)?;
    let (holder, name, document) = (&holder, &name, &document);
    commit_with_retry(&*iam.store, move || async move {
        let found = load(&*iam.store, caller.account(), holder).await?;
        let mut updated = found.record.clone();
        let policies = inline_mut(&mut updated).ok_or_else(|| too_large(holder))?;
        policies.insert(name.clone(), document.clone());
        let total: usize = policies.values().map(|d| counted_size(d)).sum();
        if total > aggregate_limit(holder) {
            return Err(too_large(holder));
        }
        let mut txn = Transaction::new();
        txn.require_revision(updated.key(), found.revision)
            .put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// GetUserPolicy / GetGroupPolicy / GetRolePolicy: the document as given.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (entity or policy).
pub async fn get_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    name: PolicyName,
) -> Result<String, ServiceError> {
    let action = format!("iam:Get{}Policy", holder.word());
    let found = authorize_on(iam, caller, &action, &holder, &[]).await?;
    inline_of(&found.record)
        .and_then(|p| p.get(&name))
        .cloned()
        .ok_or_else(|| missing_policy(&holder, &name))
}

/// AWS's `NoSuchEntity` for an inline policy that is not there.
fn missing_policy(holder: &Holder, name: &PolicyName) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!(
            "The {} policy with name {name} cannot be found.",
            holder.noun()
        ),
    )
}

/// DeleteUserPolicy / DeleteGroupPolicy / DeleteRolePolicy.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (entity or policy).
pub async fn delete_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    name: PolicyName,
) -> Result<(), ServiceError> {
    let action = format!("iam:Delete{}Policy", holder.word());
    authorize_on(iam, caller, &action, &holder, &[]).await?;
    let (holder, name) = (&holder, &name);
    commit_with_retry(&*iam.store, move || async move {
        let found = load(&*iam.store, caller.account(), holder).await?;
        let mut updated = found.record.clone();
        inline_mut(&mut updated)
            .and_then(|p| p.remove(name))
            .ok_or_else(|| missing_policy(holder, name))?;
        let mut txn = Transaction::new();
        txn.require_revision(updated.key(), found.revision)
            .put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListUserPolicies / ListGroupPolicies / ListRolePolicies: names in
/// order, paged by `Marker`/`MaxItems` (the marker is the last name
/// returned).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_policies(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    paging: &Paging,
) -> Result<Listing<PolicyName>, ServiceError> {
    let action = format!("iam:List{}Policies", holder.word());
    let found = authorize_on(iam, caller, &action, &holder, &[]).await?;
    let names = inline_of(&found.record)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    Ok(page_of(names, paging, |n| n.as_str().to_owned()))
}

/// One page of `items` (already in order) after `paging.marker`, where
/// `marker_of` gives each item's marker.
pub fn page_of<T>(items: Vec<T>, paging: &Paging, marker_of: impl Fn(&T) -> String) -> Listing<T> {
    let limit = paging.query().limit.max(1);
    let mut rest: Vec<T> = match &paging.marker {
        Some(m) => items
            .into_iter()
            .skip_while(|i| marker_of(i) <= *m)
            .collect(),
        None => items,
    };
    let more = rest.len() > limit;
    rest.truncate(limit);
    let marker = if more {
        rest.last().map(&marker_of)
    } else {
        None
    };
    Listing {
        items: rest,
        marker,
    }
}

#[cfg(test)]
mod tests;
