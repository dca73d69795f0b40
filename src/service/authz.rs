//! Authorizing an authenticated caller of the IAM API.
//!
//! Owns: turning a [`Caller`] into the evaluator's [`Principal`], its
//! [`PolicySet`] (user inline and attached managed policies, each group's
//! inline and attached policies, the permissions boundary; for a session,
//! its role's or user's policies and its session policies: `session`) and
//! the request [`Context`] keys of reference 7.1 that apply to it, then
//! deciding `iam:<Action>` on a resource ARN with [`evaluate`] (with a
//! resource's own policy, such as a trust policy: `resource`). A refusal
//! is `AccessDenied` with AWS's message (reference 6, `Reason::explain`)
//! and the record of the decision, sealed into the message on the way out.
//!
//! Policies are read and parsed once per request ([`AuthzCaller::load`]),
//! then every check of that request reuses them; a compiled-policy cache
//! is issue 6. A stored policy that no longer parses is an internal
//! failure (never skipped: skipping a `Deny` could widen access).
//!
//! May import `domain`, `service::authn`, `service::error` and
//! `service::store`; async, no transport or storage crate.
//! Spec: reference sections 6, 7.1 and 10.

use std::net::IpAddr;
use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::ids::{AccountId, Arn, Partition, PolicyName, Region, UniqueId, UserName};
use crate::domain::policy::{
    Context, Policy, PolicyKind, PolicySet, Principal, Request, ResourceSide, evaluate,
};
use crate::domain::sigv4::AmzDate;
use crate::service::authn::{Caller, Identity};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::policy_cache;
use crate::service::store::model::{GroupRecord, ManagedPolicyRecord, UserRecord};
use crate::service::store::{EntityReader, Key, StoreGeneration, Tag, fetch};

mod cache;
mod resource;
mod session;

pub use cache::IdentityCache;

/// What the transport knows about the request (reference 7.1).
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure: bool,
    /// The region the request was signed for (`aws:RequestedRegion`).
    pub region: Option<Region>,
}

/// What a caller's identity brings to every decision, whatever the time
/// and the transport: its principal, its policies and its identity keys
/// (principal ARN, account, type, user id, tags, session keys). Loaded
/// from the store once, then shared by every request of that identity
/// until the store changes (`cache`).
#[derive(Debug)]
pub struct LoadedIdentity {
    principal: Principal,
    policies: PolicySet,
    /// The identity's keys; no time or transport key. Shared as the base
    /// of every request's context.
    context: Arc<Context>,
    account: AccountId,
    /// When the session's MFA code was checked (`aws:MultiFactorAuthAge`
    /// is computed per request from it).
    mfa_at: Option<u64>,
    /// The principal's tags as `aws:PrincipalTag/*` sees them (session
    /// tags over the role's or user's), keys in their own case.
    tags: Vec<(String, String)>,
}

/// A caller with its policies and context loaded, ready to authorize.
#[derive(Debug, Clone)]
pub struct AuthzCaller {
    identity: Arc<LoadedIdentity>,
    context: Context,
}

// === impl LoadedIdentity ===

