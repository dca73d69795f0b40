//! The tamper-evident chain of audit files.
//!
//! Owns: the hash chain and its digest records, as pure functions of bytes
//! and keys. Every record line carries its sequence number and the
//! SHA-256 of the line before it (`additionalEventData.stsdSequence`,
//! `stsdPreviousHash`; the first line of a file points at the previous
//! file's digest line, the very first at 32 zero bytes). Each file ends
//! with one digest line ([`digest_line`]) naming the file, its number, its
//! record count, the hash of its last record and of the previous digest,
//! signed with Ed25519 ([`DigestKey`], ring) over [`signed_bytes`]. A
//! changed record breaks the next line's `stsdPreviousHash` (or the
//! digest's `lastHash`), a removed or reordered one the sequence, a
//! removed file the file numbers and the first record's predecessor.
//! [`verify`] walks a trail and names the first broken record; [`scan`]
//! reads an unsealed file back (the writer's recovery at start).
//! Pure: imports serde_json, sha2, ring's Ed25519 and data-encoding.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// `eventType` of a digest line.
pub const DIGEST_EVENT_TYPE: &str = "stsdDigest";

/// The hash before the first record of a trail.
pub const GENESIS: [u8; 32] = [0; 32];

/// An Ed25519 key that signs digests.
pub struct DigestKey(Ed25519KeyPair);

/// Why a key cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Neither PEM nor DER PKCS#8 Ed25519.
    #[error("not an Ed25519 private key in PKCS#8 (PEM or DER)")]
    Private,
    /// Neither a PEM/DER SubjectPublicKeyInfo nor 32 base64 bytes.
    #[error("not an Ed25519 public key (PEM, DER or base64 of 32 bytes)")]
    Public,
}

/// What a digest line says about its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestInput {
    /// The file's name.
    pub file: String,
    /// The file's number (1, 2, …).
    pub file_sequence: u64,
    /// Records in the file.
    pub records: u64,
    /// Sequence number of its first record (the next one when empty).
    pub first_sequence: u64,
    /// Hash of its last line before the digest.
    pub last_hash: [u8; 32],
    /// Hash of the previous file's digest line ([`GENESIS`] for the first).
    pub previous_digest_hash: [u8; 32],
    /// When the file was sealed.
    pub event_time: String,
    /// Whether it was sealed at a start after an unclean stop.
    pub recovered: bool,
}

/// A verified trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Records read.
    pub records: u64,
    /// Digests whose signature was checked.
    pub signed_digests: usize,
    /// Digests without a signature.
    pub unsigned_digests: usize,
    /// Whether the last file is still open (no digest yet).
    pub last_open: bool,
}

/// The first break in a trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The file.
    pub file: String,
    /// Its 1-based line; 0 for the file as a whole.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// The state of a file read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Records in it.
    pub records: u64,
    /// The first record's sequence, if any.
    pub first_sequence: Option<u64>,
    /// The next sequence number.
    pub next_sequence: u64,
    /// Hash of the last complete line.
    pub last_hash: [u8; 32],
    /// Bytes of complete lines (a torn tail after them is cut).
    pub complete_len: usize,
    /// Whether the file already ends with its digest.
    pub sealed: bool,
    /// The hash the first record points at (the previous file's digest).
    pub start_hash: Option<[u8; 32]>,
}

// === impl DigestKey ===

impl DigestKey {
    /// Reads a PKCS#8 Ed25519 private key, PEM (`-----BEGIN PRIVATE
    /// KEY-----`, what `openssl genpkey -algorithm ed25519` writes) or DER;
    /// v1 (without the public key) and v2 documents both work.
    ///
    /// # Errors
    ///
    /// [`KeyError::Private`].
    pub fn from_pkcs8(bytes: &[u8]) -> Result<Self, KeyError> {
        let der = pem_body(bytes, "PRIVATE KEY").unwrap_or_else(|| bytes.to_vec());
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map(Self)
            .map_err(|_| KeyError::Private)
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(self.0.public_key().as_ref());
        out
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }
}

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DigestKey(public {})", base64(&self.public_key()))
    }
}

