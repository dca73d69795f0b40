//! The compiled revocation set: what session authentication consults.
//!
//! Owns: [`RevocationSet`], every live rule folded into hash maps — key
//! ids, and per account an "issued at or before" cut-off for the whole
//! account, per role name, per source identity and per (provider,
//! subject) — so a check is at most a handful of hash lookups and
//! allocates nothing unless the session's account has role or subject
//! rules. Of several rules on the same target the latest cut-off wins (it
//! revokes everything the earlier ones do). Pure.

use std::collections::HashMap;

use crate::domain::credential::Session;
use crate::domain::ids::{AccessKeyId, AccountId};

use super::rule::{
    RevocationId, RevocationRule, RevocationTarget, role_name, session_role_name, subject_key,
};

/// Every live revocation rule, compiled for lookups.
#[derive(Debug, Clone, Default)]
pub struct RevocationSet {
    keys: HashMap<AccessKeyId, RevocationId>,
    accounts: HashMap<AccountId, AccountRules>,
    rules: usize,
}

/// Which rule revoked a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The rule's id.
    pub rule: RevocationId,
    /// Its kind (`session`, `role`, `source_identity`, `subject`,
    /// `account`).
    pub kind: &'static str,
}

#[derive(Debug, Clone, Default)]
struct AccountRules {
    all: Option<Cutoff>,
    /// By lowercase role name.
    roles: HashMap<String, Cutoff>,
    source_identities: HashMap<String, Cutoff>,
    /// Provider ARN → subject → cut-off.
    subjects: HashMap<String, HashMap<String, Cutoff>>,
}

#[derive(Debug, Clone)]
struct Cutoff {
    issued_before: u64,
    rule: RevocationId,
}

// === impl RevocationSet ===

impl RevocationSet {
    /// The set of `rules` still needed at `now` (unix seconds): rules past
    /// their [`RevocationRule::retain_until`] match no live session and
    /// are left out.
    pub fn compile<'r>(rules: impl IntoIterator<Item = &'r RevocationRule>, now: u64) -> Self {
        let mut set = Self::default();
        for rule in rules {
            if rule.retain_until() > now {
                set.insert(rule);
            }
        }
        set
    }

    /// Adds `rule`.
    pub fn insert(&mut self, rule: &RevocationRule) {
        self.rules += 1;
        let cutoff = Cutoff {
            issued_before: rule.issued_before,
            rule: rule.id.clone(),
        };
        let account = || AccountRules::default();
        match &rule.target {
            RevocationTarget::Session { access_key_id } => {
                self.keys.insert(access_key_id.clone(), rule.id.clone());
            }
            RevocationTarget::Account => {
                let a = self.accounts.entry(rule.account).or_insert_with(account);
                raise(&mut a.all, cutoff);
            }
            RevocationTarget::Role { role_arn } => {
                let a = self.accounts.entry(rule.account).or_insert_with(account);
                let name = role_name(role_arn).to_ascii_lowercase();
                raise_in(&mut a.roles, name, cutoff);
            }
            RevocationTarget::SourceIdentity { source_identity } => {
                let a = self.accounts.entry(rule.account).or_insert_with(account);
                let key = source_identity.as_str().to_owned();
                raise_in(&mut a.source_identities, key, cutoff);
            }
            RevocationTarget::Subject {
                provider_arn,
                subject,
            } => {
                let a = self.accounts.entry(rule.account).or_insert_with(account);
                let by_subject = a.subjects.entry(provider_arn.to_string()).or_default();
                raise_in(by_subject, subject.clone(), cutoff);
            }
        }
    }

    /// How many rules were inserted.
    pub fn len(&self) -> usize {
        self.rules
    }

    /// Whether no rule was inserted.
    pub fn is_empty(&self) -> bool {
        self.rules == 0
    }

    /// The rule that revokes `session`, if any. When several do, the one
    /// on the single key first, then the account-wide, role, source
    /// identity and subject rules, in that order.
    pub fn check(&self, session: &Session) -> Option<Revoked> {
        if self.is_empty() {
            return None;
        }
        if let Some(rule) = self.keys.get(&session.access_key_id) {
            return Some(revoked(rule, "session"));
        }
        let a = self.accounts.get(&session.account)?;
        let hit = |c: &Cutoff| session.issued_at <= c.issued_before;
        if let Some(c) = a.all.as_ref().filter(|c| hit(c)) {
            return Some(revoked(&c.rule, "account"));
        }
        if !a.roles.is_empty()
            && let Some(name) = session_role_name(session)
            && let Some(c) = a.roles.get(&name.to_ascii_lowercase()).filter(|c| hit(c))
        {
            return Some(revoked(&c.rule, "role"));
        }
        if let Some(si) = session.source_identity.as_deref()
            && let Some(c) = a.source_identities.get(si).filter(|c| hit(c))
        {
            return Some(revoked(&c.rule, "source_identity"));
        }
        let provider = session.provider.as_deref()?;
        let by_subject = a.subjects.get(provider)?;
        let key = subject_key(provider)?;
        session
            .provider_keys
            .iter()
            .filter(|(k, _)| *k == key)
            .find_map(|(_, sub)| by_subject.get(sub).filter(|c| hit(c)))
            .map(|c| revoked(&c.rule, "subject"))
    }
}

fn revoked(rule: &RevocationId, kind: &'static str) -> Revoked {
    Revoked {
        rule: rule.clone(),
        kind,
    }
}

/// Keeps the later of `slot` and `cutoff`.
fn raise(slot: &mut Option<Cutoff>, cutoff: Cutoff) {
    if slot
        .as_ref()
        .is_none_or(|c| c.issued_before < cutoff.issued_before)
    {
        *slot = Some(cutoff);
    }
}

fn raise_in(map: &mut HashMap<String, Cutoff>, key: String, cutoff: Cutoff) {
    let mut slot = map.remove(&key);
    raise(&mut slot, cutoff);
    if let Some(c) = slot {
        map.insert(key, c);
    }
}
