//! The configuration file as written.
//!
//! Owns: [`FileConfig`], the raw serde shape of `config/stsd.toml`. Every
//! table rejects unknown keys and every key has a default, so an empty file
//! is a working single-node configuration. Checks that concern one value
//! (ranges, address syntax, identifier syntax) run during deserialisation,
//! so their errors carry the key's line; checks across values run in
//! [`super::Config`]. Imports std, serde, toml and domain newtypes only.
//!
//! `config/stsd.full.toml` documents every key; keep the two in step.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::domain::credential::SealingKeyId;
use crate::domain::ids::{AccountId, Arn, Partition, Region, TagKey};
use crate::domain::seal::SealKeyId;

/// The documented default port of the Query API.
pub const DEFAULT_PORT: u16 = 8433;

/// The default listen address: loopback only, plain HTTP allowed.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT);

/// The default account, as in the AWS documentation examples.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The default id of the master key.
pub const DEFAULT_MASTER_KEY_ID: &str = "master-1";

/// The default region.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The default session sealing key id.
pub const DEFAULT_SEALING_KEY_ID: &str = "s1";

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// The ARN partition of every identity (`aws`).
    pub partition: Partition,
    /// The region this deployment signs and answers as; `us-east-1` when
    /// absent.
    pub region: Option<Region>,
    /// `[server]`.
    pub server: ServerSection,
    /// `[store]`.
    pub store: StoreSection,
    /// `[accounts]`.
    pub accounts: AccountsSection,
    /// `[signature]`.
    pub signature: SignatureSection,
    /// `[logging]`.
    pub logging: LoggingSection,
    /// `[bootstrap]`.
    pub bootstrap: BootstrapSection,
    /// `[sessions]`.
    pub sessions: SessionsSection,
    /// `[sts]`.
    pub sts: StsSection,
    /// `[federation]`.
    pub federation: FederationSection,
    /// `[caches]`.
    pub caches: CachesSection,
    /// `[authorize]`.
    pub authorize: AuthorizeSection,
    /// `[web]`.
    pub web: super::web::WebSection,
    /// `[audit]`.
    pub audit: super::audit::AuditSection,
    /// `[limits]`.
    pub limits: super::limits::LimitsSection,
    /// `[metrics]`.
    pub metrics: super::limits::MetricsSection,
}

/// `[caches]`: sizes of the request-path caches (entries).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CachesSection {
    /// Opened session tokens.
    pub sessions: Bounded<1, 10_000_000>,
    /// Derived SigV4 signing keys (one per key, day, region, service).
    pub signing_keys: Bounded<1, 10_000_000>,
    /// Loaded identities (principal, policies, identity keys).
    pub identities: Bounded<1, 10_000_000>,
}

/// `[authorize]`: the Authorize service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthorizeSection {
    /// How long a caller may cache an answer, seconds (never past the
    /// credentials' expiry); 0: not at all.
    pub answer_ttl_secs: Bounded<0, 3600>,
}

/// `[server]`: the Query API listener.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Spanned so the plain-HTTP rule can name the line.
    pub listen: Option<Spanned<SocketAddr>>,
    /// `[server.tls]`; absent means plain HTTP.
    pub tls: Option<TlsSection>,
    /// Plain HTTP on a non-loopback address is refused unless this is set.
    pub allow_plain_http_non_loopback: bool,
    /// Largest request body accepted; beyond it, 413.
    pub body_limit_bytes: Bounded<1024, { 64 * 1024 * 1024 }>,
    /// Longest a request may take, from its headers to its response.
    pub request_timeout_secs: Bounded<1, 3600>,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace_secs: Bounded<0, 3600>,
    /// Connections served at once; further ones wait in the accept queue.
    pub max_connections: Bounded<1, 1_000_000>,
}

