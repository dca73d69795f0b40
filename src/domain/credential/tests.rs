use proptest::prelude::*;

use super::*;
use crate::domain::ids::Arn;
use crate::domain::seal::{MasterKey, SealKeyId};

const ACCOUNT: &str = "111122223333";
const T0: u64 = 1_740_824_100;

/// A deterministic byte stream (a counter through a multiplier).
fn rng(seed: u8) -> impl FnMut(&mut [u8]) {
    let mut n = seed;
    move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_mul(31).wrapping_add(17);
            *b = n;
        }
    }
}

fn master(byte: u8) -> MasterKey {
    MasterKey::from_bytes(SealKeyId::new("master-1").unwrap(), [byte; 32])
}

fn key(id: &str) -> SealingKey {
    SealingKey::derive(&master(7), SealingKeyId::new(id).unwrap())
}

fn ring_of(active: &str, accepted: &[&str]) -> KeyRing {
    KeyRing::new(key(active), accepted.iter().map(|id| key(id)).collect())
}

fn account() -> AccountId {
    ACCOUNT.parse().unwrap()
}

fn arn(s: &str) -> Arn {
    s.parse().unwrap()
}

fn base(principal: SessionPrincipal) -> Session {
    let (access_key_id, secret) = mint_keys(account(), &mut rng(1));
    Session {
        access_key_id,
        secret,
        account: account(),
        principal,
        policy: None,
        policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
        source_identity: None,
        mfa: None,
        issued_at: T0,
        expires_at: T0 + 3600,
        provider: None,
        chain_depth: 0,
        provider_keys: Vec::new(),
    }
}

fn role_principal() -> SessionPrincipal {
    SessionPrincipal::AssumedRole {
        role_arn: arn("arn:aws:iam::111122223333:role/ci/build-runner"),
        role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
        session_name: "ci-7421".into(),
    }
}

