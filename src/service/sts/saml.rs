//! AssumeRoleWithSAML (reference 1.3, 6.4, 7.3 and 8).
//!
//! Owns: [`Saml`] — the deployment's SAML settings ([`SamlSettings`]: the
//! accepted audiences and recipients, the clock skew, the replay policy,
//! the per-provider SP decryption keys) and the parsed-metadata cache —
//! and the use case, in this order:
//!
//! 1. base64-decode `SAMLAssertion` (its 4–100,000 characters are checked
//!    on the wire);
//! 2. load the IAM SAML provider `PrincipalArn` names and its signing keys
//!    (`metadata`, parsed once per document);
//! 3. verify: read the document strictly, check its shape, verify the
//!    signature(s) with xmlsec, decrypt an `EncryptedAssertion`, and keep
//!    only what the signature covers (`verify`, `decrypt`, `xml`);
//! 4. check issuer, audience, the bearer confirmation and recipient, and
//!    the validity window against the injected clock (`assertion`);
//! 5. read the AWS attributes (`aws`);
//! 6. refuse an assertion ID seen before until it expires (the store's
//!    replay guard, keyed by provider and assertion ID; on by default,
//!    [`SamlSettings::reject_replay`]);
//! 7. hand the identity — `saml:*` condition keys, session tags, source
//!    identity, durations — to the federation core, which decides the
//!    trust policy and mints.
//!
//! Errors are [`error::SamlError`], mapped to `InvalidIdentityToken`,
//! `ExpiredTokenException`, `IDPRejectedClaim` or `AccessDenied` there.
//! May import `domain`, `service::error`, `service::iam` (the metadata date
//! parser), `service::store`, the sibling STS modules, samael, openssl and
//! quick-xml.

pub(crate) mod assertion;
pub mod aws;
pub mod decrypt;
mod error;
pub(crate) mod metadata;
pub(crate) mod verify;
pub(crate) mod xml;

use std::collections::HashMap;
use std::sync::Arc;

use data_encoding::{BASE64, HEXLOWER};

use self::assertion::{Claims, Expect};
use self::aws::AwsAttributes;
use self::decrypt::DecryptionKey;
use self::error::SamlError;
use self::metadata::MetadataCache;
use super::federated::{
    FederatedIdentity, FederatedKind, FederatedRequest, assume_role_federated, check_federated,
};
use super::session_policy::SessionPolicies;
use super::{Minted, Sts};
use crate::domain::ids::{Arn, SamlProviderName};
use crate::domain::saml::{attribute_keys, name_qualifier};
use crate::domain::secret::SamlAssertion;
use crate::service::authz::Transport;
use crate::service::error::ServiceError;
use crate::service::store::model::SamlProviderRecord;
use crate::service::store::{Key, ReplayScope, Timestamp, fetch};

/// AWS's SP entity ID, and the sign-in URL many IdP guides use instead.
pub const DEFAULT_AUDIENCES: &[&str] = &[
    "urn:amazon:webservices",
    "https://signin.aws.amazon.com/saml",
];

/// The AWS sign-in endpoints of reference 8 (`*` stands for a region);
/// the deployment adds its own URL.
pub const DEFAULT_RECIPIENTS: &[&str] = &[
    "https://signin.aws.amazon.com/saml",
    "https://*.signin.aws.amazon.com/saml",
    "https://signin.aws.amazon.com/static/saml",
];

/// The deployment's SAML choices.
#[derive(Debug, Clone)]
pub struct SamlSettings {
    /// Accepted `Audience` values (the broker's SP entity IDs).
    pub audiences: Vec<String>,
    /// Accepted `Recipient` values (ACS URLs); a `*` matches one DNS
    /// label (`[a-z0-9-]+`).
    pub recipients: Vec<String>,
    /// Refuse an assertion ID already accepted (until it expires). AWS
    /// allows reuse within the validity window; stsd refuses by default.
    pub reject_replay: bool,
    /// SP private keys that decrypt `EncryptedAssertion`s, by provider ARN.
    pub decryption_keys: HashMap<String, Arc<DecryptionKey>>,
}

