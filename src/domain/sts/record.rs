//! The authorization record behind an encoded `AccessDenied` message.
//!
//! Owns: [`AuthorizationRecord`] — an owned copy of what decided a request
//! (the outcome, the statements that applied, the statements that could
//! not be evaluated, the principal, action, resource and every context key)
//! built from the evaluator's [`Decision`] — and its rendering as the JSON
//! `DecodedMessage` of `DecodeAuthorizationMessage`, in the shape AWS
//! documents (`allowed`, `explicitDeny`, `matchedStatements.items`,
//! `failures.items`, `context.{principal, action, resource,
//! conditions.items[].{key, values.items[].value}}`). Statement items carry
//! the policy's id, its layer and the statement's index beside AWS's
//! `statementId` and `effect`. Sealing the JSON is the service's job. Pure.
//! Spec: reference 1.3 (DecodeAuthorizationMessage) and 6.

use serde_json::{Value, json};

use crate::domain::policy::{Context, Decision, Effect, Outcome, PolicySource, Principal};

/// The largest rendered record, in bytes: sealed and base64-encoded it
/// stays within the 10,240 characters `EncodedMessage` accepts.
pub const MAX_RECORD_BYTES: usize = 7_000;

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRecord {
    /// The id of its policy (an ARN, or `owner:name` for inline policies).
    pub policy_id: String,
    /// The layer it was evaluated in.
    pub source: PolicySource,
    /// Its index in the policy, from 0.
    pub index: usize,
    /// Its `Sid`.
    pub sid: Option<String>,
    /// Its effect.
    pub effect: Effect,
}

/// What decided one request, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRecord {
    /// Allowed, or how it was denied.
    pub outcome: Outcome,
    /// The statements that applied, in evaluation order.
    pub matched: Vec<StatementRecord>,
    /// The statements that could not be evaluated, described.
    pub failures: Vec<String>,
    /// The caller's `aws:userid` (or unique ID).
    pub principal_id: Option<String>,
    /// The caller's ARN.
    pub principal_arn: String,
    /// The caller's account: only callers of this account may have the
    /// sealed record decoded.
    pub principal_account: Option<String>,
    /// The action (`sts:AssumeRole`).
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// Every context key (lower-cased) and its values, sorted by key.
    pub conditions: Vec<(String, Vec<String>)>,
}

// === impl AuthorizationRecord ===

impl AuthorizationRecord {
    /// The record of `decision`, taken for `principal` doing `action` on
    /// `resource` with `context`.
    pub fn new(
        decision: &Decision<'_>,
        principal: &Principal,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Self {
        let matched = decision
            .matched
            .iter()
            .map(|m| StatementRecord {
                policy_id: m.policy.id().to_owned(),
                source: m.source,
                index: m.index,
                sid: m.sid().map(str::to_owned),
                effect: m.effect,
            })
            .collect();
        let failures = decision
            .errors
            .iter()
            .map(|e| {
                format!(
                    "statement {} of policy {}: the value of condition key {} is not {}",
                    e.statement.index,
                    e.statement.policy.id(),
                    e.key,
                    e.expected
                )
            })
            .collect();
        let principal_id = context
            .get("aws:userid")
            .and_then(|v| v.values().next().map(str::to_owned))
            .or_else(|| principal.id.clone());
        Self {
            outcome: decision.outcome,
            matched,
            failures,
            principal_id,
            principal_arn: principal.arn.clone(),
            principal_account: principal.account.clone(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            conditions: context
                .iter()
                .map(|(k, v)| (k.to_owned(), v.values().map(str::to_owned).collect()))
                .collect(),
        }
    }

    /// The `DecodedMessage` JSON, compact, at most [`MAX_RECORD_BYTES`]:
    /// when the whole record is larger, context keys are left out from the
    /// last one on and `"truncated": true` is added.
    pub fn to_json(&self) -> String {
        let mut keep = self.conditions.len();
        loop {
            let text = self.render(keep).to_string();
            if text.len() <= MAX_RECORD_BYTES || keep == 0 {
                return text;
            }
            keep = keep.saturating_sub(keep.div_ceil(4).max(1));
        }
    }

    /// The JSON value with the first `keep` context keys.
    fn render(&self, keep: usize) -> Value {
        let statements: Vec<Value> = self
            .matched
            .iter()
            .map(|m| {
                json!({
                    "statementId": m.sid.clone().unwrap_or_else(|| format!("{}", m.index)),
                    "effect": effect_name(m.effect),
                    "policyId": m.policy_id,
                    "policyType": m.source.describe(),
                    "statementIndex": m.index,
                })
            })
            .collect();
        let failures: Vec<Value> = self
            .failures
            .iter()
            .map(|f| json!({ "message": f }))
            .collect();
        let conditions: Vec<Value> = self
            .conditions
            .iter()
            .take(keep)
            .map(|(k, vs)| {
                let values: Vec<Value> = vs.iter().map(|v| json!({ "value": v })).collect();
                json!({ "key": k, "values": { "items": values } })
            })
            .collect();
        let mut principal = json!({
            "arn": self.principal_arn,
            "name": principal_name(&self.principal_arn),
        });
        if let (Some(id), Some(obj)) = (&self.principal_id, principal.as_object_mut()) {
            obj.insert("id".to_owned(), Value::String(id.clone()));
        }
        let mut out = json!({
            "allowed": self.outcome == Outcome::Allowed,
            "explicitDeny": self.outcome == Outcome::ExplicitDeny,
            "matchedStatements": { "items": statements },
            "failures": { "items": failures },
            "context": {
                "principal": principal,
                "action": self.action,
                "resource": self.resource,
                "conditions": { "items": conditions },
            },
        });
        if keep < self.conditions.len()
            && let Some(obj) = out.as_object_mut()
        {
            obj.insert("truncated".to_owned(), Value::Bool(true));
        }
        out
    }
}

/// `ALLOW` or `DENY`, as AWS spells effects in decoded messages.
fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::Allow => "ALLOW",
        Effect::Deny => "DENY",
    }
}

