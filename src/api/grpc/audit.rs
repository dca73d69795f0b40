//! The `responseElements` of the gRPC STS methods.
//!
//! Owns: [`Elements`], each STS response message as the JSON the Query
//! API's audit record carries for the same action (lower-camel names), so
//! a call's record reads the same whichever transport it came by. The
//! credentials are read only for their key id and expiration; the secret
//! and the token are never touched. Imports the generated messages.

use serde_json::{Map, Value, json};

use super::proto::v1 as pb;
use crate::domain::audit::format_time;

/// A response message as `responseElements`.
pub(super) trait Elements {
    /// The JSON.
    fn elements(&self) -> Value;
}

fn credentials(c: Option<&pb::Credentials>) -> Value {
    c.map_or(Value::Null, |c| {
        json!({
            "accessKeyId": c.access_key_id,
            "expiration": c.expiration.as_ref().map(|t| format_time(t.seconds)),
        })
    })
}

fn role_user(u: Option<&pb::AssumedRoleUser>) -> Value {
    u.map_or(
        Value::Null,
        |u| json!({"assumedRoleId": u.assumed_role_id, "arn": u.arn}),
    )
}

/// `obj` without its `null` members.
fn object(obj: Value) -> Value {
    match obj {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

impl Elements for pb::AssumeRoleResponse {
    fn elements(&self) -> Value {
        object(json!({
            "credentials": credentials(self.credentials.as_ref()),
            "assumedRoleUser": role_user(self.assumed_role_user.as_ref()),
            "packedPolicySize": self.packed_policy_size,
            "sourceIdentity": self.source_identity,
        }))
    }
}

impl Elements for pb::AssumeRoleWithWebIdentityResponse {
    fn elements(&self) -> Value {
        object(json!({
            "credentials": credentials(self.credentials.as_ref()),
            "subjectFromWebIdentityToken": self.subject_from_web_identity_token,
            "assumedRoleUser": role_user(self.assumed_role_user.as_ref()),
            "packedPolicySize": self.packed_policy_size,
            "provider": self.provider,
            "audience": self.audience,
            "sourceIdentity": self.source_identity,
        }))
    }
}

impl Elements for pb::AssumeRoleWithSamlResponse {
    fn elements(&self) -> Value {
        object(json!({
            "credentials": credentials(self.credentials.as_ref()),
            "assumedRoleUser": role_user(self.assumed_role_user.as_ref()),
            "packedPolicySize": self.packed_policy_size,
            "subject": self.subject,
            "subjectType": self.subject_type,
            "issuer": self.issuer,
            "audience": self.audience,
            "nameQualifier": self.name_qualifier,
            "sourceIdentity": self.source_identity,
        }))
    }
}

impl Elements for pb::GetSessionTokenResponse {
    fn elements(&self) -> Value {
        json!({"credentials": credentials(self.credentials.as_ref())})
    }
}

impl Elements for pb::GetFederationTokenResponse {
    fn elements(&self) -> Value {
        object(json!({
            "credentials": credentials(self.credentials.as_ref()),
            "federatedUser": self.federated_user.as_ref().map(|u| json!({"federatedUserId": u.federated_user_id, "arn": u.arn})),
            "packedPolicySize": self.packed_policy_size,
        }))
    }
}

/// Reads: CloudTrail keeps no result for them.
macro_rules! no_elements {
    ($($t:ty),*) => {$(
        impl Elements for $t {
            fn elements(&self) -> Value {
                Value::Null
            }
        }
    )*};
}

no_elements!(
    pb::GetCallerIdentityResponse,
    pb::GetAccessKeyInfoResponse,
    pb::DecodeAuthorizationMessageResponse
);
