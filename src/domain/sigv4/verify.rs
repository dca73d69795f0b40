//! Verifying a parsed request.
//!
//! Owns: [`VerifyPolicy`] (the service a request must be scoped to, the
//! regions served, the clock-skew window, the presigned-lifetime cap, path
//! normalisation), [`ParsedAuth::precheck`] (every check that needs no
//! secret: scope date, region, service, terminator, request time), [`verify`]
//! (precheck, then the signature, compared in constant time) and its verdict
//! [`Verified`]. Time comes in as `now`; nothing here reads a clock. Pure:
//! std, hmac, sha2, subtle, zeroize. Spec: reference §4.2.

use std::time::Duration;

use zeroize::Zeroizing;

use super::auth::{AuthKind, CredentialScope, ParsedAuth, TOKEN_HEADER, scope_of};
use super::canonical::write_canonical_request;
use super::date::AmzDate;
use super::encoding::{hex_str, hex32, sha256_hex};
use super::error::{Sigv4Error, echo};
use super::signing_key::{Signature, hmac_sha256};
use super::string_to_sign::{ALGORITHM, TERMINATOR};
use crate::domain::secret::{SecretAccessKey, SessionToken, SigningKey};

/// What a request must satisfy besides a correct signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// The signing name the scope must carry: `sts` for STS, `iam` for the
    /// IAM API.
    pub service: String,
    /// The signing regions this endpoint serves (`us-east-1` for the global
    /// STS endpoint).
    pub regions: Vec<String>,
    /// How far the request time may be from `now`, both ways (header
    /// requests), or before `now` (presigned requests).
    pub max_skew: Duration,
    /// Longest presigned lifetime honoured, whatever `X-Amz-Expires` asks.
    pub max_presigned_lifetime: Duration,
    /// Normalise the path before signing (every service but S3).
    pub normalize_path: bool,
}

/// A request whose signature is correct: who signed it, for which scope,
/// what was signed, and the session token to check next.
///
/// The token is reported whether or not it was signed; checking that it
/// belongs to [`Verified::access_key_id`] is the session store's job.
#[derive(Debug)]
pub struct Verified {
    /// INVARIANT: `keyid/date/region/service/aws4_request`.
    credential: String,
    signed_headers: String,
    security_token: Option<SessionToken>,
    security_token_signed: bool,
    timestamp: AmzDate,
    kind: AuthKind,
}

// === impl VerifyPolicy ===

impl VerifyPolicy {
    /// The skew AWS allows: 15 minutes.
    pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(15 * 60);
    /// The presigned lifetime STS honours: 15 minutes.
    pub const DEFAULT_MAX_PRESIGNED_LIFETIME: Duration = Duration::from_secs(900);

    /// A policy for `service` in `regions`, with the default limits.
    pub fn new(
        service: impl Into<String>,
        regions: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            service: service.into(),
            regions: regions.into_iter().map(Into::into).collect(),
            max_skew: Self::DEFAULT_MAX_SKEW,
            max_presigned_lifetime: Self::DEFAULT_MAX_PRESIGNED_LIFETIME,
            normalize_path: true,
        }
    }
}

// === impl ParsedAuth (checks) ===

impl ParsedAuth<'_> {
    /// Every check that needs no secret: the scope against `policy`, and the
    /// request time against `now` (time since the Unix epoch).
    ///
    /// Call it before looking up the secret or deriving a key; [`verify`]
    /// calls it again, so it cannot be skipped.
    pub fn precheck(&self, now: Duration, policy: &VerifyPolicy) -> Result<(), Sigv4Error> {
        self.check_scope(policy)?;
        self.check_time(now, policy)
    }

    fn check_scope(&self, policy: &VerifyPolicy) -> Result<(), Sigv4Error> {
        let scope = self.scope();
        if scope.date != self.timestamp.basic().date() {
            return Err(Sigv4Error::ScopeDateMismatch {
                scope_date: echo(scope.date),
                signed_at: self.timestamp,
            });
        }
        if !policy.regions.iter().any(|r| r == scope.region) {
            return Err(Sigv4Error::WrongRegion(echo(scope.region)));
        }
        if scope.service != policy.service {
            return Err(Sigv4Error::WrongService {
                expected: policy.service.clone(),
                found: echo(scope.service),
            });
        }
        if scope.terminator != TERMINATOR {
            return Err(Sigv4Error::WrongTerminator(echo(scope.terminator)));
        }
        Ok(())
    }

    fn check_time(&self, now: Duration, policy: &VerifyPolicy) -> Result<(), Sigv4Error> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let skew = secs(policy.max_skew);
        let signed = self.timestamp.unix_secs();
        let date = AmzDate::saturating_from_unix_secs;
        if signed > now.saturating_add(skew) {
            return Err(Sigv4Error::SignatureNotYetCurrent {
                signed_at: self.timestamp,
                latest: date(now.saturating_add(skew)),
                now: date(now),
                skew: policy.max_skew,
            });
        }
        match self.kind {
            AuthKind::Header if signed < now.saturating_sub(skew) => {
                Err(Sigv4Error::SignatureExpired {
                    signed_at: self.timestamp,
                    earliest: date(now.saturating_sub(skew)),
                    now: date(now),
                    skew: policy.max_skew,
                })
            }
            AuthKind::Presigned { expires_in } => {
                let lifetime = i64::from(expires_in).min(secs(policy.max_presigned_lifetime));
                let expires_at = signed.saturating_add(lifetime);
                if now > expires_at {
                    return Err(Sigv4Error::PresignedExpired {
                        signed_at: self.timestamp,
                        expires_at: date(expires_at),
                        now: date(now),
                    });
                }
                Ok(())
            }
            AuthKind::Header => Ok(()),
        }
    }

    /// The signature this request should carry under `key`.
    fn expected_signature(
        &self,
        key: &SigningKey,
        normalize_path: bool,
        token_appended: bool,
        buf: &mut String,
    ) -> Result<Signature, Sigv4Error> {
        buf.clear();
        let excluded = self.unsigned_params(token_appended);
        write_canonical_request(
            buf,
            &self.view,
            &self.signed_headers,
            normalize_path,
            excluded,
        )?;
        let creq_hash = sha256_hex(buf.as_bytes());
        let timestamp = self.timestamp.basic();
        let mac = Zeroizing::new(hmac_sha256(
            key.expose_secret(),
            &[
                ALGORITHM.as_bytes(),
                b"\n",
                timestamp.as_str().as_bytes(),
                b"\n",
                self.scope_str().as_bytes(),
                b"\n",
                hex_str(&creq_hash).as_bytes(),
            ],
        ));
        Ok(Signature::from_hex(hex32(&mac)))
    }
}

