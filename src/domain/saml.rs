//! The rules of AssumeRoleWithSAML that need no XML and no I/O.
//!
//! Owns: [`name_qualifier`] (`base64(SHA-1(Issuer ‖ account ‖ "/" ‖
//! provider name))`), [`subject_type`] (a NameID format as AWS reports
//! it), [`role_pair`] (one value of the `Role` attribute, in either
//! order), [`attribute_key`] (the `saml:*` condition key an attribute
//! feeds: eduPerson/X.500 OIDs, well-known claim URIs and the friendly
//! names of reference 7.3), and the validity window of an assertion
//! ([`Window`]) checked against `now` with a skew. The XML, the signature
//! and the store live in `service::sts::saml`.
//!
//! The AuthnRequest of SP-initiated browser sign-in is [`authn_request`].
//!
//! Pure: std, ring (SHA-1 for the qualifier), flate2 and data-encoding only.
//! Spec: reference sections 7.3 and 8.

pub mod authn_request;

use data_encoding::BASE64;

/// The prefix AWS strips from SAML 2.0 NameID formats in `SubjectType`.
pub const NAMEID_FORMAT_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";

/// The NameID format of a NameID that names none (SAML core 8.3.1).
pub const UNSPECIFIED_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// The prefix of the AWS attributes (`Role`, `RoleSessionName`, …).
pub const AWS_ATTRIBUTE_PREFIX: &str = "https://aws.amazon.com/SAML/Attributes/";

/// `NameQualifier`: base64 of SHA-1 over the issuer, the account, `/` and
/// the provider's name (reference 8).
pub fn name_qualifier(issuer: &str, account: &str, provider_name: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(issuer.as_bytes());
    ctx.update(account.as_bytes());
    ctx.update(b"/");
    ctx.update(provider_name.as_bytes());
    BASE64.encode(ctx.finish().as_ref())
}

/// `SubjectType` (and `saml:sub_type`): a SAML 2.0 format without its
/// `urn:oasis:names:tc:SAML:2.0:nameid-format:` prefix (`persistent`,
/// `transient`, …), any other format verbatim, and the SAML 1.1
/// `unspecified` URI when the NameID names no format.
pub fn subject_type(format: Option<&str>) -> String {
    match format {
        None => UNSPECIFIED_FORMAT.to_owned(),
        Some(f) => f.strip_prefix(NAMEID_FORMAT_PREFIX).unwrap_or(f).to_owned(),
    }
}

/// One value of the `Role` attribute: `(role ARN, provider ARN)`, whichever
/// order the IdP wrote them in (`roleArn,providerArn` or the reverse);
/// `None` when the value is not a role ARN and a SAML provider ARN
/// separated by one comma.
pub fn role_pair(value: &str) -> Option<(&str, &str)> {
    // Role names may contain commas, provider names may not: the comma
    // that separates is the one next to the provider ARN.
    let is_role = |s: &str| resource(s).is_some_and(|r| r.starts_with("role/"));
    let is_provider =
        |s: &str| !s.contains(',') && resource(s).is_some_and(|r| r.starts_with("saml-provider/"));
    if let Some((a, b)) = value.rsplit_once(',')
        && is_role(a.trim())
        && is_provider(b.trim())
    {
        return Some((a.trim(), b.trim()));
    }
    if let Some((a, b)) = value.split_once(',')
        && is_provider(a.trim())
        && is_role(b.trim())
    {
        return Some((b.trim(), a.trim()));
    }
    None
}

/// The resource part of an `arn:<partition>:iam::<account>:<resource>`.
fn resource(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (scheme, _partition, service, region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (_account, resource) = (parts.next()?, parts.next()?);
    (scheme == "arn" && service == "iam" && region.is_empty()).then_some(resource)
}

/// How an attribute feeds a `saml:*` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeKey {
    /// The key's name after `saml:`.
    pub key: &'static str,
    /// Whether the key takes every value (`saml:cn[]` …) or only the first.
    pub multivalued: bool,
}

