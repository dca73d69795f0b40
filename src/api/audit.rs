//! Audit events as the transports build them.
//!
//! Owns: turning what a transport knows about a request — the action, its
//! parameters, the authenticated caller, the connection, the request id,
//! the result or the error — into a `service::audit::Event`:
//! [`identity`] (CloudTrail's `userIdentity` of a caller, with its
//! `sessionContext`), [`result_value`] (a Query result as lower-camel
//! JSON, before `domain::audit::redact` reduces it), and [`Draft`], the
//! event of one Query or gRPC STS call filled in as the request
//! progresses. The redaction rules are `domain::audit::redact`; the policy
//! on failures is `service::audit::Audit`. Imports `service`, `domain` and
//! the api's own `xml`, `query` and `dispatch`.

use std::net::IpAddr;

pub use broker::{Origin, authorize_event, broker_event, console_login};

use serde_json::{Map, Value};

use super::dispatch::Service;
use super::xml::{Event as XmlEvent, Value as XmlValue, XmlResponse};
use crate::domain::audit::redact::{self, lower_camel};
use crate::domain::audit::{
    EventSource, EventType, IdentityType, SessionAttributes, SessionContext, SessionIssuer,
    UserIdentity, WebIdFederationData, format_time,
};
use crate::domain::credential::{Session, SessionPrincipal};
use crate::domain::ids::{Arn, Partition};
use crate::service::audit::Event;
use crate::service::authn::{Caller, Identity};
use crate::service::error::ServiceError;

mod broker;

/// The event of one call, filled in as the request progresses.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The service.
    pub source: EventSource,
    /// The action.
    pub action: &'static str,
    /// Who (unknown until authenticated).
    pub identity: UserIdentity,
    /// The account concerned.
    pub account: Option<String>,
    /// The redacted parameters.
    pub parameters: Option<Value>,
    /// The result as JSON (reduced when the event is built).
    pub result: Option<Value>,
    /// The failure.
    pub error: Option<(String, String)>,
    /// The client's address.
    pub source_ip: Option<IpAddr>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
}

// === impl Draft ===

