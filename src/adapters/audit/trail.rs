//! The audit files of one directory.
//!
//! Owns: [`Trail`] — the open file (`audit-NNNNNNNN.jsonl`, mode 0600, in
//! a 0700 directory), the chain state (next sequence, hash of the last
//! line, hash of the last digest), appending a batch of records in one
//! `write`, `fdatasync`, sealing a file with its digest and opening the
//! next (rotation by size or age, and at shutdown), and recovery at start:
//! a last file left unsealed by a crash loses its torn tail (a partial
//! line, never acknowledged) and is sealed with `recovered: true` before a
//! new file opens. The chain rules themselves are `domain::audit::chain`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::audit::chain::{
    self, DigestInput, DigestKey, GENESIS, Scanned, file_name, file_sequence,
};
use crate::domain::audit::{AuditRecord, format_time};

/// The files and the chain state.
#[derive(Debug)]
pub(super) struct Trail {
    dir: PathBuf,
    key: Option<DigestKey>,
    file: File,
    number: u64,
    size: u64,
    /// When the open file was opened (clock seconds).
    opened: i64,
    records: u64,
    first_sequence: u64,
    next_sequence: u64,
    last_hash: [u8; 32],
    previous_digest: [u8; 32],
}

// === impl Trail ===

impl Trail {
    /// Opens the trail in `dir`: recovers and seals an unsealed last file,
    /// then opens the next one.
    pub(super) fn open(dir: &Path, key: Option<DigestKey>, now_secs: i64) -> io::Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mut numbers: Vec<u64> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| file_sequence(&e.file_name().to_string_lossy()))
            .collect();
        numbers.sort_unstable();
        let (mut next_sequence, mut previous_digest, mut last) = (1, GENESIS, 0);
        if let Some(&n) = numbers.last() {
            let (seq, digest) = recover(dir, n, key.as_ref(), now_secs)?;
            (next_sequence, previous_digest, last) = (seq, digest, n);
        }
        let number = last + 1;
        let file = create(&dir.join(file_name(number)))?;
        Ok(Self {
            dir: dir.to_owned(),
            key,
            file,
            number,
            size: 0,
            opened: now_secs,
            records: 0,
            first_sequence: next_sequence,
            next_sequence,
            last_hash: previous_digest,
            previous_digest,
        })
    }

    /// Appends `records` to the open file in one write; returns the lines
    /// written (for the stdout sink).
    pub(super) fn append(&mut self, records: &[AuditRecord]) -> io::Result<String> {
        let mut buf = String::with_capacity(records.len() * 1024);
        let (mut seq, mut hash) = (self.next_sequence, self.last_hash);
        for r in records {
            let line = r
                .to_line(seq, &hash)
                .map_err(|e| io::Error::other(e.to_string()))?;
            hash = chain::line_hash(line.as_bytes());
            buf.push_str(&line);
            buf.push('\n');
            seq += 1;
        }
        self.file.write_all(buf.as_bytes())?;
        self.next_sequence = seq;
        self.last_hash = hash;
        self.records += u64::try_from(records.len()).unwrap_or(u64::MAX);
        self.size += u64::try_from(buf.len()).unwrap_or(u64::MAX);
        Ok(buf)
    }

    /// `fdatasync` of the open file.
    pub(super) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Whether the open file is due for rotation at `now_secs`.
    pub(super) fn due(&self, max_bytes: u64, max_age: Duration, now_secs: i64) -> bool {
        let age = u64::try_from(now_secs.saturating_sub(self.opened)).unwrap_or(0);
        self.size >= max_bytes || (self.records > 0 && age >= max_age.as_secs())
    }

    /// Seals the open file with its digest and, unless `last`, opens the
    /// next one.
    pub(super) fn rotate(&mut self, now_secs: i64, last: bool) -> io::Result<()> {
        let d = DigestInput {
            file: file_name(self.number),
            file_sequence: self.number,
            records: self.records,
            first_sequence: self.first_sequence,
            last_hash: self.last_hash,
            previous_digest_hash: self.previous_digest,
            event_time: format_time(now_secs),
            recovered: false,
        };
        let line = chain::digest_line(&d, self.key.as_ref());
        self.file.write_all(format!("{line}\n").as_bytes())?;
        self.file.sync_data()?;
        self.previous_digest = chain::line_hash(line.as_bytes());
        self.last_hash = self.previous_digest;
        if last {
            return Ok(());
        }
        self.number += 1;
        self.file = create(&self.dir.join(file_name(self.number)))?;
        self.size = 0;
        self.records = 0;
        self.first_sequence = self.next_sequence;
        self.opened = now_secs;
        Ok(())
    }
}

/// A new trail file, 0600; an existing one of the name is an error.
fn create(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(file)
}

/// Reads file `n` back and seals it when a crash left it open. Returns the
/// next sequence number and the hash of its digest line.
fn recover(
    dir: &Path,
    n: u64,
    key: Option<&DigestKey>,
    now_secs: i64,
) -> io::Result<(u64, [u8; 32])> {
    let path = dir.join(file_name(n));
    let mut bytes = Vec::new();
    File::open(&path)?.read_to_end(&mut bytes)?;
    let scanned = chain::scan(&bytes, GENESIS, 1);
    if scanned.sealed {
        return Ok((scanned.next_sequence, scanned.last_hash));
    }
    // Unsealed: the state before it comes from the file before it (only
    // needed when this one holds no record).
    let (before_seq, before_hash) = match scanned.start_hash {
        Some(h) => (scanned.first_sequence.unwrap_or(1), h),
        None if n > 1 => recover(dir, n - 1, key, now_secs)?,
        None => (1, GENESIS),
    };
    let file = OpenOptions::new().append(true).open(&path)?;
    file.set_len(u64::try_from(scanned.complete_len).unwrap_or(u64::MAX))?;
    let s = Scanned {
        next_sequence: if scanned.records == 0 {
            before_seq
        } else {
            scanned.next_sequence
        },
        last_hash: if scanned.records == 0 {
            before_hash
        } else {
            scanned.last_hash
        },
        ..scanned
    };
    let d = DigestInput {
        file: file_name(n),
        file_sequence: n,
        records: s.records,
        first_sequence: s.first_sequence.unwrap_or(s.next_sequence),
        last_hash: s.last_hash,
        previous_digest_hash: before_hash,
        event_time: format_time(now_secs),
        recovered: true,
    };
    let line = chain::digest_line(&d, key);
    let mut file = file;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_data()?;
    tracing::warn!(file = %path.display(), records = s.records, "sealed an audit file left open by an unclean stop");
    Ok((s.next_sequence, chain::line_hash(line.as_bytes())))
}
