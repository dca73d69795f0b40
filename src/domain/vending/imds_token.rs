//! IMDSv2 session tokens.
//!
//! Owns: [`ImdsTokens`]. `PUT /latest/api/token` answers a token valid for
//! the TTL the caller asked (1–21600 s); every metadata read must carry it.
//! The token is stateless — its expiry and an HMAC-SHA256 of the expiry
//! under a key drawn at start — so memory does not grow with the number of
//! callers, and a restart invalidates every token (as an instance stop
//! does). Pure: ring's HMAC and data-encoding. Spec: reference 11.2.

use data_encoding::BASE64URL_NOPAD;
use ring::hmac;

use crate::domain::ids::RandomSource;

/// The longest TTL IMDS grants, in seconds (six hours).
pub const IMDS_TOKEN_MAX_TTL_SECS: u64 = 21_600;

const CONTEXT: &[u8] = b"stsd imds token v1";
const TAG_LEN: usize = 32;

/// Issues and checks IMDSv2 tokens.
pub struct ImdsTokens {
    key: hmac::Key,
}

/// Why a token or a TTL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImdsTokenError {
    /// The TTL header is absent, not a number, or outside 1–21600.
    #[error("X-aws-ec2-metadata-token-ttl-seconds must be an integer from 1 to 21600")]
    BadTtl,
    /// Not a token this agent issued.
    #[error("the metadata token is not valid")]
    Invalid,
    /// A token this agent issued, past its TTL.
    #[error("the metadata token has expired")]
    Expired,
}

// === impl ImdsTokens ===

impl ImdsTokens {
    /// A token issuer with a key drawn from `rng`.
    pub fn new(rng: &mut impl RandomSource) -> Self {
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        Self::from_key(&key)
    }

    /// A token issuer with `key`.
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// Parses the TTL header's value.
    ///
    /// # Errors
    ///
    /// [`ImdsTokenError::BadTtl`].
    pub fn ttl(header: Option<&str>) -> Result<u64, ImdsTokenError> {
        let ttl: u64 = header
            .and_then(|v| v.trim().parse().ok())
            .ok_or(ImdsTokenError::BadTtl)?;
        if (1..=IMDS_TOKEN_MAX_TTL_SECS).contains(&ttl) {
            Ok(ttl)
        } else {
            Err(ImdsTokenError::BadTtl)
        }
    }

    /// A token valid from `now` for `ttl` seconds.
    pub fn issue(&self, now: i64, ttl: u64) -> String {
        let expiry = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
        let expiry = expiry.to_be_bytes();
        let tag = self.tag(&expiry);
        let mut raw = Vec::with_capacity(8 + TAG_LEN);
        raw.extend_from_slice(&expiry);
        raw.extend_from_slice(tag.as_ref());
        BASE64URL_NOPAD.encode(&raw)
    }

    /// Checks a token at `now`.
    ///
    /// # Errors
    ///
    /// [`ImdsTokenError::Invalid`] or [`ImdsTokenError::Expired`].
    pub fn check(&self, token: &str, now: i64) -> Result<(), ImdsTokenError> {
        let raw = BASE64URL_NOPAD
            .decode(token.as_bytes())
            .map_err(|_| ImdsTokenError::Invalid)?;
        let (expiry, tag) = raw
            .split_first_chunk::<8>()
            .ok_or(ImdsTokenError::Invalid)?;
        if tag.len() != TAG_LEN {
            return Err(ImdsTokenError::Invalid);
        }
        hmac::verify(&self.key, &message(expiry), tag).map_err(|_| ImdsTokenError::Invalid)?;
        if i64::from_be_bytes(*expiry) <= now {
            return Err(ImdsTokenError::Expired);
        }
        Ok(())
    }

    fn tag(&self, expiry: &[u8; 8]) -> hmac::Tag {
        hmac::sign(&self.key, &message(expiry))
    }
}

impl std::fmt::Debug for ImdsTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImdsTokens(<key redacted>)")
    }
}

fn message(expiry: &[u8; 8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + 8);
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(expiry);
    m
}