/// Verifies `auth` with the signing key derived for its scope.
///
/// Runs [`ParsedAuth::precheck`], then recomputes the signature and compares
/// it in constant time. A presigned request whose session token was added
/// after signing (the legacy "token after" form) is accepted with
/// [`Verified::security_token_signed`] false.
pub fn verify(
    auth: &ParsedAuth<'_>,
    key: &SigningKey,
    now: Duration,
    policy: &VerifyPolicy,
) -> Result<Verified, Sigv4Error> {
    auth.precheck(now, policy)?;
    let mut buf = String::with_capacity(512);
    let expected = auth.expected_signature(key, policy.normalize_path, false, &mut buf)?;
    let token = auth.security_token.as_ref();
    let mut token_signed = token.is_some_and(|t| {
        t.in_query
            || auth
                .signed_headers()
                .any(|h| h.eq_ignore_ascii_case(TOKEN_HEADER))
    });
    if !expected.matches(&auth.signature) {
        let presigned = matches!(auth.kind, AuthKind::Presigned { .. });
        let retry = presigned && token.is_some_and(|t| t.in_query);
        if !retry {
            return Err(Sigv4Error::SignatureMismatch);
        }
        let expected = auth.expected_signature(key, policy.normalize_path, true, &mut buf)?;
        if !expected.matches(&auth.signature) {
            return Err(Sigv4Error::SignatureMismatch);
        }
        token_signed = false;
    }
    Ok(Verified {
        credential: auth.credential.clone().into_owned(),
        signed_headers: auth.signed_headers.clone().into_owned(),
        security_token: token.map(|t| SessionToken::new(t.value.as_ref())),
        security_token_signed: token_signed,
        timestamp: auth.timestamp,
        kind: auth.kind,
    })
}

/// Like [`verify`], deriving the signing key from `secret` first (after
/// the precheck). For callers that do not cache signing keys.
pub fn verify_with_secret(
    auth: &ParsedAuth<'_>,
    secret: &SecretAccessKey,
    now: Duration,
    policy: &VerifyPolicy,
) -> Result<Verified, Sigv4Error> {
    auth.precheck(now, policy)?;
    let scope = auth.scope();
    let key = SigningKey::derive(secret, scope.date, scope.region, scope.service);
    verify(auth, &key, now, policy)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

// === impl Verified ===

impl Verified {
    /// The access key that signed the request.
    pub fn access_key_id(&self) -> &str {
        self.credential.split('/').next().unwrap_or_default()
    }

    /// The credential scope the request was signed for.
    pub fn scope(&self) -> CredentialScope<'_> {
        scope_of(&self.credential)
    }

    /// The signed header names, lower-case as sent.
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }

    /// The session token the request carried, if any.
    pub fn security_token(&self) -> Option<&SessionToken> {
        self.security_token.as_ref()
    }

    /// Takes the session token out of the verdict.
    pub fn into_security_token(self) -> Option<SessionToken> {
        self.security_token
    }

    /// Whether the session token was covered by the signature (false for a
    /// token added after signing, which the legacy test suite allows).
    pub fn security_token_signed(&self) -> bool {
        self.security_token_signed
    }

    /// The request time.
    pub fn timestamp(&self) -> AmzDate {
        self.timestamp
    }

    /// Header-signed or presigned.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }
}
