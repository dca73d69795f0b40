//! Signing requests, the client side of SigV4.
//!
//! Owns: [`sign_request`], which signs a [`RequestView`] with an `Authorization`
//! header or as a presigned query, for the test suites and for stsd's own
//! client helpers. It signs every header of the view (so the caller chooses
//! them) plus those it adds (`x-amz-date`, `x-amz-security-token`); it
//! never sends anything. Pure: std, hmac, sha2, zeroize.

use std::borrow::Cow;
use std::fmt;

use super::auth::{TOKEN_HEADER, TOKEN_PARAM, is_header_name};
use super::canonical::write_canonical_request;
use super::date::AmzDate;
use super::encoding::encode_into;
use super::error::{Sigv4Error, echo};
use super::presigned::MAX_EXPIRES;
use super::request::RequestView;
use super::signing_key::{Signature, sign};
use super::string_to_sign::{ALGORITHM, TERMINATOR, string_to_sign};
use crate::domain::secret::{SecretAccessKey, SessionToken, SigningKey};

/// Where the signature goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureLocation {
    /// An `Authorization` header (plus `X-Amz-Date`).
    Headers,
    /// Presigned query parameters valid for `expires_in` seconds
    /// (1..=604800).
    Query {
        /// `X-Amz-Expires`.
        expires_in: u32,
    },
}

/// Who signs, for which scope, when, and how.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// Its secret.
    pub secret: &'a SecretAccessKey,
    /// The session token of temporary credentials; signed when present.
    pub security_token: Option<&'a SessionToken>,
    /// The signing region.
    pub region: &'a str,
    /// The signing name of the service.
    pub service: &'a str,
    /// The request time.
    pub timestamp: AmzDate,
    /// Header or presigned query.
    pub location: SignatureLocation,
    /// Normalise the path (every service but S3).
    pub normalize_path: bool,
}

/// The result of signing: what to add to the request, and the intermediate
/// strings for debugging.
///
/// `Debug` shows the names of the added headers, not their values (one is
/// the session token), and not the query (which may hold it too).
#[derive(Clone)]
pub struct SignedRequest {
    /// Headers to add (`x-amz-date`, `x-amz-security-token`,
    /// `authorization`); empty for a presigned request.
    pub headers: Vec<(&'static str, String)>,
    /// The query string to send: the original one, plus the authentication
    /// parameters for a presigned request.
    pub query: String,
    /// The canonical request that was signed.
    pub canonical_request: String,
    /// The string that was signed.
    pub string_to_sign: String,
    /// The signature.
    pub signature: Signature,
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("SignedRequest")
            .field("headers", &names)
            .field("query_len", &self.query.len())
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Headers of the view that signing replaces rather than signs.
const REPLACED: [&str; 3] = ["authorization", "x-amz-date", TOKEN_HEADER];

/// Signs `view` as `params` say.
pub fn sign_request(
    view: &RequestView<'_>,
    params: &SigningParams<'_>,
) -> Result<SignedRequest, Sigv4Error> {
    let key = SigningKey::derive(
        params.secret,
        params.timestamp.basic().date(),
        params.region,
        params.service,
    );
    sign_request_with_key(view, params, &key)
}

/// Signs `view` as `params` say with `key`, the signing key already
/// derived from `params`' secret, date, region and service (a client that
/// signs many requests keeps it for the day, as the AWS SDKs for Go and
/// Java do: deriving it is four HMACs). `params.secret` is not read.
pub fn sign_request_with_key(
    view: &RequestView<'_>,
    params: &SigningParams<'_>,
    key: &SigningKey,
) -> Result<SignedRequest, Sigv4Error> {
    let timestamp = params.timestamp.basic();
    let scope = [timestamp.date(), params.region, params.service, TERMINATOR].join("/");
    let mut credential = String::with_capacity(params.access_key_id.len() + 1 + scope.len());
    credential.push_str(params.access_key_id);
    credential.push('/');
    credential.push_str(&scope);
    let token = params.security_token.map(SessionToken::expose_secret);

    let mut headers: Vec<(&str, &str)> = view
        .headers
        .iter()
        .filter(|(n, _)| !REPLACED.iter().any(|r| n.eq_ignore_ascii_case(r)))
        .copied()
        .collect();
    if params.location == SignatureLocation::Headers {
        headers.push(("x-amz-date", timestamp.as_str()));
        headers.extend(token.map(|t| (TOKEN_HEADER, t)));
    }
    let signed_headers = signed_header_list(&headers)?;
    let mut query = view.query.to_owned();
    if let SignatureLocation::Query { expires_in } = params.location {
        if !(1..=MAX_EXPIRES).contains(&expires_in) {
            return Err(Sigv4Error::InvalidExpires(expires_in.to_string()));
        }
        let expires = expires_in.to_string();
        let mut auth_params = vec![
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", &credential),
            ("X-Amz-Date", timestamp.as_str()),
            ("X-Amz-Expires", &expires),
            ("X-Amz-SignedHeaders", &signed_headers),
        ];
        auth_params.extend(token.map(|t| (TOKEN_PARAM, t)));
        append_query(&mut query, &auth_params);
    }

    let signing_view = RequestView {
        query: &query,
        headers: &headers,
        ..*view
    };
    let mut canonical_request = String::with_capacity(512);
    write_canonical_request(
        &mut canonical_request,
        &signing_view,
        &signed_headers,
        params.normalize_path,
        &[],
    )?;
    let string_to_sign = string_to_sign(params.timestamp, &scope, &canonical_request);
    let signature = sign(key, &string_to_sign);

    let mut added = Vec::new();
    match params.location {
        SignatureLocation::Headers => {
            added.push(("x-amz-date", timestamp.as_str().to_owned()));
            added.extend(token.map(|t| (TOKEN_HEADER, t.to_owned())));
            // Built by appending: `format!` was a tenth of a signature.
            let parts = [
                ALGORITHM,
                " Credential=",
                &credential,
                ", SignedHeaders=",
                &signed_headers,
                ", Signature=",
                signature.as_str(),
            ];
            let authorization = parts.concat();
            added.push(("authorization", authorization));
        }
        SignatureLocation::Query { .. } => {
            append_query(&mut query, &[("X-Amz-Signature", signature.as_str())]);
        }
    }
    Ok(SignedRequest {
        headers: added,
        query,
        canonical_request,
        string_to_sign,
        signature,
    })
}

/// Appends `name=value` pairs, values percent-encoded, to a query string.
fn append_query(query: &mut String, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        encode_into(query, value.as_bytes(), false);
    }
}

/// The sorted, de-duplicated, lower-case names of `headers`, `;`-joined.
fn signed_header_list(headers: &[(&str, &str)]) -> Result<String, Sigv4Error> {
    // Names are usually lower-case already: copied only when not.
    let mut names: Vec<Cow<'_, str>> = headers
        .iter()
        .map(|(n, _)| {
            if n.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(n.to_ascii_lowercase())
            } else {
                Cow::Borrowed(*n)
            }
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    if let Some(bad) = names.iter().find(|n| !is_header_name(n)) {
        return Err(Sigv4Error::MalformedSignedHeaders(echo(bad)));
    }
    if !names.iter().any(|n| n == "host" || n == ":authority") {
        return Err(Sigv4Error::HostNotSigned);
    }
    Ok(names.join(";"))
}
