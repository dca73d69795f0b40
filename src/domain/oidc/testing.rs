//! Test helpers: signing tokens with ring (test builds only).

#![cfg(test)]

use data_encoding::BASE64URL_NOPAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

use super::{KeySet, WebIdentityToken};

/// A 2048-bit RSA test key (tests/fixtures/oidc/gen-keys.sh).
pub(crate) const RSA_A: &[u8] = include_bytes!("../../../tests/fixtures/oidc/rsa-2048-a.pk8");
/// Another one.
pub(crate) const RSA_B: &[u8] = include_bytes!("../../../tests/fixtures/oidc/rsa-2048-b.pk8");

pub(crate) enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    pub(crate) fn rsa(der: &[u8]) -> Self {
        Self::Rsa(RsaKeyPair::from_pkcs8(der).unwrap())
    }

    pub(crate) fn ec(alg: &'static sig::EcdsaSigningAlgorithm) -> Self {
        let rng = SystemRandom::new();
        let pk8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Self::Ec(EcdsaKeyPair::from_pkcs8(alg, pk8.as_ref(), &rng).unwrap())
    }

    pub(crate) fn ed() -> Self {
        let pk8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::Ed(Ed25519KeyPair::from_pkcs8(pk8.as_ref()).unwrap())
    }

    pub(crate) fn jwk(&self, kid: &str) -> Value {
        match self {
            Self::Rsa(k) => {
                let p = sig::RsaPublicKeyComponents::<Vec<u8>>::from(k.public());
                json!({"kty": "RSA", "kid": kid, "use": "sig",
                    "n": B64.encode(&p.n), "e": B64.encode(&p.e)})
            }
            Self::Ec(k) => {
                let point = k.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = if half == 32 { "P-256" } else { "P-384" };
                json!({"kty": "EC", "kid": kid, "crv": crv,
                    "x": B64.encode(&point[1..=half]), "y": B64.encode(&point[half + 1..])})
            }
            Self::Ed(k) => json!({"kty": "OKP", "kid": kid, "crv": "Ed25519",
                "x": B64.encode(k.public_key().as_ref())}),
        }
    }

    pub(crate) fn sign(&self, alg: &str, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Rsa(k) => {
                let enc: &'static dyn sig::RsaEncoding = match alg {
                    "RS256" => &sig::RSA_PKCS1_SHA256,
                    "RS384" => &sig::RSA_PKCS1_SHA384,
                    "RS512" => &sig::RSA_PKCS1_SHA512,
                    "PS256" => &sig::RSA_PSS_SHA256,
                    "PS384" => &sig::RSA_PSS_SHA384,
                    _ => &sig::RSA_PSS_SHA512,
                };
                let mut out = vec![0; k.public().modulus_len()];
                k.sign(enc, &rng, message, &mut out).unwrap();
                out
            }
            Self::Ec(k) => k.sign(&rng, message).unwrap().as_ref().to_vec(),
            Self::Ed(k) => k.sign(message).as_ref().to_vec(),
        }
    }
}

pub(crate) fn keyset(jwks: &[Value]) -> KeySet {
    KeySet::parse(json!({ "keys": jwks }).to_string().as_bytes()).unwrap()
}

pub(crate) fn compact(
    header: &Value,
    claims: &Value,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> String {
    let message = format!(
        "{}.{}",
        B64.encode(header.to_string().as_bytes()),
        B64.encode(claims.to_string().as_bytes())
    );
    let signature = sign(message.as_bytes());
    format!("{message}.{}", B64.encode(&signature))
}

pub(crate) fn token(signer: &Signer, alg: &str, kid: &str, claims: &Value) -> WebIdentityToken {
    let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
    WebIdentityToken::new(compact(&header, claims, |m| signer.sign(alg, m)))
}
