//! Verification against responses a real IdP made: pysaml2 with xmlsec1
//! signed and encrypted `tests/fixtures/saml/*.xml` (regenerate with
//! `tests/python/saml_idp.py fixtures tests/fixtures/saml`); the checks
//! run at the time they were issued (`issued.txt`), not the wall clock.
#![expect(
    clippy::string_slice,
    reason = "the fixtures are ASCII; spans come from find"
)]

use super::assertion::{self, Claims, Expect};
use super::aws::AwsAttributes;
use super::decrypt::DecryptionKey;
use super::error::SamlError;
use super::metadata::{self, ProviderKeys};
use super::verify::{Protection, verify};
use super::*;

const METADATA: &str = include_str!("../../../../tests/fixtures/saml/metadata.xml");
const RESPONSE: &str = include_str!("../../../../tests/fixtures/saml/response.xml");
const ASSERTION: &str = include_str!("../../../../tests/fixtures/saml/assertion.xml");
const BOTH: &str = include_str!("../../../../tests/fixtures/saml/both.xml");
const ENCRYPTED: &str = include_str!("../../../../tests/fixtures/saml/encrypted.xml");
const ENCRYPTED_GCM: &str = include_str!("../../../../tests/fixtures/saml/encrypted-gcm.xml");
const UNSIGNED: &str = include_str!("../../../../tests/fixtures/saml/unsigned.xml");
const OTHER_KEY: &str = include_str!("../../../../tests/fixtures/saml/other-key.xml");
const SP_KEY: &str = include_str!("../../../../tests/fixtures/saml/sp.key");
const ISSUED: &str = include_str!("../../../../tests/fixtures/saml/issued.txt");
const ROLE: &str = "arn:aws:iam::123456789012:role/saml-role";
const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/idp";

fn keys() -> ProviderKeys {
    metadata::parse(METADATA).unwrap()
}

fn sp_key() -> DecryptionKey {
    DecryptionKey::from_pem(SP_KEY.as_bytes()).unwrap()
}

fn issued() -> i64 {
    ISSUED.trim().parse().unwrap()
}

fn check(doc: &str) -> Result<(Claims, Protection), SamlError> {
    let keys = keys();
    let key = sp_key();
    let verified = verify(doc, &keys.certs, Some(&key))?;
    let settings = SamlSettings::default();
    let expect = Expect {
        entity_id: &keys.entity_id,
        audiences: &settings.audiences,
        recipients: &settings.recipients,
        skew: 300,
        now: issued() + 5,
    };
    Ok((
        assertion::read(&verified.assertion, &expect)?,
        verified.protection,
    ))
}

/// The assertion element of a fixture: from its start tag to its end tag.
fn assertion_span(doc: &str) -> (usize, usize) {
    let start = doc.find("<ns1:Assertion ").unwrap();
    let end = doc.find("</ns1:Assertion>").unwrap() + "</ns1:Assertion>".len();
    (start, end)
}

#[test]
fn every_signature_placement_verifies() {
    for (doc, response_signed, assertion_signed, encrypted) in [
        (RESPONSE, true, false, false),
        (ASSERTION, false, true, false),
        (BOTH, true, true, false),
        (ENCRYPTED, false, true, true),
        (ENCRYPTED_GCM, false, true, true),
    ] {
        let (claims, p) = check(doc).unwrap();
        assert_eq!(
            (p.response_signed, p.assertion_signed, p.encrypted),
            (response_signed, assertion_signed, encrypted)
        );
        assert_eq!(claims.issuer, "https://idp.example.org/saml");
        assert_eq!(claims.subject, "alice@example.org");
        assert_eq!(claims.subject_type, "persistent");
        assert_eq!(claims.recipient, "https://signin.aws.amazon.com/saml");
        let aws = AwsAttributes::read(&claims.attributes, ROLE, PROVIDER).unwrap();
        assert_eq!(aws.session_name.as_str(), "alice");
    }
}

