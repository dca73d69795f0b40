//! IAM roles: CreateRole, GetRole, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, ListRoles, TagRole, UntagRole,
//! ListRoleTags.
//!
//! Owns: the role lifecycle and its rules — unique names (any case),
//! `MaxSessionDuration` 3600–43200 (default 3600), descriptions of at most
//! 1,000 characters, tags (≤ 50, no `aws:` keys), the permissions boundary
//! (must exist; its usage count moves with it), trust policies validated
//! and stored by principal ID ([`super::trust`]) and rendered as ARNs in
//! every returned [`RoleRecord`], and `DeleteConflict` while inline or
//! attached policies remain. May import `domain`, `service::authz`,
//! `service::error`, `service::store`. Spec: reference sections 6.4 and 12.

use crate::domain::ids::{Arn, IamPath, RoleName, TagKey, UniqueId, UniqueIdPrefix};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::boundaries::move_boundary;
use crate::service::iam::edit_record;
use crate::service::iam::scan::list_page;
use crate::service::iam::trust::{Renderer, to_stored};
use crate::service::iam::{Iam, Listing, Paging, Rng, check_tags, merge_tags, quota};
use crate::service::store::model::RoleRecord;
use crate::service::store::{
    EntityReader, Key, LastUsed, Tag, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// The default `MaxSessionDuration`, in seconds.
pub const DEFAULT_MAX_SESSION: u32 = 3_600;
/// The largest `MaxSessionDuration`, in seconds.
pub const MAX_MAX_SESSION: u32 = 43_200;
/// The longest role description, in characters.
pub const MAX_DESCRIPTION: usize = 1_000;

/// CreateRole's input.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRole {
    /// `RoleName`.
    pub name: RoleName,
    /// `Path` (default `/`).
    pub path: Option<IamPath>,
    /// `AssumeRolePolicyDocument`, as given.
    pub trust_policy: String,
    /// `Description`.
    pub description: Option<String>,
    /// `MaxSessionDuration` in seconds (default 3600).
    pub max_session_duration: Option<i64>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `PermissionsBoundary`.
    pub permissions_boundary: Option<Arn>,
}

/// A role as GetRole shows it: the record (trust policy rendered with
/// ARNs) and its last use.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleView {
    /// The role.
    pub role: RoleRecord,
    /// `RoleLastUsed`.
    pub last_used: Option<LastUsed>,
}

/// Checks `MaxSessionDuration` and returns it in seconds.
///
/// # Errors
///
/// AWS's `ValidationError` outside 3600–43200.
pub fn max_session(value: Option<i64>) -> Result<u32, ServiceError> {
    let Some(v) = value else {
        return Ok(DEFAULT_MAX_SESSION);
    };
    let text = v.to_string();
    let member = "maxSessionDuration";
    if v < i64::from(DEFAULT_MAX_SESSION) {
        return Err(ServiceError::validation(
            &text,
            member,
            "Member must have value greater than or equal to 3600",
        ));
    }
    u32::try_from(v)
        .ok()
        .filter(|v| *v <= MAX_MAX_SESSION)
        .ok_or_else(|| {
            ServiceError::validation(
                &text,
                member,
                "Member must have value less than or equal to 43200",
            )
        })
}

