//! The shared IAM policy evaluator.
//!
//! Owns: parsing IAM JSON policy documents (identity, resource, trust,
//! boundary, session, SCP, RCP) into a validated model, compiling them once,
//! and deciding requests with AWS's semantics — reference sections 5–7 of
//! `shared/reference/sts-iam-reference.md`. Every access decision in stsd goes
//! through here: trust policies on `AssumeRole*`, the broker's own IAM API,
//! and every `Authorize` call. Nothing else re-implements a piece of it.
//!
//! Pure: std, serde_json (rendering), thiserror and data-encoding only; no
//! I/O, no clock (time arrives as context keys), no async.
//!
//! ```
//! use stsd::domain::policy::{Context, Policy, PolicyKind, PolicySet, Principal, Request, ResourceSide, evaluate};
//! use std::sync::Arc;
//!
//! let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#;
//! let policy = Policy::parse("p1", PolicyKind::Identity, doc).unwrap();
//! let set = PolicySet { identity: vec![Arc::new(policy)], ..Default::default() };
//! let alice = Principal::user("arn:aws:iam::111122223333:user/alice", None);
//! let mut ctx = Context::new();
//! ctx.insert("aws:username", "alice");
//! let req = Request::new(&alice, "s3:GetObject", "arn:aws:s3:::b/alice/x", &ctx);
//! assert!(evaluate(&set, ResourceSide::default(), &req).is_allowed());
//! ```

mod arn;
mod compiled;
mod condition;
mod context;
mod decision;
mod error;
mod eval;
mod json;
pub mod lint;
mod model;
mod parse;
mod principal;
mod values;
mod wildcard;

pub use condition::{BaseOperator, Family, Operator, SetQualifier};
pub use context::{Context, ContextValue};
pub use decision::{Decision, EvalError, MatchedStatement, Outcome, PolicySource, Reason};
pub use error::PolicyError;
pub use eval::{PolicySet, Request, ResourceSide, evaluate};
pub use json::Position;
pub use model::{
    Condition, Document, Effect, Listed, PolicyKind, PrincipalType, Principals, Statement, Version,
};
pub use principal::{Principal, PrincipalKind, Strength};

use compiled::CompiledStatement;

/// A parsed, validated and compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    id: String,
    kind: PolicyKind,
    document: Document,
    statements: Box<[CompiledStatement]>,
}

// === impl Policy ===

impl Policy {
    /// Parses `text` as a policy of `kind` under the kind's default size
    /// limit; `id` names it in decisions (`PolicyInputList.1`, an ARN, …).
    pub fn parse(id: impl Into<String>, kind: PolicyKind, text: &str) -> Result<Self, PolicyError> {
        Self::parse_with_limit(id, kind, text, kind.default_size_limit())
    }

    /// As [`Policy::parse`], with an explicit size limit (in characters,
    /// whitespace not counted).
    pub fn parse_with_limit(
        id: impl Into<String>,
        kind: PolicyKind,
        text: &str,
        limit: usize,
    ) -> Result<Self, PolicyError> {
        let document = parse::parse(text, kind, limit)?;
        Self::from_document(id, kind, document)
    }

    /// Compiles an already validated document.
    pub fn from_document(
        id: impl Into<String>,
        kind: PolicyKind,
        document: Document,
    ) -> Result<Self, PolicyError> {
        let statements = compiled::compile(&document)?;
        Ok(Self {
            id: id.into(),
            kind,
            document,
            statements,
        })
    }

    /// The id given at parse time.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the policy is used as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The validated document.
    pub fn document(&self) -> &Document {
        &self.document
    }

    pub(crate) fn statements(&self) -> &[CompiledStatement] {
        &self.statements
    }

    /// Condition keys (as written) and policy-variable keys (lower-cased)
    /// that statements matching the request's action and resource read but
    /// the request's context lacks — IAM's `MissingContextValues`.
    pub fn missing_context_keys(&self, request: &Request<'_>, out: &mut Vec<String>) {
        let target = request.target();
        for (compiled, stmt) in self.statements.iter().zip(&self.document.statements) {
            if !compiled.matches_target(&target)
                || compiled.principal_strength(target.principal).is_none()
            {
                continue;
            }
            let mut vars = Vec::new();
            for (cc, c) in compiled.conditions.iter().zip(&stmt.conditions) {
                if !target.context.contains(cc.key())
                    && !out.iter().any(|k| k.eq_ignore_ascii_case(&c.key))
                {
                    out.push(c.key.clone());
                }
                cc.variable_keys(&mut vars);
            }
            for v in vars {
                if !target.context.contains(&v) && !out.iter().any(|k| k.eq_ignore_ascii_case(&v)) {
                    out.push(v.into_string());
                }
            }
        }
    }
}

/// True when `v` is a valid request value for operators of `family`
/// (used to check typed simulation input up front).
pub fn value_is_valid(family: Family, v: &str) -> bool {
    match family {
        Family::String | Family::Arn => true,
        Family::Numeric => values::number(v).is_some(),
        Family::Date => values::date(v).is_some(),
        Family::Bool | Family::Null => values::boolean(v).is_some(),
        Family::Binary => values::binary(v).is_some(),
        Family::Ip => values::ip(v).is_some(),
    }
}