#[test]
fn attributes_become_tags_keys_and_durations() {
    let (claims, _) = check(ASSERTION).unwrap();
    let aws = AwsAttributes::read(&claims.attributes, ROLE, PROVIDER).unwrap();
    assert_eq!(aws.session_duration, Some(1800));
    assert_eq!(aws.tags.len(), 1);
    assert_eq!(
        aws.tags.first().map(|(k, v)| (k.as_str(), v.as_str())),
        Some(("team", "blue"))
    );
    assert_eq!(aws.transitive_tag_keys.len(), 1);
    assert_eq!(
        aws.source_identity.as_ref().map(|s| s.as_str()),
        Some("alice")
    );
    assert_eq!(
        AwsAttributes::read(
            &claims.attributes,
            "arn:aws:iam::123456789012:role/other",
            PROVIDER
        ),
        Err(SamlError::RoleNotInAssertion)
    );
    let keys = crate::domain::saml::attribute_keys(&claims.attributes);
    assert_eq!(
        keys,
        vec![("saml:mail".to_owned(), vec!["alice@example.org".to_owned()])]
    );
}

#[test]
fn unsigned_and_foreign_signatures_are_refused() {
    assert!(matches!(check(UNSIGNED), Err(SamlError::Signature(_))));
    assert!(matches!(check(OTHER_KEY), Err(SamlError::Signature(_))));
    // A signed document changed after signing.
    let tampered = ASSERTION.replace("alice@example.org", "admin@example.org");
    assert!(matches!(check(&tampered), Err(SamlError::Signature(_))));
    let tampered = RESPONSE.replace("alice@example.org", "admin@example.org");
    assert!(matches!(check(&tampered), Err(SamlError::Signature(_))));
}

