//! The changes a bootstrap plan is made of.
//!
//! Owns: [`Change`], one IAM operation (or one of the two moves of
//! `bootstrap::moves`) with its inputs, as `bootstrap::apply` runs it.
//! Pure data.

use crate::domain::ids::{Arn, GroupName, IamPath, PolicyName, RoleName, TagKey, UserName};
use crate::service::iam::holder::Holder;
use crate::service::iam::policies::CreatePolicy;
use crate::service::iam::roles::CreateRole;
use crate::service::iam::users::CreateUser;
use crate::service::store::Tag;
use crate::service::store::model::PolicyVersionId;

/// One IAM operation, run as the account's root.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// CreatePolicy.
    CreatePolicy(CreatePolicy),
    /// Moves a managed policy to another path (its ARN and every reference
    /// to it follow; not an IAM action).
    MovePolicy {
        /// The current ARN.
        from: Arn,
        /// The new path.
        path: IamPath,
    },
    /// SetDefaultPolicyVersion to a stored version.
    SetDefaultVersion {
        /// The policy.
        arn: Arn,
        /// The version that has the document.
        version: PolicyVersionId,
    },
    /// CreatePolicyVersion as default, after DeletePolicyVersion of
    /// `evict` when five versions are stored.
    NewDefaultVersion {
        /// The policy.
        arn: Arn,
        /// The document.
        document: String,
        /// The oldest non-default version, to make room.
        evict: Option<PolicyVersionId>,
    },
    /// CreateGroup.
    CreateGroup {
        /// `GroupName`.
        name: GroupName,
        /// `Path`.
        path: IamPath,
    },
    /// UpdateGroup with `NewPath`.
    MoveGroup {
        /// `GroupName`.
        name: GroupName,
        /// `NewPath`.
        path: IamPath,
    },
    /// CreateUser.
    CreateUser(CreateUser),
    /// UpdateUser with `NewPath`.
    MoveUser {
        /// `UserName`.
        name: UserName,
        /// `NewPath`.
        path: IamPath,
    },
    /// CreateRole.
    CreateRole(CreateRole),
    /// Moves a role to another path (not an IAM action; its unique ID, so
    /// the trust policies naming it, stay).
    MoveRole {
        /// `RoleName`.
        name: RoleName,
        /// The new path.
        path: IamPath,
    },
    /// UpdateAssumeRolePolicy.
    Trust {
        /// `RoleName`.
        name: RoleName,
        /// `PolicyDocument`.
        document: String,
    },
    /// UpdateRole.
    UpdateRole {
        /// `RoleName`.
        name: RoleName,
        /// `Description`, when it changes.
        description: Option<String>,
        /// `MaxSessionDuration`, when it changes.
        max_session: Option<u32>,
    },
    /// Put{User,Group,Role}Policy.
    PutInline {
        /// The entity.
        holder: Holder,
        /// `PolicyName`.
        name: PolicyName,
        /// `PolicyDocument`.
        document: String,
    },
    /// Delete{User,Group,Role}Policy.
    DeleteInline {
        /// The entity.
        holder: Holder,
        /// `PolicyName`.
        name: PolicyName,
    },
    /// Attach{User,Group,Role}Policy.
    Attach {
        /// The entity.
        holder: Holder,
        /// `PolicyArn`.
        arn: Arn,
    },
    /// Detach{User,Group,Role}Policy.
    Detach {
        /// The entity.
        holder: Holder,
        /// `PolicyArn`.
        arn: Arn,
    },
    /// Put/Delete{User,Role}PermissionsBoundary.
    Boundary {
        /// The user or role.
        holder: Holder,
        /// The new boundary; `None` deletes it.
        arn: Option<Arn>,
    },
    /// Tag{User,Role}.
    Tag {
        /// The user or role.
        holder: Holder,
        /// The tags to add or overwrite.
        tags: Vec<Tag>,
    },
    /// Untag{User,Role}.
    Untag {
        /// The user or role.
        holder: Holder,
        /// The keys to remove.
        keys: Vec<TagKey>,
    },
    /// AddUserToGroup.
    Join {
        /// `GroupName`.
        group: GroupName,
        /// `UserName`.
        user: UserName,
    },
    /// RemoveUserFromGroup.
    Leave {
        /// `GroupName`.
        group: GroupName,
        /// `UserName`.
        user: UserName,
    },
}
