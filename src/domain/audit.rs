//! Audit records in CloudTrail's record format.
//!
//! Owns: [`AuditRecord`], one event (an STS or IAM call, an `Authorize`
//! decision, a sign-in, a revocation) with CloudTrail's field names, so a
//! SIEM parser of CloudTrail events reads a line unchanged; its
//! [`UserIdentity`] (with `sessionContext`, `sessionIssuer`,
//! `webIdFederationData`); the rendering of one record as one JSON line
//! with its place in the hash chain (`additionalEventData.stsdSequence`,
//! `stsdPreviousHash`). Redaction of request parameters and response
//! elements lives in [`redact`]; the digest chain, its signatures and the
//! verifier in [`chain`]. Pure: time, ids and keys come in as values.
//! Imports std, serde, serde_json, sha2, ring (Ed25519) and data-encoding.
//!
//! Reference: CloudTrail's "record contents" and "userIdentity element"
//! (eventVersion 1.08).

use serde::Serialize;
use serde_json::{Map, Value};

pub mod chain;
pub mod redact;

/// The record format version written in `eventVersion`.
pub const EVENT_VERSION: &str = "1.08";

/// Which service an event belongs to (`eventSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventSource {
    /// `sts.amazonaws.com`.
    #[serde(rename = "sts.amazonaws.com")]
    Sts,
    /// `iam.amazonaws.com`.
    #[serde(rename = "iam.amazonaws.com")]
    Iam,
    /// `stsd`: broker-only events (Authorize, revocation, sign-in).
    #[serde(rename = "stsd")]
    Stsd,
}

/// What kind of event (`eventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    /// An API call.
    #[serde(rename = "AwsApiCall")]
    ApiCall,
    /// A sign-in to the web pages.
    #[serde(rename = "AwsConsoleSignIn")]
    ConsoleSignIn,
    /// Something the broker did by itself (an MFA device locked).
    #[serde(rename = "AwsServiceEvent")]
    ServiceEvent,
}

/// `userIdentity.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IdentityType {
    /// The account's root identity.
    Root,
    /// An IAM user (also a GetSessionToken session of one).
    #[serde(rename = "IAMUser")]
    IamUser,
    /// A role session.
    AssumedRole,
    /// A GetFederationToken session.
    FederatedUser,
    /// The caller of AssumeRoleWithWebIdentity.
    WebIdentityUser,
    /// The caller of AssumeRoleWithSAML.
    #[serde(rename = "SAMLUser")]
    SamlUser,
    /// A request that did not authenticate.
    Unknown,
}

/// Who made the request (`userIdentity`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// The kind of identity.
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// `AIDA…`, `AROA…:session`, the account for root, or the federated
    /// subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The principal's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The principal's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The access key that signed (never its secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The IAM user's name, or the federated subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The provider of a `WebIdentityUser` / `SAMLUser`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    /// For temporary credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// Who issued the session (the role, or the user of a
    /// GetSessionToken / GetFederationToken session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<SessionIssuer>,
    /// The OIDC / SAML provider of a federated role session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_id_federation_data: Option<WebIdFederationData>,
    /// MFA and creation time.
    pub attributes: SessionAttributes,
    /// The session's source identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

/// `sessionContext.sessionIssuer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// `Role`, `IAMUser` or `Root`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its unique id.
    pub principal_id: String,
    /// Its ARN.
    pub arn: String,
    /// Its account.
    pub account_id: String,
    /// Its name.
    pub user_name: String,
}

/// `sessionContext.webIdFederationData`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebIdFederationData {
    /// The provider's ARN.
    pub federated_provider: String,
    /// The provider's condition keys the session carries (`…:sub`, …).
    pub attributes: Map<String, Value>,
}

/// `sessionContext.attributes`: strings, as CloudTrail writes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// `"true"` or `"false"`.
    pub mfa_authenticated: &'static str,
    /// When the session was issued, `YYYY-MM-DDTHH:MM:SSZ`.
    pub creation_date: String,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Always [`EVENT_VERSION`].
    pub event_version: &'static str,
    /// Who made the request.
    pub user_identity: UserIdentity,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub event_time: String,
    /// The service.
    pub event_source: EventSource,
    /// The action (`AssumeRole`, `Authorize`, `ConsoleLogin`, …).
    pub event_name: String,
    /// The region the broker answers as.
    pub aws_region: String,
    /// The client's address (the TCP peer).
    #[serde(rename = "sourceIPAddress", skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    /// The client's `User-Agent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The AWS error code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Its message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The parameters, redacted ([`redact::request_parameters`]); `null`
    /// when there are none.
    pub request_parameters: Option<Value>,
    /// The result, redacted ([`redact::response_elements`]); `null` for
    /// failures and for reads.
    pub response_elements: Option<Value>,
    /// The id the response carried (`RequestId`, `x-amzn-RequestId`, the
    /// log line's `request_id`).
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// This record's own id.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Whether the event only read.
    pub read_only: bool,
    /// The kind of event.
    pub event_type: EventType,
    /// Whether it was a management event (always `true`).
    pub management_event: bool,
    /// The account the event concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_account_id: Option<String>,
    /// Event-specific data (a sign-in's `MFAUsed`, …); the chain fields
    /// join it when the line is written.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub additional_event_data: Map<String, Value>,
}

/// Why a record could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("the audit record cannot be rendered: {0}")]
pub struct RenderError(String);

// === impl UserIdentity ===

impl UserIdentity {
    /// The identity of a request that did not authenticate.
    pub fn unknown() -> Self {
        Self {
            kind: IdentityType::Unknown,
            principal_id: None,
            arn: None,
            account_id: None,
            access_key_id: None,
            user_name: None,
            identity_provider: None,
            session_context: None,
        }
    }
}

// === impl AuditRecord ===

impl AuditRecord {
    /// The record as one JSON line (no newline) at position `sequence` of
    /// the chain, after the line whose hash is `previous_hash`: the chain
    /// fields `stsdSequence` and `stsdPreviousHash` (hex) are written into
    /// `additionalEventData`, which CloudTrail parsers carry as opaque
    /// data.
    ///
    /// # Errors
    ///
    /// When serialisation fails (it does not for records built here).
    pub fn to_line(&self, sequence: u64, previous_hash: &[u8; 32]) -> Result<String, RenderError> {
        let mut value = serde_json::to_value(self).map_err(|e| RenderError(e.to_string()))?;
        if let Value::Object(fields) = &mut value {
            let extra = fields
                .entry("additionalEventData")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(extra) = extra {
                extra.insert("stsdSequence".to_owned(), Value::from(sequence));
                extra.insert(
                    "stsdPreviousHash".to_owned(),
                    Value::from(chain::hex(previous_hash)),
                );
            }
        }
        serde_json::to_string(&value).map_err(|e| RenderError(e.to_string()))
    }
}

/// `secs` after the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
