//! The request context: condition keys and their values.
//!
//! Owns: the key → value(s) map every condition and policy variable reads.
//! Key names are case-insensitive (`aws:PrincipalTag/Team` =
//! `AWS:principaltag/team`), so keys are stored lower-cased; values keep their
//! case. A key is single-valued or multivalued by what the request puts in it,
//! not by what the policy says. The context holds no principal or time of its
//! own: whoever builds the request fills in the keys that apply. Pure.

use std::cmp::Ordering;

/// The value of one context key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key (`aws:username`).
    Single(Box<str>),
    /// A multivalued key (`aws:TagKeys`); may be empty.
    Multi(Vec<Box<str>>),
}

// === impl ContextValue ===

impl ContextValue {
    /// The values as a slice-like iterator (one for a single value).
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[Box<str>]) = match self {
            Self::Single(v) => (Some(v), &[]),
            Self::Multi(vs) => (None, vs),
        };
        one.into_iter().chain(many.iter().map(|v| &**v))
    }

    /// True for a multivalued key with no values.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Multi(v) if v.is_empty())
    }
}

impl From<&str> for ContextValue {
    fn from(v: &str) -> Self {
        Self::Single(v.into())
    }
}

impl From<String> for ContextValue {
    fn from(v: String) -> Self {
        Self::Single(v.into())
    }
}

impl From<Vec<String>> for ContextValue {
    fn from(v: Vec<String>) -> Self {
        Self::Multi(v.into_iter().map(String::into_boxed_str).collect())
    }
}

impl From<&[&str]> for ContextValue {
    fn from(v: &[&str]) -> Self {
        Self::Multi(v.iter().map(|s| Box::from(*s)).collect())
    }
}

/// Condition keys of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    // INVARIANT: sorted by key, keys lower-cased and unique.
    entries: Vec<(Box<str>, ContextValue)>,
}

// === impl Context ===

impl Context {
    /// A context with no keys.
    pub const EMPTY: Self = Self {
        entries: Vec::new(),
    };

    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` (any case) to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: impl Into<ContextValue>) {
        let key = key.to_lowercase();
        let value = value.into();
        match self.find(&key) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => self.entries.insert(i, (key.into_boxed_str(), value)),
        }
    }

    /// Adds `value` to `key` (any case): a new key is single-valued, a
    /// second value makes it multivalued.
    pub fn append(&mut self, key: &str, value: &str) {
        let key = key.to_lowercase();
        match self.find(&key) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    let old = std::mem::replace(&mut slot.1, ContextValue::Multi(Vec::new()));
                    slot.1 = match old {
                        ContextValue::Single(v) => ContextValue::Multi(vec![v, value.into()]),
                        ContextValue::Multi(mut vs) => {
                            vs.push(value.into());
                            ContextValue::Multi(vs)
                        }
                    };
                }
            }
            Err(i) => self.entries.insert(
                i,
                (key.into_boxed_str(), ContextValue::Single(value.into())),
            ),
        }
    }

    /// Removes `key` (any case).
    pub fn remove(&mut self, key: &str) {
        if let Ok(i) = self.find(&key.to_lowercase()) {
            self.entries.remove(i);
        }
    }

    /// The value of `key`, which must already be lower-cased.
    pub fn get(&self, lower_key: &str) -> Option<&ContextValue> {
        self.find(lower_key)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    /// True when `key` (lower-cased) is present.
    pub fn contains(&self, lower_key: &str) -> bool {
        self.find(lower_key).is_ok()
    }

    /// All keys (lower-cased) and values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    fn find(&self, lower_key: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(k, _)| -> Ordering { (**k).cmp(lower_key) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_turns_a_second_value_multivalued() {
        let mut c = Context::new();
        c.append("idp:AMR", "pwd");
        assert_eq!(c.get("idp:amr"), Some(&ContextValue::from("pwd")));
        c.append("idp:amr", "mfa");
        c.append("IDP:amr", "hwk");
        let values: Vec<&str> = c.get("idp:amr").unwrap().values().collect();
        assert_eq!(values, ["pwd", "mfa", "hwk"]);
        assert!(matches!(c.get("idp:amr"), Some(ContextValue::Multi(_))));
    }

    #[test]
    fn keys_are_case_insensitive_values_are_not() {
        let mut c = Context::new();
        c.insert("aws:PrincipalTag/Team", "Blue");
        c.insert("AWS:principaltag/team", "Red");
        assert_eq!(
            c.get("aws:principaltag/team"),
            Some(&ContextValue::from("Red"))
        );
        c.insert("aws:TagKeys", vec!["a".to_owned(), "B".to_owned()]);
        assert_eq!(
            c.get("aws:tagkeys").unwrap().values().collect::<Vec<_>>(),
            ["a", "B"]
        );
        c.remove("AWS:TAGKEYS");
        assert!(!c.contains("aws:tagkeys"));
    }
}