impl Default for SamlSettings {
    fn default() -> Self {
        Self {
            audiences: DEFAULT_AUDIENCES.iter().map(|s| (*s).to_owned()).collect(),
            recipients: DEFAULT_RECIPIENTS.iter().map(|s| (*s).to_owned()).collect(),
            reject_replay: true,
            decryption_keys: HashMap::new(),
        }
    }
}

/// The SAML half of STS: settings and the metadata cache.
#[derive(Debug, Default)]
pub struct Saml {
    /// The settings.
    pub settings: SamlSettings,
    cache: MetadataCache,
}

/// AssumeRoleWithSAML's parameters.
#[derive(Debug)]
pub struct AssumeRoleWithSaml {
    /// `RoleArn`.
    pub role_arn: Arn,
    /// `PrincipalArn`: the SAML provider.
    pub principal_arn: Arn,
    /// `SAMLAssertion`.
    pub assertion: SamlAssertion,
    /// `Policy` and `PolicyArns`.
    pub policies: SessionPolicies,
    /// `DurationSeconds`.
    pub duration: Option<u32>,
    /// The id of the request, recorded with the minted session.
    pub request_id: String,
}

/// What the response reports about the assertion, beside the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSubject {
    /// `Subject`: the NameID.
    pub subject: String,
    /// `SubjectType`.
    pub subject_type: String,
    /// `Issuer`.
    pub issuer: String,
    /// `Audience`: the confirmation's recipient.
    pub audience: String,
    /// `NameQualifier`.
    pub name_qualifier: String,
}

/// An assertion that passed every check of this module: what the
/// federation core needs.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The response's subject fields.
    pub subject: SamlSubject,
    /// The AWS attributes.
    pub aws: AwsAttributes,
    /// Every attribute (for the per-provider claim mapping).
    pub attributes: Vec<(String, Vec<String>)>,
    /// The trust policy's `saml:*` keys.
    pub keys: Vec<(String, Vec<String>)>,
    /// The longest the session may last, from `SessionDuration` and
    /// `SessionNotOnOrAfter`.
    pub max_duration: Option<u32>,
}

/// A browser login's SAML response, verified and its ID spent: who the
/// person is and which roles the `Role` attribute offers them through
/// this provider. Nothing is minted until they pick one
/// ([`assume_role_from_login`]).
#[derive(Debug, Clone)]
pub struct LoginAssertion {
    /// The SAML provider that signed it.
    pub provider_arn: Arn,
    /// The verified identity.
    pub accepted: Accepted,
    /// The roles its `Role` attribute pairs with `provider_arn`, in
    /// document order.
    pub roles: Vec<Arn>,
    /// The AuthnRequest ID it answers (`None` when IdP-initiated).
    pub in_response_to: Option<String>,
    /// `SessionNotOnOrAfter`: no session is minted from it after this
    /// time, and none lasts past it (checked again at every pick).
    pub session_end: Option<i64>,
}

// === impl Saml ===

impl Saml {
    /// Saml with `settings`.
    pub fn new(settings: SamlSettings) -> Self {
        Self {
            settings,
            cache: MetadataCache::default(),
        }
    }

    /// Steps 1–6: the assertion, verified and checked, and its ID spent.
    ///
    /// # Errors
    ///
    /// The [`SamlError`] of the first failed step, as a `ServiceError`;
    /// the store's failure.
    pub async fn accept(
        &self,
        sts: &Sts,
        input: &AssumeRoleWithSaml,
    ) -> Result<Accepted, ServiceError> {
        let arn = input.principal_arn.as_str();
        let (provider, claims) = self
            .verified_claims(sts, &input.principal_arn, &input.assertion)
            .await?;
        let aws = AwsAttributes::read(&claims.attributes, input.role_arn.as_str(), arn)?;
        self.finish(sts, &provider, claims, aws).await
    }

