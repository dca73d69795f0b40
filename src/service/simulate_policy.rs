//! Policy simulation: IAM's `SimulateCustomPolicy` (and, fed from the store,
//! `SimulatePrincipalPolicy`).
//!
//! Owns: turning a simulation input — policy texts, actions, resources,
//! typed context entries, an optional resource policy, owner and caller —
//! into one evaluation result per action × resource through the shared
//! evaluator. The `stsd policy simulate` command and the IAM Query API both
//! call this; neither re-implements it.
//!
//! Choices where AWS is not explicit (documented in the README):
//! - with no `CallerArn`, the caller is the IAM user
//!   `arn:aws:iam::<owner account>:user/simulated-caller`;
//! - with no `ResourceOwner`, resources belong to the caller's account;
//! - `aws:username` is filled from a user `CallerArn` unless given; no other
//!   key (not even the time) is supplied — missing ones are reported in
//!   `MissingContextValues`.

use std::sync::Arc;

use crate::domain::policy::{
    Context, ContextValue, Effect, Outcome, Policy, PolicyError, PolicyKind, PolicySet,
    PolicySource, Position, Principal, Request, ResourceSide, evaluate,
};

/// The type of a context entry (`ContextKeyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKeyType {
    /// `string`
    String,
    /// `stringList`
    StringList,
    /// `numeric`
    Numeric,
    /// `numericList`
    NumericList,
    /// `boolean`
    Boolean,
    /// `booleanList`
    BooleanList,
    /// `ip`
    Ip,
    /// `ipList`
    IpList,
    /// `binary`
    Binary,
    /// `binaryList`
    BinaryList,
    /// `date`
    Date,
    /// `dateList`
    DateList,
}

// === impl ContextKeyType ===

impl ContextKeyType {
    const ALL: [(Self, &'static str); 12] = [
        (Self::String, "string"),
        (Self::StringList, "stringList"),
        (Self::Numeric, "numeric"),
        (Self::NumericList, "numericList"),
        (Self::Boolean, "boolean"),
        (Self::BooleanList, "booleanList"),
        (Self::Ip, "ip"),
        (Self::IpList, "ipList"),
        (Self::Binary, "binary"),
        (Self::BinaryList, "binaryList"),
        (Self::Date, "date"),
        (Self::DateList, "dateList"),
    ];

    /// Parses IAM's name (`stringList`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(t, _)| *t)
    }

    fn is_list(self) -> bool {
        matches!(
            self,
            Self::StringList
                | Self::NumericList
                | Self::BooleanList
                | Self::IpList
                | Self::BinaryList
                | Self::DateList
        )
    }

    fn valid(self, v: &str) -> bool {
        use crate::domain::policy::Family as F;
        let family = match self {
            Self::String | Self::StringList => return true,
            Self::Numeric | Self::NumericList => F::Numeric,
            Self::Boolean | Self::BooleanList => F::Bool,
            Self::Ip | Self::IpList => F::Ip,
            Self::Binary | Self::BinaryList => F::Binary,
            Self::Date | Self::DateList => F::Date,
        };
        crate::domain::policy::value_is_valid(family, v)
    }
}

/// One `ContextEntries` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// The key name.
    pub key: String,
    /// The values.
    pub values: Vec<String>,
    /// The declared type.
    pub ty: ContextKeyType,
}

/// What to simulate.
#[derive(Debug, Clone, Default)]
pub struct SimulationInput {
    /// Identity policies: (source id, text).
    pub policies: Vec<(String, String)>,
    /// At most one permissions boundary: (source id, text).
    pub boundaries: Vec<(String, String)>,
    /// Actions to evaluate.
    pub actions: Vec<String>,
    /// Resources to evaluate (`*` when empty).
    pub resources: Vec<String>,
    /// A resource-based policy.
    pub resource_policy: Option<String>,
    /// The account that owns the resources (ID or `arn:…:root`).
    pub resource_owner: Option<String>,
    /// The simulated caller.
    pub caller_arn: Option<String>,
    /// Context keys.
    pub context: Vec<ContextEntry>,
}

/// A statement that decided, located in its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// `PolicyInputList.1`, `ResourcePolicy`, …
    pub source_policy_id: String,
    /// `IAM Policy` or `resource`.
    pub source_policy_type: &'static str,
    /// Where the statement starts.
    pub start: Position,
    /// Where the statement ends.
    pub end: Position,
}

/// The result for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationResult {
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The decision.
    pub decision: Outcome,
    /// The statements that decided.
    pub matched: Vec<StatementRef>,
    /// Context keys the matching statements read but the input lacked.
    pub missing_context_values: Vec<String>,
    /// Whether the boundary allowed (when a boundary was given).
    pub allowed_by_boundary: Option<bool>,
    /// A sentence explaining the decision.
    pub explanation: String,
}

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    /// A policy does not validate.
    #[error("{policy_id}: {source}")]
    Malformed {
        /// Which input.
        policy_id: String,
        /// Why.
        source: PolicyError,
    },
    /// Some other input is invalid; the message names the field.
    #[error("{0}")]
    InvalidInput(String),
}

// === impl SimulateError ===

impl SimulateError {
    /// The AWS error code.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "MalformedPolicyDocument",
            Self::InvalidInput(_) => "InvalidInput",
        }
    }
}

