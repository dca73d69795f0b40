//! SimulateCustomPolicy and SimulatePrincipalPolicy on the IAM API.
//!
//! Owns: authorizing the two actions, checking action names, gathering a
//! principal's policies from the store for SimulatePrincipalPolicy (a
//! user's inline and attached policies and those of its groups, a role's,
//! or a group's, plus the user's or role's permissions boundary, plus the
//! request's extra `PolicyInputList`), and paging the results. The
//! simulation itself is [`crate::service::simulate_policy::simulate`],
//! shared with the CLI. May import `domain`, `service::authz`,
//! `service::error`, `service::simulate_policy`, `service::store`.
//! Spec: reference section 6.

use crate::domain::ids::{Arn, PrincipalKind};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::holder::{Holder, arn_of, attached_of, inline_of, load};
use crate::service::iam::inline::page_of;
use crate::service::iam::policies::load_policy;
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::simulate_policy::{
    ContextEntry, EvaluationResult, SimulateError, SimulationInput, simulate,
};
use crate::service::store::Record;
use crate::service::store::model::{GroupRecord, ManagedPolicyRecord};
use crate::service::store::{EntityReader, Key, fetch};

/// A boundary that allows no real action (its policy no longer exists).
const ALLOW_NOTHING: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"stsd:NoSuchAction","Resource":"*"}}"#;

/// What both simulate actions take.
#[derive(Debug, Clone, Default)]
pub struct SimulateRequest {
    /// `PolicyInputList`.
    pub policies: Vec<String>,
    /// `PermissionsBoundaryPolicyInputList`.
    pub boundaries: Vec<String>,
    /// `ActionNames`.
    pub actions: Vec<String>,
    /// `ResourceArns` (`*` when empty).
    pub resources: Vec<String>,
    /// `ResourcePolicy`.
    pub resource_policy: Option<String>,
    /// `ResourceOwner`.
    pub resource_owner: Option<String>,
    /// `CallerArn`.
    pub caller_arn: Option<String>,
    /// `ContextEntries`.
    pub context: Vec<ContextEntry>,
}

/// Checks that every action is `service:action`.
fn check_actions(actions: &[String]) -> Result<(), ServiceError> {
    for a in actions {
        let ok = a.split_once(':').is_some_and(|(service, name)| {
            !service.is_empty()
                && !name.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'?' | b'-' | b'_'))
        });
        if !ok {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                format!("Invalid action name: {a}"),
            ));
        }
    }
    Ok(())
}

/// Runs [`simulate`] and pages its results.
fn run(
    input: &SimulationInput,
    paging: &Paging,
) -> Result<Listing<EvaluationResult>, ServiceError> {
    check_actions(&input.actions)?;
    let results = simulate(input).map_err(|e| match &e {
        SimulateError::Malformed { .. } => {
            ServiceError::new(ErrorCode::MalformedPolicyDocument, e.to_string())
        }
        SimulateError::InvalidInput(m) => ServiceError::new(ErrorCode::InvalidInput, m.clone()),
    })?;
    let numbered: Vec<(String, EvaluationResult)> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| (format!("{i:06}"), r))
        .collect();
    let page = page_of(numbered, paging, |(m, _)| m.clone());
    Ok(Listing {
        items: page.items.into_iter().map(|(_, r)| r).collect(),
        marker: page.marker,
    })
}

/// The simulation input of `req` with `extra` identity policies and
/// boundary first.
fn input_of(
    req: SimulateRequest,
    extra: Vec<(String, String)>,
    boundary: Option<(String, String)>,
) -> SimulationInput {
    let mut policies = extra;
    policies.extend(
        req.policies
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("PolicyInputList.{}", i + 1), t)),
    );
    let mut boundaries: Vec<(String, String)> = boundary.into_iter().collect();
    boundaries.extend(
        req.boundaries
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("PermissionsBoundaryPolicyInputList.{}", i + 1), t)),
    );
    SimulationInput {
        policies,
        boundaries,
        actions: req.actions,
        resources: req.resources,
        resource_policy: req.resource_policy,
        resource_owner: req.resource_owner,
        caller_arn: req.caller_arn,
        context: req.context,
    }
}

