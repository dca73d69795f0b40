//! Who is asking, and the `Principal` element that names them.
//!
//! Owns: the evaluator's view of the caller ([`Principal`]) and matching of
//! `Principal`/`NotPrincipal` entries against it, with the strength of the
//! match that decides how a resource-policy allow combines with identity
//! policies (reference 6.2 step 4 and the table of 6.4). Pure.

use super::arn;
use super::error::PolicyError;
use super::model::PrincipalType;

/// The kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The root identity of an account.
    Root,
    /// An IAM user (long-term keys or its `GetSessionToken` session).
    User,
    /// A role session (any `AssumeRole*`).
    AssumedRole,
    /// A `GetFederationToken` session.
    FederatedUser,
    /// A caller of `AssumeRoleWithWebIdentity`, before the session exists.
    WebIdentity,
    /// A caller of `AssumeRoleWithSAML`, before the session exists.
    Saml,
    /// A service principal (`ec2.amazonaws.com`).
    Service,
    /// An unauthenticated caller.
    Anonymous,
}

/// The caller as the evaluator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The kind of caller.
    pub kind: PrincipalKind,
    /// The caller's own ARN: user, root, session or federated-user ARN
    /// (empty for web-identity, SAML, service and anonymous callers).
    pub arn: String,
    /// The caller's account (12 digits), when it has one.
    pub account: Option<String>,
    /// The unique ID: the user's `AIDA…`, or the role's `AROA…` for a session.
    pub id: Option<String>,
    /// The role ARN of a session, or the IAM user ARN behind a federated user.
    pub parent_arn: Option<String>,
    /// The identity provider of a web-identity or SAML caller (provider ARN,
    /// or a built-in name such as `accounts.google.com`).
    pub provider: Option<String>,
    /// The service name of a service principal.
    pub service: Option<String>,
}

// === impl Principal ===

impl Principal {
    fn base(kind: PrincipalKind, arn: String, account: Option<String>) -> Self {
        Self {
            kind,
            arn,
            account,
            id: None,
            parent_arn: None,
            provider: None,
            service: None,
        }
    }

    /// The root identity of `account` in `partition`.
    pub fn root(partition: &str, account: &str) -> Self {
        let arn = format!("arn:{partition}:iam::{account}:root");
        Self::base(PrincipalKind::Root, arn, Some(account.to_owned()))
    }

    /// An IAM user.
    pub fn user(arn: &str, id: Option<&str>) -> Self {
        let mut p = Self::base(PrincipalKind::User, arn.to_owned(), account_of(arn));
        p.id = id.map(str::to_owned);
        p
    }

    /// A role session: its session ARN, the role's ARN and unique ID.
    pub fn assumed_role(session_arn: &str, role_arn: &str, role_id: Option<&str>) -> Self {
        let mut p = Self::base(
            PrincipalKind::AssumedRole,
            session_arn.to_owned(),
            account_of(session_arn),
        );
        p.parent_arn = Some(role_arn.to_owned());
        p.id = role_id.map(str::to_owned);
        p
    }

    /// A federated-user session and the IAM user that created it.
    pub fn federated_user(arn: &str, user_arn: &str) -> Self {
        let mut p = Self::base(
            PrincipalKind::FederatedUser,
            arn.to_owned(),
            account_of(arn),
        );
        p.parent_arn = Some(user_arn.to_owned());
        p
    }

    /// A web-identity (OIDC) or SAML caller through `provider`.
    pub fn federated(kind: PrincipalKind, provider: &str, account: Option<&str>) -> Self {
        let mut p = Self::base(kind, String::new(), account.map(str::to_owned));
        p.provider = Some(provider.to_owned());
        p
    }

    /// A service principal.
    pub fn service(name: &str) -> Self {
        let mut p = Self::base(PrincipalKind::Service, String::new(), None);
        p.service = Some(name.to_owned());
        p
    }

