//! The compact binary encoding of a [`Session`], the plaintext a session
//! token seals.
//!
//! Owns: [`encode`] and [`decode`]. Layout, in order: a version byte
//! ([`VERSION`]); the access key id, the secret, the account (as a number);
//! the principal (a kind byte, then its fields); the inline policy
//! (optional), the policy ARNs, the tags (key, value), the transitive tag
//! keys, the source identity (optional), the MFA serial and time
//! (optional), the issue and expiry times, the provider (optional), the
//! chain depth (a byte) and, from version 2, the provider's condition keys
//! (key, value). Version 1 tokens (no provider keys) still decode. Integers and lengths are unsigned LEB128, minimal;
//! strings are a length then UTF-8 bytes; lists a count then their items;
//! an optional field a presence byte (0 or 1) then the field.
//!
//! [`decode`] never panics: it refuses a wrong version, a length past the
//! end, a non-minimal or overlong integer, a presence or kind byte out of
//! range, bad UTF-8, an id that does not parse, trailing bytes, and a
//! session that fails [`Session::check`]. Both directions keep the secret
//! in zeroizing buffers. Pure.

use std::str::FromStr;

use zeroize::Zeroizing;

use super::error::CredentialError;
use super::session::{MfaInfo, Session, SessionPrincipal, SessionTag};
use crate::domain::ids::AccountId;
use crate::domain::secret::SecretAccessKey;

/// The version of the session encoding.
pub(crate) const VERSION: u8 = 2;

/// The oldest version [`decode`] accepts: 1 has no provider keys.
const OLDEST_VERSION: u8 = 1;

/// Kind bytes of [`SessionPrincipal`].
const ASSUMED_ROLE: u8 = 0;
const USER: u8 = 1;
const ROOT: u8 = 2;
const FEDERATED_USER: u8 = 3;

/// Encodes `session`. The buffer holds the secret, so it zeroizes on drop.
pub(crate) fn encode(session: &Session) -> Zeroizing<Vec<u8>> {
    let mut w = Writer(Zeroizing::new(Vec::with_capacity(256)));
    w.byte(VERSION);
    w.str(session.access_key_id.as_str());
    w.str(session.secret.expose_secret());
    w.uint(session.account.as_u64());
    match &session.principal {
        SessionPrincipal::AssumedRole {
            role_arn,
            role_id,
            session_name,
        } => {
            w.byte(ASSUMED_ROLE);
            w.str(role_arn.as_str());
            w.str(role_id.as_str());
            w.str(session_name);
        }
        SessionPrincipal::User {
            user_arn,
            user_id,
            name,
        } => {
            w.byte(USER);
            w.str(user_arn.as_str());
            w.str(user_id.as_str());
            w.str(name.as_str());
        }
        SessionPrincipal::Root => w.byte(ROOT),
        SessionPrincipal::FederatedUser {
            name,
            caller_arn,
            caller_user_id,
        } => {
            w.byte(FEDERATED_USER);
            w.str(name);
            w.str(caller_arn.as_str());
            w.str(caller_user_id);
        }
    }
    w.opt(session.policy.as_deref(), Writer::str);
    w.list(&session.policy_arns, |w, a| w.str(a.as_str()));
    w.list(&session.tags, |w, t| {
        w.str(&t.key);
        w.str(&t.value);
    });
    w.list(&session.transitive_tag_keys, |w, k| w.str(k));
    w.opt(session.source_identity.as_deref(), Writer::str);
    w.opt(session.mfa.as_ref(), |w, m| {
        w.str(m.serial.as_str());
        w.uint(m.authenticated_at);
    });
    w.uint(session.issued_at);
    w.uint(session.expires_at);
    w.opt(session.provider.as_deref(), Writer::str);
    w.byte(session.chain_depth);
    w.list(&session.provider_keys, |w, (k, v)| {
        w.str(k);
        w.str(v);
    });
    w.0
}

