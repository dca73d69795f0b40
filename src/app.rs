//! The composition root.
//!
//! Owns: building everything the daemon runs — secrets, the identity store,
//! the credential lookup, the session key ring, the authenticator, the action table, the HTTP
//! router and the listener settings — from a validated [`Config`], and the
//! daemon's life: [`run`] opens the store, reports ready, serves until the
//! shutdown signal, then reports not ready and drains in-flight requests
//! within the grace period; bootstrap documents are applied after the
//! store opens and before anything listens. Like mini-redis's
//! `server::run`, it takes the bound listener and the shutdown signal from
//! its caller, so tests start it on port 0. Imports everything.
//!
//! Integration points still open are marked `INTEGRATION(...)`.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::api::dispatch::Dispatcher;
use crate::api::grpc::{self, GrpcState};
use crate::api::http::{self, HttpSettings, HttpState, Readiness, ServerSettings};
use crate::api::{query, sts};
use crate::config::secrets::{Provisioned, RootCredentials, Secrets, provision};
use crate::config::{Config, ConfigError, SessionsConfig};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::credential::{KeyRing, SealingKey};
use crate::domain::ids::AccountId;
use crate::domain::seal::MasterKey;
use crate::service::authn::{
    Authenticator, AuthnSettings, CacheSizes, Chain, CredentialLookup, StaticCredentials,
    StoreCredentials, StoreUsers,
};
use crate::service::authorize::{AuthorizeSettings, Authorizer};
use crate::service::authz::IdentityCache;
use crate::service::iam::Iam;
use crate::service::iam::bootstrap::BootstrapError;
use crate::service::limits::{Limiter, Swappable};
use crate::service::session_keys::SessionKeys;
use crate::service::sessions::{
    MaintenanceSettings, RecorderSettings, Revocations, SessionRecorder, Sessions, maintain,
};
use crate::service::store::StoreError;
use crate::service::sts::federated::FederationSettings;
use crate::service::sts::{Sts, StsSettings};

mod audit;
mod bootstrap;
mod random;
mod reload;
mod saml;
mod store;
mod web;
mod web_identity;

/// Why the daemon cannot start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configuration or a secret file is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] http::tls::TlsError),
    /// The identity store cannot be opened or prepared.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The listener is unusable, or plain HTTP would be served off loopback.
    #[error("listener: {0}")]
    Listener(String),
    /// A bootstrap document cannot be read, is invalid, or cannot be
    /// applied.
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    /// The audit trail cannot be opened, or its signing key read.
    #[error("{0}")]
    Audit(String),
    /// The TLS client of federation fetches cannot be built (the CA
    /// bundle).
    #[error(transparent)]
    Federation(#[from] crate::adapters::jwks::tls::TlsSetupError),
}

/// Reads and validates the bootstrap documents `config` names, without
/// touching the store (`stsd check-config`).
///
/// # Errors
///
/// The first unreadable file or invalid entity, by file, entity and field.
pub fn check_bootstrap(config: &Config) -> Result<(), AppError> {
    bootstrap::load(config).map(drop).map_err(AppError::from)
}

/// Reads and checks the audit signing key `config` names, if any
/// (`stsd check-config`).
///
/// # Errors
///
/// An unreadable, group- or world-readable, or invalid key file.
pub fn check_audit(config: &Config) -> Result<(), AppError> {
    match &config.audit.signing_key_file {
        Some(path) if config.audit.enabled => audit::read_key(path).map(drop),
        _ => Ok(()),
    }
}

/// Reads the secrets `config` names, generating missing ones into the data
/// directory from the system CSPRNG.
///
/// # Errors
///
/// The secret-file error, or a failure of the random number generator.
pub fn provision_secrets(config: &Config) -> Result<Provisioned, AppError> {
    let mut rng = random::OsRandom::new();
    let provisioned = provision(config, &mut rng)?;
    if rng.failed() {
        return Err(AppError::Random);
    }
    Ok(provisioned)
}

