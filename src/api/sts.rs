//! The STS actions on the Query endpoint.
//!
//! Owns: registering every STS action of this build in the [`Dispatcher`]
//! — GetCallerIdentity (needs no store), AssumeRole, GetSessionToken,
//! GetFederationToken, GetAccessKeyInfo and DecodeAuthorizationMessage —
//! decoding their parameters (`decode`) and writing their results as AWS
//! shapes them: `Credentials{AccessKeyId, SecretAccessKey, SessionToken,
//! Expiration}`, `AssumedRoleUser{AssumedRoleId, Arn}`,
//! `FederatedUser{FederatedUserId, Arn}`, `PackedPolicySize` and
//! `SourceIdentity` only when they apply (reference 1.3, 1.4, 2.2);
//! AssumeRoleWithSAML (unsigned) in [`saml`]; AssumeRoleWithWebIdentity
//! (unsigned) in `web_identity`.
//! Imports `service` and the api's own modules.

pub(crate) mod decode;
pub mod saml;
mod web_identity;

use std::future::Future;
use std::sync::Arc;

use super::dispatch::{Auth, Call, Dispatcher, Service};
use super::xml::XmlResponse;
use crate::domain::ids::Partition;
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::get_caller_identity::get_caller_identity;
use crate::service::sts::access_key_info::get_access_key_info;
use crate::service::sts::assume_role::assume_role;
use crate::service::sts::auth_message::{MAX_ENCODED_MESSAGE, decode_authorization_message};
use crate::service::sts::federation_token::get_federation_token;
use crate::service::sts::session_token::get_session_token;
use crate::service::sts::{Minted, Sts};
pub use web_identity::register as register_web_identity;

/// Registers GetCallerIdentity, which needs no store; `partition` names
/// the ARNs it returns.
pub fn register(dispatcher: &mut Dispatcher, partition: Partition) {
    let partition = Arc::new(partition);
    dispatcher.register(
        Service::Sts,
        "GetCallerIdentity",
        Auth::Signed,
        move |call: Call| {
            let partition = Arc::clone(&partition);
            async move {
                let id = get_caller_identity(call.caller()?, &partition);
                let mut r = XmlResponse::new();
                r.string("UserId", id.user_id)
                    .string("Account", id.account.as_str())
                    .string("Arn", id.arn.as_str());
                Ok(r)
            }
        },
    );
}

/// Registers the STS actions that mint credentials or read the store.
pub fn register_actions(d: &mut Dispatcher, sts: Arc<Sts>) {
    route(d, &sts, "AssumeRole", |sts, call| async move {
        let input = decode::assume_role(&call.params.root(), &call.request_id)?;
        let authz = authz(&sts, &call).await?;
        let minted = assume_role(&sts, call.caller()?, &authz, input).await?;
        let mut r = credentials(&minted);
        let session = &minted.session;
        assumed_role_user(&mut r, &minted, &sts.partition);
        packed_size(&mut r, &minted);
        r.opt_string("SourceIdentity", session.source_identity.clone());
        Ok(r)
    });
    route(d, &sts, "GetSessionToken", |sts, call| async move {
        let input = decode::get_session_token(&call.params.root(), &call.request_id)?;
        let minted = get_session_token(&sts, call.caller()?, input).await?;
        Ok(credentials(&minted))
    });
    route(d, &sts, "GetFederationToken", |sts, call| async move {
        let input = decode::get_federation_token(&call.params.root(), &call.request_id)?;
        let authz = authz(&sts, &call).await?;
        let minted = get_federation_token(&sts, call.caller()?, &authz, input).await?;
        let mut r = credentials(&minted);
        let session = &minted.session;
        r.structure("FederatedUser", |u| {
            u.string("FederatedUserId", session.user_id())
                .string("Arn", session.arn(&sts.partition).as_str());
        });
        packed_size(&mut r, &minted);
        Ok(r)
    });
    route(d, &sts, "GetAccessKeyInfo", |sts, call| async move {
        let id = call.params.root().parse_required("AccessKeyId")?;
        let authz = authz(&sts, &call).await?;
        let account = get_access_key_info(&sts, call.caller()?, &authz, &id).await?;
        let mut r = XmlResponse::new();
        r.string("Account", account.as_str());
        Ok(r)
    });
    route(
        d,
        &sts,
        "DecodeAuthorizationMessage",
        |sts, call| async move {
            let p = call.params.root();
            let encoded = p
                .string("EncodedMessage", 1, MAX_ENCODED_MESSAGE)?
                .ok_or_else(|| p.missing("EncodedMessage"))?;
            let authz = authz(&sts, &call).await?;
            let decoded =
                decode_authorization_message(&sts, call.caller()?, &authz, encoded).await?;
            let mut r = XmlResponse::new();
            r.string("DecodedMessage", decoded);
            Ok(r)
        },
    );
}

/// Registers the signed STS action `action`.
fn route<F, Fut>(d: &mut Dispatcher, sts: &Arc<Sts>, action: &'static str, handler: F)
where
    F: Fn(Arc<Sts>, Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<XmlResponse, ServiceError>> + Send + 'static,
{
    let sts = Arc::clone(sts);
    let handler = Arc::new(handler);
    d.register(Service::Sts, action, Auth::Signed, move |call: Call| {
        let sts = Arc::clone(&sts);
        let handler = Arc::clone(&handler);
        async move { handler(sts, call).await }
    });
}

/// The call's caller, with its policies loaded.
async fn authz(sts: &Sts, call: &Call) -> Result<AuthzCaller, ServiceError> {
    AuthzCaller::load_cached(
        &sts.identities,
        &*sts.store,
        &*sts.clock,
        &sts.partition,
        call.caller()?,
        &call.transport,
    )
    .await
}

/// A result with the `Credentials` element of `minted`.
fn credentials(minted: &Minted) -> XmlResponse {
    let session = &minted.session;
    let mut r = XmlResponse::new();
    r.structure("Credentials", |c| {
        c.string("AccessKeyId", session.access_key_id.as_str())
            .string("SecretAccessKey", session.secret.expose_secret())
            .string("SessionToken", minted.token.expose_secret())
            .timestamp(
                "Expiration",
                i64::try_from(session.expires_at).unwrap_or(i64::MAX),
            );
    });
    r
}

/// `AssumedRoleUser{AssumedRoleId, Arn}` of a role session.
fn assumed_role_user(r: &mut XmlResponse, minted: &Minted, partition: &Partition) {
    let session = &minted.session;
    r.structure("AssumedRoleUser", |u| {
        u.string("AssumedRoleId", session.user_id())
            .string("Arn", session.arn(partition).as_str());
    });
}

/// `PackedPolicySize`, when the request passed session policies or tags.
fn packed_size(r: &mut XmlResponse, minted: &Minted) {
    if let Some(n) = minted.packed_policy_size {
        r.int("PackedPolicySize", i64::from(n));
    }
}
