//! Authorize: verify a request another service received, and decide it.
//!
//! Owns: [`Authorizer`], the use case behind gRPC `Authorizer.Authorize`
//! and `POST /v1/authorize` (DESIGN "Interfaces", issue 6). A service that
//! received a SigV4-signed request hands over its parts; stsd
//!
//! 1. checks that the asking service may ask (`stsd:Authorize` on the
//!    resource, with the shared evaluator);
//! 2. parses the signature (header or presigned), resolves the credentials
//!    (a long-term key through the store, an `ASIA…` key by opening its
//!    token), checks expiry and revocation and verifies the signature in
//!    constant time — all through the same [`Authenticator`] as the Query
//!    API, so the answers and AWS error codes are the same;
//! 3. builds the request context (reference 7.1: principal ARN, account,
//!    type, tags, `aws:userid`, `aws:username`, MFA present and age, token
//!    issue time, source identity, source IP, current time, secure
//!    transport, requested region, plus the service's own keys such as
//!    `aws:RequestTag/*`);
//! 4. evaluates the principal's *current* policies ∩ session policies ∩
//!    boundary, with the resource policy and SCPs when given;
//! 5. answers: the decision, who the principal is, the statements that
//!    decided, a sentence for humans, and how long the answer may be
//!    cached.
//!
//! A request that does not authenticate is an answer (`Unauthenticated`
//! with the AWS code the service should return), not an error; errors are
//! for the Authorize call itself (bad input, the asker not allowed, the
//! store down). Input checks and limits are in `input`, the answer's
//! pieces in `answer`, `Simulate` in `simulate`.
//!
//! May import `domain`, `service::authn`, `service::authz`,
//! `service::error`, `service::iam` (Simulate), `service::store`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::clock::Clock;
use crate::domain::ids::Partition;
use crate::domain::policy::{PolicyKind, PolicySet, Request, ResourceSide, evaluate};
use crate::service::authn::{Authenticator, Caller};
use crate::service::authz::{AuthzCaller, IdentityCache, Transport};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::policy_cache;
use crate::service::store::IamStore;

mod answer;
mod input;
mod simulate;

pub use answer::{Answer, DecidingStatement, Decision, PrincipalInfo};
pub use input::{ContextEntry, MAX_HEADERS, SignedRequest};
pub use simulate::{SimulateInput, SimulateOutput};

/// What `Authorize` takes: the request a service received and what it
/// asks about it.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeInput {
    /// The request as received.
    pub request: SignedRequest,
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// The action the request performs (`s3:GetObject`).
    pub action: String,
    /// The resource it acts on (an ARN, or `*`).
    pub resource: String,
    /// The resource's own policy (JSON), if it has one.
    pub resource_policy: Option<String>,
    /// SCPs that apply to the principal's account (JSON each), one level.
    pub service_control_policies: Vec<String>,
    /// The service's own context keys (`aws:RequestTag/*`,
    /// `aws:TagKeys`, `s3:prefix`, …).
    pub context: Vec<ContextEntry>,
    /// The signing name the request must be scoped to; by default the
    /// action's service prefix.
    pub signing_service: Option<String>,
    /// The signing region it must be scoped to; by default one of stsd's
    /// configured regions.
    pub signing_region: Option<String>,
}

/// Settings of the Authorize service.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeSettings {
    /// How long an answer may be cached by the asker (never past the
    /// credentials' expiry).
    pub answer_ttl: Duration,
}

/// The Authorize and Simulate use cases.
#[derive(Debug)]
pub struct Authorizer {
    /// Verifies the signature (shared with the Query API).
    pub authenticator: Arc<Authenticator>,
    /// The identity store.
    pub store: Arc<dyn IamStore>,
    /// Loaded identities, until the store changes (shared with the Query
    /// API).
    pub identities: Arc<IdentityCache>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The partition of ARNs.
    pub partition: Partition,
    /// Settings.
    pub settings: AuthorizeSettings,
    /// The IAM service (Simulate reuses its simulations).
    pub iam: Arc<crate::service::iam::Iam>,
}

// === impl Authorizer ===

impl Authorizer {
    /// Decides `input` for the service `asker`, which reached stsd over
    /// `transport`.
    ///
    /// # Errors
    ///
    /// `AccessDenied` when `asker` may not ask about `input.resource`;
    /// `InvalidParameterValue`/`MalformedPolicyDocument` naming the field
    /// for bad input; `ServiceUnavailable`/`InternalFailure` when the
    /// store fails.
    pub async fn authorize(
        &self,
        asker: &Caller,
        transport: &Transport,
        input: &AuthorizeInput,
    ) -> Result<Answer, ServiceError> {
        let checked = input::check(input)?;
        let asking = self.authz_caller(asker, transport).await?;
        asking.authorize("stsd:Authorize", &input.resource, &[])?;
        let answer = self.decide(input, &checked).await;
        record_decision(&answer);
        answer
    }