/// The ring of session sealing keys `sessions` names, each derived from
/// `master` — what every replica sharing the master key and the
/// `[sessions]` list builds identically.
pub fn session_key_ring(sessions: &SessionsConfig, master: &MasterKey) -> KeyRing {
    KeyRing::new(
        SealingKey::derive(master, sessions.active.clone()),
        sessions
            .accepted
            .iter()
            .map(|id| SealingKey::derive(master, id.clone()))
            .collect(),
    )
}

/// Serves the daemon on `listener` until `shutdown` completes, then drains.
///
/// # Errors
///
/// A start-up failure; once serving, the daemon only stops on `shutdown`.
pub async fn run(
    config: Config,
    secrets: Secrets,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), AppError> {
    http::tls::install_crypto_provider();
    let local = listener
        .local_addr()
        .map_err(|e| AppError::Listener(e.to_string()))?;
    let (tls, reload, client_principals, certificates) = match &config.server.tls {
        Some(files) => {
            let certificates = http::tls::CertReloader::load(&files.cert_file, &files.key_file)?;
            let tls = http::tls::server_config(
                Arc::clone(&certificates),
                files.client_ca_file.as_deref(),
            )?;
            let reload = files
                .reload_interval
                .map(|every| tokio::spawn(http::tls::watch(Arc::clone(&certificates), every)));
            let principals = files
                .client_ca_file
                .is_some()
                .then(|| Arc::new(files.client_principals.clone()));
            (Some(tls), reload, principals, Some(certificates))
        }
        None => (None, None, None, None),
    };
    // The configuration checked the configured address; the listener handed
    // in is checked again, since that is what actually serves.
    if tls.is_none() && !local.ip().is_loopback() && !config.server.allow_plain_http_non_loopback {
        return Err(AppError::Listener(format!(
            "{local} is not a loopback address and no certificate is configured"
        )));
    }

    let readiness = Readiness::new();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = store::open(&config, Arc::clone(&clock)).await?;
    let master_key: Arc<MasterKey> = Arc::new(secrets.master_key);
    let iam = Arc::new(Iam {
        store: Arc::clone(&store),
        clock: Arc::clone(&clock),
        partition: config.partition.clone(),
        entropy: Arc::new(ring::rand::SystemRandom::new()),
        master_key: Arc::clone(&master_key),
        identities: Arc::new(IdentityCache::new(config.caches.identities)),
    });
    bootstrap::apply(&config, &iam, &secrets.root.access_key_id).await?;
    let mut revocations = Revocations::load(Arc::clone(&store) as _, Arc::clone(&clock)).await?;
    if let Some(redis) = &config.store.redis {
        // A shared store may become unreachable: fail closed after the grace.
        revocations = revocations.fail_closed_after(redis.revocation_grace);
    }
    let revocations = Arc::new(revocations);
    let maintenance = tokio::spawn(maintain(
        Arc::clone(&store),
        Arc::clone(&revocations),
        Arc::clone(&clock),
        MaintenanceSettings::default(),
    ));
    let web = Arc::new(web_identity::build(&config, Arc::clone(&clock))?);
    let saml = Arc::new(saml::build(&config, local, tls.is_some())?);
    let (audit, audit_writer) = audit::build(&config, Arc::clone(&clock))?;
    let mfa_lockout = Swappable::default();
    let swaps = Swaps {
        session_keys: Arc::new(SessionKeys::from(session_key_ring(
            &config.sessions,
            &master_key,
        ))),
        federation: Swappable::new(reload::federation_settings(&config)),
        limiter: Arc::new(Limiter::new(
            Arc::clone(&clock),
            reload::limit_settings(&config),
            mfa_lockout.clone(),
        )),
        mfa_lockout,
    };
    let (session_keys, limiter, federation, inline_keys, reload_master_key) = (
        Arc::clone(&swaps.session_keys),
        Arc::clone(&swaps.limiter),
        swaps.federation.clone(),
        web.inline.clone(),
        Arc::clone(&master_key),
    );
    let (mut state, grpc) = build_state(
        &config,
        Arc::clone(&saml),
        secrets.root,
        secrets.additional_roots,
        master_key,
        Arc::clone(&iam),
        Arc::clone(&clock),
        readiness.clone(),
        Arc::clone(&web),
        revocations,
        audit,
        swaps,
    );
    let reloader = Arc::new(reload::Reloader {
        file: config.source_file.clone(),
        started: reload::Started {
            listen: config.server.listen,
            tls: config.server.tls.clone(),
            data_dir: config.store.data_dir.clone(),
        },
        master_key: reload_master_key,
        session_keys,
        authenticator: Arc::clone(&state.authenticator),
        limiter,
        certificates,
        federation,
        inline_keys,
        running: tokio::sync::Mutex::new(()),
    });
    state.ops = http::ops::OpsSettings {
        metrics_enabled: config.metrics.enabled,
        metrics_allow_remote: config.metrics.allow_remote,
        control: Some(reloader.clone()),
    };
    let pages = web::build(
        &config,
        local,
        tls.is_some(),
        Arc::clone(&grpc.sts),
        web,
        saml,
        iam,
        clock,
        Arc::clone(&state.audit),
        state.limits.clone(),
    )?;
    let state = Arc::new(state);
    let hangup = tokio::spawn(reload::on_hangup(Arc::clone(&reloader)));
    readiness.set_ready();

    let settings = ServerSettings {
        tls,
        client_principals,
        max_connections: config.server.max_connections,
        shutdown_grace: config.server.shutdown_grace,
        header_timeout: config.server.request_timeout,
    };
    tracing::info!(
        listen_addr = %local,
        tls = settings.tls.is_some(),
        account = %config.accounts.default,
        region = %config.region,
        "listening"
    );
    let extra = grpc::router(Arc::new(grpc)).merge(crate::api::web::router(Arc::new(pages)));
    let router = http::router(Arc::clone(&state), extra);
    let drain = async move {
        shutdown.await;
        readiness.set_draining();
        tracing::info!("shutdown requested");
    };
    http::serve(listener, router, settings, drain).await;
    if let Some(reload) = reload {
        reload.abort();
    }
    hangup.abort();
    maintenance.abort();
    if let Some(writer) = audit_writer {
        // Seals the open file: its digest record closes the chain.
        writer.close().await;
    }
    if let Err(e) = store.flush().await {
        tracing::warn!(error = %e, "cannot write the last-used data held back");
    }
    if let Err(e) = store.sync_sessions().await {
        tracing::warn!(error = %e, "cannot make the issued-session records durable");
    }
    tracing::info!("stopped");
    Ok(())
}

