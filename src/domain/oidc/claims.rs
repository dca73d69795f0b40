//! The claims of a verified token: times, audience, and what they become.
//!
//! Owns: the time rules (`exp` required, `nbf` and `iat` optional, all
//! integer NumericDates, compared with `now` and a bounded skew; an
//! optional maximum age from `iat`), the audience rule (`azp`, then each
//! `aud`, must name a client ID of the provider; the first that does is
//! the session's audience), `sub` (required, 1–255 characters), and what
//! the claims become: the trust-policy condition keys `<provider>:sub`,
//! `:aud` (Google's rule: `azp` when present, else `aud`), `:oaud` (the
//! original `aud` when `azp` replaced it), `:azp` and `:amr`; the session
//! tags and transitive keys of the `https://aws.amazon.com/tags` claim;
//! the source identity of `https://aws.amazon.com/source_identity`; and
//! every claim flattened to strings for a configured claim mapping.
//! Pure: serde_json and the domain's identifiers. Spec: reference 1.6,
//! 7.3, 9 steps 5–6.

use serde_json::{Map, Value};

use super::error::{TokenError, shorten};
use crate::domain::ids::{SourceIdentity, TagKey, TagValue};

/// The claim carrying AWS session tags.
pub const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";
/// The claim carrying the AWS source identity.
pub const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";
/// The longest `sub` (`webIdentitySubjectType`).
pub const MAX_SUBJECT_CHARS: usize = 255;

/// How far token times may be from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// Seconds of clock difference tolerated on `exp`, `nbf` and `iat`.
    pub skew: u64,
    /// When set, a token whose `iat` is older than this many seconds is
    /// refused as too old.
    pub max_age: Option<u64>,
}

/// The claims, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The client ID the token was issued for (from `azp` or `aud`).
    pub audience: String,
    /// `exp`.
    pub expires_at: u64,
    /// Every claim, for the condition keys, tags and claim mapping.
    pub all: Map<String, Value>,
}

/// The session tags of the token's AWS tags claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenTags {
    /// `principal_tags`, in the token's order.
    pub tags: Vec<(TagKey, TagValue)>,
    /// `transitive_tag_keys`.
    pub transitive_keys: Vec<TagKey>,
}

/// Checks the claims of a token whose signature verified.
///
/// # Errors
///
/// The first rule broken: [`TokenError::MissingClaim`],
/// [`TokenError::InvalidClaim`], [`TokenError::Expired`],
/// [`TokenError::TooOld`], [`TokenError::NotYetValid`],
/// [`TokenError::IssuedInFuture`], [`TokenError::Audience`].
pub fn check(
    all: Map<String, Value>,
    client_ids: &[String],
    now: u64,
    limits: TimeLimits,
) -> Result<VerifiedClaims, TokenError> {
    let issuer = match all.get("iss") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(TokenError::MissingClaim { claim: "iss" }),
    };
    let exp = numeric_date(&all, "exp")?.ok_or(TokenError::MissingClaim { claim: "exp" })?;
    if now >= exp.saturating_add(limits.skew) {
        return Err(TokenError::Expired { now, exp });
    }
    if let Some(nbf) = numeric_date(&all, "nbf")?
        && nbf > now.saturating_add(limits.skew)
    {
        return Err(TokenError::NotYetValid { now, nbf });
    }
    if let Some(iat) = numeric_date(&all, "iat")? {
        if iat > now.saturating_add(limits.skew) {
            return Err(TokenError::IssuedInFuture { now, iat });
        }
        if let Some(max) = limits.max_age
            && now.saturating_sub(iat) > max.saturating_add(limits.skew)
        {
            return Err(TokenError::TooOld { iat });
        }
    }
    let subject = match all.get("sub") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_SUBJECT_CHARS => {
            s.clone()
        }
        Some(_) => return Err(invalid("sub", "it is not a string of 1 to 255 characters")),
        None => return Err(TokenError::MissingClaim { claim: "sub" }),
    };
    let audience = audience(&all, client_ids)?;
    Ok(VerifiedClaims {
        issuer,
        subject,
        audience,
        expires_at: exp,
        all,
    })
}

/// The client ID of `client_ids` that `azp`, else one of `aud`, names.
fn audience(all: &Map<String, Value>, client_ids: &[String]) -> Result<String, TokenError> {
    let azp = match all.get("azp") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(invalid("azp", "it is not a string")),
    };
    let aud = strings(all, "aud")?;
    if azp.is_none() && aud.is_empty() {
        return Err(TokenError::MissingClaim { claim: "aud" });
    }
    azp.into_iter()
        .chain(aud.iter().map(String::as_str))
        .find(|candidate| client_ids.iter().any(|id| id == candidate))
        .map(str::to_owned)
        .ok_or(TokenError::Audience)
}

