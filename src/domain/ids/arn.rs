//! Amazon Resource Names.
//!
//! Owns: [`Arn`], parsed from `arn:partition:service:region:account-id:resource`
//! by splitting on the first five colons (the resource may itself contain
//! `:` and `/`, reference 5.3), and the constructors of the IAM and STS
//! principal ARNs the broker mints. Matching ARN *patterns* (with `*`) is
//! `domain::policy`'s business, not this module's. Pure.

use super::account::{AccountId, Partition};
use super::error::{Constraint, IdError};
use super::iam_name::{GroupName, IamPath, MfaDeviceName, PolicyName, RoleName, UserName};
use super::provider::{OidcProviderUrl, SamlProviderName};
use super::spec::string_newtype;
use super::sts_param::{FederatedUserName, RoleSessionName};

/// The `arnType` character class, quoted from the STS model.
const ARN_PATTERN: &str =
    r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+";

/// The `arnType` bounds. `MIN_PARAM_LEN` applies to request parameters only
/// (see [`Arn::from_param`]); short resource ARNs such as `arn:aws:s3:::b`
/// are still ARNs.
const MIN_PARAM_LEN: usize = 20;
const MAX_LEN: usize = 2048;

/// What a structurally broken ARN should have been.
const EXPECTED: &str = "an ARN of the form arn:partition:service:region:account-id:resource";

/// One character of the `arnType` class (surrogates cannot occur in `char`).
fn is_arn_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}')
        || (c >= '\u{a0}' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// `[a-z0-9-]+`: partition, service and region fields.
fn is_lower_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Splits at the first five colons: `[arn, partition, service, region, account, resource]`.
///
/// A byte scan: ARNs are split several times per request (principal
/// kinds, accounts), and `str::splitn`'s searcher cost about four times
/// as many instructions (callgrind, BENCHMARKS.md).
fn split(value: &str) -> Option<[&str; 6]> {
    let mut fields = [""; 6];
    let mut rest = value;
    for field in fields.iter_mut().take(5) {
        let at = rest.bytes().position(|b| b == b':')?;
        let (head, tail) = rest.split_at_checked(at)?;
        *field = head;
        rest = tail.get(1..)?;
    }
    *fields.last_mut()? = rest;
    Some(fields)
}

/// Checks the model constraints, then the six-field structure.
fn check_arn(value: &str) -> Result<(), IdError> {
    let mut broken = Vec::new();
    if value.is_empty() || !value.chars().all(is_arn_char) {
        broken.push(Constraint::Pattern(ARN_PATTERN));
    }
    if value.chars().count() > MAX_LEN {
        broken.push(Constraint::MaxLength(MAX_LEN));
    }
    if !broken.is_empty() {
        return Err(IdError::Constraint {
            member: "arn".into(),
            value: value.to_owned(),
            broken,
        });
    }
    let well_formed =
        split(value).is_some_and(|[arn, partition, service, region, account, resource]| {
            arn == "arn"
                && is_lower_token(partition)
                && is_lower_token(service)
                && (region.is_empty() || is_lower_token(region))
                && (account.is_empty() || account == "aws" || account.parse::<AccountId>().is_ok())
                && !resource.is_empty()
        });
    if well_formed {
        Ok(())
    } else {
        Err(IdError::Format {
            member: "arn".into(),
            value: value.to_owned(),
            expected: EXPECTED,
        })
    }
}

string_newtype! {
    /// An ARN: `arn:partition:service:region:account-id:resource`.
    ///
    /// Partition, service and region are `[a-z0-9-]` (region may be empty,
    /// as in IAM ARNs); the account is empty, `aws` (AWS-managed policies)
    /// or 12 digits; the resource is non-empty and may contain `:` and `/`.
    /// The whole is at most 2048 characters of the model's printable class.
    /// Equality is exact, as ARN matching is case-sensitive.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct Arn;
    check = check_arn;
}

/// The five fields after `arn:`, borrowed from a valid ARN.
pub(super) struct Fields<'a> {
    pub(super) partition: &'a str,
    pub(super) service: &'a str,
    pub(super) region: &'a str,
    pub(super) account: &'a str,
    pub(super) resource: &'a str,
}

