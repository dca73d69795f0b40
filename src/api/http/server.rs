//! The listener: accept, TLS, connection cap, graceful drain.
//!
//! Owns: [`serve`], the accept loop in mini-redis style — the caller passes
//! the bound listener and the shutdown signal, so tests start it on port 0.
//! A semaphore caps concurrent connections (house style 25); each
//! connection is served by hyper (HTTP/1.1 and HTTP/2) on its own task,
//! after a TLS handshake when TLS is configured, where a verified client
//! certificate is mapped to its principal once for the connection
//! ([`Connection::client`]). On shutdown the listener
//! closes, every connection is asked to finish its in-flight requests and
//! close, and the drain waits at most the grace period. A client silent
//! from the start is dropped at the header deadline (`server/first_byte.rs`).
//! An HTTP/2 connection sends each round of finished responses with one
//! write (`server/coalesce.rs`).

mod coalesce;
mod first_byte;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::domain::client_cert::{ClientMatch, ClientPrincipals};

/// What a request's connection says about it, in its extensions: the
/// client's address (`aws:SourceIp`; a proxy's `X-Forwarded-For` is not
/// trusted), whether it came over TLS (`aws:SecureTransport`), and what
/// its verified client certificate was mapped to at the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub secure: bool,
    /// The client certificate's principal, resolved once per connection;
    /// `None` when the client sent no certificate (or mTLS is off).
    pub client: Option<Arc<ClientMatch>>,
}

/// How the listener serves.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// TLS; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Which client certificate is which principal; `None` when client
    /// certificates are not asked for.
    pub client_principals: Option<Arc<ClientPrincipals>>,
    /// Connections served at once.
    pub max_connections: usize,
    /// Longest wait for in-flight requests at shutdown.
    pub shutdown_grace: Duration,
    /// Longest wait for a request's headers (and for a TLS handshake).
    pub header_timeout: Duration,
}

/// Pause after a failed `accept` (e.g. out of file descriptors), so the
/// loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let acceptor = settings.tls.clone().map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    let service = TowerToHyperService::new(
        router.map_request(|req: http::Request<Incoming>| req.map(axum::body::Body::new)),
    );
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        let (builder, acceptor) = (builder.clone(), acceptor.clone());
        let service = service.clone();
        let principals = settings.client_principals.clone();
        let handshake_timeout = settings.header_timeout;
        // `service` with the connection's info in every request's extensions.
        let with_info = move |info: Connection| {
            hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(info.clone());
                hyper::service::Service::call(&service, req)
            })
        };
        tokio::spawn(async move {
            let _permit = permit;
            let Some(acceptor) = acceptor else {
                let info = Connection {
                    peer,
                    secure: false,
                    client: None,
                };
                let stream = first_byte::FirstByte::new(stream, handshake_timeout);
                let stream = coalesce::Coalesce::new(stream);
                connection(&builder, stream, with_info(info), watcher).await;
                return;
            };
            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let client = principals.and_then(|p| {
                        super::tls::identify(tls.get_ref().1.peer_certificates(), &p).map(Arc::new)
                    });
                    let info = Connection {
                        peer,
                        secure: true,
                        client,
                    };
                    let tls = first_byte::FirstByte::new(tls, handshake_timeout);
                    let tls = coalesce::Coalesce::new(tls);
                    connection(&builder, tls, with_info(info), watcher).await;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "tls handshake failed"),
                Err(_) => tracing::debug!("tls handshake timed out"),
            }
        });
    }

    drop(listener);
    tracing::info!(connections = graceful.count(), "draining");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(settings.shutdown_grace) => {
            tracing::warn!(grace_secs = settings.shutdown_grace.as_secs(), "grace period elapsed; closing remaining connections");
        }
    }
}

/// Serves one connection until it closes or the drain closes it.
async fn connection<I, S>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    service: S,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<http::Request<Incoming>, Response = axum::response::Response>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let conn = builder.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(conn.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