/// `(key, multivalued, attribute names)`: the attribute-derived keys of
/// reference 7.3, each with the OID, the claim URI and the friendly name
/// that feed it.
const KEYS: &[(&str, bool, &[&str])] = &[
    ("cn", true, &["urn:oid:2.5.4.3", "cn"]),
    (
        "commonName",
        false,
        &["http://schemas.xmlsoap.org/claims/CommonName", "commonName"],
    ),
    (
        "givenName",
        false,
        &[
            "urn:oid:2.5.4.42",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
            "givenName",
        ],
    ),
    (
        "surname",
        false,
        &[
            "urn:oid:2.5.4.4",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
            "surname",
        ],
    ),
    (
        "mail",
        false,
        &[
            "urn:oid:0.9.2342.19200300.100.1.3",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            "mail",
        ],
    ),
    (
        "name",
        false,
        &[
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
            "name",
        ],
    ),
    ("uid", false, &["urn:oid:0.9.2342.19200300.100.1.1", "uid"]),
    (
        "x500UniqueIdentifier",
        false,
        &["urn:oid:2.5.4.45", "x500UniqueIdentifier"],
    ),
    ("organizationStatus", false, &["organizationStatus"]),
    (
        "primaryGroupSID",
        false,
        &[
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid",
            "primaryGroupSID",
        ],
    ),
    (
        "edupersonaffiliation",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "eduPersonAffiliation"],
    ),
    (
        "edupersonnickname",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.2", "eduPersonNickname"],
    ),
    (
        "edupersonorgdn",
        false,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.3", "eduPersonOrgDN"],
    ),
    (
        "edupersonorgunitdn",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.4", "eduPersonOrgUnitDN"],
    ),
    (
        "edupersonprimaryaffiliation",
        false,
        &[
            "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
            "eduPersonPrimaryAffiliation",
        ],
    ),
    (
        "edupersonprincipalname",
        false,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "eduPersonPrincipalName"],
    ),
    (
        "edupersonentitlement",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.7", "eduPersonEntitlement"],
    ),
    (
        "edupersonprimaryorgunitdn",
        false,
        &[
            "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
            "eduPersonPrimaryOrgUnitDN",
        ],
    ),
    (
        "edupersonscopedaffiliation",
        true,
        &[
            "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
            "eduPersonScopedAffiliation",
        ],
    ),
    (
        "edupersontargetedid",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.10", "eduPersonTargetedID"],
    ),
    (
        "edupersonassurance",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.1.1.11", "eduPersonAssurance"],
    ),
    (
        "eduorghomepageuri",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.2.1.2", "eduOrgHomePageURI"],
    ),
    (
        "eduorgidentityauthnpolicyuri",
        true,
        &[
            "urn:oid:1.3.6.1.4.1.5923.1.2.1.3",
            "eduOrgIdentityAuthNPolicyURI",
        ],
    ),
    (
        "eduorglegalname",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.2.1.4", "eduOrgLegalName"],
    ),
    (
        "eduorgsuperioruri",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.2.1.5", "eduOrgSuperiorURI"],
    ),
    (
        "eduorgwhitepagesuri",
        true,
        &["urn:oid:1.3.6.1.4.1.5923.1.2.1.6", "eduOrgWhitePagesURI"],
    ),
];

/// The `saml:*` key the attribute `name` feeds, if any (names are exact and
/// case-sensitive, as AWS matches them).
pub fn attribute_key(name: &str) -> Option<AttributeKey> {
    KEYS.iter()
        .find(|(_, _, names)| names.contains(&name))
        .map(|&(key, multivalued, _)| AttributeKey { key, multivalued })
}

/// The attribute-derived `saml:*` keys of `attributes` (name, values), in
/// the order of reference 7.3's list: only the first attribute feeding a
/// key counts (AWS maps one claim per key), a single-valued key takes the
/// first value, and attributes with no value feed nothing.
pub fn attribute_keys(attributes: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (name, values) in attributes {
        let Some(k) = attribute_key(name) else {
            continue;
        };
        let full = format!("saml:{}", k.key);
        if values.is_empty() || out.iter().any(|(n, _)| *n == full) {
            continue;
        }
        let values = if k.multivalued {
            values.clone()
        } else {
            values.iter().take(1).cloned().collect()
        };
        out.push((full, values));
    }
    out
}

/// Why an assertion is outside its validity window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// `now` is before `NotBefore` by more than the skew.
    NotYetValid,
    /// `now` is at or after `NotOnOrAfter` plus the skew.
    Expired,
}

/// An assertion's validity window, in seconds since the epoch: the latest
/// `NotBefore` and the earliest `NotOnOrAfter` of its conditions and its
/// bearer confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Not valid before this.
    pub not_before: Option<i64>,
    /// Not valid at or after this.
    pub not_on_or_after: Option<i64>,
}

