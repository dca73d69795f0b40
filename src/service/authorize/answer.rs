//! What `Authorize` answers.
//!
//! Owns: [`Answer`] — the [`Decision`], the AWS error code a service
//! should return when it refuses (`AccessDenied`, or the authentication
//! code), who the principal is ([`PrincipalInfo`]: ARN, account, user id,
//! type, tags), the statements that decided ([`DecidingStatement`]), a
//! sentence for humans, and how long the answer may be cached — built
//! from an evaluator decision or from an authentication refusal. May
//! import `domain`, `service::authn`, `service::authz`, `service::error`.

use std::time::Duration;

use crate::domain::policy::{self, Outcome, PolicySource};
use crate::service::authn::Caller;
use crate::service::authz::AuthzCaller;
use crate::service::error::ErrorCode;

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Every required policy layer allows.
    Allow,
    /// An applicable `Deny` statement refuses.
    ExplicitDeny,
    /// Nothing (or not every required layer) allows.
    ImplicitDeny,
    /// The request is not authentic: bad or missing signature, unknown,
    /// expired or revoked credentials, wrong scope.
    Unauthenticated,
}

/// Who signed the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// Its ARN (`GetCallerIdentity`'s).
    pub arn: String,
    /// Its account.
    pub account: String,
    /// Its user id (`aws:userid`).
    pub user_id: String,
    /// `aws:PrincipalType`: `Account`, `User`, `AssumedRole`,
    /// `FederatedUser`.
    pub principal_type: String,
    /// Its tags (session tags over the role's or user's).
    pub tags: Vec<(String, String)>,
    /// The source identity of its session, if any.
    pub source_identity: Option<String>,
}

/// A statement that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    /// The policy: its ARN, `<owner ARN>:<inline name>`, or the input
    /// field (`ResourcePolicy`, `ServiceControlPolicies.1`).
    pub policy: String,
    /// The layer: `identity`, `boundary`, `session`, `resource`, `scp`.
    pub kind: &'static str,
    /// The statement's `Sid`, if any.
    pub sid: Option<String>,
    /// Its position in the policy, from 0.
    pub index: usize,
    /// `Allow` or `Deny`.
    pub effect: &'static str,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The decision.
    pub decision: Decision,
    /// The AWS code a refusing service returns; `None` when allowed.
    pub error_code: Option<ErrorCode>,
    /// The principal; `None` when unauthenticated.
    pub principal: Option<PrincipalInfo>,
    /// The statements that decided (the `Allow`s, or the `Deny`s; none
    /// for an implicit deny).
    pub statements: Vec<DecidingStatement>,
    /// A sentence for humans.
    pub reason: String,
    /// How long the asker may reuse the answer for the same credentials,
    /// action and resource.
    pub cache_ttl: Duration,
}

// === impl Answer ===

impl Answer {
    /// The answer for a request that did not authenticate.
    pub(super) fn unauthenticated(code: ErrorCode, message: &str) -> Self {
        Self {
            decision: Decision::Unauthenticated,
            error_code: Some(code),
            principal: None,
            statements: Vec::new(),
            reason: message.to_owned(),
            cache_ttl: Duration::ZERO,
        }
    }

    /// The answer of `decision` for `caller`.
    pub(super) fn decided(
        decision: &policy::Decision<'_>,
        authz: &AuthzCaller,
        caller: &Caller,
        action: &str,
        resource: &str,
        cache_ttl: Duration,
    ) -> Self {
        let statements: Vec<DecidingStatement> = decision
            .deciding()
            .map(|m| DecidingStatement {
                policy: m.policy.id().to_owned(),
                kind: kind(m.source),
                sid: m.sid().map(str::to_owned),
                index: m.index,
                effect: match m.effect {
                    policy::Effect::Allow => "Allow",
                    policy::Effect::Deny => "Deny",
                },
            })
            .collect();
        let arn = authz.arn().to_owned();
        let (kind, code, reason) = match decision.outcome {
            Outcome::Allowed => (
                Decision::Allow,
                None,
                allowed_reason(&arn, action, resource, &statements),
            ),
            outcome => {
                let kind = if outcome == Outcome::ExplicitDeny {
                    Decision::ExplicitDeny
                } else {
                    Decision::ImplicitDeny
                };
                let reason = format!(
                    "User: {arn} is not authorized to perform: {action} on resource: {resource} {}",
                    decision.reason.explain(action)
                );
                (kind, Some(ErrorCode::AccessDenied), reason)
            }
        };
        let principal_type = authz
            .context()
            .get("aws:principaltype")
            .and_then(|v| v.values().next())
            .unwrap_or_default()
            .to_owned();
        let principal = PrincipalInfo {
            arn,
            account: caller.account.to_string(),
            user_id: caller.user_id(),
            principal_type,
            tags: authz.tags().to_vec(),
            source_identity: caller
                .session()
                .and_then(|s| s.source_identity.as_ref())
                .map(|s| s.as_str().to_owned()),
        };
        Self {
            decision: kind,
            error_code: code,
            principal: Some(principal),
            statements,
            reason,
            cache_ttl,
        }
    }
}

/// The layer's short name.
fn kind(source: PolicySource) -> &'static str {
    match source {
        PolicySource::Scp => "scp",
        PolicySource::Rcp => "rcp",
        PolicySource::Resource => "resource",
        PolicySource::Identity => "identity",
        PolicySource::Boundary => "boundary",
        PolicySource::Session => "session",
    }
}

/// "… is allowed to perform … by <policy> (statement <sid>)".
fn allowed_reason(arn: &str, action: &str, resource: &str, by: &[DecidingStatement]) -> String {
    let mut s = format!("User: {arn} is allowed to perform: {action} on resource: {resource}");
    if let Some(first) = by.first() {
        let statement = first
            .sid
            .clone()
            .unwrap_or_else(|| format!("#{}", first.index + 1));
        s.push_str(&format!(
            " by statement {statement} of {} policy {}",
            first.kind, first.policy
        ));
    }
    s
}
