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
            dir: TempDir::new("redis"),
        };
        server.restart();
        server
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
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--dir", self.dir.path().to_str().unwrap()])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server starts: {e}"));
        self.child = Some(child);
        let port = self.port;
        wait_for("redis-server", || {
            ask(port, "PING").is_some_and(|r| r.starts_with("+PONG"))
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