/// `[server.tls]`: both files are required once the table is present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// How often the two files are checked for a new pair, which new
    /// connections then get (also on SIGHUP); 0 checks on SIGHUP only.
    #[serde(default = "default_tls_reload")]
    pub reload_interval_secs: Bounded<0, 86_400>,
    /// PEM bundle of the CAs whose client certificates are verified
    /// (mTLS); absent: no client certificate is asked for.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// `[[server.tls.client_principals]]`: which client certificate is
    /// which principal.
    #[serde(default)]
    pub client_principals: Vec<ClientPrincipalEntry>,
}

/// `[[server.tls.client_principals]]`: exactly one of `uri` and `dns`,
/// and the principal's ARN. Spanned so errors name the line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPrincipalEntry {
    /// A URI SAN of the leaf certificate (a SPIFFE ID), matched exactly.
    pub uri: Option<Spanned<String>>,
    /// A DNS SAN of the leaf certificate, matched ignoring case.
    pub dns: Option<Spanned<String>>,
    /// An IAM user or account root ARN of a served account.
    pub principal: Spanned<String>,
}

/// `reload_interval_secs`'s default.
fn default_tls_reload() -> Bounded<0, 86_400> {
    Bounded(30)
}

/// `[store]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// The backend: `embedded` (one redb file) or `redis` (shared).
    pub backend: StoreBackend,
    /// The embedded store's directory; also home of generated secrets.
    pub data_dir: PathBuf,
    /// A 0600 file holding the master key in base64. The key itself is
    /// never written in this file.
    pub master_key_file: Option<PathBuf>,
    /// The id recorded in every blob the master key seals
    /// ([`DEFAULT_MASTER_KEY_ID`] when absent).
    #[serde(deserialize_with = "seal_key_id")]
    pub master_key_id: Option<SealKeyId>,
    /// `[store.redis]`, used when `backend = "redis"`.
    pub redis: super::redis::RedisSection,
}

/// The store backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// redb, one file in the data directory.
    Embedded,
    /// Redis (standalone, Sentinel or Cluster), shared by replicas.
    Redis,
}

/// `[accounts]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsSection {
    /// The account whose root credentials come from the environment or the
    /// data directory; [`DEFAULT_ACCOUNT`] when absent.
    pub default: Option<AccountId>,
    /// Further accounts served by this deployment.
    pub additional: Vec<AccountId>,
}

/// `[signature]`: SigV4 verification limits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignatureSection {
    /// Largest accepted difference between a request's time and ours.
    pub clock_skew_secs: Bounded<1, 3600>,
    /// Longest accepted `X-Amz-Expires` of a presigned request.
    pub presign_max_secs: Bounded<1, 604_800>,
}

/// `[logging]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingSection {
    /// The most verbose level written.
    pub level: LogLevel,
    /// One JSON object per line (true) or human-readable lines.
    pub json: bool,
}

/// Log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Diagnostics.
    Debug,
    /// Start-up, shutdown and one line per request.
    #[default]
    Info,
    /// Refused and failed requests only.
    Warn,
    /// Failures only.
    Error,
}

/// `[bootstrap]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootstrapSection {
    /// Documents in the shape of `GetAccountAuthorizationDetails`, applied
    /// idempotently at start (`service::iam::bootstrap`).
    pub documents: Vec<PathBuf>,
}

/// `[sessions]`: sealing session tokens.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsSection {
    /// Ids of the sealing keys, each derived from the master key; the
    /// first seals, the others are still accepted. Validated while parsing
    /// (non-empty, well-formed, no repeats), so errors name the line;
    /// `None` when absent ([`DEFAULT_SEALING_KEY_ID`]).
    #[serde(deserialize_with = "sealing_key_ids")]
    pub sealing_keys: Option<Vec<SealingKeyId>>,
    /// How each minted session's record is written.
    pub issued_log: IssuedLog,
}

/// `[sessions] issued_log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuedLog {
    /// Every mint waits for its record's durable group commit (fsync).
    Durable,
    /// Every mint waits for its record to be written; it is durable
    /// within a second (only a machine crash can lose that second).
    #[default]
    Relaxed,
}

