//! Reducing a SAML response to the assertion its signature covers.
//!
//! Owns: [`verify`]. The document is first read by the strict reader
//! (`xml`: no DTD, no entities, limits) and its shape checked before
//! libxml2 and xmlsec see it:
//!
//! - the root is a `samlp:Response`; it holds exactly one `Assertion` or
//!   `EncryptedAssertion`, as a direct child, and no other assertion at
//!   any depth (an assertion beside or around the signed one is refused,
//!   not ignored);
//! - `ID` values are unique;
//! - every `ds:Signature` is a direct child of the response or of the
//!   assertion and signs exactly its parent: one `Reference` whose `URI`
//!   is `#` + the parent's `ID` (a moved signature is refused), with only
//!   the enveloped-signature and canonicalization transforms, RSA or ECDSA
//!   with SHA-2, and SHA-2 digests.
//!
//! Then samael's xmlsec binding verifies every signature against the
//! provider's certificates and returns the *pre-digest* bytes — exactly
//! what the signature covers, canonicalized — and only those bytes are
//! read again: a signed response yields its (single) assertion; an
//! unsigned response must carry a signed assertion. An
//! `EncryptedAssertion` is decrypted with the provider's SP key
//! (`decrypt`); the assertion inside must be signed unless the response
//! is. Imports samael, the siblings and `service::error`.

use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};

use super::decrypt::{self, DecryptionKey};
use super::error::SamlError;
use super::xml::{self, DS, Element, RESPONSE_LIMITS, SAML, SAMLP};

/// The signature algorithms accepted (SHA-1 is not).
const ALGORITHMS: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// Transforms and canonicalization methods a SAML signature may use.
const TRANSFORMS: &[&str] = &[
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
];

/// How the verified assertion was protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Protection {
    /// The response's own signature covered it.
    pub response_signed: bool,
    /// The assertion carried its own signature.
    pub assertion_signed: bool,
    /// It arrived as an `EncryptedAssertion`.
    pub encrypted: bool,
}

/// The assertion a verified signature covers.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The `saml:Assertion`, read from the verified bytes only.
    pub assertion: Element,
    /// How it was protected.
    pub protection: Protection,
}

/// Verifies `document` (the decoded `SAMLAssertion`) with `certs` and
/// returns the signed assertion.
///
/// # Errors
///
/// [`SamlError`]: `Xml` and `Shape` for documents refused before any
/// cryptography, `Signature` when no valid signature covers the
/// assertion, `Decryption`, and `IdpStatus` for a response whose status
/// is not Success.
pub(crate) fn verify(
    document: &str,
    certs: &[CertificateDer],
    key: Option<&DecryptionKey>,
) -> Result<Verified, SamlError> {
    let root = xml::parse(document, RESPONSE_LIMITS)?;
    if !root.is(SAMLP, "Response") {
        return Err(SamlError::Shape("the root is not a samlp:Response"));
    }
    unique_ids(&root)?;
    let assertion = single_assertion(&root)?;
    let response_signed = signatures_in_place(&root, assertion)?;
    check_status(&root)?;
    let encrypted = assertion.is(SAML, "EncryptedAssertion");
    if response_signed {
        let trusted = xml::parse(&reduce(document, certs)?, RESPONSE_LIMITS)?;
        if !trusted.is(SAMLP, "Response") || trusted.attr("ID") != root.attr("ID") {
            return Err(SamlError::Signature(
                "the signature does not cover the response".into(),
            ));
        }
        let inner = single_assertion(&trusted)?.clone();
        if encrypted {
            let plain = decrypt::assertion(&inner, key)?;
            return from_plaintext(&plain, certs, true);
        }
        let assertion_signed = inner.child(DS, "Signature").is_some();
        return Ok(Verified {
            assertion: inner,
            protection: Protection {
                response_signed,
                assertion_signed,
                encrypted,
            },
        });
    }
    if encrypted {
        let plain = decrypt::assertion(assertion, key)?;
        return from_plaintext(&plain, certs, false);
    }
    let trusted = signed_assertion(document, assertion, certs)?;
    Ok(Verified {
        assertion: trusted,
        protection: Protection {
            response_signed: false,
            assertion_signed: true,
            encrypted: false,
        },
    })
}

/// A decrypted assertion: verified on its own when it carries a
/// signature (it must, unless the response's signature covered it).
fn from_plaintext(
    plain: &str,
    certs: &[CertificateDer],
    response_signed: bool,
) -> Result<Verified, SamlError> {
    let root = xml::parse(plain, RESPONSE_LIMITS)?;
    if !root.is(SAML, "Assertion") {
        return Err(SamlError::Shape("the encrypted data is not an assertion"));
    }
    unique_ids(&root)?;
    if root.descendants().iter().skip(1).any(|e| is_assertion(e)) {
        return Err(SamlError::Shape("an assertion inside the assertion"));
    }
    let signed = signatures_in_place(&root, &root)?;
    let assertion = if signed {
        signed_assertion(plain, &root, certs)?
    } else if response_signed {
        root
    } else {
        return Err(SamlError::Signature(
            "neither the response nor the assertion is signed".into(),
        ));
    };
    Ok(Verified {
        assertion,
        protection: Protection {
            response_signed,
            assertion_signed: signed,
            encrypted: true,
        },
    })
}