/// What a reload replaces, shared by the parts that read it.
struct Swaps {
    session_keys: Arc<SessionKeys>,
    federation: Swappable<FederationSettings>,
    limiter: Arc<Limiter>,
    mfa_lockout: Swappable<crate::domain::limits::MfaLockout>,
}

/// Everything the HTTP layer and the gRPC services share.
#[expect(
    clippy::too_many_arguments,
    reason = "the composition root hands each part its own inputs"
)]
fn build_state(
    config: &Config,
    saml: Arc<crate::service::sts::saml::Saml>,
    root: RootCredentials,
    additional_roots: Vec<(AccountId, RootCredentials)>,
    master_key: Arc<MasterKey>,
    iam: Arc<Iam>,
    clock: Arc<dyn Clock>,
    readiness: Readiness,
    web: Arc<crate::service::sts::web_identity::WebIdentity>,
    revocations: Arc<Revocations>,
    audit: Arc<crate::service::audit::Audit>,
    swaps: Swaps,
) -> (HttpState, GrpcState) {
    let store = Arc::clone(&iam.store);
    let mut static_keys = StaticCredentials::new();
    static_keys.insert_root(config.accounts.default, root.access_key_id, root.secret);
    for (account, root) in additional_roots {
        static_keys.insert_root(account, root.access_key_id, root.secret);
    }
    let lookup: Arc<dyn CredentialLookup> = Arc::new(
        Chain::new()
            .then(Arc::new(static_keys))
            .then(Arc::new(StoreCredentials::new(
                Arc::clone(&store),
                Arc::clone(&master_key),
            ))),
    );

    let mut regions = vec![config.region.to_string()];
    // IAM and the global STS endpoint sign as us-east-1 whatever the region.
    if config.region.as_str() != "us-east-1" {
        regions.push("us-east-1".to_owned());
    }
    let settings = AuthnSettings {
        regions,
        max_skew: config.signature.clock_skew,
        max_presigned_lifetime: config.signature.presign_max,
    };
    let sessions = swaps.session_keys;
    // The STS operations, beside IAM's: the same store, clock and master
    // key, the session key ring, and the master key again (under its own
    // seal purpose) for the records of AccessDenied messages. Mints read
    // the system CSPRNG through a pool of their own (one `getrandom` per
    // 64 mints); IAM's long-term secrets, MFA seeds and SSO tokens never
    // pass through it, so no future long-term secret waits in memory.
    let sts_service = Arc::new(Sts {
        store: Arc::clone(&iam.store),
        clock: Arc::clone(&iam.clock),
        partition: iam.partition.clone(),
        entropy: Arc::new(crate::service::entropy::Pooled::new(
            ring::rand::SystemRandom::new(),
        )),
        master_key: Arc::clone(&master_key),
        keys: Arc::clone(&sessions),
        decode_key: Arc::clone(&master_key),
        settings: StsSettings {
            tag_session_for_inherited_tags: config.sts.tag_session_for_inherited_tags,
            mfa_into_role_sessions: config.sts.mfa_into_role_sessions,
            mfa_lockout: swaps.mfa_lockout,
        },
        federation: swaps.federation,
        identities: Arc::clone(&iam.identities),
        recorder: SessionRecorder::spawn(
            Arc::clone(&iam.store) as _,
            RecorderSettings {
                durable: config.sessions.durable_issued_log,
                ..RecorderSettings::default()
            },
        ),
        audit: Some(Arc::clone(&audit)),
    });
    let usage: Arc<dyn crate::service::store::UsageLog> = store.clone();
    let authenticator = Arc::new(
        Authenticator::new(lookup, Arc::clone(&clock), settings)
            .with_usage_log(usage)
            .with_session_keys(sessions)
            .with_revocations(Arc::clone(&revocations))
            .with_users(Arc::new(StoreUsers(Arc::clone(&store))))
            .with_cache_sizes(CacheSizes {
                sessions: config.caches.sessions,
                signing_keys: config.caches.signing_keys,
            }),
    );
    let authorizer = Arc::new(Authorizer {
        authenticator: Arc::clone(&authenticator),
        store,
        identities: Arc::clone(&iam.identities),
        clock,
        partition: config.partition.clone(),
        settings: AuthorizeSettings {
            answer_ttl: config.authorize_answer_ttl,
        },
        iam: Arc::clone(&iam),
    });

    let mut dispatcher = Dispatcher::new();
    sts::register(&mut dispatcher, config.partition.clone());
    sts::register_actions(&mut dispatcher, Arc::clone(&sts_service));
    sts::register_web_identity(&mut dispatcher, Arc::clone(&sts_service), Arc::clone(&web));
    sts::saml::register(&mut dispatcher, Arc::clone(&sts_service), Arc::clone(&saml));
    crate::api::iam::register(&mut dispatcher, Arc::clone(&iam));

    let grpc = GrpcState {
        authenticator: Arc::clone(&authenticator),
        sts: Arc::clone(&sts_service),
        web,
        saml,
        partition: config.partition.clone(),
        messages: Some(sts_service.messages()),
        body_limit: config.server.body_limit,
        query_limits: query::Limits::default(),
        authorizer: Arc::clone(&authorizer),
        sessions: Arc::new(Sessions {
            store: Arc::clone(&iam.store),
            revocations: Arc::clone(&revocations),
            clock: Arc::clone(&iam.clock),
            partition: config.partition.clone(),
            entropy: Arc::clone(&iam.entropy),
        }),
        audit: Arc::clone(&audit),
        limits: Some(Arc::clone(&swaps.limiter)),
    };
    let http = HttpState {
        dispatcher,
        authenticator,
        authorizer: Some(authorizer),
        readiness,
        settings: HttpSettings {
            body_limit: config.server.body_limit,
            request_timeout: config.server.request_timeout,
            query_limits: query::Limits::default(),
        },
        messages: Some(sts_service.messages()),
        audit,
        partition: config.partition.clone(),
        limits: Some(swaps.limiter),
        ops: http::ops::OpsSettings::default(),
    };
    (http, grpc)
}
