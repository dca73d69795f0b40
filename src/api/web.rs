//! The sign-in pages (issue 9): server-rendered HTML for browsers.
//!
//! Owns: [`router`] — `/web` (sign-in: the OIDC and SAML providers and
//! the IAM-user form), `/web/oidc/{name}/start|callback`,
//! `/web/saml/{name}/start`, the assertion consumer service at `POST
//! /saml` (AWS's path), the SP metadata at `/web/saml/metadata`,
//! `/web/roles` (the picker), `/web/credentials`, `/web/logout`, and
//! `stsd login`'s `/web/cli` and `/web/cli/token` — plus what every page
//! shares: the session cookie (`__Host-stsd-session` over TLS — Secure —
//! else `stsd-session`; HttpOnly, SameSite=Lax, Path=/), the CSRF check
//! of every form (the session's token, compared in constant time), and
//! the headers of every response (a strict Content-Security-Policy with
//! no inline script or style, `frame-ancestors 'none'`, no caching, no
//! referrer, `nosniff`). Pages work without JavaScript; `app.js` only
//! adds copy buttons and the expiry countdown. Status codes for
//! [`SsoError`] come from `api::error::web_status`. Imports `service::sso`
//! and the sibling `http` and `query` modules.

mod assets;
mod audit;
mod cli;
mod handlers;
mod pages;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use parking_lot::Mutex;
use subtle::ConstantTimeEq as _;

use crate::api::http::server::Connection;
use crate::domain::ids::Region;
use crate::domain::secret::BearerToken;
use crate::service::authz::Transport;
use crate::service::sso::{SessionId, Sso, SsoError, WebSession};

/// What the pages need.
#[derive(Debug)]
pub struct WebState {
    /// Sign-in.
    pub sso: Arc<Sso>,
    /// Whether the listener is TLS (Secure cookies, `__Host-` name).
    pub secure: bool,
    /// The region the credentials page names.
    pub region: Region,
    /// Largest form body, bytes.
    pub body_limit: usize,
    /// The audit trail (`ConsoleLogin` and `SwitchRole` records).
    pub audit: Arc<crate::service::audit::Audit>,
    /// The rate limits of failed authentication (a wrong password counts
    /// as one, per source address and per `account:user`).
    pub limiter: Option<Arc<crate::service::limits::Limiter>>,
}

/// The routes of the pages.
pub fn router(state: Arc<WebState>) -> Router {
    Router::new()
        .route("/web", get(handlers::home))
        .route("/web/", get(handlers::home))
        .route("/web/static/{file}", get(assets::serve))
        .route("/web/signin", post(handlers::sign_in))
        .route("/web/oidc/{name}/start", get(handlers::oidc_start))
        .route("/web/oidc/{name}/callback", get(handlers::oidc_callback))
        .route("/web/saml/{name}/start", get(handlers::saml_start))
        .route("/web/saml/metadata", get(handlers::saml_metadata))
        .route("/saml", post(handlers::saml_acs))
        .route("/web/roles", get(handlers::roles).post(handlers::pick))
        .route("/web/credentials", get(handlers::credentials))
        .route("/web/logout", post(handlers::logout))
        .route("/web/cli", get(cli::start))
        .route("/web/cli/token", post(cli::token))
        .with_state(state)
}

// === impl WebState ===

