//! Authenticating the caller of a signed request.
//!
//! Owns: the flow from "a request arrived" to "this identity signed it"
//! (house style 2): parse the SigV4 authentication ([`sigv4::parse`]), run
//! the checks that need no secret (scope, clock skew, presigned lifetime),
//! find the secret — a long-term key through the [`CredentialLookup`]
//! port, a session (`ASIA…` + `X-Amz-Security-Token`) by opening its
//! sealed token with the [`KeyRing`] (`session`) — verify the signature in
//! constant time with the scope's signing key (derived once per key, day,
//! region and service: `key_cache`), and return the [`Caller`]. Every
//! refusal is the AWS error SigV4 names, with a generic message for
//! unknown keys and bad tokens (house style 9), and `ExpiredToken` for an
//! expired session. Afterwards it records a long-term key's last use (best
//! effort) when a [`UsageLog`] is attached. Also the port's value types.
//!
//! May import `domain` and `service::error`; async, but no transport or
//! storage crate. Spec: reference 1.7 (codes) and 4.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::clock::Clock;
use crate::domain::credential::{KeyRing, Session};
use crate::domain::ids::{
    AccessKeyId, AccountId, Arn, IamPath, Partition, Region, UniqueId, UserName,
};
use crate::domain::secret::SecretAccessKey;
use crate::domain::sigv4::{self, RequestView, Sigv4Error, VerifyPolicy};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::session_keys::SessionKeys;
use crate::service::sessions::Revocations;
use crate::service::store::{Key, LastUsed, Timestamp, UsageLog};

mod certificate;
mod key_cache;
mod lookup;
mod session;
mod session_cache;

pub use certificate::{StoreUsers, UserLookup, missing_authentication};
pub use lookup::{Chain, StaticCredentials, StoreCredentials};

/// Finds the secret and owner of a long-term access key (`AKIA…`).
///
/// One method, like s3s's `S3Auth`. [`StoreCredentials`] reads the
/// identity store and unseals the secret; [`StaticCredentials`] serves the
/// root credentials from the environment; [`Chain`] asks several in turn.
#[async_trait]
pub trait CredentialLookup: Send + Sync {
    /// The key `id`, or `None` when no such key exists.
    ///
    /// # Errors
    ///
    /// `ServiceUnavailable` or `InternalFailure` when the store fails.
    async fn lookup(&self, id: &AccessKeyId) -> Result<Option<Arc<StoredKey>>, ServiceError>;
}

/// A long-term access key as the store keeps it.
#[derive(Debug)]
pub struct StoredKey {
    /// The secret, unsealed.
    pub secret: SecretAccessKey,
    /// Whether the key may sign.
    pub status: KeyStatus,
    /// The account owning the key.
    pub account: AccountId,
    /// Who in that account owns it.
    pub owner: Identity,
    /// Whether the key is a record of the store, whose uses are recorded
    /// (`LastUsed`); keys from configuration are not.
    pub in_store: bool,
}

/// An access key's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// May sign requests.
    Active,
    /// Refused as if unknown.
    Inactive,
}

/// Who signed: the owner of a long-term key, or a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The account's root identity.
    Root,
    /// An IAM user.
    User {
        /// The user's name.
        name: UserName,
        /// Its `AIDA…` id.
        unique_id: UniqueId,
        /// Its path.
        path: IamPath,
    },
    /// Temporary credentials: the session opened from the request's
    /// security token (an assumed role, a federated user, or a
    /// GetSessionToken session of a user or root).
    Session(Arc<Session>),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's account.
    pub account: AccountId,
    /// The identity that signed.
    pub identity: Identity,
    /// The access key that signed; `None` when the caller authenticated
    /// with an mTLS client certificate instead of a signature.
    pub access_key_id: Option<AccessKeyId>,
    /// The region of the signature's credential scope
    /// (`aws:RequestedRegion`), when it names a valid region.
    pub region: Option<Region>,
}

/// The verification limits, from configuration.
#[derive(Debug, Clone)]
pub struct AuthnSettings {
    /// Signing regions accepted in the credential scope.
    pub regions: Vec<String>,
    /// Largest accepted clock difference.
    pub max_skew: Duration,
    /// Longest presigned lifetime honoured.
    pub max_presigned_lifetime: Duration,
}