    /// A browser login's response (steps 1–6 without a chosen role): the
    /// verified identity and the roles its `Role` attribute offers through
    /// `provider_arn`; the assertion ID is spent, so the same response is
    /// accepted once.
    ///
    /// # Errors
    ///
    /// As [`Saml::accept`]; `AccessDenied` when no `Role` value pairs a
    /// role with this provider.
    pub async fn accept_login(
        &self,
        sts: &Sts,
        provider_arn: &Arn,
        response: &SamlAssertion,
    ) -> Result<LoginAssertion, ServiceError> {
        let (provider, claims) = self.verified_claims(sts, provider_arn, response).await?;
        let roles: Vec<Arn> = aws::role_pairs(&claims.attributes)
            .into_iter()
            .filter(|(_, p)| p == provider_arn.as_str())
            .filter_map(|(r, _)| r.parse().ok())
            .collect();
        if roles.is_empty() {
            return Err(SamlError::RoleNotInAssertion.into());
        }
        let aws = AwsAttributes::read_any(&claims.attributes)?;
        let in_response_to = claims.in_response_to.clone();
        let session_end = claims.session_not_on_or_after;
        let accepted = self.finish(sts, &provider, claims, aws).await?;
        Ok(LoginAssertion {
            provider_arn: provider_arn.clone(),
            accepted,
            roles,
            in_response_to,
            session_end,
        })
    }

    /// The entity ID of the IdP behind the SAML provider `arn` (from its
    /// metadata).
    ///
    /// # Errors
    ///
    /// An unknown provider or unusable metadata.
    pub async fn entity_id(&self, sts: &Sts, arn: &Arn) -> Result<String, ServiceError> {
        let provider = load_provider(sts, arn).await?;
        let keys = self
            .cache
            .keys(&provider.metadata_document)
            .map_err(SamlError::from)?;
        Ok(keys.entity_id.clone())
    }

    /// Steps 1–4: the provider and the checked claims of `assertion`.
    async fn verified_claims(
        &self,
        sts: &Sts,
        principal_arn: &Arn,
        assertion: &SamlAssertion,
    ) -> Result<(SamlProviderRecord, Claims), ServiceError> {
        let document = decode(assertion)?;
        let provider = load_provider(sts, principal_arn).await?;
        let keys = self
            .cache
            .keys(&provider.metadata_document)
            .map_err(SamlError::from)?;
        let key = self
            .settings
            .decryption_keys
            .get(principal_arn.as_str())
            .map(Arc::as_ref);
        let verified = verify::verify(&document, &keys.certs, key)?;
        tracing::debug!(protection = ?verified.protection, "SAML signature verified");
        let expect = Expect {
            entity_id: &keys.entity_id,
            audiences: &self.settings.audiences,
            recipients: &self.settings.recipients,
            skew: skew(sts),
            now: now(sts),
        };
        let claims = assertion::read(&verified.assertion, &expect)?;
        Ok((provider, claims))
    }

    /// Steps 5–6 once the AWS attributes are read: the session's longest
    /// duration, and the assertion ID spent.
    async fn finish(
        &self,
        sts: &Sts,
        provider: &SamlProviderRecord,
        claims: Claims,
        aws: AwsAttributes,
    ) -> Result<Accepted, ServiceError> {
        let max_duration = max_duration(&claims, &aws, now(sts))?;
        if self.settings.reject_replay {
            self.spend(sts, provider.arn.as_str(), &claims, skew(sts))
                .await?;
        }
        Ok(accepted(provider, claims, aws, max_duration))
    }

    /// Refuses an assertion ID accepted before; remembers it until the
    /// assertion can no longer be accepted.
    async fn spend(
        &self,
        sts: &Sts,
        provider: &str,
        claims: &Claims,
        skew: i64,
    ) -> Result<(), ServiceError> {
        let until = claims
            .window
            .accepted_until(skew)
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(u64::MAX);
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(provider.as_bytes());
        ctx.update(b"\n");
        ctx.update(claims.id.as_bytes());
        let id = HEXLOWER.encode(ctx.finish().as_ref());
        let first = sts
            .store
            .use_once(
                ReplayScope::SamlAssertion,
                &id,
                Timestamp::from_unix_secs(until),
            )
            .await?;
        if first {
            Ok(())
        } else {
            Err(SamlError::Replayed.into())
        }
    }
}