    /// An anonymous caller.
    pub fn anonymous() -> Self {
        Self::base(PrincipalKind::Anonymous, String::new(), None)
    }

    /// True for callers that have identity policies of their own.
    pub fn has_identity_side(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::Root
                | PrincipalKind::User
                | PrincipalKind::AssumedRole
                | PrincipalKind::FederatedUser
        )
    }
}

fn account_of(arn: &str) -> Option<String> {
    arn::split(arn)
        .map(|f| f[4].to_owned())
        .filter(|a| !a.is_empty())
}

/// How directly a `Principal` entry names the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    /// The caller's account: delegation only; identity policies must allow too.
    Account,
    /// The caller's role (for a session) or creating user (for a federated
    /// user): replaces the identity-policy requirement, but boundaries and
    /// session policies still apply.
    Parent,
    /// The caller itself (or `*`): grants even where identity policies,
    /// boundaries and session policies are silent.
    Direct,
}

/// One compiled principal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Everyone,
    Account(Box<str>),
    User(Box<str>),
    Role(Box<str>),
    Session(Box<str>),
    FederatedUser(Box<str>),
    UniqueId(Box<str>),
    Provider(Box<str>),
    Service(Box<str>),
    Canonical(Box<str>),
}

// === impl Entry ===

impl Entry {
    /// Compiles one value of a principal entry of type `ty`.
    pub(crate) fn compile(ty: PrincipalType, v: &str) -> Result<Self, PolicyError> {
        let invalid = |why: &str| {
            PolicyError::invalid(format!(
                "invalid principal \"{}\":\"{v}\": {why}",
                ty.as_str()
            ))
        };
        if v.is_empty() {
            return Err(invalid("it is empty"));
        }
        if ty == PrincipalType::Aws && v == "*" {
            return Ok(Self::Everyone);
        }
        if v.contains(['*', '?']) {
            return Err(invalid("principals may not contain wildcards"));
        }
        Ok(match ty {
            PrincipalType::Aws => Self::compile_aws(v).ok_or_else(|| {
                invalid("expected \"*\", an account ID, or a user, role, root or session ARN")
            })?,
            PrincipalType::Federated => {
                if v.starts_with("arn:") {
                    let res = arn::split(v).map(|f| f[5]).unwrap_or_default();
                    if !(res.starts_with("saml-provider/") || res.starts_with("oidc-provider/")) {
                        return Err(invalid("expected a SAML or OIDC provider ARN"));
                    }
                }
                Self::Provider(v.into())
            }
            PrincipalType::Service => Self::Service(v.into()),
            PrincipalType::CanonicalUser => Self::Canonical(v.into()),
        })
    }

