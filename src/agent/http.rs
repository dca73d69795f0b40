//! The agent's endpoints: container credentials, IMDSv2 and health.
//!
//! Owns: the listeners (HTTP/1.1 with keep-alive, as the SDKs speak it),
//! routing, and the HTTP rules of reference section 11:
//! - **Container** (`GET <path>`): sidecar mode checks the `Authorization`
//!   header against the configured token (constant time; a token file is
//!   re-read at most once a second); node mode hands the header to
//!   [`Workloads`]. 200 with the credentials JSON, or `{"code",
//!   "message"}` with 401 (no or wrong token), 403 (no role, broker
//!   refusal), 404, 405 or 503 (nothing servable).
//! - **IMDSv2**: `PUT /latest/api/token` (TTL 1–21600 s in
//!   `X-aws-ec2-metadata-token-ttl-seconds`, else 400; a PUT carrying
//!   `X-Forwarded-For` is refused with 403, as EC2 does, since it came
//!   through a proxy), then reads with `X-aws-ec2-metadata-token` (401 when
//!   invalid or expired, and when absent unless IMDSv1 is enabled) of
//!   `iam/security-credentials/`, `…/<role>` and `iam/info`. Off loopback
//!   every accepted connection's IP TTL is set to `hop_limit`, so a reply
//!   does not travel further than that many hops (the EC2 hop limit).
//! - **Health**: `GET /healthz` (always 200, with how fresh the
//!   credentials are) and `GET /readyz` (200 only while servable).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use subtle::ConstantTimeEq as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::config::{ContainerConfig, ImdsConfig, TokenSetting};
use super::render;
use crate::domain::clock::Clock;
use crate::domain::secret::BearerToken;
use crate::domain::vending::{ImdsTokenError, ImdsTokens, role_name};
use crate::service::vending::{RoleSource, VendError, Workloads};

const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const CREDENTIALS_PREFIX: &str = "/latest/meta-data/iam/security-credentials";

type Body = Full<Bytes>;

/// What the endpoints vend.
#[derive(Clone, Debug)]
pub enum Vendor {
    /// A sidecar's one role.
    Role(Arc<RoleSource>),
    /// A node agent's workloads.
    Node(Arc<Workloads>),
}

/// The state the endpoints share.
pub struct Endpoints {
    vendor: Vendor,
    container: Option<ContainerConfig>,
    authorization: Option<Authorization>,
    imds: Option<ImdsConfig>,
    imds_tokens: ImdsTokens,
    clock: Arc<dyn Clock>,
}

/// The container endpoint's expected token.
struct Authorization {
    setting: TokenSetting,
    /// The file's token and when it was read (seconds since the epoch).
    cached: Mutex<(Option<BearerToken>, i64)>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Container,
    Imds,
    Health,
}

// === impl Endpoints ===

impl Endpoints {
    /// The endpoints of `vendor`.
    pub fn new(
        vendor: Vendor,
        container: Option<ContainerConfig>,
        imds: Option<ImdsConfig>,
        imds_tokens: ImdsTokens,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let authorization = container
            .as_ref()
            .and_then(|c| c.authorization.clone())
            .map(|setting| Authorization {
                setting,
                cached: Mutex::new((None, i64::MIN)),
            });
        Self {
            vendor,
            container,
            authorization,
            imds,
            imds_tokens,
            clock,
        }
    }

