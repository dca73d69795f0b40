//! STS request parameters into the use cases' inputs.
//!
//! Owns: decoding every STS parameter with the model's constraints
//! (reference 1.2) and AWS's `1 validation error detected: …` text: ARNs
//! (at least 20 characters), session names, session policies (charset
//! `[\u0009\u000A\u000D\u0020-\u00FF]`, 2,048 characters for
//! GetFederationToken, no maximum for AssumeRole), `PolicyArns.member.N.arn`,
//! `DurationSeconds`, `Tags.member.N.Key/Value`,
//! `TransitiveTagKeys.member.N`, `ExternalId`, `SerialNumber`,
//! `TokenCode` and `SourceIdentity`. Imports `service`, `domain` and the
//! api's `query`.

use crate::api::query::Scope;
use crate::domain::ids::{Arn, TagKey};
use crate::domain::oidc::{MAX_TOKEN_CHARS, MIN_TOKEN_CHARS, WebIdentityToken};
use crate::domain::sts::duration::{MAX_ROLE_DURATION, MAX_TOKEN_DURATION, MIN_DURATION};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::Tag;
use crate::service::sts::assume_role::AssumeRole;
use crate::service::sts::federation_token::GetFederationToken;
use crate::service::sts::mfa::MfaInput;
use crate::service::sts::session_policy::SessionPolicies;
use crate::service::sts::session_token::GetSessionToken;
use crate::service::sts::web_identity::WebIdentityRequest;

/// `sessionPolicyDocumentType`'s pattern.
const POLICY_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";

/// GetFederationToken's (and AssumeRoleWithWebIdentity's) `Policy`
/// maximum (AssumeRole's model has none).
pub(crate) const MAX_FEDERATION_POLICY: usize = 2_048;

/// AssumeRole's parameters.
pub(crate) fn assume_role(p: &Scope<'_>, request_id: &str) -> Result<AssumeRole, ServiceError> {
    Ok(AssumeRole {
        role_arn: arn(p, "RoleArn")?.ok_or_else(|| p.missing("RoleArn"))?,
        session_name: p.parse_required("RoleSessionName")?,
        policies: policies(p, usize::MAX)?,
        duration: duration(p, MAX_ROLE_DURATION)?,
        tags: tags(p)?,
        transitive_tag_keys: transitive_keys(p)?,
        external_id: p.parse("ExternalId")?,
        mfa: mfa(p)?,
        source_identity: p.parse("SourceIdentity")?,
        provided_contexts: provided_contexts(p)?,
        request_id: request_id.to_owned(),
    })
}

/// `ProvidedContexts.member.N`: at most 5, each a `ProviderArn` (an ARN of
/// 20–2048 characters) and a `ContextAssertion` (4–2048 characters).
/// Only the provider ARNs are kept: the service decides whether it
/// trusts them.
fn provided_contexts(p: &Scope<'_>) -> Result<Vec<Arn>, ServiceError> {
    let contexts = p.struct_list("ProvidedContexts")?;
    if contexts.len() > 5 {
        return Err(ServiceError::validation(
            &format!("[{} items]", contexts.len()),
            &p.member("ProvidedContexts"),
            "Member must have length less than or equal to 5",
        ));
    }
    contexts
        .iter()
        .map(|c| {
            let arn = arn(c, "ProviderArn")?.ok_or_else(|| c.missing("ProviderArn"))?;
            if arn.as_str().len() < 20 {
                return Err(ServiceError::validation(
                    arn.as_str(),
                    &c.member("ProviderArn"),
                    "Member must have length greater than or equal to 20",
                ));
            }
            c.string("ContextAssertion", 4, 2048)?
                .ok_or_else(|| c.missing("ContextAssertion"))?;
            Ok(arn)
        })
        .collect()
}

/// GetSessionToken's parameters.
pub(crate) fn get_session_token(
    p: &Scope<'_>,
    request_id: &str,
) -> Result<GetSessionToken, ServiceError> {
    Ok(GetSessionToken {
        duration: duration(p, MAX_TOKEN_DURATION)?,
        mfa: mfa(p)?,
        request_id: request_id.to_owned(),
    })
}