impl LoadedIdentity {
    /// Loads `caller`'s policies from `store` and builds its identity keys.
    ///
    /// # Errors
    ///
    /// `InvalidClientTokenId` when the caller's user (or the user behind a
    /// GetSessionToken or federated-user session) no longer exists;
    /// `InternalFailure`/`ServiceUnavailable` when the store fails or a
    /// stored policy no longer parses.
    pub async fn load(
        store: &(impl EntityReader + ?Sized),
        partition: &Partition,
        caller: &Caller,
    ) -> Result<Self, ServiceError> {
        let account = caller.account;
        let arn = caller.arn(partition).to_string();
        let mut context = Context::new();
        context.insert("aws:PrincipalArn", arn.as_str());
        context.insert("aws:PrincipalAccount", account.as_str());
        context.insert("aws:userid", caller.user_id());
        let mut mfa_at = None;
        let mut tags = Vec::new();
        let (principal, policies) = match &caller.identity {
            Identity::Root => {
                context.insert("aws:PrincipalType", "Account");
                let p = Principal::root(partition.as_str(), account.as_str());
                (p, PolicySet::default())
            }
            Identity::User { name, .. } => {
                let user = user_record(store, account, name, None).await?;
                context.insert("aws:PrincipalType", "User");
                context.insert("aws:username", user.name.as_str());
                insert_tags(&mut context, &user.tags);
                push_tags(&mut tags, &user.tags);
                let id = user.id.to_string();
                let p = Principal::user(&arn, Some(&id));
                (p, user_policies(store, &user).await?)
            }
            Identity::Session(s) => {
                mfa_at = s.mfa.as_ref().map(|m| m.authenticated_at);
                session::load(store, partition, s, &mut context, &mut tags).await?
            }
        };
        Ok(Self {
            principal,
            policies,
            context: Arc::new(context),
            account,
            mfa_at,
            tags,
        })
    }

    /// The identity as the evaluator sees it.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The identity's policies.
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The identity's keys (no time or transport key).
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The identity's account.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// The principal's tags (session tags over the role's or user's).
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

// === impl AuthzCaller ===

impl AuthzCaller {
    /// Loads `caller`'s policies from `store` and builds its context, with
    /// the time from `clock` and the transport facts of `transport`.
    ///
    /// # Errors
    ///
    /// As [`LoadedIdentity::load`].
    pub async fn load(
        store: &(impl EntityReader + ?Sized),
        clock: &dyn Clock,
        partition: &Partition,
        caller: &Caller,
        transport: &Transport,
    ) -> Result<Self, ServiceError> {
        let identity = LoadedIdentity::load(store, partition, caller).await?;
        Ok(Self::for_request(Arc::new(identity), clock, transport))
    }

    /// As [`AuthzCaller::load`], with the identity from `cache` while the
    /// store is unchanged since it was loaded.
    ///
    /// # Errors
    ///
    /// As [`LoadedIdentity::load`].
    pub async fn load_cached(
        cache: &IdentityCache,
        store: &(impl EntityReader + StoreGeneration + ?Sized),
        clock: &dyn Clock,
        partition: &Partition,
        caller: &Caller,
        transport: &Transport,
    ) -> Result<Self, ServiceError> {
        let identity = cache.load(store, partition, caller).await?;
        Ok(Self::for_request(identity, clock, transport))
    }

    /// The caller `identity` on a request at `clock`'s time over
    /// `transport`: its keys plus the time and transport keys.
    pub fn for_request(
        identity: Arc<LoadedIdentity>,
        clock: &dyn Clock,
        transport: &Transport,
    ) -> Self {
        let mut context = Context::layered(Arc::clone(&identity.context));
        insert_transport(&mut context, clock, transport);
        if let Some(at) = identity.mfa_at {
            let now = u64::try_from(clock.now_secs()).unwrap_or(0);
            context.insert("aws:MultiFactorAuthAge", now.saturating_sub(at).to_string());
        }
        Self { identity, context }
    }

    /// A web-identity or SAML caller of a role of `account`, before its
    /// session exists: no identity policies of its own (a trust policy must
    /// allow it alone), `context` from [`AuthzCaller::transport_context`]
    /// and its token's or assertion's keys.
    pub fn federated(principal: Principal, account: AccountId, context: Context) -> Self {
        let identity = LoadedIdentity {
            principal,
            policies: PolicySet::default(),
            context: Arc::default(),
            account,
            mfa_at: None,
            tags: Vec::new(),
        };
        Self {
            identity: Arc::new(identity),
            context,
        }
    }

    /// The time and transport keys every request carries.
    pub fn transport_context(clock: &dyn Clock, transport: &Transport) -> Context {
        let mut context = Context::new();
        insert_transport(&mut context, clock, transport);
        context
    }

