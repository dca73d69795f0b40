//! Role trust policies as IAM saves and shows them.
//!
//! Owns: validating a trust policy when it is saved ([`to_stored`]) — the
//! document must parse as a [`PolicyKind::Trust`] policy within 2,048
//! characters, and every `AWS` principal naming a user or role ARN of an
//! account this store knows must exist — and the conversion AWS applies:
//! such principals are stored by the entity's unique ID (`AIDA…`/`AROA…`),
//! so deleting and recreating the entity breaks the trust, and are rendered
//! back as ARNs on read ([`Renderer`]); an ID whose entity is gone renders
//! as the raw ID. A bare account ID is stored as its root ARN, as IAM
//! does. `aws:PrincipalArn` conditions are not converted.
//!
//! The stored form is the document as given when no principal changes,
//! else the document re-serialized compactly with the same shape (a list
//! of statements stays a list); the evaluator matches unique-ID
//! principals directly, so AssumeRole reads the stored form.
//!
//! May import `domain`, `service::error`, `service::store`.
//! Spec: reference section 6.4 (last paragraph) and 12.

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::ids::{AccountId, Arn, Partition, PrincipalKind, UniqueId};

use crate::domain::policy::{Policy, PolicyError, PolicyKind, PrincipalType};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::scan::list_all;
use crate::service::store::model::{RoleRecord, UserRecord};
use crate::service::store::{EntityReader, Key, fetch};

/// The trust policy size quota (reference 12), whitespace not counted.
pub const MAX_TRUST_POLICY: usize = 2_048;

/// Validates `text` as a trust policy and returns the form to store, with
/// user and role ARNs replaced by unique IDs.
///
/// # Errors
///
/// `MalformedPolicyDocument` for an invalid document or a principal that
/// does not exist; `LimitExceeded` past [`MAX_TRUST_POLICY`].
pub async fn to_stored(
    store: &(impl EntityReader + ?Sized),
    partition: &Partition,
    text: &str,
) -> Result<String, ServiceError> {
    let policy = check(text)?;
    let values: Vec<String> = policy
        .document()
        .statements
        .iter()
        .filter_map(|s| s.principal.as_ref())
        .filter_map(|p| p.entries.as_ref())
        .flatten()
        .filter(|(ty, _)| *ty == PrincipalType::Aws)
        .flat_map(|(_, values)| values.iter().cloned())
        .collect();
    let mut ids = HashMap::new();
    for value in values {
        if let Ok(account) = value.parse::<AccountId>() {
            let root = Arn::iam_root(partition, account).to_string();
            ids.insert(value, root);
        } else if let Some(id) = principal_id(store, &value).await? {
            ids.insert(value, id.to_string());
        }
    }
    if ids.is_empty() {
        return Ok(text.to_owned());
    }
    let mut doc: Value = serde_json::from_str(text).map_err(ServiceError::internal)?;
    for v in aws_values(&mut doc) {
        if let Some(id) = ids.get(v.as_str()) {
            *v = id.clone();
        }
    }
    Ok(doc.to_string())
}

/// Validates `text` as a trust policy, without looking at the store.
///
/// # Errors
///
/// `MalformedPolicyDocument`; `LimitExceeded` past [`MAX_TRUST_POLICY`].
pub fn check(text: &str) -> Result<Policy, ServiceError> {
    Policy::parse_with_limit(
        "AssumeRolePolicyDocument",
        PolicyKind::Trust,
        text,
        MAX_TRUST_POLICY,
    )
    .map_err(|e| match e {
        PolicyError::Size { limit, .. } => ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for ACLSizePerRole: {limit}"),
        ),
        other => other.into(),
    })
}

/// Rewrites every bare account ID among `doc`'s `AWS` principals to the
/// account's root ARN, as [`to_stored`] stores it (so a document can be
/// compared with a rendered one).
pub fn normalize_accounts(doc: &mut Value, partition: &Partition) {
    for v in aws_values(doc) {
        if let Ok(account) = v.parse::<AccountId>() {
            *v = Arn::iam_root(partition, account).to_string();
        }
    }
}

/// The `AWS` principal strings of `doc` (statements and values single or
/// lists), in order.
pub fn aws_principals(doc: &Value) -> Vec<String> {
    let mut copy = doc.clone();
    aws_values(&mut copy)
        .into_iter()
        .map(|v| v.clone())
        .collect()
}

