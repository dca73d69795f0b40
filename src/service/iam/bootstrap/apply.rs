//! Running a bootstrap: read what is stored, plan, run the steps.
//!
//! Owns: [`apply`] and its [`Report`]. Kinds go in dependency order — managed policies,
//! groups, users, roles — and each kind is read from the store after the
//! previous one was applied, so a moved policy or user is seen where it
//! now is. Every step is an IAM operation run as the caller (the
//! account's root), authorized by the evaluator like any request. May
//! import `domain`, `service::authz`, `service::error`, `service::store`
//! and the IAM operations.

use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::bootstrap::BootstrapError;
use crate::service::iam::bootstrap::document::{Desired, Target};
use crate::service::iam::bootstrap::moves::{move_policy, move_role};
use crate::service::iam::bootstrap::plan::{self, Change, Step};
use crate::service::iam::holder::Holder;
use crate::service::iam::policies::{attach, create_policy, versions};
use crate::service::iam::scan::list_all;
use crate::service::iam::trust::Renderer;
use crate::service::iam::users::UpdateUser;
use crate::service::iam::{Iam, boundaries, groups, inline, roles, users};
use crate::service::store::model::{GroupRecord, ManagedPolicyRecord, RoleRecord, UserRecord};

/// What a bootstrap did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Operations run (0 when everything was already as asked).
    pub changes: usize,
    /// What the documents ask for that was left as it is, one line each.
    pub notes: Vec<String>,
}

/// How many times [`apply`] plans again after losing a race.
const MAX_ATTEMPTS: usize = 3;

