//! Starting and talking to the real `stsd agent`.
//!
//! [`Agent::start`] writes the agent's TOML into a fresh temporary
//! directory (every endpoint on `127.0.0.1:0`), spawns `stsd agent
//! --config FILE` without inherited `STSD_*` / `AWS_*` variables, reads the
//! bound addresses from its JSON `listening` log lines, and kills the
//! process by PID on drop. [`Agent::get`] is a plain HTTP/1.1 GET over a
//! socket, so tests see the endpoints' exact statuses and bodies.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

use crate::daemon::{Response, TempDir, read_response};

/// How long an agent may take to start, or a condition to hold.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// Which endpoint a `listening` line is about (the agent logs its kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Container,
    Imds,
    Health,
}

/// A running agent.
pub(crate) struct Agent {
    child: Child,
    pub(crate) dir: TempDir,
    addrs: HashMap<Endpoint, SocketAddr>,
    stderr: Arc<Mutex<String>>,
}

/// Deletes `AWS_*` and `STSD_*` variables from `cmd`'s environment.
pub(crate) fn clear_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("STSD_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
}

/// Runs `cmd` to completion, killing it (by PID) after `secs` seconds.
pub(crate) fn output_within(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipes = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut pipes.0, &mut buf).unwrap();
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut pipes.1, &mut buf).unwrap();
        buf
    });
    let mut status = None;
    for _ in 0..secs * 20 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        thread::sleep(POLL);
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{cmd:?} did not finish within {secs}s:\n{}",
            String::from_utf8_lossy(&err.join().unwrap())
        );
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

impl Agent {
    /// A directory holding `files` (name, content), to start an agent in
    /// with [`Prepared::start_in`].
    pub(crate) fn prepare(files: &[(&str, &str)]) -> Prepared {
        let dir = TempDir::new("agent");
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        Prepared(dir)
    }

    /// The bound address of `endpoint`.
    pub(crate) fn addr(&self, endpoint: Endpoint) -> SocketAddr {
        *self
            .addrs
            .get(&endpoint)
            .unwrap_or_else(|| panic!("{endpoint:?} is not configured"))
    }

    /// `http://ADDR` of `endpoint`, with `path`.
    pub(crate) fn url(&self, endpoint: Endpoint, path: &str) -> String {
        format!("http://{}{path}", self.addr(endpoint))
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().clone()
    }

    /// `method path` on `endpoint` with `headers`, read to the end.
    pub(crate) fn request(
        &self,
        endpoint: Endpoint,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        let addr = self.addr(endpoint);
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (n, v) in headers {
            raw.push_str(&format!("{n}: {v}\r\n"));
        }
        raw.push_str("\r\n");
        s.write_all(raw.as_bytes())?;
        read_response(&mut s)
    }

    /// `GET path` on `endpoint`.
    pub(crate) fn get(&self, endpoint: Endpoint, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request(endpoint, "GET", path, headers).unwrap()
    }

    /// `GET /healthz` as JSON.
    pub(crate) fn health(&self) -> serde_json::Value {
        let r = self.get(Endpoint::Health, "/healthz", &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// Waits until `/readyz` answers 200 (credentials are servable).
    pub(crate) fn wait_ready(&self) {
        self.wait_health("ready", |_| {
            self.get(Endpoint::Health, "/readyz", &[]).status == 200
        });
    }

    /// Waits until `done` holds of `/healthz`; `what` names it in the
    /// failure.
    pub(crate) fn wait_health(&self, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
        for _ in 0..WAIT.as_millis() / POLL.as_millis() {
            if done(&self.health()) {
                return;
            }
            thread::sleep(POLL);
        }
        panic!(
            "the agent was not {what} within {WAIT:?}: {}\n{}",
            self.health(),
            self.stderr()
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        // Child::kill signals this process's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent's directory before it starts.
pub(crate) struct Prepared(TempDir);

impl Prepared {
    /// Starts an agent of `broker_endpoint` with `broker` (more lines of
    /// its `[broker]` table) and `sections` (its `[role]`, `[container]`
    /// and `[imds]`; a `[health]` endpoint is always added). `{dir}` in
    /// either is replaced by the agent's directory.
    pub(crate) fn start_in(self, broker_endpoint: &str, broker: &str, sections: &str) -> Agent {
        let dir = self.0;
        let here = dir.path().display().to_string();
        let config = dir.path().join("agent.toml");
        std::fs::write(
            &config,
            format!(
                "[broker]\nendpoint = \"{broker_endpoint}\"\ntimeout_ms = 2000\n{}\n\n{}\n\
                 [health]\nlisten = \"127.0.0.1:0\"\n\n[logging]\nlevel = \"debug\"\njson = true\n",
                broker.replace("{dir}", &here),
                sections.replace("{dir}", &here),
            ),
        )
        .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stsd"));
        clear_env(&mut cmd);
        let mut child = cmd
            .arg("agent")
            .arg("--config")
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let addrs = Arc::new(Mutex::new(HashMap::new()));
        let (started_tx, started) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let (buf, found) = (Arc::clone(&stderr), Arc::clone(&addrs));
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let v = serde_json::from_str::<serde_json::Value>(&line).unwrap_or_default();
                if v["message"] == "listening" {
                    let endpoint = match v["endpoint"].as_str() {
                        Some("Container") => Endpoint::Container,
                        Some("Imds") => Endpoint::Imds,
                        Some("Health") => Endpoint::Health,
                        other => panic!("an unknown endpoint in {other:?}: {line}"),
                    };
                    let addr = v["addr"].as_str().unwrap().parse().unwrap();
                    found.lock().insert(endpoint, addr);
                }
                if v["message"] == "stsd agent started" {
                    let _ = started_tx.send(());
                }
                buf.lock().push_str(&(line + "\n"));
            }
        });
        if started.recv_timeout(WAIT).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("stsd agent did not start:\n{}", stderr.lock());
        }
        let addrs = addrs.lock().clone();
        Agent {
            child,
            dir,
            addrs,
            stderr,
        }
    }
}
