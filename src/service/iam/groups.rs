//! IAM groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup,
//! ListGroups, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.
//!
//! Owns: group lifecycle and membership, kept on both sides (the group's
//! `members`, the user's `groups`) in one commit; a user is in at most
//! [`MAX_GROUPS_PER_USER`] groups; a group with members or policies cannot
//! be deleted (`DeleteConflict`). May import `domain`, `service::authz`,
//! `service::error`, `service::store`. Spec: reference section 12.

use crate::domain::ids::{Arn, GroupName, IamPath, UniqueId, UniqueIdPrefix, UserName};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::inline::page_of;
use crate::service::iam::scan::list_page;
use crate::service::iam::users::load_user;
use crate::service::iam::{Iam, Listing, Paging, Rng, quota};
use crate::service::store::model::{GroupRecord, UserRecord};
use crate::service::store::{Key, Timestamp, Transaction, Versioned, commit_with_retry, fetch};

/// A user is in at most this many groups.
pub const MAX_GROUPS_PER_USER: usize = 10;

/// The group `name` after authorizing `action` on it.
async fn authorized_group(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    name: &GroupName,
) -> Result<Versioned<GroupRecord>, ServiceError> {
    let found = fetch::<GroupRecord>(&*iam.store, &Key::group(caller.account(), name)).await?;
    let arn = match &found {
        Some(g) => g.record.arn.clone(),
        None => Arn::iam_group(&iam.partition, caller.account(), &IamPath::root(), name),
    };
    caller.authorize(action, arn.as_str(), &[])?;
    found.ok_or_else(|| ServiceError::no_such_entity("group", name.as_str()))
}

/// The group `name`, freshly read.
async fn load_group(
    iam: &Iam,
    caller: &AuthzCaller,
    name: &GroupName,
) -> Result<Versioned<GroupRecord>, ServiceError> {
    fetch::<GroupRecord>(&*iam.store, &Key::group(caller.account(), name))
        .await?
        .ok_or_else(|| ServiceError::no_such_entity("group", name.as_str()))
}

/// CreateGroup.
///
/// # Errors
///
/// `AccessDenied`, `EntityAlreadyExists`.
pub async fn create_group(
    iam: &Iam,
    caller: &AuthzCaller,
    name: GroupName,
    path: Option<IamPath>,
) -> Result<GroupRecord, ServiceError> {
    let account = caller.account();
    let path = path.unwrap_or_else(IamPath::root);
    let arn = Arn::iam_group(&iam.partition, account, &path, &name);
    caller.authorize("iam:CreateGroup", arn.as_str(), &[])?;
    let id = iam.random(|r| UniqueId::generate(UniqueIdPrefix::Group, account, &mut Rng(r)))?;
    let group = GroupRecord {
        account,
        name,
        id,
        path,
        arn,
        create_date: Timestamp::now(&*iam.clock),
        inline_policies: Default::default(),
        attached_policies: vec![],
        members: vec![],
    };
    quota::check::<GroupRecord>(&*iam.store, account, "GroupsPerAccount", quota::GROUPS).await?;
    let mut txn = Transaction::new();
    txn.require_absent(group.key_of()).put(group.clone());
    iam.store.commit(txn).await?;
    Ok(group)
}

/// GetGroup: the group and one page of its users, in name order (case
/// folded); the marker is the last user's folded name.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn get_group(
    iam: &Iam,
    caller: &AuthzCaller,
    name: GroupName,
    paging: &Paging,
) -> Result<(GroupRecord, Listing<UserRecord>), ServiceError> {
    let group = authorized_group(iam, caller, "iam:GetGroup", &name).await?;
    let mut members: Vec<String> = group
        .record
        .members
        .iter()
        .map(|m| m.as_str().to_ascii_lowercase())
        .collect();
    members.sort();
    let page = page_of(members, paging, Clone::clone);
    let mut users = Vec::with_capacity(page.items.len());
    for m in &page.items {
        let Ok(m) = m.parse::<UserName>() else {
            continue;
        };
        if let Some(u) = fetch::<UserRecord>(&*iam.store, &Key::user(caller.account(), &m)).await? {
            users.push(u.record);
        }
    }
    let listing = Listing {
        items: users,
        marker: page.marker,
    };
    Ok((group.record, listing))
}

