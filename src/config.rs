//! The validated configuration.
//!
//! Owns: [`Config`] and its sections, built in two layers (house style 15):
//! the raw [`file::FileConfig`] read from TOML, then overrides from the
//! environment ([`source::Source`]) and the command line, then validation
//! into newtypes and `Duration`s. Precedence: flag, then environment, then
//! file, then default. Secrets are never read from the file; see
//! [`secrets`]. Loading has no side effects, so `stsd check-config` calls
//! exactly what `stsd serve` calls. Imports domain newtypes only.
//!
//! Every key is documented in `config/stsd.full.toml`.

pub mod audit;
mod client_certs;
pub mod error;
pub mod federation;
pub mod file;
pub mod limits;
pub mod redis;
pub mod secrets;
pub mod source;
pub mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::ConfigError;
use federation::FederationConfig;
use file::FileConfig;
pub use file::{DEFAULT_LISTEN, DEFAULT_PORT, LogLevel, StoreBackend};
use secrets::{Getter, MasterKeySource, RootCredentialSource, master_key_source, root_source};
use source::Source;

use crate::domain::client_cert::ClientPrincipals;
use crate::domain::credential::SealingKeyId;
use crate::domain::ids::{AccountId, Partition, Region};
use crate::domain::seal::SealKeyId;

/// The origin named in errors when no file is given.
const BUILT_IN: &str = "<built-in defaults>";

/// The whole validated configuration.
#[derive(Debug)]
pub struct Config {
    /// The Query API listener.
    pub server: ServerConfig,
    /// The identity store.
    pub store: StoreConfig,
    /// ARN partition of every identity.
    pub partition: Partition,
    /// The region this deployment answers as.
    pub region: Region,
    /// Accounts served.
    pub accounts: AccountsConfig,
    /// SigV4 limits.
    pub signature: SignatureConfig,
    /// Logging.
    pub logging: LoggingConfig,
    /// Bootstrap documents applied at start, in order.
    pub bootstrap: Vec<PathBuf>,
    /// Where the secrets come from.
    pub secrets: SecretsConfig,
    /// Session token sealing.
    pub sessions: SessionsConfig,
    /// STS behaviours the reference leaves open.
    pub sts: StsConfig,
    /// AssumeRoleWithWebIdentity and AssumeRoleWithSAML.
    pub federation: FederationConfig,
    /// `[web]`: browser sign-in.
    pub web: web::WebConfig,
    /// `[caches]`.
    pub caches: CachesConfig,
    /// `[authorize]`: how long a caller may cache an Authorize answer.
    pub authorize_answer_ttl: Duration,
    /// `[audit]`.
    pub audit: audit::AuditConfig,
    /// `[limits]`: rate limits and the MFA lockout.
    pub limits: limits::LimitsConfig,
    /// `[metrics]`: who may read `/metrics`.
    pub metrics: limits::MetricsConfig,
    /// The file this was loaded from (what SIGHUP reloads); `None` for
    /// the built-in defaults or text given directly.
    pub source_file: Option<PathBuf>,
}

/// `[caches]`, validated: entries per request-path cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachesConfig {
    /// Opened session tokens.
    pub sessions: u64,
    /// Derived signing keys.
    pub signing_keys: u64,
    /// Loaded identities.
    pub identities: u64,
}

/// `[server]`, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS files; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Whether plain HTTP may be served on a non-loopback address (the
    /// listener actually bound is checked again at start).
    pub allow_plain_http_non_loopback: bool,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// The certificate chain and key of the TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
    /// How often the files are checked for a new pair; `None` checks on
    /// SIGHUP only.
    pub reload_interval: Option<Duration>,
    /// PEM bundle of the CAs client certificates are verified against;
    /// `None`: no client certificate is asked for. Read at start only.
    pub client_ca_file: Option<PathBuf>,
    /// Which verified client certificate is which principal.
    pub client_principals: ClientPrincipals,
}

/// `[store]`, validated.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The backend.
    pub backend: StoreBackend,
    /// The data directory (embedded store file, generated secrets).
    pub data_dir: PathBuf,
    /// The id under which the master key seals; changing it makes secrets
    /// sealed under the old id unreadable (rotation is future work).
    pub master_key_id: SealKeyId,
    /// `[store.redis]`: present exactly when the backend is Redis.
    pub redis: Option<redis::RedisConfig>,
}

