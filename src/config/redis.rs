//! `[store.redis]`: the raw section and its validation.
//!
//! Owns: [`RedisSection`] (serde shape, defaults), [`RedisConfig`] and
//! [`RedisTopology`] (validated: URLs as [`SecretUrl`], durations), and
//! the environment overrides `STSD_REDIS_URL` (the `url`) and
//! `STSD_REDIS_URLS` (comma-separated `urls`). URLs may carry a password:
//! they are kept in [`SecretUrl`] and no error message quotes them.
//! Imports std, serde, domain types and the sibling modules only.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;
use super::file::Bounded;
use super::source;
use crate::domain::secret::SecretUrl;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "stsd:";
/// The longest key prefix.
const MAX_PREFIX: usize = 64;

/// `[store.redis]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSection {
    /// `redis://` or `rediss://` URL of the server (standalone), or of the
    /// master's credentials, database and TLS (sentinel).
    pub url: Option<String>,
    /// `standalone`, `sentinel` or `cluster`.
    pub mode: RedisModeName,
    /// Cluster seed nodes or sentinel addresses.
    pub urls: Vec<String>,
    /// The master's name as the sentinels know it.
    pub sentinel_master: Option<String>,
    /// Prepended to every key and channel name.
    pub prefix: String,
    /// A PEM bundle of CA certificates trusted for `rediss://` instead of
    /// the system's.
    pub ca_file: Option<PathBuf>,
    /// The longest wait for a connection, in milliseconds.
    pub connect_timeout_ms: Bounded<1, 60_000>,
    /// The longest wait for a reply, in milliseconds.
    pub response_timeout_ms: Bounded<1, 60_000>,
    /// How often each replica polls the store's version stamps (N).
    pub invalidation_poll_ms: Bounded<10, 60_000>,
    /// How long session authentication trusts the last known revocation
    /// rules while Redis is unreachable; at least 5 s, longer than the
    /// rules' refresh interval plus its timeouts, so that a healthy Redis
    /// never makes authentication flap.
    pub revocation_grace_secs: Bounded<5, 3_600>,
}

/// `store.redis.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisModeName {
    /// One server.
    #[default]
    Standalone,
    /// A master found through Redis Sentinel.
    Sentinel,
    /// A Redis Cluster.
    Cluster,
}

impl Default for RedisSection {
    fn default() -> Self {
        Self {
            url: None,
            mode: RedisModeName::Standalone,
            urls: Vec::new(),
            sentinel_master: None,
            prefix: DEFAULT_PREFIX.to_owned(),
            ca_file: None,
            connect_timeout_ms: Bounded(1_000),
            response_timeout_ms: Bounded(1_000),
            invalidation_poll_ms: Bounded(1_000),
            revocation_grace_secs: Bounded(30),
        }
    }
}

/// `[store.redis]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Which deployment and its addresses.
    pub topology: RedisTopology,
    /// Key prefix: 1 to 64 characters, no braces or whitespace.
    pub prefix: String,
    /// CA bundle for `rediss://`.
    pub ca_file: Option<PathBuf>,
    /// The longest wait for a connection.
    pub connect_timeout: Duration,
    /// The longest wait for a reply.
    pub response_timeout: Duration,
    /// N: the bound on cache staleness when an invalidation is lost.
    pub invalidation_poll: Duration,
    /// How long revocation rules are trusted unconfirmed.
    pub revocation_grace: Duration,
}

/// The Redis deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTopology {
    /// One server.
    Standalone {
        /// Its URL.
        url: SecretUrl,
    },
    /// A master through sentinels.
    Sentinel {
        /// The sentinels.
        sentinels: Vec<SecretUrl>,
        /// The master's name.
        master: String,
        /// The master's credentials, database and TLS, if any.
        url: Option<SecretUrl>,
    },
    /// A cluster.
    Cluster {
        /// Seed nodes.
        seeds: Vec<SecretUrl>,
    },
}

