//! The OpenID Connect relying party of browser sign-in, through the
//! `openidconnect` crate.
//!
//! Owns: [`OpenIdRp`], the [`RelyingParty`] port — discovery
//! (`CoreProviderMetadata::discover_async`, which also fetches the JWKS),
//! cached per issuer for [`METADATA_TTL`]; the authorization URL (code
//! flow, `openid` plus the provider's scopes, the S256 PKCE challenge, and
//! the `state` and `nonce` the service drew from the injected CSPRNG);
//! the code exchange with the verifier; and the ID token's validation —
//! signature against the provider's keys, issuer, audience (this client),
//! expiry against the injected clock, and the nonce. Its HTTP calls go
//! through hyper + rustls (ring), the same stack as the server, trusting
//! the system roots plus `[federation] ca_file`; plain `http://` only to
//! loopback with `allow_insecure_loopback`; the token endpoint and the
//! JWKS must be on the issuer's host; no redirects are followed,
//! bodies are bounded, each call has a deadline. Imports `service::sso`,
//! `domain` and the sibling `jwks::tls`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};

use super::jwks::fetch::{chain, is_loopback};
use crate::domain::clock::Clock;
use crate::domain::oidc::WebIdentityToken;
use crate::service::sso::{OidcLogin, OidcStart, RelyingParty, SsoError, VerifiedIdToken};

/// How long a provider's discovered metadata (and keys) is reused.
pub const METADATA_TTL: Duration = Duration::from_secs(300);

/// Largest response body read from a provider.
const MAX_BODY: usize = 1024 * 1024;

/// Why one HTTP call to a provider failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CallError(String);

/// The relying party.
#[derive(Debug, Clone)]
pub struct OpenIdRp {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    allow_insecure_loopback: bool,
    clock: Arc<dyn Clock>,
    metadata: moka::future::Cache<String, Arc<CoreProviderMetadata>>,
}

// === impl OpenIdRp ===

impl OpenIdRp {
    /// A relying party trusting `tls`'s roots; each call takes at most
    /// `timeout`.
    pub fn new(
        tls: rustls::ClientConfig,
        timeout: Duration,
        allow_insecure_loopback: bool,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
            allow_insecure_loopback,
            clock,
            metadata: moka::future::Cache::builder()
                .max_capacity(64)
                .time_to_live(METADATA_TTL)
                .build(),
        }
    }

    /// One HTTP exchange for `openidconnect`.
    async fn call(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, CallError> {
        let uri = request.uri();
        let allowed = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => self.allow_insecure_loopback && is_loopback(uri.host()),
            _ => false,
        };
        if !allowed {
            return Err(CallError(format!(
                "{uri} is not https (plain http only to loopback with allow_insecure_loopback)"
            )));
        }
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| CallError(format!("cannot reach the provider: {e}")))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| CallError(format!("reading the provider's answer: {e}")))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, bytes.to_vec()))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| CallError("the provider did not answer in time".into()))?
    }

    /// The provider's metadata, discovered or cached.
    async fn metadata(&self, issuer: &str) -> Result<Arc<CoreProviderMetadata>, SsoError> {
        if let Some(m) = self.metadata.get(issuer).await {
            return Ok(m);
        }
        let url = IssuerUrl::new(issuer.to_owned())
            .map_err(|e| SsoError::Idp(format!("issuer {issuer:?}: {e}")))?;
        let http = Http(self.clone());
        let discovered = CoreProviderMetadata::discover_async(url, &http)
            .await
            .map_err(|e| SsoError::Idp(format!("discovery of {issuer}: {}", chain(&e))))?;
        // The code and client secret go to the token endpoint, and keys come
        // from the JWKS: both must be on the issuer's own host.
        let host = |u: &str| {
            u.parse::<http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_ascii_lowercase))
        };
        let issuer_host = host(issuer);
        let endpoints = [
            Some(discovered.jwks_uri().url().as_str()),
            discovered.token_endpoint().map(|t| t.url().as_str()),
        ];
        for url in endpoints.into_iter().flatten() {
            if host(url) != issuer_host {
                return Err(SsoError::Idp(format!(
                    "discovery of {issuer}: {url} is not on the issuer's host"
                )));
            }
        }
        let discovered = Arc::new(discovered);
        self.metadata
            .insert(issuer.to_owned(), Arc::clone(&discovered))
            .await;
        Ok(discovered)
    }
}

#[async_trait]
impl RelyingParty for OpenIdRp {
    async fn authorization_url(
        &self,
        provider: &OidcLogin,
        redirect_uri: &str,
        start: &OidcStart,
    ) -> Result<String, SsoError> {
        let metadata = self.metadata(&provider.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(provider.client_id.clone()),
            None,
        )
        .set_redirect_uri(redirect(redirect_uri)?);
        let verifier = PkceCodeVerifier::new(start.verifier.expose_secret().to_owned());
        let state = start.state.expose_secret().to_owned();
        let nonce = start.nonce.expose_secret().to_owned();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state.clone()),
                move || Nonce::new(nonce.clone()),
            )
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
        for scope in &provider.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, _) = request.url();
        Ok(url.to_string())
    }

    async fn exchange(
        &self,
        provider: &OidcLogin,
        redirect_uri: &str,
        code: &str,
        start: &OidcStart,
    ) -> Result<VerifiedIdToken, SsoError> {
        let metadata = self.metadata(&provider.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(provider.client_id.clone()),
            provider
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect(redirect_uri)?);
        let http = Http(self.clone());
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::Idp(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(
                start.verifier.expose_secret().to_owned(),
            ))
            .request_async(&http)
            .await
            .map_err(|e| SsoError::Idp(format!("the code exchange failed: {}", chain(&e))))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| SsoError::Idp("the token response has no id_token".into()))?;
        let clock = Arc::clone(&self.clock);
        let verifier = client.id_token_verifier().set_time_fn(move || {
            chrono::DateTime::from_timestamp(clock.now_secs(), 0).unwrap_or_default()
        });
        let nonce = Nonce::new(start.nonce.expose_secret().to_owned());
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| SsoError::Idp(format!("the ID token is not valid: {e}")))?;
        let name = claims
            .preferred_username()
            .map(|n| n.as_str().to_owned())
            .or_else(|| {
                claims
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned())
            });
        Ok(VerifiedIdToken {
            token: WebIdentityToken::new(id_token.to_string()),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            name,
        })
    }
}

/// `openidconnect`'s HTTP client: the relying party's own calls.
struct Http(OpenIdRp);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = CallError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<openidconnect::HttpResponse, CallError>> + Send + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        let rp = self.0.clone();
        Box::pin(async move { rp.call(request).await })
    }
}

/// The redirect URI as `openidconnect` takes it.
fn redirect(uri: &str) -> Result<RedirectUrl, SsoError> {
    RedirectUrl::new(uri.to_owned())
        .map_err(|e| SsoError::Internal(format!("redirect URI {uri:?}: {e}")))
}