// === impl Arn ===

impl Arn {
    /// Parses an STS `arnType` request parameter (`RoleArn`,
    /// `PrincipalArn`, `PolicyArns.member.N.arn`): like `FromStr`, plus the
    /// model's minimum of 20 characters.
    ///
    /// # Errors
    ///
    /// As `FromStr`, with `MinLength(20)` added when the value is shorter
    /// (a short value reports only its constraint breaks, as AWS would).
    pub fn from_param(value: &str) -> Result<Self, IdError> {
        let short = value.chars().count() < MIN_PARAM_LEN;
        match value.parse::<Self>() {
            Ok(_) | Err(IdError::Format { .. }) if short => Err(IdError::Constraint {
                member: "arn".into(),
                value: value.to_owned(),
                broken: vec![Constraint::MinLength(MIN_PARAM_LEN)],
            }),
            Err(IdError::Constraint {
                member,
                value,
                mut broken,
            }) if short => {
                broken.push(Constraint::MinLength(MIN_PARAM_LEN));
                Err(IdError::Constraint {
                    member,
                    value,
                    broken,
                })
            }
            other => other,
        }
    }

    /// All five fields, from one split (for callers that need several).
    pub(super) fn fields(&self) -> Fields<'_> {
        // INVARIANT: a valid ARN always has six fields; the fallback is unreachable.
        let [_, partition, service, region, account, resource] = split(&self.0).unwrap_or_default();
        Fields {
            partition,
            service,
            region,
            account,
            resource,
        }
    }

    /// Wraps `value` without checking it.
    ///
    /// For ARNs built from already-validated parts only (the assumed-role
    /// and federated-user ARNs of a checked `domain::credential::Session`);
    /// anything else parses.
    pub(crate) fn new_unchecked(value: String) -> Self {
        Self(value)
    }

    /// The partition field (`aws`).
    pub fn partition(&self) -> &str {
        self.fields().partition
    }

    /// The service field (`iam`, `sts`, `s3`).
    pub fn service(&self) -> &str {
        self.fields().service
    }

    /// The region field; empty for global services such as IAM.
    pub fn region(&self) -> &str {
        self.fields().region
    }

    /// The account field as written: 12 digits, `aws`, or empty.
    pub fn account(&self) -> &str {
        self.fields().account
    }

    /// The account field as an [`AccountId`], when it is one.
    pub fn account_id(&self) -> Option<AccountId> {
        self.account().parse().ok()
    }

    /// The resource: everything after the fifth colon (`role/path/Name`).
    pub fn resource(&self) -> &str {
        self.fields().resource
    }

    /// Builds `arn:{partition}:{service}::{account}:{resource}`; every
    /// piece comes from a validated type, so the result is a valid ARN.
    fn global(partition: &Partition, service: &str, account: AccountId, resource: &str) -> Self {
        Self(format!("arn:{partition}:{service}::{account}:{resource}"))
    }

    /// The account root: `arn:aws:iam::111122223333:root`.
    pub fn iam_root(partition: &Partition, account: AccountId) -> Self {
        Self::global(partition, "iam", account, "root")
    }

    /// An IAM user: `arn:aws:iam::111122223333:user/path/Name`.
    pub fn iam_user(
        partition: &Partition,
        account: AccountId,
        path: &IamPath,
        name: &UserName,
    ) -> Self {
        Self::global(partition, "iam", account, &format!("user{path}{name}"))
    }

    /// An IAM role: `arn:aws:iam::111122223333:role/path/Name`.
    pub fn iam_role(
        partition: &Partition,
        account: AccountId,
        path: &IamPath,
        name: &RoleName,
    ) -> Self {
        Self::global(partition, "iam", account, &format!("role{path}{name}"))
    }

    /// An IAM group: `arn:aws:iam::111122223333:group/path/Name`.
    pub fn iam_group(
        partition: &Partition,
        account: AccountId,
        path: &IamPath,
        name: &GroupName,
    ) -> Self {
        Self::global(partition, "iam", account, &format!("group{path}{name}"))
    }

    /// A customer managed policy: `arn:aws:iam::111122223333:policy/path/Name`.
    pub fn iam_policy(
        partition: &Partition,
        account: AccountId,
        path: &IamPath,
        name: &PolicyName,
    ) -> Self {
        Self::global(partition, "iam", account, &format!("policy{path}{name}"))
    }

    /// A role session: `arn:aws:sts::111122223333:assumed-role/RoleName/Session`.
    /// The role's path is not part of it (reference 1.3, GetCallerIdentity).
    pub fn sts_assumed_role(
        partition: &Partition,
        account: AccountId,
        role_name: &RoleName,
        session: &RoleSessionName,
    ) -> Self {
        Self::global(
            partition,
            "sts",
            account,
            &format!("assumed-role/{role_name}/{session}"),
        )
    }

    /// A GetFederationToken session: `arn:aws:sts::111122223333:federated-user/Name`.
    pub fn sts_federated_user(
        partition: &Partition,
        account: AccountId,
        name: &FederatedUserName,
    ) -> Self {
        Self::global(partition, "sts", account, &format!("federated-user/{name}"))
    }

    /// A SAML provider: `arn:aws:iam::111122223333:saml-provider/Name`.
    pub fn saml_provider(
        partition: &Partition,
        account: AccountId,
        name: &SamlProviderName,
    ) -> Self {
        Self::global(partition, "iam", account, &format!("saml-provider/{name}"))
    }

    /// An OIDC provider: `arn:aws:iam::111122223333:oidc-provider/host/path`.
    pub fn oidc_provider(partition: &Partition, account: AccountId, url: &OidcProviderUrl) -> Self {
        Self::global(
            partition,
            "iam",
            account,
            &format!("oidc-provider/{}", url.host_and_path()),
        )
    }

    /// A virtual MFA device, also its serial number:
    /// `arn:aws:iam::111122223333:mfa/path/Name`.
    pub fn mfa(
        partition: &Partition,
        account: AccountId,
        path: &IamPath,
        name: &MfaDeviceName,
    ) -> Self {
        Self::global(partition, "iam", account, &format!("mfa{path}{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(s: &str) -> Arn {
        s.parse().unwrap()
    }

    #[test]
    fn split_cuts_at_the_first_five_colons_only() {
        fn reference(value: &str) -> Option<[&str; 6]> {
            let mut it = value.splitn(6, ':');
            Some([
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
            ])
        }
        for value in [
            "arn:aws:iam::123456789012:role/a:b:c",
            "arn:aws:s3:::bucket/é/ü:x",
            ":::::",
            "arn:aws:iam::123456789012",
            "arn:aws",
            "",
            "arn:aws:sts::123456789012:assumed-role/Dev/alice",
            "ärn:äws:ïam:ü:ö:é",
        ] {
            assert_eq!(split(value), reference(value), "{value}");
        }
    }

    #[test]
    fn fields_split_on_the_first_five_colons() {
        let a = arn("arn:aws:s3:us-east-1:111122223333:bucket/a:b/c");
        assert_eq!(a.partition(), "aws");
        assert_eq!(a.service(), "s3");
        assert_eq!(a.region(), "us-east-1");
        assert_eq!(a.account(), "111122223333");
        assert_eq!(a.account_id().unwrap().as_str(), "111122223333");
        assert_eq!(a.resource(), "bucket/a:b/c");
    }

    #[test]
    fn empty_and_aws_accounts_are_allowed() {
        assert_eq!(arn("arn:aws:s3:::bucket").account_id(), None);
        let managed = arn("arn:aws:iam::aws:policy/ReadOnlyAccess");
        assert_eq!(managed.account(), "aws");
        assert_eq!(managed.account_id(), None);
    }

    #[test]
    fn malformed_arns_are_format_errors() {
        for bad in [
            "arn:aws:iam::111122223333",
            "arx:aws:iam::111122223333:root",
            "arn::iam::111122223333:root",
            "arn:aws:IAM::111122223333:root",
            "arn:aws:iam::1234:root",
            "arn:aws:iam::111122223333:",
            "arn:aws:iam:US:111122223333:root",
            "arn:aws:*::111122223333:root",
        ] {
            let err = bad.parse::<Arn>().unwrap_err();
            assert!(matches!(err, IdError::Format { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn charset_and_length_are_model_constraints() {
        let err = "arn:aws:iam::111122223333:role/\u{1}"
            .parse::<Arn>()
            .unwrap_err();
        assert!(
            matches!(&err, IdError::Constraint { broken, .. } if broken == &vec![Constraint::Pattern(ARN_PATTERN)])
        );
        let long = format!("arn:aws:s3:::{}", "a".repeat(2048));
        assert!(matches!(
            long.parse::<Arn>().unwrap_err(),
            IdError::Constraint { .. }
        ));
        assert!("".parse::<Arn>().is_err());
    }

    #[test]
    fn params_need_twenty_characters() {
        assert!("arn:aws:s3:::b".parse::<Arn>().is_ok());
        let err = Arn::from_param("arn:aws:s3:::b").unwrap_err().at("roleArn");
        assert_eq!(
            err.aws_message(),
            "1 validation error detected: Value 'arn:aws:s3:::b' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        );
        assert!(Arn::from_param("").is_err_and(|e| e.count() == 2));
        assert!(Arn::from_param("arn:aws:iam::111122223333:root").is_ok());
        assert!(
            Arn::from_param("not an arn but long enough")
                .is_err_and(|e| matches!(e, IdError::Format { .. }))
        );
    }

    #[test]
    fn principal_constructors() {
        let p = Partition::default();
        let acct: AccountId = "111122223333".parse().unwrap();
        let path: IamPath = "/eng/ops/".parse().unwrap();
        let root = IamPath::root();
        assert_eq!(
            Arn::iam_root(&p, acct).as_str(),
            "arn:aws:iam::111122223333:root"
        );
        assert_eq!(
            Arn::iam_user(&p, acct, &path, &"alice".parse().unwrap()).as_str(),
            "arn:aws:iam::111122223333:user/eng/ops/alice"
        );
        assert_eq!(
            Arn::iam_role(&p, acct, &root, &"Deploy".parse().unwrap()).as_str(),
            "arn:aws:iam::111122223333:role/Deploy"
        );
        assert_eq!(
            Arn::iam_group(&p, acct, &root, &"Admins".parse().unwrap()).as_str(),
            "arn:aws:iam::111122223333:group/Admins"
        );
        assert_eq!(
            Arn::iam_policy(&p, acct, &path, &"Read".parse().unwrap()).as_str(),
            "arn:aws:iam::111122223333:policy/eng/ops/Read"
        );
        assert_eq!(
            Arn::sts_assumed_role(
                &p,
                acct,
                &"Deploy".parse().unwrap(),
                &"ci-42".parse().unwrap()
            )
            .as_str(),
            "arn:aws:sts::111122223333:assumed-role/Deploy/ci-42"
        );
        assert_eq!(
            Arn::sts_federated_user(&p, acct, &"bob".parse().unwrap()).as_str(),
            "arn:aws:sts::111122223333:federated-user/bob"
        );
        assert_eq!(
            Arn::saml_provider(&p, acct, &"Okta".parse().unwrap()).as_str(),
            "arn:aws:iam::111122223333:saml-provider/Okta"
        );
        assert_eq!(
            Arn::oidc_provider(
                &p,
                acct,
                &"https://token.actions.githubusercontent.com"
                    .parse()
                    .unwrap()
            )
            .as_str(),
            "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
        );
        assert_eq!(
            Arn::mfa(&p, acct, &root, &"alice".parse().unwrap()).as_str(),
            "arn:aws:iam::111122223333:mfa/alice"
        );
        let cn: Partition = "aws-cn".parse().unwrap();
        assert_eq!(Arn::iam_root(&cn, acct).partition(), "aws-cn");
    }
}
