//! The signing keys of a SAML provider, from its stored metadata.
//!
//! Owns: [`ProviderKeys`] — the metadata's `entityID` and the X.509
//! certificates of its `IDPSSODescriptor`'s `KeyDescriptor`s for signing
//! (`use="signing"` or no `use`; at most [`MAX_SIGNING_KEYS`], as IAM
//! allows) — and [`MetadataCache`], which parses each metadata document
//! once and keeps the result by the document's SHA-256, so a rotation
//! (UpdateSAMLProvider with new certificates) takes effect on the next
//! request and every replica agrees. Imports the sibling `xml`, samael's
//! certificate type, ring and parking_lot.

use std::collections::HashMap;
use std::sync::Arc;

use data_encoding::BASE64;
use parking_lot::Mutex;
use samael::crypto::CertificateDer;

use super::xml::{self, DS, METADATA_LIMITS};

/// The SAML metadata namespace.
const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// IAM's limit on signing keys in one provider's metadata.
pub(crate) const MAX_SIGNING_KEYS: usize = 10;

/// Parsed metadata documents kept at most; the cache is emptied when full
/// (providers are few: at most 100 per account).
const CACHE_ENTRIES: usize = 1_024;

/// What verification needs from a provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderKeys {
    /// The metadata's `entityID`: the only accepted `Issuer`.
    pub entity_id: String,
    /// DER certificates whose keys may sign responses and assertions.
    pub certs: Vec<CertificateDer>,
}

/// Why metadata yields no keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MetadataError {
    /// Not metadata this reader understands.
    #[error("the provider's metadata does not parse: {0}")]
    Unreadable(String),
    /// No signing certificate, or more than IAM allows.
    #[error("the provider's metadata has {0} signing certificates (1 to 10 are allowed)")]
    SigningKeys(usize),
}

/// Parsed metadata by document hash.
#[derive(Debug, Default)]
pub(crate) struct MetadataCache {
    entries: Mutex<HashMap<[u8; 32], Arc<ProviderKeys>>>,
}

// === impl MetadataCache ===

impl MetadataCache {
    /// The keys of `document`, parsed now or earlier.
    ///
    /// # Errors
    ///
    /// [`MetadataError`] when the document yields no usable keys (not
    /// cached, so a fixed document is read again).
    pub(crate) fn keys(&self, document: &str) -> Result<Arc<ProviderKeys>, MetadataError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, document.as_bytes());
        let mut hash = [0_u8; 32];
        hash.copy_from_slice(digest.as_ref());
        if let Some(hit) = self.entries.lock().get(&hash) {
            return Ok(Arc::clone(hit));
        }
        let keys = Arc::new(parse(document)?);
        let mut entries = self.entries.lock();
        if entries.len() >= CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, Arc::clone(&keys));
        Ok(keys)
    }
}

/// Reads the entity ID and signing certificates of `document`.
///
/// # Errors
///
/// [`MetadataError`].
pub(crate) fn parse(document: &str) -> Result<ProviderKeys, MetadataError> {
    let root = xml::parse(document, METADATA_LIMITS)
        .map_err(|e| MetadataError::Unreadable(e.to_string()))?;
    if !root.is(MD, "EntityDescriptor") {
        return Err(MetadataError::Unreadable(
            "the root is not an EntityDescriptor".into(),
        ));
    }
    let entity_id = root
        .attr("entityID")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MetadataError::Unreadable("no entityID".into()))?
        .to_owned();
    let descriptors: Vec<_> = root.children_named(MD, "IDPSSODescriptor").collect();
    let key_descriptors = descriptors
        .iter()
        .flat_map(|d| d.children_named(MD, "KeyDescriptor"));
    let mut certs = Vec::new();
    for kd in key_descriptors {
        if !matches!(kd.attr("use"), None | Some("signing" | "")) {
            continue;
        }
        let texts = kd
            .children_named(DS, "KeyInfo")
            .flat_map(|k| k.children_named(DS, "X509Data"))
            .flat_map(|d| d.children_named(DS, "X509Certificate"));
        for cert in texts {
            let b64: String = cert.text().split_whitespace().collect();
            let der = BASE64
                .decode(b64.as_bytes())
                .map_err(|_| MetadataError::Unreadable("a certificate is not base64".into()))?;
            certs.push(CertificateDer::from(der));
        }
    }
    if certs.is_empty() || certs.len() > MAX_SIGNING_KEYS {
        return Err(MetadataError::SigningKeys(certs.len()));
    }
    Ok(ProviderKeys { entity_id, certs })
}