/// The principal's name: the last segment of its ARN (`alice`,
/// `federated-user/Bob` → `Bob`), `root` for an account.
fn principal_name(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    resource.rsplit('/').next().unwrap_or(resource)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::policy::{Policy, PolicyKind, PolicySet, Request, ResourceSide, evaluate};

    #[test]
    fn records_the_decision_and_the_context() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoProd","Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}"#;
        let set = PolicySet {
            identity: vec![Arc::new(
                Policy::parse("user/alice:p", PolicyKind::Identity, doc).unwrap(),
            )],
            ..Default::default()
        };
        let alice = Principal::user("arn:aws:iam::111122223333:user/alice", Some("AIDAEXAMPLE"));
        let mut ctx = Context::new();
        ctx.insert("aws:username", "alice");
        ctx.insert("aws:TagKeys", vec!["a".to_owned(), "b".to_owned()]);
        let role = "arn:aws:iam::111122223333:role/prod";
        let req = Request::new(&alice, "sts:AssumeRole", role, &ctx);
        let decision = evaluate(&set, ResourceSide::default(), &req);
        let record = AuthorizationRecord::new(&decision, &alice, "sts:AssumeRole", role, &ctx);
        assert_eq!(record.outcome, Outcome::ExplicitDeny);
        let v: Value = serde_json::from_str(&record.to_json()).unwrap();
        assert_eq!(v["allowed"], false);
        assert_eq!(v["explicitDeny"], true);
        assert_eq!(v["matchedStatements"]["items"][0]["statementId"], "NoProd");
        assert_eq!(v["matchedStatements"]["items"][0]["effect"], "DENY");
        assert_eq!(v["context"]["principal"]["id"], "AIDAEXAMPLE");
        assert_eq!(v["context"]["principal"]["name"], "alice");
        assert_eq!(v["context"]["resource"], role);
        assert_eq!(v["context"]["conditions"]["items"][0]["key"], "aws:tagkeys");
        assert_eq!(
            v["context"]["conditions"]["items"][0]["values"]["items"][1]["value"],
            "b"
        );
        assert!(v.get("truncated").is_none());
    }

    #[test]
    fn large_contexts_are_truncated() {
        let alice = Principal::user("arn:aws:iam::111122223333:user/alice", None);
        let mut ctx = Context::new();
        for i in 0..200 {
            ctx.insert(&format!("aws:PrincipalTag/k{i}"), "v".repeat(100));
        }
        let set = PolicySet::default();
        let req = Request::new(&alice, "iam:GetUser", "*", &ctx);
        let decision = evaluate(&set, ResourceSide::default(), &req);
        let json = AuthorizationRecord::new(&decision, &alice, "iam:GetUser", "*", &ctx).to_json();
        assert!(json.len() <= MAX_RECORD_BYTES);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["truncated"], true);
        assert_eq!(v["context"]["action"], "iam:GetUser");
    }
}
