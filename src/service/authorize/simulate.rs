//! `Authorizer.Simulate`: one action on one resource, without a request.
//!
//! Owns: [`SimulateInput`] and [`SimulateOutput`], and
//! [`Authorizer::simulate`], which answers "would this principal (or these
//! policies) be allowed?" through IAM's own simulations —
//! `SimulatePrincipalPolicy` when a principal ARN is given (a user, group
//! or role of the caller's account, its current policies and boundary),
//! `SimulateCustomPolicy` when only policies are — so the answer, the
//! authorization (`iam:SimulatePrincipalPolicy` /
//! `iam:SimulateCustomPolicy`) and the error codes are IAM's. May import
//! `domain`, `service::authn`, `service::authz`, `service::error`,
//! `service::iam`, `service::simulate_policy`.

use super::{Authorizer, ContextEntry, Decision};
use crate::domain::ids::Arn;
use crate::domain::policy::Outcome;
use crate::service::authn::Caller;
use crate::service::authz::Transport;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Paging;
use crate::service::iam::simulate::{
    SimulateRequest, simulate_custom_policy, simulate_principal_policy,
};
use crate::service::simulate_policy::{self, ContextKeyType};

/// What to simulate.
#[derive(Debug, Clone, Default)]
pub struct SimulateInput {
    /// The user, group or role whose policies to use.
    pub principal_arn: Option<String>,
    /// Identity policies (JSON) to use besides (or instead of) the
    /// principal's.
    pub policies: Vec<String>,
    /// The action.
    pub action: String,
    /// The resource (`*` when empty).
    pub resource: String,
    /// The resource's own policy, if any.
    pub resource_policy: Option<String>,
    /// Context keys (strings; several values make a list).
    pub context: Vec<ContextEntry>,
}

/// The simulation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulateOutput {
    /// Allow, explicit deny or implicit deny.
    pub decision: Decision,
    /// The policies whose statements decided (`PolicyInputList.1`, an
    /// ARN, …).
    pub matched_policies: Vec<String>,
    /// Context keys the matching statements read but the input lacked.
    pub missing_context_keys: Vec<String>,
    /// A sentence for humans.
    pub reason: String,
}

// === impl Authorizer (Simulate) ===

impl Authorizer {
    /// Simulates `input` for `caller`.
    ///
    /// # Errors
    ///
    /// IAM's: `AccessDenied`, `NoSuchEntity`, `InvalidInput`,
    /// `MalformedPolicyDocument`.
    pub async fn simulate(
        &self,
        caller: &Caller,
        transport: &Transport,
        input: SimulateInput,
    ) -> Result<SimulateOutput, ServiceError> {
        let authz = self.authz_caller(caller, transport).await?;
        let resource = if input.resource.is_empty() {
            "*".to_owned()
        } else {
            input.resource
        };
        let request = SimulateRequest {
            policies: input.policies,
            actions: vec![input.action],
            resources: vec![resource],
            resource_policy: input.resource_policy,
            context: input
                .context
                .into_iter()
                .map(|e| simulate_policy::ContextEntry {
                    ty: if e.values.len() == 1 {
                        ContextKeyType::String
                    } else {
                        ContextKeyType::StringList
                    },
                    key: e.key,
                    values: e.values,
                })
                .collect(),
            ..SimulateRequest::default()
        };
        let paging = Paging::default();
        let listing = match input.principal_arn {
            Some(arn) => {
                let arn: Arn = arn.parse().map_err(|_| {
                    ServiceError::new(
                        ErrorCode::InvalidInput,
                        format!("PrincipalArn {arn} is not a valid ARN"),
                    )
                })?;
                simulate_principal_policy(&self.iam, &authz, &arn, request, &paging).await?
            }
            None => simulate_custom_policy(&authz, request, &paging)?,
        };
        let Some(result) = listing.items.into_iter().next() else {
            return Err(ServiceError::internal("the simulation returned no result"));
        };
        Ok(SimulateOutput {
            decision: match result.decision {
                Outcome::Allowed => Decision::Allow,
                Outcome::ExplicitDeny => Decision::ExplicitDeny,
                Outcome::ImplicitDeny => Decision::ImplicitDeny,
            },
            matched_policies: result
                .matched
                .into_iter()
                .map(|m| m.source_policy_id)
                .collect(),
            missing_context_keys: result.missing_context_values,
            reason: result.explanation,
        })
    }
}
