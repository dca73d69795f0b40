//! Reloading the configuration while serving (SIGHUP and
//! `POST /admin/reload`).
//!
//! Owns: [`Reloader`] — reads the configuration file again and, only when
//! all of it is valid (the file parses and validates, the TLS pair loads),
//! swaps in what can change without dropping a connection: the rate
//! limits and MFA lockout, the session sealing key ring, the
//! `[[federation.providers]]` claim mappings and inline key sets, the TLS
//! certificate (new handshakes get it, connections keep theirs) and the
//! log level. A bad file is refused with the reason logged and returned,
//! and the old configuration stays whole. Settings read only at start
//! (listener, store, TLS file paths, caches, SAML decryption keys) are
//! reported as needing a restart. Imports `config`, `api::http`,
//! `service` and `telemetry`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::api::http::ops::Control;
use crate::api::http::tls::CertReloader;
use crate::config::source::Environment;
use crate::config::{Config, LogLevel, Overrides, TlsFiles};
use crate::domain::ids::Arn;
use crate::domain::oidc::KeySet;
use crate::domain::seal::MasterKey;
use crate::service::authn::Authenticator;
use crate::service::limits::{LimitSettings, Limiter, Swappable};
use crate::service::session_keys::SessionKeys;
use crate::service::sts::federated::FederationSettings;
use crate::telemetry::metrics::metrics;

/// What a reload swaps, and what it checks the new file against.
#[derive(Debug)]
pub(crate) struct Reloader {
    /// The configuration file; `None`: nothing to reload.
    pub(crate) file: Option<PathBuf>,
    /// What was started with, for the restart-only settings.
    pub(crate) started: Started,
    pub(crate) master_key: Arc<MasterKey>,
    pub(crate) session_keys: Arc<SessionKeys>,
    pub(crate) authenticator: Arc<Authenticator>,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) certificates: Option<Arc<CertReloader>>,
    pub(crate) federation: Swappable<FederationSettings>,
    pub(crate) inline_keys: Swappable<HashMap<Arn, Arc<KeySet>>>,
    /// One reload at a time.
    pub(crate) running: tokio::sync::Mutex<()>,
}

/// The settings read only at start.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    pub(crate) listen: std::net::SocketAddr,
    pub(crate) tls: Option<TlsFiles>,
    pub(crate) data_dir: PathBuf,
}

/// The limits of `config`.
pub(crate) fn limit_settings(config: &Config) -> LimitSettings {
    let l = &config.limits;
    LimitSettings {
        auth_failures_per_source_ip: l.auth_failures_per_source_ip,
        auth_failures_per_principal: l.auth_failures_per_principal,
        assume_role_per_principal: l.assume_role_per_principal,
        mfa: l.mfa,
    }
}

/// The claim mappings of `config`'s providers.
pub(crate) fn federation_settings(config: &Config) -> FederationSettings {
    FederationSettings {
        clock_skew_secs: config.federation.clock_skew.as_secs(),
        mappings: config
            .federation
            .providers
            .iter()
            .map(|p| (p.arn.clone(), p.claims.clone()))
            .collect(),
    }
}

/// The inline key sets of `config`'s providers.
pub(crate) fn inline_keys(config: &Config) -> HashMap<Arn, Arc<KeySet>> {
    config
        .federation
        .providers
        .iter()
        .filter_map(|p| Some((p.arn.clone(), Arc::new(p.jwks.clone()?))))
        .collect()
}

/// The `tracing` level of a configured level.
pub(crate) fn level(level: LogLevel) -> tracing::Level {
    match level {
        LogLevel::Trace => tracing::Level::TRACE,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    }
}

// === impl Reloader ===

impl Reloader {
    /// Loads and checks the file; the new configuration, or why not.
    fn load(&self) -> Result<Config, String> {
        let file = self
            .file
            .as_deref()
            .ok_or("stsd was started without a configuration file; nothing to reload")?;
        let config = Config::load(Some(file), &Environment, &Overrides::default())
            .map_err(|e| e.to_string())?;
        match (&config.server.tls, &self.started.tls) {
            (None, None) => {}
            (Some(new), Some(old))
                if new.cert_file == old.cert_file && new.key_file == old.key_file =>
            {
                CertReloader::load(&new.cert_file, &new.key_file).map_err(|e| e.to_string())?;
            }
            _ => {
                return Err(
                    "server.tls: the certificate and key paths cannot change while running; restart to apply"
                        .to_owned(),
                );
            }
        }
        Ok(config)
    }

    /// Swaps in `config`'s reloadable parts; what changed.
    fn apply(&self, config: &Config) -> Vec<String> {
        let mut changes = Vec::new();
        if let Some(certificates) = &self.certificates {
            match certificates.reload() {
                Ok(true) => changes.push("tls certificate reloaded".to_owned()),
                Ok(false) => {}
                // Checked in `load`; a file replaced in between keeps the
                // current pair.
                Err(e) => changes.push(format!("tls certificate kept: {e}")),
            }
        }
        let ring = super::session_key_ring(&config.sessions, &self.master_key);
        let ids: Vec<_> = ring.ids().cloned().collect();
        if ids != self.session_keys.ids() {
            self.session_keys.set(ring);
            // Tokens opened under a retired key must not stay accepted.
            self.authenticator.forget_opened_sessions();
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            changes.push(format!("sealing keys: {}", ids.join(", ")));
        }
        let limits = limit_settings(config);
        if *self.limiter.settings() != limits {
            self.limiter.set(limits);
            changes.push("limits".to_owned());
        }
        let federation = federation_settings(config);
        let providers: Vec<String> = federation
            .mappings
            .iter()
            .map(|(arn, _)| arn.to_string())
            .collect();
        self.federation.set(federation);
        self.inline_keys.set(inline_keys(config));
        changes.push(format!("federation providers: {}", providers.len()));
        match crate::telemetry::set_level(level(config.logging.level)) {
            Ok(()) => changes.push(format!("log level: {:?}", config.logging.level).to_lowercase()),
            Err(e) => tracing::debug!(error = %e, "log level not changed"),
        }
        if config.server.listen != self.started.listen {
            changes.push("server.listen changed: restart to apply".to_owned());
        }
        if config.store.data_dir != self.started.data_dir {
            changes.push("store.data_dir changed: restart to apply".to_owned());
        }
        changes
    }
}

#[async_trait]
impl Control for Reloader {
    async fn reload(&self) -> Result<Vec<String>, String> {
        let _one = self.running.lock().await;
        match self.load() {
            Ok(config) => {
                let changes = self.apply(&config);
                metrics().reload(true);
                tracing::info!(changes = ?changes, "configuration reloaded");
                Ok(changes)
            }
            Err(reason) => {
                metrics().reload(false);
                tracing::error!(reason = %reason, "configuration reload refused; the running configuration stays");
                Err(reason)
            }
        }
    }
}

/// Reloads on every SIGHUP, until dropped (aborted at shutdown).
pub(crate) async fn on_hangup(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGHUP; reload with POST /admin/reload");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        tracing::info!(signal = "SIGHUP", "reloading the configuration");
        let _ = reloader.reload().await;
    }
}
