//! Sessions.Revoke.
//!
//! Owns: [`Sessions::revoke`]: validating the target against the caller's
//! account, authorizing `stsd:RevokeSessions`, storing the rule and
//! enforcing it in this process at once. Resources: the role's ARN for a
//! role, the role's ARN (role session) or principal ARN (other session)
//! of a recorded single session, `*` for an unrecorded session and for
//! source-identity, subject and account-wide rules. May import the
//! parent's imports.

use crate::domain::ids::{AccountId, Arn, PrincipalKind};
use crate::domain::sessions::{MAX_SUBJECT_LEN, RevocationId, RevocationRule, RevocationTarget};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::Timestamp;

use super::{REVOKE_ACTION, RevokeTarget, Sessions};

// === impl Sessions (revoke) ===

impl Sessions {
    /// Revokes the sessions of `target` in `caller`'s account: refused from
    /// the very next call on this replica, within a refresh interval on
    /// others.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` (a key, role or provider of another kind or
    /// account), `ValidationError` (a cut-off in the future, a subject
    /// outside 1–255 characters), `AccessDenied`, the store's errors.
    pub async fn revoke(
        &self,
        caller: &AuthzCaller,
        target: RevokeTarget,
    ) -> Result<RevocationRule, ServiceError> {
        let account = caller.account();
        let now = Timestamp::now(self.clock.as_ref());
        let (target, issued_before, resource) = self.target(account, target, now).await?;
        caller.authorize(REVOKE_ACTION, &resource, &[])?;
        let mut bytes = [0_u8; 16];
        self.entropy.fill(&mut bytes)?;
        let rule = RevocationRule {
            id: RevocationId::from_random(bytes),
            account,
            target,
            issued_before: issued_before.unwrap_or(now.as_unix_secs()),
            created_at: now.as_unix_secs(),
        };
        let counter = self.store.put_revocation(&rule).await?;
        self.revocations.add(&rule, counter);
        crate::telemetry::metrics::metrics().revoked();
        tracing::info!(
            rule = %rule.id,
            kind = rule.target.kind(),
            account = %account,
            issued_before = rule.issued_before,
            "sessions revoked"
        );
        Ok(rule)
    }

    /// The domain target, its cut-off and the resource to authorize on.
    async fn target(
        &self,
        account: AccountId,
        target: RevokeTarget,
        now: Timestamp,
    ) -> Result<(RevocationTarget, Option<u64>, String), ServiceError> {
        let cutoff = |t: Option<u64>| check_cutoff(t, now);
        Ok(match target {
            RevokeTarget::Session { access_key_id } => {
                if !access_key_id.is_temporary() || access_key_id.account() != Some(account) {
                    return Err(invalid(
                        "accessKeyId",
                        &format!("a session key (ASIA…) of account {account}"),
                    ));
                }
                let record = self.store.issued_session(&access_key_id, now).await?;
                let resource = match record {
                    Some(r) => r.role_arn.unwrap_or(r.principal_arn).to_string(),
                    None => "*".to_owned(),
                };
                (RevocationTarget::Session { access_key_id }, None, resource)
            }
            RevokeTarget::Role {
                role_arn,
                issued_before,
            } => {
                let is_role = matches!(role_arn.principal_kind(), PrincipalKind::Role { .. });
                if !is_role || role_arn.account_id() != Some(account) {
                    return Err(invalid(
                        "roleArn",
                        &format!("a role ARN of account {account}"),
                    ));
                }
                let resource = role_arn.to_string();
                (
                    RevocationTarget::Role { role_arn },
                    cutoff(issued_before)?,
                    resource,
                )
            }
            RevokeTarget::SourceIdentity {
                source_identity,
                issued_before,
            } => (
                RevocationTarget::SourceIdentity { source_identity },
                cutoff(issued_before)?,
                "*".to_owned(),
            ),
            RevokeTarget::Subject {
                provider_arn,
                subject,
                issued_before,
            } => {
                check_provider(account, &provider_arn)?;
                if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_LEN {
                    return Err(ServiceError::validation(
                        "…",
                        "subject",
                        "Member must have length between 1 and 255",
                    ));
                }
                (
                    RevocationTarget::Subject {
                        provider_arn,
                        subject,
                    },
                    cutoff(issued_before)?,
                    "*".to_owned(),
                )
            }
            RevokeTarget::Account { issued_before } => (
                RevocationTarget::Account,
                cutoff(issued_before)?,
                "*".to_owned(),
            ),
        })
    }
}

fn invalid(field: &str, what: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidParameterValue,
        format!("{field} must be {what}"),
    )
}

/// A cut-off may not lie in the future: it would revoke sessions not yet
/// minted.
fn check_cutoff(t: Option<u64>, now: Timestamp) -> Result<Option<u64>, ServiceError> {
    match t {
        Some(t) if t > now.as_unix_secs() => Err(ServiceError::validation(
            &t.to_string(),
            "issuedBefore",
            "Member must not be in the future",
        )),
        other => Ok(other),
    }
}

fn check_provider(account: AccountId, arn: &Arn) -> Result<(), ServiceError> {
    let resource = arn.resource();
    let provider = arn.service() == "iam"
        && (resource.starts_with("saml-provider/") || resource.starts_with("oidc-provider/"));
    if !provider || arn.account_id() != Some(account) {
        return Err(invalid(
            "providerArn",
            &format!("a SAML or OIDC provider ARN of account {account}"),
        ));
    }
    Ok(())
}
