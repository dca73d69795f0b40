//! AssumeRoleWithWebIdentity (reference 1.3, 7.3, 9, 11.4).
//!
//! Owns: the use case up to a verified identity, in the order of
//! reference 9 — the token's shape and algorithm ([`peek`]), the provider
//! whose `Url` equals the token's `iss` exactly in the role's account
//! ("No OpenIDConnect provider found in your account for <iss>"), its
//! keys (an inline JWKS configured for the provider, else the [`IdpKeys`]
//! port; an unknown `kid` asks the port once for a fresher set), the
//! signature and claims (`domain::oidc::verify` with the injected clock
//! and `[federation] clock_skew_secs`), then what the claims become: the
//! condition keys `<host/path>:sub`, `:aud`, `:azp`, `:oaud`, `:amr`,
//! every claim for the deployment's claim mapping, the AWS tags and
//! source-identity claims — handed to [`assume_role_federated`], which
//! decides the trust policy and mints. Each refusal is mapped here to
//! AWS's code and text: `InvalidIdentityToken` (400) for anything wrong
//! with the token, `ExpiredTokenException` (400) for `exp` (and a
//! configured maximum age), `IDPCommunicationError` (400, retryable) when
//! the provider cannot be reached. No session is minted before every
//! check passed. May import `domain`, `service::authz`, `service::error`,
//! `service::store` and the sibling modules.

pub mod keys;

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::ids::{Arn, OidcProviderUrl, RoleSessionName};
use crate::domain::oidc::{
    self, KeySet, TimeLimits, TokenError, Unverified, VerifiedClaims, WebIdentityToken, claims,
    peek,
};
use crate::service::authz::Transport;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::model::OidcProviderRecord;
use crate::service::store::{Key, fetch};

use super::federated::{
    FederatedIdentity, FederatedKind, FederatedRequest, assume_role_federated, check_federated,
};
use super::session_policy::SessionPolicies;
use super::{Minted, Sts};
pub use keys::{IdpKeys, KeyError, StaticKeys};

/// AWS's text when no key verifies the token.
pub const NO_KEY: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// What web identity needs besides [`Sts`].
#[derive(Debug, Clone)]
pub struct WebIdentity {
    /// Discovered and cached key sets.
    pub keys: Arc<dyn IdpKeys>,
    /// Key sets configured inline, by provider ARN (issuers stsd cannot
    /// reach, such as a cluster's service-account issuer); used instead of
    /// discovery, never refetched.
    pub inline: crate::service::limits::Swappable<HashMap<Arn, Arc<KeySet>>>,
    /// When set, tokens whose `iat` is older are refused as too old.
    pub max_token_age_secs: Option<u64>,
}

/// AssumeRoleWithWebIdentity's parameters.
#[derive(Debug)]
pub struct WebIdentityRequest {
    /// `RoleArn`.
    pub role_arn: Arn,
    /// `RoleSessionName`.
    pub session_name: RoleSessionName,
    /// `WebIdentityToken`.
    pub token: WebIdentityToken,
    /// `DurationSeconds`.
    pub duration: Option<u32>,
    /// `Policy` and `PolicyArns`.
    pub policies: SessionPolicies,
    /// The id of the request, recorded with the minted session.
    pub request_id: String,
}

/// A minted session and what the response says about the token.
#[derive(Debug)]
pub struct WebIdentitySession {
    /// The session.
    pub minted: Minted,
    /// `SubjectFromWebIdentityToken`: the token's `sub`.
    pub subject: String,
    /// `Provider`: the token's `iss`.
    pub provider: String,
    /// `Audience`: the client ID the token was issued for.
    pub audience: String,
}

/// AssumeRoleWithWebIdentity.
///
/// # Errors
///
/// `InvalidIdentityToken`, `ExpiredTokenException`,
/// `IDPCommunicationError`, and those of [`assume_role_federated`].
pub async fn assume_role_with_web_identity(
    sts: &Sts,
    web: &WebIdentity,
    transport: &Transport,
    request: WebIdentityRequest,
) -> Result<WebIdentitySession, ServiceError> {
    let (federated, claims) = federated_request(sts, web, request).await?;
    let minted = assume_role_federated(sts, transport, federated).await?;
    Ok(WebIdentitySession {
        minted,
        subject: claims.subject,
        provider: claims.issuer,
        audience: claims.audience,
    })
}

/// Whether `request`'s token may assume its role: every check of
/// [`assume_role_with_web_identity`], nothing minted — the OIDC role
/// picker of a browser login asks this of each candidate role, so the
/// shared evaluator decides what is listed.
///
/// # Errors
///
/// Those of [`assume_role_with_web_identity`].
pub async fn check_web_identity(
    sts: &Sts,
    web: &WebIdentity,
    transport: &Transport,
    request: WebIdentityRequest,
) -> Result<(), ServiceError> {
    let (federated, _) = federated_request(sts, web, request).await?;
    check_federated(sts, transport, federated).await
}

