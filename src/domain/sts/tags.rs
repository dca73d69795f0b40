//! Session tags and transitive tag keys.
//!
//! Owns: [`plan_session_tags`], the rules of reference 1.6 — at most
//! [`MAX_SESSION_TAGS`] tags and as many transitive keys, no key in the
//! `aws:` namespace, keys unique case-insensitively (and kept in the case
//! given), every transitive key one of the requested tags' keys, and the
//! calling session's transitive tags inherited and never overridden — and
//! the resulting tag set of the new session. Pure.

use super::StsRuleError;
use crate::domain::ids::{TagKey, TagValue};

/// At most this many session tags, and transitive tag keys, per request.
pub const MAX_SESSION_TAGS: usize = 50;

/// The tags a new session carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionTagPlan {
    /// Inherited transitive tags first, then the requested tags; no key
    /// twice (case-insensitively).
    pub tags: Vec<(String, String)>,
    /// The transitive keys: the inherited ones, then those of this request.
    pub transitive_keys: Vec<String>,
}

/// Checks the `Tags` and `TransitiveTagKeys` of a request and combines them
/// with what the calling session passes on: of `caller_tags`, the tags
/// whose key is one of `caller_transitive` (role chaining). A first
/// session passes empty slices.
///
/// # Errors
///
/// [`StsRuleError::TooManyTags`], [`StsRuleError::ReservedTagKey`],
/// [`StsRuleError::DuplicateTagKey`],
/// [`StsRuleError::TransitiveKeyNotInTags`] and
/// [`StsRuleError::OverridesTransitiveTag`], checked in that order.
pub fn plan_session_tags(
    requested: &[(TagKey, TagValue)],
    transitive: &[TagKey],
    caller_tags: &[(String, String)],
    caller_transitive: &[String],
) -> Result<SessionTagPlan, StsRuleError> {
    for (what, count) in [
        ("tags", requested.len()),
        ("transitive tag keys", transitive.len()),
    ] {
        if count > MAX_SESSION_TAGS {
            return Err(StsRuleError::TooManyTags {
                what,
                count,
                max: MAX_SESSION_TAGS,
            });
        }
    }
    for (i, (key, _)) in requested.iter().enumerate() {
        if key.is_reserved() {
            return Err(StsRuleError::ReservedTagKey {
                key: key.to_string(),
            });
        }
        if requested.iter().take(i).any(|(k, _)| k == key) {
            return Err(StsRuleError::DuplicateTagKey {
                key: key.to_string(),
            });
        }
    }
    if let Some(key) = transitive
        .iter()
        .find(|t| !requested.iter().any(|(k, _)| k == *t))
    {
        return Err(StsRuleError::TransitiveKeyNotInTags {
            key: key.to_string(),
        });
    }
    let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
    let inherited: Vec<&(String, String)> = caller_tags
        .iter()
        .filter(|(k, _)| caller_transitive.iter().any(|t| same(t, k)))
        .collect();
    if let Some((key, _)) = requested
        .iter()
        .find(|(k, _)| inherited.iter().any(|(i, _)| same(i, k.as_str())))
    {
        return Err(StsRuleError::OverridesTransitiveTag {
            key: key.to_string(),
        });
    }
    let mut plan = SessionTagPlan::default();
    plan.tags.extend(inherited.into_iter().cloned());
    plan.tags.extend(
        requested
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    for key in caller_transitive
        .iter()
        .map(String::as_str)
        .chain(transitive.iter().map(TagKey::as_str))
    {
        if !plan.transitive_keys.iter().any(|k| same(k, key)) {
            plan.transitive_keys.push(key.to_owned());
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(TagKey, TagValue)> {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    fn keys(ks: &[&str]) -> Vec<TagKey> {
        ks.iter().map(|k| k.parse().unwrap()).collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn first_sessions_carry_the_requested_tags() {
        let plan = plan_session_tags(
            &tags(&[("Project", "Apollo"), ("Team", "")]),
            &keys(&["project"]),
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(plan.tags, owned(&[("Project", "Apollo"), ("Team", "")]));
        assert_eq!(plan.transitive_keys, ["project"]);
    }

    #[test]
    fn limits_and_key_rules() {
        let many: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        let many: Vec<(TagKey, TagValue)> = many
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect();
        assert!(matches!(
            plan_session_tags(&many, &[], &[], &[]),
            Err(StsRuleError::TooManyTags { count: 51, .. })
        ));
        assert!(plan_session_tags(&many[..50], &[], &[], &[]).is_ok());
        assert!(matches!(
            plan_session_tags(&tags(&[("aws:x", "v")]), &[], &[], &[]),
            Err(StsRuleError::ReservedTagKey { .. })
        ));
        assert_eq!(
            plan_session_tags(&tags(&[("Team", "a"), ("team", "b")]), &[], &[], &[]),
            Err(StsRuleError::DuplicateTagKey { key: "team".into() })
        );
        assert_eq!(
            plan_session_tags(&tags(&[("Team", "a")]), &keys(&["Project"]), &[], &[]),
            Err(StsRuleError::TransitiveKeyNotInTags {
                key: "Project".into()
            })
        );
    }

    #[test]
    fn chained_sessions_inherit_transitive_tags_only_and_cannot_override_them() {
        let caller = owned(&[("Project", "Apollo"), ("Team", "Blue")]);
        let caller_transitive = vec!["project".to_owned()];
        let plan = plan_session_tags(
            &tags(&[("Team", "Red"), ("Env", "prod")]),
            &keys(&["Env"]),
            &caller,
            &caller_transitive,
        )
        .unwrap();
        assert_eq!(
            plan.tags,
            owned(&[("Project", "Apollo"), ("Team", "Red"), ("Env", "prod")])
        );
        assert_eq!(plan.transitive_keys, ["project", "Env"]);
        assert_eq!(
            plan_session_tags(
                &tags(&[("PROJECT", "Gemini")]),
                &[],
                &caller,
                &caller_transitive
            ),
            Err(StsRuleError::OverridesTransitiveTag {
                key: "PROJECT".into()
            })
        );
        let plan = plan_session_tags(&[], &[], &caller, &caller_transitive).unwrap();
        assert_eq!(plan.tags, owned(&[("Project", "Apollo")]));
    }
}
