//! The agent's client of the broker: [`Broker`] over stsd's gRPC API.
//!
//! Owns: [`GrpcBroker`] — tonic's generated `SecurityTokenService` client
//! over hyper's HTTP/2 client and rustls (ring; ALPN `h2`; h2c prior
//! knowledge to a loopback `http://` broker), one deadline per call, and
//! the three ways the agent authenticates: none (AssumeRoleWithWebIdentity
//! is unsigned), a long-term key (every call signed by
//! [`crate::client::SigV4Layer`]) or a client certificate (mTLS; the
//! broker maps it to a user, README "mTLS"). gRPC is used rather than the
//! Query API because mTLS authenticates only there. Statuses map back to
//! [`BrokerError`]: transport failures and `UNAVAILABLE` /
//! `DEADLINE_EXCEEDED` / `INTERNAL` are worth retrying; every other status
//! is a refusal with the AWS code from `x-amzn-errortype`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, ServiceExt as _};

use super::config::BrokerConfig;
use crate::adapters::jwks::tls::root_store;
use crate::api::error::GRPC_ERROR_TYPE;
use crate::api::grpc::proto::v1 as pb;
use crate::client::{BoxError, Credentials, SigV4Layer};
use crate::domain::clock::Clock;
use crate::domain::secret::{BearerToken, SecretAccessKey, SessionToken};
use crate::domain::vending::VendedCredentials;
use crate::service::vending::{Broker, BrokerError, RoleRequest};

type HttpService = BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<hyper::body::Incoming>,
    CallError,
>;

/// A transport or signing failure of one call (a concrete type: tonic's
/// client wants an error convertible into a boxed error for every
/// lifetime, which a boxed error itself is not).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CallError(BoxError);

/// How the agent proves who it is to the broker.
pub enum ClientAuth {
    /// Nothing (web identity only).
    None,
    /// A long-term key: calls are SigV4-signed.
    Key {
        /// `AKIA…`.
        access_key_id: String,
        /// Its secret.
        secret: SecretAccessKey,
    },
    /// A client certificate and key (PEM files).
    Certificate {
        /// The chain.
        cert: Vec<CertificateDer<'static>>,
        /// The key.
        key: PrivateKeyDer<'static>,
    },
}

/// Why the client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BrokerSetupError {
    /// TLS roots or the client certificate.
    #[error("{0}")]
    Tls(String),
}

/// The broker's gRPC API.
pub struct GrpcBroker {
    plain: HttpService,
    signed: Option<HttpService>,
    origin: http::Uri,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

// === impl ClientAuth ===

impl ClientAuth {
    /// Reads a PEM certificate chain and key.
    ///
    /// # Errors
    ///
    /// A message naming the file.
    pub fn certificate(
        cert_file: &std::path::Path,
        key_file: &std::path::Path,
    ) -> Result<Self, String> {
        let cert = CertificateDer::pem_file_iter(cert_file)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                format!(
                    "{}: cannot read the client certificate: {e}",
                    cert_file.display()
                )
            })?;
        if cert.is_empty() {
            return Err(format!("{}: no CERTIFICATE block", cert_file.display()));
        }
        let key = PrivateKeyDer::from_pem_file(key_file)
            .map_err(|e| format!("{}: cannot read the client key: {e}", key_file.display()))?;
        Ok(Self::Certificate { cert, key })
    }
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Key { access_key_id, .. } => {
                write!(f, "Key({access_key_id}, <secret redacted>)")
            }
            Self::Certificate { .. } => f.write_str("Certificate(<key redacted>)"),
        }
    }
}

// === impl GrpcBroker ===