/// SimulateCustomPolicy.
///
/// # Errors
///
/// `AccessDenied`, `MalformedPolicyDocument`, `InvalidInput`.
pub fn simulate_custom_policy(
    caller: &AuthzCaller,
    req: SimulateRequest,
    paging: &Paging,
) -> Result<Listing<EvaluationResult>, ServiceError> {
    caller.authorize("iam:SimulateCustomPolicy", "*", &[])?;
    if req.policies.is_empty() {
        return Err(ServiceError::new(
            ErrorCode::InvalidInput,
            "PolicyInputList must contain at least one policy",
        ));
    }
    run(&input_of(req, vec![], None), paging)
}

/// SimulatePrincipalPolicy: the policies of the user, group or role
/// `source` (and its boundary), plus the request's.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `InvalidInput`,
/// `MalformedPolicyDocument`.
pub async fn simulate_principal_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    source: &Arn,
    mut req: SimulateRequest,
    paging: &Paging,
) -> Result<Listing<EvaluationResult>, ServiceError> {
    caller.authorize("iam:SimulatePrincipalPolicy", source.as_str(), &[])?;
    let invalid = || {
        ServiceError::new(
            ErrorCode::InvalidInput,
            format!("PolicySourceArn {source} must be a user, group or role of this account"),
        )
    };
    if source.account_id() != Some(caller.account()) {
        return Err(invalid());
    }
    let holder = match source.principal_kind() {
        PrincipalKind::User { name, .. } => Holder::User(name),
        PrincipalKind::Role { name, .. } => Holder::Role(name),
        _ => source
            .resource()
            .strip_prefix("group/")
            .and_then(|rest| rest.rsplit('/').next())
            .and_then(|n| n.parse().ok())
            .map(Holder::Group)
            .ok_or_else(invalid)?,
    };
    let not_found = || {
        ServiceError::new(
            ErrorCode::NoSuchEntity,
            format!("The {} with ARN {source} cannot be found.", holder.noun()),
        )
    };
    let found = load(&*iam.store, caller.account(), &holder)
        .await
        .map_err(|_| not_found())?
        .record;
    if arn_of(&found) != Some(source) {
        return Err(not_found());
    }
    let mut policies = Vec::new();
    collect(&*iam.store, caller, &found, &mut policies).await?;
    let boundary_arn = match &found {
        Record::User(u) => {
            for g in &u.groups {
                let key = Key::group(caller.account(), g);
                if let Some(group) = fetch::<GroupRecord>(&*iam.store, &key).await? {
                    collect(&*iam.store, caller, &group.record.into(), &mut policies).await?;
                }
            }
            if req.caller_arn.is_none() {
                req.caller_arn = Some(source.to_string());
            }
            u.permissions_boundary.clone()
        }
        Record::Role(r) => r.permissions_boundary.clone(),
        _ => None,
    };
    let boundary = match boundary_arn {
        Some(arn) => Some(match load_policy(&*iam.store, caller, &arn).await {
            Ok(p) => (arn.to_string(), default_document(&p.record)),
            Err(_) => (arn.to_string(), ALLOW_NOTHING.to_owned()),
        }),
        None => None,
    };
    run(&input_of(req, policies, boundary), paging)
}

/// Adds `record`'s inline and attached policies to `out` as
/// (source id, document).
async fn collect(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    record: &Record,
    out: &mut Vec<(String, String)>,
) -> Result<(), ServiceError> {
    for (name, doc) in inline_of(record).into_iter().flatten() {
        out.push((name.to_string(), doc.clone()));
    }
    for arn in attached_of(record).into_iter().flatten() {
        if let Ok(p) = load_policy(store, caller, arn).await {
            out.push((arn.to_string(), default_document(&p.record)));
        }
    }
    Ok(())
}

/// The default version's document.
fn default_document(p: &ManagedPolicyRecord) -> String {
    p.versions
        .iter()
        .find(|v| v.version_id == p.default_version_id)
        .map(|v| v.document.clone())
        .unwrap_or_else(|| ALLOW_NOTHING.to_owned())
}

#[cfg(test)]
mod tests;
