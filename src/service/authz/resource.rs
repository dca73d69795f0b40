//! Decisions with a resource-side policy, and the denial every refusal
//! carries.
//!
//! Owns: [`AuthzCaller::authorize_with`] — deciding an action with a
//! resource's own policy (a role's trust policy for `sts:AssumeRole`,
//! `sts:TagSession`, `sts:SetSourceIdentity`; reference 6.3, 6.4) and a
//! request context the operation extended (`sts:ExternalId`,
//! `aws:RequestTag/*`, …) — and the one builder of policy denials: AWS's
//! `User: … is not authorized to perform: … on resource: … because …`
//! text with the decision's [`AuthorizationRecord`] attached, which the
//! transport seals into the message. May import `domain` and the parent.

use super::AuthzCaller;
use crate::domain::ids::AccountId;
use crate::domain::policy::{Context, Decision, Policy, Request, ResourceSide, evaluate};
use crate::domain::sts::AuthorizationRecord;
use crate::service::error::{ErrorCode, ServiceError};

// === impl AuthzCaller ===

impl AuthzCaller {
    /// Allows or refuses `action` on `resource` with `context` (the
    /// caller's [`AuthzCaller::context`], extended by the operation) and,
    /// when given, the resource's own policy and owning account. A
    /// [`crate::domain::policy::PolicyKind::Trust`] policy must allow on
    /// its own, and across accounts the caller's policies must allow too
    /// (the evaluator's rules).
    ///
    /// # Errors
    ///
    /// `AccessDenied` with AWS's message and the decision's record.
    pub fn authorize_with(
        &self,
        action: &str,
        resource: &str,
        side: Option<(&Policy, AccountId)>,
        context: &Context,
    ) -> Result<(), ServiceError> {
        let owner = side.map(|(_, account)| account);
        let mut request = Request::new(self.principal(), action, resource, context);
        if let Some(owner) = &owner {
            request = request.with_resource_account(owner.as_str());
        }
        let resource_side = ResourceSide {
            policy: side.map(|(p, _)| p),
            rcps: &[],
        };
        let decision = evaluate(self.policies(), resource_side, &request);
        if decision.is_allowed() {
            return Ok(());
        }
        Err(self.denied(action, resource, &decision, context))
    }

    /// The `AccessDenied` of `decision`, with its record attached.
    pub(super) fn denied(
        &self,
        action: &str,
        resource: &str,
        decision: &Decision<'_>,
        context: &Context,
    ) -> ServiceError {
        let message = format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} {}",
            self.principal().arn,
            decision.reason.explain(action)
        );
        let record =
            AuthorizationRecord::new(decision, self.principal(), action, resource, context);
        ServiceError::new(ErrorCode::AccessDenied, message).with_denial(record)
    }
}
