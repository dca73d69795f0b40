//! The `agent-container` and `agent-imds` workloads (issue 8): credential
//! reads from a `stsd agent` sidecar this program starts beside the
//! daemon, authenticated to it with the bench user's long-term key
//! (signed AssumeRole of the bench role). Reads are served from the
//! agent's memory; the agent's health endpoint says how many broker calls
//! it made, which the run reports.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Request;
use http_body_util::Full;
use hyper::body::Bytes;

use super::Creds;

/// The container endpoint's authorization token in the bench.
const AUTH: &str = "bench-agent-token";

/// A running agent, killed on drop.
pub(crate) struct Agent {
    child: Child,
    _dir: tempfile::TempDir,
    pub(crate) container: SocketAddr,
    pub(crate) imds: SocketAddr,
    pub(crate) health: SocketAddr,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts an agent vending `role_arn`, assumed as `creds`, from the broker
/// at `broker`; waits until it serves credentials.
pub(crate) fn start(broker: SocketAddr, creds: &Creds, role_arn: &str) -> Agent {
    let dir = tempfile::tempdir().unwrap();
    // Held together until all three are chosen, so no two are the same port.
    let held: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let addr = |i: usize| -> SocketAddr { held[i].local_addr().unwrap() };
    let (container, imds, health) = (addr(0), addr(1), addr(2));
    drop(held);
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            r#"[broker]
endpoint = "http://{broker}"

[role]
arn = "{role_arn}"
session_name = "bench-agent"
access_key_id = "{key}"

[container]
listen = "{container}"
authorization_token = "{AUTH}"

[imds]
listen = "{imds}"

[health]
listen = "{health}"

[logging]
level = "warn"
"#,
            key = creds.key_id,
        ),
    )
    .unwrap();
    let binary = super::daemon_binary();
    let mut cmd = match std::env::var("STSD_BENCH_DAEMON_CPUS") {
        Ok(cpus) if !cpus.is_empty() => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpus]).arg(&binary);
            c
        }
        _ => Command::new(&binary),
    };
    let child = cmd
        .args(["agent", "--config"])
        .arg(&config)
        .env("STSD_AGENT_SECRET_ACCESS_KEY", creds.secret.expose_secret())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = Agent {
        child,
        _dir: dir,
        container,
        imds,
        health,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if get(health, "/readyz").starts_with("HTTP/1.1 200") {
            return agent;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the agent did not become ready");
}

/// A blocking GET (setup and the final health read only).
fn get(addr: SocketAddr, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = s.write_all(
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

impl Agent {
    /// The agent's process id (its CPU time and peak RSS are read from /proc).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Broker calls the agent has made since it started (its health JSON).
pub(crate) fn broker_calls(agent: &Agent) -> u64 {
    let out = get(agent.health, "/healthz");
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["broker_calls"].as_u64().unwrap()
}

/// An IMDSv2 token of the agent (one per connection, as an SDK does).
pub(crate) fn imds_token(agent: &Agent) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(agent.imds).unwrap();
    s.write_all(
        b"PUT /latest/api/token HTTP/1.1\r\nhost: x\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.split("\r\n\r\n").nth(1).unwrap().to_owned()
}

/// A container-endpoint read.
pub(crate) fn container_request() -> Request<Full<Bytes>> {
    Request::get("/v1/credentials")
        .header("host", "127.0.0.1")
        .header("authorization", AUTH)
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// An IMDS credentials read of `role` (its name) with `token`.
pub(crate) fn imds_request(token: &str, role: &str) -> Request<Full<Bytes>> {
    Request::get(format!("/latest/meta-data/iam/security-credentials/{role}"))
        .header("host", "169.254.169.254")
        .header("x-aws-ec2-metadata-token", token)
        .body(Full::new(Bytes::new()))
        .unwrap()
}