    /// The caller as the evaluator sees it.
    pub fn principal(&self) -> &Principal {
        &self.identity.principal
    }

    /// The caller's policies.
    pub fn policies(&self) -> &PolicySet {
        &self.identity.policies
    }

    /// The caller's account.
    pub fn account(&self) -> AccountId {
        self.identity.account
    }

    /// The caller's tags (session tags over the role's or user's).
    pub fn tags(&self) -> &[(String, String)] {
        &self.identity.tags
    }

    /// The caller's ARN.
    pub fn arn(&self) -> &str {
        &self.identity.principal.arn
    }

    /// The request context built at load time.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Allows or refuses `action` (`iam:CreateUser`) on `resource` (an
    /// ARN), with `extra` context keys (such as `iam:PermissionsBoundary`)
    /// added to the caller's.
    ///
    /// # Errors
    ///
    /// `AccessDenied` with AWS's message when the policies do not allow.
    pub fn authorize(
        &self,
        action: &str,
        resource: &str,
        extra: &[(&str, &str)],
    ) -> Result<(), ServiceError> {
        let with_extra;
        let context = if extra.is_empty() {
            &self.context
        } else {
            let mut c = self.context.clone();
            for (k, v) in extra {
                c.insert(k, *v);
            }
            with_extra = c;
            &with_extra
        };
        let request = Request::new(self.principal(), action, resource, context);
        let decision = evaluate(self.policies(), ResourceSide::default(), &request);
        if decision.is_allowed() {
            return Ok(());
        }
        Err(self.denied(action, resource, &decision, context))
    }
}

/// The user `name` of `account`, which must still be the user `id` when
/// given (a recreated user of the same name is another user).
///
/// # Errors
///
/// `InvalidClientTokenId` when it is gone, as for a deleted user's keys.
async fn user_record(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    name: &UserName,
    id: Option<&UniqueId>,
) -> Result<UserRecord, ServiceError> {
    fetch::<UserRecord>(store, &Key::user(account, name))
        .await?
        .map(|v| v.record)
        .filter(|u| id.is_none_or(|id| u.id == *id))
        .ok_or_else(invalid_client_token)
}

/// AWS's answer for credentials whose owner is gone.
fn invalid_client_token() -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidClientTokenId,
        "The security token included in the request is invalid.",
    )
}

/// Adds the time and transport keys.
fn insert_transport(context: &mut Context, clock: &dyn Clock, transport: &Transport) {
    let now = clock.now_secs();
    TIME_KEYS.with(|cell| {
        let mut keys = cell.borrow_mut();
        if keys.as_ref().is_none_or(|k| k.secs != now) {
            *keys = Some(TimeKeys {
                secs: now,
                epoch: now.to_string(),
                iso: iso8601(now),
            });
        }
        if let Some(k) = keys.as_ref() {
            context.insert("aws:EpochTime", k.epoch.as_str());
            if let Some(iso) = &k.iso {
                context.insert("aws:CurrentTime", iso.as_str());
            }
        }
    });
    context.insert(
        "aws:SecureTransport",
        if transport.secure { "true" } else { "false" },
    );
    if let Some(ip) = transport.source_ip {
        context.insert("aws:SourceIp", ip.to_string());
    }
    if let Some(region) = &transport.region {
        context.insert("aws:RequestedRegion", region.as_str());
    }
}

/// `aws:EpochTime` and `aws:CurrentTime` of one second, formatted once
/// per second and thread rather than on every request.
struct TimeKeys {
    secs: i64,
    epoch: String,
    iso: Option<String>,
}

thread_local! {
    static TIME_KEYS: std::cell::RefCell<Option<TimeKeys>> = const { std::cell::RefCell::new(None) };
}

/// Adds `aws:PrincipalTag/<key>` for each tag.
fn insert_tags(context: &mut Context, tags: &[Tag]) {
    for tag in tags {
        let key = format!("aws:PrincipalTag/{}", tag.key.as_str());
        context.insert(&key, tag.value.as_str());
    }
}