/// Verifies the document whose only signature is `assertion`'s and reads
/// the assertion back from the signed bytes.
fn signed_assertion(
    document: &str,
    assertion: &Element,
    certs: &[CertificateDer],
) -> Result<Element, SamlError> {
    if assertion.child(DS, "Signature").is_none() {
        return Err(SamlError::Signature(
            "neither the response nor the assertion is signed".into(),
        ));
    }
    let trusted = xml::parse(&reduce(document, certs)?, RESPONSE_LIMITS)?;
    if !trusted.is(SAML, "Assertion") || trusted.attr("ID") != assertion.attr("ID") {
        return Err(SamlError::Signature(
            "the signature does not cover the assertion".into(),
        ));
    }
    Ok(trusted)
}

/// xmlsec: every signature in `document` must verify with one of `certs`;
/// returns the canonical bytes the (response's, if several) reference
/// covers.
fn reduce(document: &str, certs: &[CertificateDer]) -> Result<String, SamlError> {
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        document,
        certs,
        ReduceMode::PreDigest,
        Some(ALGORITHMS),
    )
    .map_err(|e| SamlError::Signature(e.to_string()))
}

/// Whether `e` is an assertion, plain or encrypted.
fn is_assertion(e: &Element) -> bool {
    e.is(SAML, "Assertion") || e.is(SAML, "EncryptedAssertion")
}

/// The response's one assertion: a direct child, and the only assertion
/// anywhere in the document.
fn single_assertion(root: &Element) -> Result<&Element, SamlError> {
    let total = root
        .descendants()
        .iter()
        .skip(1)
        .filter(|e| is_assertion(e))
        .count();
    let mut direct = root.elements().filter(|e| is_assertion(e));
    match (total, direct.next(), direct.next()) {
        (1, Some(a), None) => Ok(a),
        (0, _, _) => Err(SamlError::Shape("the response holds no assertion")),
        _ => Err(SamlError::Shape(
            "the response must hold exactly one assertion",
        )),
    }
}

/// Refuses a document in which two elements share an `ID`.
fn unique_ids(root: &Element) -> Result<(), SamlError> {
    let mut ids: Vec<&str> = root
        .descendants()
        .iter()
        .filter_map(|e| e.attr("ID"))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() == n {
        Ok(())
    } else {
        Err(SamlError::Shape("duplicated ID"))
    }
}

/// Checks that every signature sits directly in `root` or `assertion` and
/// signs its parent; returns whether `root` itself is signed.
fn signatures_in_place(root: &Element, assertion: &Element) -> Result<bool, SamlError> {
    let total = root
        .descendants()
        .iter()
        .filter(|e| e.is(DS, "Signature"))
        .count();
    let mut placed = 0;
    let mut root_signed = false;
    let parents: &[&Element] = if std::ptr::eq(root, assertion) {
        &[root]
    } else {
        &[root, assertion]
    };
    for (i, parent) in parents.iter().enumerate() {
        let sigs: Vec<&Element> = parent.children_named(DS, "Signature").collect();
        if sigs.len() > 1 {
            return Err(SamlError::Shape("two signatures on one element"));
        }
        for sig in sigs {
            check_signature(sig, parent)?;
            placed += 1;
            root_signed |= i == 0;
        }
    }
    if placed != total {
        return Err(SamlError::Shape(
            "a signature outside the response and assertion",
        ));
    }
    Ok(root_signed)
}

/// One signature: it signs exactly `parent`, with allowed algorithms.
fn check_signature(sig: &Element, parent: &Element) -> Result<(), SamlError> {
    let bad = SamlError::Shape("a signature that does not sign its parent element");
    let info = sig
        .child(DS, "SignedInfo")
        .ok_or(SamlError::Shape("a signature without SignedInfo"))?;
    let c14n = info
        .child(DS, "CanonicalizationMethod")
        .and_then(|m| m.attr("Algorithm"));
    if !c14n.is_some_and(|a| TRANSFORMS.contains(&a)) {
        return Err(SamlError::Shape(
            "a canonicalization method that is not allowed",
        ));
    }
    let mut refs = info.children_named(DS, "Reference");
    let (Some(reference), None) = (refs.next(), refs.next()) else {
        return Err(bad);
    };
    let id = parent
        .attr("ID")
        .filter(|id| !id.is_empty())
        .ok_or(SamlError::Shape("a signed element without ID"))?;
    if reference.attr("URI").and_then(|u| u.strip_prefix('#')) != Some(id) {
        return Err(bad);
    }
    let transforms = reference
        .child(DS, "Transforms")
        .map(|t| t.children_named(DS, "Transform").collect::<Vec<_>>())
        .unwrap_or_default();
    for t in transforms {
        if !t.attr("Algorithm").is_some_and(|a| TRANSFORMS.contains(&a)) {
            return Err(SamlError::Shape("a transform that is not allowed"));
        }
    }
    Ok(())
}

/// Refuses a response whose status is not Success.
fn check_status(root: &Element) -> Result<(), SamlError> {
    let code = root
        .child(SAMLP, "Status")
        .and_then(|s| s.child(SAMLP, "StatusCode"))
        .and_then(|c| c.attr("Value"));
    match code {
        None | Some("urn:oasis:names:tc:SAML:2.0:status:Success") => Ok(()),
        Some(other) => Err(SamlError::IdpStatus(other.to_owned())),
    }
}
