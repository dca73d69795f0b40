//! The decision procedure (reference sections 6.2–6.4).
//!
//! Owns: combining the layers — explicit deny anywhere wins; every SCP and
//! RCP level must allow; a resource policy's allow counts by how directly it
//! names the caller; identity policies, the permissions boundary and session
//! policies must each allow; root may do anything in its own account; across
//! accounts both sides must allow; a trust policy must allow on its own even
//! in the same account. Evaluation is total: it cannot fail, and a statement
//! that errors never grants. Pure.

use std::sync::Arc;

use super::compiled::{Applies, Target};
use super::context::Context;
use super::decision::{Decision, EvalError, MatchedStatement, Outcome, PolicySource, Reason};
use super::model::{Effect, PolicyKind};
use super::principal::{Principal, PrincipalKind, Strength};
use super::{Policy, arn};

/// The policies that bind a principal: built once per principal and cached.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// Identity-based policies (user inline + managed + groups', or role's).
    pub identity: Vec<Arc<Policy>>,
    /// The permissions boundary, if the user or role has one.
    pub boundary: Option<Arc<Policy>>,
    /// Session policies: `None` when none apply; `Some(vec![])` for a session
    /// whose session policies allow nothing (`GetFederationToken` without a
    /// policy).
    pub session: Option<Vec<Arc<Policy>>>,
    /// SCPs of the principal's account, one list per level (root → account).
    pub scps: Vec<Vec<Arc<Policy>>>,
}

/// The resource's side: its resource-based (or trust) policy and RCPs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceSide<'a> {
    /// The resource-based policy; a [`PolicyKind::Trust`] policy gets the
    /// trust rule (it must allow on its own).
    pub policy: Option<&'a Policy>,
    /// RCPs of the resource's account, one list per level.
    pub rcps: &'a [Vec<Arc<Policy>>],
}

/// One request to decide.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    principal: &'a Principal,
    action: Box<str>,
    resource: &'a str,
    resource_account: Option<&'a str>,
    context: &'a Context,
}

// === impl Request ===

impl<'a> Request<'a> {
    /// `principal` performs `action` (`service:Action`, any case) on
    /// `resource` (an ARN or `*`) with the condition keys of `context`.
    pub fn new(
        principal: &'a Principal,
        action: &str,
        resource: &'a str,
        context: &'a Context,
    ) -> Self {
        Self {
            principal,
            action: action.to_ascii_lowercase().into_boxed_str(),
            resource,
            resource_account: None,
            context,
        }
    }

    /// Names the account that owns the resource (default: the account field
    /// of the resource ARN, or the principal's account).
    #[must_use]
    pub fn with_resource_account(mut self, account: &'a str) -> Self {
        self.resource_account = Some(account);
        self
    }

    /// The caller.
    pub fn principal(&self) -> &Principal {
        self.principal
    }

    /// The context.
    pub fn context(&self) -> &Context {
        self.context
    }

    /// The resource.
    pub fn resource(&self) -> &str {
        self.resource
    }

    fn owner(&self) -> Option<&str> {
        self.resource_account
            .or_else(|| {
                arn::split(self.resource)
                    .map(|f| f[4])
                    .filter(|a| !a.is_empty())
            })
            .or(self.principal.account.as_deref())
    }

    pub(crate) fn target(&self) -> Target<'_> {
        Target {
            principal: self.principal,
            action: &self.action,
            resource: self.resource,
            resource_fields: arn::split(self.resource),
            context: self.context,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    allow: Option<Strength>,
    deny: bool,
}

struct Scan<'a, 'r> {
    target: Target<'r>,
    decision: Decision<'a>,
}

impl<'a> Scan<'a, '_> {
    fn policies(
        &mut self,
        ps: impl IntoIterator<Item = &'a Policy>,
        source: PolicySource,
    ) -> Tally {
        let mut t = Tally::default();
        for p in ps {
            for (index, s) in p.statements().iter().enumerate() {
                let m = MatchedStatement {
                    policy: p,
                    index,
                    source,
                    effect: s.effect,
                };
                let strength = match s.applies(&self.target) {
                    Applies::No => continue,
                    Applies::Yes(strength) => strength,
                    Applies::Error(e) => {
                        self.decision.errors.push(EvalError {
                            statement: m,
                            key: e.key,
                            expected: e.family,
                        });
                        if s.effect == Effect::Allow {
                            continue;
                        }
                        Strength::Direct
                    }
                };
                match s.effect {
                    Effect::Deny => t.deny = true,
                    Effect::Allow => t.allow = t.allow.max(Some(strength)),
                }
                self.decision.matched.push(m);
            }
        }
        t
    }
}

