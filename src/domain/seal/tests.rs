use super::*;

fn key(id: &str, fill: u8) -> MasterKey {
    MasterKey::from_bytes(SealKeyId::new(id).unwrap(), [fill; 32])
}

fn counter() -> impl FnMut(&mut [u8]) {
    let mut n = 0_u8;
    move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_add(1);
            *b = n;
        }
    }
}

fn purpose() -> SealPurpose {
    SealPurpose::access_key_secret(&"AKIAIOSFODNN7EXAMPLE".parse().unwrap())
}

const SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[test]
fn round_trip() {
    let k = key("k1", 7);
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    assert_eq!(blob.key_id(), "k1");
    assert_eq!(blob.as_bytes().len(), 2 + 2 + 12 + SECRET.len() + 16);
    assert!(
        !blob
            .as_bytes()
            .windows(8)
            .any(|w| SECRET.windows(8).any(|s| s == w))
    );
    let opened = open(&k, &purpose(), &blob).unwrap();
    assert_eq!(opened.expose_secret(), SECRET);
}

#[test]
fn empty_plaintext_round_trips() {
    let k = key("k1", 7);
    let blob = seal(&k, &purpose(), b"", &mut counter()).unwrap();
    assert!(
        open(&k, &purpose(), &blob)
            .unwrap()
            .expose_secret()
            .is_empty()
    );
}

#[test]
fn every_tampered_byte_is_refused() {
    let k = key("k1", 7);
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    for i in 0..blob.as_bytes().len() {
        let mut bytes = blob.as_bytes().to_vec();
        bytes[i] ^= 0x01;
        let result = SealedBlob::from_bytes(bytes).and_then(|b| open(&k, &purpose(), &b));
        assert!(result.is_err(), "byte {i} flipped and still opened");
    }
}

#[test]
fn truncated_or_unknown_blobs_are_malformed() {
    let k = key("k1", 7);
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    let bytes = blob.as_bytes();
    for len in [0, 1, 2, 4, 15, 2 + 2 + 12 + 15] {
        assert_eq!(
            SealedBlob::from_bytes(bytes[..len].to_vec()),
            Err(SealError::MalformedBlob),
            "{len}"
        );
    }
    let mut v2 = bytes.to_vec();
    v2[0] = 2;
    assert_eq!(SealedBlob::from_bytes(v2), Err(SealError::MalformedBlob));
}

#[test]
fn wrong_purpose_is_refused() {
    let k = key("k1", 7);
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    let other = SealPurpose::access_key_secret(&"AKIAIOSFODNN7EXAMPLF".parse().unwrap());
    assert_eq!(
        open(&k, &other, &blob).unwrap_err(),
        SealError::Authentication
    );
    let seed = SealPurpose::mfa_seed("AKIAIOSFODNN7EXAMPLE");
    assert_eq!(
        open(&k, &seed, &blob).unwrap_err(),
        SealError::Authentication
    );
}

#[test]
fn wrong_key_is_refused() {
    let blob = seal(&key("k1", 7), &purpose(), SECRET, &mut counter()).unwrap();
    assert_eq!(
        open(&key("k1", 8), &purpose(), &blob).unwrap_err(),
        SealError::Authentication
    );
    assert!(matches!(
        open(&key("k2", 7), &purpose(), &blob).unwrap_err(),
        SealError::KeyIdMismatch { .. }
    ));
}

#[test]
fn relabelled_key_id_is_refused() {
    // Same key bytes under a second id: the id is authenticated too.
    let blob = seal(&key("k1", 7), &purpose(), SECRET, &mut counter()).unwrap();
    let mut bytes = blob.as_bytes().to_vec();
    bytes[3] = b'2';
    let relabelled = SealedBlob::from_bytes(bytes).unwrap();
    assert_eq!(relabelled.key_id(), "k2");
    assert_eq!(
        open(&key("k2", 7), &purpose(), &relabelled).unwrap_err(),
        SealError::Authentication
    );
}

#[test]
fn nonces_come_from_the_source() {
    let k = key("k1", 7);
    let mut rng = counter();
    let a = seal(&k, &purpose(), SECRET, &mut rng).unwrap();
    let b = seal(&k, &purpose(), SECRET, &mut rng).unwrap();
    assert_ne!(a, b);
}

#[test]
fn master_key_parses_base64_of_32_bytes() {
    let id = || SealKeyId::new("main").unwrap();
    let text = BASE64.encode(&[9_u8; 32]);
    let k = MasterKey::from_base64(id(), &format!("{text}\n")).unwrap();
    assert_eq!(k.id().as_str(), "main");
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    assert!(open(&MasterKey::from_bytes(id(), [9; 32]), &purpose(), &blob).is_ok());
    for bad in [
        "",
        "not base64!",
        &BASE64.encode(&[9_u8; 31]),
        &BASE64.encode(&[9_u8; 33]),
    ] {
        assert_eq!(
            MasterKey::from_base64(id(), bad).unwrap_err(),
            SealError::MasterKeyFormat
        );
    }
}

#[test]
fn key_ids_are_validated() {
    assert!(SealKeyId::new("2026-01.main_k").is_ok());
    assert!(SealKeyId::new("").is_err());
    assert!(SealKeyId::new(&"a".repeat(33)).is_err());
    assert!(SealKeyId::new("a b").is_err());
    assert!(SealKeyId::new("a/b").is_err());
}

#[test]
fn debug_redacts() {
    let k = key("k1", 0xAB);
    let shown = format!("{k:?}");
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("171"), "{shown}");
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    let opened = open(&k, &purpose(), &blob).unwrap();
    let shown = format!("{opened:?}");
    assert!(!shown.contains("wJal") && !shown.contains("119"), "{shown}");
}

#[test]
fn blob_serializes_as_base64_text() {
    let k = key("k1", 7);
    let blob = seal(&k, &purpose(), SECRET, &mut counter()).unwrap();
    let json = serde_json::to_string(&blob).unwrap();
    assert_eq!(json, format!("\"{}\"", BASE64.encode(blob.as_bytes())));
    let back: SealedBlob = serde_json::from_str(&json).unwrap();
    assert_eq!(back, blob);
    assert!(serde_json::from_str::<SealedBlob>("\"AAAA\"").is_err());
    assert!(serde_json::from_str::<SealedBlob>("\"!!\"").is_err());
}
