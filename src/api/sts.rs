//! The STS actions served by this build.
//!
//! Owns: registering STS actions in the [`Dispatcher`] and turning their
//! use-case results into response elements. For now `GetCallerIdentity`
//! (reference 1.3), which needs no store; the minting actions join as
//! their use cases land. Imports `service` and the api's own modules.

use std::sync::Arc;

use super::dispatch::{Auth, Call, Dispatcher, Service};
use super::xml::XmlResponse;
use crate::domain::ids::Partition;
use crate::service::get_caller_identity::get_caller_identity;

/// Registers the STS actions; `partition` names the ARNs they return.
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
