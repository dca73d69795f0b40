//! The token pipeline against tokens signed here with ring, with every
//! allow-listed algorithm and the hostile shapes of issue 5.

use data_encoding::BASE64URL_NOPAD as B64;
use ring::signature as sig;
use serde_json::{Value, json};

use super::testing::{RSA_A, RSA_B, Signer, compact, keyset, token};
use super::*;

const ISS: &str = "https://idp.example.com/tenant";
const NOW: u64 = 1_800_000_000;
const LIMITS: TimeLimits = TimeLimits {
    skew: 60,
    max_age: None,
};

fn claims() -> Value {
    json!({"iss": ISS, "sub": "system:serviceaccount:ns:app", "aud": "sts.amazonaws.com",
        "iat": NOW - 10, "exp": NOW + 600})
}

fn run(t: &WebIdentityToken, keys: &KeySet) -> Result<VerifiedClaims, TokenError> {
    let header = peek(t)?;
    verify(
        t,
        &header,
        keys,
        &["sts.amazonaws.com".to_owned()],
        NOW,
        LIMITS,
    )
}

fn with(mut base: Value, changes: &Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

#[test]
fn every_allowed_algorithm_verifies() {
    let rsa = Signer::rsa(RSA_A);
    let p256 = Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING);
    let p384 = Signer::ec(&sig::ECDSA_P384_SHA384_FIXED_SIGNING);
    let ed = Signer::ed();
    let keys = keyset(&[
        rsa.jwk("r"),
        p256.jwk("p256"),
        p384.jwk("p384"),
        ed.jwk("ed"),
    ]);
    assert_eq!(keys.len(), 4);
    for (signer, alg, kid) in [
        (&rsa, "RS256", "r"),
        (&rsa, "RS384", "r"),
        (&rsa, "RS512", "r"),
        (&rsa, "PS256", "r"),
        (&rsa, "PS384", "r"),
        (&rsa, "PS512", "r"),
        (&p256, "ES256", "p256"),
        (&p384, "ES384", "p384"),
        (&ed, "EdDSA", "ed"),
    ] {
        let verified = run(&token(signer, alg, kid, &claims()), &keys)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(verified.issuer, ISS);
        assert_eq!(verified.subject, "system:serviceaccount:ns:app");
        assert_eq!(verified.audience, "sts.amazonaws.com");
        assert_eq!(verified.expires_at, NOW + 600);
    }
}

#[test]
fn none_and_hmac_are_refused_before_any_key_is_used() {
    let rsa = Signer::rsa(RSA_A);
    let keys = keyset(&[rsa.jwk("r")]);
    let unsigned = format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(claims().to_string().as_bytes())
    );
    let e = run(&WebIdentityToken::new(unsigned), &keys).unwrap_err();
    assert_eq!(e, TokenError::AlgorithmNotAllowed { alg: "none".into() });
    // HS256 "signed" with the provider's public key (its JWK's modulus and
    // the whole JWK text) as the HMAC secret: the classic confusion attack.
    for secret in [
        rsa.jwk("r")["n"].as_str().unwrap().as_bytes().to_vec(),
        rsa.jwk("r").to_string().into_bytes(),
    ] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
        let header = json!({"alg": "HS256", "kid": "r"});
        let t = compact(&header, &claims(), |m| {
            ring::hmac::sign(&key, m).as_ref().to_vec()
        });
        let e = run(&WebIdentityToken::new(t), &keys).unwrap_err();
        assert_eq!(
            e,
            TokenError::AlgorithmNotAllowed {
                alg: "HS256".into()
            }
        );
    }
    for alg in ["HS384", "HS512", "RS1", "ES512", ""] {
        let t = compact(&json!({"alg": alg}), &claims(), |_| vec![1, 2, 3]);
        assert!(matches!(
            run(&WebIdentityToken::new(t), &keys),
            Err(TokenError::AlgorithmNotAllowed { .. })
        ));
    }
}

