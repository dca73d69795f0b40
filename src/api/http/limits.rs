//! The rate limits around a Query API request.
//!
//! Owns: where the handler asks `service::limits::Limiter`: before
//! authenticating (is the source address or the access key blocked by
//! its authentication failures?), after a failed authentication (count
//! it), before the call (`AssumeRole*` per principal) and after a failed
//! call (a refused MFA code counts as a failed authentication).

use std::net::IpAddr;

use crate::domain::ids::AccessKeyId;
use crate::domain::sigv4::RequestView;
use crate::service::authn::Caller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::limits::Limiter;
use crate::service::sts::mfa;

/// The access key a request names, if its authorization parses.
pub(super) fn access_key_of(view: &RequestView<'_>) -> Option<String> {
    crate::domain::sigv4::parse(view)
        .ok()
        .map(|auth| auth.access_key_id().to_owned())
}

/// Counts `err` when it is a failed authentication (a bad signature or an
/// unknown key), against the source and the key named.
pub(super) fn authentication_failed(
    limits: &Limiter,
    err: &ServiceError,
    source: Option<IpAddr>,
    view: &RequestView<'_>,
) {
    if matches!(
        err.code(),
        ErrorCode::SignatureDoesNotMatch | ErrorCode::InvalidClientTokenId
    ) {
        limits.authentication_failed(source, access_key_of(view).as_deref());
    }
}

/// The `AssumeRole*` limit: by the caller's identity, or by the source
/// address for the unsigned federation calls.
pub(super) fn before_call(
    limits: &Limiter,
    action: &str,
    caller: Option<&Caller>,
    source: Option<IpAddr>,
) -> Result<(), ServiceError> {
    if !action.starts_with("AssumeRole") {
        return Ok(());
    }
    match crate::service::limits::assume_role_key(caller, source) {
        Some(key) => limits.assume_role(&key),
        None => Ok(()),
    }
}

/// Counts a refused MFA code against the source and the key that signed.
pub(super) fn after_call(
    limits: &Limiter,
    err: &ServiceError,
    source: Option<IpAddr>,
    key: Option<&AccessKeyId>,
) {
    if mfa::is_code_refusal(err) {
        limits.authentication_failed(source, key.map(AccessKeyId::as_str));
    }
}
