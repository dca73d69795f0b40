//! The request context: condition keys and their values.
//!
//! Owns: the key → value(s) map every condition and policy variable reads.
//! Key names are case-insensitive (`aws:PrincipalTag/Team` =
//! `AWS:principaltag/team`), so keys are stored lower-cased; values keep their
//! case. A key is single-valued or multivalued by what the request puts in it,
//! not by what the policy says. The context holds no principal or time of its
//! own: whoever builds the request fills in the keys that apply.
//!
//! A context may sit on a shared, immutable *base* ([`Context::layered`]):
//! the keys of a caller's identity, built once and shared by every request
//! of that caller, under the few keys of one request (time, transport,
//! operation keys). A key set on top hides the base's key of that name;
//! changing or removing a key that only the base holds first copies the
//! base in, so a layered context behaves exactly like a flat one. Pure.

use std::cmp::Ordering;
use std::sync::Arc;

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
#[derive(Debug, Clone, Default)]
pub struct Context {
    // INVARIANT: sorted by key, keys lower-cased and unique.
    entries: Vec<(Box<str>, ContextValue)>,
    /// Keys under `entries`, hidden by an entry of the same key.
    base: Option<Arc<Context>>,
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Context {}

// === impl Context ===

impl Context {
    /// A context with no keys.
    pub const EMPTY: Self = Self {
        entries: Vec::new(),
        base: None,
    };

    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context holding `base`'s keys, to which a request adds its own
    /// without copying `base`.
    pub fn layered(base: Arc<Context>) -> Self {
        Self {
            entries: Vec::new(),
            base: Some(base),
        }
    }

    /// Copies the base's keys in when `lower_key` is only there, so that a
    /// change to it acts on this context's own copy.
    fn own(&mut self, lower_key: &str) {
        let in_base = self.find(lower_key).is_err()
            && self.base.as_ref().is_some_and(|b| b.contains(lower_key));
        if in_base {
            let flat: Vec<(Box<str>, ContextValue)> = self
                .iter()
                .map(|(k, v)| (Box::from(k), v.clone()))
                .collect();
            self.entries = flat;
            self.base = None;
        }
    }

    /// Sets `key` (any case) to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: impl Into<ContextValue>) {
        let key = fold_key(key);
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
        let key = fold_key(key);
        self.own(&key);
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
        let key = fold_key(key);
        self.own(&key);
        if let Ok(i) = self.find(&key) {
            self.entries.remove(i);
        }
    }

    /// The value of `key`, which must already be lower-cased.
    pub fn get(&self, lower_key: &str) -> Option<&ContextValue> {
        match self.find(lower_key) {
            Ok(i) => self.entries.get(i).map(|(_, v)| v),
            Err(_) => self.base.as_ref().and_then(|b| b.get(lower_key)),
        }
    }

    /// True when `key` (lower-cased) is present.
    pub fn contains(&self, lower_key: &str) -> bool {
        self.find(lower_key).is_ok() || self.base.as_ref().is_some_and(|b| b.contains(lower_key))
    }

    /// All keys (lower-cased) and values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        let own = self.entries.iter().map(|(k, v)| (&**k, v));
        let base: Box<dyn Iterator<Item = (&str, &ContextValue)>> = match &self.base {
            Some(b) => Box::new(b.iter()),
            None => Box::new(std::iter::empty()),
        };
        Merge {
            own: own.peekable(),
            base: base.peekable(),
        }
    }

    fn find(&self, lower_key: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(k, _)| -> Ordering { (**k).cmp(lower_key) })
    }
}

/// Two sorted key lists merged, `own` winning over `base` on equal keys.
struct Merge<
    'a,
    A: Iterator<Item = (&'a str, &'a ContextValue)>,
    B: Iterator<Item = (&'a str, &'a ContextValue)>,
> {
    own: std::iter::Peekable<A>,
    base: std::iter::Peekable<B>,
}

impl<'a, A, B> Iterator for Merge<'a, A, B>
where
    A: Iterator<Item = (&'a str, &'a ContextValue)>,
    B: Iterator<Item = (&'a str, &'a ContextValue)>,
{
    type Item = (&'a str, &'a ContextValue);

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.own.peek(), self.base.peek()) {
            (Some((a, _)), Some((b, _))) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return None,
        };
        match order {
            Ordering::Less => self.own.next(),
            Ordering::Greater => self.base.next(),
            Ordering::Equal => {
                self.base.next();
                self.own.next()
            }
        }
    }
}

/// `key` in lower case, as keys are kept: ASCII keys (nearly all) by the
/// cheap ASCII mapping, others by Unicode's, which gives the same result
/// on ASCII.
fn fold_key(key: &str) -> String {
    if key.is_ascii() {
        key.to_ascii_lowercase()
    } else {
        key.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layered_context_reads_like_a_flat_one() {
        let mut base = Context::new();
        base.insert("aws:PrincipalArn", "arn:aws:iam::123456789012:user/a");
        base.insert("aws:userid", "AIDA");
        base.insert("aws:TagKeys", &["a", "b"][..]);
        let base = Arc::new(base);
        let mut c = Context::layered(Arc::clone(&base));
        c.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
        c.insert("aws:userid", "over");
        assert_eq!(c.get("aws:userid"), Some(&ContextValue::from("over")));
        assert_eq!(c.get("aws:principalarn"), base.get("aws:principalarn"));
        assert!(c.contains("aws:currenttime") && c.contains("aws:tagkeys"));
        let keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "aws:currenttime",
                "aws:principalarn",
                "aws:tagkeys",
                "aws:userid"
            ]
        );
        // Changing a key only the base holds acts on a copy.
        c.append("aws:TagKeys", "c");
        c.remove("aws:PrincipalArn");
        assert_eq!(c.get("aws:tagkeys").map(|v| v.values().count()), Some(3));
        assert!(!c.contains("aws:principalarn"));
        assert!(base.contains("aws:principalarn"));
        assert_eq!(base.get("aws:tagkeys").map(|v| v.values().count()), Some(2));
        let mut flat = Context::new();
        flat.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
        flat.insert("aws:userid", "over");
        flat.insert("aws:TagKeys", &["a", "b", "c"][..]);
        assert_eq!(c, flat);
    }

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