/// A role session with every optional field set.
fn full() -> Session {
    let mut s = base(role_principal());
    s.policy = Some(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#
            .into(),
    );
    s.policy_arns = vec![
        arn("arn:aws:iam::111122223333:policy/a"),
        arn("arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ];
    s.tags = vec![
        SessionTag {
            key: "Project".into(),
            value: "Apollo".into(),
        },
        SessionTag {
            key: "Empty".into(),
            value: String::new(),
        },
        SessionTag {
            key: "Ünïcödé".into(),
            value: "välue €".into(),
        },
    ];
    s.transitive_tag_keys = vec!["project".into()];
    s.source_identity = Some("alice@example.com".into());
    s.mfa = Some(MfaInfo {
        serial: arn("arn:aws:iam::111122223333:mfa/alice"),
        authenticated_at: T0 - 5,
    });
    s.provider = Some("arn:aws:iam::111122223333:saml-provider/Okta".into());
    s.chain_depth = 3;
    s.provider_keys = vec![
        ("saml:sub".into(), "alice".into()),
        ("saml:sub_type".into(), "persistent".into()),
    ];
    s
}

fn every_principal() -> Vec<SessionPrincipal> {
    vec![
        role_principal(),
        SessionPrincipal::User {
            user_arn: arn("arn:aws:iam::111122223333:user/eng/alice"),
            user_id: "AIDARTX3GSDSEXAMPLEAB".parse().unwrap(),
            name: "alice".parse().unwrap(),
        },
        SessionPrincipal::Root,
        SessionPrincipal::FederatedUser {
            name: "bob".into(),
            caller_arn: arn("arn:aws:iam::111122223333:user/alice"),
            caller_user_id: "AIDARTX3GSDSEXAMPLEAB".into(),
        },
        SessionPrincipal::FederatedUser {
            name: "carol".into(),
            caller_arn: arn("arn:aws:iam::111122223333:root"),
            caller_user_id: ACCOUNT.into(),
        },
    ]
}

#[test]
fn every_field_and_principal_round_trips() {
    let ring = ring_of("s1", &[]);
    let mut sessions = vec![full()];
    for p in every_principal() {
        sessions.push(base(p.clone()));
        let mut s = full();
        s.principal = p;
        sessions.push(s);
    }
    for (i, s) in sessions.iter().enumerate() {
        let token = ring.seal(s, &mut rng(9)).unwrap();
        let opened = ring.open(token.expose_secret()).unwrap();
        assert_eq!(&opened, s, "session {i}");
        assert_eq!(opened.secret.expose_secret(), s.secret.expose_secret());
    }
}

#[test]
fn extreme_integers_round_trip() {
    let ring = ring_of("s1", &[]);
    let mut s = full();
    s.issued_at = 0;
    s.expires_at = u64::MAX;
    s.chain_depth = u8::MAX;
    if let Some(m) = &mut s.mfa {
        m.authenticated_at = u64::MAX;
    }
    let token = ring.seal(&s, &mut rng(2)).unwrap();
    assert_eq!(ring.open(token.expose_secret()).unwrap(), s);
}

#[test]
fn tokens_are_url_safe_compact_and_fresh() {
    let ring = ring_of("s1", &[]);
    let s = base(role_principal());
    let a = ring.seal(&s, &mut rng(1)).unwrap();
    let b = ring.seal(&s, &mut rng(2)).unwrap();
    assert_ne!(a, b, "a fresh nonce each time");
    for t in [&a, &b] {
        let text = t.expose_secret();
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{}",
            text.len()
        );
        assert!(
            text.len() < 400,
            "a plain role session is small: {}",
            text.len()
        );
    }
}

#[test]
fn any_altered_byte_is_refused() {
    let ring = ring_of("s1", &[]);
    let token = ring.seal(&full(), &mut rng(3)).unwrap();
    let raw = data_encoding::BASE64URL_NOPAD
        .decode(token.expose_secret().as_bytes())
        .unwrap();
    for i in 0..raw.len() {
        for flip in [0x01_u8, 0x80] {
            let mut bad = raw.clone();
            bad[i] ^= flip;
            let text = data_encoding::BASE64URL_NOPAD.encode(&bad);
            let err = ring.open(&text).unwrap_err();
            // The version and key-id bytes fail before decryption; the rest
            // fails authentication.
            assert!(
                matches!(
                    err,
                    CredentialError::Tampered
                        | CredentialError::Malformed
                        | CredentialError::UnknownKey
                ),
                "byte {i}: {err:?}"
            );
            if i >= 2 + 2 {
                assert_eq!(err, CredentialError::Tampered, "byte {i}");
            }
        }
    }
    let mut short = token.expose_secret().to_owned();
    short.pop();
    assert!(ring.open(&short).is_err());
}

#[test]
fn a_key_the_ring_does_not_hold_is_unknown() {
    let token = ring_of("s2", &[]).seal(&full(), &mut rng(4)).unwrap();
    assert_eq!(
        ring_of("s1", &[]).open(token.expose_secret()),
        Err(CredentialError::UnknownKey)
    );
}

#[test]
fn same_id_under_another_master_key_is_tampered() {
    let other = KeyRing::new(
        SealingKey::derive(&master(8), SealingKeyId::new("s1").unwrap()),
        vec![],
    );
    let token = other.seal(&full(), &mut rng(4)).unwrap();
    assert_eq!(
        ring_of("s1", &[]).open(token.expose_secret()),
        Err(CredentialError::Tampered)
    );
}

#[test]
fn rotation_keeps_old_tokens_until_the_old_key_is_retired() {
    let before = ring_of("s1", &[]);
    let old = before.seal(&full(), &mut rng(5)).unwrap();

    // Rotate: s2 seals, s1 is still accepted.
    let during = ring_of("s2", &["s1"]);
    assert_eq!(during.active_id().as_str(), "s2");
    assert_eq!(during.open(old.expose_secret()).unwrap(), full());
    let new = during.seal(&full(), &mut rng(6)).unwrap();
    assert_eq!(during.open(new.expose_secret()).unwrap(), full());
    // A replica not yet rotated does not know s2.
    assert_eq!(
        before.open(new.expose_secret()),
        Err(CredentialError::UnknownKey)
    );

    // Retire s1.
    let after = ring_of("s2", &[]);
    assert_eq!(
        after.open(old.expose_secret()),
        Err(CredentialError::UnknownKey)
    );
    assert_eq!(after.open(new.expose_secret()).unwrap(), full());
}

#[test]
fn derivation_is_deterministic_and_separates_ids_and_masters() {
    let a = key("s1");
    assert_eq!(a.expose_secret(), key("s1").expose_secret());
    assert_ne!(a.expose_secret(), key("s2").expose_secret());
    let other = SealingKey::derive(&master(8), SealingKeyId::new("s1").unwrap());
    assert_ne!(a.expose_secret(), other.expose_secret());
    assert_ne!(a.expose_secret(), &[7_u8; 32], "not the master key itself");
}

#[test]
fn debug_shows_no_secret() {
    let ring = ring_of("s1", &["s0"]);
    let s = full();
    let token = ring.seal(&s, &mut rng(1)).unwrap();
    let all = format!("{ring:?} {:?} {s:?} {token:?}", key("s1"));
    assert!(all.contains("s1") && all.contains("s0"), "{all}");
    assert!(!all.contains(s.secret.expose_secret()), "{all}");
    assert!(!all.contains(token.expose_secret()), "{all}");
    let hex: String = key("s1")
        .expose_secret()
        .iter()
        .map(|b| format!("{b}"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(!all.contains(&hex), "{all}");
}

#[test]
fn minted_keys_follow_the_aws_formats() {
    let (id, secret) = mint_keys(account(), &mut rng(42));
    assert!(id.as_str().starts_with("ASIA"));
    assert_eq!(id.as_str().len(), 20);
    assert!(id.is_temporary());
    assert_eq!(id.account(), Some(account()));
    assert_eq!(secret.expose_secret().len(), 40);
    let (id2, secret2) = mint_keys(account(), &mut rng(43));
    assert_ne!(id, id2);
    assert_ne!(secret, secret2);
}

#[test]
fn sealing_checks_the_session() {
    let ring = ring_of("s1", &[]);
    type Edit = Box<dyn Fn(&mut Session)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "access_key_id",
            Box::new(|s| s.access_key_id = "AKIAIOSFODNN7EXAMPLE".parse().unwrap()),
        ),
        (
            "access_key_id",
            Box::new(|s| s.account = "444455556666".parse().unwrap()),
        ),
        ("expires_at", Box::new(|s| s.expires_at = s.issued_at - 1)),
        (
            "source_identity",
            Box::new(|s| s.source_identity = Some("aws:x".into())),
        ),
        (
            "session_name",
            Box::new(|s| {
                s.principal = SessionPrincipal::AssumedRole {
                    role_arn: arn("arn:aws:iam::111122223333:role/r"),
                    role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
                    session_name: "has space".into(),
                }
            }),
        ),
        (
            "role_arn",
            Box::new(|s| {
                s.principal = SessionPrincipal::AssumedRole {
                    role_arn: arn("arn:aws:iam::111122223333:user/r"),
                    role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
                    session_name: "ok".into(),
                }
            }),
        ),
        (
            "role_arn",
            Box::new(|s| {
                s.principal = SessionPrincipal::AssumedRole {
                    role_arn: arn("arn:aws:iam::444455556666:role/r"),
                    role_id: "AROARTX3GSDS77UAUCCVQ".parse().unwrap(),
                    session_name: "ok".into(),
                }
            }),
        ),
        (
            "user_arn",
            Box::new(|s| {
                s.principal = SessionPrincipal::User {
                    user_arn: arn("arn:aws:iam::111122223333:user/alice"),
                    user_id: "AIDARTX3GSDSEXAMPLEAB".parse().unwrap(),
                    name: "bob".parse().unwrap(),
                }
            }),
        ),
        (
            "name",
            Box::new(|s| {
                s.principal = SessionPrincipal::FederatedUser {
                    name: "x".into(),
                    caller_arn: arn("arn:aws:iam::111122223333:user/alice"),
                    caller_user_id: "AIDARTX3GSDSEXAMPLEAB".into(),
                }
            }),
        ),
        (
            "caller_arn",
            Box::new(|s| {
                s.principal = SessionPrincipal::FederatedUser {
                    name: "bob".into(),
                    caller_arn: arn("arn:aws:iam::111122223333:role/r"),
                    caller_user_id: "AIDARTX3GSDSEXAMPLEAB".into(),
                }
            }),
        ),
    ];
    for (field, edit) in cases {
        let mut s = full();
        edit(&mut s);
        assert_eq!(
            ring.seal(&s, &mut rng(1)).unwrap_err(),
            CredentialError::Invalid { field },
            "{field}"
        );
    }
}

#[test]
fn oversized_sessions_and_tokens_are_refused() {
    let ring = ring_of("s1", &[]);
    let mut s = full();
    s.policy = Some("x".repeat(MAX_TOKEN_LEN));
    assert_eq!(
        ring.seal(&s, &mut rng(1)).unwrap_err(),
        CredentialError::TooLarge
    );
    assert_eq!(
        ring.open(&"A".repeat(MAX_TOKEN_LEN + 1)).unwrap_err(),
        CredentialError::TooLarge
    );
}

#[test]
fn arns_and_user_ids_follow_reference_1_3() {
    let partition = "aws".parse().unwrap();
    let want = [
        (
            "arn:aws:sts::111122223333:assumed-role/build-runner/ci-7421",
            "AROARTX3GSDS77UAUCCVQ:ci-7421",
            "AssumedRole",
        ),
        (
            "arn:aws:iam::111122223333:user/eng/alice",
            "AIDARTX3GSDSEXAMPLEAB",
            "User",
        ),
        ("arn:aws:iam::111122223333:root", ACCOUNT, "Account"),
        (
            "arn:aws:sts::111122223333:federated-user/bob",
            "111122223333:bob",
            "FederatedUser",
        ),
        (
            "arn:aws:sts::111122223333:federated-user/carol",
            "111122223333:carol",
            "FederatedUser",
        ),
    ];
    for (p, (arn_text, user_id, kind)) in every_principal().into_iter().zip(want) {
        let s = base(p);
        let a = s.arn(&partition);
        assert_eq!(a.as_str(), arn_text);
        assert_eq!(a.as_str().parse::<Arn>().unwrap(), a, "a valid ARN");
        assert_eq!(s.user_id(), user_id);
        assert_eq!(s.principal_type(), kind);
    }
    let s = base(role_principal());
    assert!(!s.is_expired(T0 + 3599));
    assert!(s.is_expired(T0 + 3600));
}

// --- the plaintext decoder on hostile input ---

#[test]
fn version_1_encodings_decode_without_provider_keys() {
    // Version 1 ended after the chain depth: the same bytes as version 2
    // without the (empty) provider-key list.
    let mut s = full();
    s.provider_keys.clear();
    let mut v1 = codec::encode(&s).to_vec();
    assert_eq!(v1.pop(), Some(0), "an empty list is one count byte");
    v1[0] = 1;
    assert_eq!(codec::decode(&v1).unwrap(), s);
    // A version 1 body read as version 2 lacks the list.
    v1[0] = codec::VERSION;
    assert_eq!(codec::decode(&v1), Err(CredentialError::Malformed));
}

#[test]
fn decoder_refuses_layout_faults() {
    let good = codec::encode(&full());
    assert_eq!(codec::decode(&good).unwrap(), full());
    // Trailing bytes.
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(codec::decode(&long), Err(CredentialError::Malformed));
    // Every truncation.
    for n in 0..good.len() {
        assert!(codec::decode(&good[..n]).is_err(), "truncated to {n}");
    }
    // Wrong version.
    let mut v = good.to_vec();
    v[0] = codec::VERSION + 1;
    assert_eq!(codec::decode(&v), Err(CredentialError::Malformed));
    // A length past the end: the access key id claims 127 bytes.
    let mut l = good.to_vec();
    l[1] = 0x7f;
    assert_eq!(codec::decode(&l), Err(CredentialError::Malformed));
    // A non-minimal length (0x94 0x00 for 20).
    let mut nm = vec![codec::VERSION, 0x94, 0x00];
    nm.extend_from_slice(&good[2..]);
    assert_eq!(codec::decode(&nm), Err(CredentialError::Malformed));
    // Bad UTF-8 in the access key id.
    let mut u = good.to_vec();
    u[2] = 0xff;
    assert_eq!(codec::decode(&u), Err(CredentialError::Malformed));
    // An id that does not parse: the access key id's first char.
    let mut id = good.to_vec();
    id[2] = b'#';
    assert_eq!(codec::decode(&id), Err(CredentialError::Malformed));
    // An overlong integer.
    let mut big = vec![codec::VERSION];
    big.extend_from_slice(&[0xff; 11]);
    assert_eq!(codec::decode(&big), Err(CredentialError::Malformed));
}

#[test]
fn decoder_refuses_bad_kind_and_presence_bytes() {
    let s = base(SessionPrincipal::Root);
    let good = codec::encode(&s);
    // The Root kind byte follows the key id (1 + 20), secret (1 + 40) and
    // account (6 bytes of LEB128 for 111122223333).
    let kind_at = 1 + 21 + 41 + 6;
    assert_eq!(good[kind_at], 2);
    let mut k = good.to_vec();
    k[kind_at] = 9;
    assert_eq!(codec::decode(&k), Err(CredentialError::Malformed));
    let mut p = good.to_vec();
    p[kind_at + 1] = 2; // the policy's presence byte
    assert_eq!(codec::decode(&p), Err(CredentialError::Malformed));
}

proptest! {
    #[test]
    fn open_never_panics_on_arbitrary_text(text in "\\PC{0,600}") {
        let _ = ring_of("s1", &[]).open(&text);
    }

    #[test]
    fn open_never_panics_on_arbitrary_blobs(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let ring = ring_of("s1", &[]);
        let _ = ring.open(&data_encoding::BASE64URL_NOPAD.encode(&bytes));
        // A valid header naming s1, then anything.
        let mut blob = vec![1_u8, 2, b's', b'1'];
        blob.extend_from_slice(&bytes);
        prop_assert!(ring.open(&data_encoding::BASE64URL_NOPAD.encode(&blob)).is_err());
    }

    #[test]
    fn decode_never_panics_on_arbitrary_plaintext(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = codec::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_plaintext(i in 0_usize..400, b in any::<u8>()) {
        let mut good = codec::encode(&full()).to_vec();
        let n = good.len();
        good[i % n] = b;
        let _ = codec::decode(&good);
    }
}
