//! Parsed policies, remembered by content.
//!
//! Owns: [`parsed`], which returns the compiled [`Policy`] for a stored
//! document, parsing it only the first time the same (id, kind, limit,
//! text) is seen. Parsing is a pure function of those four, so the cache
//! never needs invalidating: a changed document is a different key, and an
//! entry nobody asks for again is only memory. Bounded: when full it is
//! emptied. Used on the request path (the caller's identity policies, a
//! role's trust policy, session policies), where the same documents come
//! back on every call. Only successes are kept. May import `domain`.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use crate::domain::policy::{Policy, PolicyError, PolicyKind};

/// Documents kept before the cache is emptied.
const CAPACITY: usize = 4_096;

/// One cached document: what it was parsed from, and the result.
struct Entry {
    id: Box<str>,
    kind: PolicyKind,
    limit: Option<usize>,
    text: Box<str>,
    policy: Arc<Policy>,
}

/// Entries by the hash of (id, kind, limit, text); a lookup hashes its
/// borrowed arguments and compares them, so a hit allocates nothing.
#[derive(Default)]
struct Cache {
    hasher: std::hash::RandomState,
    entries: HashMap<u64, Vec<Entry>>,
    len: usize,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

/// `text` parsed as a policy of `kind` named `id`, at most `limit`
/// characters (`None`: the kind's own limit).
///
/// # Errors
///
/// The parser's error; errors are not cached.
pub fn parsed(
    id: &str,
    kind: PolicyKind,
    text: &str,
    limit: Option<usize>,
) -> Result<Arc<Policy>, PolicyError> {
    let hash = {
        let cache = CACHE.lock();
        let hash = cache.hasher.hash_one((id, kind, limit, text));
        let hit = cache.entries.get(&hash).and_then(|bucket| {
            bucket
                .iter()
                .find(|e| *e.id == *id && e.kind == kind && e.limit == limit && *e.text == *text)
        });
        if let Some(e) = hit {
            return Ok(Arc::clone(&e.policy));
        }
        hash
    };
    let policy = Arc::new(match limit {
        Some(limit) => Policy::parse_with_limit(id, kind, text, limit)?,
        None => Policy::parse(id, kind, text)?,
    });
    let mut cache = CACHE.lock();
    if cache.len >= CAPACITY {
        cache.entries.clear();
        cache.len = 0;
    }
    cache.len += 1;
    cache.entries.entry(hash).or_default().push(Entry {
        id: id.into(),
        kind,
        limit,
        text: text.into(),
        policy: Arc::clone(&policy),
    });
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;

    #[test]
    fn the_same_document_is_parsed_once_and_others_are_separate() {
        let a = parsed("cache-test:a", PolicyKind::Identity, DOC, None).unwrap();
        let again = parsed("cache-test:a", PolicyKind::Identity, DOC, None).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        // Another id, kind or text is another policy.
        let b = parsed("cache-test:b", PolicyKind::Identity, DOC, None).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(b.id(), "cache-test:b");
        let other = DOC.replace("GetObject", "PutObject");
        let c = parsed("cache-test:a", PolicyKind::Identity, &other, None).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn errors_are_returned_every_time() {
        for _ in 0..2 {
            assert!(parsed("cache-test:bad", PolicyKind::Identity, "{", None).is_err());
        }
        // A limit is part of the key: the same text over a smaller limit fails.
        assert!(parsed("cache-test:small", PolicyKind::Identity, DOC, Some(10)).is_err());
        assert!(parsed("cache-test:small", PolicyKind::Identity, DOC, None).is_ok());
    }
}