/// Adds `tags` to `out`.
fn push_tags(out: &mut Vec<(String, String)>, tags: &[Tag]) {
    out.extend(
        tags.iter()
            .map(|t| (t.key.as_str().to_owned(), t.value.as_str().to_owned())),
    );
}

/// `2026-11-23T14:12:04Z` for `secs` after the epoch.
fn iso8601(secs: i64) -> Option<String> {
    let basic = AmzDate::from_unix_secs(secs)?.basic();
    let b = basic.as_str();
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        b.get(0..4)?,
        b.get(4..6)?,
        b.get(6..8)?,
        b.get(9..11)?,
        b.get(11..13)?,
        b.get(13..15)?
    ))
}

/// The identity policies and boundary binding `user`.
async fn user_policies(
    store: &(impl EntityReader + ?Sized),
    user: &UserRecord,
) -> Result<PolicySet, ServiceError> {
    let mut set = PolicySet::default();
    let user_arn = user.arn.as_str();
    for (name, doc) in &user.inline_policies {
        set.identity.push(parse_inline(user_arn, name, doc)?);
    }
    for arn in &user.attached_policies {
        if let Some(p) = managed(store, user.account, arn, PolicyKind::Identity).await? {
            set.identity.push(p);
        }
    }
    for group_name in &user.groups {
        let Some(group) = fetch::<GroupRecord>(store, &Key::group(user.account, group_name))
            .await?
            .map(|v| v.record)
        else {
            continue;
        };
        for (name, doc) in &group.inline_policies {
            set.identity
                .push(parse_inline(group.arn.as_str(), name, doc)?);
        }
        for arn in &group.attached_policies {
            if let Some(p) = managed(store, user.account, arn, PolicyKind::Identity).await? {
                set.identity.push(p);
            }
        }
    }
    if let Some(arn) = &user.permissions_boundary {
        // A boundary that names a missing policy allows nothing.
        let boundary = managed(store, user.account, arn, PolicyKind::Boundary).await?;
        set.boundary = Some(match boundary {
            Some(p) => p,
            None => Arc::new(allow_nothing(arn.as_str())?),
        });
    }
    Ok(set)
}

/// Parses an inline policy of the entity `owner`.
fn parse_inline(owner: &str, name: &PolicyName, doc: &str) -> Result<Arc<Policy>, ServiceError> {
    let id = format!("{owner}:{}", name.as_str());
    policy_cache::parsed(&id, PolicyKind::Identity, doc, None).map_err(ServiceError::internal)
}

/// The default version of the customer managed policy `arn` of `account`,
/// parsed as `kind`; `None` when it does not exist (or is not stsd's).
async fn managed(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    arn: &Arn,
    kind: PolicyKind,
) -> Result<Option<Arc<Policy>>, ServiceError> {
    if arn.account_id() != Some(account) {
        return Ok(None);
    }
    let Some(name) = arn
        .resource()
        .rsplit('/')
        .next()
        .and_then(|n| n.parse::<PolicyName>().ok())
    else {
        return Ok(None);
    };
    let Some(record) = fetch::<ManagedPolicyRecord>(store, &Key::managed_policy(account, &name))
        .await?
        .map(|v| v.record)
        .filter(|r| r.arn == *arn)
    else {
        return Ok(None);
    };
    let Some(version) = record
        .versions
        .iter()
        .find(|v| v.version_id == record.default_version_id)
    else {
        return Ok(None);
    };
    policy_cache::parsed(arn.as_str(), kind, &version.document, None)
        .map(Some)
        .map_err(ServiceError::internal)
}

/// A boundary that allows no real action.
fn allow_nothing(id: &str) -> Result<Policy, ServiceError> {
    const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"stsd:NoSuchAction","Resource":"*"}}"#;
    Policy::parse(id, PolicyKind::Boundary, NOTHING).map_err(ServiceError::internal)
}

#[cfg(test)]
mod tests;