/// Decodes a session encoded by [`encode`].
///
/// # Errors
///
/// [`CredentialError::Malformed`] for any layout fault, or the
/// [`Session::check`] error of a well-formed but invalid session.
pub(crate) fn decode(bytes: &[u8]) -> Result<Session, CredentialError> {
    let mut r = Reader(bytes);
    let version = r.byte()?;
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(CredentialError::Malformed);
    }
    let access_key_id = r.parse()?;
    let secret =
        SecretAccessKey::try_from(r.str()?.to_owned()).map_err(|_| CredentialError::Malformed)?;
    let account = AccountId::from_u64(r.uint()?).ok_or(CredentialError::Malformed)?;
    let principal = match r.byte()? {
        ASSUMED_ROLE => SessionPrincipal::AssumedRole {
            role_arn: r.parse()?,
            role_id: r.parse()?,
            session_name: r.string()?,
        },
        USER => SessionPrincipal::User {
            user_arn: r.parse()?,
            user_id: r.parse()?,
            name: r.parse()?,
        },
        ROOT => SessionPrincipal::Root,
        FEDERATED_USER => SessionPrincipal::FederatedUser {
            name: r.string()?,
            caller_arn: r.parse()?,
            caller_user_id: r.string()?,
        },
        _ => return Err(CredentialError::Malformed),
    };
    let session = Session {
        access_key_id,
        secret,
        account,
        principal,
        policy: r.opt(Reader::string)?,
        policy_arns: r.list(Reader::parse)?,
        tags: r.list(|r| {
            Ok(SessionTag {
                key: r.string()?,
                value: r.string()?,
            })
        })?,
        transitive_tag_keys: r.list(Reader::string)?,
        source_identity: r.opt(Reader::string)?,
        mfa: r.opt(|r| {
            Ok(MfaInfo {
                serial: r.parse()?,
                authenticated_at: r.uint()?,
            })
        })?,
        issued_at: r.uint()?,
        expires_at: r.uint()?,
        provider: r.opt(Reader::string)?,
        chain_depth: r.byte()?,
        provider_keys: if version >= 2 {
            r.list(|r| Ok((r.string()?, r.string()?)))?
        } else {
            Vec::new()
        },
    };
    if !r.0.is_empty() {
        return Err(CredentialError::Malformed);
    }
    session.check()?;
    Ok(session)
}

/// Appends fields to a zeroizing buffer.
struct Writer(Zeroizing<Vec<u8>>);

impl Writer {
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    /// Unsigned LEB128.
    fn uint(&mut self, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(low);
                return;
            }
            self.0.push(low | 0x80);
        }
    }

    fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.byte(0),
            Some(v) => {
                self.byte(1);
                f(self, v);
            }
        }
    }

    fn list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        self.uint(items.len() as u64);
        for item in items {
            f(self, item);
        }
    }
}

/// Reads fields off the front of a slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CredentialError> {
        let (&b, rest) = self.0.split_first().ok_or(CredentialError::Malformed)?;
        self.0 = rest;
        Ok(b)
    }

    /// Unsigned LEB128, at most 10 bytes, minimal, fitting in 64 bits.
    fn uint(&mut self) -> Result<u64, CredentialError> {
        let mut v: u64 = 0;
        for i in 0..10_u32 {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            // The tenth byte may carry one bit only.
            if i == 9 && bits > 1 {
                return Err(CredentialError::Malformed);
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                // A final zero byte after the first is a non-minimal form.
                if i > 0 && b == 0 {
                    return Err(CredentialError::Malformed);
                }
                return Ok(v);
            }
        }
        Err(CredentialError::Malformed)
    }

    fn str(&mut self) -> Result<&'a str, CredentialError> {
        let len = usize::try_from(self.uint()?).map_err(|_| CredentialError::Malformed)?;
        let (s, rest) = self
            .0
            .split_at_checked(len)
            .ok_or(CredentialError::Malformed)?;
        self.0 = rest;
        std::str::from_utf8(s).map_err(|_| CredentialError::Malformed)
    }

    fn string(&mut self) -> Result<String, CredentialError> {
        self.str().map(str::to_owned)
    }

    fn parse<T: FromStr>(&mut self) -> Result<T, CredentialError> {
        self.str()?.parse().map_err(|_| CredentialError::Malformed)
    }

    fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, CredentialError>,
    ) -> Result<Option<T>, CredentialError> {
        match self.byte()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            _ => Err(CredentialError::Malformed),
        }
    }

    fn list<T>(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<T, CredentialError>,
    ) -> Result<Vec<T>, CredentialError> {
        let count = self.uint()?;
        // Every item takes at least one byte: a count beyond what is left
        // is refused before anything is allocated.
        if count > self.0.len() as u64 {
            return Err(CredentialError::Malformed);
        }
        let mut items = Vec::new();
        for _ in 0..count {
            items.push(f(self)?);
        }
        Ok(items)
    }
}