impl Window {
    /// Narrows the window to also end at `not_on_or_after` and start at
    /// `not_before`.
    pub fn narrow(self, not_before: Option<i64>, not_on_or_after: Option<i64>) -> Self {
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        let max = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        Self {
            not_before: max(self.not_before, not_before),
            not_on_or_after: min(self.not_on_or_after, not_on_or_after),
        }
    }

    /// Checks `now` against the window, each bound widened by `skew`
    /// seconds.
    ///
    /// # Errors
    ///
    /// [`WindowError`] when `now` is outside.
    pub fn check(self, now: i64, skew: i64) -> Result<(), WindowError> {
        if let Some(nb) = self.not_before
            && now.saturating_add(skew) < nb
        {
            return Err(WindowError::NotYetValid);
        }
        if let Some(end) = self.not_on_or_after
            && now >= end.saturating_add(skew)
        {
            return Err(WindowError::Expired);
        }
        Ok(())
    }

    /// The last second (exclusive) at which [`Window::check`] accepts:
    /// until then an assertion ID must be remembered.
    pub fn accepted_until(self, skew: i64) -> Option<i64> {
        self.not_on_or_after.map(|end| end.saturating_add(skew))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_qualifier_matches_the_reference_example() {
        assert_eq!(
            name_qualifier("https://idp.example.org/saml", "111122223333", "ExampleIdP"),
            "2PDxrs0dXbeM7ITC+0x0D5V9lbA="
        );
    }

    #[test]
    fn subject_types() {
        assert_eq!(
            subject_type(Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")),
            "persistent"
        );
        assert_eq!(
            subject_type(Some(
                "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
            )),
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        );
        assert_eq!(subject_type(None), UNSPECIFIED_FORMAT);
    }

    #[test]
    fn role_pairs_in_either_order() {
        let role = "arn:aws:iam::111122223333:role/Admin";
        let idp = "arn:aws:iam::111122223333:saml-provider/Corp";
        assert_eq!(role_pair(&format!("{role},{idp}")), Some((role, idp)));
        assert_eq!(role_pair(&format!("{idp}, {role}")), Some((role, idp)));
        assert_eq!(role_pair(role), None);
        assert_eq!(role_pair(&format!("{role},{role}")), None);
        assert_eq!(role_pair(&format!("{role},{idp},x")), None);
        let comma = "arn:aws:iam::111122223333:role/a,b";
        assert_eq!(role_pair(&format!("{comma},{idp}")), Some((comma, idp)));
        assert_eq!(role_pair(&format!("{idp},{comma}")), Some((comma, idp)));
        assert_eq!(
            role_pair("arn:aws:s3:::role/x,arn:aws:iam::1:saml-provider/C"),
            None
        );
    }

    #[test]
    fn attributes_map_to_keys_once() {
        let attrs = vec![
            (
                "urn:oid:1.3.6.1.4.1.5923.1.1.1.3".to_owned(),
                vec!["o=x".to_owned()],
            ),
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress".to_owned(),
                vec!["a@x".to_owned(), "b@x".to_owned()],
            ),
            ("mail".to_owned(), vec!["c@x".to_owned()]),
            (
                "urn:oid:2.5.4.3".to_owned(),
                vec!["A".to_owned(), "B".to_owned()],
            ),
            ("Unmapped".to_owned(), vec!["z".to_owned()]),
        ];
        assert_eq!(
            attribute_keys(&attrs),
            vec![
                ("saml:edupersonorgdn".to_owned(), vec!["o=x".to_owned()]),
                ("saml:mail".to_owned(), vec!["a@x".to_owned()]),
                ("saml:cn".to_owned(), vec!["A".to_owned(), "B".to_owned()]),
            ]
        );
    }

    #[test]
    fn windows() {
        let w = Window::default()
            .narrow(Some(100), Some(200))
            .narrow(None, Some(150));
        assert_eq!(
            w,
            Window {
                not_before: Some(100),
                not_on_or_after: Some(150)
            }
        );
        assert_eq!(w.check(95, 10), Ok(()));
        assert_eq!(w.check(89, 10), Err(WindowError::NotYetValid));
        assert_eq!(w.check(159, 10), Ok(()));
        assert_eq!(w.check(160, 10), Err(WindowError::Expired));
        assert_eq!(w.accepted_until(10), Some(160));
    }
}