fn arcs(v: &[Arc<Policy>]) -> impl Iterator<Item = &Policy> {
    v.iter().map(|p| &**p)
}

/// Decides `request` against the principal's policies and the resource side.
pub fn evaluate<'a>(
    set: &'a PolicySet,
    resource: ResourceSide<'a>,
    request: &Request<'_>,
) -> Decision<'a> {
    let principal = request.principal;
    let mut scan = Scan {
        target: request.target(),
        decision: Decision {
            outcome: Outcome::ImplicitDeny,
            reason: Reason::NoIdentityAllow,
            matched: Vec::new(),
            errors: Vec::new(),
        },
    };
    let own_side = principal.has_identity_side();
    let scps: Vec<Tally> = if own_side {
        set.scps
            .iter()
            .map(|level| scan.policies(arcs(level), PolicySource::Scp))
            .collect()
    } else {
        Vec::new()
    };
    let rcps: Vec<Tally> = resource
        .rcps
        .iter()
        .map(|level| scan.policies(arcs(level), PolicySource::Rcp))
        .collect();
    let res = scan.policies(resource.policy, PolicySource::Resource);
    let (identity, boundary, session) = if own_side {
        (
            scan.policies(arcs(&set.identity), PolicySource::Identity),
            set.boundary
                .as_deref()
                .map(|b| scan.policies([b], PolicySource::Boundary)),
            set.session
                .as_deref()
                .map(|s| scan.policies(arcs(s), PolicySource::Session)),
        )
    } else {
        (Tally::default(), None, None)
    };
    let denied_in = [
        (scps.iter().any(|t| t.deny), PolicySource::Scp),
        (rcps.iter().any(|t| t.deny), PolicySource::Rcp),
        (res.deny, PolicySource::Resource),
        (identity.deny, PolicySource::Identity),
        (boundary.is_some_and(|t| t.deny), PolicySource::Boundary),
        (session.is_some_and(|t| t.deny), PolicySource::Session),
    ]
    .into_iter()
    .find_map(|(denied, source)| denied.then_some(source));
    let reason = if let Some(source) = denied_in {
        Reason::ExplicitDeny(source)
    } else if scps.iter().any(|t| t.allow.is_none()) {
        Reason::NoScpAllow
    } else if rcps.iter().any(|t| t.allow.is_none()) {
        Reason::NoRcpAllow
    } else if !own_side {
        if res.allow.is_some() {
            Reason::Allowed
        } else {
            Reason::NoResourcePolicyAllow
        }
    } else {
        let is_trust = resource
            .policy
            .is_some_and(|p| p.kind() == PolicyKind::Trust);
        let same_account = request.owner() == principal.account.as_deref();
        let own = Own {
            principal,
            identity,
            boundary,
            session,
        };
        if same_account && !is_trust {
            own.decide(res.allow)
        } else if res.allow.is_none() {
            Reason::NoResourcePolicyAllow
        } else if same_account {
            own.decide(res.allow)
        } else {
            own.decide(None)
        }
    };
    scan.decision.outcome = match reason {
        Reason::Allowed => Outcome::Allowed,
        Reason::ExplicitDeny(_) => Outcome::ExplicitDeny,
        _ => Outcome::ImplicitDeny,
    };
    scan.decision.reason = reason;
    scan.decision
}

/// The principal's own side: identity ∩ boundary ∩ session.
struct Own<'p> {
    principal: &'p Principal,
    identity: Tally,
    boundary: Option<Tally>,
    session: Option<Tally>,
}

impl Own<'_> {
    /// `resource_grant` is how directly a same-account resource policy names
    /// the caller (`None` across accounts, where it cannot stand in).
    fn decide(&self, resource_grant: Option<Strength>) -> Reason {
        if self.principal.kind == PrincipalKind::Root || resource_grant == Some(Strength::Direct) {
            return Reason::Allowed;
        }
        if self.identity.allow.is_none() && resource_grant != Some(Strength::Parent) {
            return Reason::NoIdentityAllow;
        }
        if self.boundary.is_some_and(|b| b.allow.is_none()) {
            return Reason::NoBoundaryAllow;
        }
        if self.session.is_some_and(|s| s.allow.is_none()) {
            return Reason::NoSessionPolicyAllow;
        }
        Reason::Allowed
    }
}