impl Draft {
    /// The draft of `action` of `service` with `params`, before
    /// authentication.
    pub fn new<'a>(
        service: Service,
        action: &'static str,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        Self {
            source: match service {
                Service::Sts => EventSource::Sts,
                Service::Iam => EventSource::Iam,
            },
            action,
            identity: UserIdentity::unknown(),
            account: None,
            parameters: redact::request_parameters(params),
            result: None,
            error: None,
            source_ip: None,
            user_agent: None,
        }
    }

    /// The caller authenticated.
    pub fn caller(&mut self, caller: &Caller, partition: &Partition) {
        self.identity = identity(caller, partition);
        self.account = Some(caller.account.to_string());
    }

    /// The call failed with `e`.
    pub fn failed(&mut self, e: &ServiceError) {
        self.error = Some((e.code().as_str().to_owned(), e.message().to_owned()));
    }

    /// The event, with the federated identity of an unsigned exchange
    /// read from its parameters and result.
    pub fn into_event(mut self, request_id: &str) -> Event {
        if self.identity.kind == IdentityType::Unknown {
            self.federated();
        }
        let response = match (&self.error, self.result) {
            (None, Some(result)) => redact::response_elements(self.action, result),
            _ => None,
        };
        Event {
            source: self.source,
            name: self.action.to_owned(),
            kind: EventType::ApiCall,
            identity: self.identity,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
            request_id: request_id.to_owned(),
            request_parameters: self.parameters,
            response_elements: response,
            error: self.error,
            read_only: redact::read_only(self.action),
            account: self.account,
            additional: Map::new(),
        }
    }

    /// `WebIdentityUser` / `SAMLUser` for the unsigned exchanges.
    fn federated(&mut self) {
        let param = |name: &str| {
            self.parameters
                .as_ref()
                .and_then(|p| p.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let result = |name: &str| {
            self.result
                .as_ref()
                .and_then(|r| r.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (kind, provider, subject, qualifier) = match self.action {
            "AssumeRoleWithWebIdentity" => (
                IdentityType::WebIdentityUser,
                result("provider"),
                result("subjectFromWebIdentityToken"),
                result("audience"),
            ),
            "AssumeRoleWithSAML" => (
                IdentityType::SamlUser,
                param("principalArn"),
                result("subject"),
                result("nameQualifier"),
            ),
            _ => return,
        };
        self.account = param("roleArn")
            .and_then(|a| a.parse::<Arn>().ok())
            .and_then(|a| a.account_id())
            .map(|a| a.to_string());
        self.identity = UserIdentity {
            kind,
            principal_id: match (&provider, &qualifier, &subject) {
                (Some(p), Some(q), Some(s)) if kind == IdentityType::WebIdentityUser => {
                    Some(format!("{p}:{q}:{s}"))
                }
                (_, Some(q), Some(s)) => Some(format!("{q}:{s}")),
                _ => subject.clone(),
            },
            user_name: subject,
            identity_provider: provider,
            account_id: self.account.clone(),
            ..UserIdentity::unknown()
        };
    }
}

/// CloudTrail's `userIdentity` of an authenticated caller.
pub fn identity(caller: &Caller, partition: &Partition) -> UserIdentity {
    let account = caller.account.to_string();
    let base = UserIdentity {
        kind: IdentityType::Root,
        principal_id: Some(caller.user_id()),
        arn: Some(caller.arn(partition).to_string()),
        account_id: Some(account.clone()),
        access_key_id: caller.access_key_id.as_ref().map(|k| k.as_str().to_owned()),
        user_name: None,
        identity_provider: None,
        session_context: None,
    };
    match &caller.identity {
        Identity::Root => base,
        Identity::User { name, .. } => UserIdentity {
            kind: IdentityType::IamUser,
            user_name: Some(name.to_string()),
            ..base
        },
        Identity::Session(s) => session_identity(s, base, &account),
    }
}

fn session_identity(s: &Session, base: UserIdentity, account: &str) -> UserIdentity {
    let attributes = SessionAttributes {
        mfa_authenticated: if s.mfa.is_some() { "true" } else { "false" },
        creation_date: format_time(i64::try_from(s.issued_at).unwrap_or(i64::MAX)),
    };
    let issuer = |kind: &'static str, id: String, arn: &Arn| SessionIssuer {
        kind,
        principal_id: id,
        arn: arn.to_string(),
        account_id: account.to_owned(),
        user_name: arn
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    let (kind, session_issuer, user_name) = match &s.principal {
        SessionPrincipal::AssumedRole {
            role_arn, role_id, ..
        } => (
            IdentityType::AssumedRole,
            Some(issuer("Role", role_id.to_string(), role_arn)),
            None,
        ),
        SessionPrincipal::User { name, .. } => {
            (IdentityType::IamUser, None, Some(name.to_string()))
        }
        SessionPrincipal::Root => (IdentityType::Root, None, None),
        SessionPrincipal::FederatedUser {
            caller_arn,
            caller_user_id,
            ..
        } => {
            let root = caller_arn.as_str().ends_with(":root");
            let kind = if root { "Root" } else { "IAMUser" };
            (
                IdentityType::FederatedUser,
                Some(issuer(kind, caller_user_id.clone(), caller_arn)),
                None,
            )
        }
    };
    let web = s.provider.as_ref().map(|p| WebIdFederationData {
        federated_provider: p.clone(),
        attributes: s
            .provider_keys
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect(),
    });
    UserIdentity {
        kind,
        user_name,
        session_context: Some(SessionContext {
            session_issuer,
            web_id_federation_data: web,
            attributes,
            source_identity: s.source_identity.clone(),
        }),
        ..base
    }
}

/// A Query result as JSON with lower-camel names: structures as objects,
/// lists as arrays, maps as objects, timestamps as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn result_value(result: &XmlResponse) -> Value {
    enum Frame {
        Object(Map<String, Value>, String),
        Array(Vec<Value>, String),
    }
    let mut stack = vec![Frame::Object(Map::new(), String::new())];
    let put = |stack: &mut Vec<Frame>, name: &str, value: Value| match stack.last_mut() {
        Some(Frame::Object(m, _)) => {
            m.insert(lower_camel(name), value);
        }
        Some(Frame::Array(a, _)) => a.push(value),
        None => {}
    };
    for event in result.events() {
        match event {
            XmlEvent::Leaf(name, v) => put(&mut stack, name, leaf(v)),
            XmlEvent::Entry(k, v) => {
                if let Some(Frame::Object(m, _)) = stack.last_mut() {
                    m.insert(k.clone(), leaf(v));
                }
            }
            XmlEvent::Open(name) | XmlEvent::MapOpen(name) => {
                stack.push(Frame::Object(Map::new(), (*name).to_owned()));
            }
            XmlEvent::ListOpen(name) => stack.push(Frame::Array(Vec::new(), (*name).to_owned())),
            XmlEvent::Close(_) | XmlEvent::MapClose(_) | XmlEvent::ListClose(_) => {
                let (name, value) = match stack.pop() {
                    Some(Frame::Object(m, n)) => (n, Value::Object(m)),
                    Some(Frame::Array(a, n)) => (n, Value::Array(a)),
                    None => continue,
                };
                put(&mut stack, &name, value);
            }
        }
    }
    match stack.into_iter().next() {
        Some(Frame::Object(m, _)) => Value::Object(m),
        _ => Value::Null,
    }
}

fn leaf(v: &XmlValue) -> Value {
    match v {
        XmlValue::Str(s) => Value::from(s.clone()),
        XmlValue::Int(n) => Value::from(*n),
        XmlValue::Bool(b) => Value::from(*b),
        XmlValue::Time(secs) => Value::from(format_time(*secs)),
    }
}

#[cfg(test)]
mod tests;
