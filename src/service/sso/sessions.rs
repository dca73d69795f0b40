//! The browser sessions of sign-in, in memory.
//!
//! Owns: [`WebSessions`] — three bounded tables with time-to-live
//! eviction (moka), each also checked against the injected clock:
//! browser sessions by the SHA-256 of their id (the cookie holds the id;
//! the table never does), pending SP-initiated SAML requests by
//! AuthnRequest ID, and `stsd login`'s one-time codes by their SHA-256.
//! A session is replaced by a new id when someone signs in (no fixation).
//!
//! Sessions live in the replica that served the sign-in: several replicas
//! need the load balancer to keep a browser on one (sticky sessions) for
//! the minutes of a sign-in; credentials already minted are valid
//! everywhere. Imports `domain` and the sibling modules.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::{OidcStart, SsoError};
use crate::domain::ids::{Arn, RoleSessionName};
use crate::domain::oidc::WebIdentityToken;
use crate::domain::secret::{BearerToken, SecretAccessKey, SessionToken};
use crate::service::sts::saml::LoginAssertion;

/// Most browser sessions held at once (the oldest unused go first).
const MAX_SESSIONS: u64 = 100_000;

/// A table key: the SHA-256 of a session id or one-time code.
pub type Digest = [u8; 32];

/// A browser session's id, as the cookie carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(pub BearerToken);

/// One browser's state.
#[derive(Debug)]
pub struct WebSession {
    /// The CSRF token every form of this session carries.
    pub csrf: BearerToken,
    /// When the session was made, seconds.
    pub created_at: u64,
    /// An OIDC login under way.
    pub login: Option<PendingOidc>,
    /// Who signed in, and what they may pick.
    pub person: Option<Arc<Person>>,
    /// The credentials last minted for this browser.
    pub issued: Option<Issued>,
    /// An `stsd login` waiting for this browser's sign-in.
    pub cli: Option<CliRequest>,
}

/// An OIDC login between the redirect to the provider and its callback.
#[derive(Debug)]
pub struct PendingOidc {
    /// The provider's short name.
    pub provider: String,
    /// `state`, `nonce` and the PKCE verifier.
    pub start: OidcStart,
    /// When it left for the provider.
    pub started_at: u64,
}

impl PendingOidc {
    /// Whether a callback's `state` is this login's (constant time).
    pub fn answers(&self, state: &str) -> bool {
        subtle::ConstantTimeEq::ct_eq(
            self.start.state.expose_secret().as_bytes(),
            state.as_bytes(),
        )
        .into()
    }
}

/// An SP-initiated SAML login waiting for its response.
#[derive(Debug, Clone)]
pub struct PendingSaml {
    /// The provider's short name.
    pub provider: String,
    /// The browser session that started it.
    pub session: Digest,
    /// When the AuthnRequest was made.
    pub started_at: u64,
}

/// A signed-in person.
#[derive(Debug)]
pub struct Person {
    /// What the pages call them (email, user name or subject).
    pub display: String,
    /// How they signed in (the provider's label, or "IAM user").
    pub via: String,
    /// What proves it, to mint with.
    pub evidence: Evidence,
    /// The roles they may pick, in display order.
    pub roles: Vec<Arn>,
}

/// What a signed-in person's sessions are minted from.
#[derive(Debug)]
pub enum Evidence {
    /// An OIDC ID token (checked again as a web-identity token).
    Oidc {
        /// The provider's short name.
        provider: String,
        /// The ID token.
        token: WebIdentityToken,
        /// The role session name made from its claims.
        session_name: RoleSessionName,
    },
    /// A verified SAML response.
    Saml(Box<LoginAssertion>),
    /// An IAM user who signed in with a password (credentials minted at
    /// sign-in).
    User,
}

/// Minted credentials, as the credentials page and `stsd login` show
/// them.
#[derive(Debug)]
pub struct Issued {
    /// The ARN the credentials act as.
    pub arn: String,
    /// The role picked, when a role.
    pub role_arn: Option<Arn>,
    /// `AccessKeyId`.
    pub access_key_id: String,
    /// `SecretAccessKey`.
    pub secret: SecretAccessKey,
    /// `SessionToken`.
    pub token: SessionToken,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
}

/// An `stsd login` waiting for a browser sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliRequest {
    /// The loopback URL the one-time code goes back to.
    pub redirect_uri: String,
    /// The CLI's `state`, returned unchanged.
    pub state: String,
    /// The S256 PKCE challenge the exchange must answer.
    pub challenge: String,
    /// The role asked for, if any (picked without the picker when
    /// offered).
    pub role_arn: Option<Arn>,
}

/// A one-time code for `stsd login`.
#[derive(Debug)]
pub struct CliGrant {
    /// The request it answers.
    pub request: CliRequest,
    /// The credentials it is exchanged for.
    pub issued: Issued,
    /// When it was made.
    pub created_at: u64,
}

