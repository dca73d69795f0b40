//! The STS actions for key-based callers.
//!
//! Owns: [`Sts`], what the STS operations share (the store, the clock, the
//! partition, the CSPRNG, the master key, the session key ring and the key
//! that seals `AccessDenied` records), and minting: a session is built
//! from its template, checked, sealed into its token and recorded as
//! issued before it is handed out ([`Sts::mint`]). One
//! operation or concept per file:
//!
//! - [`assume_role`] — AssumeRole with every parameter; the trust policy
//!   and the caller's identity policies decided in [`trust`];
//! - [`session_token`] — GetSessionToken;
//! - [`federation_token`] — GetFederationToken;
//! - [`federated`] — what AssumeRoleWithWebIdentity and AssumeRoleWithSAML
//!   share once the identity is verified: claim mapping, trust, minting;
//! - [`web_identity`] — AssumeRoleWithWebIdentity up to the verified
//!   identity: the provider by `iss`, its keys (the `IdpKeys` port), the
//!   token checks of `domain::oidc`, AWS's codes for each refusal;
//! - [`access_key_info`] — GetAccessKeyInfo;
//! - [`auth_message`] — sealing denial records into `AccessDenied`
//!   messages, and DecodeAuthorizationMessage;
//! - [`mfa`] — the `SerialNumber` + `TokenCode` check, its replay guard
//!   and its brute-force limit;
//! - [`session_policy`] — the `Policy` and `PolicyArns` parameters and
//!   `PackedPolicySize`;
//! - [`saml`] — AssumeRoleWithSAML: the assertion verified, checked and
//!   turned into a federated identity.
//!
//! Operations take the authenticated [`Caller`] and, where the caller's
//! policies are consulted, its [`AuthzCaller`]; they return the minted
//! [`Session`] with its sealed token. May import `domain`,
//! `service::authn`, `service::authz`, `service::error`, `service::iam`
//! (MFA device records) and `service::store`.
//! Spec: reference sections 1–3, 6.4, 7 and 10.

pub mod access_key_info;
pub mod assume_role;
pub mod auth_message;
pub mod federated;
pub mod federation_token;
pub mod mfa;
pub mod saml;
pub mod session_policy;
pub mod session_token;
pub mod trust;
pub mod web_identity;

use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::credential::{Session, mint_keys};
use crate::domain::ids::{AccessKeyId, AccountId, Partition};
use crate::domain::seal::MasterKey;
use crate::domain::secret::{SecretAccessKey, SessionToken};
use crate::domain::sessions::IssuedSession;
use crate::service::authn::{Caller, Identity};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::{Entropy, Rng};
use crate::service::store::IamStore;

/// What the STS operations share.
#[derive(Debug, Clone)]
pub struct Sts {
    /// The identity store: roles, users, MFA devices, replay guard.
    pub store: Arc<dyn IamStore>,
    /// Issue and expiry times, MFA code steps.
    pub clock: Arc<dyn Clock>,
    /// The partition of every ARN (`aws`).
    pub partition: Partition,
    /// The CSPRNG of key ids, secrets and nonces.
    pub entropy: Arc<dyn Entropy>,
    /// Seals MFA seeds at rest (opened to check codes).
    pub master_key: Arc<MasterKey>,
    /// Seals session tokens.
    pub keys: Arc<crate::service::session_keys::SessionKeys>,
    /// Seals the records of `AccessDenied` messages (the master key, under
    /// its own seal purpose).
    pub decode_key: Arc<MasterKey>,
    /// The choices reference 1.6 and 10 leave open.
    pub settings: StsSettings,
    /// Clock skew and claim mappings of AssumeRoleWith*.
    pub federation: crate::service::limits::Swappable<federated::FederationSettings>,
    /// Callers' loaded policies, until the store changes (shared with IAM
    /// and Authorize).
    pub identities: Arc<crate::service::authz::IdentityCache>,
    /// Records every minted session (group commit) before it is handed
    /// out.
    pub recorder: crate::service::sessions::SessionRecorder,
    /// The audit trail of what STS does by itself (an MFA device locked);
    /// `None` in tests.
    pub audit: Option<Arc<crate::service::audit::Audit>>,
}