/// `[accounts]`, validated.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// The account the environment's root credentials belong to.
    pub default: AccountId,
    /// Further accounts; never repeats `default`.
    pub additional: Vec<AccountId>,
}

/// `[signature]`, validated.
#[derive(Debug, Clone, Copy)]
pub struct SignatureConfig {
    /// Largest accepted difference between a request's time and ours.
    pub clock_skew: Duration,
    /// Longest accepted presigned-request lifetime.
    pub presign_max: Duration,
}

/// `[logging]`, validated.
#[derive(Debug, Clone, Copy)]
pub struct LoggingConfig {
    /// Most verbose level written.
    pub level: LogLevel,
    /// JSON lines (true) or human-readable lines.
    pub json: bool,
}

/// `[sessions]`, validated: the ids of the sealing keys derived from the
/// master key.
#[derive(Debug, Clone)]
pub struct SessionsConfig {
    /// The key that seals new session tokens.
    pub active: SealingKeyId,
    /// Older keys whose tokens are still accepted (until retired by
    /// removing them from the list).
    pub accepted: Vec<SealingKeyId>,
    /// Mints wait for their session's record to be durable (`durable`,
    /// the default), or only queue it (`relaxed`).
    pub durable_issued_log: bool,
}

/// `[sts]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StsConfig {
    /// Inherited transitive tags alone need `sts:TagSession`.
    pub tag_session_for_inherited_tags: bool,
    /// A calling session's MFA carries into the role session it assumes.
    pub mfa_into_role_sessions: bool,
}

/// Where each secret comes from.
#[derive(Debug)]
pub struct SecretsConfig {
    /// The master key.
    pub master_key: MasterKeySource,
    /// The default account's root credentials.
    pub root: RootCredentialSource,
}

/// Command-line overrides, applied last.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
}

/// Where the effective listen address came from, for error messages.
enum ListenOrigin {
    Default,
    File(usize),
    Env,
    Flag,
}

// === impl Config ===

