//! Segment files of the issued-session log: framing, appending, reading.
//!
//! Owns: the frame format and the file operations on one segment. A
//! segment is `issued-<seq>.log` (`seq` zero-padded, increasing) in the
//! log's directory, mode 0600. A frame is the payload's length (u32 LE),
//! its CRC-32 (u32 LE), then the payload: one [`IssuedSession`] as JSON.
//! May import std, crc32fast, serde_json and the domain record.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::domain::sessions::IssuedSession;

/// Bytes before each payload.
const HEADER: usize = 8;
/// The largest payload read back; larger lengths are a torn or damaged
/// frame. A record is a few hundred bytes.
const MAX_PAYLOAD: usize = 64 * 1024;

const PREFIX: &str = "issued-";
const SUFFIX: &str = ".log";

/// The path of segment `seq` in `dir`.
pub(super) fn path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{seq:016}{SUFFIX}"))
}

/// The sequence numbers of the segments in `dir`, in order. Other files
/// are ignored.
pub(super) fn list(dir: &Path) -> io::Result<Vec<u64>> {
    let mut seqs = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let seq = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|n| n.strip_suffix(SUFFIX))
            .and_then(|n| n.parse::<u64>().ok());
        seqs.extend(seq);
    }
    seqs.sort_unstable();
    Ok(seqs)
}

/// Appends the frame of `record` to `buf`.
pub(super) fn encode(record: &IssuedSession, buf: &mut Vec<u8>) -> io::Result<()> {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER]);
    serde_json::to_writer(&mut *buf, record)?;
    let payload = buf.get(start + HEADER..).unwrap_or_default();
    if payload.len() > MAX_PAYLOAD {
        buf.truncate(start);
        return Err(io::Error::other("an issued-session record over 64 KiB"));
    }
    let len = u32::try_from(payload.len()).map_err(io::Error::other)?;
    let crc = crc32fast::hash(payload);
    let mut header = [0; HEADER];
    let fields = len.to_le_bytes().into_iter().chain(crc.to_le_bytes());
    for (slot, byte) in header.iter_mut().zip(fields) {
        *slot = byte;
    }
    if let Some(slot) = buf.get_mut(start..start + HEADER) {
        slot.copy_from_slice(&header);
    }
    Ok(())
}

/// What reading a segment found.
#[derive(Debug, Default)]
pub(super) struct Contents {
    /// The whole records, in order.
    pub records: Vec<IssuedSession>,
    /// Where the last whole record ends.
    pub valid_len: u64,
    /// The file's length: more than `valid_len` when its tail is torn.
    pub file_len: u64,
    /// Where a whole, checksummed frame that is not a record starts
    /// (damage a torn write cannot explain, or an unknown format).
    pub undecodable_at: Option<u64>,
}

/// Reads every whole frame of `path`, stopping at the first torn or
/// damaged one.
pub(super) fn read(path: &Path) -> io::Result<Contents> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut contents = Contents {
        file_len: bytes.len() as u64,
        ..Contents::default()
    };
    let mut rest = bytes.as_slice();
    while let Some((payload, used)) = frame(rest) {
        match serde_json::from_slice(payload) {
            Ok(record) => contents.records.push(record),
            Err(_) => {
                contents.undecodable_at = Some(contents.valid_len);
                break;
            }
        }
        contents.valid_len += used as u64;
        rest = rest.get(used..).unwrap_or_default();
    }
    Ok(contents)
}

/// The payload of the first frame of `bytes` and the frame's size, if it
/// is whole and its checksum holds.
fn frame(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let header: [u8; HEADER] = bytes.get(..HEADER)?.try_into().ok()?;
    let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    if len == 0 || len > MAX_PAYLOAD {
        return None;
    }
    let payload = bytes.get(HEADER..HEADER + len)?;
    (crc32fast::hash(payload) == crc).then_some((payload, HEADER + len))
}

/// Creates segment `seq` (it must not exist) and makes its name durable.
pub(super) fn create(dir: &Path, seq: u64) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path(dir, seq))?;
    sync_dir(dir)?;
    Ok(file)
}

/// Cuts `path` to `len` bytes, durably.
pub(super) fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(len)?;
    file.sync_all()
}

/// Removes segment `seq`.
pub(super) fn remove(dir: &Path, seq: u64) -> io::Result<()> {
    match fs::remove_file(path(dir, seq)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes `bytes` at the end of `file`.
pub(super) fn append(mut file: &File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)
}

/// Makes the directory's entries (a created segment) durable.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
