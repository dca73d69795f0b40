use serde_json::{Value, json};

use super::chain::{self, DigestInput, DigestKey, GENESIS};
use super::redact::{HIDDEN, read_only, request_parameters, response_elements};
use super::*;

fn record(name: &str) -> AuditRecord {
    AuditRecord {
        event_version: EVENT_VERSION,
        user_identity: UserIdentity {
            kind: IdentityType::IamUser,
            principal_id: Some("AIDAEXAMPLE".into()),
            arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            account_id: Some("123456789012".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            user_name: Some("alice".into()),
            identity_provider: None,
            session_context: None,
        },
        event_time: format_time(1_700_000_000),
        event_source: EventSource::Iam,
        event_name: name.into(),
        aws_region: "us-east-1".into(),
        source_ip_address: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
        error_code: None,
        error_message: None,
        request_parameters: request_parameters([("UserName", "bob")]),
        response_elements: None,
        request_id: "req".into(),
        event_id: "evt".into(),
        read_only: read_only(name),
        event_type: EventType::ApiCall,
        management_event: true,
        recipient_account_id: Some("123456789012".into()),
        additional_event_data: serde_json::Map::new(),
    }
}

fn key() -> DigestKey {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    DigestKey::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// Writes a trail of `per_file` records in each of `files` files, as the
/// writer does; the last file is sealed when `seal_last`.
fn trail(files: u64, per_file: u64, seal_last: bool, key: &DigestKey) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut previous_digest = GENESIS;
    let mut seq = 1;
    for f in 1..=files {
        let mut text = String::new();
        let mut prev = previous_digest;
        let first = seq;
        for _ in 0..per_file {
            let line = record("CreateUser").to_line(seq, &prev).unwrap();
            prev = chain::line_hash(line.as_bytes());
            text.push_str(&line);
            text.push('\n');
            seq += 1;
        }
        if f < files || seal_last {
            let d = DigestInput {
                file: chain::file_name(f),
                file_sequence: f,
                records: per_file,
                first_sequence: first,
                last_hash: prev,
                previous_digest_hash: previous_digest,
                event_time: format_time(1_700_000_100),
                recovered: false,
            };
            let line = chain::digest_line(&d, Some(key));
            previous_digest = chain::line_hash(line.as_bytes());
            text.push_str(&line);
            text.push('\n');
        }
        out.push((chain::file_name(f), text.into_bytes()));
    }
    out
}

fn edit(files: &mut [(String, Vec<u8>)], file: usize, f: impl FnOnce(&mut Vec<String>)) {
    let text = String::from_utf8(files[file].1.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    f(&mut lines);
    let mut joined = lines.join("\n");
    joined.push('\n');
    files[file].1 = joined.into_bytes();
}

#[test]
fn an_intact_trail_verifies_with_its_own_and_a_pinned_key() {
    let k = key();
    let files = trail(3, 4, false, &k);
    let s = chain::verify(&files, None).unwrap();
    assert_eq!(
        (s.files, s.records, s.signed_digests, s.last_open),
        (3, 12, 2, true)
    );
    let s = chain::verify(&files, Some(&k.public_key())).unwrap();
    assert_eq!(s.signed_digests, 2);
    let sealed = trail(2, 3, true, &k);
    assert!(!chain::verify(&sealed, None).unwrap().last_open);
}

#[test]
fn a_changed_record_is_named() {
    let k = key();
    let mut files = trail(2, 4, true, &k);
    edit(&mut files, 0, |l| l[1] = l[1].replace("bob", "eve"));
    let b = chain::verify(&files, None).unwrap_err();
    assert_eq!(
        (b.file.as_str(), b.line),
        ("audit-00000001.jsonl", 2),
        "{b:?}"
    );
    assert!(b.reason.contains("changed record"), "{}", b.reason);
    // The last record before the digest.
    let mut files = trail(2, 4, true, &k);
    edit(&mut files, 1, |l| l[3] = l[3].replace("bob", "eve"));
    let b = chain::verify(&files, None).unwrap_err();
    assert_eq!(
        (b.file.as_str(), b.line),
        ("audit-00000002.jsonl", 4),
        "{b:?}"
    );
}

#[test]
fn a_removed_record_is_named() {
    let k = key();
    let mut files = trail(2, 4, true, &k);
    edit(&mut files, 1, |l| {
        l.remove(1);
    });
    let b = chain::verify(&files, None).unwrap_err();
    assert_eq!(
        (b.file.as_str(), b.line),
        ("audit-00000002.jsonl", 2),
        "{b:?}"
    );
    assert!(
        b.reason.contains("missing record: sequence 6"),
        "{}",
        b.reason
    );
}

#[test]
fn a_reordered_record_is_named() {
    let k = key();
    let mut files = trail(1, 5, true, &k);
    edit(&mut files, 0, |l| l.swap(2, 3));
    let b = chain::verify(&files, None).unwrap_err();
    assert_eq!(b.line, 3, "{b:?}");
    assert!(b.reason.contains("reordered record"), "{}", b.reason);
}

#[test]
fn a_missing_file_is_named() {
    let k = key();
    let mut files = trail(3, 2, false, &k);
    files.remove(1);
    let b = chain::verify(&files, None).unwrap_err();
    assert_eq!(
        (b.file.as_str(), b.line),
        ("audit-00000003.jsonl", 0),
        "{b:?}"
    );
    assert!(
        b.reason.contains("missing file audit-00000002.jsonl"),
        "{}",
        b.reason
    );
}

#[test]
fn bad_and_foreign_signatures_are_refused() {
    let k = key();
    let other = key();
    let files = trail(2, 2, true, &k);
    let b = chain::verify(&files, Some(&other.public_key())).unwrap_err();
    assert_eq!((b.line, b.reason.as_str()), (3, "bad signature"));
    // A forged digest (recounted with another key, but verified against
    // the pinned one) fails; so does an edited signed field.
    let mut files = trail(1, 2, true, &k);
    edit(&mut files, 0, |l| {
        l[2] = l[2].replace("\"recovered\":false", "\"recovered\":true")
    });
    assert_eq!(
        chain::verify(&files, None).unwrap_err().reason,
        "bad signature"
    );
}

#[test]
fn scan_reads_back_an_unsealed_file_and_cuts_a_torn_tail() {
    let k = key();
    let mut files = trail(1, 3, false, &k);
    let full = files[0].1.len();
    files[0].1.extend_from_slice(b"{\"half");
    let s = chain::scan(&files[0].1, GENESIS, 1);
    assert_eq!(
        (s.records, s.first_sequence, s.next_sequence, s.sealed),
        (3, Some(1), 4, false)
    );
    assert_eq!(s.complete_len, full);
}

#[test]
fn keys_read_pem_der_and_base64() {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        data_encoding::BASE64.encode(pkcs8.as_ref())
    );
    let a = DigestKey::from_pkcs8(pem.as_bytes()).unwrap();
    let b = DigestKey::from_pkcs8(pkcs8.as_ref()).unwrap();
    assert_eq!(a.public_key(), b.public_key());
    let b64 = data_encoding::BASE64.encode(&a.public_key());
    assert_eq!(
        chain::public_key_from(b64.as_bytes()).unwrap(),
        a.public_key()
    );
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&a.public_key());
    assert_eq!(chain::public_key_from(&spki).unwrap(), a.public_key());
    assert!(DigestKey::from_pkcs8(b"nope").is_err());
    assert!(!format!("{a:?}").contains("PRIVATE"));
}