/// The tables.
#[derive(Debug)]
pub struct WebSessions {
    sessions: moka::sync::Cache<Digest, Arc<Mutex<WebSession>>>,
    saml: moka::sync::Cache<String, PendingSaml>,
    codes: moka::sync::Cache<Digest, Arc<Mutex<Option<CliGrant>>>>,
    session_ttl: u64,
    login_ttl: u64,
}

/// How long a one-time code of `stsd login` is valid, seconds.
pub const CODE_TTL_SECS: u64 = 120;

// === impl WebSessions ===

impl WebSessions {
    /// Tables whose sessions last `session_ttl` seconds and logins
    /// `login_ttl`.
    pub fn new(session_ttl: u64, login_ttl: u64) -> Self {
        let ttl = |secs: u64| Duration::from_secs(secs.max(1));
        Self {
            sessions: moka::sync::Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(ttl(session_ttl))
                .build(),
            saml: moka::sync::Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(ttl(login_ttl))
                .build(),
            codes: moka::sync::Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_live(ttl(CODE_TTL_SECS))
                .build(),
            session_ttl,
            login_ttl,
        }
    }

    /// A new, empty session with the id `id` and CSRF token `csrf`.
    pub fn create(&self, id: &SessionId, csrf: BearerToken, now: u64) -> Arc<Mutex<WebSession>> {
        let session = Arc::new(Mutex::new(WebSession {
            csrf,
            created_at: now,
            login: None,
            person: None,
            issued: None,
            cli: None,
        }));
        self.sessions.insert(digest(&id.0), Arc::clone(&session));
        session
    }

    /// The live session `id` names.
    pub fn get(&self, id: &SessionId, now: u64) -> Option<Arc<Mutex<WebSession>>> {
        self.by_digest(&digest(&id.0), now)
    }

    /// The live session under `key`.
    pub fn by_digest(&self, key: &Digest, now: u64) -> Option<Arc<Mutex<WebSession>>> {
        let session = self.sessions.get(key)?;
        let created = session.lock().created_at;
        if now >= created.saturating_add(self.session_ttl) {
            self.sessions.invalidate(key);
            return None;
        }
        Some(session)
    }

    /// Forgets the session `id` (sign-out, or replaced at sign-in).
    pub fn remove(&self, id: &SessionId) {
        self.sessions.invalidate(&digest(&id.0));
    }

    /// Forgets the session under `key`.
    pub fn remove_digest(&self, key: &Digest) {
        self.sessions.invalidate(key);
    }

    /// The key of `id` in the table.
    pub fn key(id: &SessionId) -> Digest {
        digest(&id.0)
    }

    /// Remembers an AuthnRequest `request_id` until the login times out.
    pub fn expect_saml(&self, request_id: String, pending: PendingSaml) {
        self.saml.insert(request_id, pending);
    }

    /// The pending AuthnRequest `request_id`, removed (a response answers
    /// it once).
    ///
    /// # Errors
    ///
    /// [`SsoError::LoginExpired`] when unknown, used or too old.
    pub fn take_saml(&self, request_id: &str, now: u64) -> Result<PendingSaml, SsoError> {
        let pending = self.saml.remove(request_id).ok_or(SsoError::LoginExpired)?;
        if now >= pending.started_at.saturating_add(self.login_ttl) {
            return Err(SsoError::LoginExpired);
        }
        Ok(pending)
    }

    /// Whether a login that started at `started_at` is still in time.
    pub fn login_in_time(&self, started_at: u64, now: u64) -> bool {
        now < started_at.saturating_add(self.login_ttl)
    }

    /// Stores a one-time code.
    pub fn grant(&self, code: &BearerToken, grant: CliGrant) {
        self.codes
            .insert(digest(code), Arc::new(Mutex::new(Some(grant))));
    }

    /// The grant of `code`, removed: a code is exchanged once.
    ///
    /// # Errors
    ///
    /// [`SsoError::LoginExpired`] when unknown, used or too old.
    pub fn take_grant(&self, code: &BearerToken, now: u64) -> Result<CliGrant, SsoError> {
        let key = digest(code);
        let slot = self.codes.get(&key).ok_or(SsoError::LoginExpired)?;
        self.codes.invalidate(&key);
        let grant = slot.lock().take().ok_or(SsoError::LoginExpired)?;
        if now >= grant.created_at.saturating_add(CODE_TTL_SECS) {
            return Err(SsoError::LoginExpired);
        }
        Ok(grant)
    }
}

/// SHA-256 of a token's text.
fn digest(token: &BearerToken) -> Digest {
    let d = ring::digest::digest(&ring::digest::SHA256, token.expose_secret().as_bytes());
    let mut out = [0_u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}
