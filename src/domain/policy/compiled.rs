//! Compiled statements: the form the evaluator runs.
//!
//! Owns: turning a validated [`Document`] into matchers that evaluate without
//! re-parsing — lower-cased action globs, field-split ARN globs, typed
//! condition values, classified principal entries — and deciding whether one
//! statement applies to one request. Pure.

use super::arn::ArnPattern;
use super::condition::{BadRequestValue, CompiledCondition};
use super::context::Context;
use super::error::PolicyError;
use super::model::{Document, Effect, Statement};
use super::principal::{Entry, Principal, PrincipalMatcher, Strength};
use super::wildcard::{Pattern, Syntax};

/// A statement ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct CompiledStatement {
    pub(crate) effect: Effect,
    principal: Option<PrincipalMatcher>,
    actions: Matcher<Pattern>,
    resources: Option<Matcher<ArnPattern>>,
    pub(crate) conditions: Box<[CompiledCondition]>,
}

#[derive(Debug, Clone)]
struct Matcher<T> {
    negated: bool,
    /// True when one entry is `*` (then `patterns` is not consulted).
    any: bool,
    patterns: Box<[T]>,
}

/// Whether a statement applies to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applies {
    /// Action, resource, principal or a condition does not match.
    No,
    /// Everything matches; the strength of the principal match (`Direct`
    /// when the statement has no principal element).
    Yes(Strength),
    /// A condition could not read a request value.
    Error(BadRequestValue),
}

/// What the statement is matched against.
pub(crate) struct Target<'r> {
    pub(crate) principal: &'r Principal,
    /// Lower-cased `service:action`.
    pub(crate) action: &'r str,
    pub(crate) resource: &'r str,
    /// The resource split into its six ARN fields, once per request.
    pub(crate) resource_fields: Option<[&'r str; 6]>,
    pub(crate) context: &'r Context,
}

/// Compiles every statement of `doc`.
pub(crate) fn compile(doc: &Document) -> Result<Box<[CompiledStatement]>, PolicyError> {
    let vars = doc.substitutes_variables();
    doc.statements
        .iter()
        .map(|s| compile_statement(s, vars))
        .collect()
}

fn compile_statement(s: &Statement, vars: bool) -> Result<CompiledStatement, PolicyError> {
    let glob = Syntax {
        wildcards: true,
        variables: false,
    };
    let actions = Matcher {
        negated: s.action.negated,
        any: s.action.values.iter().any(|a| a == "*"),
        patterns: s
            .action
            .values
            .iter()
            .map(|a| Pattern::compile(a, glob, true))
            .collect(),
    };
    let resources = match &s.resource {
        None => None,
        Some(r) => Some(Matcher {
            negated: r.negated,
            any: r.values.iter().any(|v| v == "*"),
            patterns: r
                .values
                .iter()
                .map(|v| ArnPattern::compile_resource(v, vars).map_err(PolicyError::Invalid))
                .collect::<Result<_, _>>()?,
        }),
    };
    let principal = match &s.principal {
        None => None,
        Some(p) => {
            let mut entries = Vec::new();
            match &p.entries {
                None => entries.push(Entry::Everyone),
                Some(list) => {
                    for (ty, values) in list {
                        for v in values {
                            entries.push(Entry::compile(*ty, v)?);
                        }
                    }
                }
            }
            Some(PrincipalMatcher {
                negated: p.negated,
                entries,
            })
        }
    };
    let conditions = s
        .conditions
        .iter()
        .map(|c| CompiledCondition::compile(c.operator, &c.key, &c.values, vars))
        .collect::<Result<_, _>>()?;
    Ok(CompiledStatement {
        effect: s.effect,
        principal,
        actions,
        resources,
        conditions,
    })
}

// === impl CompiledStatement ===

impl CompiledStatement {
    /// True when the action and resource elements match (principal and
    /// conditions not considered).
    pub(crate) fn matches_target(&self, t: &Target<'_>) -> bool {
        let a = &self.actions;
        let action_hit = a.any || a.patterns.iter().any(|p| p.matches_plain(t.action, false));
        if action_hit == a.negated {
            return false;
        }
        match &self.resources {
            None => true,
            Some(r) => {
                let hit = r.any
                    || r.patterns.iter().any(|p| {
                        p.matches_split(t.resource, t.resource_fields.as_ref(), t.context)
                            == Some(true)
                    });
                hit != r.negated
            }
        }
    }

    /// How the statement's principal element names the caller (`Direct` when
    /// it has none).
    pub(crate) fn principal_strength(&self, p: &Principal) -> Option<Strength> {
        match &self.principal {
            None => Some(Strength::Direct),
            Some(m) => m.strength(p),
        }
    }

    /// Decides whether the statement applies to the request.
    pub(crate) fn applies(&self, t: &Target<'_>) -> Applies {
        if !self.matches_target(t) {
            return Applies::No;
        }
        let Some(strength) = self.principal_strength(t.principal) else {
            return Applies::No;
        };
        // A false condition decides whatever the order: only when none is
        // false does an unreadable one make the statement an error.
        let mut error = None;
        for c in &*self.conditions {
            match c.eval(t.context) {
                Ok(true) => {}
                Ok(false) => return Applies::No,
                Err(e) => error = error.or(Some(e)),
            }
        }
        match error {
            Some(e) => Applies::Error(e),
            None => Applies::Yes(strength),
        }
    }
}
