//! Attaching managed policies: Attach/Detach{User,Group,Role}Policy,
//! ListAttached{User,Group,Role}Policies, ListEntitiesForPolicy.
//!
//! Owns: the attachment rules — the policy must exist, attaching twice is
//! a no-op, at most 10 managed policies per user, group or role
//! (`LimitExceeded`), and the policy's `attachment_count` changed in the
//! same commit as the entity's list. May import `domain`,
//! `service::authz`, `service::error`, `service::store`.
//! Spec: reference section 12.

use super::load_policy;
use crate::domain::ids::{Arn, GroupName, RoleName, UniqueId, UserName};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::boundaries::{attachable_policy, policy_name_of};
use crate::service::iam::holder::{Holder, attached_mut, attached_of, authorize_on, load};
use crate::service::iam::inline::page_of;
use crate::service::iam::scan::list_all;
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::store::model::{GroupRecord, RoleRecord, UserRecord};
use crate::service::store::{Transaction, commit_with_retry};

/// At most this many managed policies per user, group or role.
pub const MAX_ATTACHED: usize = 10;

/// One attached policy, as ListAttached*Policies shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// `PolicyName`.
    pub name: String,
    /// `PolicyArn`.
    pub arn: Arn,
}

/// The entities a policy is attached to (ListEntitiesForPolicy).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyEntities {
    /// `PolicyGroups`: names and IDs.
    pub groups: Vec<(GroupName, UniqueId)>,
    /// `PolicyUsers`.
    pub users: Vec<(UserName, UniqueId)>,
    /// `PolicyRoles`.
    pub roles: Vec<(RoleName, UniqueId)>,
}

/// `EntityFilter` of ListEntitiesForPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityFilter {
    /// Users only.
    User,
    /// Groups only.
    Group,
    /// Roles only.
    Role,
}

/// Attach{User,Group,Role}Policy.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (entity or policy), `LimitExceeded`.
pub async fn attach_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    arn: Arn,
) -> Result<(), ServiceError> {
    let action = format!("iam:Attach{}Policy", holder.word());
    let arn_text = arn.to_string();
    authorize_on(
        iam,
        caller,
        &action,
        &holder,
        &[("iam:PolicyARN", &arn_text)],
    )
    .await?;
    let (holder, arn) = (&holder, &arn);
    commit_with_retry(&*iam.store, move || async move {
        let entity = load(&*iam.store, caller.account(), holder).await?;
        let policy = attachable_policy(&*iam.store, caller, arn).await?;
        let mut updated = entity.record.clone();
        let list = attached_mut(&mut updated)
            .ok_or_else(|| ServiceError::no_such_entity(holder.noun(), holder.name()))?;
        let mut txn = Transaction::new();
        if list.contains(arn) {
            return Ok::<_, ServiceError>((txn, ()));
        }
        if list.len() >= MAX_ATTACHED {
            return Err(ServiceError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "Cannot exceed quota for PoliciesPer{}: {MAX_ATTACHED}",
                    holder.word()
                ),
            ));
        }
        list.push(arn.clone());
        let mut counted = policy.record.clone();
        counted.attachment_count = counted.attachment_count.saturating_add(1);
        txn.require_revision(updated.key(), entity.revision)
            .put(updated)
            .require_unchanged(&policy)
            .put(counted);
        Ok((txn, ()))
    })
    .await?;
    Ok(())
}

