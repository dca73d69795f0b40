//! The gRPC face of stsd: `SecurityTokenService`, `Authorizer` and
//! `Sessions` (`proto/stsd/v1`), served by tonic on the Query API's own
//! listener and router.
//!
//! Owns: [`GrpcState`], [`router`] (the gRPC services as axum routes, to be
//! merged into the Query router so one port — HTTP/1.1, h2c on loopback,
//! TLS with ALPN `h2` — serves both, under the same request-id, timeout
//! and log middleware), caller authentication for gRPC (`authn`: SigV4
//! over the HTTP/2 request, or an mTLS client certificate mapped to a
//! principal), the proto ↔ service conversions (`convert`) and the STS
//! service (`sts`). Every error leaves through `api::error::grpc_status`.
//!
//! May import `service`, `domain` and the api's own modules (the Query
//! decoders, so gRPC validates exactly as the Query API does); never
//! `adapters` or `config`.

use std::sync::Arc;

use axum::Router;
use tonic::server::NamedService;

use crate::domain::ids::Partition;
use crate::service::authn::Authenticator;
use crate::service::sts::Sts;
use crate::service::sts::auth_message::MessageSealer;
use crate::service::sts::saml::Saml;
use crate::service::sts::web_identity::WebIdentity;

mod audit;
mod authn;
mod authorizer;
pub(crate) mod convert;
pub mod proto;
mod sessions;
mod sts;

pub use authn::{CONTENT_SHA256_HEADER, SIGNING_NAME};

/// What the gRPC services share.
#[derive(Debug)]
pub struct GrpcState {
    /// Verifies SigV4 signatures (the Query API's authenticator).
    pub authenticator: Arc<Authenticator>,
    /// The STS operations.
    pub sts: Arc<Sts>,
    /// AssumeRoleWithWebIdentity's providers.
    pub web: Arc<WebIdentity>,
    /// AssumeRoleWithSAML's providers.
    pub saml: Arc<Saml>,
    /// The partition of returned ARNs.
    pub partition: Partition,
    /// Seals the decision record of a denial into its message, as the
    /// Query API does.
    pub messages: Option<MessageSealer>,
    /// Largest request body (the gRPC frames), in bytes.
    pub body_limit: usize,
    /// Bounds on the parameters a request converts into.
    pub query_limits: crate::api::query::Limits,
    /// Authorize and Simulate.
    pub authorizer: Arc<crate::service::authorize::Authorizer>,
    /// Revoke and list sessions.
    pub sessions: Arc<crate::service::sessions::Sessions>,
    /// The audit trail.
    pub audit: Arc<crate::service::audit::Audit>,
    /// The rate limits (`AssumeRole*` per principal); `None`: none.
    pub limits: Option<Arc<crate::service::limits::Limiter>>,
}

/// The gRPC services as routes (`/stsd.v1.<Service>/<Method>`), behind
/// caller authentication.
pub fn router(state: Arc<GrpcState>) -> Router {
    let sts = proto::v1::security_token_service_server::SecurityTokenServiceServer::new(
        sts::StsService::new(Arc::clone(&state)),
    );
    let authorizer =
        proto::v1::authorizer_server::AuthorizerServer::new(authorizer::AuthorizerService::new(
            Arc::clone(&state.authorizer),
            state.partition.clone(),
            Arc::clone(&state.audit),
        ));
    let sessions = proto::v1::sessions_server::SessionsServer::new(sessions::SessionsService::new(
        Arc::clone(&state.sessions),
        Arc::clone(&state.authorizer.identities),
        Arc::clone(&state.audit),
    ));
    Router::new()
        .route_service(&path_of(&sts), sts)
        .route_service(&path_of(&authorizer), authorizer)
        .route_service(&path_of(&sessions), sessions)
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            authn::authenticate,
        ))
}

/// Every method path the gRPC services serve (`/package.Service/Method`),
/// as `proto/stsd/v1` declares them: the only gRPC paths that get their
/// own metrics series, so requests to made-up paths cannot grow the
/// series without bound. A test checks it against the proto files.
pub(crate) const METHODS: [&str; 12] = [
    "/stsd.v1.SecurityTokenService/AssumeRole",
    "/stsd.v1.SecurityTokenService/AssumeRoleWithWebIdentity",
    "/stsd.v1.SecurityTokenService/AssumeRoleWithSAML",
    "/stsd.v1.SecurityTokenService/GetSessionToken",
    "/stsd.v1.SecurityTokenService/GetFederationToken",
    "/stsd.v1.SecurityTokenService/GetCallerIdentity",
    "/stsd.v1.SecurityTokenService/GetAccessKeyInfo",
    "/stsd.v1.SecurityTokenService/DecodeAuthorizationMessage",
    "/stsd.v1.Authorizer/Authorize",
    "/stsd.v1.Authorizer/Simulate",
    "/stsd.v1.Sessions/Revoke",
    "/stsd.v1.Sessions/List",
];

/// The route of every method of `S`.
fn path_of<S: NamedService>(_: &S) -> String {
    format!("/{}/{{*method}}", S::NAME)
}

#[cfg(test)]
mod method_list_tests {
    use super::METHODS;

    /// `METHODS` is exactly the `rpc`s of the proto files.
    #[test]
    fn the_method_list_matches_the_proto_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/stsd/v1");
        let mut declared = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let mut service = None;
            for line in text.lines().map(str::trim) {
                if let Some(rest) = line.strip_prefix("service ") {
                    service = rest.split_whitespace().next().map(str::to_owned);
                } else if let Some(rest) = line.strip_prefix("rpc ") {
                    let method = rest.split('(').next().unwrap().trim();
                    declared.push(format!("/stsd.v1.{}/{method}", service.clone().unwrap()));
                }
            }
        }
        declared.sort();
        let mut listed: Vec<String> = METHODS.iter().map(|m| (*m).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, declared);
    }
}
