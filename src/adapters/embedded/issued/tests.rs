use std::io::Write;

use super::*;
use crate::service::store::conformance::account;
use crate::service::store::conformance::sessions::issued;

const T: u64 = 1_700_000_000;

fn all(log: &SessionLog, a: AccountId, now: u64) -> Vec<IssuedSession> {
    log.list(a, &SessionFilter::default(), now, None, 1_000)
        .items
}

#[test]
fn recorded_sessions_survive_reopening_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let a = account(11);
    let mut batch: Vec<_> = (0..5).map(|n| issued(a, n, "app", T + 100)).collect();
    batch.push(issued(a, 5, "app", T + 10_000));
    {
        let log = SessionLog::open(dir.path(), T).unwrap();
        log.record(batch.get(..3).unwrap().to_vec(), T, true)
            .unwrap();
        log.record(batch.get(3..).unwrap().to_vec(), T, false)
            .unwrap();
        log.sync().unwrap();
    }
    let log = SessionLog::open(dir.path(), T + 1).unwrap();
    let mut want = batch.clone();
    want.sort_by(|x, y| x.access_key_id.cmp(&y.access_key_id));
    assert_eq!(all(&log, a, T + 1), want, "every record is read back");
    drop(log);

    let log = SessionLog::open(dir.path(), T + 200).unwrap();
    assert_eq!(
        all(&log, a, T + 200),
        batch.get(5..).unwrap(),
        "only the live one is indexed after its siblings expired"
    );
    assert_eq!(log.indexed(), 1);
}

#[test]
fn a_torn_tail_is_cut_and_the_log_goes_on_in_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let a = account(12);
    let first = issued(a, 1, "app", T + 100);
    let seq = {
        let log = SessionLog::open(dir.path(), T).unwrap();
        log.record(vec![first.clone()], T, true).unwrap();
        *log.segments().first().unwrap()
    };
    // A crash in the middle of the next frame.
    let path = segment::path(&dir.path().join(DIR_NAME), seq);
    let whole = std::fs::metadata(&path).unwrap().len();
    let mut frame = Vec::new();
    segment::encode(&issued(a, 2, "app", T + 100), &mut frame).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(frame.get(..frame.len() - 5).unwrap())
        .unwrap();
    drop(file);

    let log = SessionLog::open(dir.path(), T).unwrap();
    assert_eq!(all(&log, a, T), vec![first.clone()]);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole, "tail cut");
    let third = issued(a, 3, "app", T + 100);
    log.record(vec![third.clone()], T, true).unwrap();
    assert_eq!(log.segments().len(), 2, "a reopened log starts a segment");
    drop(log);
    let log = SessionLog::open(dir.path(), T).unwrap();
    let mut want = vec![first, third];
    want.sort_by(|x, y| x.access_key_id.cmp(&y.access_key_id));
    assert_eq!(all(&log, a, T), want);
}

#[test]
fn a_damaged_frame_ends_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    let a = account(13);
    let seq = {
        let log = SessionLog::open(dir.path(), T).unwrap();
        let batch: Vec<_> = (0..3).map(|n| issued(a, n, "app", T + 100)).collect();
        log.record(batch, T, true).unwrap();
        *log.segments().first().unwrap()
    };
    let path = segment::path(&dir.path().join(DIR_NAME), seq);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    *bytes.get_mut(middle).unwrap() ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let log = SessionLog::open(dir.path(), T).unwrap();
    assert_eq!(
        all(&log, a, T).len(),
        1,
        "records after the damage are not trusted"
    );
}

#[test]
fn segments_roll_with_time_and_go_once_all_their_sessions_expired() {
    let dir = tempfile::tempdir().unwrap();
    let a = account(14);
    let log = SessionLog::open(dir.path(), T).unwrap();
    log.record(vec![issued(a, 1, "app", T + 900)], T, true)
        .unwrap();
    log.record(vec![issued(a, 2, "app", T + 7_200)], T + 10, true)
        .unwrap();
    // The segment still holds a live session at T + 1000.
    assert_eq!(log.purge(T + 1_000, 100).unwrap(), 1);
    assert_eq!(log.segments().len(), 1);
    assert_eq!(all(&log, a, T + 1_000).len(), 1);

    let third = issued(a, 3, "app", T + ROLL_SECS + 9_000);
    log.record(vec![third], T + ROLL_SECS, true).unwrap();
    assert_eq!(log.segments().len(), 2, "an hour later, a new segment");

    assert_eq!(log.purge(T + 7_200, 100).unwrap(), 1);
    assert_eq!(log.segments().len(), 1, "the first segment is deleted");
    let files = segment::list(&dir.path().join(DIR_NAME)).unwrap();
    assert_eq!(files, log.segments());
    // The active segment is kept even when all its sessions expired.
    assert_eq!(log.purge(T + ROLL_SECS + 9_000, 100).unwrap(), 1);
    assert_eq!(log.segments().len(), 1);
    assert_eq!(log.indexed(), 0);
}