/// Detach{User,Group,Role}Policy.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (entity, or the policy is not attached).
pub async fn detach_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    arn: Arn,
) -> Result<(), ServiceError> {
    let action = format!("iam:Detach{}Policy", holder.word());
    let arn_text = arn.to_string();
    authorize_on(
        iam,
        caller,
        &action,
        &holder,
        &[("iam:PolicyARN", &arn_text)],
    )
    .await?;
    let (holder, arn) = (&holder, &arn);
    commit_with_retry(&*iam.store, move || async move {
        let entity = load(&*iam.store, caller.account(), holder).await?;
        let mut updated = entity.record.clone();
        let list = attached_mut(&mut updated)
            .ok_or_else(|| ServiceError::no_such_entity(holder.noun(), holder.name()))?;
        let before = list.len();
        list.retain(|a| a != arn);
        if list.len() == before {
            return Err(super::not_found(arn));
        }
        let mut txn = Transaction::new();
        txn.require_revision(updated.key(), entity.revision)
            .put(updated);
        if let Ok(policy) = load_policy(&*iam.store, caller, arn).await {
            let mut counted = policy.record.clone();
            counted.attachment_count = counted.attachment_count.saturating_sub(1);
            txn.require_unchanged(&policy).put(counted);
        }
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListAttached{User,Group,Role}Policies, filtered by the policies' path
/// prefix, in attachment order, paged by position.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_attached_policies(
    iam: &Iam,
    caller: &AuthzCaller,
    holder: Holder,
    paging: &Paging,
) -> Result<Listing<AttachedPolicy>, ServiceError> {
    let action = format!("iam:ListAttached{}Policies", holder.word());
    let found = authorize_on(iam, caller, &action, &holder, &[]).await?;
    let prefix = paging.path_prefix.as_deref().unwrap_or("/");
    let items: Vec<(String, AttachedPolicy)> = attached_of(&found.record)
        .into_iter()
        .flatten()
        .filter(|arn| {
            arn.resource()
                .strip_prefix("policy")
                .is_some_and(|p| p.starts_with(prefix))
        })
        .enumerate()
        .filter_map(|(i, arn)| {
            let name = policy_name_of(arn)?.to_string();
            let attached = AttachedPolicy {
                name,
                arn: arn.clone(),
            };
            Some((format!("{i:04}"), attached))
        })
        .collect();
    let page = page_of(items, paging, |(m, _)| m.clone());
    Ok(Listing {
        items: page.items.into_iter().map(|(_, a)| a).collect(),
        marker: page.marker,
    })
}

/// ListEntitiesForPolicy: the groups, users and roles the policy is
/// attached to (at most `MaxItems` of them together).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_entities_for_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    filter: Option<EntityFilter>,
    paging: &Paging,
) -> Result<(PolicyEntities, Option<String>), ServiceError> {
    caller.authorize("iam:ListEntitiesForPolicy", arn.as_str(), &[])?;
    load_policy(&*iam.store, caller, arn).await?;
    let account = caller.account();
    let prefix = paging.path_prefix.as_deref().unwrap_or("/");
    let wants = |f: EntityFilter| filter.is_none_or(|x| x == f);
    // Markers sort groups, then users, then roles, each in name order.
    let mut all: Vec<(String, Holder, UniqueId)> = Vec::new();
    if wants(EntityFilter::Group) {
        for g in list_all::<GroupRecord>(&*iam.store, account).await? {
            if g.attached_policies.contains(arn) && g.path.as_str().starts_with(prefix) {
                let marker = format!("1{}", g.name.as_str().to_lowercase());
                all.push((marker, Holder::Group(g.name), g.id));
            }
        }
    }
    if wants(EntityFilter::User) {
        for u in list_all::<UserRecord>(&*iam.store, account).await? {
            if u.attached_policies.contains(arn) && u.path.as_str().starts_with(prefix) {
                let marker = format!("2{}", u.name.as_str().to_lowercase());
                all.push((marker, Holder::User(u.name), u.id));
            }
        }
    }
    if wants(EntityFilter::Role) {
        for r in list_all::<RoleRecord>(&*iam.store, account).await? {
            if r.attached_policies.contains(arn) && r.path.as_str().starts_with(prefix) {
                let marker = format!("3{}", r.name.as_str().to_lowercase());
                all.push((marker, Holder::Role(r.name), r.id));
            }
        }
    }
    let page = page_of(all, paging, |(m, _, _)| m.clone());
    let mut out = PolicyEntities::default();
    for (_, holder, id) in page.items {
        match holder {
            Holder::Group(n) => out.groups.push((n, id)),
            Holder::User(n) => out.users.push((n, id)),
            Holder::Role(n) => out.roles.push((n, id)),
        }
    }
    Ok((out, page.marker))
}
