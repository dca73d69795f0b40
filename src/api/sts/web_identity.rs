//! AssumeRoleWithWebIdentity on the Query endpoint.
//!
//! Owns: registering the action as unsigned (reference 1.1: any
//! `Authorization` header is ignored) and writing its result as AWS shapes
//! it — `Credentials`, `SubjectFromWebIdentityToken`, `AssumedRoleUser`,
//! `PackedPolicySize` (when session policies or tags were passed),
//! `Provider` (the token's `iss`), `Audience` and `SourceIdentity` (when
//! set) — in XML or the JSON variant the dispatcher renders. Imports
//! `service` and the api's own modules.

use std::sync::Arc;

use super::{assumed_role_user, credentials, decode, packed_size};
use crate::api::dispatch::{Auth, Call, Dispatcher, Service};
use crate::service::sts::Sts;
use crate::service::sts::web_identity::{WebIdentity, assume_role_with_web_identity};

/// Registers AssumeRoleWithWebIdentity.
pub fn register(d: &mut Dispatcher, sts: Arc<Sts>, web: Arc<WebIdentity>) {
    d.register(
        Service::Sts,
        "AssumeRoleWithWebIdentity",
        Auth::Unsigned,
        move |call: Call| {
            let sts = Arc::clone(&sts);
            let web = Arc::clone(&web);
            async move {
                let input = decode::web_identity(&call.params.root(), &call.request_id)?;
                let out = assume_role_with_web_identity(&sts, &web, &call.transport, input).await?;
                let session = &out.minted.session;
                let mut r = credentials(&out.minted);
                r.string("SubjectFromWebIdentityToken", out.subject.as_str());
                assumed_role_user(&mut r, &out.minted, &sts.partition);
                packed_size(&mut r, &out.minted);
                r.string("Provider", out.provider.as_str())
                    .string("Audience", out.audience.as_str());
                r.opt_string("SourceIdentity", session.source_identity.clone());
                Ok(r)
            }
        },
    );
}