/// The trust-policy condition keys of the claims, named
/// `<prefix>:<claim>` (reference 7.3).
pub fn condition_keys(prefix: &str, claims: &VerifiedClaims) -> Vec<(String, Vec<String>)> {
    let all = &claims.all;
    let key = |claim: &str| format!("{prefix}:{claim}");
    let aud = strings(all, "aud").unwrap_or_default();
    let mut keys = vec![(key("sub"), vec![claims.subject.clone()])];
    match all.get("azp") {
        Some(Value::String(azp)) => {
            keys.push((key("aud"), vec![azp.clone()]));
            keys.push((key("azp"), vec![azp.clone()]));
            keys.push((key("oaud"), aud));
        }
        _ => keys.push((key("aud"), aud)),
    }
    let amr = strings(all, "amr").unwrap_or_default();
    if !amr.is_empty() {
        keys.push((key("amr"), amr));
    }
    keys
}

/// The tags of the AWS tags claim:
/// `{"principal_tags": {"Key": ["value"]}, "transitive_tag_keys": ["Key"]}`.
/// Each tag has exactly one value.
///
/// # Errors
///
/// [`TokenError::InvalidClaim`] naming the claim and the tag at fault.
pub fn aws_tags(claims: &VerifiedClaims) -> Result<TokenTags, TokenError> {
    let Some(claim) = claims.all.get(TAGS_CLAIM) else {
        return Ok(TokenTags::default());
    };
    let Value::Object(claim) = claim else {
        return Err(invalid(TAGS_CLAIM, "it is not an object"));
    };
    let mut out = TokenTags::default();
    match claim.get("principal_tags") {
        None => {}
        Some(Value::Object(tags)) => {
            for (key, values) in tags {
                let value = match values {
                    Value::Array(v) => match v.as_slice() {
                        [Value::String(s)] => s.as_str(),
                        _ => return Err(tag_error(key, "a tag has exactly one string value")),
                    },
                    Value::String(s) => s.as_str(),
                    _ => return Err(tag_error(key, "a tag has exactly one string value")),
                };
                let k: TagKey = key
                    .parse()
                    .map_err(|_| tag_error(key, "the tag key is invalid"))?;
                let v: TagValue = value
                    .parse()
                    .map_err(|_| tag_error(key, "the tag value is invalid"))?;
                out.tags.push((k, v));
            }
        }
        Some(_) => return Err(invalid(TAGS_CLAIM, "principal_tags is not an object")),
    }
    match claim.get("transitive_tag_keys") {
        None => {}
        Some(Value::Array(keys)) => {
            for key in keys {
                let Value::String(key) = key else {
                    return Err(invalid(TAGS_CLAIM, "a transitive tag key is not a string"));
                };
                out.transitive_keys.push(
                    key.parse()
                        .map_err(|_| tag_error(key, "the transitive tag key is invalid"))?,
                );
            }
        }
        Some(_) => return Err(invalid(TAGS_CLAIM, "transitive_tag_keys is not an array")),
    }
    Ok(out)
}

/// The source identity of the AWS source-identity claim.
///
/// # Errors
///
/// [`TokenError::InvalidClaim`] when it is not a valid source identity.
pub fn source_identity(claims: &VerifiedClaims) -> Result<Option<SourceIdentity>, TokenError> {
    match claims.all.get(SOURCE_IDENTITY_CLAIM) {
        None => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            invalid(
                SOURCE_IDENTITY_CLAIM,
                "it is not 2 to 64 characters of [\\w+=,.@-] without an aws: prefix",
            )
        }),
        Some(_) => Err(invalid(SOURCE_IDENTITY_CLAIM, "it is not a string")),
    }
}

/// Every claim as strings, for a claim mapping: a string is one value,
/// an array its string, number and boolean elements, a number or boolean
/// its JSON text; objects and nulls are left out.
pub fn flattened(claims: &VerifiedClaims) -> Vec<(String, Vec<String>)> {
    claims
        .all
        .iter()
        .filter_map(|(name, value)| {
            let values = match value {
                Value::Array(items) => items.iter().filter_map(scalar).collect(),
                other => vec![scalar(other)?],
            };
            Some((name.clone(), values))
        })
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A claim that is a string or an array of strings; absent is empty.
fn strings(all: &Map<String, Value>, claim: &str) -> Result<Vec<String>, TokenError> {
    match all.get(claim) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(invalid(claim, "it is not a string or an array of strings")),
            })
            .collect(),
        Some(_) => Err(invalid(claim, "it is not a string or an array of strings")),
    }
}

/// An optional NumericDate claim, which must be a non-negative integer.
fn numeric_date(all: &Map<String, Value>, claim: &'static str) -> Result<Option<u64>, TokenError> {
    match all.get(claim) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(claim, "it is not an integer numeric date")),
        Some(_) => Err(invalid(claim, "it is not an integer numeric date")),
    }
}

fn invalid(claim: &str, why: &'static str) -> TokenError {
    TokenError::InvalidClaim {
        claim: claim.to_owned(),
        why,
    }
}

fn tag_error(key: &str, why: &'static str) -> TokenError {
    TokenError::InvalidClaim {
        claim: format!("{TAGS_CLAIM} (tag {})", shorten(key)),
        why,
    }
}