/// Checks a role description: at most 1,000 characters of IAM's charset.
///
/// # Errors
///
/// AWS's `ValidationError`.
pub fn check_description(value: &str) -> Result<(), ServiceError> {
    if value.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::validation(
            value,
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    if !value.chars().all(allowed) {
        return Err(ServiceError::validation(
            value,
            "description",
            r"Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*",
        ));
    }
    Ok(())
}

/// The role `name` of the caller's account, or `NoSuchEntity`.
pub(crate) async fn load_role(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    name: &RoleName,
) -> Result<Versioned<RoleRecord>, ServiceError> {
    fetch::<RoleRecord>(store, &Key::role(caller.account(), name))
        .await?
        .ok_or_else(|| ServiceError::no_such_entity("role", name.as_str()))
}

/// Authorizes `action` on role `name` (its ARN, or the root-path ARN when
/// it does not exist: AWS authorizes first), then returns the role.
pub(crate) async fn authorize_on_role(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    name: &RoleName,
    extra: &[(&str, &str)],
) -> Result<Versioned<RoleRecord>, ServiceError> {
    let found = fetch::<RoleRecord>(&*iam.store, &Key::role(caller.account(), name)).await?;
    let arn = match &found {
        Some(r) => r.record.arn.clone(),
        None => Arn::iam_role(&iam.partition, caller.account(), &IamPath::root(), name),
    };
    caller.authorize(action, arn.as_str(), extra)?;
    found.ok_or_else(|| ServiceError::no_such_entity("role", name.as_str()))
}

/// `record` with its trust policy rendered for output.
async fn rendered(
    iam: &Iam,
    renderer: &mut Renderer,
    mut record: RoleRecord,
) -> Result<RoleRecord, ServiceError> {
    record.assume_role_policy = renderer
        .render(&*iam.store, &record.assume_role_policy)
        .await?;
    Ok(record)
}

/// CreateRole.
///
/// # Errors
///
/// `AccessDenied`, `ValidationError`, `MalformedPolicyDocument`,
/// `EntityAlreadyExists`, `LimitExceeded`/`InvalidInput` for tags,
/// `NoSuchEntity` for a missing boundary.
pub async fn create_role(
    iam: &Iam,
    caller: &AuthzCaller,
    input: CreateRole,
) -> Result<RoleRecord, ServiceError> {
    let path = input.path.clone().unwrap_or_else(IamPath::root);
    let account = caller.account();
    let arn = Arn::iam_role(&iam.partition, account, &path, &input.name);
    let boundary_text = input.permissions_boundary.as_ref().map(Arn::to_string);
    let extra: Vec<(&str, &str)> = boundary_text
        .iter()
        .map(|b| ("iam:PermissionsBoundary", b.as_str()))
        .collect();
    caller.authorize("iam:CreateRole", arn.as_str(), &extra)?;
    let max_session_duration_secs = max_session(input.max_session_duration)?;
    if let Some(d) = &input.description {
        check_description(d)?;
    }
    check_tags(&input.tags)?;
    let stored = to_stored(&*iam.store, &iam.partition, &input.trust_policy).await?;
    let id = iam.random(|r| UniqueId::generate(UniqueIdPrefix::Role, account, &mut Rng(r)))?;
    let role = RoleRecord {
        account,
        name: input.name.clone(),
        id,
        path,
        arn,
        create_date: Timestamp::now(&*iam.clock),
        assume_role_policy: stored,
        description: input.description.clone(),
        max_session_duration_secs,
        tags: input.tags,
        permissions_boundary: input.permissions_boundary.clone(),
        inline_policies: Default::default(),
        attached_policies: vec![],
    };
    let role_ref = &role;
    commit_with_retry(&*iam.store, move || async move {
        let key = Key::role(account, &role_ref.name);
        if iam.store.get(&key).await?.is_some() {
            return Err(ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!("Role with name {} already exists.", role_ref.name),
            ));
        }
        quota::check::<RoleRecord>(&*iam.store, account, "RolesPerAccount", quota::ROLES).await?;
        let mut txn = Transaction::new();
        txn.require_absent(key);
        let boundary = role_ref.permissions_boundary.as_ref();
        move_boundary(&*iam.store, caller, &mut txn, None, boundary).await?;
        txn.put(role_ref.clone());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    rendered(iam, &mut Renderer::new(), role).await
}

/// GetRole.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn get_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
) -> Result<RoleView, ServiceError> {
    let found = authorize_on_role(iam, caller, "iam:GetRole", &name, &[]).await?;
    let key = Key::role(caller.account(), &name);
    let last_used = iam.store.last_used(&key).await?;
    let role = rendered(iam, &mut Renderer::new(), found.record).await?;
    Ok(RoleView { role, last_used })
}

/// UpdateRole: `Description` and/or `MaxSessionDuration`.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ValidationError`.
pub async fn update_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
    description: Option<String>,
    max_session_duration: Option<i64>,
) -> Result<(), ServiceError> {
    authorize_on_role(iam, caller, "iam:UpdateRole", &name, &[]).await?;
    let max = match max_session_duration {
        Some(v) => Some(max_session(Some(v))?),
        None => None,
    };
    if let Some(d) = &description {
        check_description(d)?;
    }
    edit_role(iam, caller, &name, |r| {
        if let Some(d) = &description {
            r.description = Some(d.clone());
        }
        if let Some(m) = max {
            r.max_session_duration_secs = m;
        }
        Ok(())
    })
    .await
    .map(drop)
}

