//! What `Authorize` accepts, and the checks on it.
//!
//! Owns: [`SignedRequest`] (the parts of the HTTP request a service
//! received), [`ContextEntry`] (a service's own condition key), the size
//! limits, and [`check`]: every field is bounded and well formed, each
//! refusal `InvalidParameterValue` naming the field; the keys stsd itself
//! derives from the credentials and the transport (principal, MFA, time,
//! source IP, …) cannot be supplied by the asking service, so a service
//! cannot vouch for what only the signature proves. May import `domain`,
//! `service::error`.

use data_encoding::HEXLOWER_PERMISSIVE;

use crate::domain::policy::ContextValue;
use crate::domain::sigv4::{Payload, RequestView, UNSIGNED_PAYLOAD};
use crate::service::error::{ErrorCode, ServiceError};

/// Most header lines a request may carry.
pub const MAX_HEADERS: usize = 200;
/// Most bytes of all header names and values together.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most bytes of the path and of the query.
const MAX_TARGET_BYTES: usize = 16 * 1024;
/// Most bytes of an action, a resource, a host, a method, a scheme.
const MAX_NAME_BYTES: usize = 2_048;
/// Most context entries, and values per entry.
const MAX_CONTEXT_ENTRIES: usize = 100;
/// Most values of one context entry.
const MAX_CONTEXT_VALUES: usize = 100;
/// Most SCPs.
const MAX_SCPS: usize = 5;

/// Keys stsd derives itself; a service may not supply them (compared
/// lower-cased; `aws:principaltag/` as a prefix).
const DERIVED_KEYS: [&str; 18] = [
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:principalorgid",
    "aws:userid",
    "aws:username",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:tokenissuetime",
    "aws:sourceidentity",
    "aws:federatedprovider",
    "aws:sourceip",
    "aws:securetransport",
    "aws:currenttime",
    "aws:epochtime",
    "aws:requestedregion",
    "aws:viaawsservice",
    "aws:principalisawsservice",
];

/// The parts of the HTTP request a service received.
#[derive(Debug, Clone, Default)]
pub struct SignedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// `https` or `http` (`aws:SecureTransport`).
    pub scheme: String,
    /// The `Host` (or HTTP/2 `:authority`) the client sent; used when the
    /// headers carry no `host`.
    pub host: String,
    /// The path as sent, still percent-encoded.
    pub path: String,
    /// The raw query string after `?`, still percent-encoded.
    pub query: String,
    /// Every header line in arrival order; names may repeat.
    pub headers: Vec<(String, String)>,
    /// The lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    pub payload_sha256: String,
}

/// One condition key the service supplies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextEntry {
    /// The key (`aws:RequestTag/team`, `s3:prefix`).
    pub key: String,
    /// Its values; one value makes a single-valued key.
    pub values: Vec<String>,
}

// === impl ContextEntry ===

impl ContextEntry {
    /// The value the context holds.
    pub fn value(&self) -> ContextValue {
        match self.values.as_slice() {
            [one] => ContextValue::from(one.as_str()),
            many => ContextValue::from(many.to_vec()),
        }
    }
}

/// The input, checked: what the later steps need from it.
#[derive(Debug)]
pub(super) struct Checked<'a> {
    input: &'a super::AuthorizeInput,
    payload: Payload<'static>,
    /// The signing name the scope must carry.
    pub(super) service: &'a str,
    /// Whether the request came over TLS.
    pub(super) secure: bool,
    /// The account in the resource ARN, if it names one.
    pub(super) resource_account: Option<&'a str>,
}

impl<'a> Checked<'a> {
    /// The header lines as borrowed pairs, with `host` added from
    /// [`SignedRequest::host`] when the headers carry none.
    pub(super) fn headers(&self) -> Vec<(&'a str, &'a str)> {
        let r = &self.input.request;
        let mut out: Vec<(&str, &str)> = Vec::with_capacity(r.headers.len() + 1);
        out.extend(r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if !r.host.is_empty() && !out.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            out.push(("host", r.host.as_str()));
        }
        out
    }

    /// The request as SigV4 reads it.
    pub(super) fn view<'h>(&self, headers: &'h [(&'a str, &'a str)]) -> RequestView<'h>
    where
        'a: 'h,
    {
        let r = &self.input.request;
        RequestView {
            method: &r.method,
            path: &r.path,
            query: &r.query,
            headers,
            payload: self.payload,
        }
    }
}

