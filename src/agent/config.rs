//! The agent's configuration file.
//!
//! Owns: [`AgentConfig`] — `stsd agent --config F`'s TOML (README, "The
//! agent"), parsed with every table closed to unknown keys, and checked:
//! the broker URL (`https://`, or `http://` to a loopback host only), one
//! of `[role]` and `[node]`, one way of authenticating a `[role]`, at
//! least one endpoint, IMDS only with `[role]`, the refresh numbers
//! consistent. Errors name the file, line and key. Secrets (the agent's
//! secret access key, the endpoint authorization token) are read from
//! files or the environment, never from this file's text except the
//! authorization token, which is not a credential to AWS. Imports std,
//! serde, toml, the configuration error type and domain types.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::config::error::ConfigError;
use crate::config::file::{Bounded, LoggingSection};
use crate::domain::ids::Arn;
use crate::domain::vending::RefreshPolicy;

/// The variable that holds the agent's secret access key when
/// `secret_access_key_file` is not set.
pub const SECRET_ENV: &str = "STSD_AGENT_SECRET_ACCESS_KEY";

/// The whole file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    broker: BrokerSection,
    role: Option<Spanned<RoleSection>>,
    node: Option<Spanned<NodeSection>>,
    #[serde(default)]
    refresh: RefreshSection,
    container: Option<Spanned<ContainerSection>>,
    imds: Option<Spanned<ImdsSection>>,
    health: Option<HealthSection>,
    #[serde(default)]
    logging: LoggingSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BrokerSection {
    endpoint: Spanned<String>,
    ca_file: Option<PathBuf>,
    #[serde(default = "default_region")]
    region: String,
    #[serde(default = "default_timeout")]
    timeout_ms: Bounded<100, 120_000>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSection {
    arn: Spanned<String>,
    #[serde(default = "default_session_name")]
    session_name: String,
    #[serde(default = "default_duration")]
    duration_secs: Bounded<900, 43_200>,
    web_identity_token_file: Option<PathBuf>,
    access_key_id: Option<String>,
    secret_access_key_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSection {
    #[serde(default = "default_duration")]
    duration_secs: Bounded<900, 43_200>,
    #[serde(default = "default_max_tokens")]
    max_tokens: Bounded<1, 1_000_000>,
    #[serde(default)]
    service_accounts: Vec<Spanned<ServiceAccount>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceAccount {
    subject: String,
    role_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RefreshSection {
    before_expiry_secs: Bounded<0, 3_600>,
    jitter_secs: Bounded<0, 600>,
    serve_margin_secs: Bounded<0, 3_600>,
    retry_min_ms: Bounded<1, 60_000>,
    retry_max_secs: Bounded<1, 3_600>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainerSection {
    listen: SocketAddr,
    #[serde(default = "default_path")]
    path: String,
    authorization_token: Option<String>,
    authorization_token_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImdsSection {
    listen: SocketAddr,
    #[serde(default)]
    v1_enabled: bool,
    #[serde(default = "default_hop_limit")]
    hop_limit: Bounded<1, 64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthSection {
    listen: SocketAddr,
}

/// The checked configuration.
#[derive(Debug)]
pub struct AgentConfig {
    /// The broker.
    pub broker: BrokerConfig,
    /// What is vended.
    pub mode: Mode,
    /// When to refresh.
    pub refresh: RefreshPolicy,
    /// The container-credentials endpoint.
    pub container: Option<ContainerConfig>,
    /// IMDSv2.
    pub imds: Option<ImdsConfig>,
    /// The health endpoint.
    pub health: Option<SocketAddr>,
    /// Logging.
    pub logging: LoggingSection,
}

/// The broker and how to reach it.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// `http(s)://host:port`.
    pub endpoint: http::Uri,
    /// Extra trusted CAs.
    pub ca_file: Option<PathBuf>,
    /// SigV4 region.
    pub region: String,
    /// One call's deadline.
    pub timeout: Duration,
}

/// Sidecar or node agent.
#[derive(Debug)]
pub enum Mode {
    /// One role.
    Role(RoleConfig),
    /// Many workloads.
    Node(NodeConfig),
}

/// `[role]`.
#[derive(Debug)]
pub struct RoleConfig {
    /// The role.
    pub arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds`.
    pub duration_secs: u32,
    /// How the agent authenticates.
    pub auth: RoleAuth,
}

/// How a `[role]` agent authenticates to the broker.
#[derive(Debug, Clone)]
pub enum RoleAuth {
    /// AssumeRoleWithWebIdentity with the token in this file.
    WebIdentity(PathBuf),
    /// Signed AssumeRole with a long-term key; the secret is in the file,
    /// or in [`SECRET_ENV`] when none is given.
    Key {
        /// `AKIA…`.
        access_key_id: String,
        /// The secret's file.
        secret_file: Option<PathBuf>,
    },
    /// AssumeRole over mTLS.
    Certificate {
        /// PEM chain.
        cert_file: PathBuf,
        /// PEM key.
        key_file: PathBuf,
    },
}

/// `[node]`.
#[derive(Debug)]
pub struct NodeConfig {
    /// `DurationSeconds`.
    pub duration_secs: u32,
    /// Bound of the token table.
    pub max_tokens: usize,
    /// Subject → role.
    pub service_accounts: Vec<(String, String)>,
}

/// `[container]`.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// The credentials path.
    pub path: String,
    /// The expected `Authorization` header (sidecar mode).
    pub authorization: Option<TokenSetting>,
}

/// Where the container endpoint's authorization token comes from.
#[derive(Debug, Clone)]
pub enum TokenSetting {
    /// Inline.
    Value(crate::domain::secret::BearerToken),
    /// A file, re-read when it changes.
    File(PathBuf),
}

/// `[imds]`.
#[derive(Debug, Clone, Copy)]
pub struct ImdsConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Whether token-less reads are served.
    pub v1_enabled: bool,
    /// IP TTL of responses when not on loopback.
    pub hop_limit: u32,
}

// === impl AgentConfig ===

impl AgentConfig {
    /// Reads and checks `path`.
    ///
    /// # Errors
    ///
    /// The first problem, naming file, line and key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks `text`, the content of `origin`.
    ///
    /// # Errors
    ///
    /// As [`AgentConfig::load`].
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let at = |span: Option<Range<usize>>, key: &str, message: String| {
            ConfigError::at_offset(
                origin,
                text,
                span.map(|s| s.start),
                Some(key.into()),
                message,
            )
        };
        let raw: File = toml::from_str(text).map_err(|e| {
            ConfigError::at_offset(origin, text, e.span().map(|s| s.start), None, e.message())
        })?;
        let broker = broker(&raw.broker)
            .map_err(|m| at(Some(raw.broker.endpoint.span()), "broker.endpoint", m))?;
        let mode = match (raw.role, raw.node) {
            (Some(role), None) => {
                let span = role.span();
                Mode::Role(
                    role_config(role.into_inner())
                        .map_err(|(k, m)| at(Some(span.clone()), k, m))?,
                )
            }
            (None, Some(node)) => {
                let span = node.span();
                Mode::Node(
                    node_config(node.into_inner())
                        .map_err(|(k, m)| at(Some(span.clone()), k, m))?,
                )
            }
            (Some(_), Some(node)) => {
                return Err(at(Some(node.span()), "node", "[role] and [node] cannot both be set: an agent vends one role (sidecar) or the roles of many workloads (node agent)".into()));
            }
            (None, None) => {
                return Err(at(None, "role", "one of [role] (a sidecar's role) or [node] (a node agent's service accounts) is required".into()));
            }
        };
        let refresh = refresh_policy(&raw.refresh).map_err(|m| at(None, "refresh", m))?;
        let container = match raw.container {
            Some(c) => {
                let span = c.span();
                let c = c.into_inner();
                if !c.path.starts_with('/') || c.path.contains(['?', '#']) {
                    return Err(at(
                        Some(span),
                        "container.path",
                        format!("must be an absolute path without query, got \"{}\"", c.path),
                    ));
                }
                let authorization = match (c.authorization_token, c.authorization_token_file) {
                    (Some(_), Some(_)) => {
                        return Err(at(
                            Some(span),
                            "container.authorization_token",
                            "set authorization_token or authorization_token_file, not both".into(),
                        ));
                    }
                    (Some(v), None) => Some(TokenSetting::Value(
                        crate::domain::secret::BearerToken::new(v),
                    )),
                    (None, Some(f)) => Some(TokenSetting::File(f)),
                    (None, None) => None,
                };
                if authorization.is_none()
                    && matches!(mode, Mode::Role(_))
                    && !c.listen.ip().is_loopback()
                {
                    return Err(at(
                        Some(span),
                        "container.authorization_token_file",
                        format!(
                            "the container endpoint listens on {}, off loopback, without an authorization token: anyone who reaches it would get the role's credentials; set authorization_token_file (or listen on loopback)",
                            c.listen
                        ),
                    ));
                }
                if authorization.is_some() && matches!(mode, Mode::Node(_)) {
                    return Err(at(Some(span), "container.authorization_token", "a node agent identifies workloads by the service-account token they present as Authorization; a fixed token cannot be set".into()));
                }
                Some(ContainerConfig {
                    listen: c.listen,
                    path: c.path,
                    authorization,
                })
            }
            None => None,
        };
        let imds = match raw.imds {
            Some(i) => {
                if matches!(mode, Mode::Node(_)) {
                    return Err(at(Some(i.span()), "imds", "IMDS cannot tell workloads apart; a node agent serves the container endpoint only".into()));
                }
                let i = i.into_inner();
                Some(ImdsConfig {
                    listen: i.listen,
                    v1_enabled: i.v1_enabled,
                    hop_limit: u32::try_from(i.hop_limit.0).unwrap_or(1),
                })
            }
            None => None,
        };
        if container.is_none() && imds.is_none() {
            return Err(at(
                None,
                "container",
                "no endpoint: set [container], [imds] or both".into(),
            ));
        }
        let mut listens = vec![];
        listens.extend(container.as_ref().map(|c| c.listen));
        listens.extend(imds.map(|i| i.listen));
        listens.extend(raw.health.as_ref().map(|h| h.listen));
        let distinct: HashSet<_> = listens.iter().filter(|a| a.port() != 0).collect();
        if distinct.len() != listens.iter().filter(|a| a.port() != 0).count() {
            return Err(at(
                None,
                "container.listen",
                "container, imds and health need different listen addresses".into(),
            ));
        }
        Ok(Self {
            broker,
            mode,
            refresh,
            container,
            imds,
            health: raw.health.map(|h| h.listen),
            logging: raw.logging,
        })
    }
}

fn broker(b: &BrokerSection) -> Result<BrokerConfig, String> {
    let endpoint: http::Uri = b
        .endpoint
        .get_ref()
        .parse()
        .map_err(|e| format!("not a URL: {e}"))?;
    let host = endpoint.host().ok_or("the URL has no host")?;
    match endpoint.scheme_str() {
        Some("https") => {}
        Some("http") if is_loopback(host) => {}
        Some("http") => {
            return Err(format!(
                "http:// is allowed only to a loopback host, got \"{host}\"; use https://"
            ));
        }
        _ => return Err("must be an http:// or https:// URL".into()),
    }
    if endpoint.path() != "/" && !endpoint.path().is_empty() {
        return Err("must be the broker's root URL, without a path".into());
    }
    Ok(BrokerConfig {
        endpoint,
        ca_file: b.ca_file.clone(),
        region: b.region.clone(),
        timeout: Duration::from_millis(b.timeout_ms.0),
    })
}

/// Whether `host` is `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn role_arn(arn: &str) -> Result<(), String> {
    match arn.parse::<Arn>() {
        Ok(a) if a.service() == "iam" && a.resource().starts_with("role/") => Ok(()),
        _ => Err(format!(
            "must be a role ARN (arn:aws:iam::<account>:role/<name>), got \"{arn}\""
        )),
    }
}

fn role_config(r: RoleSection) -> Result<RoleConfig, (&'static str, String)> {
    role_arn(r.arn.get_ref()).map_err(|m| ("role.arn", m))?;
    let name_ok = (2..=64).contains(&r.session_name.len())
        && r.session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !name_ok {
        return Err((
            "role.session_name",
            format!(
                "must be 2–64 characters of [A-Za-z0-9_+=,.@-], got \"{}\"",
                r.session_name
            ),
        ));
    }
    let auth = match (
        r.web_identity_token_file,
        r.access_key_id,
        r.client_cert_file,
        r.client_key_file,
    ) {
        (Some(file), None, None, None) if r.secret_access_key_file.is_none() => {
            RoleAuth::WebIdentity(file)
        }
        (None, Some(id), None, None) => RoleAuth::Key {
            access_key_id: id,
            secret_file: r.secret_access_key_file,
        },
        (None, None, Some(cert_file), Some(key_file)) if r.secret_access_key_file.is_none() => {
            RoleAuth::Certificate {
                cert_file,
                key_file,
            }
        }
        (None, None, Some(_), None) | (None, None, None, Some(_)) => {
            return Err((
                "role.client_cert_file",
                "client_cert_file and client_key_file go together".into(),
            ));
        }
        _ => {
            return Err((
                "role.web_identity_token_file",
                "set exactly one way to authenticate: web_identity_token_file, access_key_id (with secret_access_key_file or STSD_AGENT_SECRET_ACCESS_KEY), or client_cert_file with client_key_file".into(),
            ));
        }
    };
    Ok(RoleConfig {
        arn: r.arn.into_inner(),
        session_name: r.session_name,
        duration_secs: u32::try_from(r.duration_secs.0).unwrap_or(3600),
        auth,
    })
}

fn node_config(n: NodeSection) -> Result<NodeConfig, (&'static str, String)> {
    if n.service_accounts.is_empty() {
        return Err((
            "node.service_accounts",
            "a node agent needs at least one [[node.service_accounts]] entry".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut service_accounts = Vec::with_capacity(n.service_accounts.len());
    for sa in n.service_accounts {
        let sa = sa.into_inner();
        role_arn(&sa.role_arn).map_err(|m| ("node.service_accounts.role_arn", m))?;
        if sa.subject.is_empty() {
            return Err(("node.service_accounts.subject", "must not be empty".into()));
        }
        if !seen.insert(sa.subject.clone()) {
            return Err((
                "node.service_accounts.subject",
                format!("\"{}\" appears twice", sa.subject),
            ));
        }
        service_accounts.push((sa.subject, sa.role_arn));
    }
    Ok(NodeConfig {
        duration_secs: u32::try_from(n.duration_secs.0).unwrap_or(3600),
        max_tokens: usize::try_from(n.max_tokens.0).unwrap_or(usize::MAX),
        service_accounts,
    })
}

fn refresh_policy(r: &RefreshSection) -> Result<RefreshPolicy, String> {
    if r.serve_margin_secs.0 >= r.before_expiry_secs.0 {
        return Err(format!(
            "serve_margin_secs ({}) must be less than before_expiry_secs ({}): credentials must be refreshed before they stop being served",
            r.serve_margin_secs.0, r.before_expiry_secs.0
        ));
    }
    let retry_min = Duration::from_millis(r.retry_min_ms.0);
    let retry_max = Duration::from_secs(r.retry_max_secs.0);
    if retry_min > retry_max {
        return Err("retry_min_ms must not exceed retry_max_secs".into());
    }
    Ok(RefreshPolicy {
        before_expiry: Duration::from_secs(r.before_expiry_secs.0),
        jitter: Duration::from_secs(r.jitter_secs.0),
        serve_margin: Duration::from_secs(r.serve_margin_secs.0),
        retry_min,
        retry_max,
    })
}

impl Default for RefreshSection {
    fn default() -> Self {
        Self {
            before_expiry_secs: Bounded(300),
            jitter_secs: Bounded(60),
            serve_margin_secs: Bounded(60),
            retry_min_ms: Bounded(1000),
            retry_max_secs: Bounded(60),
        }
    }
}

fn default_region() -> String {
    "us-east-1".into()
}
fn default_timeout() -> Bounded<100, 120_000> {
    Bounded(5000)
}
fn default_session_name() -> String {
    "stsd-agent".into()
}
fn default_duration() -> Bounded<900, 43_200> {
    Bounded(3600)
}
fn default_max_tokens() -> Bounded<1, 1_000_000> {
    Bounded(10_000)
}
fn default_path() -> String {
    "/v1/credentials".into()
}
fn default_hop_limit() -> Bounded<1, 64> {
    Bounded(1)
}
