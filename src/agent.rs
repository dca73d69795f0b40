//! `stsd agent`: credential vending beside a workload or once per node.
//!
//! Owns: the agent's composition root — its configuration
//! ([`config`]), its client of the broker ([`broker`], gRPC), the vending
//! use cases of [`crate::service::vending`] wired to the injected clock
//! and the system CSPRNG, the endpoints ([`http`]: container credentials,
//! IMDSv2, health) and the bodies they write ([`render`]), and shutdown.
//! README, "The agent", documents it.

pub mod broker;
pub mod config;
pub mod http;
pub mod render;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use ring::rand::{SecureRandom as _, SystemRandom};
use tokio::sync::watch;

use self::broker::{ClientAuth, GrpcBroker};
use self::config::{AgentConfig, Mode, RoleAuth, SECRET_ENV};
use self::http::{Endpoints, Vendor};
use crate::domain::clock::Clock;
use crate::domain::secret::{BearerToken, SecretAccessKey};
use crate::domain::vending::ImdsTokens;
use crate::service::vending::{
    Authentication, RoleRequest, RoleSource, TokenSource, Unit, WorkloadRole, Workloads,
};

/// Why the agent cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Credentials of the agent itself, TLS, or a listener.
    #[error("{0}")]
    Setup(String),
}

/// A web-identity token file, read at every call (a projected token is
/// rotated by the kubelet in place).
#[derive(Debug)]
pub struct TokenFile(pub PathBuf);

impl TokenSource for TokenFile {
    fn read(&self) -> Result<BearerToken, String> {
        let text =
            std::fs::read_to_string(&self.0).map_err(|e| format!("{}: {e}", self.0.display()))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(format!("{}: the file is empty", self.0.display()));
        }
        Ok(BearerToken::new(token))
    }
}

/// The system CSPRNG as jitter samples in `[0, 1)`.
pub fn system_unit() -> Unit {
    let rng = SystemRandom::new();
    Arc::new(move || {
        let mut b = [0u8; 8];
        if rng.fill(&mut b).is_err() {
            return 0.5;
        }
        // 53 random bits: every f64 in [0, 1) with that spacing.
        #[expect(
            clippy::cast_precision_loss,
            reason = "a 53-bit integer is exact in an f64"
        )]
        let u = (u64::from_be_bytes(b) >> 11) as f64 / (1u64 << 53) as f64;
        u
    })
}

/// How the agent authenticates to the broker for a `[role]`.
///
/// # Errors
///
/// A message naming the file or variable that is missing or unusable.
pub fn client_auth(auth: &RoleAuth) -> Result<ClientAuth, String> {
    match auth {
        RoleAuth::WebIdentity(_) => Ok(ClientAuth::None),
        RoleAuth::Key {
            access_key_id,
            secret_file,
        } => {
            let (text, origin) = match secret_file {
                Some(f) => (
                    std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?,
                    f.display().to_string(),
                ),
                None => (
                    std::env::var(SECRET_ENV).map_err(|_| {
                        format!(
                            "{SECRET_ENV} is not set and role.secret_access_key_file is not given"
                        )
                    })?,
                    SECRET_ENV.to_owned(),
                ),
            };
            let secret: SecretAccessKey = text
                .trim()
                .to_owned()
                .try_into()
                .map_err(|_| format!("{origin}: not a 40-character secret access key"))?;
            Ok(ClientAuth::Key {
                access_key_id: access_key_id.clone(),
                secret,
            })
        }
        RoleAuth::Certificate {
            cert_file,
            key_file,
        } => ClientAuth::certificate(cert_file, key_file),
    }
}

/// Runs the agent until `shutdown` completes.
///
/// # Errors
///
/// [`AgentError`] when it cannot start.
pub async fn run(
    config: AgentConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let setup = AgentError::Setup;
    let unit = system_unit();
    let auth = match &config.mode {
        Mode::Role(r) => client_auth(&r.auth).map_err(setup)?,
        Mode::Node(_) => ClientAuth::None,
    };
    let broker = Arc::new(
        GrpcBroker::new(&config.broker, auth, Arc::clone(&clock))
            .map_err(|e| setup(e.to_string()))?,
    );
    let (stop, stopped) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let vendor = match config.mode {
        Mode::Role(r) => {
            let authentication = match &r.auth {
                RoleAuth::WebIdentity(file) => {
                    Authentication::WebIdentity(Arc::new(TokenFile(file.clone())))
                }
                RoleAuth::Key { .. } | RoleAuth::Certificate { .. } => Authentication::Signed,
            };
            let source = Arc::new(RoleSource::new(
                broker,
                authentication,
                RoleRequest {
                    role_arn: r.arn,
                    session_name: r.session_name,
                    duration_secs: r.duration_secs,
                },
                config.refresh,
                Arc::clone(&clock),
                Arc::clone(&unit),
            ));
            let mut rx = stopped.clone();
            tasks.spawn(Arc::clone(&source).run(async move {
                let _ = rx.wait_for(|s| *s).await;
            }));
            Vendor::Role(source)
        }
        Mode::Node(n) => Vendor::Node(Arc::new(Workloads::new(
            broker,
            n.service_accounts
                .into_iter()
                .map(|(subject, role_arn)| WorkloadRole { subject, role_arn })
                .collect(),
            n.duration_secs,
            config.refresh,
            Arc::clone(&clock),
            unit,
            n.max_tokens,
        ))),
    };
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| setup("the system CSPRNG failed".into()))?;
    let hop_limit = config.imds.map(|i| i.hop_limit);
    let endpoints = Arc::new(Endpoints::new(
        vendor,
        config.container,
        config.imds,
        ImdsTokens::from_key(&key),
        clock,
    ));
    let listeners = endpoints.bind(config.health).await.map_err(setup)?;
    for l in listeners {
        let hop = hop_limit.filter(|_| l.is_imds());
        tasks.spawn(l.serve(Arc::clone(&endpoints), hop, stopped.clone()));
    }
    tracing::info!("stsd agent started");
    shutdown.await;
    tracing::info!("stsd agent stopping");
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests;
