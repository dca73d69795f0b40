//! Proto messages ↔ the service layer's inputs and results.
//!
//! Owns: turning each STS request message into the Query parameters of the
//! same action (`RoleArn`, `Tags.member.N.Key`, `PolicyArns.member.N.arn`,
//! …) so the Query decoders (`api::sts::decode`) validate it — same
//! limits, same AWS codes, same `1 validation error detected: …` texts
//! naming the same members — and turning minted sessions back into the
//! response messages. A proto3 scalar at its default (an empty string) is
//! an absent parameter; an `optional` field that is set is sent as is,
//! even when empty. Generated types stay here and in the services; never
//! in `service/` (house style 13).

use prost_types::Timestamp;

use super::proto::v1 as pb;
use crate::api::query::{Limits, Params};
use crate::domain::ids::Partition;
use crate::service::error::ServiceError;
use crate::service::sts::Minted;

/// Query parameters under construction.
#[derive(Debug, Default, Clone)]
pub(crate) struct Form(Vec<(String, String)>);

// === impl Form ===

impl Form {
    /// A proto3 scalar: absent when empty.
    pub(super) fn scalar(mut self, name: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.0.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// An `optional` field: present when set.
    pub(super) fn optional(mut self, name: &str, value: Option<&str>) -> Self {
        if let Some(value) = value {
            self.0.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// An `optional int32`.
    pub(super) fn integer(mut self, name: &str, value: Option<i32>) -> Self {
        if let Some(value) = value {
            self.0.push((name.to_owned(), value.to_string()));
        }
        self
    }

    /// `PolicyArns.member.N.arn`.
    pub(super) fn policy_arns(mut self, arns: &[pb::PolicyDescriptor]) -> Self {
        for (i, p) in arns.iter().enumerate() {
            self.0
                .push((format!("PolicyArns.member.{}.arn", i + 1), p.arn.clone()));
        }
        self
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub(super) fn tags(mut self, tags: &[pb::Tag]) -> Self {
        for (i, t) in tags.iter().enumerate() {
            let n = i + 1;
            self.0.push((format!("Tags.member.{n}.Key"), t.key.clone()));
            self.0
                .push((format!("Tags.member.{n}.Value"), t.value.clone()));
        }
        self
    }

    /// `name.member.N`.
    pub(super) fn list(mut self, name: &str, values: &[String]) -> Self {
        for (i, v) in values.iter().enumerate() {
            self.0.push((format!("{name}.member.{}", i + 1), v.clone()));
        }
        self
    }

    /// `ProvidedContexts.member.N.ProviderArn` / `.ContextAssertion`.
    pub(super) fn provided_contexts(mut self, contexts: &[pb::ProvidedContext]) -> Self {
        for (i, c) in contexts.iter().enumerate() {
            let n = i + 1;
            self.0.push((
                format!("ProvidedContexts.member.{n}.ProviderArn"),
                c.provider_arn.clone(),
            ));
            self.0.push((
                format!("ProvidedContexts.member.{n}.ContextAssertion"),
                c.context_assertion.clone(),
            ));
        }
        self
    }

    /// The parameters, within `limits`.
    /// Every `(name, value)` (the audit record's parameters).
    pub(super) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn params(self, limits: &Limits) -> Result<Params, ServiceError> {
        Params::from_pairs(self.0, limits)
    }
}

/// AssumeRole's parameters.
pub(crate) fn assume_role(r: &pb::AssumeRoleRequest) -> Form {
    Form::default()
        .scalar("RoleArn", &r.role_arn)
        .scalar("RoleSessionName", &r.role_session_name)
        .policy_arns(&r.policy_arns)
        .optional("Policy", r.policy.as_deref())
        .integer("DurationSeconds", r.duration_seconds)
        .tags(&r.tags)
        .list("TransitiveTagKeys", &r.transitive_tag_keys)
        .optional("ExternalId", r.external_id.as_deref())
        .optional("SerialNumber", r.serial_number.as_deref())
        .optional("TokenCode", r.token_code.as_deref())
        .optional("SourceIdentity", r.source_identity.as_deref())
        .provided_contexts(&r.provided_contexts)
}

/// AssumeRoleWithWebIdentity's parameters.
pub(crate) fn web_identity(r: &pb::AssumeRoleWithWebIdentityRequest) -> Form {
    Form::default()
        .scalar("RoleArn", &r.role_arn)
        .scalar("RoleSessionName", &r.role_session_name)
        .scalar("WebIdentityToken", &r.web_identity_token)
        .optional("ProviderId", r.provider_id.as_deref())
        .policy_arns(&r.policy_arns)
        .optional("Policy", r.policy.as_deref())
        .integer("DurationSeconds", r.duration_seconds)
}

/// AssumeRoleWithSAML's parameters.
pub(crate) fn saml(r: &pb::AssumeRoleWithSamlRequest) -> Form {
    Form::default()
        .scalar("RoleArn", &r.role_arn)
        .scalar("PrincipalArn", &r.principal_arn)
        .scalar("SAMLAssertion", &r.saml_assertion)
        .policy_arns(&r.policy_arns)
        .optional("Policy", r.policy.as_deref())
        .integer("DurationSeconds", r.duration_seconds)
}

/// GetSessionToken's parameters.
pub(crate) fn session_token(r: &pb::GetSessionTokenRequest) -> Form {
    Form::default()
        .integer("DurationSeconds", r.duration_seconds)
        .optional("SerialNumber", r.serial_number.as_deref())
        .optional("TokenCode", r.token_code.as_deref())
}

/// GetFederationToken's parameters.
pub(crate) fn federation_token(r: &pb::GetFederationTokenRequest) -> Form {
    Form::default()
        .scalar("Name", &r.name)
        .optional("Policy", r.policy.as_deref())
        .policy_arns(&r.policy_arns)
        .integer("DurationSeconds", r.duration_seconds)
        .tags(&r.tags)
}

/// `Credentials` of a minted session.
pub(super) fn credentials(minted: &Minted) -> pb::Credentials {
    let session = &minted.session;
    pb::Credentials {
        access_key_id: session.access_key_id.as_str().to_owned(),
        secret_access_key: session.secret.expose_secret().to_owned(),
        session_token: minted.token.expose_secret().to_owned(),
        expiration: Some(timestamp(session.expires_at)),
    }
}

/// `AssumedRoleUser` of a role session.
pub(super) fn assumed_role_user(minted: &Minted, partition: &Partition) -> pb::AssumedRoleUser {
    pb::AssumedRoleUser {
        assumed_role_id: minted.session.user_id(),
        arn: minted.session.arn(partition).as_str().to_owned(),
    }
}

/// `PackedPolicySize`, when it applies.
pub(super) fn packed_size(minted: &Minted) -> Option<i32> {
    minted
        .packed_policy_size
        .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

/// Seconds since the epoch as a protobuf timestamp.
pub(super) fn timestamp(secs: u64) -> Timestamp {
    Timestamp {
        seconds: i64::try_from(secs).unwrap_or(i64::MAX),
        nanos: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sts::decode;
    use crate::service::error::ErrorCode;

    #[test]
    fn assume_role_validates_as_the_query_api() {
        let request = pb::AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            role_session_name: "s1".into(),
            duration_seconds: Some(900),
            tags: vec![pb::Tag {
                key: "Project".into(),
                value: "Apollo".into(),
            }],
            transitive_tag_keys: vec!["Project".into()],
            policy_arns: vec![pb::PolicyDescriptor {
                arn: "arn:aws:iam::123456789012:policy/p".into(),
            }],
            ..Default::default()
        };
        let params = assume_role(&request).params(&Limits::default()).unwrap();
        let input = decode::assume_role(&params.root(), "test").unwrap();
        assert_eq!(input.duration, Some(900));
        assert_eq!((input.tags.len(), input.transitive_tag_keys.len()), (1, 1));
        assert_eq!(input.policies.policy_arns.len(), 1);

        let bad = pb::AssumeRoleRequest {
            duration_seconds: Some(100),
            ..request.clone()
        };
        let params = assume_role(&bad).params(&Limits::default()).unwrap();
        let e = decode::assume_role(&params.root(), "test").unwrap_err();
        assert_eq!(
            e.message(),
            "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        );
        let missing = pb::AssumeRoleRequest {
            role_arn: String::new(),
            ..request
        };
        let params = assume_role(&missing).params(&Limits::default()).unwrap();
        let e = decode::assume_role(&params.root(), "test").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationError);
        assert!(e.message().contains("Value null at 'roleArn'"), "{e}");
    }

    #[test]
    fn tags_become_numbered_members() {
        let request = pb::GetFederationTokenRequest {
            name: "bob".into(),
            tags: vec![
                pb::Tag {
                    key: "a".into(),
                    value: "1".into(),
                },
                pb::Tag {
                    key: "b*".into(),
                    value: "2".into(),
                },
            ],
            ..Default::default()
        };
        let params = federation_token(&request)
            .params(&Limits::default())
            .unwrap();
        let e = decode::get_federation_token(&params.root(), "test").unwrap_err();
        assert!(e.message().contains("'tags.member.2.key'"), "{e}");
    }
}