/// The choices the reference leaves to the deployment.
#[derive(Debug, Clone)]
pub struct StsSettings {
    /// A chained AssumeRole that only inherits transitive tags needs
    /// `sts:TagSession` too (reference 6.4 leaves it open; default strict).
    pub tag_session_for_inherited_tags: bool,
    /// The MFA of a calling session carries into the role session it
    /// assumes (reference 10 leaves it open; default on, which is what
    /// makes the aws-vault pattern — GetSessionToken with MFA, then
    /// AssumeRole — satisfy MFA conditions downstream).
    pub mfa_into_role_sessions: bool,
    /// When wrong MFA codes lock a device (`[limits]`, swapped on reload).
    pub mfa_lockout: crate::service::limits::Swappable<crate::domain::limits::MfaLockout>,
}

impl Default for StsSettings {
    fn default() -> Self {
        Self {
            tag_session_for_inherited_tags: true,
            mfa_into_role_sessions: true,
            mfa_lockout: crate::service::limits::Swappable::default(),
        }
    }
}

/// What an AssumeRole* session carries besides its keys, its role and its
/// times: [`Sts::mint_role_session`] fills in the rest.
#[derive(Debug, Default)]
pub(crate) struct RoleSession {
    /// The session name (the last segment of the assumed-role ARN).
    pub(crate) session_name: String,
    /// `Policy` and `PolicyArns`.
    pub(crate) policies: session_policy::SessionPolicies,
    /// Session tags.
    pub(crate) tags: Vec<crate::domain::credential::SessionTag>,
    /// Transitive keys among `tags`.
    pub(crate) transitive_tag_keys: Vec<String>,
    /// The source identity.
    pub(crate) source_identity: Option<String>,
    /// The MFA the session carries.
    pub(crate) mfa: Option<crate::domain::credential::MfaInfo>,
    /// Lifetime in seconds.
    pub(crate) lifetime: u32,
    /// The federated provider.
    pub(crate) provider: Option<String>,
    /// 0 from a long-term key or a federated identity; +1 per chained call.
    pub(crate) chain_depth: u8,
    /// The provider's condition keys the session keeps.
    pub(crate) provider_keys: Vec<(String, String)>,
}