/// Authenticates signed requests.
pub struct Authenticator {
    lookup: Arc<dyn CredentialLookup>,
    clock: Arc<dyn Clock>,
    settings: AuthnSettings,
    usage: Option<Arc<dyn UsageLog>>,
    sessions: Option<Arc<SessionKeys>>,
    revocations: Option<Arc<Revocations>>,
    users: Option<Arc<dyn UserLookup>>,
    keys: key_cache::SigningKeyCache,
    opened: session_cache::SessionCache,
}

/// Sizes of the authenticator's caches (`[caches]`).
#[derive(Debug, Clone, Copy)]
pub struct CacheSizes {
    /// Opened session tokens.
    pub sessions: u64,
    /// Derived signing keys (one per key, day, region and service).
    pub signing_keys: u64,
}

impl Default for CacheSizes {
    fn default() -> Self {
        Self {
            sessions: session_cache::DEFAULT_CAPACITY,
            signing_keys: key_cache::DEFAULT_CAPACITY,
        }
    }
}

// === impl Caller ===

impl Caller {
    /// The caller's ARN, as `GetCallerIdentity` returns it (reference
    /// 1.3): root's or the user's ARN, the assumed-role ARN of a role
    /// session, the federated-user ARN, and the underlying user's / root's
    /// for a GetSessionToken session.
    pub fn arn(&self, partition: &Partition) -> Arn {
        match &self.identity {
            Identity::Root => Arn::iam_root(partition, self.account),
            Identity::User { name, path, .. } => Arn::iam_user(partition, self.account, path, name),
            Identity::Session(session) => session.arn(partition),
        }
    }

    /// The caller's user id: the account for root, the `AIDA…` id for a
    /// user, `AROA…:session` for a role session, `account:name` for a
    /// federated user.
    pub fn user_id(&self) -> String {
        match &self.identity {
            Identity::Root => self.account.to_string(),
            Identity::User { unique_id, .. } => unique_id.to_string(),
            Identity::Session(session) => session.user_id(),
        }
    }

    /// The session, when the caller signed with temporary credentials.
    pub fn session(&self) -> Option<&Session> {
        match &self.identity {
            Identity::Session(session) => Some(session),
            Identity::Root | Identity::User { .. } => None,
        }
    }
}

// === impl Authenticator ===

impl Authenticator {
    /// An authenticator over `lookup`, reading time from `clock`.
    pub fn new(
        lookup: Arc<dyn CredentialLookup>,
        clock: Arc<dyn Clock>,
        settings: AuthnSettings,
    ) -> Self {
        Self {
            lookup,
            clock,
            settings,
            usage: None,
            sessions: None,
            revocations: None,
            users: None,
            keys: key_cache::SigningKeyCache::default(),
            opened: session_cache::SessionCache::default(),
        }
    }

    /// Bounds its caches by `sizes`.
    #[must_use]
    pub fn with_cache_sizes(mut self, sizes: CacheSizes) -> Self {
        self.keys = key_cache::SigningKeyCache::with_capacity(sizes.signing_keys);
        self.opened = session_cache::SessionCache::with_capacity(sizes.sessions);
        self
    }

    /// Entries held by the session cache and the signing-key cache (for
    /// benchmarks and metrics; moka's counts lag until its pending work
    /// has run: see [`Authenticator::run_pending_cache_tasks`]).
    pub fn cache_entries(&self) -> (u64, u64) {
        (self.opened.entry_count(), self.keys.entry_count())
    }

    /// Runs the caches' pending maintenance (admissions, evictions) now.
    pub fn run_pending_cache_tasks(&self) {
        self.opened.run_pending_tasks();
        self.keys.run_pending_tasks();
    }

    /// Accepts session credentials (`ASIA…` + `X-Amz-Security-Token`)
    /// whose token opens with `ring`. Without it every session is refused.
    #[must_use]
    pub fn with_sessions(self, ring: Arc<KeyRing>) -> Self {
        self.with_session_keys(Arc::new(SessionKeys::from_shared(ring)))
    }

    /// As [`Authenticator::with_sessions`], with keys the caller may
    /// replace (reload).
    #[must_use]
    pub fn with_session_keys(mut self, keys: Arc<SessionKeys>) -> Self {
        self.sessions = Some(keys);
        self
    }

    /// Forgets every opened session token, so the next use of each is
    /// opened with the key ring in force (after a key is retired).
    pub fn forget_opened_sessions(&self) {
        self.opened.clear();
    }