#[test]
fn request_parameters_nest_lists_and_hide_secrets() {
    let p = request_parameters([
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", "arn:aws:iam::123456789012:role/r"),
        ("Tags.member.2.Key", "b"),
        ("Tags.member.2.Value", "2"),
        ("Tags.member.1.Key", "a"),
        ("Tags.member.1.Value", "1"),
        ("TransitiveTagKeys.member.1", "a"),
        ("TokenCode", "123456"),
        ("Password", "hunter2"),
        ("ProvidedContexts.member.1.ContextAssertion", "sekrit"),
    ])
    .unwrap();
    assert_eq!(
        p,
        json!({
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}],
            "transitiveTagKeys": ["a"],
            "tokenCode": HIDDEN,
            "password": HIDDEN,
            "providedContexts": [{"contextAssertion": HIDDEN}],
        })
    );
    assert_eq!(request_parameters([("Action", "GetCallerIdentity")]), None);
}

#[test]
fn response_elements_keep_no_secret_and_no_reads() {
    let minted = json!({
        "credentials": {"accessKeyId": "ASIA", "secretAccessKey": "s", "sessionToken": "t", "expiration": 5},
        "assumedRoleUser": {"arn": "a"},
    });
    assert_eq!(
        response_elements("AssumeRole", minted),
        Some(
            json!({"credentials": {"accessKeyId": "ASIA", "expiration": 5}, "assumedRoleUser": {"arn": "a"}})
        )
    );
    let key =
        json!({"accessKey": {"accessKeyId": "AKIA", "secretAccessKey": "s", "status": "Active"}});
    assert_eq!(
        response_elements("CreateAccessKey", key),
        Some(json!({"accessKey": {"accessKeyId": "AKIA", "status": "Active"}}))
    );
    let mfa = json!({"virtualMFADevice": {"serialNumber": "arn", "base32StringSeed": "x", "qRCodePNG": "y"}});
    assert_eq!(
        response_elements("CreateVirtualMFADevice", mfa),
        Some(json!({"virtualMFADevice": {"serialNumber": "arn"}}))
    );
    assert_eq!(response_elements("GetUser", json!({"user": {}})), None);
    assert!(read_only("AssumeRole") && read_only("ListUsers") && !read_only("CreateUser"));
}

#[test]
fn lines_carry_the_chain_in_additional_event_data() {
    let mut r = record("ConsoleLogin");
    r.additional_event_data
        .insert("MFAUsed".into(), Value::from("No"));
    let line = r.to_line(7, &[1; 32]).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["additionalEventData"]["MFAUsed"], "No");
    assert_eq!(v["additionalEventData"]["stsdSequence"], 7);
    assert_eq!(
        v["additionalEventData"]["stsdPreviousHash"],
        "01".repeat(32)
    );
    assert_eq!(v["eventTime"], "2023-11-14T22:13:20Z");
    assert_eq!(v["userIdentity"]["type"], "IAMUser");
    assert_eq!(v["requestID"], "req");
    assert_eq!(v["eventID"], "evt");
    assert_eq!(v["sourceIPAddress"], "127.0.0.1");
    assert_eq!(v["eventSource"], "iam.amazonaws.com");
    assert!(v["responseElements"].is_null());
}
