//! Classifying an ARN as an IAM or STS principal.
//!
//! Owns: [`PrincipalKind`] and [`Arn::principal_kind`], the inverse of the
//! principal constructors on [`Arn`]. Pure.

use super::AccountId;
use super::arn::Arn;
use super::iam_name::{IamPath, RoleName, UserName};
use super::sts_param::{FederatedUserName, RoleSessionName};

/// What kind of principal an ARN names.
///
/// Only ARNs in a 12-digit account with an empty region are principals;
/// the names are validated, so a `role/` ARN whose name breaks the IAM
/// pattern is [`PrincipalKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// `arn:aws:iam::111122223333:root`.
    Root,
    /// `arn:aws:iam::111122223333:user/path/Name`.
    User {
        /// The user's path (`/` when none).
        path: IamPath,
        /// The user's name.
        name: UserName,
    },
    /// `arn:aws:iam::111122223333:role/path/Name`.
    Role {
        /// The role's path (`/` when none).
        path: IamPath,
        /// The role's name.
        name: RoleName,
    },
    /// `arn:aws:sts::111122223333:assumed-role/RoleName/Session`.
    AssumedRole {
        /// The assumed role's name (its path is not in the ARN).
        role_name: RoleName,
        /// The session name given when the role was assumed.
        session: RoleSessionName,
    },
    /// `arn:aws:sts::111122223333:federated-user/Name`.
    FederatedUser {
        /// The name given to GetFederationToken.
        name: FederatedUserName,
    },
    /// Any other ARN: a resource, a group, a provider, or a malformed principal.
    Other,
}

// === impl Arn (principal kind) ===

impl Arn {
    /// Classifies this ARN; see [`PrincipalKind`].
    pub fn principal_kind(&self) -> PrincipalKind {
        self.classify().unwrap_or(PrincipalKind::Other)
    }

    fn classify(&self) -> Option<PrincipalKind> {
        // One split of the ARN for all four fields.
        let fields = self.fields();
        if !fields.region.is_empty() {
            return None;
        }
        fields.account.parse::<AccountId>().ok()?;
        let resource = fields.resource;
        match fields.service {
            "iam" if resource == "root" => Some(PrincipalKind::Root),
            "iam" => {
                if let Some(rest) = resource.strip_prefix("user/") {
                    let (path, name) = split_path(rest)?;
                    Some(PrincipalKind::User {
                        path,
                        name: name.parse().ok()?,
                    })
                } else {
                    let rest = resource.strip_prefix("role/")?;
                    let (path, name) = split_path(rest)?;
                    Some(PrincipalKind::Role {
                        path,
                        name: name.parse().ok()?,
                    })
                }
            }
            "sts" => {
                if let Some(rest) = resource.strip_prefix("assumed-role/") {
                    let (role_name, session) = rest.split_once('/')?;
                    Some(PrincipalKind::AssumedRole {
                        role_name: role_name.parse().ok()?,
                        session: session.parse().ok()?,
                    })
                } else {
                    let name = resource.strip_prefix("federated-user/")?;
                    Some(PrincipalKind::FederatedUser {
                        name: name.parse().ok()?,
                    })
                }
            }
            _ => None,
        }
    }
}

/// Splits `division/team/Name` into the path `/division/team/` and `Name`.
fn split_path(rest: &str) -> Option<(IamPath, &str)> {
    match rest.rsplit_once('/') {
        None => Some((IamPath::root(), rest)),
        Some((dirs, name)) => Some((format!("/{dirs}/").parse().ok()?, name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> PrincipalKind {
        s.parse::<Arn>().unwrap().principal_kind()
    }

    #[test]
    fn iam_principals() {
        assert_eq!(kind("arn:aws:iam::111122223333:root"), PrincipalKind::Root);
        assert_eq!(
            kind("arn:aws:iam::111122223333:user/eng/alice"),
            PrincipalKind::User {
                path: "/eng/".parse().unwrap(),
                name: "alice".parse().unwrap()
            }
        );
        assert_eq!(
            kind("arn:aws-cn:iam::111122223333:role/Deploy"),
            PrincipalKind::Role {
                path: IamPath::root(),
                name: "Deploy".parse().unwrap()
            }
        );
    }

    #[test]
    fn sts_principals() {
        assert_eq!(
            kind("arn:aws:sts::111122223333:assumed-role/Deploy/i-0123456789abcdef0"),
            PrincipalKind::AssumedRole {
                role_name: "Deploy".parse().unwrap(),
                session: "i-0123456789abcdef0".parse().unwrap(),
            }
        );
        assert_eq!(
            kind("arn:aws:sts::111122223333:federated-user/bob"),
            PrincipalKind::FederatedUser {
                name: "bob".parse().unwrap()
            }
        );
    }

    #[test]
    fn everything_else_is_other() {
        for other in [
            "arn:aws:iam::111122223333:group/Admins",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::111122223333:saml-provider/Okta",
            "arn:aws:iam:us-east-1:111122223333:root",
            "arn:aws:iam::111122223333:user/",
            "arn:aws:iam::111122223333:user//alice",
            "arn:aws:iam::111122223333:role/bad name",
            "arn:aws:sts::111122223333:assumed-role/Deploy",
            "arn:aws:sts::111122223333:assumed-role/Deploy/a/b",
            "arn:aws:sts::111122223333:federated-user/b",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::111122223333:rootx",
        ] {
            assert_eq!(kind(other), PrincipalKind::Other, "{other}");
        }
    }
}