/// Checks `input`.
///
/// # Errors
///
/// `InvalidParameterValue` naming the first field at fault.
pub(super) fn check(input: &super::AuthorizeInput) -> Result<Checked<'_>, ServiceError> {
    let r = &input.request;
    name("Request.Method", &r.method, |b| b.is_ascii_uppercase())?;
    let secure = match r.scheme.as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(invalid("Request.Scheme", "must be http or https")),
    };
    if r.host.len() > MAX_NAME_BYTES {
        return Err(invalid("Request.Host", "is too long"));
    }
    if r.path.is_empty() || !r.path.starts_with('/') || r.path.len() > MAX_TARGET_BYTES {
        return Err(invalid(
            "Request.Path",
            "must start with / and be at most 16 KiB",
        ));
    }
    if r.query.len() > MAX_TARGET_BYTES {
        return Err(invalid("Request.Query", "must be at most 16 KiB"));
    }
    if r.headers.len() > MAX_HEADERS {
        return Err(invalid("Request.Headers", "has more than 200 lines"));
    }
    let bytes: usize = r.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(invalid("Request.Headers", "is larger than 64 KiB"));
    }
    for (k, _) in &r.headers {
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(invalid("Request.Headers", "has an invalid header name"));
        }
    }
    let payload = payload(&r.payload_sha256)?;
    name("Action", &input.action, |b| {
        b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'*'
    })?;
    let Some((prefix, _)) = input.action.split_once(':') else {
        return Err(invalid("Action", "must be service:Action"));
    };
    if input.resource.is_empty() || input.resource.len() > MAX_NAME_BYTES {
        return Err(invalid(
            "Resource",
            "must be an ARN or * (1-2048 characters)",
        ));
    }
    let service = match &input.signing_service {
        Some(s) => {
            name("SigningService", s, |b| {
                b.is_ascii_alphanumeric() || b == b'-'
            })?;
            s.as_str()
        }
        None => prefix,
    };
    if let Some(region) = &input.signing_region {
        name("SigningRegion", region, |b| {
            b.is_ascii_alphanumeric() || b == b'-'
        })?;
    }
    check_context(&input.context)?;
    if input.service_control_policies.len() > MAX_SCPS {
        return Err(invalid(
            "ServiceControlPolicies",
            "has more than 5 policies",
        ));
    }
    let resource_account = input
        .resource
        .starts_with("arn:")
        .then(|| input.resource.split(':').nth(4))
        .flatten()
        .filter(|a| !a.is_empty());
    Ok(Checked {
        input,
        payload,
        service,
        secure,
        resource_account,
    })
}

/// The payload line: 64 hex digits or `UNSIGNED-PAYLOAD`.
fn payload(text: &str) -> Result<Payload<'static>, ServiceError> {
    if text == UNSIGNED_PAYLOAD {
        return Ok(Payload::Unsigned);
    }
    let bad = || {
        invalid(
            "Request.PayloadSha256",
            "must be 64 hexadecimal digits or UNSIGNED-PAYLOAD",
        )
    };
    if text.len() != 64 {
        return Err(bad());
    }
    let bytes = HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .map_err(|_| bad())?;
    let digest: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
    Ok(Payload::Sha256(digest))
}

/// The service's context keys: bounded, well formed, none that stsd
/// derives itself.
fn check_context(entries: &[ContextEntry]) -> Result<(), ServiceError> {
    if entries.len() > MAX_CONTEXT_ENTRIES {
        return Err(invalid("Context", "has more than 100 entries"));
    }
    for (i, e) in entries.iter().enumerate() {
        let field = format!("Context.{}.Key", i + 1);
        let lower = e.key.to_ascii_lowercase();
        let well_formed = e.key.len() <= 256
            && lower
                .split_once(':')
                .is_some_and(|(s, k)| !s.is_empty() && !k.is_empty());
        if !well_formed {
            return Err(invalid(
                &field,
                "must be service:key (at most 256 characters)",
            ));
        }
        if DERIVED_KEYS.contains(&lower.as_str()) || lower.starts_with("aws:principaltag/") {
            return Err(ServiceError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "{field}: {} is derived by stsd from the credentials and the transport and cannot be supplied",
                    e.key
                ),
            ));
        }
        if e.values.len() > MAX_CONTEXT_VALUES || e.values.iter().any(|v| v.len() > 2_048) {
            return Err(invalid(
                &format!("Context.{}.Values", i + 1),
                "has more than 100 values or a value over 2048 characters",
            ));
        }
    }
    Ok(())
}

/// A short token: 1–2048 bytes, each byte passing `ok`.
fn name(field: &str, value: &str, ok: impl Fn(u8) -> bool) -> Result<(), ServiceError> {
    if value.is_empty() || value.len() > MAX_NAME_BYTES || !value.bytes().all(ok) {
        return Err(invalid(
            field,
            "is empty, too long or has invalid characters",
        ));
    }
    Ok(())
}

/// `InvalidParameterValue`: "`field` `why`".
fn invalid(field: &str, why: &str) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidParameterValue, format!("{field} {why}"))
}