/// GetFederationToken's parameters.
pub(crate) fn get_federation_token(
    p: &Scope<'_>,
    request_id: &str,
) -> Result<GetFederationToken, ServiceError> {
    Ok(GetFederationToken {
        name: p.parse_required("Name")?,
        policies: policies(p, MAX_FEDERATION_POLICY)?,
        duration: duration(p, MAX_TOKEN_DURATION)?,
        tags: tags(p)?,
        request_id: request_id.to_owned(),
    })
}

/// AssumeRoleWithWebIdentity's parameters. The token is never echoed in
/// an error: a length outside 4–20,000 characters is a `ValidationError`
/// naming `webIdentityToken` without its value. `ProviderId` is for
/// OAuth 2.0 access tokens of Login with Amazon and Facebook, which stsd
/// does not serve: `InvalidParameterValue`.
pub(crate) fn web_identity(
    p: &Scope<'_>,
    request_id: &str,
) -> Result<WebIdentityRequest, ServiceError> {
    if p.optional("ProviderId").is_some() {
        return Err(ServiceError::new(
            ErrorCode::InvalidParameterValue,
            "ProviderId is only for OAuth 2.0 access tokens of www.amazon.com and graph.facebook.com, which this service does not accept; omit it for OpenID Connect ID tokens.",
        ));
    }
    let token = p
        .optional("WebIdentityToken")
        .ok_or_else(|| p.missing("WebIdentityToken"))?;
    let len = token.chars().count();
    if !(MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&len) {
        let bound = if len < MIN_TOKEN_CHARS {
            format!("greater than or equal to {MIN_TOKEN_CHARS}")
        } else {
            format!("less than or equal to {MAX_TOKEN_CHARS}")
        };
        return Err(ServiceError::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length {bound}",
                p.member("WebIdentityToken")
            ),
        ));
    }
    Ok(WebIdentityRequest {
        role_arn: arn(p, "RoleArn")?.ok_or_else(|| p.missing("RoleArn"))?,
        session_name: p.parse_required("RoleSessionName")?,
        token: WebIdentityToken::new(token.to_owned()),
        duration: duration(p, MAX_ROLE_DURATION)?,
        policies: policies(p, MAX_FEDERATION_POLICY)?,
        request_id: request_id.to_owned(),
    })
}

/// `name` as an `arnType` parameter.
pub(crate) fn arn(p: &Scope<'_>, name: &str) -> Result<Option<Arn>, ServiceError> {
    p.optional(name)
        .map(|v| {
            Arn::from_param(v).map_err(|e| {
                ServiceError::new(
                    ErrorCode::ValidationError,
                    e.at(p.member(name)).aws_message(),
                )
            })
        })
        .transpose()
}

/// `Policy` (at most `max` characters) and `PolicyArns.member.N.arn`.
pub(crate) fn policies(p: &Scope<'_>, max: usize) -> Result<SessionPolicies, ServiceError> {
    let policy = p.string("Policy", 1, max)?;
    if let Some(text) = policy
        && !text
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(p.invalid(
            "Policy",
            text,
            &format!("Member must satisfy regular expression pattern: {POLICY_PATTERN}"),
        ));
    }
    let policy_arns = p
        .struct_list("PolicyArns")?
        .iter()
        .map(|item| arn(item, "arn")?.ok_or_else(|| item.missing("arn")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SessionPolicies {
        policy: policy.map(str::to_owned),
        policy_arns,
    })
}

/// `DurationSeconds`, at least 900 and at most `max`.
pub(crate) fn duration(p: &Scope<'_>, max: u32) -> Result<Option<u32>, ServiceError> {
    Ok(
        p.integer("DurationSeconds", i64::from(MIN_DURATION), i64::from(max))?
            .and_then(|n| u32::try_from(n).ok()),
    )
}

/// `Tags.member.N.Key` / `.Value`.
fn tags(p: &Scope<'_>) -> Result<Vec<Tag>, ServiceError> {
    p.struct_list("Tags")?
        .iter()
        .map(|t| {
            Ok(Tag {
                key: t.parse_required("Key")?,
                value: t.parse_required("Value")?,
            })
        })
        .collect()
}

/// `TransitiveTagKeys.member.N`.
fn transitive_keys(p: &Scope<'_>) -> Result<Vec<TagKey>, ServiceError> {
    p.list("TransitiveTagKeys")?
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            k.parse::<TagKey>().map_err(|e| {
                let member = p.member(&format!("TransitiveTagKeys.member.{}", i + 1));
                ServiceError::new(ErrorCode::ValidationError, e.at(member).aws_message())
            })
        })
        .collect()
}