/// Every string of every statement's `Principal.AWS` and
/// `NotPrincipal.AWS`, whether statements and values are single or lists
/// (the document keeps its shape, as IAM returns it).
fn aws_values(doc: &mut Value) -> Vec<&mut String> {
    let statements: Vec<&mut Value> = match doc.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(one) => vec![one],
        None => vec![],
    };
    let mut out = Vec::new();
    for stmt in statements {
        let Value::Object(stmt) = stmt else {
            continue;
        };
        for (key, principal) in stmt.iter_mut() {
            if key != "Principal" && key != "NotPrincipal" {
                continue;
            }
            match principal.get_mut("AWS") {
                Some(Value::String(v)) => out.push(v),
                Some(Value::Array(values)) => {
                    out.extend(values.iter_mut().filter_map(|v| match v {
                        Value::String(v) => Some(v),
                        _ => None,
                    }))
                }
                _ => {}
            }
        }
    }
    out
}

/// The unique ID of the user or role `value` names, when it names one in a
/// known account; `None` for any other principal.
async fn principal_id(
    store: &(impl EntityReader + ?Sized),
    value: &str,
) -> Result<Option<UniqueId>, ServiceError> {
    let Ok(arn) = value.parse::<Arn>() else {
        return Ok(None);
    };
    let Some(account) = arn.account_id() else {
        return Ok(None);
    };
    let kind = arn.principal_kind();
    if !matches!(
        kind,
        PrincipalKind::User { .. } | PrincipalKind::Role { .. }
    ) || store.get(&Key::account(account)).await?.is_none()
    {
        return Ok(None);
    }
    let found = match kind {
        PrincipalKind::User { name, .. } => fetch::<UserRecord>(store, &Key::user(account, &name))
            .await?
            .filter(|u| u.record.arn == arn)
            .map(|u| u.record.id),
        PrincipalKind::Role { name, .. } => fetch::<RoleRecord>(store, &Key::role(account, &name))
            .await?
            .filter(|r| r.record.arn == arn)
            .map(|r| r.record.id),
        _ => None,
    };
    found.map(Some).ok_or_else(|| {
        ServiceError::new(
            ErrorCode::MalformedPolicyDocument,
            format!("Invalid principal in policy: \"AWS\":\"{value}\""),
        )
    })
}

/// Renders stored trust policies with ARNs in place of unique IDs; keeps
/// each account's ID → ARN table for the renderer's life, so a ListRoles
/// page reads each account's users and roles once.
#[derive(Debug, Default)]
pub struct Renderer {
    tables: HashMap<AccountId, HashMap<String, String>>,
}

// === impl Renderer ===

impl Renderer {
    /// A renderer with nothing loaded.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored trust policy `stored`, as IAM shows it. A document that no
    /// longer parses is shown as stored.
    ///
    /// # Errors
    ///
    /// The store's failure.
    pub async fn render(
        &mut self,
        store: &(impl EntityReader + ?Sized),
        stored: &str,
    ) -> Result<String, ServiceError> {
        let Ok(mut doc) = serde_json::from_str::<Value>(stored) else {
            return Ok(stored.to_owned());
        };
        let values: Vec<String> = aws_values(&mut doc)
            .into_iter()
            .map(|v| v.clone())
            .collect();
        let mut arns = HashMap::new();
        for v in values {
            if let Some(arn) = self.arn_of(store, &v).await? {
                arns.insert(v, arn);
            }
        }
        if arns.is_empty() {
            return Ok(stored.to_owned());
        }
        for v in aws_values(&mut doc) {
            if let Some(arn) = arns.get(v.as_str()) {
                *v = arn.clone();
            }
        }
        Ok(doc.to_string())
    }

    /// The ARN of the user or role whose unique ID is `value`, if it exists.
    async fn arn_of(
        &mut self,
        store: &(impl EntityReader + ?Sized),
        value: &str,
    ) -> Result<Option<String>, ServiceError> {
        if !(value.starts_with("AIDA") || value.starts_with("AROA")) {
            return Ok(None);
        }
        let Some(account) = value.parse::<UniqueId>().ok().and_then(|id| id.account()) else {
            return Ok(None);
        };
        if let Some(table) = self.tables.get(&account) {
            return Ok(table.get(value).cloned());
        }
        let mut table = HashMap::new();
        for u in list_all::<UserRecord>(store, account).await? {
            table.insert(u.id.to_string(), u.arn.to_string());
        }
        for r in list_all::<RoleRecord>(store, account).await? {
            table.insert(r.id.to_string(), r.arn.to_string());
        }
        let found = table.get(value).cloned();
        self.tables.insert(account, table);
        Ok(found)
    }
}