/// Runs the simulation.
pub fn simulate(input: &SimulationInput) -> Result<Vec<EvaluationResult>, SimulateError> {
    if input.actions.is_empty() {
        return Err(SimulateError::InvalidInput(
            "ActionNames must name at least one action".into(),
        ));
    }
    if input.boundaries.len() > 1 {
        return Err(SimulateError::InvalidInput(
            "PermissionsBoundaryPolicyInputList may contain at most one policy".into(),
        ));
    }
    let parse = |id: &str, kind, text: &str| {
        Policy::parse(id, kind, text)
            .map(Arc::new)
            .map_err(|source| SimulateError::Malformed {
                policy_id: id.to_owned(),
                source,
            })
    };
    let identity: Vec<_> = input
        .policies
        .iter()
        .map(|(id, t)| parse(id, PolicyKind::Identity, t))
        .collect::<Result<_, _>>()?;
    let boundary = match input.boundaries.first() {
        Some((id, t)) => Some(parse(id, PolicyKind::Boundary, t)?),
        None => None,
    };
    let resource_policy = match &input.resource_policy {
        Some(t) => Some(parse("ResourcePolicy", PolicyKind::Resource, t)?),
        None => None,
    };
    let owner = match &input.resource_owner {
        Some(o) => Some(account_of(o).ok_or_else(|| {
            SimulateError::InvalidInput(format!(
                "ResourceOwner \"{o}\" must be an account ID or arn:aws:iam::<account>:root"
            ))
        })?),
        None => None,
    };
    let principal = caller(input.caller_arn.as_deref(), owner.as_deref())?;
    let context = build_context(&input.context, &principal)?;
    let set = PolicySet {
        identity,
        boundary,
        ..Default::default()
    };
    let side = ResourceSide {
        policy: resource_policy.as_deref(),
        rcps: &[],
    };
    let star = ["*".to_owned()];
    let resources: &[String] = if input.resources.is_empty() {
        &star
    } else {
        &input.resources
    };
    let mut out = Vec::new();
    for action in &input.actions {
        for resource in resources {
            let mut req = Request::new(&principal, action, resource, &context);
            if let Some(o) = owner.as_deref() {
                req = req.with_resource_account(o);
            }
            let d = evaluate(&set, side, &req);
            let mut missing = Vec::new();
            for p in set
                .identity
                .iter()
                .chain(&set.boundary)
                .chain(&resource_policy)
            {
                p.missing_context_keys(&req, &mut missing);
            }
            let boundary_allows = set.boundary.as_ref().map(|_| {
                let of = |e| {
                    d.matched
                        .iter()
                        .any(|m| m.source == PolicySource::Boundary && m.effect == e)
                };
                of(Effect::Allow) && !of(Effect::Deny)
            });
            out.push(EvaluationResult {
                action: action.clone(),
                resource: resource.clone(),
                decision: d.outcome,
                matched: d.deciding().map(statement_ref).collect(),
                missing_context_values: missing,
                allowed_by_boundary: boundary_allows,
                explanation: d.reason.explain(action),
            });
        }
    }
    Ok(out)
}

fn statement_ref(m: &crate::domain::policy::MatchedStatement<'_>) -> StatementRef {
    let s = m.policy.document().statements.get(m.index);
    StatementRef {
        source_policy_id: m.policy.id().to_owned(),
        source_policy_type: if m.source == PolicySource::Resource {
            "resource"
        } else {
            "IAM Policy"
        },
        start: s.map(|s| s.start).unwrap_or_default(),
        end: s.map(|s| s.end).unwrap_or_default(),
    }
}

fn account_of(owner: &str) -> Option<String> {
    let acct = owner
        .strip_prefix("arn:")
        .and_then(|r| r.split(':').nth(3))
        .unwrap_or(owner);
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then(|| acct.to_owned())
}

fn caller(arn: Option<&str>, owner: Option<&str>) -> Result<Principal, SimulateError> {
    let Some(arn) = arn else {
        let acct = owner.unwrap_or("123456789012");
        return Ok(Principal::user(
            &format!("arn:aws:iam::{acct}:user/simulated-caller"),
            None,
        ));
    };
    let bad = || {
        SimulateError::InvalidInput(format!(
            "CallerArn \"{arn}\" must be an IAM user, root, assumed-role or federated-user ARN"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts[..] else {
        return Err(bad());
    };
    match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => Ok(Principal::root(partition, account)),
        ("iam", Some(("user", _))) => Ok(Principal::user(arn, None)),
        ("sts", Some(("assumed-role", rest))) => {
            let role = rest
                .split('/')
                .next()
                .filter(|r| !r.is_empty())
                .ok_or_else(bad)?;
            let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
            Ok(Principal::assumed_role(arn, &role_arn, None))
        }
        ("sts", Some(("federated-user", _))) => Ok(Principal::federated_user(arn, "")),
        _ => Err(bad()),
    }
}

fn build_context(entries: &[ContextEntry], p: &Principal) -> Result<Context, SimulateError> {
    let mut ctx = Context::new();
    if p.kind == crate::domain::policy::PrincipalKind::User
        && let Some(name) = p.arn.rsplit('/').next()
    {
        ctx.insert("aws:username", name);
    }
    for e in entries {
        if e.key.is_empty() {
            return Err(SimulateError::InvalidInput(
                "ContextEntries: ContextKeyName must not be empty".into(),
            ));
        }
        if let Some(bad) = e.values.iter().find(|v| !e.ty.valid(v)) {
            return Err(SimulateError::InvalidInput(format!(
                "ContextEntries: value \"{bad}\" of key \"{}\" is not valid for its ContextKeyType",
                e.key
            )));
        }
        let value = if e.ty.is_list() {
            ContextValue::Multi(e.values.iter().map(|v| v.as_str().into()).collect())
        } else {
            match &e.values[..] {
                [one] => ContextValue::Single(one.as_str().into()),
                _ => {
                    return Err(SimulateError::InvalidInput(format!(
                        "ContextEntries: key \"{}\" has a single-valued type but {} values",
                        e.key,
                        e.values.len()
                    )));
                }
            }
        };
        ctx.insert(&e.key, value);
    }
    Ok(ctx)
}