/// `request` as the federation core takes it, with the token's verified
/// claims: the token peeked, its provider found, then verified.
async fn federated_request(
    sts: &Sts,
    web: &WebIdentity,
    request: WebIdentityRequest,
) -> Result<(FederatedRequest, VerifiedClaims), ServiceError> {
    let header = peek(&request.token).map_err(token_error)?;
    let provider = find_provider(sts, &request.role_arn, &header.issuer).await?;
    let claims = verify(sts, web, &provider, &request.token, &header).await?;
    let identity = identity(&provider, &claims)?;
    let federated = FederatedRequest {
        role_arn: request.role_arn,
        session_name: request.session_name,
        duration: request.duration,
        max_duration: None,
        policies: request.policies,
        identity,
        request_id: request.request_id,
    };
    Ok((federated, claims))
}

/// The OIDC provider of the role's account whose URL is `issuer` exactly.
async fn find_provider(
    sts: &Sts,
    role_arn: &Arn,
    issuer: &str,
) -> Result<OidcProviderRecord, ServiceError> {
    let missing = || {
        let shown: String = issuer.chars().take(256).collect();
        ServiceError::new(
            ErrorCode::InvalidIdentityToken,
            format!("No OpenIDConnect provider found in your account for {shown}"),
        )
    };
    let (Some(account), Ok(url)) = (role_arn.account_id(), issuer.parse::<OidcProviderUrl>())
    else {
        return Err(missing());
    };
    fetch::<OidcProviderRecord>(&*sts.store, &Key::oidc_provider(account, &url))
        .await?
        .map(|v| v.record)
        .filter(|p| p.url.as_str() == issuer)
        .ok_or_else(missing)
}

/// Verifies the token with the provider's keys, refetching once for an
/// unknown `kid`.
async fn verify(
    sts: &Sts,
    web: &WebIdentity,
    provider: &OidcProviderRecord,
    token: &WebIdentityToken,
    header: &Unverified,
) -> Result<VerifiedClaims, ServiceError> {
    let limits = TimeLimits {
        skew: sts.federation.get().clock_skew_secs,
        max_age: web.max_token_age_secs,
    };
    let now = sts.now();
    let check =
        |keys: &KeySet| oidc::verify(token, header, keys, &provider.client_ids, now, limits);
    if let Some(keys) = web.inline.get().get(&provider.arn) {
        return check(keys).map_err(token_error);
    }
    let keys = web
        .keys
        .keys(&provider.url, None)
        .await
        .map_err(key_error)?;
    match check(&keys) {
        Err(TokenError::UnknownKey { kid }) => {
            let fresher = web
                .keys
                .keys(&provider.url, Some(&kid))
                .await
                .map_err(key_error)?;
            check(&fresher).map_err(token_error)
        }
        other => other.map_err(token_error),
    }
}

/// The verified token as the federation core sees it, every claim
/// flattened for a claim mapping. (Flattened whether or not this
/// provider is mapped now: the core reads the mappings again, and a
/// reload in between must not find them empty.)
fn identity(
    provider: &OidcProviderRecord,
    claims: &VerifiedClaims,
) -> Result<FederatedIdentity, ServiceError> {
    let prefix = provider.url.host_and_path().to_owned();
    let tags = claims::aws_tags(claims).map_err(token_error)?;
    let source_identity = claims::source_identity(claims).map_err(token_error)?;
    Ok(FederatedIdentity {
        kind: FederatedKind::WebIdentity,
        provider_arn: provider.arn.clone(),
        keys: claims::condition_keys(&prefix, claims),
        claims: claims::flattened(claims),
        key_prefix: prefix,
        tags: tags.tags,
        transitive_tag_keys: tags.transitive_keys,
        source_identity,
    })
}

/// AWS's code and text for a refused token.
fn token_error(e: TokenError) -> ServiceError {
    use TokenError as E;
    let (code, message) = match &e {
        E::Expired { now, exp } => (
            ErrorCode::ExpiredTokenException,
            format!(
                "Token expired: current date/time {now} must be before the expiration date/time {exp}"
            ),
        ),
        E::TooOld { iat } => (
            ErrorCode::ExpiredTokenException,
            format!(
                "Token too old: it was issued at {iat}, longer ago than this deployment accepts"
            ),
        ),
        E::Audience => (
            ErrorCode::InvalidIdentityToken,
            "Incorrect token audience".to_owned(),
        ),
        E::UnknownKey { .. } => (ErrorCode::InvalidIdentityToken, NO_KEY.to_owned()),
        E::Malformed { .. }
        | E::AlgorithmNotAllowed { .. }
        | E::BadSignature
        | E::MissingClaim { .. }
        | E::InvalidClaim { .. }
        | E::NotYetValid { .. }
        | E::IssuedInFuture { .. } => (ErrorCode::InvalidIdentityToken, sentence(&e.to_string())),
    };
    ServiceError::new(code, message)
}

/// AWS's code and text when the provider's keys are not available.
fn key_error(e: KeyError) -> ServiceError {
    match e {
        KeyError::Unreachable(why) => ServiceError::new(
            ErrorCode::IdpCommunicationError,
            format!(
                "Couldn't connect to the identity provider to retrieve its verification keys: {why}"
            ),
        ),
        KeyError::Unusable(why) => {
            ServiceError::new(ErrorCode::InvalidIdentityToken, format!("{NO_KEY}: {why}"))
        }
    }
}

/// `text` with a capital first letter and a final period.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    out.push('.');
    out
}