/// AssumeRoleWithSAML: a role session for the verified assertion, and
/// the subject fields of the response.
///
/// # Errors
///
/// `InvalidIdentityToken`, `ExpiredTokenException`, `IDPRejectedClaim`
/// (the assertion), `AccessDenied` (the `Role` attribute, the trust
/// policy), `ValidationError` (durations, a provider of another account),
/// `MalformedPolicyDocument`, `PackedPolicyTooLarge`.
pub async fn assume_role_with_saml(
    sts: &Sts,
    saml: &Saml,
    transport: &Transport,
    input: AssumeRoleWithSaml,
) -> Result<(Minted, SamlSubject), ServiceError> {
    let accepted = saml.accept(sts, &input).await?;
    let subject = accepted.subject.clone();
    let request = federated_request(
        accepted,
        input.role_arn,
        input.principal_arn,
        input.duration,
        input.policies,
        input.request_id,
    );
    let minted = assume_role_federated(sts, transport, request).await?;
    Ok((minted, subject))
}

/// A role session for a browser login's verified response and the role
/// the person picked: the role must be one the `Role` attribute offered,
/// and then everything AssumeRoleWithSAML decides (trust policy, tags,
/// durations) is decided the same way.
///
/// # Errors
///
/// `AccessDenied` for a role the response does not offer; those of
/// [`assume_role_federated`].
pub async fn assume_role_from_login(
    sts: &Sts,
    transport: &Transport,
    login: &LoginAssertion,
    role_arn: &Arn,
    request_id: String,
) -> Result<Minted, ServiceError> {
    let request = login_request(sts, login, role_arn, request_id)?;
    assume_role_federated(sts, transport, request).await
}

/// Whether the person of a browser login may assume `role_arn`: the
/// checks of [`assume_role_from_login`], nothing minted (the role picker
/// lists the offered roles for which this is `Ok`).
///
/// # Errors
///
/// Those of [`assume_role_from_login`].
pub async fn check_login_role(
    sts: &Sts,
    transport: &Transport,
    login: &LoginAssertion,
    role_arn: &Arn,
) -> Result<(), ServiceError> {
    let request = login_request(sts, login, role_arn, String::new())?;
    check_federated(sts, transport, request).await
}

/// The `Issuer` of a SAML response, unverified (the response's own, else
/// its first assertion's): which provider's keys to verify it with.
/// `None` when the response does not decode or parse.
pub fn response_issuer(response: &SamlAssertion) -> Option<String> {
    let document = decode(response).ok()?;
    let root = xml::parse(&document, xml::RESPONSE_LIMITS).ok()?;
    let issuer = root.child(xml::SAML, "Issuer").or_else(|| {
        root.child(xml::SAML, "Assertion")
            .and_then(|a| a.child(xml::SAML, "Issuer"))
    })?;
    Some(issuer.text().trim().to_owned())
}

/// A login's request for `role_arn`: the role must be offered, and the
/// assertion's `SessionNotOnOrAfter` is checked against now — a pick after
/// it is refused as expired, and the session is capped to what is left.
fn login_request(
    sts: &Sts,
    login: &LoginAssertion,
    role_arn: &Arn,
    request_id: String,
) -> Result<FederatedRequest, ServiceError> {
    if !login.roles.contains(role_arn) {
        return Err(SamlError::RoleNotInAssertion.into());
    }
    let mut accepted = login.accepted.clone();
    if let Some(end) = login.session_end {
        let left = end - now(sts);
        if left <= 0 {
            return Err(SamlError::Expired.into());
        }
        let left = u32::try_from(left).unwrap_or(u32::MAX);
        accepted.max_duration = Some(accepted.max_duration.map_or(left, |m| m.min(left)));
    }
    Ok(federated_request(
        accepted,
        role_arn.clone(),
        login.provider_arn.clone(),
        None,
        SessionPolicies::default(),
        request_id,
    ))
}

