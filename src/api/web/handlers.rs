//! The handlers of the sign-in pages.
//!
//! Owns: one handler per route of [`super::router`] but `stsd login`'s
//! (`cli`). Each reads its form (the Query API's form decoder and
//! limits), checks the CSRF token of every POST but the ACS (which the
//! IdP's page posts; its protection is the signature, the spent assertion
//! ID and the pending AuthnRequest), calls `service::sso`, and answers
//! with a page or a `303`. Signing in replaces the session (a new id and
//! CSRF token; an `stsd login` waiting in the old one carries over).
//! Imports the parent module, `pages`, `cli` and `service::sso`.

use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use http::{HeaderMap, Response, StatusCode};

use super::pages::{self, SignInForm};
use super::{WebState, redirect, respond, transport, with_cookie};
use crate::api::error::web_status;
use crate::api::http::RequestId;
use crate::api::http::server::Connection;
use crate::api::query::{Limits, Params};
use crate::domain::ids::Arn;
use crate::domain::secret::{Password, SamlAssertion, TotpCode};
use crate::service::sso::sessions::{CliRequest, Issued, Person, WebSessions};
use crate::service::sso::user::SignIn;
use crate::service::sso::{SsoError, cli, oidc, pick, saml, user};

type Web = State<Arc<WebState>>;

const HTML: &str = "text/html; charset=utf-8";

/// A page for `error`, with its status.
pub(super) fn error_page(error: &SsoError) -> Response<Body> {
    let status = web_status(error);
    if status.is_server_error() {
        tracing::warn!(error = %error, "sign-in failed");
    } else {
        tracing::info!(error = %error, "sign-in refused");
    }
    let title = if status == StatusCode::FORBIDDEN {
        "Not allowed"
    } else {
        "Sign-in failed"
    };
    respond(
        status,
        HTML,
        pages::message(title, &error.to_string()),
        None,
    )
}

/// The origin of a waiting `stsd login` (forms may then be redirected
/// there).
pub(super) fn cli_origin(cli: Option<&CliRequest>) -> Option<String> {
    let uri = &cli?.redirect_uri;
    let rest = uri.strip_prefix("http://")?;
    let authority = rest.split('/').next()?;
    Some(format!("http://{authority}"))
}

/// Decodes a form body.
pub(super) fn form_params(body: &Bytes) -> Result<Params, SsoError> {
    Params::decode(b"", body, &Limits::default())
        .map_err(|e| SsoError::BadRequest(e.message().to_owned()))
}

/// `GET /web`: the sign-in page, or where a signed-in browser belongs.
pub(super) async fn home(State(s): Web, headers: HeaderMap) -> Response<Body> {
    let (id, session, fresh) = match s.session_or_new(&headers) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let guard = session.lock();
    let response = if guard.issued.is_some() {
        redirect("/web/credentials")
    } else if guard.person.is_some() {
        redirect("/web/roles")
    } else {
        let page = pages::sign_in(
            &s.sso.settings.oidc,
            &s.sso.settings.saml,
            s.sso.settings.users,
            guard.csrf.expose_secret(),
            &SignInForm::default(),
        );
        respond(
            StatusCode::OK,
            HTML,
            page,
            cli_origin(guard.cli.as_ref()).as_deref(),
        )
    };
    drop(guard);
    s.cookie_if_new(response, &id, fresh)
}

