//! `stsd login`'s loopback redirect (RFC 8252 with PKCE, RFC 7636).
//!
//! Owns: [`request`] (what the CLI asks: a redirect URI that is plain
//! `http` to a loopback address with a port — `127.0.0.1`, `[::1]` or
//! `localhost` — nothing else; its `state`; an S256 challenge; an
//! optional role), [`grant`] (once the browser signed in and a session is
//! minted: a one-time code from the injected CSPRNG, valid two minutes,
//! and the redirect back to the CLI) and [`exchange`] (the code, exchanged
//! once, for the credentials — only with the verifier whose S256 is the
//! challenge, compared in constant time, and the same redirect URI).
//! Imports the sibling modules.

use subtle::ConstantTimeEq as _;

use super::oidc::pkce_challenge;
use super::sessions::{CliGrant, CliRequest, Issued};
use super::{Sso, SsoError};
use crate::domain::ids::Arn;
use crate::domain::secret::BearerToken;
use crate::domain::sigv4::percent_encode;

/// Longest `state` accepted.
const MAX_STATE: usize = 512;

/// Validates an `stsd login` request.
///
/// # Errors
///
/// `BadRequest` naming the parameter.
pub fn request(
    redirect_uri: &str,
    state: &str,
    challenge: &str,
    method: &str,
    role_arn: Option<&str>,
) -> Result<CliRequest, SsoError> {
    let bad = |m: &str| SsoError::BadRequest(m.to_owned());
    if !is_loopback_redirect(redirect_uri) {
        return Err(bad(
            "redirect_uri must be http://127.0.0.1:PORT/…, http://[::1]:PORT/… or http://localhost:PORT/…",
        ));
    }
    if state.is_empty() || state.len() > MAX_STATE || !state.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("state must be 1 to 512 printable ASCII characters"));
    }
    if method != "S256" {
        return Err(bad("code_challenge_method must be S256"));
    }
    let is_b64url = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
        return Err(bad(
            "code_challenge must be the 43-character base64url S256 challenge",
        ));
    }
    let role_arn = role_arn
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.parse::<Arn>()
                .map_err(|_| bad("role_arn is not a valid role ARN"))
        })
        .transpose()?;
    Ok(CliRequest {
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        challenge: challenge.to_owned(),
        role_arn,
    })
}

/// A one-time code for `issued`: the URL to send the browser back to.
///
/// # Errors
///
/// `Internal` when the random number generator fails.
pub fn grant(sso: &Sso, request: CliRequest, issued: Issued) -> Result<String, SsoError> {
    let code = sso.token()?;
    let separator = if request.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}{separator}code={}&state={}",
        request.redirect_uri,
        percent_encode(code.expose_secret().as_bytes()),
        percent_encode(request.state.as_bytes())
    );
    sso.sessions.grant(
        &code,
        CliGrant {
            request,
            issued,
            created_at: sso.now(),
        },
    );
    Ok(url)
}

/// Exchanges a one-time code for its credentials.
///
/// # Errors
///
/// `LoginExpired` for an unknown, used or expired code, or a verifier or
/// redirect URI that does not match (the code is spent either way).
pub fn exchange(
    sso: &Sso,
    code: &BearerToken,
    verifier: &BearerToken,
    redirect_uri: &str,
) -> Result<Issued, SsoError> {
    let grant = sso.sessions.take_grant(code, sso.now())?;
    let challenge = pkce_challenge(verifier);
    let matches: bool = challenge
        .as_bytes()
        .ct_eq(grant.request.challenge.as_bytes())
        .into();
    if !matches || grant.request.redirect_uri != redirect_uri {
        return Err(SsoError::LoginExpired);
    }
    Ok(grant.issued)
}

/// Whether `uri` is `http://<loopback>:<port>/<path>` with nothing else.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if path.contains('#') || authority.contains('@') {
        return false;
    }
    let Some((host, port)) = authority.rsplit_once(':') else {
        return false;
    };
    let port_ok = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p != 0);
    port_ok && matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_redirects() {
        for ok in [
            "http://127.0.0.1:5000/callback",
            "http://[::1]:80/",
            "http://localhost:65535",
        ] {
            assert!(is_loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:5000/",
            "http://127.0.0.1/",
            "http://127.0.0.1:0/",
            "http://127.0.0.2:80/",
            "http://evil.com:80/",
            "http://127.0.0.1:80@evil.com/",
            "http://x@127.0.0.1:80/",
            "http://127.0.0.1:80/#frag",
            "http://127.0.0.1:99999/",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn request_validation_names_the_parameter() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(request("http://127.0.0.1:1/", "s", c, "S256", None).is_ok());
        let err =
            |r: Result<CliRequest, SsoError>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err(request("http://127.0.0.1:1/", "s", c, "plain", None))
                .contains("code_challenge_method")
        );
        assert!(
            err(request("http://127.0.0.1:1/", "s", "short", "S256", None))
                .contains("code_challenge")
        );
        assert!(err(request("http://127.0.0.1:1/", "", c, "S256", None)).contains("state"));
        assert!(
            err(request("http://127.0.0.1:1/", "s", c, "S256", Some("nope"))).contains("role_arn")
        );
        assert!(err(request("https://x/", "s", c, "S256", None)).contains("redirect_uri"));
    }

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        let verifier = BearerToken::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce_challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
