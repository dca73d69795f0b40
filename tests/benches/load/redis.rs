//! The Redis store under the load generator (issue 7): a `redis-server`
//! started on a loopback port for the daemon (`STSD_BENCH_STORES`
//! containing `redis`), killed on drop, and its own counters read to
//! count what each call costs in Redis: `total_reads_processed` (read
//! events: one per round trip, a pipeline arriving in one) and
//! `total_commands_processed`, from `INFO stats`.
//!
//! Persistence as a deployment would run it: AOF with `appendfsync
//! everysec` (README "Redis").

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server of this run.
pub(super) struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counters of `INFO stats`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stats {
    pub reads: u64,
    pub commands: u64,
}

impl Server {
    pub(super) fn start(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (make deps installs it): {e}"));
        let server = Self {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if server.info().is_some() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {port}");
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The counters now.
    pub(super) fn stats(&self) -> Stats {
        let info = self
            .info()
            .unwrap_or_else(|| panic!("INFO stats: no answer"));
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} missing from INFO stats"))
        };
        Stats {
            reads: field("total_reads_processed"),
            commands: field("total_commands_processed"),
        }
    }

    fn info(&self) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(b"*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n").ok()?;
        let mut reply = Vec::new();
        let mut buf = [0_u8; 8192];
        loop {
            let n = s.read(&mut buf).ok()?;
            reply.extend_from_slice(buf.get(..n)?);
            // A bulk string: `$<len>\r\n<len bytes>\r\n`.
            let text = String::from_utf8_lossy(&reply).into_owned();
            let (head, body) = text.split_once("\r\n")?;
            let len: usize = head.strip_prefix('$')?.parse().ok()?;
            if body.len() >= len || n == 0 {
                return Some(body.to_owned());
            }
        }
    }
}

impl Stats {
    /// Per call, from `before` to `self` over `calls` calls.
    pub(super) fn per_call(self, before: Stats, calls: u64) -> (f64, f64) {
        let per = |a: u64, b: u64| (a - b) as f64 / calls as f64;
        (
            per(self.reads, before.reads),
            per(self.commands, before.commands),
        )
    }
}
