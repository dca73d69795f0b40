//! Real Redis servers for the tests: standalone and a 3-master Cluster on
//! loopback ports, started by the harness and stopped by PID.
//!
//! [`RedisServer::start`] runs `redis-server --bind 127.0.0.1 --port <free
//! port> --save "" --appendonly no --daemonize no` in a fresh directory
//! and waits (bounded) until it answers `PING`; [`RedisCluster::start`]
//! starts three with `--cluster-enabled yes`, joins them with `redis-cli
//! --cluster create … --cluster-replicas 0 --cluster-yes` and waits for
//! `cluster_state:ok` on every node. Both kill their processes on drop.
//! The apt-installed service is never used.
//!
//! [`RedisServer::start_tls`] serves TLS only, with a fresh self-signed
//! certificate; [`RedisSentinel::start`] runs a sentinel watching a
//! server as master `mymaster`.
//!
//! When `redis-server` is not installed, [`available`] prints a loud
//! message and the tests skip, unless `CI` is set: then it is a failure.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::daemon::TempDir;

/// The longest wait for a server or the cluster to come up.
const START_WAIT: Duration = Duration::from_secs(20);
const STEP: Duration = Duration::from_millis(50);

/// Whether the Redis tests can run: `redis-server` and `redis-cli` are on
/// the PATH. Panics when they are not and `CI` is set.
pub(crate) fn available() -> bool {
    let found = ["redis-server", "redis-cli"].iter().all(|bin| {
        Command::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server/redis-cli missing and CI is set: run scripts/install-test-deps.sh"
        );
        eprintln!(
            "\n*** SKIPPED: redis-server or redis-cli is not installed; the Redis tests did not run (install redis-server and redis-tools, or run `make test`) ***\n"
        );
    }
    found
}

/// A free loopback port whose cluster bus port (+10000) is free too.
fn free_port() -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port > 55_000 {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port pair");
}

/// Sends one inline command and returns what came back (bounded).
fn ask(port: u16, command: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut buf = vec![0; 8192];
    let n = s.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Polls `ready` every 50 ms for at most [`START_WAIT`].
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let mut waited = Duration::ZERO;
    while !ready() {
        assert!(waited < START_WAIT, "{what} not ready after {START_WAIT:?}");
        thread::sleep(STEP);
        waited += STEP;
    }
}

/// One `redis-server` process.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    extra: Vec<String>,
    /// Serves TLS only (`--tls-port`), so readiness is a TCP connect.
    tls: bool,
    dir: TempDir,
}

impl RedisServer {
    /// A standalone server on a free port.
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server with extra `redis-server` arguments.
    pub(crate) fn start_with(extra: &[&str]) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            tls: false,
            dir: TempDir::new("redis"),
        };
        server.restart();
        server
    }

    /// A server that speaks TLS only, with a self-signed certificate for
    /// `127.0.0.1`; returns it and the certificate (PEM) to trust.
    pub(crate) fn start_tls() -> (Self, Vec<u8>) {
        let dir = TempDir::new("redis-tls");
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
                .unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        let extra = [
            "--tls-cert-file",
            cert,
            "--tls-key-file",
            key,
            "--tls-ca-cert-file",
            cert,
            "--tls-auth-clients",
            "no",
        ];
        let mut server = Self {
            child: None,
            port: free_port(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            tls: true,
            dir,
        };
        server.restart();
        (server, certified.cert.pem().into_bytes())
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL, by PID) and waits for it.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`RedisServer::stop`]).
    pub(crate) fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let ports = if self.tls {
            ["--port", "0", "--tls-port", &port]
        } else {
            ["--port", &port, "--bind", "127.0.0.1"]
        };
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1"])
            .args(ports)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--dir", self.dir.path().to_str().unwrap()])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server starts: {e}"));
        self.child = Some(child);
        let (port, tls) = (self.port, self.tls);
        wait_for("redis-server", || {
            if tls {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            } else {
                ask(port, "PING").is_some_and(|r| r.starts_with("+PONG"))
            }
        });
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Three `redis-server` masters joined into one Cluster.
pub(crate) struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three nodes and creates the cluster.
    pub(crate) fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|i| {
                let conf = format!("nodes-{i}.conf");
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                    "--cluster-node-timeout",
                    "5000",
                ])
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("redis-cli runs: {e}"));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for node in &nodes {
            let port = node.port();
            wait_for("redis cluster", || {
                ask(port, "CLUSTER INFO").is_some_and(|r| r.contains("cluster_state:ok"))
            });
        }
        Self { nodes }
    }

    /// The seed URLs of every node.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

/// One Redis Sentinel (`redis-server <conf> --sentinel`) watching a master
/// named `mymaster`.
pub(crate) struct RedisSentinel {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl RedisSentinel {
    /// A sentinel watching the master on `master_port`.
    pub(crate) fn start(master_port: u16) -> Self {
        let dir = TempDir::new("sentinel");
        let port = free_port();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {master_port} 1\nsentinel down-after-milliseconds mymaster 2000\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let child = Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server --sentinel starts: {e}"));
        let sentinel = Self {
            child,
            port,
            _dir: dir,
        };
        wait_for("redis sentinel", || {
            ask(port, "SENTINEL get-master-addr-by-name mymaster")
                .is_some_and(|r| r.contains(&master_port.to_string()))
        });
        sentinel
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
