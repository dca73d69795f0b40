//! SigV4 key derivation and signatures.
//!
//! Owns: deriving a [`SigningKey`] from a secret for one date, region and
//! service (`k_date → k_region → k_service → k_signing`), the HMAC of a
//! string to sign ([`sign`]), and [`Signature`], its lower-case hex form.
//! Derivation is separate from signing so the service layer can cache
//! derived keys. Every intermediate key is zeroized. Pure: std, hmac, sha2,
//! subtle, zeroize. Spec: reference §4.2.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::encoding::hex32;
use super::string_to_sign::TERMINATOR;
use crate::domain::secret::{SecretAccessKey, SigningKey};

/// SHA-256 block size: HMAC keys up to this length are zero-padded to it.
const BLOCK: usize = 64;

/// A SigV4 signature: 64 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

// === impl SigningKey (derivation) ===

impl SigningKey {
    /// Derives the signing key of `secret` for `date` (`YYYYMMDD`),
    /// `region` and `service`.
    ///
    /// Cache the result per (access key id, date, region, service), and
    /// only for scopes that passed [`super::ParsedAuth::precheck`], so a
    /// client cannot fill the cache with made-up regions.
    pub fn derive(secret: &SecretAccessKey, date: &str, region: &str, service: &str) -> Self {
        let secret = secret.expose_secret().as_bytes();
        let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
        k_secret.extend_from_slice(b"AWS4");
        k_secret.extend_from_slice(secret);
        let k_date = Zeroizing::new(hmac_sha256(&k_secret, &[date.as_bytes()]));
        let k_region = Zeroizing::new(hmac_sha256(&*k_date, &[region.as_bytes()]));
        let k_service = Zeroizing::new(hmac_sha256(&*k_region, &[service.as_bytes()]));
        Self::from_bytes(hmac_sha256(&*k_service, &[TERMINATOR.as_bytes()]))
    }
}

/// Signs `string_to_sign` with `key`.
pub fn sign(key: &SigningKey, string_to_sign: &str) -> Signature {
    let mac = Zeroizing::new(hmac_sha256(
        key.expose_secret(),
        &[string_to_sign.as_bytes()],
    ));
    Signature::from_hex(hex32(&mac))
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // RFC 2104 key preparation done here so that no fallible constructor is
    // needed: a key longer than a block is hashed, a shorter one zero-padded.
    let mut block = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        let digest = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(key)));
        copy_into(&mut block, &*digest);
    } else {
        copy_into(&mut block, key);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new((&*block).into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn copy_into(dst: &mut [u8; BLOCK], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

// === impl Signature ===

impl Signature {
    /// Wraps 64 lower-case hex characters made by `hex32`.
    pub(crate) fn from_hex(hex: [u8; 64]) -> Self {
        Self(hex)
    }

    /// The signature as sent on the wire.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Whether `presented` equals this signature, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.ct_eq_str(presented))
    }

    fn ct_eq_str(&self, presented: &str) -> Choice {
        self.0.as_slice().ct_eq(presented.as_bytes())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sigv4::encoding::hex_str;

    fn secret() -> SecretAccessKey {
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".parse().unwrap()
    }

    #[test]
    fn derives_the_reference_signing_key() {
        // Reference §4.3.
        let key = SigningKey::derive(&secret(), "20150830", "us-east-1", "sts");
        assert_eq!(
            hex_str(&hex32(key.expose_secret())),
            "a9d028e9e96178f3ed6acfa66eff308447119de7ba1dd1dc7b666bbcb5686dfd"
        );
    }

    #[test]
    fn signs_get_vanilla() {
        let key = SigningKey::derive(&secret(), "20150830", "us-east-1", "service");
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
                   bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
        let sig = sign(&key, sts);
        let want = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        assert_eq!(sig.as_str(), want);
        assert!(sig.matches(want));
        assert!(!sig.matches(&want.to_uppercase()));
        assert!(!sig.matches(want.get(..63).unwrap()));
        assert!(!sig.matches(""));
    }

    #[test]
    fn long_hmac_keys_are_hashed_first() {
        // RFC 4231 test case 6: a 131-byte key.
        let key = [0xaa; 131];
        let mac = hmac_sha256(
            &key,
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex_str(&hex32(&mac)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