/// `SerialNumber` and `TokenCode`.
fn mfa(p: &Scope<'_>) -> Result<MfaInput, ServiceError> {
    Ok(MfaInput {
        serial: p.parse("SerialNumber")?,
        code: p.parse("TokenCode")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query::{Limits, Params};

    fn params(body: &str) -> Params {
        Params::decode(b"", body.as_bytes(), &Limits::default()).unwrap()
    }

    fn role_error(extra: &str) -> String {
        let p = params(&format!(
            "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1{extra}"
        ));
        let e = assume_role(&p.root(), "r").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationError, "{e}");
        e.message().to_owned()
    }

    #[test]
    fn assume_role_decodes_every_parameter() {
        let p = params(
            "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1&DurationSeconds=900\
             &Policy=%7B%7D&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fp\
             &Tags.member.1.Key=Project&Tags.member.1.Value=Apollo&TransitiveTagKeys.member.1=Project\
             &ExternalId=ext-1&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fa&TokenCode=123456\
             &SourceIdentity=alice",
        );
        let input = assume_role(&p.root(), "r").unwrap();
        assert_eq!(input.role_arn.as_str(), "arn:aws:iam::123456789012:role/r");
        assert_eq!(input.duration, Some(900));
        assert_eq!(input.policies.policy.as_deref(), Some("{}"));
        assert_eq!(input.policies.policy_arns.len(), 1);
        assert_eq!(input.tags.len(), 1);
        assert_eq!(input.transitive_tag_keys.len(), 1);
        assert!(input.external_id.is_some() && input.source_identity.is_some());
        assert!(input.mfa.serial.is_some() && input.mfa.code.is_some());
    }

    #[test]
    fn validation_errors_name_the_member_as_aws_does() {
        let e = assume_role(&params("RoleSessionName=s1").root(), "r").unwrap_err();
        assert_eq!(
            e.message(),
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
        );
        for (extra, expected) in [
            (
                "&DurationSeconds=100",
                "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
            ),
            (
                "&DurationSeconds=43201",
                "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
            ),
            (
                "&Tags.member.1.Key=a*b&Tags.member.1.Value=v",
                "1 validation error detected: Value 'a*b' at 'tags.member.1.key' failed to satisfy constraint",
            ),
            (
                "&TransitiveTagKeys.member.1=a*b",
                "1 validation error detected: Value 'a*b' at 'transitiveTagKeys.member.1' failed to satisfy constraint",
            ),
            (
                "&TokenCode=12345",
                "1 validation error detected: Value '12345' at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6",
            ),
            (
                "&PolicyArns.member.1.arn=arn%3Ashort",
                "1 validation error detected: Value 'arn:short' at 'policyArns.member.1.arn' failed to satisfy constraint",
            ),
            (
                "&Policy=%C4%80",
                "1 validation error detected: Value '\u{100}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
            ),
            (
                "&SourceIdentity=aws%3Ax",
                "1 validation error detected: Value 'aws:x' at 'sourceIdentity' failed to satisfy constraint",
            ),
        ] {
            let message = role_error(extra);
            assert!(message.starts_with(expected), "{extra}: {message}");
        }
        let e = assume_role(&params("RoleArn=x&RoleSessionName=s1").root(), "r").unwrap_err();
        assert!(
            e.message()
                .contains("at 'roleArn' failed to satisfy constraint"),
            "{e}"
        );
        let e = assume_role(
            &params("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=a%20b")
                .root(),
            "r",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            r"1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        );
    }

    #[test]
    fn token_actions_have_their_own_bounds() {
        let p = params("DurationSeconds=129600");
        assert_eq!(
            get_session_token(&p.root(), "r").unwrap().duration,
            Some(129_600)
        );
        let p = params("DurationSeconds=129601");
        assert!(get_session_token(&p.root(), "r").is_err());
        let long = "x".repeat(2_049);
        let p = params(&format!("Name=bob&Policy={long}"));
        let e = get_federation_token(&p.root(), "r").unwrap_err();
        assert!(
            e.message()
                .ends_with("at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"),
            "{e}"
        );
        let e = get_federation_token(&params("Name=b").root(), "r").unwrap_err();
        assert!(e.message().contains("at 'name'"), "{e}");
    }
}
