//! Decrypting an `EncryptedAssertion` with the provider's SP key.
//!
//! Owns: [`DecryptionKey`] (an RSA private key, redacted in `Debug`) and
//! [`assertion`]: XML Encryption with the content key transported by
//! RSA-OAEP (`rsa-oaep-mgf1p`, or `xmlenc11#rsa-oaep` with SHA-1 or SHA-256
//! digests; PKCS#1 v1.5 is refused, it is a padding oracle), the assertion
//! encrypted with AES-128/192/256 in CBC or GCM mode. The `EncryptedKey`
//! may sit in the `EncryptedData`'s `KeyInfo` or beside it in the
//! `EncryptedAssertion`. Every failure is the same [`SamlError`] to the
//! caller. The plaintext is untrusted until `verify` has checked it.
//! Imports openssl (already samael's: ring has no RSA decryption).

use std::fmt;

use data_encoding::BASE64;
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, Crypter, Mode};
use zeroize::Zeroizing;

use super::error::SamlError;
use super::xml::{DS, Element, XENC};

/// The XML Encryption 1.1 namespace (`rsa-oaep`, GCM).
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// A provider's SP private key, which decrypts assertions for it.
pub struct DecryptionKey(PKey<Private>);

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DecryptionKey(<redacted>)")
    }
}

// === impl DecryptionKey ===

impl DecryptionKey {
    /// Reads a PEM private key (PKCS#8 or PKCS#1 RSA).
    ///
    /// # Errors
    ///
    /// A message naming what is wrong, never the key.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let key =
            PKey::private_key_from_pem(pem).map_err(|_| "not a PEM private key".to_owned())?;
        if key.rsa().is_err() {
            return Err("not an RSA private key".to_owned());
        }
        Ok(Self(key))
    }
}

/// The plaintext of `encrypted` (an `EncryptedAssertion`).
///
/// # Errors
///
/// [`SamlError::Decryption`] for a missing key, an unsupported algorithm
/// or a ciphertext that does not decrypt.
pub(crate) fn assertion(
    encrypted: &Element,
    key: Option<&DecryptionKey>,
) -> Result<String, SamlError> {
    let fail = |why: &str| SamlError::Decryption(why.to_owned());
    let key = key.ok_or_else(|| fail("no SP private key is configured for this provider"))?;
    let data = encrypted
        .child(XENC, "EncryptedData")
        .ok_or_else(|| fail("no EncryptedData"))?;
    let encrypted_key = data
        .child(DS, "KeyInfo")
        .and_then(|k| k.child(XENC, "EncryptedKey"))
        .or_else(|| encrypted.child(XENC, "EncryptedKey"))
        .ok_or_else(|| fail("no EncryptedKey"))?;
    let content_key = unwrap_key(encrypted_key, key)?;
    let method = algorithm(data).ok_or_else(|| fail("no EncryptionMethod"))?;
    let value = cipher_value(data)?;
    let plain = decrypt_content(method, &content_key, &value)?;
    String::from_utf8(plain.to_vec()).map_err(|_| fail("the plaintext is not utf-8"))
}

/// The `EncryptionMethod` algorithm of an `EncryptedData`/`EncryptedKey`.
fn algorithm(e: &Element) -> Option<&str> {
    e.child(XENC, "EncryptionMethod")
        .and_then(|m| m.attr("Algorithm"))
}

/// The decoded `CipherData/CipherValue`.
fn cipher_value(e: &Element) -> Result<Vec<u8>, SamlError> {
    let text: String = e
        .child(XENC, "CipherData")
        .and_then(|d| d.child(XENC, "CipherValue"))
        .ok_or_else(|| SamlError::Decryption("no CipherValue".into()))?
        .text()
        .split_whitespace()
        .collect();
    BASE64
        .decode(text.as_bytes())
        .map_err(|_| SamlError::Decryption("CipherValue is not base64".into()))
}

