//! AssumeRoleWithSAML on the Query endpoint (unsigned).
//!
//! Owns: registering the action with [`Auth::Unsigned`], decoding its
//! parameters — `RoleArn`, `PrincipalArn`, `SAMLAssertion` (4–100,000
//! characters; the length error never echoes the assertion, which is a
//! credential), `Policy` (at most 2,048 characters), `PolicyArns`,
//! `DurationSeconds` — and writing the result as AWS shapes it:
//! `Credentials`, `AssumedRoleUser`, `PackedPolicySize`, `Subject`,
//! `SubjectType`, `Issuer`, `Audience`, `NameQualifier`, `SourceIdentity`
//! (reference 1.3). The JSON variant comes from the dispatcher. Imports
//! `service` and the parent's helpers.

use std::sync::Arc;

use super::decode::{self, MAX_FEDERATION_POLICY};
use super::{assumed_role_user, credentials, packed_size};
use crate::api::dispatch::{Auth, Call, Dispatcher, Service};
use crate::api::query::Scope;
use crate::domain::secret::SamlAssertion;
use crate::domain::sts::duration::MAX_ROLE_DURATION;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::sts::Sts;
use crate::service::sts::saml::{AssumeRoleWithSaml, Saml, assume_role_with_saml};

/// `SAMLAssertionType`'s bounds.
const ASSERTION_LEN: std::ops::RangeInclusive<usize> = 4..=100_000;

/// Registers AssumeRoleWithSAML.
pub fn register(d: &mut Dispatcher, sts: Arc<Sts>, saml: Arc<Saml>) {
    d.register(
        Service::Sts,
        "AssumeRoleWithSAML",
        Auth::Unsigned,
        move |call: Call| {
            let (sts, saml) = (Arc::clone(&sts), Arc::clone(&saml));
            async move {
                let input = decode_input(&call.params.root(), &call.request_id)?;
                let (minted, subject) =
                    assume_role_with_saml(&sts, &saml, &call.transport, input).await?;
                let mut r = credentials(&minted);
                let session = &minted.session;
                assumed_role_user(&mut r, &minted, &sts.partition);
                packed_size(&mut r, &minted);
                r.string("Subject", subject.subject)
                    .string("SubjectType", subject.subject_type)
                    .string("Issuer", subject.issuer)
                    .string("Audience", subject.audience)
                    .string("NameQualifier", subject.name_qualifier);
                r.opt_string("SourceIdentity", session.source_identity.clone());
                Ok(r)
            }
        },
    );
}

/// AssumeRoleWithSAML's parameters.
pub(crate) fn decode_input(
    p: &Scope<'_>,
    request_id: &str,
) -> Result<AssumeRoleWithSaml, ServiceError> {
    Ok(AssumeRoleWithSaml {
        role_arn: decode::arn(p, "RoleArn")?.ok_or_else(|| p.missing("RoleArn"))?,
        principal_arn: decode::arn(p, "PrincipalArn")?.ok_or_else(|| p.missing("PrincipalArn"))?,
        assertion: assertion(p)?,
        policies: decode::policies(p, MAX_FEDERATION_POLICY)?,
        duration: decode::duration(p, MAX_ROLE_DURATION)?,
        request_id: request_id.to_owned(),
    })
}

/// `SAMLAssertion`, its length checked without echoing it.
fn assertion(p: &Scope<'_>) -> Result<SamlAssertion, ServiceError> {
    let value = p
        .optional("SAMLAssertion")
        .ok_or_else(|| p.missing("SAMLAssertion"))?;
    let len = value.chars().count();
    if !ASSERTION_LEN.contains(&len) {
        let bound = if len < *ASSERTION_LEN.start() {
            format!("greater than or equal to {}", ASSERTION_LEN.start())
        } else {
            format!("less than or equal to {}", ASSERTION_LEN.end())
        };
        return Err(ServiceError::new(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length {bound}"
            ),
        ));
    }
    Ok(SamlAssertion::new(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query::{Limits, Params};

    fn params(body: &str) -> Params {
        Params::decode(b"", body.as_bytes(), &Limits::default()).unwrap()
    }

    const ARNS: &str = "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&PrincipalArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Asaml-provider%2Fidp";

    #[test]
    fn decodes_and_bounds_the_assertion_without_echoing_it() {
        let input = decode_input(
            &params(&format!(
                "{ARNS}&SAMLAssertion=PHg%2BPC94Pg%3D%3D&DurationSeconds=900"
            ))
            .root(),
            "r",
        )
        .unwrap();
        assert_eq!(input.assertion.expose_secret(), "PHg+PC94Pg==");
        assert_eq!(input.duration, Some(900));
        let long = "A".repeat(100_001);
        let e =
            decode_input(&params(&format!("{ARNS}&SAMLAssertion={long}")).root(), "r").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationError);
        assert!(
            e.message().contains("'sAMLAssertion'") && !e.message().contains("AAAA"),
            "{e}"
        );
        let e = decode_input(&params(ARNS).root(), "r").unwrap_err();
        assert!(e.message().contains("'sAMLAssertion'"), "{e}");
        let e = decode_input(&params("SAMLAssertion=abcd").root(), "r").unwrap_err();
        assert!(e.message().contains("'roleArn'"), "{e}");
    }
}