/// Reads an Ed25519 public key: PEM or DER SubjectPublicKeyInfo (`openssl
/// pkey -pubout`), or the base64 of its 32 bytes (what `stsd audit keygen`
/// prints).
///
/// # Errors
///
/// [`KeyError::Public`].
pub fn public_key_from(bytes: &[u8]) -> Result<[u8; 32], KeyError> {
    const SPKI_PREFIX: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let der = pem_body(bytes, "PUBLIC KEY");
    let raw = match der {
        Some(der) => der,
        None if bytes.starts_with(&SPKI_PREFIX) => bytes.to_vec(),
        None => {
            let text = std::str::from_utf8(bytes).map_err(|_| KeyError::Public)?;
            data_encoding::BASE64
                .decode(text.trim().as_bytes())
                .map_err(|_| KeyError::Public)?
        }
    };
    let key = match raw.len() {
        32 => raw.as_slice(),
        44 if raw.starts_with(&SPKI_PREFIX) => raw.get(12..).ok_or(KeyError::Public)?,
        _ => return Err(KeyError::Public),
    };
    key.try_into().map_err(|_| KeyError::Public)
}

/// The DER inside a PEM block labelled `label`, if `bytes` is one.
fn pem_body(bytes: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text.get(start..)?.find(&end)? + start;
    let body: String = text
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    data_encoding::BASE64.decode(body.as_bytes()).ok()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

fn base64(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

/// SHA-256 of one line (without its newline).
pub fn line_hash(line: &[u8]) -> [u8; 32] {
    Sha256::digest(line).into()
}

/// What a digest's signature covers.
pub fn signed_bytes(d: &DigestInput) -> Vec<u8> {
    format!(
        "stsd-audit-digest-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        d.file,
        d.file_sequence,
        d.records,
        d.first_sequence,
        hex(&d.last_hash),
        hex(&d.previous_digest_hash),
        d.event_time,
        d.recovered
    )
    .into_bytes()
}

/// The digest line (no newline) sealing a file, signed when `key` is
/// given.
pub fn digest_line(d: &DigestInput, key: Option<&DigestKey>) -> String {
    let (public, signature) = match key {
        Some(k) => (
            Value::from(base64(&k.public_key())),
            Value::from(base64(&k.sign(&signed_bytes(d)))),
        ),
        None => (Value::Null, Value::Null),
    };
    json!({
        "eventVersion": super::EVENT_VERSION,
        "eventType": DIGEST_EVENT_TYPE,
        "eventSource": "stsd",
        "eventName": "AuditDigest",
        "eventTime": d.event_time,
        "digest": {
            "file": d.file,
            "fileSequence": d.file_sequence,
            "records": d.records,
            "firstSequence": d.first_sequence,
            "lastHash": hex(&d.last_hash),
            "previousDigestHash": hex(&d.previous_digest_hash),
            "recovered": d.recovered,
            "signatureAlgorithm": if key.is_some() { Value::from("Ed25519") } else { Value::Null },
            "publicKey": public,
        },
        "signature": signature,
    })
    .to_string()
}

/// The file number in a trail file's name (`audit-00000042.jsonl` → 42).
pub fn file_sequence(name: &str) -> Option<u64> {
    name.strip_prefix("audit-")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

/// The name of file number `n`.
pub fn file_name(n: u64) -> String {
    format!("audit-{n:08}.jsonl")
}

/// One line of a file, parsed.
enum Line {
    Record { sequence: u64, previous: String },
    Digest(Value),
}

fn parse_line(line: &[u8]) -> Result<Line, String> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|_| "not a JSON record (changed or torn)".to_owned())?;
    if value.get("eventType").and_then(Value::as_str) == Some(DIGEST_EVENT_TYPE) {
        return Ok(Line::Digest(value));
    }
    let extra = value.get("additionalEventData");
    let sequence = extra
        .and_then(|e| e.get("stsdSequence"))
        .and_then(Value::as_u64);
    let previous = extra
        .and_then(|e| e.get("stsdPreviousHash"))
        .and_then(Value::as_str);
    match (sequence, previous) {
        (Some(sequence), Some(previous)) => Ok(Line::Record {
            sequence,
            previous: previous.to_owned(),
        }),
        _ => Err("a record without its chain fields".to_owned()),
    }
}

/// Splits `bytes` into complete lines; the second value is the length of
/// the complete lines (anything after is a torn tail).
fn lines(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let body = bytes.get(..complete).unwrap_or_default();
    let lines = body
        .split(|b| *b == b'\n')
        .take(body.iter().filter(|b| **b == b'\n').count())
        .collect();
    (lines, complete)
}

/// A 32-byte hash from its hex.
fn decode_hash(text: &str) -> Option<[u8; 32]> {
    data_encoding::HEXLOWER
        .decode(text.as_bytes())
        .ok()?
        .try_into()
        .ok()
}

/// Reads back a file the writer left: its records, chain state and
/// whether it is sealed; a torn tail (an incomplete last line, never
/// acknowledged) is not counted. `start` is the hash the file's first
/// record points at; `next_sequence` the sequence expected first.
pub fn scan(bytes: &[u8], start: [u8; 32], next_sequence: u64) -> Scanned {
    let (lines, complete_len) = lines(bytes);
    let mut s = Scanned {
        records: 0,
        first_sequence: None,
        next_sequence,
        last_hash: start,
        complete_len,
        sealed: false,
        start_hash: None,
    };
    for line in lines {
        match parse_line(line) {
            Ok(Line::Record { sequence, previous }) => {
                if s.start_hash.is_none() {
                    s.start_hash = decode_hash(&previous);
                }
                s.records += 1;
                s.first_sequence.get_or_insert(sequence);
                s.next_sequence = sequence.saturating_add(1);
                s.last_hash = line_hash(line);
            }
            Ok(Line::Digest(d)) => {
                let field = |n: &str| d.pointer(&format!("/digest/{n}")).and_then(Value::as_u64);
                if let (Some(first), Some(records)) = (field("firstSequence"), field("records")) {
                    s.next_sequence = first.saturating_add(records);
                }
                s.sealed = true;
                s.last_hash = line_hash(line);
            }
            Err(_) => s.last_hash = line_hash(line),
        }
    }
    s
}

/// Checks a trail: `files` are `(name, contents)` in file-number order
/// (every `audit-*.jsonl` of the directory). Each digest's signature is
/// checked against `pinned` when given, else against the key the digest
/// names.
///
/// # Errors
///
/// The first broken or missing record or file.
pub fn verify(files: &[(String, Vec<u8>)], pinned: Option<&[u8; 32]>) -> Result<Summary, Broken> {
    let mut summary = Summary {
        files: 0,
        records: 0,
        signed_digests: 0,
        unsigned_digests: 0,
        last_open: false,
    };
    let mut previous_digest = GENESIS;
    let mut expected_sequence = 1u64;
    for (index, (name, bytes)) in files.iter().enumerate() {
        let broken = |line: usize, reason: String| Broken {
            file: name.clone(),
            line,
            reason,
        };
        let expected_file = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        let number = file_sequence(name)
            .ok_or_else(|| broken(0, "not a trail file name (audit-NNNNNNNN.jsonl)".into()))?;
        if number != expected_file {
            let missing = file_name(expected_file);
            return Err(broken(
                0,
                format!("missing file {missing} before it (gap in the chain)"),
            ));
        }
        let last = index + 1 == files.len();
        let (lines, complete) = lines(bytes);
        if complete != bytes.len() {
            return Err(broken(
                lines.len() + 1,
                "truncated record (no newline)".into(),
            ));
        }
        let mut previous = previous_digest;
        let mut records = 0u64;
        let first_sequence = expected_sequence;
        let mut sealed = false;
        for (i, line) in lines.iter().enumerate() {
            let n = i + 1;
            if sealed {
                return Err(broken(n, "a line after the file's digest".into()));
            }
            match parse_line(line).map_err(|r| broken(n, r))? {
                Line::Record {
                    sequence,
                    previous: p,
                } => {
                    if sequence != expected_sequence {
                        return Err(broken(n, order_reason(&lines, expected_sequence, sequence)));
                    }
                    if p != hex(&previous) {
                        return Err(if n == 1 {
                            broken(
                                n,
                                "does not chain to the previous file's digest (a file is missing or changed)"
                                    .into(),
                            )
                        } else {
                            broken(
                                n - 1,
                                "changed record (its hash does not match the next record's stsdPreviousHash)"
                                    .into(),
                            )
                        });
                    }
                    previous = line_hash(line);
                    expected_sequence += 1;
                    records += 1;
                }
                Line::Digest(d) => {
                    let input = DigestInput {
                        file: name.clone(),
                        file_sequence: number,
                        records,
                        first_sequence,
                        last_hash: previous,
                        previous_digest_hash: previous_digest,
                        event_time: d
                            .get("eventTime")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        recovered: d
                            .pointer("/digest/recovered")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    };
                    check_digest(&d, &input, pinned, n, &mut summary)
                        .map_err(|r| broken(r.0, r.1))?;
                    previous_digest = line_hash(line);
                    sealed = true;
                }
            }
        }
        if !sealed && !last {
            return Err(broken(
                lines.len() + 1,
                "no digest record, but a later file exists (the file was cut short)".into(),
            ));
        }
        summary.last_open = !sealed;
        summary.files += 1;
        summary.records += records;
    }
    Ok(summary)
}

/// Why a record's sequence is not the expected one.
fn order_reason(lines: &[&[u8]], expected: u64, found: u64) -> String {
    let later = lines.iter().any(
        |l| matches!(parse_line(l), Ok(Line::Record { sequence, .. }) if sequence == expected),
    );
    if later || found < expected {
        format!("reordered record: sequence {found} where {expected} was expected")
    } else {
        format!("missing record: sequence {expected} is not in the trail (found {found})")
    }
}

/// Checks a digest line against what the file holds.
fn check_digest(
    d: &Value,
    input: &DigestInput,
    pinned: Option<&[u8; 32]>,
    line: usize,
    summary: &mut Summary,
) -> Result<(), (usize, String)> {
    let field = |name: &str| d.pointer(&format!("/digest/{name}"));
    let said_records = field("records").and_then(Value::as_u64);
    if said_records != Some(input.records) {
        return Err((
            line,
            format!(
                "the digest counts {} records, the file holds {} (a record was removed or added)",
                said_records.unwrap_or(0),
                input.records
            ),
        ));
    }
    if field("lastHash").and_then(Value::as_str) != Some(hex(&input.last_hash).as_str()) {
        return Err((
            line.saturating_sub(1),
            "changed record (its hash does not match the digest's lastHash)".into(),
        ));
    }
    let consistent = field("file").and_then(Value::as_str) == Some(input.file.as_str())
        && field("fileSequence").and_then(Value::as_u64) == Some(input.file_sequence)
        && field("firstSequence").and_then(Value::as_u64) == Some(input.first_sequence)
        && field("previousDigestHash").and_then(Value::as_str)
            == Some(hex(&input.previous_digest_hash).as_str());
    if !consistent {
        return Err((
            line,
            "changed digest (it does not describe this file's place in the chain)".into(),
        ));
    }
    let signature = d.get("signature").and_then(Value::as_str);
    let named_key = field("publicKey")
        .and_then(Value::as_str)
        .and_then(|k| data_encoding::BASE64.decode(k.as_bytes()).ok());
    let Some(signature) = signature else {
        if pinned.is_some() {
            return Err((line, "unsigned digest (a public key was given)".into()));
        }
        summary.unsigned_digests += 1;
        return Ok(());
    };
    let key: Vec<u8> = match (pinned, named_key) {
        (Some(p), _) => p.to_vec(),
        (None, Some(k)) => k,
        (None, None) => return Err((line, "a signed digest without its public key".into())),
    };
    let signature = data_encoding::BASE64
        .decode(signature.as_bytes())
        .map_err(|_| (line, "bad signature".to_owned()))?;
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&signed_bytes(input), &signature)
        .map_err(|_| (line, "bad signature".to_owned()))?;
    summary.signed_digests += 1;
    Ok(())
}
