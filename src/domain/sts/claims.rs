//! Claim mapping: what a federated identity's claims (OIDC) or attributes
//! (SAML) become in its session, as the deployment configures it per
//! provider — beyond AWS, which only reads tags and a source identity
//! from AWS-specific claims.
//!
//! Owns: [`ClaimMapping`] and [`ClaimMapping::apply`], which turns the
//! claims of one token or assertion into session tags (a claim's values
//! joined by `:`, the one separator tag values allow besides `/`, `=`,
//! `+`, `-`, `@`, `.` and `_`), a source identity (the claim's first
//! value) and condition keys `<prefix>:<name>` (every value, so
//! `ForAnyValue` works on lists such as `groups`). An absent claim maps
//! to nothing; a present claim whose value cannot be a tag value or a
//! source identity is an error naming the claim (the IdP sent something
//! the mapping cannot use, and silently dropping it could widen or narrow
//! access unexpectedly). Pure: std and `domain::ids`.

use crate::domain::ids::{SourceIdentity, TagKey, TagValue};

/// The claims of one token or assertion: name → values (a string claim has
/// one value, an array claim each element).
pub type Claims = [(String, Vec<String>)];

/// How one provider's claims map onto its sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimMapping {
    /// Session tag key ← claim name.
    pub tags: Vec<(TagKey, String)>,
    /// Which of the mapped tags are transitive.
    pub transitive: Vec<TagKey>,
    /// The claim that becomes the source identity.
    pub source_identity: Option<String>,
    /// Condition key name (after the provider's prefix) ← claim name.
    pub keys: Vec<(String, String)>,
}

/// What a mapping made of one identity's claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapped {
    /// Session tags, in the mapping's order.
    pub tags: Vec<(TagKey, TagValue)>,
    /// Keys of `tags` marked transitive.
    pub transitive: Vec<TagKey>,
    /// The source identity, when its claim was present.
    pub source_identity: Option<SourceIdentity>,
    /// Condition keys with every value of their claim.
    pub keys: Vec<(String, Vec<String>)>,
}

/// A claim the mapping cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("claim {claim} cannot become {target}: {reason}")]
pub struct ClaimError {
    /// The claim's name.
    pub claim: String,
    /// `session tag <key>` or `the source identity`.
    pub target: String,
    /// Why.
    pub reason: String,
}

// === impl ClaimMapping ===

impl ClaimMapping {
    /// True when the mapping maps nothing.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.source_identity.is_none() && self.keys.is_empty()
    }

    /// Maps `claims`; condition keys are named `<key_prefix>:<name>`.
    ///
    /// # Errors
    ///
    /// [`ClaimError`] for a present claim whose value is not a valid tag
    /// value (after joining) or source identity.
    pub fn apply(&self, claims: &Claims, key_prefix: &str) -> Result<Mapped, ClaimError> {
        let values = |name: &str| {
            claims
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_slice())
                .filter(|v| !v.is_empty())
        };
        let mut mapped = Mapped::default();
        for (key, claim) in &self.tags {
            let Some(v) = values(claim) else { continue };
            let joined = v.join(":");
            let value = joined.parse::<TagValue>().map_err(|e| ClaimError {
                claim: claim.clone(),
                target: format!("session tag {key}"),
                reason: e.to_string(),
            })?;
            mapped.tags.push((key.clone(), value));
            if self.transitive.iter().any(|t| t == key) {
                mapped.transitive.push(key.clone());
            }
        }
        if let Some(claim) = &self.source_identity
            && let Some(first) = values(claim).and_then(<[String]>::first)
        {
            let source = first.parse::<SourceIdentity>().map_err(|e| ClaimError {
                claim: claim.clone(),
                target: "the source identity".to_owned(),
                reason: e.to_string(),
            })?;
            mapped.source_identity = Some(source);
        }
        for (name, claim) in &self.keys {
            if let Some(v) = values(claim) {
                mapped
                    .keys
                    .push((format!("{key_prefix}:{name}"), v.to_vec()));
            }
        }
        Ok(mapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Vec<(String, Vec<String>)> {
        vec![
            ("groups".into(), vec!["dev".into(), "ops".into()]),
            ("email".into(), vec!["alice@example.com".into()]),
            ("department".into(), vec!["Platform Engineering".into()]),
            ("weird".into(), vec!["a,b;c".into()]),
            ("empty".into(), vec![]),
        ]
    }

    fn mapping() -> ClaimMapping {
        ClaimMapping {
            tags: vec![
                ("team".parse().unwrap(), "groups".into()),
                ("dept".parse().unwrap(), "department".into()),
                ("absent".parse().unwrap(), "no-such-claim".into()),
                ("none".parse().unwrap(), "empty".into()),
            ],
            transitive: vec!["dept".parse().unwrap()],
            source_identity: Some("email".into()),
            keys: vec![("groups".into(), "groups".into())],
        }
    }

    #[test]
    fn claims_become_tags_source_identity_and_keys() {
        let m = mapping().apply(&claims(), "idp.example.com").unwrap();
        let tags: Vec<(String, &str)> = m
            .tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_str()))
            .collect();
        assert_eq!(
            tags,
            [
                ("team".to_owned(), "dev:ops"),
                ("dept".to_owned(), "Platform Engineering")
            ]
        );
        assert_eq!(m.transitive.len(), 1);
        assert_eq!(m.transitive[0].to_string(), "dept");
        assert_eq!(
            m.source_identity.as_ref().map(SourceIdentity::as_str),
            Some("alice@example.com")
        );
        assert_eq!(
            m.keys,
            [(
                "idp.example.com:groups".to_owned(),
                vec!["dev".to_owned(), "ops".to_owned()]
            )]
        );
    }

    #[test]
    fn a_claim_that_cannot_be_a_tag_value_is_an_error_naming_it() {
        let m = ClaimMapping {
            tags: vec![("x".parse().unwrap(), "weird".into())],
            ..ClaimMapping::default()
        };
        let e = m.apply(&claims(), "p").unwrap_err();
        assert_eq!(e.claim, "weird");
        assert_eq!(e.target, "session tag x");
    }

    #[test]
    fn a_claim_that_cannot_be_a_source_identity_is_an_error() {
        let m = ClaimMapping {
            source_identity: Some("department".into()),
            ..ClaimMapping::default()
        };
        let e = m.apply(&claims(), "p").unwrap_err();
        assert_eq!(e.claim, "department");
    }

    #[test]
    fn an_empty_mapping_maps_nothing() {
        assert!(ClaimMapping::default().is_empty());
        let m = ClaimMapping::default().apply(&claims(), "p").unwrap();
        assert_eq!(m, Mapped::default());
    }
}
