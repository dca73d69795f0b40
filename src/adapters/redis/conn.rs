//! Connections to Redis: standalone, Sentinel or Cluster behind one type.
//!
//! Owns: [`RedisSettings`] and [`RedisMode`] (what the composition root
//! passes in), [`Conn`] (a cheap-to-clone handle that reconnects by
//! itself: the `redis` crate's connection manager for standalone, its
//! cluster connection for Cluster, a master connection re-resolved
//! through the sentinels after a failure for Sentinel), the bounded wait
//! of every call ([`Conn::bounded`]) and the mapping of `redis` errors to
//! [`StoreError`]. May import `redis`, tokio, parking_lot,
//! `domain::secret` and `service::store`.
//!
//! Failing fast: every call waits at most the connect timeout plus the
//! response timeout, whatever the client does inside (reconnect back-off
//! included), and a connection, I/O, cluster-down or timeout failure is
//! [`StoreError::BackendUnavailable`] (the wire's `ServiceUnavailable`).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Client, Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture,
    RetryMethod, TlsCertificates, Value,
};

use crate::domain::secret::SecretUrl;
use crate::service::store::StoreError;

/// How stsd reaches Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisMode {
    /// One server (or a managed endpoint that fails over behind one name).
    Standalone {
        /// `redis://` or `rediss://`, with credentials and database.
        url: SecretUrl,
    },
    /// A master found through Redis Sentinel.
    Sentinel {
        /// The sentinels (`redis://host:26379`, …).
        sentinels: Vec<SecretUrl>,
        /// The master's name as the sentinels know it.
        master: String,
        /// Credentials, database and TLS of the master itself, if any.
        url: Option<SecretUrl>,
    },
    /// A Redis Cluster, found from its seed nodes.
    Cluster {
        /// Seed nodes (any subset of the cluster).
        seeds: Vec<SecretUrl>,
    },
}

/// Everything the Redis store needs to connect.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// Which deployment.
    pub mode: RedisMode,
    /// Prepended to every key and channel name (no `{` or `}`).
    pub prefix: String,
    /// The longest wait for a connection.
    pub connect_timeout: Duration,
    /// The longest wait for a reply.
    pub response_timeout: Duration,
    /// How often the generation and revocation counter are polled, the
    /// bound on staleness when an invalidation message is lost.
    pub invalidation_poll: Duration,
    /// A PEM bundle of CA certificates to trust for `rediss://` instead of
    /// the system's.
    pub ca_pem: Option<Vec<u8>>,
}

/// A handle on the Redis deployment; clones share the connection.
#[derive(Clone)]
pub(super) struct Conn {
    inner: Inner,
    /// Connect plus response timeout: the longest any call waits.
    limit: Duration,
    /// Where pub/sub connections go.
    pubsub: PubSubSource,
}

/// Where the invalidation subscriber connects: a plain connection, since
/// classic pub/sub reaches every node of a Cluster.
#[derive(Clone)]
enum PubSubSource {
    /// The standalone server.
    Server(Arc<Client>),
    /// The seeds of a Cluster, tried in turn.
    Seeds(Arc<Vec<Client>>),
    /// The master the sentinels name now.
    Sentinel(Arc<SentinelConn>),
}

#[derive(Clone)]
enum Inner {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(Arc<SentinelConn>),
}

/// A master connection re-resolved through the sentinels after a failure.
struct SentinelConn {
    client: tokio::sync::Mutex<redis::sentinel::SentinelClient>,
    current: Mutex<Option<MultiplexedConnection>>,
    config: AsyncConnectionConfig,
}

// === impl Conn ===

impl Conn {
    /// Connects as `settings` say; fails when Redis cannot be reached
    /// within the timeouts.
    pub(super) async fn open(settings: &RedisSettings) -> Result<Self, StoreError> {
        let limit = settings.connect_timeout + settings.response_timeout;
        let (inner, pubsub) = tokio::time::timeout(limit, Self::connect(settings))
            .await
            .map_err(|_| unavailable_msg("timed out connecting to redis"))??;
        Ok(Self {
            inner,
            limit,
            pubsub,
        })
    }