/// The session tags of a tag plan.
pub(crate) fn session_tags(
    plan: &crate::domain::sts::SessionTagPlan,
) -> Vec<crate::domain::credential::SessionTag> {
    plan.tags
        .iter()
        .map(|(key, value)| crate::domain::credential::SessionTag {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

/// A minted session and its token.
#[derive(Debug)]
pub struct Minted {
    /// The session (its secret redacts in `Debug`).
    pub session: Session,
    /// The sealed token for `X-Amz-Security-Token`.
    pub token: SessionToken,
    /// `PackedPolicySize`, when the request passed session policies or
    /// tags.
    pub packed_policy_size: Option<u32>,
}

// === impl Sts ===

impl Sts {
    /// Fills a buffer from [`Sts::entropy`] and hands a random source over
    /// it to `make`.
    pub(crate) fn random<T>(
        &self,
        make: impl FnOnce(&mut Rng<'_>) -> T,
    ) -> Result<T, ServiceError> {
        // One read of the entropy source serves a whole mint (key id 5
        // bytes, secret 30, nonce 12), one ChaCha block; the daemon's
        // source (`entropy::Pooled`) reads the system CSPRNG 64 blocks at
        // a time. The pool is wiped as it is used and when dropped.
        const POOL: usize = 64;
        let mut failure = None;
        let entropy = &self.entropy;
        let mut pool = zeroize::Zeroizing::new([0_u8; POOL]);
        let mut used = POOL;
        let mut fill = |mut buf: &mut [u8]| {
            while !buf.is_empty() {
                if used == POOL {
                    if let Err(e) = entropy.fill(pool.as_mut_slice()) {
                        failure = Some(e);
                        return;
                    }
                    used = 0;
                }
                let n = buf.len().min(POOL - used);
                let (out, rest) = std::mem::take(&mut buf).split_at_mut(n);
                if let Some(src) = pool.get_mut(used..used + n) {
                    out.copy_from_slice(src);
                    src.fill(0);
                }
                used += n;
                buf = rest;
            }
        };
        let value = make(&mut Rng(&mut fill));
        match failure {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    /// Now, in whole seconds.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now().as_secs()
    }

    /// Mints a session of `role` described by `s`, issued now, for the
    /// request `request_id`.
    ///
    /// # Errors
    ///
    /// As [`Sts::mint`].
    pub(crate) async fn mint_role_session(
        &self,
        role: &crate::service::store::model::RoleRecord,
        s: RoleSession,
        packed_policy_size: Option<u32>,
        request_id: &str,
    ) -> Result<Minted, ServiceError> {
        let now = self.now();
        let principal = crate::domain::credential::SessionPrincipal::AssumedRole {
            role_arn: role.arn.clone(),
            role_id: role.id.clone(),
            session_name: s.session_name,
        };
        self.mint(
            role.account,
            move |access_key_id, secret| Session {
                access_key_id,
                secret,
                account: role.account,
                principal,
                policy: s.policies.policy,
                policy_arns: s.policies.policy_arns,
                tags: s.tags,
                transitive_tag_keys: s.transitive_tag_keys,
                source_identity: s.source_identity,
                mfa: s.mfa,
                issued_at: now,
                expires_at: now + u64::from(s.lifetime),
                provider: s.provider,
                chain_depth: s.chain_depth,
                provider_keys: s.provider_keys,
            },
            packed_policy_size,
            request_id,
        )
        .await
    }

    /// Mints a session of `account`: fresh keys, the session `build`
    /// makes around them (template), sealed under the active key (sign;
    /// sealing checks the session's invariants: validate); then records
    /// it as issued by `request_id` and waits for the record's commit.
    ///
    /// # Errors
    ///
    /// `InternalFailure` when the CSPRNG fails or the session does not
    /// seal; `ServiceUnavailable`/`InternalFailure` when the record cannot
    /// be committed (no credentials are handed out unrecorded).
    pub(crate) async fn mint(
        &self,
        account: AccountId,
        build: impl FnOnce(AccessKeyId, SecretAccessKey) -> Session,
        packed_policy_size: Option<u32>,
        request_id: &str,
    ) -> Result<Minted, ServiceError> {
        let (session, token) = self.random(|r| {
            let (id, secret) = mint_keys(account, r);
            let session = build(id, secret);
            let token = self.keys.seal(&session, r);
            (session, token)
        })?;
        let token = token.map_err(ServiceError::internal)?;
        let record = IssuedSession::of(&session, &self.partition, request_id);
        self.recorder.record(record).await?;
        Ok(Minted {
            session,
            token,
            packed_policy_size,
        })
    }
}

/// AWS's refusal of GetSessionToken / GetFederationToken called with
/// temporary credentials.
pub(crate) fn session_credentials(action: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::AccessDenied,
        format!("Cannot call {action} with session credentials"),
    )
}

/// [`session_credentials`] when `caller` signed with temporary credentials.
pub(crate) fn refuse_session(caller: &Caller, action: &str) -> Result<(), ServiceError> {
    if matches!(caller.identity, Identity::Session(_)) {
        return Err(session_credentials(action));
    }
    Ok(())
}

/// Refuses `action` to GetSessionToken sessions (which may call only
/// AssumeRole and GetCallerIdentity among STS actions) and federated-user
/// sessions (only GetCallerIdentity), as reference 1.3 says.
pub(crate) fn refuse_restricted_session(
    caller: &Caller,
    partition: &Partition,
    action: &str,
    resource: &str,
) -> Result<(), ServiceError> {
    use crate::domain::credential::SessionPrincipal as P;
    let Some(session) = caller.session() else {
        return Ok(());
    };
    let kind = match session.principal {
        P::AssumedRole { .. } => return Ok(()),
        P::User { .. } | P::Root => "GetSessionToken",
        P::FederatedUser { .. } => "GetFederationToken",
    };
    Err(ServiceError::new(
        ErrorCode::AccessDenied,
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} because credentials from {kind} cannot call it",
            caller.arn(partition)
        ),
    ))
}

#[cfg(test)]
pub(crate) mod tests;
