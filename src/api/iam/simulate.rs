//! SimulateCustomPolicy and SimulatePrincipalPolicy on the wire.
//!
//! Owns: decoding `PolicyInputList`, `ActionNames`, `ResourceArns`,
//! `ContextEntries` and the rest, and writing IAM's `EvaluationResults`
//! (`MatchedStatements` with positions, `MissingContextValues`,
//! `PermissionsBoundaryDecisionDetail`), paged. Imports `service` and the
//! api's own modules.

use std::sync::Arc;

use super::paging;
use super::route::route;
use crate::api::dispatch::Dispatcher;
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::domain::policy::Position;
use crate::service::error::ServiceError;
use crate::service::iam::simulate::{self, SimulateRequest};
use crate::service::iam::{Iam, Listing};
use crate::service::simulate_policy::{ContextEntry, ContextKeyType, EvaluationResult};

/// A string list member as owned strings.
fn strings(p: &Scope<'_>, name: &str) -> Result<Vec<String>, ServiceError> {
    Ok(p.list(name)?.into_iter().map(str::to_owned).collect())
}

/// The members both actions share.
fn request(p: &Scope<'_>) -> Result<SimulateRequest, ServiceError> {
    let mut context = Vec::new();
    for e in p.struct_list("ContextEntries")? {
        let ty_text = e.required("ContextKeyType")?;
        let ty = ContextKeyType::parse(ty_text).ok_or_else(|| {
            e.invalid(
                "ContextKeyType",
                ty_text,
                "Member must satisfy enum value set: [string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList]",
            )
        })?;
        context.push(ContextEntry {
            key: e.required("ContextKeyName")?.to_owned(),
            values: strings(&e, "ContextKeyValues")?,
            ty,
        });
    }
    let actions = strings(p, "ActionNames")?;
    if actions.is_empty() {
        return Err(p.missing("ActionNames"));
    }
    Ok(SimulateRequest {
        policies: strings(p, "PolicyInputList")?,
        boundaries: strings(p, "PermissionsBoundaryPolicyInputList")?,
        actions,
        resources: strings(p, "ResourceArns")?,
        resource_policy: p.optional("ResourcePolicy").map(str::to_owned),
        resource_owner: p.optional("ResourceOwner").map(str::to_owned),
        caller_arn: p.optional("CallerArn").map(str::to_owned),
        context,
    })
}

/// `<StartPosition>`/`<EndPosition>`.
fn write_position(r: &mut XmlResponse, name: &'static str, pos: Position) {
    r.structure(name, |x| {
        x.int("Line", i64::from(pos.line))
            .int("Column", i64::from(pos.column));
    });
}

/// `EvaluationResults`, `IsTruncated`, `Marker`.
fn results(page: &Listing<EvaluationResult>) -> XmlResponse {
    let mut r = XmlResponse::new();
    r.list("EvaluationResults", |l| {
        for e in &page.items {
            l.structure(|x| {
                x.string("EvalActionName", e.action.clone())
                    .string("EvalResourceName", e.resource.clone())
                    .string("EvalDecision", e.decision.as_str());
                x.list("MatchedStatements", |m| {
                    for s in &e.matched {
                        m.structure(|y| {
                            y.string("SourcePolicyId", s.source_policy_id.clone())
                                .string("SourcePolicyType", s.source_policy_type);
                            write_position(y, "StartPosition", s.start);
                            write_position(y, "EndPosition", s.end);
                        });
                    }
                });
                x.list("MissingContextValues", |m| {
                    for k in &e.missing_context_values {
                        m.string(k.clone());
                    }
                });
                if let Some(allowed) = e.allowed_by_boundary {
                    x.structure("PermissionsBoundaryDecisionDetail", |y| {
                        y.bool("AllowedByPermissionsBoundary", allowed);
                    });
                }
            });
        }
    });
    r.bool("IsTruncated", page.marker.is_some())
        .opt_string("Marker", page.marker.clone());
    r
}

/// Registers the two simulate actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "SimulateCustomPolicy",
        |_iam, caller, call| async move {
            let p = call.params.root();
            let page = simulate::simulate_custom_policy(&caller, request(&p)?, &paging(&p)?)?;
            Ok(results(&page))
        },
    );
    route(
        d,
        iam,
        "SimulatePrincipalPolicy",
        |iam, caller, call| async move {
            let p = call.params.root();
            let source = p.parse_required("PolicySourceArn")?;
            let page = simulate::simulate_principal_policy(
                &iam,
                &caller,
                &source,
                request(&p)?,
                &paging(&p)?,
            )
            .await?;
            Ok(results(&page))
        },
    );
}
