//! `stsd login`'s endpoints.
//!
//! Owns: `GET /web/cli` (the CLI's request — loopback redirect URI,
//! `state`, S256 challenge, optional role — validated and kept in the
//! browser's session, whose sign-in state is cleared so the person signs
//! in for this login; then the sign-in page) and `POST /web/cli/token`
//! (the one-time code, the verifier and the redirect URI, exchanged once
//! for the credentials as JSON — the `credential_process` shape plus the
//! ARN; no cookie and no CSRF token: possession of the verifier is the
//! proof). Errors of the exchange are OAuth-style JSON
//! (`invalid_request`, `invalid_grant`). Imports the parent module and
//! `service::sso::cli`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use http::{HeaderMap, Response, StatusCode};

use super::handlers::error_page;
use super::{WebState, redirect, respond};
use crate::domain::secret::BearerToken;
use crate::service::sso::cli;

/// `GET /web/cli`'s query.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Start {
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    role_arn: Option<String>,
}

/// `GET /web/cli`.
pub(super) async fn start(
    State(s): State<Arc<WebState>>,
    Query(q): Query<Start>,
    headers: HeaderMap,
) -> Response<Body> {
    let request = cli::request(
        q.redirect_uri.as_deref().unwrap_or_default(),
        q.state.as_deref().unwrap_or_default(),
        q.code_challenge.as_deref().unwrap_or_default(),
        q.code_challenge_method.as_deref().unwrap_or("S256"),
        q.role_arn.as_deref(),
    );
    let request = match request {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let (id, session, fresh) = match s.session_or_new(&headers) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    {
        let mut guard = session.lock();
        guard.person = None;
        guard.issued = None;
        guard.login = None;
        guard.cli = Some(request);
    }
    let response = redirect("/web");
    s.cookie_if_new(response, &id, fresh)
}

/// `POST /web/cli/token`.
pub(super) async fn token(State(s): State<Arc<WebState>>, body: Bytes) -> Response<Body> {
    let params = match super::handlers::form_params(&body) {
        Ok(p) => p,
        Err(e) => return oauth_error("invalid_request", &e.to_string()),
    };
    let p = params.root();
    let (Some(code), Some(verifier), Some(redirect_uri)) = (
        p.optional("code"),
        p.optional("code_verifier"),
        p.optional("redirect_uri"),
    ) else {
        return oauth_error(
            "invalid_request",
            "code, code_verifier and redirect_uri are required",
        );
    };
    let code = BearerToken::new(code);
    let verifier = BearerToken::new(verifier);
    match cli::exchange(&s.sso, &code, &verifier, redirect_uri) {
        Ok(issued) => {
            let expiration = crate::api::xml::format_timestamp(
                i64::try_from(issued.expires_at).unwrap_or(i64::MAX),
            );
            let body = serde_json::json!({
                "Version": 1,
                "AccessKeyId": issued.access_key_id,
                "SecretAccessKey": issued.secret.expose_secret(),
                "SessionToken": issued.token.expose_secret(),
                "Expiration": expiration,
                "Arn": issued.arn,
            });
            respond(StatusCode::OK, "application/json", body.to_string(), None)
        }
        Err(e) => oauth_error("invalid_grant", &e.to_string()),
    }
}

/// An OAuth-style error body (RFC 6749 5.2).
fn oauth_error(code: &str, description: &str) -> Response<Body> {
    let body = serde_json::json!({ "error": code, "error_description": description });
    respond(
        StatusCode::BAD_REQUEST,
        "application/json",
        body.to_string(),
        None,
    )
}
