//! Moving a role or a managed policy to another path.
//!
//! Owns: [`move_role`] and [`move_policy`]. IAM has no action for either
//! (a role's or policy's path is fixed at creation), but a bootstrap
//! document may change one, and deleting and recreating would issue a
//! new unique ID (breaking trust policies that name a role) and need every
//! attachment removed first. So bootstrap moves them in place: a role
//! keeps its unique ID and only its ARN changes; a policy's ARN changes
//! and every user, group and role that attaches it or uses it as a
//! boundary is re-pointed in the same commit. Authorized as
//! `iam:UpdateRole` on both role ARNs, and as `iam:DeletePolicy` on the
//! old and `iam:CreatePolicy` on the new policy ARN. May import `domain`,
//! `service::authz`, `service::error`, `service::store`.

use crate::domain::ids::{Arn, IamPath, RoleName};
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::iam::Iam;
use crate::service::iam::holder::attached_mut;
use crate::service::iam::policies::{authorize_on_policy, load_policy};
use crate::service::iam::roles::{authorize_on_role, edit_role};
use crate::service::store::{Kind, ListQuery, MAX_PAGE, Record, Transaction, commit_with_retry};

/// Moves role `name` to `path`.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn move_role(
    iam: &Iam,
    caller: &AuthzCaller,
    name: &RoleName,
    path: IamPath,
) -> Result<(), ServiceError> {
    let role = authorize_on_role(iam, caller, "iam:UpdateRole", name, &[]).await?;
    let arn = Arn::iam_role(&iam.partition, caller.account(), &path, &role.record.name);
    caller.authorize("iam:UpdateRole", arn.as_str(), &[])?;
    edit_role(iam, caller, name, |r| {
        r.path = path.clone();
        r.arn = arn.clone();
        Ok(())
    })
    .await
    .map(drop)
}

/// Moves the managed policy `from` to `path`, re-pointing its attachments
/// and boundary uses.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ConcurrentModification`.
pub async fn move_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    from: &Arn,
    path: IamPath,
) -> Result<(), ServiceError> {
    let policy = authorize_on_policy(iam, caller, "iam:DeletePolicy", from).await?;
    let to = Arn::iam_policy(&iam.partition, caller.account(), &path, &policy.record.name);
    caller.authorize("iam:CreatePolicy", to.as_str(), &[])?;
    let (path, to) = (&path, &to);
    commit_with_retry(&*iam.store, move || async move {
        // Attaching or detaching changes the policy's counts, so pinning
        // the policy pins the set of entities that reference it.
        let policy = load_policy(&*iam.store, caller, from).await?;
        let mut moved = policy.record.clone();
        moved.path = path.clone();
        moved.arn = to.clone();
        let mut txn = Transaction::new();
        txn.require_unchanged(&policy).put(moved);
        for kind in [Kind::User, Kind::Group, Kind::Role] {
            let mut after = None;
            loop {
                let query = ListQuery {
                    after,
                    limit: MAX_PAGE,
                    path_prefix: None,
                };
                let page = iam.store.list(caller.account(), kind, &query).await?;
                for v in page.items {
                    let mut record = v.record;
                    if repoint(&mut record, from, to) {
                        txn.require_revision(record.key(), v.revision).put(record);
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// Replaces `from` by `to` among `record`'s attached policies and as its
/// boundary; whether anything changed.
fn repoint(record: &mut Record, from: &Arn, to: &Arn) -> bool {
    let mut changed = false;
    if let Some(list) = attached_mut(record) {
        for arn in list.iter_mut().filter(|a| *a == from) {
            *arn = to.clone();
            changed = true;
        }
    }
    let boundary = match record {
        Record::User(u) => Some(&mut u.permissions_boundary),
        Record::Role(r) => Some(&mut r.permissions_boundary),
        _ => None,
    };
    if let Some(b) = boundary
        && b.as_ref() == Some(from)
    {
        *b = Some(to.clone());
        changed = true;
    }
    changed
}
