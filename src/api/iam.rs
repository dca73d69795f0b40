//! The IAM actions on the Query endpoint.
//!
//! Owns: the registration of IAM actions (one file per concept), and what
//! they share: loading the authorized caller, decoding `Marker`/`MaxItems`/
//! `PathPrefix` and `Tags`, and writing `IsTruncated`/`Marker`. Imports
//! `service` and the api's own `dispatch`, `query` and `xml`.
//! Spec: reference section 2 (wire format) and the IAM API shapes.

pub mod access_keys;
pub mod details;
pub(crate) mod encode;
pub mod groups;
pub mod inline;
pub mod login;
pub mod mfa;
pub mod policies;
pub mod providers;
pub mod reports;
pub mod roles;
pub(crate) mod route;
pub mod simulate;
pub mod users;

use std::sync::Arc;

use super::dispatch::Call;
use super::query::Scope;
use super::xml::XmlResponse;
use crate::domain::credential::SessionPrincipal;
use crate::service::authn::invalid_token;
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::store::Tag;

/// Registers every IAM action of this module.
pub fn register(dispatcher: &mut super::dispatch::Dispatcher, iam: Arc<Iam>) {
    users::register(dispatcher, &iam);
    access_keys::register(dispatcher, &iam);
    mfa::register(dispatcher, &iam);
    groups::register(dispatcher, &iam);
    roles::register(dispatcher, &iam);
    inline::register(dispatcher, &iam);
    policies::register(dispatcher, &iam);
    providers::register(dispatcher, &iam);
    simulate::register(dispatcher, &iam);
    details::register(dispatcher, &iam);
    login::register(dispatcher, &iam);
    reports::register(dispatcher, &iam);
}

/// The call's caller, with its policies loaded.
///
/// Temporary credentials that AWS does not let near IAM are refused as AWS
/// refuses them, with `InvalidClientTokenId` (reference 1.3): a
/// GetSessionToken session minted without MFA, and a federated user
/// (GetFederationToken credentials cannot call IAM at all; AWS's exact
/// answer there is undocumented, so stsd gives the same one).
pub(crate) async fn caller(iam: &Iam, call: &Call) -> Result<AuthzCaller, ServiceError> {
    let caller = call.caller()?;
    if let Some(session) = caller.session() {
        let refused = match session.principal {
            SessionPrincipal::User { .. } | SessionPrincipal::Root => session.mfa.is_none(),
            SessionPrincipal::FederatedUser { .. } => true,
            SessionPrincipal::AssumedRole { .. } => false,
        };
        if refused {
            return Err(invalid_token());
        }
    }
    AuthzCaller::load_cached(
        &iam.identities,
        &*iam.store,
        &*iam.clock,
        &iam.partition,
        caller,
        &call.transport,
    )
    .await
}

/// `Marker`, `MaxItems` and `PathPrefix`.
pub(crate) fn paging(params: &Scope<'_>) -> Result<Paging, ServiceError> {
    let max_items = params
        .integer("MaxItems", 1, 1000)?
        .and_then(|n| usize::try_from(n).ok());
    Ok(Paging {
        marker: params.optional("Marker").map(str::to_owned),
        max_items,
        path_prefix: params.optional("PathPrefix").map(str::to_owned),
    })
}

/// `Tags.member.N.Key`/`.Value`.
pub(crate) fn tags(params: &Scope<'_>) -> Result<Vec<Tag>, ServiceError> {
    params
        .struct_list("Tags")?
        .iter()
        .map(|t| {
            Ok(Tag {
                key: t.parse_required("Key")?,
                value: t.parse_required("Value")?,
            })
        })
        .collect()
}

/// `<Tags><member><Key/><Value/></member>…</Tags>`.
pub(crate) fn write_tags(r: &mut XmlResponse, tags: &[Tag]) {
    r.list("Tags", |l| {
        for t in tags {
            l.structure(|m| {
                m.string("Key", t.key.as_str())
                    .string("Value", t.value.as_str());
            });
        }
    });
}

/// `IsTruncated` and, when truncated, `Marker`.
pub(crate) fn write_page<T>(r: &mut XmlResponse, page: &Listing<T>) {
    r.bool("IsTruncated", page.marker.is_some())
        .opt_string("Marker", page.marker.clone());
}