    /// Binds the configured listeners: container, IMDS and `health`.
    ///
    /// # Errors
    ///
    /// A bind error naming the endpoint and address.
    pub async fn bind(
        self: &Arc<Self>,
        health: Option<SocketAddr>,
    ) -> Result<Vec<Listener>, String> {
        let mut listeners = Vec::new();
        let wanted = [
            (Kind::Container, self.container.as_ref().map(|c| c.listen)),
            (Kind::Imds, self.imds.map(|i| i.listen)),
            (Kind::Health, health),
        ];
        for (kind, addr) in wanted {
            let Some(addr) = addr else { continue };
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("{kind:?} endpoint: cannot listen on {addr}: {e}"))?;
            let local = listener
                .local_addr()
                .map_err(|e| format!("{kind:?} endpoint: {e}"))?;
            tracing::info!(endpoint = ?kind, addr = %local, "listening");
            listeners.push(Listener {
                kind,
                listener,
                local,
            });
        }
        Ok(listeners)
    }

    async fn handle(&self, kind: Kind, request: Request<Incoming>) -> Response<Body> {
        match kind {
            Kind::Container => self.container(request).await,
            Kind::Imds => self.imds(&request),
            Kind::Health => self.health(&request),
        }
    }

    async fn container(&self, request: Request<Incoming>) -> Response<Body> {
        let Some(config) = &self.container else {
            return not_found();
        };
        if request.uri().path() != config.path {
            return not_found();
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "use GET",
            );
        }
        let (parts, _) = request.into_parts();
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match &self.vendor {
            Vendor::Role(source) => {
                if let Some(expected) = &self.authorization
                    && !self.authorized(expected, presented)
                {
                    return json_error(
                        StatusCode::UNAUTHORIZED,
                        "AccessDenied",
                        if presented.is_some() {
                            "the Authorization header does not match the agent's token"
                        } else {
                            "the request has no Authorization header; set AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                        },
                    );
                }
                match source.current() {
                    Some(c) => json(StatusCode::OK, render::container(&c)),
                    None => unavailable(source),
                }
            }
            Vendor::Node(workloads) => match workloads.credentials(presented).await {
                Ok(c) => json(StatusCode::OK, render::container(&c)),
                Err(e) => vend_error(&e),
            },
        }
    }

    /// Whether `presented` is the expected token (constant time).
    fn authorized(&self, expected: &Authorization, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let token = match &expected.setting {
            TokenSetting::Value(v) => Some(v.clone()),
            TokenSetting::File(path) => self.token_file(expected, path),
        };
        token.is_some_and(|t| bool::from(t.expose_secret().as_bytes().ct_eq(presented.as_bytes())))
    }

    /// The token of `path`, read again when the last read is a second old.
    fn token_file(&self, expected: &Authorization, path: &PathBuf) -> Option<BearerToken> {
        let now = self.clock.now_secs();
        let mut cached = expected.cached.lock();
        if now != cached.1 {
            match std::fs::read_to_string(path) {
                Ok(t) if !t.trim().is_empty() => cached.0 = Some(BearerToken::new(t.trim())),
                Ok(_) => {
                    tracing::warn!(file = %path.display(), "the authorization token file is empty");
                    cached.0 = None;
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot read the authorization token file");
                    cached.0 = None;
                }
            }
            cached.1 = now;
        }
        cached.0.clone()
    }

    fn imds(&self, request: &Request<Incoming>) -> Response<Body> {
        let Some(config) = self.imds else {
            return not_found();
        };
        let Vendor::Role(source) = &self.vendor else {
            return not_found();
        };
        let path = request.uri().path();
        let now = self.clock.now_secs();
        if path == "/latest/api/token" {
            if request.method() != Method::PUT {
                return text(StatusCode::METHOD_NOT_ALLOWED, "use PUT");
            }
            if request.headers().contains_key("x-forwarded-for") {
                return text(
                    StatusCode::FORBIDDEN,
                    "a token request that passed through a proxy is refused",
                );
            }
            let ttl = request
                .headers()
                .get(TOKEN_TTL_HEADER)
                .and_then(|v| v.to_str().ok());
            return match ImdsTokens::ttl(ttl) {
                Ok(ttl) => {
                    let token = self.imds_tokens.issue(now, ttl);
                    let mut r = text(StatusCode::OK, &token);
                    if let Ok(v) = http::HeaderValue::from_str(&ttl.to_string()) {
                        r.headers_mut().insert(TOKEN_TTL_HEADER, v);
                    }
                    r
                }
                Err(e) => text(StatusCode::BAD_REQUEST, &e.to_string()),
            };
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "use GET");
        }
        match request.headers().get(TOKEN_HEADER).map(|v| v.to_str()) {
            Some(Ok(token)) => {
                if let Err(e) = self.imds_tokens.check(token, now) {
                    return text(StatusCode::UNAUTHORIZED, &e.to_string());
                }
            }
            Some(Err(_)) => {
                return text(
                    StatusCode::UNAUTHORIZED,
                    &ImdsTokenError::Invalid.to_string(),
                );
            }
            None if config.v1_enabled => {}
            None => {
                return text(
                    StatusCode::UNAUTHORIZED,
                    "IMDSv1 is disabled: PUT /latest/api/token first and send X-aws-ec2-metadata-token",
                );
            }
        }
        let role_name = role_name(source.role_arn());
        match path.strip_prefix(CREDENTIALS_PREFIX) {
            Some("" | "/") => text(StatusCode::OK, role_name),
            Some(rest) if rest.strip_prefix('/') == Some(role_name) => match source.current() {
                Some(c) => json(StatusCode::OK, render::imds(&c)),
                None => unavailable(source),
            },
            Some(_) => not_found(),
            None if path == "/latest/meta-data/iam/info" => {
                json(StatusCode::OK, render::imds_info(source.role_arn(), now))
            }
            None => not_found(),
        }
    }

    fn health(&self, request: &Request<Incoming>) -> Response<Body> {
        let (ready, body) = match &self.vendor {
            Vendor::Role(source) => {
                let h = source.health();
                let ready = source.current().is_some();
                (ready, serde_json::to_vec(&h).unwrap_or_default())
            }
            Vendor::Node(workloads) => (
                true,
                serde_json::to_vec(&serde_json::json!({
                    "status": "ok",
                    "mode": "node",
                    "tokens": workloads.len(),
                }))
                .unwrap_or_default(),
            ),
        };
        match request.uri().path() {
            "/healthz" => json(StatusCode::OK, body),
            "/readyz" if ready => json(StatusCode::OK, body),
            "/readyz" => json(StatusCode::SERVICE_UNAVAILABLE, body),
            _ => not_found(),
        }
    }
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