/// Validates `raw` with the environment overrides read by `get`.
pub(super) fn redis_config(
    raw: RedisSection,
    origin: &str,
    get: &dyn Fn(&str) -> Result<Option<String>, ConfigError>,
) -> Result<RedisConfig, ConfigError> {
    let err = |key: &str, message: String| ConfigError::File {
        origin: origin.to_owned(),
        line: None,
        column: None,
        key: Some(format!("store.redis.{key}")),
        message,
    };
    let url = match get(source::REDIS_URL)? {
        Some(url) => Some(checked(url).map_err(|m| ConfigError::override_(source::REDIS_URL, m))?),
        None => raw
            .url
            .map(checked)
            .transpose()
            .map_err(|m| err("url", m))?,
    };
    let urls = match get(source::REDIS_URLS)? {
        Some(list) => list
            .split(',')
            .map(|u| checked(u.trim().to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| ConfigError::override_(source::REDIS_URLS, m))?,
        None => raw
            .urls
            .into_iter()
            .map(checked)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| err("urls", m))?,
    };
    let topology = match raw.mode {
        RedisModeName::Standalone => RedisTopology::Standalone {
            url: url.ok_or_else(|| {
                err(
                    "url",
                    format!(
                        "a url is required for backend \"redis\" (or set {})",
                        source::REDIS_URL
                    ),
                )
            })?,
        },
        RedisModeName::Sentinel => RedisTopology::Sentinel {
            sentinels: non_empty(urls)
                .ok_or_else(|| err("urls", "sentinel mode needs the sentinel addresses".into()))?,
            master: raw
                .sentinel_master
                .filter(|m| !m.trim().is_empty())
                .ok_or_else(|| {
                    err(
                        "sentinel_master",
                        "sentinel mode needs the master's name".into(),
                    )
                })?,
            url,
        },
        RedisModeName::Cluster => {
            let seeds = match (non_empty(urls), url) {
                (Some(seeds), _) => seeds,
                (None, Some(url)) => vec![url],
                (None, None) => {
                    return Err(err("urls", "cluster mode needs seed node urls".into()));
                }
            };
            RedisTopology::Cluster { seeds }
        }
    };
    let prefix = raw.prefix;
    if prefix.is_empty()
        || prefix.len() > MAX_PREFIX
        || prefix.contains(['{', '}'])
        || prefix.chars().any(char::is_whitespace)
    {
        return Err(err(
            "prefix",
            format!("must be 1 to {MAX_PREFIX} characters without braces or whitespace"),
        ));
    }
    Ok(RedisConfig {
        topology,
        prefix,
        ca_file: raw.ca_file,
        connect_timeout: Duration::from_millis(raw.connect_timeout_ms.0),
        response_timeout: Duration::from_millis(raw.response_timeout_ms.0),
        invalidation_poll: Duration::from_millis(raw.invalidation_poll_ms.0),
        revocation_grace: Duration::from_secs(raw.revocation_grace_secs.0),
    })
}

fn non_empty(urls: Vec<SecretUrl>) -> Option<Vec<SecretUrl>> {
    (!urls.is_empty()).then_some(urls)
}

/// `url` if it is a `redis://` or `rediss://` URL with a host; the error
/// shows the URL without credentials.
fn checked(url: String) -> Result<SecretUrl, String> {
    let url = SecretUrl::new(url);
    match url.scheme() {
        Some("redis" | "rediss") if !host_of(&url).is_empty() => Ok(url),
        Some("redis" | "rediss") => Err(format!("{} has no host", url.redacted())),
        _ => Err(format!(
            "{} must start with redis:// or rediss://",
            url.redacted()
        )),
    }
}

fn host_of(url: &SecretUrl) -> String {
    let redacted = url.redacted();
    redacted
        .split_once("://")
        .map(|(_, h)| h.to_owned())
        .unwrap_or_default()
}