/// `[sts]`: the STS behaviours the reference leaves to the deployment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StsSection {
    /// A chained AssumeRole that only inherits transitive session tags
    /// needs `sts:TagSession` too (default true: strict).
    pub tag_session_for_inherited_tags: bool,
    /// The MFA of a calling session carries into the role sessions it
    /// assumes (default true).
    pub mfa_into_role_sessions: bool,
}

/// `[federation]`: AssumeRoleWithWebIdentity and AssumeRoleWithSAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationSection {
    /// Clock skew allowed on the times of tokens and assertions, seconds.
    pub clock_skew_secs: Bounded<0, 3600>,
    /// `[[federation.providers]]`: settings of one IAM identity provider.
    pub providers: Vec<ProviderSection>,
    /// A PEM bundle of CA certificates trusted, besides the system's, for
    /// discovery, JWKS and metadata fetches (`STSD_FEDERATION_CA_FILE`
    /// overrides it).
    pub ca_file: Option<PathBuf>,
    /// Development only: fetch over plain `http://` from loopback hosts.
    pub allow_insecure_loopback: bool,
    /// Fetch from hosts that are, or resolve to, loopback, private or
    /// link-local addresses (the SSRF guard refuses them by default).
    pub allow_private_addresses: bool,
    /// `[federation.oidc]`.
    pub oidc: OidcSection,
    /// `[federation.saml]`.
    pub saml: SamlSection,
}

/// `[federation.saml]`: what AssumeRoleWithSAML accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamlSection {
    /// Accepted `Audience` values (the broker's SP entity IDs).
    pub audiences: Vec<String>,
    /// Accepted `Recipient` values; `None`: the AWS sign-in endpoints and
    /// the broker's own `/saml` URL.
    pub recipients: Option<Vec<String>>,
    /// Refuse an assertion ID already accepted, until it expires.
    pub reject_replay: bool,
}

/// `[federation.oidc]`: fetching and caching OIDC provider keys, and the
/// token age.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSection {
    /// Deadline of one discovery or JWKS fetch, connection included.
    pub fetch_timeout_secs: Bounded<1, 60>,
    /// A key set is cached at least this long, whatever its headers say.
    pub cache_min_ttl_secs: Bounded<0, 86_400>,
    /// And at most this long.
    pub cache_max_ttl_secs: Bounded<1, 604_800>,
    /// Least time between two refetches for an unknown `kid`, per issuer.
    pub refetch_interval_secs: Bounded<0, 3600>,
    /// When set, tokens issued (`iat`) longer ago are refused.
    pub max_token_age_secs: Option<Bounded<60, 31_536_000>>,
    /// Hosts a discovery document's `jwks_uri` may name besides the
    /// issuer's own host.
    pub jwks_hosts: Vec<String>,
}

/// `[[federation.providers]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    /// The IAM provider's ARN (`oidc-provider/…` or `saml-provider/…`).
    pub arn: Spanned<Arn>,
    /// `[federation.providers.claims]`.
    #[serde(default)]
    pub claims: ClaimsSection,
    /// OIDC only: the provider's JWKS, inline, used instead of discovery.
    pub jwks: Option<String>,
    /// OIDC only: a file holding the provider's JWKS, read at start.
    pub jwks_file: Option<PathBuf>,
    /// SAML: the SP private key (PEM, mode 0600) that decrypts this
    /// provider's `EncryptedAssertion`s.
    #[serde(default)]
    pub saml_private_key_file: Option<PathBuf>,
}

/// `[federation.providers.claims]`: claims or attributes → session.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimsSection {
    /// Session tag key → claim (or SAML attribute) name.
    pub tags: BTreeMap<TagKey, String>,
    /// Keys of `tags` that are transitive.
    pub transitive: Vec<TagKey>,
    /// The claim that becomes the source identity.
    pub source_identity: Option<String>,
    /// Condition key name (after the provider's prefix) → claim name.
    pub keys: BTreeMap<String, String>,
}

