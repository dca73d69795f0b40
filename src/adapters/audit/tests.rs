use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::domain::audit::chain;
use crate::domain::audit::{
    AuditRecord, EVENT_VERSION, EventSource, EventType, UserIdentity, format_time,
};
use crate::domain::clock::FixedClock;

fn record(n: usize) -> AuditRecord {
    AuditRecord {
        event_version: EVENT_VERSION,
        user_identity: UserIdentity::unknown(),
        event_time: format_time(0),
        event_source: EventSource::Stsd,
        event_name: format!("Test{n}"),
        aws_region: "us-east-1".into(),
        source_ip_address: None,
        user_agent: None,
        error_code: None,
        error_message: None,
        request_parameters: None,
        response_elements: None,
        request_id: format!("r{n}"),
        event_id: format!("e{n}"),
        read_only: false,
        event_type: EventType::ApiCall,
        management_event: true,
        recipient_account_id: None,
        additional_event_data: serde_json::Map::new(),
    }
}

fn settings(dir: &std::path::Path, rotate_bytes: u64) -> WriterSettings {
    WriterSettings {
        dir: Some(dir.to_owned()),
        stdout: false,
        rotate_bytes,
        rotate_age: Duration::from_secs(3600),
        queue: 16,
        key: None,
    }
}

fn trail(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

#[tokio::test]
async fn durable_writes_rotate_seal_and_chain_across_restarts() {
    let dir = std::env::temp_dir().join(format!("stsd-audit-{}", uuid::Uuid::new_v4()));
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::at_secs(1_700_000_000));
    let w = AuditWriter::start(settings(&dir, 1024), Arc::clone(&clock)).unwrap();
    for n in 0..10 {
        w.submit(record(n), true).await.unwrap();
    }
    w.close().await;
    // Every durable record is on disk; small files rotated; all sealed.
    let files = trail(&dir);
    assert!(files.len() > 2, "{}", files.len());
    let s = chain::verify(&files, None).unwrap();
    assert_eq!((s.records, s.last_open), (10, false));

    // A restart continues the chain in a new file.
    let w = AuditWriter::start(settings(&dir, 1 << 20), Arc::clone(&clock)).unwrap();
    w.submit(record(10), false).await.unwrap();
    w.close().await;
    let again = trail(&dir);
    assert_eq!(again.len(), files.len() + 1);
    assert_eq!(chain::verify(&again, None).unwrap().records, 11);

    // A file left open (and torn) by a crash is sealed at the next start.
    let last = dir.join(chain::file_name(u64::try_from(again.len()).unwrap() + 1));
    let line = record(11)
        .to_line(
            12,
            &chain::line_hash(
                again
                    .last()
                    .unwrap()
                    .1
                    .trim_ascii_end()
                    .rsplit(|b| *b == b'\n')
                    .next()
                    .unwrap(),
            ),
        )
        .unwrap();
    std::fs::write(&last, format!("{line}\n{{\"torn")).unwrap();
    let w = AuditWriter::start(settings(&dir, 1 << 20), clock).unwrap();
    w.close().await;
    let recovered = trail(&dir);
    let s = chain::verify(&recovered, None).unwrap();
    assert_eq!(s.records, 12);
    assert!(String::from_utf8_lossy(&recovered[again.len()].1).contains("\"recovered\":true"));
    std::fs::remove_dir_all(&dir).unwrap();
}
