//! The AWS attributes of an assertion (reference 8, step 10).
//!
//! Owns: [`AwsAttributes::read`] — the `Role` pairs (either order; the
//! request's `RoleArn` + `PrincipalArn` must be one of them), the required
//! `RoleSessionName`, `SessionDuration` (900–43200, only ever shortening
//! the session), `PrincipalTag:<Key>` (one value each; becoming session
//! tags), `TransitiveTagKeys` and `SourceIdentity` — with AWS's
//! `InvalidIdentityToken` messages naming the attribute. Imports
//! `domain::ids`, `domain::saml` and the sibling error.

use super::error::SamlError;
use crate::domain::ids::{RoleSessionName, SourceIdentity, TagKey, TagValue};
use crate::domain::saml::{AWS_ATTRIBUTE_PREFIX, role_pair};

/// The shortest and longest `SessionDuration`.
const SESSION_DURATION: std::ops::RangeInclusive<u32> = 900..=43_200;

/// Session tags at most (reference 1.6).
const MAX_TAGS: usize = 50;

/// What the AWS attributes ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAttributes {
    /// `RoleSessionName`.
    pub session_name: RoleSessionName,
    /// `SessionDuration`.
    pub session_duration: Option<u32>,
    /// `PrincipalTag:*`, in document order.
    pub tags: Vec<(TagKey, TagValue)>,
    /// `TransitiveTagKeys`.
    pub transitive_tag_keys: Vec<TagKey>,
    /// `SourceIdentity`.
    pub source_identity: Option<SourceIdentity>,
}

/// The values of the AWS attribute `name`.
fn values<'a>(attributes: &'a [(String, Vec<String>)], name: &str) -> Option<&'a [String]> {
    attributes
        .iter()
        .find(|(n, _)| n.strip_prefix(AWS_ATTRIBUTE_PREFIX) == Some(name))
        .map(|(_, v)| v.as_slice())
}

/// The single value of the AWS attribute `name`, if present.
fn single<'a>(
    attributes: &'a [(String, Vec<String>)],
    name: &str,
) -> Result<Option<&'a str>, SamlError> {
    match values(attributes, name) {
        None => Ok(None),
        Some([one]) => Ok(Some(one.trim())),
        Some(_) => Err(SamlError::Attribute(format!(
            "{name} in AuthnResponse must have exactly one value"
        ))),
    }
}

// === impl AwsAttributes ===

impl AwsAttributes {
    /// Reads the AWS attributes of `attributes`, for a request naming
    /// `role_arn` and `provider_arn`.
    ///
    /// # Errors
    ///
    /// [`SamlError::RoleNotInAssertion`] when no `Role` value pairs the two
    /// ARNs; [`SamlError::Attribute`] for a missing or invalid attribute.
    pub(crate) fn read(
        attributes: &[(String, Vec<String>)],
        role_arn: &str,
        provider_arn: &str,
    ) -> Result<Self, SamlError> {
        if !role_pairs(attributes)
            .iter()
            .any(|(r, p)| r == role_arn && p == provider_arn)
        {
            return Err(SamlError::RoleNotInAssertion);
        }
        Self::read_any(attributes)
    }

    /// Reads the AWS attributes of `attributes` without choosing a role:
    /// what a browser login reads before the person picks one of
    /// [`role_pairs`].
    ///
    /// # Errors
    ///
    /// [`SamlError::Attribute`] for a missing or invalid attribute.
    pub(crate) fn read_any(attributes: &[(String, Vec<String>)]) -> Result<Self, SamlError> {
        let session_name = single(attributes, "RoleSessionName")?
            .ok_or_else(|| {
                SamlError::Attribute("RoleSessionName is required in AuthnResponse".into())
            })?
            .parse::<RoleSessionName>()
            .map_err(|_| {
                SamlError::Attribute(
                    "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}".into(),
                )
            })?;
        let session_duration = single(attributes, "SessionDuration")?
            .map(|v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|d| SESSION_DURATION.contains(d))
                    .ok_or_else(|| {
                        SamlError::Attribute(
                            "SessionDuration in AuthnResponse must be an integer from 900 to 43200"
                                .into(),
                        )
                    })
            })
            .transpose()?;
        let source_identity = single(attributes, "SourceIdentity")?
            .map(|v| {
                v.parse::<SourceIdentity>().map_err(|_| {
                    SamlError::Attribute("Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and must not start with aws:".into())
                })
            })
            .transpose()?;
        Ok(Self {
            session_name,
            session_duration,
            tags: tags(attributes)?,
            transitive_tag_keys: transitive(attributes)?,
            source_identity,
        })
    }
}

/// The `(role ARN, provider ARN)` pairs of the `Role` attribute, in
/// document order, each once; values that are not a pair are skipped.
pub fn role_pairs(attributes: &[(String, Vec<String>)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (r, p) in values(attributes, "Role")
        .unwrap_or_default()
        .iter()
        .filter_map(|v| role_pair(v))
    {
        if !out.iter().any(|(a, b)| a == r && b == p) {
            out.push((r.to_owned(), p.to_owned()));
        }
    }
    out
}

/// `PrincipalTag:<Key>` attributes as session tags.
fn tags(attributes: &[(String, Vec<String>)]) -> Result<Vec<(TagKey, TagValue)>, SamlError> {
    let mut out: Vec<(TagKey, TagValue)> = Vec::new();
    for (name, values) in attributes {
        let Some(key) = name
            .strip_prefix(AWS_ATTRIBUTE_PREFIX)
            .and_then(|n| n.strip_prefix("PrincipalTag:"))
        else {
            continue;
        };
        let bad = |what: &str| {
            SamlError::Attribute(format!("PrincipalTag:{key} in AuthnResponse {what}"))
        };
        let [value] = values.as_slice() else {
            return Err(bad("must have exactly one value"));
        };
        let key: TagKey = key.parse().map_err(|_| bad("has an invalid tag key"))?;
        if key.is_reserved() {
            return Err(bad("uses the reserved prefix aws:"));
        }
        let value: TagValue = value
            .trim()
            .parse()
            .map_err(|_| bad("has an invalid tag value"))?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(bad("repeats a tag key"));
        }
        out.push((key, value));
    }
    if out.len() > MAX_TAGS {
        return Err(SamlError::Attribute(format!(
            "AuthnResponse carries {} PrincipalTag attributes; at most {MAX_TAGS} are allowed",
            out.len()
        )));
    }
    Ok(out)
}

/// `TransitiveTagKeys` values as tag keys.
fn transitive(attributes: &[(String, Vec<String>)]) -> Result<Vec<TagKey>, SamlError> {
    values(attributes, "TransitiveTagKeys")
        .unwrap_or_default()
        .iter()
        .map(|v| {
            v.trim().parse::<TagKey>().map_err(|_| {
                SamlError::Attribute(
                    "TransitiveTagKeys in AuthnResponse has an invalid tag key".into(),
                )
            })
        })
        .collect()
}