#[test]
fn keys_are_selected_by_kid_and_algorithm() {
    let (a, b) = (Signer::rsa(RSA_A), Signer::rsa(RSA_B));
    let keys = keyset(&[a.jwk("a"), b.jwk("b")]);
    assert!(run(&token(&b, "RS256", "b", &claims()), &keys).is_ok());
    // Unknown kid: the caller may refetch the set.
    let e = run(&token(&a, "RS256", "c", &claims()), &keys).unwrap_err();
    assert_eq!(e, TokenError::UnknownKey { kid: "c".into() });
    // Signed by b, labelled a.
    let e = run(&token(&b, "RS256", "a", &claims()), &keys).unwrap_err();
    assert_eq!(e, TokenError::BadSignature);
    // An RSA kid with an EC algorithm fits no key.
    let p256 = Signer::ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING);
    let e = run(&token(&p256, "ES256", "a", &claims()), &keys).unwrap_err();
    assert!(matches!(e, TokenError::UnknownKey { .. }));
    // Without a kid: only when exactly one key fits.
    let header = json!({"alg": "RS256"});
    let t = WebIdentityToken::new(compact(&header, &claims(), |m| a.sign("RS256", m)));
    assert!(matches!(run(&t, &keys), Err(TokenError::UnknownKey { .. })));
    assert!(run(&t, &keyset(&[a.jwk("a")])).is_ok());
    // A key declaring RS256 is not used for PS256.
    let mut declared = a.jwk("a");
    declared["alg"] = json!("RS256");
    let keys = keyset(&[declared]);
    assert!(run(&token(&a, "RS256", "a", &claims()), &keys).is_ok());
    assert!(matches!(
        run(&token(&a, "PS256", "a", &claims()), &keys),
        Err(TokenError::UnknownKey { .. })
    ));
}

#[test]
fn tampering_breaks_the_signature() {
    let a = Signer::rsa(RSA_A);
    let keys = keyset(&[a.jwk("a")]);
    let good = token(&a, "RS256", "a", &claims());
    let parts: Vec<&str> = good.expose_secret().split('.').collect();
    let forged = with(claims(), &json!({"sub": "admin"}));
    let t = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(forged.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        run(&WebIdentityToken::new(t), &keys).unwrap_err(),
        TokenError::BadSignature
    );
}