/// Brings `caller`'s account to what `desired` asks for.
///
/// Replicas that start together with the same documents converge: a step
/// that loses a race to another writer (`EntityAlreadyExists`,
/// `ConcurrentModification`) makes the whole bootstrap read the store and
/// plan again, at most [`MAX_ATTEMPTS`] times in all.
///
/// # Errors
///
/// `Apply` naming the file, entity and field whose change failed (the
/// changes before it stay applied: a corrected document converges on the
/// next start), or `Store` when the store cannot be read.
pub async fn apply(
    iam: &Iam,
    caller: &AuthzCaller,
    desired: &Desired,
) -> Result<Report, BootstrapError> {
    let mut changes = 0;
    let mut attempt = 1;
    loop {
        let mut report = Report {
            changes: 0,
            notes: desired.notes.clone(),
        };
        match apply_once(iam, caller, desired, &mut report).await {
            Ok(()) => {
                report.changes += changes;
                return Ok(report);
            }
            Err(BootstrapError::Apply { error, .. })
                if attempt < MAX_ATTEMPTS
                    && matches!(
                        error.code(),
                        ErrorCode::EntityAlreadyExists | ErrorCode::ConcurrentModification
                    ) =>
            {
                changes += report.changes;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One read-plan-run pass over the four kinds; counts into `report`.
async fn apply_once(
    iam: &Iam,
    caller: &AuthzCaller,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let account = caller.account();
    let target = Target {
        account,
        partition: iam.partition.clone(),
    };
    let store = &*iam.store;

    let current = list_all::<ManagedPolicyRecord>(store, account).await?;
    let steps = plan::policies(&desired.policies, &current, &target, &mut report.notes);
    run_all(iam, caller, steps, &mut report.changes).await?;

    let current = list_all::<GroupRecord>(store, account).await?;
    let steps = plan::groups(&desired.groups, &current);
    run_all(iam, caller, steps, &mut report.changes).await?;

    let current = list_all::<UserRecord>(store, account).await?;
    let steps = plan::users(&desired.users, &current);
    run_all(iam, caller, steps, &mut report.changes).await?;

    let mut current = list_all::<RoleRecord>(store, account).await?;
    let mut renderer = Renderer::new();
    for role in &mut current {
        role.assume_role_policy = renderer.render(store, &role.assume_role_policy).await?;
    }
    let steps = plan::roles(&desired.roles, &current, &target);
    run_all(iam, caller, steps, &mut report.changes).await
}

/// Runs `steps` in order, counting each into `done`.
async fn run_all(
    iam: &Iam,
    caller: &AuthzCaller,
    steps: Vec<Step>,
    done: &mut usize,
) -> Result<(), BootstrapError> {
    for Step {
        source,
        field,
        change,
    } in steps
    {
        if let Err(error) = run(iam, caller, change.clone()).await {
            let field = refused_field(&change, error.code()).map_or(field, str::to_owned);
            return Err(BootstrapError::Apply {
                file: source.file,
                entity: source.entity,
                field,
                error,
            });
        }
        *done += 1;
    }
    Ok(())
}

/// The input a creation refused, by its error: a creation step is filed
/// under the entity's name, but its trust policy, document or boundary is
/// what the error is about.
fn refused_field(change: &Change, code: ErrorCode) -> Option<&'static str> {
    use ErrorCode::{LimitExceeded, MalformedPolicyDocument, NoSuchEntity};
    match (change, code) {
        (Change::CreateRole(_), MalformedPolicyDocument | LimitExceeded) => {
            Some("AssumeRolePolicyDocument")
        }
        (Change::CreatePolicy(_), MalformedPolicyDocument | LimitExceeded) => {
            Some("PolicyVersionList")
        }
        (Change::CreateRole(_) | Change::CreateUser(_), NoSuchEntity) => {
            Some("PermissionsBoundary")
        }
        _ => None,
    }
}

/// Runs one change.
async fn run(iam: &Iam, caller: &AuthzCaller, change: Change) -> Result<(), ServiceError> {
    match change {
        Change::CreatePolicy(input) => create_policy(iam, caller, input).await.map(drop),
        Change::MovePolicy { from, path } => move_policy(iam, caller, &from, path).await,
        Change::SetDefaultVersion { arn, version } => {
            versions::set_default_policy_version(iam, caller, &arn, version).await
        }
        Change::NewDefaultVersion {
            arn,
            document,
            evict,
        } => {
            if let Some(old) = evict {
                versions::delete_policy_version(iam, caller, &arn, old).await?;
            }
            versions::create_policy_version(iam, caller, &arn, document, true)
                .await
                .map(drop)
        }
        Change::CreateGroup { name, path } => groups::create_group(iam, caller, name, Some(path))
            .await
            .map(drop),
        Change::MoveGroup { name, path } => {
            groups::update_group(iam, caller, name, None, Some(path)).await
        }
        Change::CreateUser(input) => users::create_user(iam, caller, input).await.map(drop),
        Change::MoveUser { name, path } => {
            let input = UpdateUser {
                name,
                new_name: None,
                new_path: Some(path),
            };
            users::update_user(iam, caller, input).await
        }
        Change::CreateRole(input) => roles::create_role(iam, caller, input).await.map(drop),
        Change::MoveRole { name, path } => move_role(iam, caller, &name, path).await,
        Change::Trust { name, document } => {
            roles::update_assume_role_policy(iam, caller, name, &document).await
        }
        Change::UpdateRole {
            name,
            description,
            max_session,
        } => {
            let max = max_session.map(i64::from);
            roles::update_role(iam, caller, name, description, max).await
        }
        Change::PutInline {
            holder,
            name,
            document,
        } => inline::put_policy(iam, caller, holder, name, document).await,
        Change::DeleteInline { holder, name } => {
            inline::delete_policy(iam, caller, holder, name).await
        }
        Change::Attach { holder, arn } => attach::attach_policy(iam, caller, holder, arn).await,
        Change::Detach { holder, arn } => attach::detach_policy(iam, caller, holder, arn).await,
        Change::Boundary { holder, arn } => match holder {
            Holder::User(n) => boundaries::set_user_boundary(iam, caller, n, arn).await,
            Holder::Role(n) => boundaries::set_role_boundary(iam, caller, n, arn).await,
            Holder::Group(_) => Err(ServiceError::internal("groups have no boundary")),
        },
        Change::Tag { holder, tags } => match holder {
            Holder::User(n) => users::tag_user(iam, caller, n, tags).await,
            Holder::Role(n) => roles::tag_role(iam, caller, n, tags).await,
            Holder::Group(_) => Err(ServiceError::internal("groups have no tags")),
        },
        Change::Untag { holder, keys } => match holder {
            Holder::User(n) => users::untag_user(iam, caller, n, keys).await,
            Holder::Role(n) => roles::untag_role(iam, caller, n, keys).await,
            Holder::Group(_) => Err(ServiceError::internal("groups have no tags")),
        },
        Change::Join { group, user } => groups::add_user_to_group(iam, caller, group, user).await,
        Change::Leave { group, user } => {
            groups::remove_user_from_group(iam, caller, group, user).await
        }
    }
}