    /// Refuses sessions that `revocations` revokes (as an unknown token:
    /// `InvalidClientTokenId`). Without it no session is revoked.
    #[must_use]
    pub fn with_revocations(mut self, revocations: Arc<Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Records each authenticated key's last use (`GetAccessKeyLastUsed`)
    /// in `usage`.
    #[must_use]
    pub fn with_usage_log(mut self, usage: Arc<dyn UsageLog>) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Authenticates `request`, which must be signed for `service` (`sts`,
    /// `iam`).
    ///
    /// # Errors
    ///
    /// `MissingAuthenticationToken`, `IncompleteSignature`,
    /// `SignatureDoesNotMatch` (also for clock skew and a wrong scope),
    /// `RequestExpired`, `InvalidClientTokenId` (unknown or inactive key; a
    /// session token that does not open, names another key, or comes with
    /// a long-term key; a revoked session), `ExpiredToken` (an expired session), or the
    /// lookup's own error.
    pub async fn authenticate(
        &self,
        request: &RequestView<'_>,
        service: &str,
    ) -> Result<Caller, ServiceError> {
        self.authenticate_in(request, service, None).await
    }

    /// As [`Authenticator::authenticate`], with the credential scope's
    /// region required to be one of `regions` when given (otherwise one of
    /// the configured regions): how `Authorize` checks a request signed
    /// for another service's region.
    ///
    /// # Errors
    ///
    /// As [`Authenticator::authenticate`].
    pub async fn authenticate_in(
        &self,
        request: &RequestView<'_>,
        service: &str,
        regions: Option<&[String]>,
    ) -> Result<Caller, ServiceError> {
        let policy = VerifyPolicy {
            service: service.to_owned(),
            regions: regions.map_or_else(|| self.settings.regions.clone(), <[String]>::to_vec),
            max_skew: self.settings.max_skew,
            max_presigned_lifetime: self.settings.max_presigned_lifetime,
            normalize_path: true,
        };
        let auth = sigv4::parse(request).map_err(sigv4_error)?;
        auth.precheck(self.clock.now(), &policy)
            .map_err(sigv4_error)?;

        let id: AccessKeyId = auth.access_key_id().parse().map_err(|_| invalid_token())?;
        if id.is_temporary() || auth.security_token().is_some() {
            return self.authenticate_session(&auth, id, &policy);
        }
        let key = self.lookup.lookup(&id).await?.ok_or_else(invalid_token)?;
        if key.status != KeyStatus::Active {
            return Err(invalid_token());
        }
        // The clock is read again: the lookup may have waited.
        let signing_key = self.keys.get(id.as_str(), &auth.scope(), &key.secret);
        let verified =
            sigv4::verify(&auth, &signing_key, self.clock.now(), &policy).map_err(sigv4_error)?;
        let region = verified.scope().region.parse::<Region>().ok();
        if key.in_store {
            self.record_use(key.account, &id, service, region.clone())
                .await;
        }
        Ok(Caller {
            account: key.account,
            identity: key.owner.clone(),
            access_key_id: Some(id),
            region,
        })
    }
}

impl Authenticator {
    /// Best effort: a failure is logged, never fails the request.
    async fn record_use(
        &self,
        account: AccountId,
        id: &AccessKeyId,
        service: &str,
        region: Option<Region>,
    ) {
        let Some(usage) = &self.usage else { return };
        let used = LastUsed {
            date: Timestamp::now(self.clock.as_ref()),
            service: Some(service.to_owned()),
            region,
        };
        if let Err(e) = usage.record_use(&Key::access_key(account, id), used).await {
            tracing::warn!(error = %e, "cannot record the access key's last use");
        }
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// AWS's answer for an unknown key, an inactive key or a bad token.
pub(crate) fn invalid_token() -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidClientTokenId,
        "The security token included in the request is invalid.",
    )
}

/// A SigV4 refusal as the service error AWS sends.
pub fn sigv4_error(e: Sigv4Error) -> ServiceError {
    let code = match e.aws_code() {
        "MissingAuthenticationToken" => ErrorCode::MissingAuthenticationToken,
        "IncompleteSignature" => ErrorCode::IncompleteSignature,
        "RequestExpired" => ErrorCode::RequestExpired,
        // "SignatureDoesNotMatch", and anything SigV4 adds later: refused.
        _ => ErrorCode::SignatureDoesNotMatch,
    };
    ServiceError::new(code, e.aws_message())
}

#[cfg(test)]
mod tests;