impl Config {
    /// Loads `path` (or the built-in defaults when `None`), applies the
    /// overrides of `env` and `flags`, and validates.
    ///
    /// # Errors
    ///
    /// The first problem found, naming its file, line and key or its
    /// variable.
    pub fn load(
        path: Option<&Path>,
        env: &dyn Source,
        flags: &Overrides,
    ) -> Result<Self, ConfigError> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                let mut config = Self::from_toml(&text, &p.display().to_string(), env, flags)?;
                config.source_file = Some(p.to_owned());
                Ok(config)
            }
            None => Self::from_toml("", BUILT_IN, env, flags),
        }
    }

    /// Like [`Config::load`], from the text of a file called `origin`.
    ///
    /// # Errors
    ///
    /// As [`Config::load`].
    pub fn from_toml(
        text: &str,
        origin: &str,
        env: &dyn Source,
        flags: &Overrides,
    ) -> Result<Self, ConfigError> {
        let raw = FileConfig::parse(text).map_err(|e| {
            ConfigError::at_offset(origin, text, e.span().map(|s| s.start), None, e.message())
        })?;
        let get = |name: &str| {
            env.get(name)
                .map_err(|e| ConfigError::override_(name, e.to_string()))
        };
        let mut raw_server = raw.server;
        let client_entries = raw_server
            .tls
            .as_mut()
            .map(|t| std::mem::take(&mut t.client_principals))
            .unwrap_or_default();
        let mut server = server_config(raw_server, text, origin, &get, flags)?;
        let data_dir = get(source::DATA_DIR)?.map_or(raw.store.data_dir, PathBuf::from);
        let accounts = accounts_config(raw.accounts, &get)?;
        let audit = audit::audit_config(raw.audit, &data_dir, get(audit::AUDIT_DIR)?, origin)?;
        if let Some(tls) = server.tls.as_mut() {
            let served: Vec<AccountId> = std::iter::once(accounts.default)
                .chain(accounts.additional.iter().copied())
                .collect();
            let cx = client_certs::Context {
                origin,
                text,
                partition: &raw.partition,
                accounts: &served,
                has_ca: tls.client_ca_file.is_some(),
            };
            tls.client_principals = client_certs::client_principals(client_entries, &cx)?;
        }
        let region = match raw.region {
            Some(r) => r,
            None => built_in(file::DEFAULT_REGION, "region")?,
        };
        let mut federation = federation::federation_config(raw.federation, origin, text)?;
        if let Some(ca) = get(source::FEDERATION_CA_FILE)? {
            federation.oidc.ca_file = Some(PathBuf::from(ca));
        }
        let web = web::web_config(raw.web, origin, text)?;
        let secrets = SecretsConfig {
            master_key: master_key_source(&get, raw.store.master_key_file)?,
            root: root_source(&get)?,
        };
        let backend = match get(source::STORE_BACKEND)?.as_deref() {
            None => raw.store.backend,
            Some("embedded") => StoreBackend::Embedded,
            Some("redis") => StoreBackend::Redis,
            Some(other) => {
                return Err(ConfigError::override_(
                    source::STORE_BACKEND,
                    format!("must be \"embedded\" or \"redis\", got \"{other}\""),
                ));
            }
        };
        let redis = match backend {
            StoreBackend::Redis => Some(redis::redis_config(raw.store.redis, origin, &get)?),
            StoreBackend::Embedded => None,
        };
        Ok(Self {
            server,
            store: StoreConfig {
                redis,
                backend,
                data_dir,
                master_key_id: match raw.store.master_key_id {
                    Some(id) => id,
                    None => built_in_key_id()?,
                },
            },
            partition: raw.partition,
            region,
            accounts,
            signature: SignatureConfig {
                clock_skew: Duration::from_secs(raw.signature.clock_skew_secs.0),
                presign_max: Duration::from_secs(raw.signature.presign_max_secs.0),
            },
            logging: LoggingConfig {
                level: raw.logging.level,
                json: raw.logging.json,
            },
            bootstrap: raw.bootstrap.documents,
            secrets,
            sessions: sessions_config(raw.sessions)?,
            sts: StsConfig {
                tag_session_for_inherited_tags: raw.sts.tag_session_for_inherited_tags,
                mfa_into_role_sessions: raw.sts.mfa_into_role_sessions,
            },
            federation,
            web,
            caches: CachesConfig {
                sessions: raw.caches.sessions.0,
                signing_keys: raw.caches.signing_keys.0,
                identities: raw.caches.identities.0,
            },
            authorize_answer_ttl: Duration::from_secs(raw.authorize.answer_ttl_secs.0),
            audit,
            limits: limits::limits_config(&raw.limits),
            metrics: limits::metrics_config(&raw.metrics),
            source_file: None,
        })
    }
}

/// `[server]` with `STSD_LISTEN` and `--listen` applied, and the plain-HTTP
/// rule checked.
fn server_config(
    raw: file::ServerSection,
    text: &str,
    origin: &str,
    get: &Getter<'_>,
    flags: &Overrides,
) -> Result<ServerConfig, ConfigError> {
    let (mut listen, mut from) = match &raw.listen {
        Some(l) => (
            *l.get_ref(),
            ListenOrigin::File(error::line_col(text, l.span().start).0),
        ),
        None => (DEFAULT_LISTEN, ListenOrigin::Default),
    };
    if let Some(v) = get(source::LISTEN)? {
        listen = v.parse().map_err(|_| {
            ConfigError::override_(
                source::LISTEN,
                format!("'{v}' is not an address such as 127.0.0.1:{DEFAULT_PORT}"),
            )
        })?;
        from = ListenOrigin::Env;
    }
    if let Some(l) = flags.listen {
        listen = l;
        from = ListenOrigin::Flag;
    }
    let tls = raw.tls.map(|t| TlsFiles {
        cert_file: t.cert_file,
        key_file: t.key_file,
        reload_interval: (t.reload_interval_secs.0 > 0)
            .then(|| Duration::from_secs(t.reload_interval_secs.0)),
        client_ca_file: t.client_ca_file,
        client_principals: ClientPrincipals::default(),
    });
    if tls.is_none() && !listen.ip().is_loopback() && !raw.allow_plain_http_non_loopback {
        return Err(plain_http_refused(origin, listen, &from));
    }
    Ok(ServerConfig {
        listen,
        tls,
        allow_plain_http_non_loopback: raw.allow_plain_http_non_loopback,
        body_limit: usize::try_from(raw.body_limit_bytes.0).unwrap_or(usize::MAX),
        request_timeout: Duration::from_secs(raw.request_timeout_secs.0),
        shutdown_grace: Duration::from_secs(raw.shutdown_grace_secs.0),
        max_connections: usize::try_from(raw.max_connections.0).unwrap_or(usize::MAX),
    })
}

