//! Start-up, secrets, configuration checks, TLS and graceful shutdown.

use std::io::Write as _;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::time::Duration;

use crate::daemon::{Daemon, Options, TempDir, read_response, stsd};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_start_writes_private_secrets_and_prints_only_paths() {
    let d = Daemon::start();
    let creds = d.data_dir().join("root-credentials");
    let key = d.data_dir().join("master.key");
    assert_eq!((mode(&creds), mode(&key)), (0o600, 0o600));
    let stdout = d.stdout();
    assert!(
        stdout.contains(&format!("generated {} (mode 0600)", creds.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("generated {} (mode 0600)", key.display())),
        "{stdout}"
    );

    let text = std::fs::read_to_string(&creds).unwrap();
    let secret = text
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key="))
        .unwrap();
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id="))
        .unwrap();
    assert_eq!((secret.len(), id.len()), (40, 20));
    assert!(id.starts_with("AKIA"));
    let master = std::fs::read_to_string(&key).unwrap();
    let everything = format!("{stdout}{}", d.stderr());
    assert!(
        !everything.contains(secret) && !everything.contains(master.trim()),
        "{everything}"
    );
}

#[test]
fn a_restart_reuses_the_secrets() {
    let mut d = Daemon::start();
    let creds = std::fs::read_to_string(d.data_dir().join("root-credentials")).unwrap();
    d.sigterm();
    assert!(d.wait_exit(30).success());
    // Same data dir, new process.
    let data = d.data_dir();
    let again = Daemon::start_with(Options {
        env: vec![("STSD_DATA_DIR".into(), data.display().to_string())],
        ..Options::default()
    });
    assert!(!again.stdout().contains("generated"), "{}", again.stdout());
    assert_eq!(
        std::fs::read_to_string(data.join("root-credentials")).unwrap(),
        creds
    );
}

#[test]
fn environment_secrets_write_no_files() {
    let d = Daemon::start_with(Options {
        env: vec![
            (
                "STSD_ROOT_ACCESS_KEY_ID".into(),
                "AKIAIOSFODNN7EXAMPLE".into(),
            ),
            (
                "STSD_ROOT_SECRET_ACCESS_KEY".into(),
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
            (
                "STSD_MASTER_KEY".into(),
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
            ),
            ("STSD_ACCOUNT_ID".into(), "111122223333".into()),
        ],
        ..Options::default()
    });
    assert!(!d.data_dir().join("root-credentials").exists());
    assert!(!d.data_dir().join("master.key").exists());
    assert!(
        d.stderr().contains("\"account\":\"111122223333\""),
        "{}",
        d.stderr()
    );
    assert!(!d.stderr().contains("wJalrXUtnFEMI"));
}

#[test]
fn a_key_file_readable_by_others_is_refused() {
    let dir = TempDir::new("perm");
    let key = dir.path().join("k");
    std::fs::write(&key, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.path().join("stsd.toml");
    std::fs::write(&config, format!("[server]\nlisten = \"127.0.0.1:0\"\n[store]\ndata_dir = \"{}\"\nmaster_key_file = \"{}\"\n", dir.path().join("d").display(), key.display())).unwrap();
    let out = stsd(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: is accessible by group or others (mode 0644)",
            key.display()
        )),
        "{err}"
    );
}

#[test]
fn check_config_names_key_and_line() {
    let dir = TempDir::new("check");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "partition = \"aws\"\n\n[server]\nlisten = \"127.0.0.1:8433\"\nlisten_port = 1\n",
    )
    .unwrap();
    let out = stsd(&["check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:5:1: [server]: unknown field `listen_port`",
            bad.display()
        )),
        "{err}"
    );

    std::fs::write(&bad, "[signature]\nclock_skew_secs = 0\n").unwrap();
    let out = stsd(&["check-config", "--config", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:2:") && err.contains("from 1 to 3600, got 0"),
        "{err}"
    );

    let missing = dir.path().join("missing.pem");
    std::fs::write(
        &bad,
        format!(
            "[server.tls]\ncert_file = \"{0}\"\nkey_file = \"{0}\"\n",
            missing.display()
        ),
    )
    .unwrap();
    let out = stsd(&["check-config", "--config", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("missing.pem: cannot load the certificate chain"),
        "{err}"
    );

    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config/stsd.full.toml");
    let out = stsd(&["check-config", "--config", shipped]);
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        (Some(0), "ok")
    );
    let out = stsd(&["check-config"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn plain_http_off_loopback_is_refused() {
    let out = stsd(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--listen: 0.0.0.0:0 is not a loopback address"),
        "{err}"
    );
}

#[test]
fn sigterm_drains_an_in_flight_request() {
    let mut d = Daemon::start_with(Options {
        server_toml: "shutdown_grace_secs = 20\n".into(),
        ..Options::default()
    });
    let body = b"Action=NoSuchAction&Version=2011-06-15";
    let mut s = TcpStream::connect(d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // Headers and half the body: the request is being read by its handler.
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..10]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    d.sigterm();
    // New connections are refused once the listener closes...
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(d.addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refused, "the listener stayed open after SIGTERM");
    // ...while the in-flight request completes.
    s.write_all(&body[10..]).unwrap();
    let r = read_response(&mut s).unwrap();
    assert_eq!((r.status, r.code()), (400, "InvalidAction"), "{}", r.body);
    assert!(d.wait_exit(30).success());
    let logs = d.stderr();
    assert!(
        logs.contains("\"signal\":\"SIGTERM\"") && logs.contains("\"message\":\"drained\""),
        "{logs}"
    );
}

#[test]
fn serves_tls_when_a_certificate_is_configured() {
    let dir = TempDir::new("tls");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let d = Daemon::start_with(Options {
        extra_toml: format!(
            "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            key.display()
        ),
        ..Options::default()
    });
    // Plain HTTP gets no successful answer from a TLS listener.
    let plain = d.try_raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status != 200));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(d.addr).unwrap());
    tls.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 31\r\nConnection: close\r\n\r\nAction=Nope&Version=2011-06-15&").unwrap();
    let r = read_response(&mut tls).unwrap();
    assert_eq!((r.status, r.code()), (400, "InvalidAction"));
}
