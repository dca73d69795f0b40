//! GetAccountAuthorizationDetails: a snapshot of the account's users,
//! groups, roles and customer managed policies with everything they hold.
//!
//! Owns: the `Filter` ([`EntityType`]), paging across the four lists as
//! one sequence — users, then groups, then roles, then policies, each in
//! name order — with a marker that names the last entity returned (its
//! list and normalized name), so entities created or deleted between two
//! pages neither repeat nor shift the rest; and loading what each entity
//! shows (roles' trust policies rendered with ARNs, their last use).
//!
//! stsd holds no AWS managed policies, so `AWSManagedPolicy` selects
//! nothing: a filter of only that returns four empty lists.
//!
//! May import `domain`, `service::authz`, `service::error`,
//! `service::store`. Spec: botocore's IAM model
//! (`GetAccountAuthorizationDetails`), reference section 12.

use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::roles::RoleView;
use crate::service::iam::trust::Renderer;
use crate::service::iam::{Iam, Paging};
use crate::service::store::model::{GroupRecord, ManagedPolicyRecord, RoleRecord, UserRecord};
use crate::service::store::{Entity, Kind, ListQuery, MAX_PAGE, Record};

/// A member of `Filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// `User`.
    User,
    /// `Group`.
    Group,
    /// `Role`.
    Role,
    /// `LocalManagedPolicy`: the account's customer managed policies.
    LocalManagedPolicy,
    /// `AWSManagedPolicy`: none in stsd.
    AwsManagedPolicy,
}

/// One page of the snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountDetails {
    /// `UserDetailList`.
    pub users: Vec<UserRecord>,
    /// `GroupDetailList`.
    pub groups: Vec<GroupRecord>,
    /// `RoleDetailList`, trust policies rendered with ARNs.
    pub roles: Vec<RoleView>,
    /// `Policies`, every stored version included.
    pub policies: Vec<ManagedPolicyRecord>,
    /// `Marker` of the next page; `Some` exactly when `IsTruncated`.
    pub marker: Option<String>,
}

/// The four lists, in paging order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Users,
    Groups,
    Roles,
    Policies,
}

// === impl EntityType ===

impl EntityType {
    /// Every value, as the wire spells them.
    pub const NAMES: [(&'static str, Self); 5] = [
        ("User", Self::User),
        ("Group", Self::Group),
        ("Role", Self::Role),
        ("LocalManagedPolicy", Self::LocalManagedPolicy),
        ("AWSManagedPolicy", Self::AwsManagedPolicy),
    ];

    /// The value spelled `name`, exactly.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }
}

// === impl Section ===

impl Section {
    const ALL: [Self; 4] = [Self::Users, Self::Groups, Self::Roles, Self::Policies];

    fn kind(self) -> Kind {
        match self {
            Self::Users => Kind::User,
            Self::Groups => Kind::Group,
            Self::Roles => Kind::Role,
            Self::Policies => Kind::ManagedPolicy,
        }
    }

    /// The marker's first character.
    fn tag(self) -> char {
        match self {
            Self::Users => 'u',
            Self::Groups => 'g',
            Self::Roles => 'r',
            Self::Policies => 'p',
        }
    }

    fn from_tag(tag: char) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.tag() == tag)
    }

    /// Whether `filter` (empty: everything) selects this list.
    fn selected(self, filter: &[EntityType]) -> bool {
        filter.is_empty()
            || filter.iter().any(|t| {
                matches!(
                    (self, t),
                    (Self::Users, EntityType::User)
                        | (Self::Groups, EntityType::Group)
                        | (Self::Roles, EntityType::Role)
                        | (Self::Policies, EntityType::LocalManagedPolicy)
                )
            })
    }
}

/// The marker after the entity of `section` whose normalized name is
/// `name`: the section's tag, `/`, the name.
fn marker_of(section: Section, name: &str) -> String {
    format!("{}/{name}", section.tag())
}

/// The section and name a marker names.
fn parse_marker(marker: &str) -> Result<(Section, &str), ServiceError> {
    let mut chars = marker.chars();
    let section = chars.next().and_then(Section::from_tag);
    match (section, chars.as_str().strip_prefix('/')) {
        (Some(section), Some(name)) => Ok((section, name)),
        _ => Err(ServiceError::new(
            ErrorCode::InvalidInput,
            "Invalid Marker: it must be a Marker returned by a previous call.",
        )),
    }
}

/// GetAccountAuthorizationDetails: one page of at most `MaxItems`
/// (default 100) entities across the selected lists.
///
/// # Errors
///
/// `AccessDenied`, `InvalidInput` for a marker stsd did not issue, or the
/// store's failure.
pub async fn get_account_authorization_details(
    iam: &Iam,
    caller: &AuthzCaller,
    filter: &[EntityType],
    paging: &Paging,
) -> Result<AccountDetails, ServiceError> {
    caller.authorize("iam:GetAccountAuthorizationDetails", "*", &[])?;
    let limit = paging.query().clamped_limit();
    let start = paging.marker.as_deref().map(parse_marker).transpose()?;
    let mut found: Vec<(Section, Record, String)> = Vec::new();
    'sections: for section in Section::ALL {
        if !section.selected(filter) || start.is_some_and(|(s, _)| section < s) {
            continue;
        }
        let mut after = start
            .filter(|(s, _)| *s == section)
            .map(|(_, name)| name.to_owned());
        loop {
            // One more than a page tells whether anything follows it.
            let wanted = (limit + 1).saturating_sub(found.len()).min(MAX_PAGE);
            let query = ListQuery {
                after: after.take(),
                limit: wanted,
                path_prefix: None,
            };
            let page = iam
                .store
                .list(caller.account(), section.kind(), &query)
                .await?;
            for v in page.items {
                let name = v.record.key().name().to_owned();
                found.push((section, v.record, name));
            }
            if found.len() > limit {
                break 'sections;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    let marker = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|(s, _, name)| marker_of(*s, name))
    } else {
        None
    };
    let mut details = AccountDetails {
        marker,
        ..AccountDetails::default()
    };
    let mut renderer = Renderer::new();
    for (_, record, _) in found {
        push(iam, &mut renderer, &mut details, record).await?;
    }
    Ok(details)
}

/// Adds `record` to its list, as GetAccountAuthorizationDetails shows it.
async fn push(
    iam: &Iam,
    renderer: &mut Renderer,
    details: &mut AccountDetails,
    record: Record,
) -> Result<(), ServiceError> {
    match record {
        Record::User(u) => details.users.push(u),
        Record::Group(g) => details.groups.push(g),
        Record::Role(r) => details.roles.push(role_view(iam, renderer, r).await?),
        Record::ManagedPolicy(mut p) => {
            p.versions.sort_by_key(|v| std::cmp::Reverse(v.version_id));
            details.policies.push(p);
        }
        other => {
            return Err(ServiceError::internal(format!(
                "a {} record was listed among identities",
                other.kind()
            )));
        }
    }
    Ok(())
}

/// `role` with its trust policy rendered and its last use.
async fn role_view(
    iam: &Iam,
    renderer: &mut Renderer,
    mut role: RoleRecord,
) -> Result<RoleView, ServiceError> {
    let last_used = iam.store.last_used(&role.key()).await?;
    role.assume_role_policy = renderer
        .render(&*iam.store, &role.assume_role_policy)
        .await?;
    Ok(RoleView { role, last_used })
}

#[cfg(test)]
mod tests;