/// `[accounts]` with `STSD_ACCOUNT_ID` applied; `additional` loses the
/// default and duplicates.
fn accounts_config(
    raw: file::AccountsSection,
    get: &Getter<'_>,
) -> Result<AccountsConfig, ConfigError> {
    let default = match get(source::ACCOUNT_ID)? {
        Some(v) => v.parse::<AccountId>().map_err(|_| {
            ConfigError::override_(
                source::ACCOUNT_ID,
                format!("'{v}' is not a 12-digit account id"),
            )
        })?,
        None => match raw.default {
            Some(a) => a,
            None => built_in(file::DEFAULT_ACCOUNT, "accounts.default")?,
        },
    };
    let mut additional = raw.additional;
    additional.retain(|a| *a != default);
    additional.sort_unstable();
    additional.dedup();
    Ok(AccountsConfig {
        default,
        additional,
    })
}

/// `[sessions]`: the first id is active (the file's list was checked
/// while parsing: non-empty, no repeats).
fn sessions_config(raw: file::SessionsSection) -> Result<SessionsConfig, ConfigError> {
    let ids = match raw.sealing_keys {
        Some(ids) => ids,
        None => vec![
            SealingKeyId::new(file::DEFAULT_SEALING_KEY_ID).map_err(|e| ConfigError::File {
                origin: BUILT_IN.to_owned(),
                line: None,
                column: None,
                key: Some("sessions.sealing_keys".to_owned()),
                message: e.to_string(),
            })?,
        ],
    };
    let mut ids = ids.into_iter();
    let active = ids.next().ok_or_else(|| ConfigError::File {
        origin: BUILT_IN.to_owned(),
        line: None,
        column: None,
        key: Some("sessions.sealing_keys".to_owned()),
        message: "must name at least one key id".to_owned(),
    })?;
    Ok(SessionsConfig {
        active,
        accepted: ids.collect(),
        durable_issued_log: raw.issued_log == file::IssuedLog::Durable,
    })
}

/// A built-in default parsed into its type; the error is unreachable for
/// the constants used, but reported rather than panicking.
fn built_in<T: std::str::FromStr<Err = crate::domain::ids::IdError>>(
    value: &str,
    key: &str,
) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|e: crate::domain::ids::IdError| ConfigError::File {
            origin: BUILT_IN.to_owned(),
            line: None,
            column: None,
            key: Some(key.to_owned()),
            message: e.to_string(),
        })
}

/// The default master key id; the error is unreachable for the constant.
fn built_in_key_id() -> Result<SealKeyId, ConfigError> {
    SealKeyId::new(file::DEFAULT_MASTER_KEY_ID).map_err(|e| ConfigError::File {
        origin: BUILT_IN.to_owned(),
        line: None,
        column: None,
        key: Some("store.master_key_id".to_owned()),
        message: e.to_string(),
    })
}

fn plain_http_refused(origin: &str, listen: SocketAddr, from: &ListenOrigin) -> ConfigError {
    let message = format!(
        "{listen} is not a loopback address and no certificate is configured; configure \
         [server.tls] or set server.allow_plain_http_non_loopback = true"
    );
    match from {
        ListenOrigin::File(line) => ConfigError::File {
            origin: origin.to_owned(),
            line: Some(*line),
            column: None,
            key: Some("server.listen".into()),
            message,
        },
        ListenOrigin::Default => ConfigError::File {
            origin: origin.to_owned(),
            line: None,
            column: None,
            key: Some("server.listen".into()),
            message,
        },
        ListenOrigin::Env => ConfigError::override_(source::LISTEN, message),
        ListenOrigin::Flag => ConfigError::override_("--listen", message),
    }
}

#[cfg(test)]
mod tests;