/// A bound endpoint.
#[derive(Debug)]
pub struct Listener {
    kind: Kind,
    listener: TcpListener,
    local: SocketAddr,
}

// === impl Listener ===

impl Listener {
    /// Whether this is the IMDS endpoint (the hop limit applies to it).
    pub fn is_imds(&self) -> bool {
        matches!(self.kind, Kind::Imds)
    }

    /// Accepts and serves connections until `shutdown` turns true.
    pub async fn serve(
        self,
        endpoints: Arc<Endpoints>,
        hop_limit: Option<u32>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let ttl = hop_limit.filter(|_| !self.local.ip().is_loopback());
        loop {
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                () = stopped(&mut shutdown) => return,
            };
            let (stream, _) = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            if let Some(ttl) = ttl
                && let Err(e) = hop_limit_of(&stream, ttl)
            {
                tracing::warn!(error = %e, "cannot set the hop limit; closing the connection");
                continue;
            }
            let endpoints = Arc::clone(&endpoints);
            let kind = self.kind;
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let endpoints = Arc::clone(&endpoints);
                    async move { Ok::<_, Infallible>(endpoints.handle(kind, request).await) }
                });
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = stopped(&mut shutdown) => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
        }
    }
}

/// Sets how many hops the connection's packets may travel: the IPv4 TTL,
/// or on an IPv6 socket both the unicast hop limit and the IPv4 TTL — a
/// dual-stack (`[::]`) listener answers IPv4 clients (`::ffff:a.b.c.d`)
/// with IPv4 packets, which only the TTL governs.
fn hop_limit_of(stream: &tokio::net::TcpStream, hops: u32) -> std::io::Result<()> {
    let socket = socket2::SockRef::from(stream);
    match stream.local_addr()? {
        SocketAddr::V4(_) => socket.set_ttl_v4(hops),
        SocketAddr::V6(v6) => {
            socket.set_unicast_hops_v6(hops)?;
            match socket.set_ttl_v4(hops) {
                Err(e) if v6.ip().to_ipv4_mapped().is_some() => Err(e),
                _ => Ok(()),
            }
        }
    }
}

/// Completes once the shutdown flag is set (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    r
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json(status, render::error(code, message))
}

fn not_found() -> Response<Body> {
    json_error(StatusCode::NOT_FOUND, "NotFound", "no such path")
}

fn unavailable(source: &RoleSource) -> Response<Body> {
    let h = source.health();
    let why = h
        .last_error
        .unwrap_or_else(|| "credentials have not been fetched yet".to_owned());
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "CredentialsUnavailable",
        &format!("no credentials can be served: {why}"),
    )
}

fn vend_error(e: &VendError) -> Response<Body> {
    let (status, code) = match e {
        VendError::MissingToken | VendError::BadToken(_) => {
            (StatusCode::UNAUTHORIZED, "AccessDenied")
        }
        VendError::NoRole(_) => (StatusCode::FORBIDDEN, "AccessDenied"),
        VendError::Refused { code, .. } => (StatusCode::FORBIDDEN, code.as_str()),
        VendError::Unavailable(_) | VendError::Full => {
            (StatusCode::SERVICE_UNAVAILABLE, "CredentialsUnavailable")
        }
    };
    json_error(status, code, &e.to_string())
}

#[cfg(test)]
mod tests {
    use super::hop_limit_of;

    /// The hop limit lands in the socket option of each address family,
    /// and an IPv4 client of a dual-stack listener gets the IPv4 TTL.
    #[tokio::test]
    async fn the_hop_limit_is_set_on_ipv4_and_ipv6_connections() -> std::io::Result<()> {
        for (listen, connect) in [
            ("127.0.0.1:0", None),
            ("[::1]:0", None),
            ("[::]:0", Some("127.0.0.1")),
        ] {
            let Ok(listener) = tokio::net::TcpListener::bind(listen).await else {
                continue; // no IPv6 on this host
            };
            let mut target = listener.local_addr()?;
            if let Some(ip) = connect {
                target.set_ip(ip.parse().map_err(std::io::Error::other)?);
            }
            let client = tokio::net::TcpStream::connect(target).await?;
            let (server, _) = listener.accept().await?;
            hop_limit_of(&server, 3)?;
            let sock = socket2::SockRef::from(&server);
            match server.local_addr()? {
                std::net::SocketAddr::V6(v6) => {
                    assert_eq!(sock.unicast_hops_v6()?, 3, "{listen}");
                    if v6.ip().to_ipv4_mapped().is_some() {
                        assert_eq!(sock.ttl_v4()?, 3, "{listen}: IPv4 client");
                    }
                }
                std::net::SocketAddr::V4(_) => assert_eq!(sock.ttl_v4()?, 3, "{listen}"),
            }
            drop(client);
        }
        Ok(())
    }
}