/// What the federation core needs from an accepted assertion.
fn federated_request(
    accepted: Accepted,
    role_arn: Arn,
    provider_arn: Arn,
    duration: Option<u32>,
    policies: SessionPolicies,
    request_id: String,
) -> FederatedRequest {
    FederatedRequest {
        role_arn,
        session_name: accepted.aws.session_name,
        duration,
        max_duration: accepted.max_duration,
        policies,
        identity: FederatedIdentity {
            kind: FederatedKind::Saml,
            provider_arn,
            key_prefix: "saml".to_owned(),
            keys: accepted.keys,
            claims: accepted.attributes,
            tags: accepted.aws.tags,
            transitive_tag_keys: accepted.aws.transitive_tag_keys,
            source_identity: accepted.aws.source_identity,
        },
        request_id,
    }
}

/// Now, as assertion times count it.
fn now(sts: &Sts) -> i64 {
    i64::try_from(sts.now()).unwrap_or(i64::MAX)
}

/// The allowed clock skew, seconds.
fn skew(sts: &Sts) -> i64 {
    i64::try_from(sts.federation.get().clock_skew_secs).unwrap_or(i64::MAX)
}

/// The document inside `SAMLAssertion` (whitespace in the base64 is
/// ignored, as IdP-generated line breaks are common).
fn decode(assertion: &SamlAssertion) -> Result<String, SamlError> {
    let compact: zeroize::Zeroizing<Vec<u8>> = zeroize::Zeroizing::new(
        assertion
            .expose_secret()
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect(),
    );
    let bytes = BASE64.decode(&compact).map_err(|_| SamlError::Encoding)?;
    String::from_utf8(bytes).map_err(|_| SamlError::Encoding)
}

/// The SAML provider `arn` names, if it exists.
async fn load_provider(sts: &Sts, arn: &Arn) -> Result<SamlProviderRecord, ServiceError> {
    let unknown = || SamlError::UnknownProvider(arn.to_string());
    let name: SamlProviderName = arn
        .resource()
        .strip_prefix("saml-provider/")
        .filter(|_| arn.service() == "iam")
        .and_then(|n| n.parse().ok())
        .ok_or_else(unknown)?;
    let account = arn.account_id().ok_or_else(unknown)?;
    Ok(
        fetch::<SamlProviderRecord>(&*sts.store, &Key::saml_provider(account, &name))
            .await?
            .map(|v| v.record)
            .filter(|p| p.arn == *arn)
            .ok_or_else(unknown)?,
    )
}

/// The session's longest lifetime: `SessionDuration`, and what remains
/// until `SessionNotOnOrAfter` (already past: expired).
fn max_duration(claims: &Claims, aws: &AwsAttributes, now: i64) -> Result<Option<u32>, SamlError> {
    let remaining = match claims.session_not_on_or_after {
        None => None,
        Some(end) if end <= now => return Err(SamlError::Expired),
        Some(end) => Some(u32::try_from(end - now).unwrap_or(u32::MAX)),
    };
    Ok(match (aws.session_duration, remaining) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// The accepted assertion: subject fields and condition keys.
fn accepted(
    provider: &SamlProviderRecord,
    claims: Claims,
    aws: AwsAttributes,
    max_duration: Option<u32>,
) -> Accepted {
    let account = provider.account.to_string();
    let qualifier = name_qualifier(&claims.issuer, &account, provider.name.as_str());
    let one = |k: &str, v: &str| (k.to_owned(), vec![v.to_owned()]);
    let mut keys = vec![
        one("saml:aud", &claims.recipient),
        one("saml:iss", &claims.issuer),
        one("saml:sub", &claims.subject),
        one("saml:sub_type", &claims.subject_type),
        one("saml:namequalifier", &qualifier),
        one("saml:doc", &format!("{account}/{}", provider.name)),
    ];
    keys.extend(attribute_keys(&claims.attributes));
    Accepted {
        subject: SamlSubject {
            subject: claims.subject,
            subject_type: claims.subject_type,
            issuer: claims.issuer,
            audience: claims.recipient,
            name_qualifier: qualifier,
        },
        aws,
        attributes: claims.attributes,
        keys,
        max_duration,
    }
}

#[cfg(test)]
mod tests;