#[cfg(unix)]
#[test]
fn segments_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = SessionLog::open(dir.path(), T).unwrap();
    log.record(vec![issued(account(15), 1, "app", T + 900)], T, true)
        .unwrap();
    let sessions = dir.path().join(DIR_NAME);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sessions), 0o700);
    let seq = *log.segments().first().unwrap();
    assert_eq!(mode(&segment::path(&sessions, seq)), 0o600);
}

#[test]
fn a_re_recorded_session_keeps_one_entry_under_its_latest_expiry() {
    let mut index = index::Index::default();
    let first = issued(account(16), 1, "app", T + 100);
    let later = IssuedSession {
        expires_at: T + 500,
        ..first.clone()
    };
    index.insert(first.clone());
    index.insert(first.clone());
    assert_eq!(index.len(), 1);
    index.insert(later.clone());
    assert_eq!(index.len(), 1);
    assert_eq!(index.purge(T + 100, 10), 0, "the old expiry is gone");
    assert_eq!(index.get(&first.access_key_id, T + 200), Some(later));
    assert_eq!(index.purge(T + 500, 10), 1);
    assert_eq!(index.len(), 0);
}

#[test]
fn a_whole_frame_that_is_no_record_stops_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let seq = {
        let log = SessionLog::open(dir.path(), T).unwrap();
        log.record(vec![issued(account(17), 1, "app", T + 100)], T, true)
            .unwrap();
        *log.segments().first().unwrap()
    };
    let path = segment::path(&dir.path().join(DIR_NAME), seq);
    let payload = br#"{"not":"a session"}"#;
    let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    frame.extend_from_slice(payload);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&frame).unwrap();
    drop(file);
    let e = SessionLog::open(dir.path(), T).unwrap_err();
    assert!(matches!(e, StoreError::CorruptRecord { .. }), "{e:?}");
    assert!(
        std::fs::metadata(&path).unwrap().len() > 0,
        "nothing is cut"
    );
}

#[test]
fn relaxed_appends_run_inline_only_into_an_open_segment() {
    let dir = tempfile::tempdir().unwrap();
    let a = account(13);
    let records: Vec<_> = (0..3).map(|n| issued(a, n, "app", T + 100)).collect();
    let log = SessionLog::open(dir.path(), T).unwrap();
    assert!(
        !log.record_relaxed_inline(records.get(..1).unwrap(), T)
            .unwrap(),
        "no segment is open yet: opening one is left to the blocking pool"
    );
    assert!(
        all(&log, a, T).is_empty(),
        "declined means nothing recorded"
    );
    log.record(records.get(..1).unwrap().to_vec(), T, false)
        .unwrap();
    assert!(
        log.record_relaxed_inline(records.get(1..).unwrap(), T + 1)
            .unwrap(),
        "into the open segment"
    );
    assert_eq!(all(&log, a, T + 1), records, "indexed at once");
    {
        let _purging = log.writer.lock();
        assert!(
            !log.record_relaxed_inline(records.get(..1).unwrap(), T + 1)
                .unwrap(),
            "a held writer lock is not waited for on an async worker"
        );
    }
    {
        let _listing = log.index.read();
        assert!(
            !log.record_relaxed_inline(records.get(..1).unwrap(), T + 1)
                .unwrap(),
            "nor a held index lock (checked before anything is written)"
        );
    }
    assert!(
        !log.record_relaxed_inline(records.get(..1).unwrap(), T + ROLL_SECS)
            .unwrap(),
        "a segment due to close (and be synced) is declined"
    );
    log.sync().unwrap();
    drop(log);
    let log = SessionLog::open(dir.path(), T + 2).unwrap();
    assert_eq!(all(&log, a, T + 2), records, "and on disk");
}