    /// Steps 2–5 for input already checked, without asking whether anyone
    /// may ask (the in-process benchmark, and [`Authorizer::authorize`]).
    ///
    /// # Errors
    ///
    /// As [`Authorizer::authorize`], but never `AccessDenied`.
    pub async fn decide_unchecked(&self, input: &AuthorizeInput) -> Result<Answer, ServiceError> {
        let checked = input::check(input)?;
        self.decide(input, &checked).await
    }

    async fn decide(
        &self,
        input: &AuthorizeInput,
        checked: &input::Checked<'_>,
    ) -> Result<Answer, ServiceError> {
        let headers = checked.headers();
        let view = checked.view(&headers);
        let regions = input.signing_region.as_ref().map(std::slice::from_ref);
        let caller = match self
            .authenticator
            .authenticate_in(&view, checked.service, regions)
            .await
        {
            Ok(caller) => caller,
            Err(e) if is_authentication_failure(e.code()) => {
                return Ok(Answer::unauthenticated(e.code(), e.message()));
            }
            Err(e) => return Err(e),
        };
        let identity = self
            .identities
            .load(&*self.store, &self.partition, &caller)
            .await?;
        let request_transport = Transport {
            source_ip: input.source_ip,
            secure: checked.secure,
            region: caller.region.clone(),
        };
        let authz = AuthzCaller::for_request(identity, &*self.clock, &request_transport);
        let mut context = authz.context().clone();
        for entry in &input.context {
            context.insert(&entry.key, entry.value());
        }
        let resource_policy = match &input.resource_policy {
            Some(text) => Some(
                policy_cache::parsed("ResourcePolicy", PolicyKind::Resource, text, None)
                    .map_err(|e| malformed("ResourcePolicy", &e))?,
            ),
            None => None,
        };
        let with_scps;
        let policies = if input.service_control_policies.is_empty() {
            authz.policies()
        } else {
            let mut set: PolicySet = authz.policies().clone();
            let mut level = Vec::with_capacity(input.service_control_policies.len());
            for (i, text) in input.service_control_policies.iter().enumerate() {
                let field = format!("ServiceControlPolicies.{}", i + 1);
                level.push(
                    policy_cache::parsed(&field, PolicyKind::Scp, text, None)
                        .map_err(|e| malformed(&field, &e))?,
                );
            }
            set.scps = vec![level];
            with_scps = set;
            &with_scps
        };
        let mut request = Request::new(authz.principal(), &input.action, &input.resource, &context);
        let owner = checked.resource_account;
        if let Some(owner) = owner {
            request = request.with_resource_account(owner);
        }
        let side = ResourceSide {
            policy: resource_policy.as_deref(),
            rcps: &[],
        };
        let decision = evaluate(policies, side, &request);
        let ttl = self.answer_ttl(&caller);
        Ok(Answer::decided(
            &decision,
            &authz,
            &caller,
            &input.action,
            &input.resource,
            ttl,
        ))
    }

    /// The caller's policies and context, from the identity cache.
    async fn authz_caller(
        &self,
        caller: &Caller,
        transport: &Transport,
    ) -> Result<AuthzCaller, ServiceError> {
        let identity = self
            .identities
            .load(&*self.store, &self.partition, caller)
            .await?;
        Ok(AuthzCaller::for_request(identity, &*self.clock, transport))
    }

    /// How long an answer about `caller` may be cached: the configured
    /// time, never past its session's expiry.
    fn answer_ttl(&self, caller: &Caller) -> Duration {
        let ttl = self.settings.answer_ttl;
        match caller.session() {
            Some(s) => {
                let now = u64::try_from(self.clock.now_secs()).unwrap_or(0);
                ttl.min(Duration::from_secs(s.expires_at.saturating_sub(now)))
            }
            None => ttl,
        }
    }
}

/// The codes that mean "this request is not authentic" (an answer), as
/// opposed to a failure of stsd (an error).
fn is_authentication_failure(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::MissingAuthenticationToken
            | ErrorCode::IncompleteSignature
            | ErrorCode::SignatureDoesNotMatch
            | ErrorCode::RequestExpired
            | ErrorCode::InvalidClientTokenId
            | ErrorCode::ExpiredToken
    )
}

/// `MalformedPolicyDocument` naming `field`.
fn malformed(field: &str, e: &crate::domain::policy::PolicyError) -> ServiceError {
    ServiceError::new(
        ErrorCode::MalformedPolicyDocument,
        format!("{field} is not a valid policy: {e}"),
    )
}

/// Counts an Authorize answer in `stsd_authorize_decisions_total`.
fn record_decision(answer: &Result<Answer, ServiceError>) {
    use crate::telemetry::metrics::{Decision as D, metrics};
    let decision = match answer.as_ref().map(|a| a.decision) {
        Ok(Decision::Allow) => D::Allow,
        Ok(Decision::ExplicitDeny) => D::ExplicitDeny,
        Ok(Decision::ImplicitDeny) => D::ImplicitDeny,
        Ok(Decision::Unauthenticated) => D::Unauthenticated,
        Err(_) => D::Error,
    };
    metrics().decision(decision);
}

#[cfg(test)]
mod tests;