    /// A client for a pub/sub connection; `attempt` rotates Cluster seeds.
    pub(super) async fn pubsub_client(&self, attempt: usize) -> Result<Client, StoreError> {
        match &self.pubsub {
            PubSubSource::Server(c) => Ok(Client::clone(c)),
            PubSubSource::Seeds(seeds) => seeds
                .get(attempt % seeds.len().max(1))
                .cloned()
                .ok_or_else(|| unavailable_msg("no cluster seed")),
            PubSubSource::Sentinel(s) => s
                .client
                .lock()
                .await
                .async_get_client()
                .await
                .map_err(map_err),
        }
    }

    /// The longest any call waits.
    pub(super) fn limit(&self) -> Duration {
        self.limit
    }

    async fn connect(s: &RedisSettings) -> Result<(Inner, PubSubSource), StoreError> {
        let certs = || TlsCertificates {
            client_tls: None,
            root_cert: s.ca_pem.clone(),
        };
        match &s.mode {
            RedisMode::Standalone { url } => {
                let client = client_for(url, s.ca_pem.is_some().then(certs))?;
                let pubsub = PubSubSource::Server(Arc::new(client.clone()));
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(s.connect_timeout))
                    .set_response_timeout(Some(s.response_timeout))
                    .set_number_of_retries(2)
                    .set_max_delay(s.connect_timeout);
                let manager = ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(map_err)?;
                Ok((Inner::Single(manager), pubsub))
            }
            RedisMode::Cluster { seeds } => {
                let infos = seeds
                    .iter()
                    .map(|u| u.expose_secret().into_connection_info().map_err(config_err))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut builder = ClusterClientBuilder::new(infos)
                    .connection_timeout(s.connect_timeout)
                    .response_timeout(s.response_timeout)
                    .retries(2);
                if s.ca_pem.is_some() {
                    builder = builder.certs(certs());
                }
                let client = builder.build().map_err(config_err)?;
                let conn = client.get_async_connection().await.map_err(map_err)?;
                let seeds = seeds
                    .iter()
                    .map(|u| client_for(u, s.ca_pem.is_some().then(certs)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((Inner::Cluster(conn), PubSubSource::Seeds(Arc::new(seeds))))
            }
            RedisMode::Sentinel {
                sentinels,
                master,
                url,
            } => {
                let sentinel = SentinelConn::build(sentinels, master, url.as_ref(), s, certs())?;
                sentinel.connection().await?;
                let sentinel = Arc::new(sentinel);
                let pubsub = PubSubSource::Sentinel(Arc::clone(&sentinel));
                Ok((Inner::Sentinel(sentinel), pubsub))
            }
        }
    }

    /// Runs `op` on the connection, waiting at most the configured limit.
    pub(super) async fn bounded<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        F: AsyncFnOnce(&mut Conn) -> Result<T, RedisError>,
    {
        let mut conn = self.clone();
        match tokio::time::timeout(self.limit, op(&mut conn)).await {
            Ok(result) => result.map_err(map_err),
            Err(_) => Err(unavailable_msg("redis did not answer in time")),
        }
    }

    /// Runs `pipelines` (their replies ignored) concurrently: on one
    /// multiplexed connection they go out back to back, so the batch costs
    /// one round trip; on Cluster each pipeline must stay within one slot
    /// (the `redis` crate refuses pipelines across slots).
    pub(super) async fn run_all(&self, pipelines: Vec<Pipeline>) -> Result<(), StoreError> {
        let runs = pipelines.into_iter().map(|pipe| async move {
            self.bounded(async |c| pipe.query_async::<()>(c).await)
                .await
        });
        futures_util::future::try_join_all(runs).await.map(drop)
    }

    /// Whether this is a Cluster connection (scripts then stay in one slot).
    pub(super) fn is_cluster(&self) -> bool {
        matches!(self.inner, Inner::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.inner {
            Inner::Single(c) => c.req_packed_command(cmd),
            Inner::Cluster(c) => c.req_packed_command(cmd),
            Inner::Sentinel(s) => {
                let s = Arc::clone(s);
                Box::pin(async move {
                    let mut c = s.connection().await.map_err(|_| sentinel_down())?;
                    let result = c.req_packed_command(cmd).await;
                    s.forget_on_failure(&result);
                    result
                })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.inner {
            Inner::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Inner::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Inner::Sentinel(s) => {
                let s = Arc::clone(s);
                Box::pin(async move {
                    let mut c = s.connection().await.map_err(|_| sentinel_down())?;
                    let result = c.req_packed_commands(pipeline, offset, count).await;
                    s.forget_on_failure(&result);
                    result
                })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match &self.inner {
            Inner::Single(c) => c.get_db(),
            Inner::Cluster(c) => c.get_db(),
            Inner::Sentinel(_) => 0,
        }
    }
}

// === impl SentinelConn ===

impl SentinelConn {
    fn build(
        sentinels: &[SecretUrl],
        master: &str,
        url: Option<&SecretUrl>,
        s: &RedisSettings,
        certs: TlsCertificates,
    ) -> Result<Self, StoreError> {
        let addrs = sentinels
            .iter()
            .map(|u| {
                u.expose_secret()
                    .into_connection_info()
                    .map(|i| i.addr().clone())
                    .map_err(config_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let info = url
            .map_or("redis://localhost", SecretUrl::expose_secret)
            .into_connection_info()
            .map_err(config_err)?;
        let redis = info.redis_settings();
        let mut builder = SentinelClientBuilder::new(addrs, master, SentinelServerType::Master)
            .map_err(config_err)?
            .set_client_to_redis_db(redis.db());
        if let Some(user) = redis.username() {
            builder = builder.set_client_to_redis_username(user);
        }
        if let Some(password) = redis.password() {
            builder = builder.set_client_to_redis_password(password);
        }
        if let redis::ConnectionAddr::TcpTls { insecure, .. } = info.addr() {
            let mode = if *insecure {
                redis::TlsMode::Insecure
            } else {
                redis::TlsMode::Secure
            };
            builder = builder.set_client_to_redis_tls_mode(mode);
            if s.ca_pem.is_some() {
                builder = builder.set_client_to_redis_certificates(certs);
            }
        }
        let client = builder.build().map_err(config_err)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(s.connect_timeout))
            .set_response_timeout(Some(s.response_timeout));
        Ok(Self {
            client: tokio::sync::Mutex::new(client),
            current: Mutex::new(None),
            config,
        })
    }

    /// The current master connection, resolved through the sentinels when
    /// there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        if let Some(c) = self.current.lock().clone() {
            return Ok(c);
        }
        let mut client = self.client.lock().await;
        if let Some(c) = self.current.lock().clone() {
            return Ok(c);
        }
        let c = client
            .get_async_connection_with_config(&self.config)
            .await
            .map_err(map_err)?;
        *self.current.lock() = Some(c.clone());
        Ok(c)
    }

    /// Drops the connection after a failure that a new master may cure.
    fn forget_on_failure<T>(&self, result: &Result<T, RedisError>) {
        if let Err(e) = result
            && is_transient(e)
        {
            *self.current.lock() = None;
        }
    }
}

/// A standalone client for `url`, with `certs` for `rediss://` if given.
pub(super) fn client_for(
    url: &SecretUrl,
    certs: Option<TlsCertificates>,
) -> Result<Client, StoreError> {
    match certs {
        Some(certs) => Client::build_with_tls(url.expose_secret(), certs),
        None => Client::open(url.expose_secret()),
    }
    .map_err(config_err)
}

fn sentinel_down() -> RedisError {
    RedisError::from((
        redis::ErrorKind::MasterNameNotFoundBySentinel,
        "no master reachable through the sentinels",
    ))
}

/// Whether `e` is about reaching Redis rather than about the request.
fn is_transient(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || !matches!(e.retry_method(), RetryMethod::NoRetry)
}

/// A `redis` error as a store error: unreachable or busy Redis is
/// retryable (`ServiceUnavailable`), anything else a failure.
pub(super) fn map_err(e: RedisError) -> StoreError {
    if is_transient(&e) {
        StoreError::unavailable(e)
    } else {
        StoreError::failure(e)
    }
}

/// A URL or TLS setting the client refused. The message of the `redis`
/// crate names the problem, never the URL's password.
fn config_err(e: RedisError) -> StoreError {
    StoreError::failure(format!("invalid redis settings ({:?})", e.kind()))
}

fn unavailable_msg(msg: &'static str) -> StoreError {
    StoreError::unavailable(msg)
}
