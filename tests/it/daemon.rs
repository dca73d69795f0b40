//! Starting and talking to the real daemon.
//!
//! [`Daemon::start`] spawns the built `stsd serve` with a config written
//! into a fresh temporary directory, reads the bound address from its
//! `listening` log line, waits for `/readyz`, and kills the process by PID
//! on drop. [`Daemon::request`] is a minimal HTTP/1.1 client over a plain
//! socket, so tests can send exactly the bytes they want.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("stsd-it-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How to start the daemon.
#[derive(Default)]
pub(crate) struct Options {
    /// Extra TOML appended after `[store] data_dir` and `[server] listen`
    /// (so it may add keys to `[server]` first).
    pub(crate) server_toml: String,
    /// Extra TOML sections.
    pub(crate) extra_toml: String,
    /// Environment variables.
    pub(crate) env: Vec<(String, String)>,
    /// Extra arguments after `serve --config FILE`.
    pub(crate) args: Vec<String>,
}

/// A running daemon.
pub(crate) struct Daemon {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) dir: TempDir,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// When set, [`Daemon::request`] and its helpers speak HTTPS with it.
    tls: Mutex<Option<Arc<rustls::ClientConfig>>>,
}

/// A TLS stream whose peer closing without `close_notify` ends the read.
struct EofIsEnd<R>(R);

impl<R: std::io::Read> std::io::Read for EofIsEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
            r => r,
        }
    }
}

/// A response, as read off the socket.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

/// Runs `stsd` with `args` to completion, without `STSD_*` variables.
pub(crate) fn stsd(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stsd"));
    clear_env(&mut cmd);
    cmd.args(args).output().unwrap()
}

fn clear_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("STSD_") {
            cmd.env_remove(k);
        }
    }
}

impl Daemon {
    pub(crate) fn start() -> Self {
        Self::start_with(Options::default())
    }

    pub(crate) fn start_with(opts: Options) -> Self {
        let dir = TempDir::new("daemon");
        let config = dir.path().join("stsd.toml");
        let data = dir.path().join("data");
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n{}\n[store]\ndata_dir = \"{}\"\n[logging]\nlevel = \"debug\"\n{}\n",
            opts.server_toml,
            data.display(),
            opts.extra_toml
        );
        std::fs::write(&config, text).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stsd"));
        clear_env(&mut cmd);
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .args(&opts.args);
        cmd.envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();

        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let out_pipe = child.stdout.take().unwrap();
        let out_buf = Arc::clone(&stdout);
        thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                out_buf.lock().push_str(&(line + "\n"));
            }
        });
        let err_pipe = child.stderr.take().unwrap();
        let err_buf = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let v = serde_json::from_str::<serde_json::Value>(&line).unwrap_or_default();
                if let Some(addr) = v["listen_addr"].as_str() {
                    let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                }
                err_buf.lock().push_str(&(line + "\n"));
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("stsd did not start:\n{}{}", stdout.lock(), stderr.lock());
            }
        };
        let daemon = Self {
            child,
            addr,
            dir,
            stdout,
            stderr,
            tls: Mutex::new(None),
        };
        if opts.extra_toml.contains("[server.tls]") {
            // Readiness is set before the `listening` line; a plain-HTTP
            // probe cannot talk to a TLS listener.
            return daemon;
        }
        for _ in 0..200 {
            if daemon
                .try_request(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .is_ok_and(|r| r.status == 200)
            {
                return daemon;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("stsd never became ready:\n{}", daemon.stderr());
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().clone()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().clone()
    }

    /// Sends `raw` (which should say `Connection: close`) and reads the
    /// whole response.
    pub(crate) fn request(&self, raw: &[u8]) -> Response {
        self.try_request(raw).unwrap()
    }

    /// Like [`Daemon::request`], returning I/O and parse failures.
    pub(crate) fn try_raw(&self, raw: &[u8]) -> std::io::Result<Response> {
        self.try_request(raw)
    }

    fn try_request(&self, raw: &[u8]) -> std::io::Result<Response> {
        let mut s = TcpStream::connect(self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let tls = self.tls.lock().clone();
        if let Some(config) = tls {
            let conn = rustls::ClientConnection::new(config, "localhost".try_into().unwrap())
                .map_err(std::io::Error::other)?;
            let mut s = rustls::StreamOwned::new(conn, s);
            s.write_all(raw)?;
            return read_response(&mut EofIsEnd(s));
        }
        s.write_all(raw)?;
        read_response(&mut s)
    }

    /// Sends later requests over TLS with `config` (server name
    /// `localhost`).
    pub(crate) fn use_tls(&self, config: Arc<rustls::ClientConfig>) {
        *self.tls.lock() = Some(config);
    }

    /// `POST /` with a form body and extra headers.
    pub(crate) fn post(&self, body: &[u8], headers: &[(&str, &str)]) -> Response {
        let mut raw = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        for (n, v) in headers {
            raw.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(body);
        self.request(&raw)
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Response {
        self.request(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.addr
            )
            .as_bytes(),
        )
    }

    /// Sends SIGTERM (by PID).
    pub(crate) fn sigterm(&self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the process to exit, at most `secs` seconds.
    pub(crate) fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        for _ in 0..secs * 20 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("stsd did not exit within {secs}s:\n{}", self.stderr());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Child::kill signals this process's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one response until the server closes the connection.
pub(crate) fn read_response(s: &mut impl std::io::Read) -> std::io::Result<Response> {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "no header end in {:?}",
                String::from_utf8_lossy(&raw)
            ))
        })?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Response {
        status,
        headers,
        body,
    })
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of `<tag>…</tag>`, first occurrence.
    pub(crate) fn xml(&self, tag: &str) -> Option<&str> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find('<')? + start;
        Some(&self.body[start..end])
    }

    pub(crate) fn code(&self) -> &str {
        self.xml("Code")
            .unwrap_or_else(|| panic!("no <Code> in {}", self.body))
    }
}