/// UpdateRoleDescription: returns the updated role.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ValidationError`.
pub async fn update_role_description(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
    description: String,
) -> Result<RoleRecord, ServiceError> {
    authorize_on_role(iam, caller, "iam:UpdateRoleDescription", &name, &[]).await?;
    check_description(&description)?;
    let role = edit_role(iam, caller, &name, |r| {
        r.description = Some(description.clone());
        Ok(())
    })
    .await?;
    rendered(iam, &mut Renderer::new(), role).await
}

/// UpdateAssumeRolePolicy: validates and replaces the trust policy.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `MalformedPolicyDocument`,
/// `LimitExceeded`.
pub async fn update_assume_role_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
    document: &str,
) -> Result<(), ServiceError> {
    authorize_on_role(iam, caller, "iam:UpdateAssumeRolePolicy", &name, &[]).await?;
    let stored = to_stored(&*iam.store, &iam.partition, document).await?;
    edit_role(iam, caller, &name, |r| {
        r.assume_role_policy = stored.clone();
        Ok(())
    })
    .await
    .map(drop)
}

/// DeleteRole: refused with `DeleteConflict` while the role has inline or
/// attached policies.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `DeleteConflict`.
pub async fn delete_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
) -> Result<(), ServiceError> {
    authorize_on_role(iam, caller, "iam:DeleteRole", &name, &[]).await?;
    let name = &name;
    commit_with_retry(&*iam.store, move || async move {
        let role = load_role(&*iam.store, caller, name).await?;
        let r = &role.record;
        if !r.attached_policies.is_empty() {
            return Err(ServiceError::new(
                ErrorCode::DeleteConflict,
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !r.inline_policies.is_empty() {
            return Err(ServiceError::new(
                ErrorCode::DeleteConflict,
                "Cannot delete entity, must delete policies first.",
            ));
        }
        let mut txn = Transaction::new();
        txn.require_unchanged(&role)
            .delete(Key::role(r.account, &r.name));
        let boundary = r.permissions_boundary.as_ref();
        move_boundary(&*iam.store, caller, &mut txn, boundary, None).await?;
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListRoles (trust policies rendered with ARNs).
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_roles(
    iam: &Iam,
    caller: &AuthzCaller,
    paging: &Paging,
) -> Result<Listing<RoleRecord>, ServiceError> {
    let resource = format!("arn:{}:iam::{}:role/*", iam.partition, caller.account());
    caller.authorize("iam:ListRoles", &resource, &[])?;
    let page = list_page::<RoleRecord>(&*iam.store, caller.account(), paging).await?;
    let mut renderer = Renderer::new();
    let mut items = Vec::with_capacity(page.items.len());
    for role in page.items {
        items.push(rendered(iam, &mut renderer, role).await?);
    }
    Ok(Listing {
        items,
        marker: page.marker,
    })
}

/// TagRole: adds or overwrites tags (at most 50 in all).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded`, `InvalidInput`.
pub async fn tag_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
    tags: Vec<Tag>,
) -> Result<(), ServiceError> {
    authorize_on_role(iam, caller, "iam:TagRole", &name, &[]).await?;
    check_tags(&tags)?;
    edit_role(iam, caller, &name, |r| {
        merge_tags(&mut r.tags, tags.clone());
        check_tags(&r.tags)
    })
    .await
    .map(drop)
}

/// UntagRole: removes tags by key (any case); absent keys are ignored.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn untag_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
    keys: Vec<TagKey>,
) -> Result<(), ServiceError> {
    authorize_on_role(iam, caller, "iam:UntagRole", &name, &[]).await?;
    edit_role(iam, caller, &name, |r| {
        r.tags.retain(|t| {
            !keys
                .iter()
                .any(|k| k.as_str().eq_ignore_ascii_case(t.key.as_str()))
        });
        Ok(())
    })
    .await
    .map(drop)
}

/// ListRoleTags (at most 50, so one page).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_role_tags(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
) -> Result<Vec<Tag>, ServiceError> {
    Ok(
        authorize_on_role(iam, caller, "iam:ListRoleTags", &name, &[])
            .await?
            .record
            .tags,
    )
}

/// Applies `edit` to the role in one commit; returns the stored record.
pub(crate) async fn edit_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: &RoleName,
    edit: impl Fn(&mut RoleRecord) -> Result<(), ServiceError>,
) -> Result<RoleRecord, ServiceError> {
    edit_record(iam, || load_role(&*iam.store, caller, name), edit).await
}

#[cfg(test)]
mod tests;
