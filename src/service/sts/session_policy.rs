//! Session policies: the `Policy` and `PolicyArns` parameters, and
//! `PackedPolicySize`.
//!
//! Owns: checking an inline session policy (it must parse as a
//! [`PolicyKind::Session`] policy: `MalformedPolicyDocument` otherwise),
//! checking the managed session policies (at most [`MAX_POLICY_ARNS`]
//! customer managed policies that exist in the account of the role — or,
//! for GetFederationToken, of the caller; stsd has no AWS managed
//! policies, so those are refused as absent), and the packed-size rule
//! (reference 1.5: above 100 % → `PackedPolicyTooLarge`). Authorization
//! later resolves the ARNs to their current default versions.
//! May import `domain`, `service::error` and `service::store`.

use crate::domain::credential::{PACKED_POLICY_LIMIT, SessionTag, packed_policy_size};
use crate::domain::ids::{AccountId, Arn, PolicyName};
use crate::domain::policy::{Policy, PolicyError, PolicyKind};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::model::ManagedPolicyRecord;
use crate::service::store::{EntityReader, Key, fetch};

/// At most this many `PolicyArns` (reference 1.5).
pub const MAX_POLICY_ARNS: usize = 10;

/// The largest inline session policy parsed, in characters without
/// whitespace; the packed size binds well before it (AssumeRole's model
/// sets no maximum, GetFederationToken's 2,048 is checked on the wire).
const MAX_PARSED_POLICY: usize = 4 * PACKED_POLICY_LIMIT;

/// Session policies of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPolicies {
    /// `Policy`, as given.
    pub policy: Option<String>,
    /// `PolicyArns`.
    pub policy_arns: Vec<Arn>,
}

// === impl SessionPolicies ===

impl SessionPolicies {
    /// Whether the request passed any.
    pub fn is_empty(&self) -> bool {
        self.policy.is_none() && self.policy_arns.is_empty()
    }

    /// Checks the inline policy and that every ARN names a managed policy
    /// of `account`.
    ///
    /// # Errors
    ///
    /// `MalformedPolicyDocument` for an invalid inline policy or an ARN that
    /// names no managed policy of `account`; `ValidationError` past
    /// [`MAX_POLICY_ARNS`].
    pub async fn check(
        &self,
        store: &(impl EntityReader + ?Sized),
        account: AccountId,
    ) -> Result<(), ServiceError> {
        if let Some(text) = &self.policy {
            Policy::parse_with_limit("Policy", PolicyKind::Session, text, MAX_PARSED_POLICY)
                .map_err(malformed)?;
        }
        if self.policy_arns.len() > MAX_POLICY_ARNS {
            return Err(ServiceError::new(
                ErrorCode::ValidationError,
                format!(
                    "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_ARNS}"
                ),
            ));
        }
        for arn in &self.policy_arns {
            if !exists(store, account, arn).await? {
                return Err(ServiceError::new(
                    ErrorCode::MalformedPolicyDocument,
                    format!("Policy {arn} does not exist or is not attachable."),
                ));
            }
        }
        Ok(())
    }

    /// `PackedPolicySize` of these policies and `tags`: `None` when the
    /// request passed neither (AWS then omits the element).
    ///
    /// # Errors
    ///
    /// `PackedPolicyTooLarge` above 100 %.
    pub fn packed_size(&self, tags: &[SessionTag]) -> Result<Option<u32>, ServiceError> {
        if self.is_empty() && tags.is_empty() {
            return Ok(None);
        }
        let size = packed_policy_size(self.policy.as_deref(), &self.policy_arns, tags);
        if size > 100 {
            return Err(ServiceError::new(
                ErrorCode::PackedPolicyTooLarge,
                format!(
                    "Packed size of session policies and session tags consumes {size}% of allotted space, please use smaller policies and tags."
                ),
            ));
        }
        Ok(Some(size))
    }
}

/// AWS's answer for a session policy that does not parse.
fn malformed(e: PolicyError) -> ServiceError {
    ServiceError::new(ErrorCode::MalformedPolicyDocument, e.to_string())
}

/// Whether `arn` names a customer managed policy of `account`.
async fn exists(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    arn: &Arn,
) -> Result<bool, ServiceError> {
    let resource = arn.resource();
    if arn.service() != "iam"
        || arn.account_id() != Some(account)
        || !resource.starts_with("policy/")
    {
        return Ok(false);
    }
    let Some(name) = resource
        .rsplit('/')
        .next()
        .and_then(|n| n.parse::<PolicyName>().ok())
    else {
        return Ok(false);
    };
    Ok(
        fetch::<ManagedPolicyRecord>(store, &Key::managed_policy(account, &name))
            .await?
            .is_some_and(|p| p.record.arn == *arn),
    )
}