/// `POST /web/signin`: an IAM user's password (and MFA code).
pub(super) async fn sign_in(
    State(s): Web,
    Extension(request_id): Extension<RequestId>,
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let source = connection.as_ref().map(|c| c.0.peer.ip());
    let params = match form_params(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let p = params.root();
    let (old_id, session) = match s.checked(&headers, p.optional("csrf")) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let account = p.optional("account").unwrap_or_default();
    let user_name = p.optional("user").unwrap_or_default();
    let refused = |e: &SsoError, mfa: bool| {
        let guard = session.lock();
        let page = pages::sign_in(
            &s.sso.settings.oidc,
            &s.sso.settings.saml,
            s.sso.settings.users,
            guard.csrf.expose_secret(),
            &SignInForm {
                error: Some(&e.to_string()),
                account,
                user: user_name,
                mfa,
            },
        );
        respond(
            web_status(e),
            HTML,
            page,
            cli_origin(guard.cli.as_ref()).as_deref(),
        )
    };
    let Ok(password) = p
        .optional("password")
        .unwrap_or_default()
        .parse::<Password>()
    else {
        return refused(&SsoError::BadCredentials, false);
    };
    let mfa_code = match p
        .optional("mfa_code")
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => match c.parse::<TotpCode>() {
            Ok(code) => Some(code),
            Err(_) => return refused(&SsoError::BadCredentials, true),
        },
    };
    let form = SignIn {
        account: account.to_owned(),
        user: user_name.to_owned(),
        password,
        mfa_code,
    };
    let mfa_used = form.mfa_code.is_some();
    let rid = request_id.to_string();
    let principal = format!(
        "web:{}:{}",
        account.trim().to_ascii_lowercase(),
        user_name.trim().to_ascii_lowercase()
    );
    if let Some(limiter) = &s.limiter
        && let Err(e) = limiter.check_authentication(source, || Some(principal.clone()))
    {
        return refused(&SsoError::Refused(e), false);
    }
    let outcome = user::sign_in(&s.sso, form, &rid).await;
    if let (Some(limiter), Err(SsoError::BadCredentials)) = (&s.limiter, &outcome) {
        limiter.authentication_failed(source, Some(&principal));
    }
    let (person, issued, failure) = match &outcome {
        Ok((person, issued)) => (Some(person), Some(issued), None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    super::audit::sign_in(
        &s,
        &rid,
        source,
        account,
        Some(user_name),
        person,
        issued,
        failure.as_deref(),
        mfa_used,
    )
    .await;
    match outcome {
        Ok((person, issued)) => signed_in(&s, &old_id, &session, person, Some(issued)),
        Err(e @ (SsoError::BadCredentials | SsoError::PasswordChange(_))) => refused(&e, false),
        Err(e @ SsoError::MfaRequired) => refused(&e, true),
        Err(e) => error_page(&e),
    }
}

/// Replaces the session `old` by a new one where `person` is signed in
/// (with `issued` when already minted), carrying a waiting `stsd login`
/// over, and sends the browser on.
fn signed_in(
    s: &WebState,
    old: &crate::service::sso::SessionId,
    session: &parking_lot::Mutex<crate::service::sso::WebSession>,
    person: Person,
    issued: Option<Issued>,
) -> Response<Body> {
    let cli = session.lock().cli.take();
    s.sso.sessions.remove(old);
    continue_signed_in(s, cli, person, issued)
}

/// A new session for `person`; the redirect to the next page (or to a
/// waiting `stsd login`).
fn continue_signed_in(
    s: &WebState,
    cli: Option<CliRequest>,
    person: Person,
    issued: Option<Issued>,
) -> Response<Body> {
    let (id, fresh) = match s.new_session() {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let mut waiting = cli;
    let mut keep_person = true;
    let next = match (issued, waiting.take()) {
        // An IAM user's sign-in (a password POST: the consent) while an
        // `stsd login` waits: the credentials go straight back to it, and
        // this browser is left signed out.
        (Some(issued), Some(request)) => {
            keep_person = false;
            match cli::grant(&s.sso, request, issued) {
                Ok(url) => redirect(&url),
                Err(e) => error_page(&e),
            }
        }
        (Some(issued), None) => {
            fresh.lock().issued = Some(issued);
            redirect("/web/credentials")
        }
        // The picker next (for an `stsd login` too: picking is consenting).
        (None, request) => {
            waiting = request;
            redirect("/web/roles")
        }
    };
    {
        let mut guard = fresh.lock();
        if keep_person {
            guard.person = Some(Arc::new(person));
        }
        guard.cli = waiting;
    }
    with_cookie(next, &s.set_cookie(&id))
}

/// `GET /web/oidc/{name}/start`.
pub(super) async fn oidc_start(
    State(s): Web,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    let (id, session, fresh) = match s.session_or_new(&headers) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let response = match oidc::start(&s.sso, &session, &name).await {
        Ok(url) => redirect(&url),
        Err(e) => error_page(&e),
    };
    s.cookie_if_new(response, &id, fresh)
}

/// The query of an OIDC callback.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /web/oidc/{name}/callback`.
pub(super) async fn oidc_callback(
    State(s): Web,
    Extension(request_id): Extension<RequestId>,
    Path(name): Path<String>,
    Query(q): Query<Callback>,
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
) -> Response<Body> {
    let Some((id, session)) = s.session(&headers) else {
        return error_page(&SsoError::LoginExpired);
    };
    if let Some(error) = q.error {
        // Only the provider's answer to this browser's own login ends it.
        let ours = {
            let guard = session.lock();
            guard
                .login
                .as_ref()
                .zip(q.state.as_deref())
                .is_some_and(|(login, state)| login.answers(state))
        };
        if !ours {
            return error_page(&SsoError::LoginExpired);
        }
        session.lock().login = None;
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return error_page(&SsoError::Idp(format!(
            "the sign-in was not completed ({code})"
        )));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return error_page(&SsoError::BadRequest(
            "the callback needs code and state".into(),
        ));
    };
    let t = transport(connection.as_ref().map(|c| &c.0));
    let outcome = oidc::finish(&s.sso, &session, &name, &code, &state, &t).await;
    let rid = request_id.to_string();
    record_federated(&s, &rid, t.source_ip, outcome.as_ref()).await;
    match outcome {
        Ok(person) => {
            let cli = session.lock().cli.take();
            s.sso.sessions.remove(&id);
            after_federated(&s, cli, person)
        }
        Err(e) => error_page(&e),
    }
}

/// Where a federated sign-in goes: the picker, also for a waiting `stsd
/// login` (whose role, when offered, is chosen in advance): the picker's
/// CSRF-protected POST is the person's consent, so no page of another
/// site can have credentials sent to a loopback port unseen.
fn after_federated(s: &WebState, cli: Option<CliRequest>, person: Person) -> Response<Body> {
    continue_signed_in(s, cli, person, None)
}

/// Records a federated sign-in's outcome.
async fn record_federated(
    s: &WebState,
    request_id: &str,
    source: Option<std::net::IpAddr>,
    outcome: Result<&Person, &SsoError>,
) {
    let (person, failure) = match outcome {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let account = person
        .and_then(|p| p.roles.first())
        .and_then(|r| r.account_id())
        .map(|a| a.to_string())
        .unwrap_or_default();
    super::audit::sign_in(
        s,
        request_id,
        source,
        &account,
        None,
        person,
        None,
        failure.as_deref(),
        false,
    )
    .await;
}

/// `GET /web/saml/{name}/start`.
pub(super) async fn saml_start(
    State(s): Web,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    let (id, _session, fresh) = match s.session_or_new(&headers) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let response = match saml::start(&s.sso, WebSessions::key(&id), &name) {
        Ok(url) => redirect(&url),
        Err(e) => error_page(&e),
    };
    s.cookie_if_new(response, &id, fresh)
}

/// `POST /saml`: the assertion consumer service.
pub(super) async fn saml_acs(
    State(s): Web,
    Extension(request_id): Extension<RequestId>,
    connection: Option<Extension<Connection>>,
    body: Bytes,
) -> Response<Body> {
    if body.len() > s.body_limit {
        return error_page(&SsoError::BadRequest(
            "the SAMLResponse is too large".into(),
        ));
    }
    let params = match form_params(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let Some(response) = params.root().optional("SAMLResponse") else {
        return error_page(&SsoError::BadRequest("SAMLResponse is required".into()));
    };
    let response = SamlAssertion::new(response.to_owned());
    let t = transport(connection.as_ref().map(|c| &c.0));
    let outcome = saml::consume(&s.sso, &response, &t).await;
    let rid = request_id.to_string();
    record_federated(&s, &rid, t.source_ip, outcome.as_ref().map(|(p, _)| p)).await;
    match outcome {
        Ok((person, pending)) => {
            // The browser that started an SP-initiated login: its waiting
            // `stsd login` carries over, and the old session ends.
            let cli = pending.and_then(|p| {
                let old = s.sso.sessions.by_digest(&p.session, s.sso.now())?;
                let cli = old.lock().cli.take();
                s.sso.sessions.remove_digest(&p.session);
                cli
            });
            after_federated(&s, cli, person)
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /web/saml/metadata`: this broker as a SAML service provider.
pub(super) async fn saml_metadata(State(s): Web) -> Response<Body> {
    let xml = format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{entity}\">",
            "<md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\" ",
            "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">",
            "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>",
            "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>",
            "<md:AssertionConsumerService index=\"0\" isDefault=\"true\" ",
            "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{acs}\"/>",
            "</md:SPSSODescriptor></md:EntityDescriptor>\n"
        ),
        entity = pages::esc(&s.sso.settings.sp_entity_id),
        acs = pages::esc(&s.sso.acs_url()),
    );
    respond(StatusCode::OK, "application/samlmetadata+xml", xml, None)
}

/// `GET /web/roles`: the picker.
pub(super) async fn roles(State(s): Web, headers: HeaderMap) -> Response<Body> {
    let Some((_, session)) = s.session(&headers) else {
        return redirect("/web");
    };
    let guard = session.lock();
    let Some(person) = guard.person.clone() else {
        return redirect("/web");
    };
    if matches!(
        person.evidence,
        crate::service::sso::sessions::Evidence::User
    ) {
        return redirect("/web/credentials");
    }
    let page = pages::roles(
        &person,
        guard.csrf.expose_secret(),
        None,
        guard.cli.as_ref(),
    );
    respond(
        StatusCode::OK,
        HTML,
        page,
        cli_origin(guard.cli.as_ref()).as_deref(),
    )
}

/// `POST /web/roles`: mints the picked role.
pub(super) async fn pick(
    State(s): Web,
    Extension(request_id): Extension<RequestId>,
    connection: Option<Extension<Connection>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let params = match form_params(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let p = params.root();
    let (_, session) = match s.checked(&headers, p.optional("csrf")) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let Some(person) = session.lock().person.clone() else {
        return error_page(&SsoError::NotSignedIn);
    };
    let raw = p.optional("role_arn").unwrap_or_default();
    let Ok(role) = raw.parse::<Arn>() else {
        return error_page(&SsoError::BadRequest(
            "role_arn: choose one of the roles listed".into(),
        ));
    };
    let t = transport(connection.as_ref().map(|c| &c.0));
    let rid = request_id.to_string();
    let picked = pick::pick(&s.sso, &person, &role, &t, &rid).await;
    let failure = picked.as_ref().err().map(ToString::to_string);
    super::audit::role_picked(&s, &rid, t.source_ip, &person, &role, failure.as_deref()).await;
    match picked {
        Ok(issued) => {
            let cli = session.lock().cli.take();
            match cli {
                Some(request) => match cli::grant(&s.sso, request, issued) {
                    Ok(url) => redirect(&url),
                    Err(e) => error_page(&e),
                },
                None => {
                    session.lock().issued = Some(issued);
                    redirect("/web/credentials")
                }
            }
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /web/credentials`.
pub(super) async fn credentials(State(s): Web, headers: HeaderMap) -> Response<Body> {
    let Some((_, session)) = s.session(&headers) else {
        return redirect("/web");
    };
    let guard = session.lock();
    let Some(issued) = guard.issued.as_ref() else {
        return redirect("/web");
    };
    let has_roles = guard.person.as_ref().is_some_and(|p| !p.roles.is_empty());
    let expires =
        crate::api::xml::format_timestamp(i64::try_from(issued.expires_at).unwrap_or(i64::MAX));
    let page = pages::credentials(
        issued,
        guard.csrf.expose_secret(),
        s.region.as_str(),
        &s.sso.settings.public_url,
        &expires,
        has_roles,
    );
    respond(StatusCode::OK, HTML, page, None)
}

/// `POST /web/logout`.
pub(super) async fn logout(State(s): Web, headers: HeaderMap, body: Bytes) -> Response<Body> {
    let params = match form_params(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let (id, _) = match s.checked(&headers, params.root().optional("csrf")) {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    s.sso.sessions.remove(&id);
    let page = pages::layout(
        "Signed out",
        "<p id=\"signed-out\">You are signed out. Credentials already issued stay valid until they expire.</p><p><a href=\"/web\">Sign in again</a></p>",
    );
    with_cookie(respond(StatusCode::OK, HTML, page, None), &s.clear_cookie())
}
