//! The result of an evaluation.
//!
//! Owns: [`Decision`] — the outcome, the reason in words, the statements that
//! applied (policy + index, borrowed from the evaluated policies, so nothing
//! is copied) and the statements that could not be evaluated. This is the raw
//! material of `DecodeAuthorizationMessage`, `SimulateCustomPolicy` and the
//! explanation of every denial. Pure.

use super::Policy;
use super::model::Effect;

/// `allowed`, `explicitDeny` or `implicitDeny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed.
    Allowed,
    /// Denied by an applicable `Deny` statement.
    ExplicitDeny,
    /// Denied because nothing (or not every required layer) allows it.
    ImplicitDeny,
}

// === impl Outcome ===

impl Outcome {
    /// The name IAM uses (`EvalDecision`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::ExplicitDeny => "explicitDeny",
            Self::ImplicitDeny => "implicitDeny",
        }
    }

    /// Parses [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Allowed, Self::ExplicitDeny, Self::ImplicitDeny]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Which layer of the policy set a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// The resource-based policy (a role's trust policy included).
    Resource,
    /// An identity-based policy.
    Identity,
    /// The permissions boundary.
    Boundary,
    /// A session policy.
    Session,
}

// === impl PolicySource ===

impl PolicySource {
    /// Words for explanations ("identity-based policy").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Scp => "service control policy",
            Self::Rcp => "resource control policy",
            Self::Resource => "resource-based policy",
            Self::Identity => "identity-based policy",
            Self::Boundary => "permissions boundary",
            Self::Session => "session policy",
        }
    }
}

/// Why the outcome is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Every required layer allows.
    Allowed,
    /// A `Deny` statement in this layer applies.
    ExplicitDeny(PolicySource),
    /// Some SCP level has no applicable `Allow`.
    NoScpAllow,
    /// Some RCP level has no applicable `Allow`.
    NoRcpAllow,
    /// The resource (or trust) policy does not allow the caller, and it must.
    NoResourcePolicyAllow,
    /// No identity-based policy allows.
    NoIdentityAllow,
    /// The permissions boundary does not allow.
    NoBoundaryAllow,
    /// The session policies do not allow.
    NoSessionPolicyAllow,
}

// === impl Reason ===

impl Reason {
    /// AWS's wording after "… is not authorized to perform: X on resource: Y".
    pub fn explain(self, action: &str) -> String {
        match self {
            Self::Allowed => String::new(),
            Self::ExplicitDeny(s) => format!("with an explicit deny in a {}", s.describe()),
            Self::NoScpAllow => {
                format!("because no service control policy allows the {action} action")
            }
            Self::NoRcpAllow => {
                format!("because no resource control policy allows the {action} action")
            }
            Self::NoResourcePolicyAllow => {
                format!("because no resource-based policy allows the {action} action")
            }
            Self::NoIdentityAllow => {
                format!("because no identity-based policy allows the {action} action")
            }
            Self::NoBoundaryAllow => {
                format!("because no permissions boundary allows the {action} action")
            }
            Self::NoSessionPolicyAllow => {
                format!("because no session policy allows the {action} action")
            }
        }
    }
}

/// A statement that applied to the request.
#[derive(Debug, Clone, Copy)]
pub struct MatchedStatement<'a> {
    /// The policy it belongs to.
    pub policy: &'a Policy,
    /// Its index in the policy (0-based).
    pub index: usize,
    /// The layer it was evaluated in.
    pub source: PolicySource,
    /// Its effect.
    pub effect: Effect,
}

// === impl MatchedStatement ===

impl MatchedStatement<'_> {
    /// The statement's `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.policy
            .document()
            .statements
            .get(self.index)
            .and_then(|s| s.sid.as_deref())
    }
}

/// A statement whose condition could not read a request value. An erroring
/// `Deny` is applied (fail closed); an erroring `Allow` is skipped.
#[derive(Debug, Clone)]
pub struct EvalError<'a> {
    /// The statement.
    pub statement: MatchedStatement<'a>,
    /// The (lower-cased) condition key whose value was unreadable.
    pub key: Box<str>,
    /// What the operator expected (`a number`, `a date`, …).
    pub expected: &'static str,
}

/// The answer of the evaluator.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    /// Allowed or denied, and how.
    pub outcome: Outcome,
    /// Why.
    pub reason: Reason,
    /// Every statement that applied, in evaluation order.
    pub matched: Vec<MatchedStatement<'a>>,
    /// Statements that could not be evaluated.
    pub errors: Vec<EvalError<'a>>,
}

// === impl Decision ===

impl<'a> Decision<'a> {
    /// True when allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }

    /// The statements that decided: the `Deny`s for an explicit deny, the
    /// `Allow`s for an allow, none for an implicit deny.
    pub fn deciding(&self) -> impl Iterator<Item = &MatchedStatement<'a>> {
        let want = match self.outcome {
            Outcome::Allowed => Some(Effect::Allow),
            Outcome::ExplicitDeny => Some(Effect::Deny),
            Outcome::ImplicitDeny => None,
        };
        self.matched.iter().filter(move |m| Some(m.effect) == want)
    }
}
