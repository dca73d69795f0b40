//! `[store.redis]` and its environment overrides.

use super::*;
use crate::config::redis::RedisTopology;

#[test]
fn redis_backend_reads_its_section_and_defaults() {
    let text = "[store]\nbackend = \"redis\"\n[store.redis]\nurl = \"redis://127.0.0.1:6379\"\n";
    let c = load(text, &[]).unwrap();
    assert_eq!(c.store.backend, StoreBackend::Redis);
    let r = c.store.redis.unwrap();
    assert!(matches!(r.topology, RedisTopology::Standalone { .. }));
    assert_eq!(r.prefix, "stsd:");
    assert_eq!(r.invalidation_poll, Duration::from_millis(1000));
    assert_eq!(r.revocation_grace, Duration::from_secs(30));
    assert_eq!(r.connect_timeout, Duration::from_millis(1000));
    // The embedded backend has no Redis settings.
    assert!(load("", &[]).unwrap().store.redis.is_none());
}

#[test]
fn env_selects_redis_and_its_url_without_logging_the_password() {
    let c = load(
        "",
        &[
            ("STSD_STORE_BACKEND", "redis"),
            ("STSD_REDIS_URL", "rediss://app:hunter2@redis.internal:6380"),
        ],
    )
    .unwrap();
    let r = c.store.redis.unwrap();
    let RedisTopology::Standalone { url } = &r.topology else {
        panic!("standalone expected");
    };
    assert_eq!(
        url.expose_secret(),
        "rediss://app:hunter2@redis.internal:6380"
    );
    assert!(!format!("{r:?}").contains("hunter2"));

    let e = load("", &[("STSD_STORE_BACKEND", "mongo")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("STSD_STORE_BACKEND:"), "{e}");
    let e = load(
        "",
        &[
            ("STSD_STORE_BACKEND", "redis"),
            ("STSD_REDIS_URL", "http://user:hunter2@x"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("STSD_REDIS_URL:"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn cluster_and_sentinel_need_their_addresses() {
    let e = load("[store]\nbackend = \"redis\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("store.redis.url"), "{e}");

    let e = load(
        "[store]\nbackend = \"redis\"\n[store.redis]\nmode = \"cluster\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("store.redis.urls"), "{e}");

    let e = load(
        "[store]\nbackend = \"redis\"\n[store.redis]\nmode = \"sentinel\"\nurls = [\"redis://s1:26379\"]\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("store.redis.sentinel_master"), "{e}");

    let c = load(
        "[store]\nbackend = \"redis\"\n[store.redis]\nmode = \"cluster\"\n",
        &[(
            "STSD_REDIS_URLS",
            "redis://127.0.0.1:7000, redis://127.0.0.1:7001",
        )],
    )
    .unwrap();
    let Some(RedisTopology::Cluster { seeds }) = c.store.redis.map(|r| r.topology) else {
        panic!("cluster expected");
    };
    assert_eq!(seeds.len(), 2);
}

#[test]
fn bad_redis_values_name_the_field() {
    let base = "[store]\nbackend = \"redis\"\n[store.redis]\nurl = \"redis://h\"\n";
    let e = load(&format!("{base}prefix = \"a{{b}}\"\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("store.redis.prefix"), "{e}");
    let e = load(&format!("{base}invalidation_poll_ms = 1\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("stsd.toml:5:"), "{e}");
    assert!(e.contains("from 10 to 60000"), "{e}");
    let e = load(&format!("{base}mode = \"ring\"\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variant"), "{e}");
    let e = load(
        "[store]\nbackend = \"redis\"\n[store.redis]\nurl = \"redis://\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("store.redis.url") && e.contains("no host"),
        "{e}"
    );
}