/// The content key inside an `EncryptedKey`, decrypted with RSA-OAEP.
fn unwrap_key(
    encrypted_key: &Element,
    key: &DecryptionKey,
) -> Result<Zeroizing<Vec<u8>>, SamlError> {
    let fail = |why: &str| SamlError::Decryption(why.to_owned());
    let method = encrypted_key
        .child(XENC, "EncryptionMethod")
        .ok_or_else(|| fail("no key EncryptionMethod"))?;
    let digest = method
        .child(DS, "DigestMethod")
        .and_then(|d| d.attr("Algorithm"));
    let transport = method.attr("Algorithm").unwrap_or_default();
    if transport != format!("{XENC}rsa-oaep-mgf1p") && transport != format!("{XENC11}rsa-oaep") {
        return Err(fail("unsupported key transport"));
    }
    let md = match digest {
        None | Some("http://www.w3.org/2000/09/xmldsig#sha1") => Md::sha1(),
        Some("http://www.w3.org/2001/04/xmlenc#sha256") => Md::sha256(),
        Some(_) => return Err(fail("unsupported OAEP digest")),
    };
    if method.child(XENC11, "MGF").is_some() {
        return Err(fail("unsupported OAEP mask generation function"));
    }
    let wrapped = cipher_value(encrypted_key)?;
    // MGF1 with SHA-1 in both algorithms (the default of `xmlenc11#rsa-oaep`
    // and the only choice of `rsa-oaep-mgf1p`); the digest may differ.
    let rsa = || -> Result<Zeroizing<Vec<u8>>, openssl::error::ErrorStack> {
        let mut ctx = PkeyCtx::new(&key.0)?;
        ctx.decrypt_init()?;
        ctx.set_rsa_padding(Padding::PKCS1_OAEP)?;
        ctx.set_rsa_oaep_md(md)?;
        ctx.set_rsa_mgf1_md(Md::sha1())?;
        let mut out = Zeroizing::new(Vec::new());
        ctx.decrypt_to_vec(&wrapped, &mut out)?;
        Ok(out)
    };
    rsa().map_err(|_| fail("the content key does not decrypt"))
}

/// AES-CBC (IV first, XML Encryption padding) or AES-GCM (96-bit IV
/// first, 128-bit tag last).
fn decrypt_content(
    method: &str,
    key: &[u8],
    value: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SamlError> {
    let fail = |why: &str| SamlError::Decryption(why.to_owned());
    let (cipher, gcm) = match method.rsplit_once('#') {
        Some((ns, "aes128-cbc")) if ns == XENC.trim_end_matches('#') => {
            (Cipher::aes_128_cbc(), false)
        }
        Some((ns, "aes192-cbc")) if ns == XENC.trim_end_matches('#') => {
            (Cipher::aes_192_cbc(), false)
        }
        Some((ns, "aes256-cbc")) if ns == XENC.trim_end_matches('#') => {
            (Cipher::aes_256_cbc(), false)
        }
        Some((ns, "aes128-gcm")) if ns == XENC11.trim_end_matches('#') => {
            (Cipher::aes_128_gcm(), true)
        }
        Some((ns, "aes192-gcm")) if ns == XENC11.trim_end_matches('#') => {
            (Cipher::aes_192_gcm(), true)
        }
        Some((ns, "aes256-gcm")) if ns == XENC11.trim_end_matches('#') => {
            (Cipher::aes_256_gcm(), true)
        }
        _ => return Err(fail("unsupported content encryption")),
    };
    if key.len() != cipher.key_len() {
        return Err(fail("the content key has the wrong length"));
    }
    let iv_len = if gcm { 12 } else { 16 };
    let tag_len = if gcm { 16 } else { 0 };
    if value.len() < iv_len + tag_len + 1 {
        return Err(fail("the ciphertext is too short"));
    }
    let (iv, rest) = value.split_at(iv_len);
    let (body, tag) = rest.split_at(rest.len() - tag_len);
    let run = || -> Result<Zeroizing<Vec<u8>>, openssl::error::ErrorStack> {
        let mut c = Crypter::new(cipher, Mode::Decrypt, key, Some(iv))?;
        c.pad(false);
        if gcm {
            c.set_tag(tag)?;
        }
        let mut out = Zeroizing::new(vec![0_u8; body.len() + cipher.block_size()]);
        let n = c.update(body, &mut out)?;
        let m = c.finalize(out.get_mut(n..).unwrap_or_default())?;
        out.truncate(n + m);
        Ok(out)
    };
    let mut plain = run().map_err(|_| fail("the content does not decrypt"))?;
    if !gcm {
        // XML Encryption padding: the last byte says how many to drop.
        let pad = usize::from(plain.last().copied().unwrap_or(0));
        if pad == 0 || pad > 16 || pad > plain.len() {
            return Err(fail("the content does not decrypt"));
        }
        let keep = plain.len() - pad;
        plain.truncate(keep);
    }
    Ok(plain)
}