impl GrpcBroker {
    /// A client of `config.endpoint`, authenticating as `auth`.
    ///
    /// # Errors
    ///
    /// [`BrokerSetupError`].
    pub fn new(
        config: &BrokerConfig,
        auth: ClientAuth,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, BrokerSetupError> {
        let roots = root_store(config.ca_file.as_deref())
            .map_err(|e| BrokerSetupError::Tls(e.to_string()))?;
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| BrokerSetupError::Tls(e.to_string()))?
        .with_root_certificates(roots);
        let (tls, key) = match auth {
            ClientAuth::Certificate { cert, key } => {
                let tls = builder.with_client_auth_cert(cert, key).map_err(|e| {
                    BrokerSetupError::Tls(format!("the client certificate is unusable: {e}"))
                })?;
                (tls, None)
            }
            ClientAuth::Key {
                access_key_id,
                secret,
            } => (builder.with_no_client_auth(), Some((access_key_id, secret))),
            ClientAuth::None => (builder.with_no_client_auth(), None),
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.timeout));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        let plain = BoxCloneSyncService::new(client.clone().map_err(|e| CallError(e.into())));
        let authority = config
            .endpoint
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let signed = key.map(|(access_key_id, secret)| {
            let layer = SigV4Layer::with_clock(
                Credentials {
                    access_key_id,
                    secret,
                    session_token: None,
                },
                &config.region,
                &authority,
                Arc::clone(&clock),
            );
            BoxCloneSyncService::new(layer.layer(client).map_err(CallError))
        });
        Ok(Self {
            plain,
            signed,
            origin: config.endpoint.clone(),
            timeout: config.timeout,
            clock,
        })
    }

    fn client(
        &self,
        signed: bool,
    ) -> pb::security_token_service_client::SecurityTokenServiceClient<HttpService> {
        let service = match (&self.signed, signed) {
            (Some(s), true) => s.clone(),
            _ => self.plain.clone(),
        };
        pb::security_token_service_client::SecurityTokenServiceClient::with_origin(
            service,
            self.origin.clone(),
        )
    }

    /// The credentials of an answer.
    fn vended(
        &self,
        request: &RoleRequest,
        credentials: Option<pb::Credentials>,
        user: Option<pb::AssumedRoleUser>,
    ) -> Result<VendedCredentials, BrokerError> {
        let bad =
            |what: &str| BrokerError::Unreachable(format!("the broker's answer has no {what}"));
        let c = credentials.ok_or_else(|| bad("credentials"))?;
        let user = user.ok_or_else(|| bad("assumed-role user"))?;
        let secret: SecretAccessKey = c
            .secret_access_key
            .parse()
            .map_err(|_| bad("valid secret access key"))?;
        let expiration = c
            .expiration
            .map(|t| t.seconds)
            .ok_or_else(|| bad("expiration"))?;
        let account_id = user.arn.split(':').nth(4).unwrap_or_default().to_owned();
        Ok(VendedCredentials {
            access_key_id: c.access_key_id,
            secret_access_key: secret,
            session_token: SessionToken::new(c.session_token),
            expiration,
            received: self.clock.now_secs(),
            role_arn: request.role_arn.clone(),
            assumed_role_arn: user.arn,
            account_id,
        })
    }

    async fn deadline<T>(
        &self,
        call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, BrokerError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(r)) => Ok(r.into_inner()),
            Ok(Err(status)) => Err(from_status(&status)),
            Err(_) => Err(BrokerError::Unreachable(format!(
                "no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

impl std::fmt::Debug for GrpcBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcBroker")
            .field("origin", &self.origin)
            .field("signed", &self.signed.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Broker for GrpcBroker {
    async fn assume_role(&self, request: &RoleRequest) -> Result<VendedCredentials, BrokerError> {
        let mut client = self.client(true);
        let r = self
            .deadline(client.assume_role(pb::AssumeRoleRequest {
                role_arn: request.role_arn.clone(),
                role_session_name: request.session_name.clone(),
                duration_seconds: i32::try_from(request.duration_secs).ok(),
                ..Default::default()
            }))
            .await?;
        self.vended(request, r.credentials, r.assumed_role_user)
    }

    async fn assume_role_with_web_identity(
        &self,
        request: &RoleRequest,
        token: &BearerToken,
    ) -> Result<VendedCredentials, BrokerError> {
        let mut client = self.client(false);
        let r = self
            .deadline(
                client.assume_role_with_web_identity(pb::AssumeRoleWithWebIdentityRequest {
                    role_arn: request.role_arn.clone(),
                    role_session_name: request.session_name.clone(),
                    web_identity_token: token.expose_secret().to_owned(),
                    duration_seconds: i32::try_from(request.duration_secs).ok(),
                    ..Default::default()
                }),
            )
            .await?;
        self.vended(request, r.credentials, r.assumed_role_user)
    }
}

/// A transport failure's message with the chain of its causes (a refused
/// TLS handshake, a refused connection), so an operator can tell a broker
/// that is down from a certificate it does not accept.
fn with_causes(status: &tonic::Status) -> String {
    let mut text = status.message().to_owned();
    let mut cause = std::error::Error::source(status);
    while let Some(e) = cause {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

/// A status as a [`BrokerError`].
fn from_status(status: &tonic::Status) -> BrokerError {
    use tonic::Code;
    let aws = status
        .metadata()
        .get(GRPC_ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (status.code(), aws) {
        (Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled, None)
        | (Code::Internal, _) => BrokerError::Unreachable(with_causes(status)),
        (_, Some(code))
            if code == "ServiceUnavailable" || code == "ServiceUnavailableException" =>
        {
            BrokerError::Unreachable(format!("{code}: {}", status.message()))
        }
        (code, aws) => BrokerError::Refused {
            code: aws.unwrap_or_else(|| format!("{code:?}")),
            message: status.message().to_owned(),
        },
    }
}