#[test]
fn garbage_is_malformed() {
    let keys = keyset(&[Signer::rsa(RSA_A).jwk("a")]);
    let header = B64.encode(br#"{"alg":"RS256","kid":"a"}"#);
    let payload = B64.encode(claims().to_string().as_bytes());
    for bad in [
        "abcd".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "!!!.???.***".to_owned(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}."),
        format!("{header}.!!!.c2ln"),
        format!("{}.{payload}.c2ln", B64.encode(b"[1,2]")),
        format!(
            "{}.{payload}.c2ln",
            B64.encode(br#"{"alg":"RS256","crit":["x"]}"#)
        ),
        format!("{header}.{}.c2ln", B64.encode(b"not json")),
        format!("{header}.{payload}.!!"),
    ] {
        let e = run(&WebIdentityToken::new(bad.clone()), &keys).unwrap_err();
        assert!(
            matches!(e, TokenError::Malformed { .. } | TokenError::BadSignature),
            "{bad}: {e:?}"
        );
    }
    let no_iss = format!("{header}.{}.c2ln", B64.encode(br#"{"sub":"x"}"#));
    assert_eq!(
        peek(&WebIdentityToken::new(no_iss)).unwrap_err(),
        TokenError::MissingClaim { claim: "iss" }
    );
}

#[test]
fn header_quirks_are_refused_in_peek() {
    let payload = B64.encode(claims().to_string().as_bytes());
    for header in [
        // An array would fill a struct positionally.
        r#"["RS256","a",null]"#,
        // A critical extension is refused even when null.
        r#"{"alg":"RS256","kid":"a","crit":null}"#,
        r#"{"alg":"RS256","kid":null}"#,
        r#"{"alg":"RS256","kid":7}"#,
        r#"{"kid":"a"}"#,
    ] {
        let t = WebIdentityToken::new(format!("{}.{payload}.c2ln", B64.encode(header.as_bytes())));
        assert!(
            matches!(peek(&t).unwrap_err(), TokenError::Malformed { .. }),
            "{header}"
        );
    }
}

#[test]
fn a_header_peeked_from_another_token_is_refused() {
    let a = Signer::rsa(RSA_A);
    let keys = keyset(&[a.jwk("a"), a.jwk("b")]);
    let good = token(&a, "RS256", "a", &claims());
    let other = token(&a, "RS256", "b", &claims());
    let e = verify(
        &good,
        &peek(&other).unwrap(),
        &keys,
        &["sts.amazonaws.com".to_owned()],
        NOW,
        LIMITS,
    )
    .unwrap_err();
    assert!(matches!(e, TokenError::Malformed { .. }), "{e:?}");
    assert!(run(&good, &keys).is_ok());
    assert!(run(&other, &keys).is_ok());
}

#[test]
fn times_are_checked_against_now_with_the_skew() {
    let a = Signer::rsa(RSA_A);
    let keys = keyset(&[a.jwk("a")]);
    let check = |changes: Value| run(&token(&a, "RS256", "a", &with(claims(), &changes)), &keys);
    assert_eq!(
        check(json!({"exp": NOW - 61})).unwrap_err(),
        TokenError::Expired {
            now: NOW,
            exp: NOW - 61
        }
    );
    assert_eq!(
        check(json!({"exp": NOW - 60})).unwrap_err(),
        TokenError::Expired {
            now: NOW,
            exp: NOW - 60
        }
    );
    assert!(check(json!({"exp": NOW - 59})).is_ok(), "within the skew");
    assert_eq!(
        check(json!({"exp": null})).unwrap_err(),
        TokenError::MissingClaim { claim: "exp" }
    );
    for bad in [json!(1.5e9), json!("1800000600"), json!(-5)] {
        assert!(matches!(
            check(json!({ "exp": bad })).unwrap_err(),
            TokenError::InvalidClaim { .. }
        ));
    }
    assert_eq!(
        check(json!({"nbf": NOW + 61})).unwrap_err(),
        TokenError::NotYetValid {
            now: NOW,
            nbf: NOW + 61
        }
    );
    assert!(check(json!({"nbf": NOW + 60})).is_ok());
    assert_eq!(
        check(json!({"iat": NOW + 120})).unwrap_err(),
        TokenError::IssuedInFuture {
            now: NOW,
            iat: NOW + 120
        }
    );
    let t = token(
        &a,
        "RS256",
        "a",
        &with(claims(), &json!({"iat": NOW - 7200})),
    );
    let strict = TimeLimits {
        skew: 0,
        max_age: Some(3600),
    };
    let e = verify(
        &t,
        &peek(&t).unwrap(),
        &keys,
        &["sts.amazonaws.com".into()],
        NOW,
        strict,
    )
    .unwrap_err();
    assert_eq!(e, TokenError::TooOld { iat: NOW - 7200 });
}

#[test]
fn subject_and_audience_rules() {
    let a = Signer::rsa(RSA_A);
    let keys = keyset(&[a.jwk("a")]);
    let check = |changes: Value| run(&token(&a, "RS256", "a", &with(claims(), &changes)), &keys);
    assert_eq!(
        check(json!({"sub": null})).unwrap_err(),
        TokenError::MissingClaim { claim: "sub" }
    );
    for bad in [json!(""), json!(7), json!("x".repeat(256))] {
        assert!(matches!(
            check(json!({ "sub": bad })).unwrap_err(),
            TokenError::InvalidClaim { .. }
        ));
    }
    assert_eq!(
        check(json!({"aud": "someone-else"})).unwrap_err(),
        TokenError::Audience
    );
    assert_eq!(
        check(json!({"aud": null})).unwrap_err(),
        TokenError::MissingClaim { claim: "aud" }
    );
    let many = check(json!({"aud": ["other", "sts.amazonaws.com"]})).unwrap();
    assert_eq!(many.audience, "sts.amazonaws.com");
    // azp alone, or azp naming the client when aud does not.
    let azp = check(json!({"aud": "other", "azp": "sts.amazonaws.com"})).unwrap();
    assert_eq!(azp.audience, "sts.amazonaws.com");
    let keys_of = claims::condition_keys("idp.example.com/tenant", &azp);
    assert_eq!(
        keys_of,
        vec![
            (
                "idp.example.com/tenant:sub".to_owned(),
                vec!["system:serviceaccount:ns:app".to_owned()]
            ),
            (
                "idp.example.com/tenant:aud".to_owned(),
                vec!["sts.amazonaws.com".to_owned()]
            ),
            (
                "idp.example.com/tenant:azp".to_owned(),
                vec!["sts.amazonaws.com".to_owned()]
            ),
            (
                "idp.example.com/tenant:oaud".to_owned(),
                vec!["other".to_owned()]
            ),
        ]
    );
    let amr = check(json!({"amr": ["pwd", "mfa"]})).unwrap();
    let keys_of = claims::condition_keys("h", &amr);
    assert!(keys_of.contains(&("h:amr".to_owned(), vec!["pwd".to_owned(), "mfa".to_owned()])));
    assert!(keys_of.contains(&("h:aud".to_owned(), vec!["sts.amazonaws.com".to_owned()])));
}

#[test]
fn aws_tags_and_source_identity_claims() {
    let a = Signer::rsa(RSA_A);
    let keys = keyset(&[a.jwk("a")]);
    let check = |changes: Value| run(&token(&a, "RS256", "a", &with(claims(), &changes)), &keys);
    let v = check(json!({
        claims::TAGS_CLAIM: {"principal_tags": {"team": ["blue"], "cost": ["42"]},
                             "transitive_tag_keys": ["team"]},
        claims::SOURCE_IDENTITY_CLAIM: "alice@example.com",
        "groups": ["dev", "ops"], "email_verified": true, "nested": {"x": 1}
    }))
    .unwrap();
    let tags = claims::aws_tags(&v).unwrap();
    let shown: Vec<(String, String)> = tags
        .tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(shown.contains(&("team".into(), "blue".into())));
    assert!(shown.contains(&("cost".into(), "42".into())));
    assert_eq!(tags.transitive_keys.len(), 1);
    assert_eq!(
        claims::source_identity(&v).unwrap().unwrap().as_str(),
        "alice@example.com"
    );
    let flat = claims::flattened(&v);
    assert!(flat.contains(&("groups".into(), vec!["dev".into(), "ops".into()])));
    assert!(flat.contains(&("email_verified".into(), vec!["true".into()])));
    assert!(!flat.iter().any(|(k, _)| k == "nested"));

    for bad in [
        json!({claims::TAGS_CLAIM: "x"}),
        json!({claims::TAGS_CLAIM: {"principal_tags": {"team": ["a", "b"]}}}),
        json!({claims::TAGS_CLAIM: {"principal_tags": {"bad key!": ["a"]}}}),
        json!({claims::TAGS_CLAIM: {"transitive_tag_keys": "team"}}),
    ] {
        let v = check(bad.clone()).unwrap();
        assert!(
            matches!(claims::aws_tags(&v), Err(TokenError::InvalidClaim { .. })),
            "{bad}"
        );
    }
    for bad in ["aws:root", "x", "white space"] {
        let v = check(json!({ claims::SOURCE_IDENTITY_CLAIM: bad })).unwrap();
        assert!(claims::source_identity(&v).is_err(), "{bad}");
    }
}

#[test]
fn key_sets_keep_only_usable_signature_keys() {
    let a = Signer::rsa(RSA_A);
    let mut enc = a.jwk("enc");
    enc["use"] = json!("enc");
    let mut oaep = a.jwk("oaep");
    oaep["alg"] = json!("RSA-OAEP");
    let keys = keyset(&[
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
        enc,
        oaep,
        json!({"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"}),
        json!({"kty": "weird"}),
        json!("not an object"),
        a.jwk("a"),
    ]);
    assert_eq!(keys.len(), 1);
    assert!(keys.has_kid("a") && !keys.has_kid("hmac") && !keys.has_kid("enc"));
    let many: Vec<Value> = (0..150).map(|i| a.jwk(&format!("k{i}"))).collect();
    let keys = keyset(&many);
    assert_eq!(keys.len(), jwks::MAX_KEYS);
    assert!(keys.has_kid("k99") && !keys.has_kid("k100"));
    assert_eq!(KeySet::parse(b"[]").unwrap_err(), JwksError::Malformed);
    assert_eq!(KeySet::parse(b"{}").unwrap_err(), JwksError::Malformed);
    let huge = vec![b' '; jwks::MAX_DOCUMENT_BYTES + 1];
    assert_eq!(KeySet::parse(&huge).unwrap_err(), JwksError::TooLarge);
}

#[test]
fn rsa_keys_below_2048_bits_are_refused_by_the_backend() {
    // A 1024-bit modulus (any odd number of that size works for the check):
    // ring's 2048–8192 parameters refuse it before looking at the signature.
    let mut n = vec![0xc5_u8; 128];
    n[127] |= 1;
    let jwk = json!({"kty": "RSA", "kid": "small", "n": B64.encode(&n), "e": "AQAB"});
    let keys = keyset(&[jwk]);
    let t = compact(&json!({"alg": "RS256", "kid": "small"}), &claims(), |_| {
        vec![7; 128]
    });
    assert_eq!(
        run(&WebIdentityToken::new(t), &keys).unwrap_err(),
        TokenError::BadSignature
    );
}

#[test]
fn the_token_never_prints() {
    let t = WebIdentityToken::new("eyJhbGciOi.secret.sig".into());
    assert_eq!(format!("{t:?}"), "WebIdentityToken(<redacted>)");
}
