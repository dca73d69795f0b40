//! jsonwebtoken's crypto backend, built on ring.
//!
//! Owns: [`RING_PROVIDER`], the [`CryptoProvider`] every JWT signature
//! check of stsd goes through, and [`install`], which makes it the
//! process default before any check runs.
//!
//! Why ring: jsonwebtoken 11 ships two backends, `aws_lc_rs` and
//! `rust_crypto`, and without one it panics at the first verification.
//! stsd already links ring for TLS (rustls), session sealing and key
//! material; a provider on ring keeps one crypto library in the binary
//! (no aws-lc C build, no second RSA implementation) and reuses ring's
//! audited, constant-time RSA, ECDSA and Ed25519 verification. The
//! criterion bench `oidc` measures it (`BENCHMARKS.md`). Only
//! verification is provided: stsd never signs a JWT, so the signer
//! factory refuses every algorithm, and HMAC verification is refused too
//! (the allow-list already excludes it; this makes a mistake there fail
//! closed). Nothing here panics.
//!
//! Pure: jsonwebtoken (and its `signature` traits) and ring only.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey};

/// The provider.
pub static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| Err(unsupported()),
        ed_pub_components_from_private_key: |_: &[u8], _: &EllipticCurve| Err(unsupported()),
        compute_digest,
    },
};

/// Makes [`RING_PROVIDER`] jsonwebtoken's process default. Idempotent and
/// cheap (one atomic load once installed); every entry point of
/// `domain::oidc` calls it first.
pub fn install() {
    // Err only when a provider is already installed: ours, since nothing
    // else in stsd installs one.
    let _ = RING_PROVIDER.install_default();
}

fn unsupported() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Err(unsupported())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(unsupported()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

/// A verifier for one algorithm and one public key.
struct RingVerifier {
    alg: Algorithm,
    key: DecodingKey,
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    use Algorithm as A;
    let family_ok = match alg {
        A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512 => {
            key.family() == AlgorithmFamily::Rsa
        }
        A::ES256 | A::ES384 => key.family() == AlgorithmFamily::Ec,
        A::EdDSA => key.family() == AlgorithmFamily::Ed,
        // HMAC, and algorithms a later jsonwebtoken may add: refused.
        _ => false,
    };
    if !family_ok {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier {
        alg: *alg,
        key: key.clone(),
    }))
}

// === impl RingVerifier ===

impl RingVerifier {
    fn check(&self, msg: &[u8], signature: &[u8]) -> Result<(), ring::error::Unspecified> {
        use Algorithm as A;
        let rsa: &'static sig::RsaParameters = match self.alg {
            A::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            A::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            A::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            A::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            A::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            A::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            A::ES256 => return self.raw(&sig::ECDSA_P256_SHA256_FIXED, msg, signature),
            A::ES384 => return self.raw(&sig::ECDSA_P384_SHA384_FIXED, msg, signature),
            A::EdDSA => return self.raw(&sig::ED25519, msg, signature),
            _ => return Err(ring::error::Unspecified),
        };
        match self.key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                RsaPublicKeyComponents { n, e }.verify(rsa, msg, signature)
            }
            DecodingKeyKind::SecretOrDer(der) => {
                UnparsedPublicKey::new(rsa, der).verify(msg, signature)
            }
        }
    }

    /// ECDSA and Ed25519: the key is the raw public point.
    fn raw(
        &self,
        alg: &'static dyn sig::VerificationAlgorithm,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<(), ring::error::Unspecified> {
        match self.key.kind() {
            DecodingKeyKind::SecretOrDer(point) => {
                UnparsedPublicKey::new(alg, point).verify(msg, signature)
            }
            DecodingKeyKind::RsaModulusExponent { .. } => Err(ring::error::Unspecified),
        }
    }
}

impl jsonwebtoken::signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(
        &self,
        msg: &[u8],
        signature: &Vec<u8>,
    ) -> Result<(), jsonwebtoken::signature::Error> {
        self.check(msg, signature)
            .map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}