/// UpdateGroup: renames and/or moves the group, updating its members.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `EntityAlreadyExists`.
pub async fn update_group(
    iam: &Iam,
    caller: &AuthzCaller,
    name: GroupName,
    new_name: Option<GroupName>,
    new_path: Option<IamPath>,
) -> Result<(), ServiceError> {
    let current = authorized_group(iam, caller, "iam:UpdateGroup", &name).await?;
    let new_name = new_name.unwrap_or_else(|| name.clone());
    let new_path = new_path.unwrap_or_else(|| current.record.path.clone());
    let new_arn = Arn::iam_group(&iam.partition, caller.account(), &new_path, &new_name);
    caller.authorize("iam:UpdateGroup", new_arn.as_str(), &[])?;
    let (name, new_name, new_path, new_arn) = (&name, &new_name, &new_path, &new_arn);
    commit_with_retry(&*iam.store, move || async move {
        let group = load_group(iam, caller, name).await?;
        let mut txn = Transaction::new();
        txn.require_unchanged(&group);
        let (old_key, new_key) = (
            group.record.key_of(),
            Key::group(caller.account(), new_name),
        );
        if old_key != new_key {
            txn.require_absent(new_key).delete(old_key);
        }
        for m in &group.record.members {
            let user = load_user(&*iam.store, caller, m).await?;
            let mut u = user.record.clone();
            for g in &mut u.groups {
                if g == &group.record.name {
                    *g = new_name.clone();
                }
            }
            txn.require_unchanged(&user).put(u);
        }
        let mut updated = group.record.clone();
        updated.name = new_name.clone();
        updated.path = new_path.clone();
        updated.arn = new_arn.clone();
        txn.put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// DeleteGroup: refused while it has members or policies.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `DeleteConflict`.
pub async fn delete_group(
    iam: &Iam,
    caller: &AuthzCaller,
    name: GroupName,
) -> Result<(), ServiceError> {
    authorized_group(iam, caller, "iam:DeleteGroup", &name).await?;
    let name = &name;
    commit_with_retry(&*iam.store, move || async move {
        let group = load_group(iam, caller, name).await?;
        let g = &group.record;
        let conflict = if !g.members.is_empty() {
            Some("Cannot delete entity, must remove users from group first.")
        } else if !g.inline_policies.is_empty() {
            Some("Cannot delete entity, must delete policies first.")
        } else if !g.attached_policies.is_empty() {
            Some("Cannot delete entity, must detach all policies first.")
        } else {
            None
        };
        if let Some(message) = conflict {
            return Err(ServiceError::new(ErrorCode::DeleteConflict, message));
        }
        let mut txn = Transaction::new();
        txn.require_unchanged(&group).delete(g.key_of());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListGroups.
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_groups(
    iam: &Iam,
    caller: &AuthzCaller,
    paging: &Paging,
) -> Result<Listing<GroupRecord>, ServiceError> {
    let resource = format!("arn:{}:iam::{}:group/*", iam.partition, caller.account());
    caller.authorize("iam:ListGroups", &resource, &[])?;
    list_page(&*iam.store, caller.account(), paging).await
}

/// AddUserToGroup (idempotent, as in AWS).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded` past ten groups.
pub async fn add_user_to_group(
    iam: &Iam,
    caller: &AuthzCaller,
    group: GroupName,
    user: UserName,
) -> Result<(), ServiceError> {
    authorized_group(iam, caller, "iam:AddUserToGroup", &group).await?;
    let (group, user) = (&group, &user);
    commit_with_retry(&*iam.store, move || async move {
        let g = load_group(iam, caller, group).await?;
        let u = load_user(&*iam.store, caller, user).await?;
        let mut txn = Transaction::new();
        if u.record.groups.contains(&g.record.name) {
            return Ok((txn, ()));
        }
        if u.record.groups.len() >= MAX_GROUPS_PER_USER {
            return Err(ServiceError::new(
                ErrorCode::LimitExceeded,
                format!("Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"),
            ));
        }
        let (mut gr, mut ur) = (g.record.clone(), u.record.clone());
        gr.members.push(ur.name.clone());
        ur.groups.push(gr.name.clone());
        txn.require_unchanged(&g)
            .require_unchanged(&u)
            .put(gr)
            .put(ur);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// RemoveUserFromGroup.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (also when the user is not a member).
pub async fn remove_user_from_group(
    iam: &Iam,
    caller: &AuthzCaller,
    group: GroupName,
    user: UserName,
) -> Result<(), ServiceError> {
    authorized_group(iam, caller, "iam:RemoveUserFromGroup", &group).await?;
    let (group, user) = (&group, &user);
    commit_with_retry(&*iam.store, move || async move {
        let g = load_group(iam, caller, group).await?;
        let u = load_user(&*iam.store, caller, user).await?;
        if !u.record.groups.contains(&g.record.name) {
            return Err(ServiceError::new(
                ErrorCode::NoSuchEntity,
                format!(
                    "The user with name {} cannot be found in group {}.",
                    u.record.name, g.record.name
                ),
            ));
        }
        let (mut gr, mut ur) = (g.record.clone(), u.record.clone());
        gr.members.retain(|m| m != &ur.name);
        ur.groups.retain(|n| n != &gr.name);
        let mut txn = Transaction::new();
        txn.require_unchanged(&g)
            .require_unchanged(&u)
            .put(gr)
            .put(ur);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListGroupsForUser (at most ten: one page).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_groups_for_user(
    iam: &Iam,
    caller: &AuthzCaller,
    user: UserName,
) -> Result<Vec<GroupRecord>, ServiceError> {
    let found = fetch::<UserRecord>(&*iam.store, &Key::user(caller.account(), &user)).await?;
    let arn = match &found {
        Some(u) => u.record.arn.clone(),
        None => Arn::iam_user(&iam.partition, caller.account(), &IamPath::root(), &user),
    };
    caller.authorize("iam:ListGroupsForUser", arn.as_str(), &[])?;
    let u = found.ok_or_else(|| ServiceError::no_such_entity("user", user.as_str()))?;
    let mut out = Vec::new();
    for g in &u.record.groups {
        if let Some(group) =
            fetch::<GroupRecord>(&*iam.store, &Key::group(caller.account(), g)).await?
        {
            out.push(group.record);
        }
    }
    Ok(out)
}

/// The store key of a group record.
trait KeyOf {
    fn key_of(&self) -> Key;
}

impl KeyOf for GroupRecord {
    fn key_of(&self) -> Key {
        Key::group(self.account, &self.name)
    }
}

#[cfg(test)]
mod tests;