impl WebState {
    /// The session cookie's name.
    fn cookie_name(&self) -> &'static str {
        cookie_name(self.secure)
    }

    /// The `Set-Cookie` value for session `id`.
    fn set_cookie(&self, id: &SessionId) -> String {
        set_cookie_value(
            self.secure,
            id.0.expose_secret(),
            self.sso.settings.session_ttl_secs,
        )
    }

    /// `response`, setting the cookie of session `id` when it is new.
    fn cookie_if_new(&self, response: Response<Body>, id: &SessionId, new: bool) -> Response<Body> {
        if new {
            with_cookie(response, &self.set_cookie(id))
        } else {
            response
        }
    }

    /// The `Set-Cookie` value that clears the session cookie.
    fn clear_cookie(&self) -> String {
        set_cookie_value(self.secure, "", 0)
    }

    /// The session id the request's cookie carries.
    fn cookie(&self, headers: &HeaderMap) -> Option<SessionId> {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| SessionId(BearerToken::new(v.trim())))
            .filter(|id| !id.0.expose_secret().is_empty())
    }

    /// The request's live session, if any.
    fn session(&self, headers: &HeaderMap) -> Option<(SessionId, Arc<Mutex<WebSession>>)> {
        let id = self.cookie(headers)?;
        let session = self.sso.sessions.get(&id, self.sso.now())?;
        Some((id, session))
    }

    /// The request's live session, or a new one (whose cookie the
    /// response must set: the second element).
    fn session_or_new(
        &self,
        headers: &HeaderMap,
    ) -> Result<(SessionId, Arc<Mutex<WebSession>>, bool), SsoError> {
        if let Some((id, session)) = self.session(headers) {
            return Ok((id, session, false));
        }
        let (id, session) = self.new_session()?;
        Ok((id, session, true))
    }

    /// A new session with a fresh id and CSRF token.
    fn new_session(&self) -> Result<(SessionId, Arc<Mutex<WebSession>>), SsoError> {
        let id = SessionId(self.sso.token()?);
        let session = self
            .sso
            .sessions
            .create(&id, self.sso.token()?, self.sso.now());
        Ok((id, session))
    }

    /// The session of a form post whose `csrf` field must match.
    ///
    /// # Errors
    ///
    /// [`SsoError::Csrf`] without a session or with a missing or wrong
    /// token.
    fn checked(
        &self,
        headers: &HeaderMap,
        csrf: Option<&str>,
    ) -> Result<(SessionId, Arc<Mutex<WebSession>>), SsoError> {
        let (id, session) = self.session(headers).ok_or(SsoError::Csrf)?;
        let given = csrf.ok_or(SsoError::Csrf)?;
        let ok: bool = session
            .lock()
            .csrf
            .expose_secret()
            .as_bytes()
            .ct_eq(given.as_bytes())
            .into();
        if !ok {
            return Err(SsoError::Csrf);
        }
        Ok((id, session))
    }
}

/// The session cookie's name: `__Host-` (Secure, host-only, `Path=/`)
/// over TLS.
fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-stsd-session"
    } else {
        "stsd-session"
    }
}

/// A `Set-Cookie` value for the session cookie.
fn set_cookie_value(secure: bool, value: &str, max_age: u64) -> String {
    let flag = if secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{flag}",
        cookie_name(secure)
    )
}

/// What a page request says about its connection, as STS sees it.
fn transport(connection: Option<&Connection>) -> Transport {
    Transport {
        source_ip: connection.map(|c| c.peer.ip()),
        secure: connection.is_some_and(|c| c.secure),
        region: None,
    }
}

/// A response with the headers every page gets; `form_action` adds an
/// origin forms may post to (a loopback `stsd login` redirect).
fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
    form_action: Option<&str>,
) -> Response<Body> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'none'; form-action 'self'{}; frame-ancestors 'none'; base-uri 'none'",
        form_action.map(|o| format!(" {o}")).unwrap_or_default()
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A `303 See Other` to `location` (same headers as pages).
fn redirect(location: &str) -> Response<Body> {
    let mut response = respond(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "", None);
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Adds `Set-Cookie: value`.
fn with_cookie(mut response: Response<Body>, value: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_host_only_and_secure_over_tls() {
        assert_eq!(
            set_cookie_value(true, "abc", 60),
            "__Host-stsd-session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            set_cookie_value(false, "", 0),
            "stsd-session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn every_page_gets_the_strict_headers() {
        let r = respond(StatusCode::OK, "text/html", "x", Some("http://127.0.0.1:9"));
        let h = r.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("form-action 'self' http://127.0.0.1:9;"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
    }
}