/// An integer from `MIN` to `MAX`; out-of-range values fail while the file
/// is parsed, so the error names the key's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u64, const MAX: u64>(pub u64);

// === impl FileConfig ===

impl FileConfig {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// The toml error, which carries the span of the offending key or value.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: None,
            tls: None,
            allow_plain_http_non_loopback: false,
            body_limit_bytes: Bounded(1024 * 1024),
            request_timeout_secs: Bounded(30),
            shutdown_grace_secs: Bounded(20),
            max_connections: Bounded(1024),
        }
    }
}

impl Default for FederationSection {
    fn default() -> Self {
        Self {
            clock_skew_secs: Bounded(300),
            providers: Vec::new(),
            ca_file: None,
            allow_insecure_loopback: false,
            allow_private_addresses: false,
            oidc: OidcSection::default(),
            saml: SamlSection::default(),
        }
    }
}

impl Default for SamlSection {
    fn default() -> Self {
        Self {
            audiences: vec![
                "urn:amazon:webservices".to_owned(),
                "https://signin.aws.amazon.com/saml".to_owned(),
            ],
            recipients: None,
            reject_replay: true,
        }
    }
}

impl Default for OidcSection {
    fn default() -> Self {
        Self {
            fetch_timeout_secs: Bounded(5),
            cache_min_ttl_secs: Bounded(60),
            cache_max_ttl_secs: Bounded(86_400),
            refetch_interval_secs: Bounded(30),
            max_token_age_secs: None,
            jwks_hosts: Vec::new(),
        }
    }
}

impl Default for CachesSection {
    fn default() -> Self {
        Self {
            sessions: Bounded(10_000),
            signing_keys: Bounded(16_384),
            identities: Bounded(10_000),
        }
    }
}

impl Default for AuthorizeSection {
    fn default() -> Self {
        Self {
            answer_ttl_secs: Bounded(5),
        }
    }
}

impl Default for StsSection {
    fn default() -> Self {
        Self {
            tag_session_for_inherited_tags: true,
            mfa_into_role_sessions: true,
        }
    }
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Embedded,
            data_dir: PathBuf::from("stsd-data"),
            master_key_file: None,
            master_key_id: None,
            redis: super::redis::RedisSection::default(),
        }
    }
}

impl Default for SignatureSection {
    fn default() -> Self {
        Self {
            clock_skew_secs: Bounded(15 * 60),
            presign_max_secs: Bounded(900),
        }
    }
}

impl Default for LoggingSection {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            json: true,
        }
    }
}

/// `store.master_key_id`: 1–32 characters of `[A-Za-z0-9._-]`.
fn seal_key_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SealKeyId>, D::Error> {
    let text = String::deserialize(d)?;
    SealKeyId::new(&text).map(Some).map_err(|_| {
        serde::de::Error::custom("must be 1 to 32 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
    })
}

/// `sessions.sealing_keys`: at least one id, each 1–32 characters of
/// `[A-Za-z0-9._-]`, none repeated.
fn sealing_key_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<SealingKeyId>>, D::Error> {
    let texts = Vec::<String>::deserialize(d)?;
    if texts.is_empty() {
        return Err(serde::de::Error::custom(
            "must name at least one key id (the first one seals)",
        ));
    }
    let mut ids: Vec<SealingKeyId> = Vec::with_capacity(texts.len());
    for text in &texts {
        let id = SealingKeyId::new(text).map_err(|_| {
            serde::de::Error::custom(format!(
                "'{text}' must be 1 to 32 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
            ))
        })?;
        if ids.contains(&id) {
            return Err(serde::de::Error::custom(format!(
                "'{text}' is listed twice"
            )));
        }
        ids.push(id);
    }
    Ok(Some(ids))
}

// === impl Bounded ===

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        match u64::try_from(n) {
            Ok(n) if (MIN..=MAX).contains(&n) => Ok(Self(n)),
            _ => Err(serde::de::Error::custom(format!(
                "must be an integer from {MIN} to {MAX}, got {n}"
            ))),
        }
    }
}