#[test]
fn signature_wrapping_is_refused() {
    let (start, end) = assertion_span(ASSERTION);
    let signed = &ASSERTION[start..end];
    let evil = UNSIGNED[assertion_span(UNSIGNED).0..assertion_span(UNSIGNED).1]
        .replace("alice@example.org", "admin@example.org")
        .replacen("ID=\"", "ID=\"evil-", 1);
    // An unsigned assertion beside the signed one, before and after.
    for doc in [
        format!("{}{evil}{}", &ASSERTION[..start], &ASSERTION[start..]),
        format!("{}{evil}{}", &ASSERTION[..end], &ASSERTION[end..]),
    ] {
        assert_eq!(
            check(&doc).unwrap_err(),
            SamlError::Shape("the response must hold exactly one assertion")
        );
    }
    // An unsigned assertion wrapping the signed one (in its Subject).
    let wrapped = evil.replacen("<ns1:Subject>", &format!("<ns1:Subject>{signed}"), 1);
    let doc = format!("{}{wrapped}{}", &ASSERTION[..start], &ASSERTION[end..]);
    assert!(
        matches!(check(&doc), Err(SamlError::Shape(_))),
        "{:?}",
        check(&doc)
    );
    // The signature moved into the attacker's assertion (referencing the
    // signed one, hidden in an Extensions element).
    let sig_start = signed.find("<ns2:Signature").unwrap();
    let sig_end = signed.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    let signature = &signed[sig_start..sig_end];
    let moved = evil.replacen("</ns1:Issuer>", &format!("</ns1:Issuer>{signature}"), 1);
    let doc = format!("{}{moved}{}", &ASSERTION[..start], &ASSERTION[end..]);
    assert!(
        matches!(check(&doc), Err(SamlError::Shape(_))),
        "{:?}",
        check(&doc)
    );
    let hidden = format!(
        "{}<ns0:Extensions>{signed}</ns0:Extensions>{moved}{}",
        &ASSERTION[..start],
        &ASSERTION[end..]
    );
    assert!(matches!(check(&hidden), Err(SamlError::Shape(_))));
    // Duplicated IDs: the attacker's assertion carries the signed one's ID.
    let id = signed
        .split("ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let twin = evil.replacen("ID=\"evil-", "ID=\"", 1);
    let twin = twin.replacen(
        &twin
            .split("ID=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned(),
        id,
        1,
    );
    let doc = format!("{}{twin}{}", &ASSERTION[..start], &ASSERTION[start..]);
    assert_eq!(check(&doc).unwrap_err(), SamlError::Shape("duplicated ID"));
}

#[test]
fn comments_in_the_name_id_do_not_truncate_it() {
    let doc = ASSERTION.replacen(
        "alice@example.org</ns1:NameID>",
        "alice<!---->@example.org</ns1:NameID>",
        1,
    );
    let (claims, _) = check(&doc).unwrap();
    assert_eq!(claims.subject, "alice@example.org");
}

#[test]
fn hostile_xml_is_refused_before_xmlsec() {
    let laughs = ASSERTION.replacen(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
        1,
    );
    assert_eq!(
        check(&laughs).unwrap_err(),
        SamlError::Xml(super::xml::XmlError::Forbidden("a DTD"))
    );
    let external = ASSERTION.replacen("alice@example.org<", "&xxe;<", 1);
    assert_eq!(
        check(&external).unwrap_err(),
        SamlError::Xml(super::xml::XmlError::Forbidden("an entity reference"))
    );
}

#[test]
fn audience_recipient_and_time_are_checked() {
    let keys = keys();
    let verified = verify(ASSERTION, &keys.certs, None).unwrap();
    let base = SamlSettings::default();
    let expect = |audiences: &[String], recipients: &[String], now: i64| {
        let e = Expect {
            entity_id: &keys.entity_id,
            audiences,
            recipients,
            skew: 300,
            now,
        };
        assertion::read(&verified.assertion, &e).map(|_| ())
    };
    let now = issued();
    assert_eq!(expect(&base.audiences, &base.recipients, now), Ok(()));
    assert_eq!(
        expect(&["x".to_owned()], &base.recipients, now),
        Err(SamlError::Audience)
    );
    assert!(matches!(
        expect(&base.audiences, &["x".to_owned()], now),
        Err(SamlError::Recipient(_))
    ));
    // pysaml2's lifetime is 15 minutes; the skew adds 5.
    assert_eq!(
        expect(&base.audiences, &base.recipients, now + 19 * 60),
        Ok(())
    );
    assert_eq!(
        expect(&base.audiences, &base.recipients, now + 21 * 60),
        Err(SamlError::Expired)
    );
    assert_eq!(
        expect(&base.audiences, &base.recipients, now - 6 * 60),
        Err(SamlError::NotYetValid)
    );
    let wrong_issuer = Expect {
        entity_id: "https://other.example.org",
        audiences: &base.audiences,
        recipients: &base.recipients,
        skew: 300,
        now,
    };
    assert!(matches!(
        assertion::read(&verified.assertion, &wrong_issuer),
        Err(SamlError::Issuer(_))
    ));
}

#[test]
fn encrypted_assertions_need_the_sp_key() {
    let keys = keys();
    assert!(matches!(
        verify(ENCRYPTED, &keys.certs, None),
        Err(SamlError::Decryption(_))
    ));
    let other = openssl::rsa::Rsa::generate(2048)
        .unwrap()
        .private_key_to_pem()
        .unwrap();
    let wrong = DecryptionKey::from_pem(&other).unwrap();
    assert!(matches!(
        verify(ENCRYPTED, &keys.certs, Some(&wrong)),
        Err(SamlError::Decryption(_))
    ));
    assert_eq!(format!("{:?}", sp_key()), "DecryptionKey(<redacted>)");
}

#[test]
fn metadata_with_several_keys_rotates() {
    let keys = keys();
    let cert = keys.certs.first().unwrap();
    let body = data_encoding::BASE64.encode(cert.der_data());
    let other = include_str!("../../../../tests/fixtures/saml/idp.crt");
    assert!(other.contains("BEGIN CERTIFICATE"));
    let doubled = METADATA.replacen(
        "<md:KeyDescriptor use=\"signing\">",
        &format!(
            "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor use=\"encryption\"/><md:KeyDescriptor use=\"signing\">"
        ),
        1,
    );
    assert_eq!(metadata::parse(&doubled).unwrap().certs.len(), 2);
    let cache = metadata::MetadataCache::default();
    let a = cache.keys(METADATA).unwrap();
    let b = cache.keys(METADATA).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert_eq!(cache.keys(&doubled).unwrap().certs.len(), 2);
}
