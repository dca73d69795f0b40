//! Audit events of the broker's own services (`eventSource` `stsd`):
//! `Authorize` answers and session revocations.
//!
//! Owns: [`authorize_event`] — the principal whose request was decided as
//! `userIdentity` (with the access key the request was signed with), the
//! asking service, action, resource, method, host and path and the names
//! of the context keys as `requestParameters` (never a header, signature,
//! policy text or context value), the decision and its deciding
//! statements as `responseElements`, and a refusal's code and reason as
//! `errorCode`/`errorMessage`; and [`broker_event`] for the `Sessions`
//! calls. Imports `service` and `domain`.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::identity;
use crate::domain::audit::{EventSource, EventType, IdentityType, UserIdentity};
use crate::domain::ids::Partition;
use crate::service::audit::Event;
use crate::service::authn::Caller;
use crate::service::authorize::{Answer, AuthorizeInput};
use crate::service::error::ServiceError;

/// What a transport knows about a request besides its outcome.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The request id.
    pub request_id: &'a str,
    /// The client's address.
    pub source_ip: Option<IpAddr>,
    /// The client's `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// The partition of ARNs.
    pub partition: &'a Partition,
}

/// The event of one `Authorize` call by `asker` (when it authenticated)
/// about `input` (when it decoded).
pub fn authorize_event(
    origin: Origin<'_>,
    asker: Option<&Caller>,
    input: Option<&AuthorizeInput>,
    outcome: Result<&Answer, &ServiceError>,
) -> Event {
    let mut params = Map::new();
    if let Some(asker) = asker {
        params.insert(
            "asker".into(),
            Value::from(asker.arn(origin.partition).to_string()),
        );
    }
    if let Some(i) = input {
        params.insert("action".into(), Value::from(i.action.clone()));
        params.insert("resource".into(), Value::from(i.resource.clone()));
        params.insert("method".into(), Value::from(i.request.method.clone()));
        params.insert("host".into(), Value::from(i.request.host.clone()));
        params.insert("path".into(), Value::from(i.request.path.clone()));
        if let Some(ip) = i.source_ip {
            params.insert("sourceIp".into(), Value::from(ip.to_string()));
        }
        if !i.context.is_empty() {
            let keys: Vec<Value> = i
                .context
                .iter()
                .map(|c| Value::from(c.key.clone()))
                .collect();
            params.insert("contextKeys".into(), Value::Array(keys));
        }
    }
    let (who, response, error) = match outcome {
        Ok(answer) => {
            let who = answer
                .principal
                .as_ref()
                .map_or_else(UserIdentity::unknown, |p| UserIdentity {
                    kind: match p.principal_type.as_str() {
                        "Account" => IdentityType::Root,
                        "User" => IdentityType::IamUser,
                        "AssumedRole" => IdentityType::AssumedRole,
                        "FederatedUser" => IdentityType::FederatedUser,
                        _ => IdentityType::Unknown,
                    },
                    principal_id: Some(p.user_id.clone()),
                    arn: Some(p.arn.clone()),
                    account_id: Some(p.account.clone()),
                    access_key_id: input.and_then(signing_key),
                    ..UserIdentity::unknown()
                });
            let statements: Vec<Value> = answer
                .statements
                .iter()
                .map(|s| json!({"policy": s.policy, "kind": s.kind, "sid": s.sid, "effect": s.effect}))
                .collect();
            let response = json!({
                "decision": crate::api::http::authorize::decision_name(answer.decision),
                "statements": statements,
            });
            let error = answer
                .error_code
                .map(|c| (c.as_str().to_owned(), answer.reason.clone()));
            (who, Some(response), error)
        }
        Err(e) => (
            asker.map_or_else(UserIdentity::unknown, |a| identity(a, origin.partition)),
            None,
            Some((e.code().as_str().to_owned(), e.message().to_owned())),
        ),
    };
    let account = who.account_id.clone();
    Event {
        source: EventSource::Stsd,
        name: "Authorize".into(),
        kind: EventType::ApiCall,
        identity: who,
        source_ip: origin.source_ip,
        user_agent: origin.user_agent.map(str::to_owned),
        request_id: origin.request_id.to_owned(),
        request_parameters: Some(Value::Object(params)),
        response_elements: response,
        error,
        read_only: true,
        account,
        additional: Map::new(),
    }
}

/// The event of a broker call (`RevokeSessions`, `ListSessions`) by
/// `caller`.
pub fn broker_event(
    origin: Origin<'_>,
    name: &str,
    caller: Option<&Caller>,
    parameters: Option<Value>,
    outcome: Result<Option<Value>, &ServiceError>,
) -> Event {
    let (response, error) = match outcome {
        Ok(r) => (r, None),
        Err(e) => (
            None,
            Some((e.code().as_str().to_owned(), e.message().to_owned())),
        ),
    };
    Event {
        source: EventSource::Stsd,
        name: name.to_owned(),
        kind: EventType::ApiCall,
        identity: caller.map_or_else(UserIdentity::unknown, |c| identity(c, origin.partition)),
        source_ip: origin.source_ip,
        user_agent: origin.user_agent.map(str::to_owned),
        request_id: origin.request_id.to_owned(),
        request_parameters: parameters,
        response_elements: response,
        error,
        read_only: name.starts_with("List"),
        account: caller.map(|c| c.account.to_string()),
        additional: Map::new(),
    }
}

/// The event of a sign-in to the web pages (`ConsoleLogin`, CloudTrail's
/// shape): `responseElements.ConsoleLogin` is `Success` or `Failure`, a
/// failure's reason is `errorMessage` (say "Failed authentication", never
/// why), and `additionalEventData` carries `MFAUsed` and `LoginTo`.
pub fn console_login(
    origin: Origin<'_>,
    identity: UserIdentity,
    outcome: Result<(), &str>,
    mfa_used: bool,
    login_to: &str,
) -> Event {
    let mut additional = Map::new();
    additional.insert(
        "MFAUsed".into(),
        Value::from(if mfa_used { "Yes" } else { "No" }),
    );
    additional.insert("LoginTo".into(), Value::from(login_to));
    let result = if outcome.is_ok() {
        "Success"
    } else {
        "Failure"
    };
    Event {
        source: EventSource::Stsd,
        name: "ConsoleLogin".into(),
        kind: EventType::ConsoleSignIn,
        account: identity.account_id.clone(),
        identity,
        source_ip: origin.source_ip,
        user_agent: origin.user_agent.map(str::to_owned),
        request_id: origin.request_id.to_owned(),
        request_parameters: None,
        response_elements: Some(json!({ "ConsoleLogin": result })),
        error: outcome.err().map(|m| ("Failure".to_owned(), m.to_owned())),
        read_only: false,
        additional,
    }
}

/// The access key id of the decided request's `Credential=` (header or
/// presigned query): public, the first part of the credential scope.
fn signing_key(input: &AuthorizeInput) -> Option<String> {
    let header = input
        .request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.split("Credential=").nth(1));
    let query = input
        .request
        .query
        .split('&')
        .find_map(|p| p.strip_prefix("X-Amz-Credential="));
    let scope = header.or(query)?;
    let id: String = scope
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .take(128)
        .collect();
    (!id.is_empty()).then_some(id)
}
