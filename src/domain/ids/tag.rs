//! Tag keys and values (session tags, and tags on IAM entities).
//!
//! Owns: [`TagKey`] (1–128 characters; unique case-insensitively but
//! case-preserving, reference 1.6 and 5.6) and [`TagValue`] (0–256
//! characters, compared exactly). Pure.
//!
//! The model's class `[\p{L}\p{Z}\p{N}_.:/=+\-@]` is checked with std's
//! Unicode predicates: `\p{N}` is `char::is_numeric` and `\p{Z}` is a
//! non-control `char::is_whitespace`, both exact; `\p{L}` is approximated by
//! `char::is_alphabetic`, which also admits the few combining marks and
//! symbols with the Alphabetic property (std has no general-category table,
//! and a Unicode-table crate is not worth that corner).

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::spec::{Spec, all, all_nonempty, string_newtype};

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, with `\p{L}` approximated as above.
fn is_tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

const TAG_KEY: Spec = Spec {
    member: "key",
    min: 1,
    max: 128,
    pattern: r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
    matches: |v| all_nonempty(v, is_tag_char),
};

string_newtype! {
    /// A tag key: 1–128 letters, digits, spaces and `_.:/=+-@`.
    ///
    /// Equality, hashing and ordering ignore case (`CostCenter` and
    /// `costcenter` are the same key), while [`TagKey::as_str`] and
    /// `Display` keep the case the key was given in.
    #[derive(Debug, Clone)]
    pub struct TagKey;
    spec = TAG_KEY;
}

// === impl TagKey ===

impl TagKey {
    /// Whether the key is in the `aws:` namespace (any case), which only
    /// AWS itself may set. Checked by the operations that accept tags; the
    /// key is still well formed.
    pub fn is_reserved(&self) -> bool {
        self.0
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
    }

    /// The key's characters, lowercased: the form equality is decided on.
    fn folded(&self) -> impl Iterator<Item = char> + '_ {
        self.0.chars().flat_map(char::to_lowercase)
    }
}

impl PartialEq for TagKey {
    fn eq(&self, other: &Self) -> bool {
        self.folded().eq(other.folded())
    }
}

impl Eq for TagKey {}

impl Hash for TagKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for c in self.folded() {
            state.write_u32(u32::from(c));
        }
        // Terminator, as `str` hashing does, so keys stay prefix-free.
        state.write_u8(0xff);
    }
}

impl PartialOrd for TagKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TagKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.folded().cmp(other.folded())
    }
}

const TAG_VALUE: Spec = Spec {
    member: "value",
    min: 0,
    max: 256,
    pattern: r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
    matches: |v| all(v, is_tag_char),
};

string_newtype! {
    /// A tag value: 0–256 letters, digits, spaces and `_.:/=+-@`; may be
    /// empty. Compared exactly.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct TagValue;
    spec = TAG_VALUE;
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn key(s: &str) -> TagKey {
        s.parse().unwrap()
    }

    #[test]
    fn keys_compare_case_insensitively_and_keep_case() {
        let a = key("CostCenter");
        let b = key("costcenter");
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_eq!(a.to_string(), "CostCenter");
        let set: HashSet<TagKey> = [a, b, key("Team")].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert_eq!(key("Ünïcode"), key("üNÏCODE"));
    }

    #[test]
    fn key_charset_follows_the_model() {
        for ok in [
            "a",
            "aws:x",
            "Projekt Größe",
            "部署",
            "k_.:/=+-@9",
            "a\u{00a0}b",
            "٣",
        ] {
            assert!(ok.parse::<TagKey>().is_ok(), "{ok:?}");
        }
        for bad in ["", "a\tb", "a\nb", "a*b", "a,b", "a\u{85}b", "emoji😀"] {
            assert!(bad.parse::<TagKey>().is_err(), "{bad:?}");
        }
        assert!("é".repeat(128).parse::<TagKey>().is_ok());
        assert!("é".repeat(129).parse::<TagKey>().is_err());
    }

    #[test]
    fn reserved_keys_are_detected() {
        assert!(key("aws:PrincipalTag").is_reserved());
        assert!(key("AWS:x").is_reserved());
        assert!(!key("awsx").is_reserved());
        assert!(!key("aw").is_reserved());
        assert!(!key("é:aws:").is_reserved());
    }

    #[test]
    fn values_may_be_empty_and_are_exact() {
        assert!("".parse::<TagValue>().is_ok());
        assert_eq!(TagValue::default().as_str(), "");
        assert_ne!(
            "A".parse::<TagValue>().unwrap(),
            "a".parse::<TagValue>().unwrap()
        );
        assert!("v".repeat(257).parse::<TagValue>().is_err());
        assert!("a;b".parse::<TagValue>().is_err());
    }
}