    fn compile_aws(v: &str) -> Option<Self> {
        if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Self::Account(v.into()));
        }
        if !v.starts_with("arn:") {
            let unique = v.len() >= 16
                && v.len() <= 128
                && v.starts_with('A')
                && v.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            return unique.then(|| Self::UniqueId(v.into()));
        }
        let [_, partition, service, _, account, res] = arn::split(v)?;
        if partition.is_empty() || account.len() != 12 {
            return None;
        }
        let name_after = |prefix: &str| res.strip_prefix(prefix).filter(|n| !n.is_empty());
        match service {
            "iam" if res == "root" => Some(Self::Account(account.into())),
            "iam" if name_after("user/").is_some() => Some(Self::User(v.into())),
            "iam" if name_after("role/").is_some() => Some(Self::Role(v.into())),
            "sts" if name_after("assumed-role/").is_some_and(|r| r.split('/').count() == 2) => {
                Some(Self::Session(v.into()))
            }
            "sts" if name_after("federated-user/").is_some() => Some(Self::FederatedUser(v.into())),
            _ => None,
        }
    }

    /// How this entry names `p`, if it does.
    pub(crate) fn strength(&self, p: &Principal) -> Option<Strength> {
        use PrincipalKind as K;
        let parent = p.parent_arn.as_deref();
        match self {
            Self::Everyone => Some(Strength::Direct),
            // The account principal is the root identity itself, and only
            // delegates to the account's other principals.
            Self::Account(a) if p.has_identity_side() && p.account.as_deref() == Some(&**a) => {
                Some(if p.kind == K::Root {
                    Strength::Direct
                } else {
                    Strength::Account
                })
            }
            Self::Account(_) => None,
            Self::User(u) => match p.kind {
                K::User if p.arn == **u => Some(Strength::Direct),
                K::FederatedUser if parent == Some(&**u) => Some(Strength::Parent),
                _ => None,
            },
            Self::Role(r) => {
                (p.kind == K::AssumedRole && parent == Some(&**r)).then_some(Strength::Parent)
            }
            Self::Session(s) => {
                (p.kind == K::AssumedRole && p.arn == **s).then_some(Strength::Direct)
            }
            Self::FederatedUser(f) => {
                (p.kind == K::FederatedUser && p.arn == **f).then_some(Strength::Direct)
            }
            Self::UniqueId(id) => match p.kind {
                _ if p.id.as_deref() != Some(&**id) => None,
                K::User => Some(Strength::Direct),
                K::AssumedRole => Some(Strength::Parent),
                _ => None,
            },
            Self::Provider(prov) => (matches!(p.kind, K::WebIdentity | K::Saml)
                && p.provider.as_deref() == Some(&**prov))
            .then_some(Strength::Direct),
            Self::Service(s) => (p.kind == K::Service && p.service.as_deref() == Some(&**s))
                .then_some(Strength::Direct),
            Self::Canonical(_) => None,
        }
    }
}

/// A compiled `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone)]
pub(crate) struct PrincipalMatcher {
    pub(crate) negated: bool,
    pub(crate) entries: Vec<Entry>,
}

// === impl PrincipalMatcher ===

impl PrincipalMatcher {
    /// How the statement's principal element applies to `p`, if at all.
    ///
    /// `NotPrincipal` excludes the caller only when it is named directly; a
    /// statement that applies through `NotPrincipal` counts as a direct grant.
    pub(crate) fn strength(&self, p: &Principal) -> Option<Strength> {
        let best = self.entries.iter().filter_map(|e| e.strength(p)).max();
        if self.negated {
            (best != Some(Strength::Direct)).then_some(Strength::Direct)
        } else {
            best
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strengths() {
        let role = "arn:aws:iam::111122223333:role/team/Dev";
        let s = Principal::assumed_role(
            "arn:aws:sts::111122223333:assumed-role/Dev/s1",
            role,
            Some("AROAEXAMPLEDEVROLE01"),
        );
        let e = |v: &str| Entry::compile(PrincipalType::Aws, v).unwrap().strength(&s);
        assert_eq!(e("*"), Some(Strength::Direct));
        assert_eq!(e("111122223333"), Some(Strength::Account));
        assert_eq!(e("arn:aws:iam::111122223333:root"), Some(Strength::Account));
        assert_eq!(e(role), Some(Strength::Parent));
        assert_eq!(e("AROAEXAMPLEDEVROLE01"), Some(Strength::Parent));
        assert_eq!(
            e("arn:aws:sts::111122223333:assumed-role/Dev/s1"),
            Some(Strength::Direct)
        );
        assert_eq!(e("arn:aws:sts::111122223333:assumed-role/Dev/s2"), None);
        assert_eq!(e("444455556666"), None);
    }

    #[test]
    fn rejects_bad_principals() {
        for v in [
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:s3:::bucket",
            "alice",
            "12345",
        ] {
            assert!(Entry::compile(PrincipalType::Aws, v).is_err(), "{v}");
        }
        assert!(Entry::compile(PrincipalType::Federated, "arn:aws:iam::1:role/x").is_err());
    }
}
