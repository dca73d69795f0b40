//! HTTP load generator: `GET /healthz`, signed `GetCallerIdentity`,
//! signed `AssumeRole`, unsigned `AssumeRoleWithSAML` (`load/saml.rs`) and
//! unsigned `AssumeRoleWithWebIdentity` (RS256, keys inline in the
//! daemon's configuration: `load/web_identity.rs`), and `Authorize` over
//! gRPC and over HTTP JSON (`load/authorize.rs`, issue 6)
//! against one running stsd, in the same run, over
//! HTTP/1.1 keep-alive connections on loopback (issue 4, "Performance").
//!
//! `cargo bench --bench load` starts the release (`bench` profile) daemon
//! itself on a free loopback port with a fresh data directory and the
//! default configuration (logging at `info`, JSON, to /dev/null), creates a
//! user allowed `sts:AssumeRole` and a role trusting the account through the
//! IAM API (requests signed with `stsd::domain::sigv4::sign_request_with_key`), then
//! runs each workload for a warm-up and a measured period with N
//! connections, each connection one task sending its next request when the
//! previous response has been read. Every STS request is freshly signed
//! (new `X-Amz-Date`, new signature, a new session name per AssumeRole), as
//! a client would; the signing key is derived once a day per service, as the
//! AWS SDKs for Go and Java keep it. It prints requests/s, p50 and p99 latency and the errors
//! per workload, the ratio of each signed workload's rate to /healthz, and
//! (for a daemon or agent it started) the serving process's CPU seconds per
//! 1,000 measured requests and its peak RSS, then the same as one
//! `BENCH-LOAD` line per workload for `scripts/bench.sh`.
//!
//! Environment:
//! - `STSD_BENCH_ENDPOINT` (`http://127.0.0.1:PORT`): use this daemon
//!   instead of starting one; then `STSD_BENCH_ACCESS_KEY_ID` and
//!   `STSD_BENCH_SECRET_ACCESS_KEY` must be credentials (root's, say) that
//!   may create users, keys and roles in its default account.
//! - `STSD_BENCH_CONNECTIONS` (default 32), `STSD_BENCH_SECONDS` (measured
//!   seconds per workload, default 10), `STSD_BENCH_WARMUP` (seconds,
//!   default 2), `STSD_BENCH_CLIENT_THREADS` (the generator's tokio worker
//!   threads, default 1: the daemon gets the other core),
//!   `STSD_BENCH_ISSUED_LOG` (`durable` or `relaxed`: the daemon's
//!   `[sessions] issued_log`; default: the daemon's default, `relaxed`),
//!   `STSD_BENCH_STORES` (`embedded`, `redis` or both, comma-separated:
//!   one daemon per store in this run, the Redis one on a `redis-server`
//!   this program starts, with Redis round trips per call counted;
//!   default `embedded`),
//!   `STSD_BENCH_GRPC_CHANNELS` (HTTP/2 connections the `authorize-grpc`
//!   and `authorize-grpc-h2` tasks share, default 1, as a service shares one channel),
//!   `STSD_BENCH_DAEMON_CPUS` (a `taskset -c` CPU list for the daemon
//!   this program starts; run the program itself under `taskset -c` with
//!   the other CPUs to give each side its own cores),
//!   `STSD_BENCH_DAEMON_BIN` (the stsd binary to start instead of this
//!   build's `release/stsd`),
//!   `STSD_BENCH_DAEMON_WRAPPER` (a command the daemon runs under, such as
//!   `valgrind --tool=callgrind`; the daemon is stopped with SIGTERM so a
//!   profiler writes its output), `STSD_BENCH_STARTUP` (a comma list of
//!   user counts: measure start-up time against the store's size instead
//!   of the workloads; `STSD_BENCH_STARTUP_REPEATS` restarts each, default 5),
//!   `STSD_BENCH_WORKLOADS` (a comma list of `healthz`,
//!   `get-caller-identity`, `assume-role`, `assume-role-with-saml`,
//!   `web-identity`, `authorize-grpc`, `authorize-grpc-h2`, `authorize-json`,
//!   `agent-container`, `agent-imds`; default all (`web-identity` and the
//!   agent's only with a daemon this program starts) — one alone is
//!   handy under a profiler; ratios need `healthz`).
//!
//! Under `cargo test` (no `--bench` argument; `make test` runs every bench
//! target that way) it is a smoke run: the test-profile daemon, two
//! connections, a fraction of a second per workload, and every response must
//! be 200 except AssumeRole's while the action is not served yet.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "benchmark harness: a broken setup must fail loudly"
)]
#![expect(
    clippy::disallowed_types,
    reason = "latency is measured with the monotonic std::time::Instant"
)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;
use stsd::domain::clock::{Clock, SystemClock};
use stsd::domain::secret::{SecretAccessKey, SigningKey};
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request_with_key,
};

#[path = "load/agent.rs"]
mod agent;
#[path = "load/authorize.rs"]
mod authorize;
#[path = "load/redis.rs"]
mod redis;
#[path = "load/saml.rs"]
mod saml;
#[path = "load/web_identity.rs"]
mod web_identity;

/// The default account of a daemon this program starts.
const ACCOUNT: &str = "123456789012";

/// The root key of a daemon this program starts (the AWS documentation's
/// example key; the daemon is private to the run).
const ROOT_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

struct Settings {
    connections: usize,
    warmup: Duration,
    measure: Duration,
    client_threads: usize,
    /// HTTP/2 connections the `authorize-grpc` tasks share.
    grpc_channels: usize,
    smoke: bool,
    workloads: Vec<Workload>,
}

impl Settings {
    fn from_env() -> Self {
        let smoke = !std::env::args().any(|a| a == "--bench");
        let num = |name: &str, default: f64| -> f64 {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map_or(default, |v| {
                    v.parse()
                        .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
                })
        };
        if smoke {
            return Self {
                connections: 2,
                warmup: Duration::from_millis(100),
                measure: Duration::from_millis(300),
                client_threads: 1,
                grpc_channels: 1,
                smoke,
                workloads: Workload::ALL.to_vec(),
            };
        }
        Self {
            connections: num("STSD_BENCH_CONNECTIONS", 32.0) as usize,
            warmup: Duration::from_secs_f64(num("STSD_BENCH_WARMUP", 2.0)),
            measure: Duration::from_secs_f64(num("STSD_BENCH_SECONDS", 10.0)),
            client_threads: num("STSD_BENCH_CLIENT_THREADS", 1.0) as usize,
            grpc_channels: num("STSD_BENCH_GRPC_CHANNELS", 1.0) as usize,
            smoke,
            workloads: match std::env::var("STSD_BENCH_WORKLOADS") {
                Ok(v) if !v.is_empty() => v
                    .split(',')
                    .map(|k| {
                        Workload::ALL
                            .into_iter()
                            .find(|w| w.key() == k.trim())
                            .unwrap_or_else(|| panic!("STSD_BENCH_WORKLOADS: unknown workload {k}"))
                    })
                    .collect(),
                _ => Workload::ALL.to_vec(),
            },
        }
    }
}

/// An integer from the environment, or `default`.
fn num_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{name}={v}"))
        })
}

/// Long-term credentials that sign requests.
#[derive(Clone)]
struct Creds {
    key_id: String,
    secret: Arc<SecretAccessKey>,
    /// Signing keys derived so far, by (date, service): kept for the day,
    /// as the AWS SDKs for Go and Java keep them.
    keys: Arc<Mutex<Vec<(String, String, SigningKey)>>>,
}

impl Creds {
    fn new(key_id: &str, secret: &str) -> Self {
        Self {
            key_id: key_id.to_owned(),
            secret: Arc::new(secret.parse().unwrap()),
            keys: Arc::default(),
        }
    }

    /// The signing key of `date` (`YYYYMMDD`) and `service` in us-east-1.
    fn signing_key(&self, date: &str, service: &str) -> SigningKey {
        let mut keys = self.keys.lock().unwrap();
        if let Some((_, _, key)) = keys.iter().find(|(d, s, _)| d == date && s == service) {
            return key.clone();
        }
        let key = SigningKey::derive(&self.secret, date, "us-east-1", service);
        keys.retain(|(d, _, _)| d == date);
        keys.push((date.to_owned(), service.to_owned(), key.clone()));
        key
    }
}

/// A daemon started by this program, killed on drop.
struct Spawned {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // SIGTERM first, so a daemon under a profiler (the wrapper below)
        // shuts down and writes its profile; SIGKILL after 30 s.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the daemon; on the Redis store at `redis` when given.
fn start_daemon(redis: Option<&str>) -> (SocketAddr, Spawned) {
    let dir = tempfile::tempdir().unwrap();
    let master = master_key();
    write_config(dir.path(), redis);
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let (child, _) = spawn_daemon(dir.path(), &master, addr);
    println!("started {} on {addr}", daemon_binary().display());
    (addr, Spawned { child, _dir: dir })
}

/// The daemon to start: `STSD_BENCH_DAEMON_BIN` when set (a copy of a
/// build, since every clone sharing `$CARGO_TARGET_DIR` overwrites the
/// uplifted `release/stsd`), else this build's.
fn daemon_binary() -> PathBuf {
    match std::env::var_os("STSD_BENCH_DAEMON_BIN") {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_stsd")),
    }
}

/// A fresh random master key, base64.
fn master_key() -> String {
    let mut master = [0_u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut master).unwrap();
    data_encoding::BASE64.encode(&master)
}

/// Writes `<dir>/stsd.toml`: the bench's SAML and web-identity providers,
/// the issued-session log mode, the Redis store when given.
fn write_config(dir: &std::path::Path, redis: Option<&str>) {
    let mut text = saml::daemon_config() + &web_identity::daemon_config(ACCOUNT);
    // STSD_BENCH_ISSUED_LOG=durable: mints wait for their session's
    // record to be fsynced ([sessions] issued_log); default: the daemon's
    // own default.
    if let Ok(mode) = std::env::var("STSD_BENCH_ISSUED_LOG")
        && !mode.is_empty()
    {
        text.push_str(&format!("\n[sessions]\nissued_log = \"{mode}\"\n"));
    }
    if let Some(url) = redis {
        text.push_str(&format!(
            "\n[store]\nbackend = \"redis\"\n[store.redis]\nurl = \"{url}\"\n"
        ));
    }
    std::fs::write(dir.join("stsd.toml"), text).unwrap();
}

/// Starts the daemon on the configuration and data of `dir` and waits
/// until `/readyz` answers 200 (polled every 2 ms); returns the process
/// and the time from spawning it to that answer.
fn spawn_daemon(dir: &std::path::Path, master: &str, addr: SocketAddr) -> (Child, Duration) {
    let binary = daemon_binary();
    // STSD_BENCH_DAEMON_CPUS pins the daemon (`taskset -c`), so that the
    // generator, pinned by running the bench itself under `taskset`, does
    // not take CPU time from it.
    // STSD_BENCH_DAEMON_WRAPPER: a command the daemon runs under (a
    // profiler: `valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out`).
    let mut prefix: Vec<String> = std::env::var("STSD_BENCH_DAEMON_WRAPPER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if let Ok(cpus) = std::env::var("STSD_BENCH_DAEMON_CPUS")
        && !cpus.is_empty()
    {
        prefix.splice(0..0, ["taskset".to_owned(), "-c".to_owned(), cpus]);
    }
    let mut cmd = match prefix.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&binary);
            c
        }
        None => Command::new(&binary),
    };
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("STSD_") {
            cmd.env_remove(k);
        }
    }
    let spawned_at = Instant::now();
    let mut child = cmd
        .args(["serve", "--config"])
        .arg(dir.join("stsd.toml"))
        .args(["--listen", &addr.to_string()])
        .env("STSD_DATA_DIR", dir.join("data"))
        .env("STSD_MASTER_KEY", master)
        .env("STSD_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("STSD_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(addr) {
            use std::io::{Read as _, Write as _};
            let _ = s.write_all(b"GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") {
                return (child, spawned_at.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{} did not become ready on {addr}", binary.display());
}

/// Stops a daemon the way an operator does (SIGTERM, then wait), so the
/// next start opens a cleanly closed store.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// Start-up time against the store's size: for each user count, a fresh
/// embedded store is started (the first start creates it), filled with
/// that many users (each with an inline policy and an access key) through
/// the IAM API, stopped, and started again `repeats` times; prints the
/// times from spawning to `/readyz` answering 200.
fn startup(rt: &tokio::runtime::Runtime, sizes: &[usize], repeats: usize) {
    println!(
        "{:<10} {:>14} {:>16} {:>14} {:>12}",
        "users", "first start", "restart median", "restart min", "data"
    );
    for &n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let master = master_key();
        write_config(dir.path(), None);
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let (child, first) = spawn_daemon(dir.path(), &master, addr);
        rt.block_on(fill_users(addr, n));
        stop(child);
        let mut times: Vec<Duration> = (0..repeats.max(1))
            .map(|_| {
                let (child, t) = spawn_daemon(dir.path(), &master, addr);
                stop(child);
                t
            })
            .collect();
        times.sort_unstable();
        let bytes = dir_bytes(&dir.path().join("data"));
        println!(
            "{n:<10} {:>14.1?} {:>16.1?} {:>14.1?} {:>10.1} MB",
            first,
            times[times.len() / 2],
            times[0],
            bytes as f64 / 1e6
        );
        println!(
            "BENCH-STARTUP\tusers={n}\tfirst_ms={:.1}\trestart_median_ms={:.1}\trestart_min_ms={:.1}\tdata_bytes={bytes}",
            first.as_secs_f64() * 1e3,
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
        );
    }
}

/// Bytes under `dir`, recursively.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

/// Creates `n` users, each with an inline policy and an access key, as
/// root over 16 connections.
async fn fill_users(addr: SocketAddr, n: usize) {
    const LINES: usize = 16;
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..LINES)
        .map(|_| {
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let host = addr.to_string();
                let admin = Creds::new(ROOT_KEY_ID, ROOT_SECRET);
                let mut c = connect(addr).await;
                let doc = enc(authorize::READ);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n as u64 {
                        break;
                    }
                    let user = format!("startup-{i}");
                    iam(
                        &mut c,
                        &host,
                        &admin,
                        &format!("Action=CreateUser&UserName={user}"),
                    )
                    .await;
                    iam(
                        &mut c,
                        &host,
                        &admin,
                        &format!(
                            "Action=PutUserPolicy&UserName={user}&PolicyName=p&PolicyDocument={doc}"
                        ),
                    )
                    .await;
                    iam(
                        &mut c,
                        &host,
                        &admin,
                        &format!("Action=CreateAccessKey&UserName={user}"),
                    )
                    .await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// `text` form-encoded (RFC 3986 unreserved characters kept).
fn enc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A POST of `body` to `/`, signed with `creds` for `service` now.
fn signed_post(host: &str, creds: &Creds, service: &str, body: String) -> Request<Full<Bytes>> {
    let headers = [("host", host), ("content-type", FORM)];
    let view = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(body.as_bytes()),
    };
    let now = i64::try_from(SystemClock.now().as_secs()).unwrap();
    let params = SigningParams {
        access_key_id: &creds.key_id,
        secret: &creds.secret,
        security_token: None,
        region: "us-east-1",
        service,
        timestamp: AmzDate::from_unix_secs(now).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let key = creds.signing_key(params.timestamp.basic().date(), service);
    let signed = sign_request_with_key(&view, &params, &key).unwrap();
    let mut req = Request::post("/")
        .header("host", host)
        .header("content-type", FORM);
    for (name, value) in signed.headers {
        req = req.header(name, value);
    }
    req.body(Full::new(Bytes::from(body))).unwrap()
}

fn healthz(host: &str) -> Request<Full<Bytes>> {
    Request::get("/healthz")
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, conn) = handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    let resp: Response<Incoming> = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

/// The text of the first `<name>` element of an XML response.
fn xml<'a>(body: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
        + open.len();
    let end = body[start..].find('<').unwrap() + start;
    &body[start..end]
}

/// One IAM call as `creds`; panics unless it succeeds.
async fn iam(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &str,
    creds: &Creds,
    params: &str,
) -> String {
    let body = format!("{params}&Version=2010-05-08");
    let (status, out) = send(sender, signed_post(host, creds, "iam", body)).await;
    let out = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(status, StatusCode::OK, "IAM {params}: {out}");
    out
}

/// Creates a user allowed `sts:AssumeRole` with a key, and a role trusting
/// the account; returns the user's credentials and the role ARN.
async fn setup(addr: SocketAddr, admin: &Creds) -> (Creds, String) {
    let host = addr.to_string();
    let mut c = connect(addr).await;
    let tag = format!("{:x}", SystemClock.now().as_nanos() & 0xff_ffff);
    let user = format!("bench-user-{tag}");
    let role = format!("bench-role-{tag}");
    iam(
        &mut c,
        &host,
        admin,
        &format!("Action=CreateUser&UserName={user}"),
    )
    .await;
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    iam(
        &mut c,
        &host,
        admin,
        &format!(
            "Action=PutUserPolicy&UserName={user}&PolicyName=assume&PolicyDocument={}",
            enc(allow)
        ),
    )
    .await;
    let key = iam(
        &mut c,
        &host,
        admin,
        &format!("Action=CreateAccessKey&UserName={user}"),
    )
    .await;
    let creds = Creds::new(xml(&key, "AccessKeyId"), xml(&key, "SecretAccessKey"));
    let who = send(
        &mut c,
        signed_post(
            &host,
            admin,
            "sts",
            "Action=GetCallerIdentity&Version=2011-06-15".to_owned(),
        ),
    )
    .await;
    let account = xml(&String::from_utf8_lossy(&who.1), "Account").to_owned();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let created = iam(
        &mut c,
        &host,
        admin,
        &format!(
            "Action=CreateRole&RoleName={role}&AssumeRolePolicyDocument={}",
            enc(&trust)
        ),
    )
    .await;
    (creds, xml(&created, "Arn").to_owned())
}

/// Creates the Authorize workloads' users: an asking service allowed
/// `stsd:Authorize` on photos resources, and a reader whose requests it
/// asks about.
async fn setup_authorize(addr: SocketAddr, admin: &Creds) -> authorize::Setup {
    let host = addr.to_string();
    let mut c = connect(addr).await;
    let tag = format!("{:x}", SystemClock.now().as_nanos() & 0xff_ffff);
    let mut made = Vec::new();
    for (name, doc) in [
        (format!("bench-asker-{tag}"), authorize::MAY_AUTHORIZE),
        (format!("bench-reader-{tag}"), authorize::READ),
    ] {
        iam(
            &mut c,
            &host,
            admin,
            &format!("Action=CreateUser&UserName={name}"),
        )
        .await;
        iam(
            &mut c,
            &host,
            admin,
            &format!(
                "Action=PutUserPolicy&UserName={name}&PolicyName=p&PolicyDocument={}",
                enc(doc)
            ),
        )
        .await;
        let key = iam(
            &mut c,
            &host,
            admin,
            &format!("Action=CreateAccessKey&UserName={name}"),
        )
        .await;
        made.push(Creds::new(
            xml(&key, "AccessKeyId"),
            xml(&key, "SecretAccessKey"),
        ));
    }
    let reader = made.pop().unwrap();
    let asker = made.pop().unwrap();
    authorize::setup(asker, &reader)
}

/// Registers the bench's OIDC provider and a role trusting it; returns
/// the role ARN and a token.
async fn setup_web_identity(addr: SocketAddr, admin: &Creds) -> (Arc<str>, Arc<str>) {
    let host = addr.to_string();
    let mut c = connect(addr).await;
    let role = format!("bench-web-{:x}", SystemClock.now().as_nanos() & 0xff_ffff);
    let mut arn = String::new();
    for call in web_identity::setup_calls(ACCOUNT, &role, "bench-workload", enc) {
        let out = iam(&mut c, &host, admin, &call).await;
        if call.starts_with("Action=CreateRole") {
            arn = xml(&out, "Arn").to_owned();
        }
    }
    let token = web_identity::token(SystemClock.now().as_secs(), "bench-workload");
    (arn.into(), token.into())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Healthz,
    GetCallerIdentity,
    AssumeRole,
    AssumeRoleWithSaml,
    WebIdentity,
    AuthorizeGrpc,
    AuthorizeGrpcH2,
    AuthorizeJson,
    AgentContainer,
    AgentImds,
}

impl Workload {
    const ALL: [Self; 10] = [
        Self::Healthz,
        Self::GetCallerIdentity,
        Self::AssumeRole,
        Self::AssumeRoleWithSaml,
        Self::WebIdentity,
        Self::AuthorizeGrpc,
        Self::AuthorizeGrpcH2,
        Self::AuthorizeJson,
        Self::AgentContainer,
        Self::AgentImds,
    ];

    /// The name `STSD_BENCH_WORKLOADS` uses.
    fn key(self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::GetCallerIdentity => "get-caller-identity",
            Self::AssumeRole => "assume-role",
            Self::AssumeRoleWithSaml => "assume-role-with-saml",
            Self::WebIdentity => "web-identity",
            Self::AuthorizeGrpc => "authorize-grpc",
            Self::AuthorizeGrpcH2 => "authorize-grpc-h2",
            Self::AuthorizeJson => "authorize-json",
            Self::AgentContainer => "agent-container",
            Self::AgentImds => "agent-imds",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Healthz => "GET /healthz",
            Self::GetCallerIdentity => "GetCallerIdentity (signed)",
            Self::AssumeRole => "AssumeRole (signed)",
            Self::AssumeRoleWithSaml => "AssumeRoleWithSAML",
            Self::WebIdentity => "AssumeRoleWithWebIdentity",
            Self::AuthorizeGrpc => "Authorize (gRPC)",
            Self::AuthorizeGrpcH2 => "Authorize (gRPC, hyper h2)",
            Self::AuthorizeJson => "Authorize (HTTP JSON)",
            Self::AgentContainer => "agent: container endpoint",
            Self::AgentImds => "agent: IMDSv2",
        }
    }
}

/// What one workload needs to build its requests.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    host: Arc<str>,
    creds: Creds,
    /// The role's ARN, form-encoded once.
    role_arn_form: Arc<str>,
    saml: Arc<saml::Pool>,
    /// AssumeRoleWithWebIdentity's role and token, when the daemon serves
    /// the bench's keys.
    web: Option<(Arc<str>, Arc<str>)>,
    /// The Authorize workloads' asker and questions.
    authorize: Arc<authorize::Setup>,
    /// The agent's endpoints, an IMDS token and the role's name, when an
    /// agent runs.
    agent: Option<Arc<AgentTarget>>,
    /// The daemon's process id, when this program started it (CPU time
    /// and peak RSS are read from /proc).
    daemon_pid: Option<u32>,
}

struct AgentTarget {
    container: SocketAddr,
    imds: SocketAddr,
    imds_token: String,
    role_name: String,
    pid: Option<u32>,
}

impl Target {
    fn request(&self, w: Workload, n: u64) -> Request<Full<Bytes>> {
        match w {
            Workload::Healthz => healthz(&self.host),
            Workload::GetCallerIdentity => signed_post(
                &self.host,
                &self.creds,
                "sts",
                "Action=GetCallerIdentity&Version=2011-06-15".to_owned(),
            ),
            Workload::AssumeRole => signed_post(
                &self.host,
                &self.creds,
                "sts",
                format!(
                    "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=bench-{n}&DurationSeconds=900",
                    self.role_arn_form
                ),
            ),
            Workload::AssumeRoleWithSaml => saml::request(&self.host, &self.saml, n),
            Workload::AuthorizeJson => authorize::json_request(&self.host, &self.authorize, n),
            Workload::AgentContainer => agent::container_request(),
            Workload::AgentImds => {
                let a = self.agent.as_ref().unwrap();
                agent::imds_request(&a.imds_token, &a.role_name)
            }
            // Sent by `grpc_connection` / `h2_connection`, not as an
            // HTTP/1.1 request.
            Workload::AuthorizeGrpc | Workload::AuthorizeGrpcH2 => healthz(&self.host),
            Workload::WebIdentity => {
                let (role, token) = self.web.as_ref().unwrap();
                Request::post("/")
                    .header("host", &*self.host)
                    .header("content-type", FORM)
                    .body(Full::new(Bytes::from(web_identity::body(
                        role, token, n, enc,
                    ))))
                    .unwrap()
            }
        }
    }
}

struct Outcome {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

/// A client of one workload's kind: its own HTTP/1.1 connection, or a
/// handle on a shared HTTP/2 connection (tonic's channel, or hyper's
/// client for `authorize-grpc-h2`), as a service shares one channel.
enum Line {
    Http(SendRequest<Full<Bytes>>),
    Tonic(authorize::Client),
    H2(authorize::H2),
}

impl Line {
    /// A new connection for `w`.
    async fn open(target: &Target, w: Workload) -> Self {
        match w {
            Workload::AuthorizeGrpc => {
                Self::Tonic(authorize::client(target.addr, &target.authorize.asker).await)
            }
            Workload::AuthorizeGrpcH2 => Self::H2(authorize::h2_client(target.addr).await),
            Workload::AgentContainer => {
                Self::Http(connect(target.agent.as_ref().unwrap().container).await)
            }
            Workload::AgentImds => Self::Http(connect(target.agent.as_ref().unwrap().imds).await),
            _ => Self::Http(connect(target.addr).await),
        }
    }

    /// Another handle on the same HTTP/2 connection; `None` for HTTP/1.1,
    /// where each task opens its own.
    fn share(&self) -> Option<Self> {
        match self {
            Self::Http(_) => None,
            Self::Tonic(c) => Some(Self::Tonic(c.clone())),
            Self::H2(c) => Some(Self::H2(c.clone())),
        }
    }

    /// Call `n` of `w`: `Ok` when it succeeded (an Authorize answered
    /// `Allow`), else what came back.
    async fn call(&mut self, target: &Target, w: Workload, n: u64) -> Result<(), String> {
        match self {
            Self::Tonic(c) => authorize::call(c, &target.authorize, n).await,
            Self::H2(c) => authorize::call_h2(c, &target.host, &target.authorize, n).await,
            Self::Http(c) => {
                let (status, body) = send(c, target.request(w, n)).await;
                let refused = w == Workload::AuthorizeJson
                    && !body.windows(18).any(|b| b == br#""Decision":"Allow""#);
                if status == StatusCode::OK && !refused {
                    Ok(())
                } else {
                    Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)))
                }
            }
        }
    }
}

/// One task's loop (see [`Measure`]): one call in flight on `line`.
async fn connection(
    target: Target,
    w: Workload,
    mut line: Line,
    start: Instant,
    end: Instant,
    seq: Arc<AtomicU64>,
) -> Outcome {
    let mut m = Measure::new(start, end, seq);
    while let Some((n, sent)) = m.next() {
        let result = line.call(&target, w, n).await;
        m.record(sent, result.err());
    }
    m.out
}

/// One connection's bookkeeping: calls go back to back until `end`, each
/// numbered from `seq`; only those sent after `start` are recorded.
struct Measure {
    start: Instant,
    end: Instant,
    seq: Arc<AtomicU64>,
    out: Outcome,
}

impl Measure {
    fn new(start: Instant, end: Instant, seq: Arc<AtomicU64>) -> Self {
        Self {
            start,
            end,
            seq,
            out: Outcome {
                requests: 0,
                errors: 0,
                first_error: None,
                latencies_us: Vec::with_capacity(1 << 16),
                elapsed: Duration::ZERO,
            },
        }
    }

    /// The next call's number and send time, or `None` once `end` passed.
    fn next(&self) -> Option<(u64, Instant)> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        (sent < self.end).then_some((n, sent))
    }

    /// Records a call sent at `sent` (when after `start`) and what went
    /// wrong with it, if anything.
    fn record(&mut self, sent: Instant, error: Option<String>) {
        if sent < self.start {
            return;
        }
        let out = &mut self.out;
        out.requests += 1;
        out.latencies_us
            .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        if let Some(e) = error {
            out.errors += 1;
            out.first_error.get_or_insert(e);
        }
    }
}

struct Report {
    workload: Workload,
    rate: f64,
    p50: Duration,
    p99: Duration,
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    /// CPU seconds the serving process used per 1,000 measured requests.
    cpu_per_1k: Option<f64>,
    /// The serving process's peak resident set (VmHWM) after the run, KiB.
    peak_rss_kib: Option<u64>,
}

/// CPU seconds (user + system) `pid` has used so far, from
/// `/proc/<pid>/stat` (clock ticks of 1/100 s, as on every Linux here).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The peak resident set of `pid` (VmHWM), KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

async fn run(target: &Target, w: Workload, s: &Settings) -> Report {
    // The process that serves the workload: the agent for its reads,
    // the daemon for the rest (when this program started them).
    let pid = match w {
        Workload::AgentContainer | Workload::AgentImds => target.agent.as_ref().and_then(|a| a.pid),
        _ => target.daemon_pid,
    };
    let start = Instant::now() + s.warmup;
    let end = start + s.measure;
    let seq = Arc::new(AtomicU64::new(0));
    // The HTTP/2 workloads share `grpc_channels` connections.
    let mut shared = Vec::new();
    if matches!(w, Workload::AuthorizeGrpc | Workload::AuthorizeGrpcH2) {
        for _ in 0..s.grpc_channels.clamp(1, s.connections.max(1)) {
            shared.push(Line::open(target, w).await);
        }
    }
    // CPU time is read at the start and the end of the measured period.
    let cpu_start = tokio::spawn(async move {
        tokio::time::sleep_until(start.into()).await;
        pid.and_then(cpu_seconds)
    });
    let tasks: Vec<_> = (0..s.connections)
        .map(|i| {
            let (t, seq) = (target.clone(), Arc::clone(&seq));
            let handle = shared.get(i % shared.len().max(1)).and_then(Line::share);
            tokio::spawn(async move {
                let line = match handle {
                    Some(line) => line,
                    None => Line::open(&t, w).await,
                };
                connection(t, w, line, start, end, seq).await
            })
        })
        .collect();
    let mut all = Outcome {
        requests: 0,
        errors: 0,
        first_error: None,
        latencies_us: Vec::new(),
        elapsed: s.measure,
    };
    for t in tasks {
        let o = t.await.unwrap();
        all.requests += o.requests;
        all.errors += o.errors;
        all.first_error = all.first_error.or(o.first_error);
        all.latencies_us.extend(o.latencies_us);
    }
    let cpu_end = pid.and_then(cpu_seconds);
    let cpu_used = match (cpu_start.await.unwrap(), cpu_end) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    // The last requests may finish after `end`: count the time they took.
    all.elapsed = all.elapsed.max(start.elapsed());
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> Duration {
        if all.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let i = ((all.latencies_us.len() as f64 * p).ceil() as usize)
            .clamp(1, all.latencies_us.len())
            - 1;
        Duration::from_micros(u64::from(all.latencies_us[i]))
    };
    Report {
        workload: w,
        rate: all.requests as f64 / all.elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        requests: all.requests,
        errors: all.errors,
        first_error: all.first_error,
        cpu_per_1k: cpu_used
            .filter(|_| all.requests > 0)
            .map(|c| 1000.0 * c / all.requests as f64),
        peak_rss_kib: pid.and_then(peak_rss_kib),
    }
}

fn main() {
    let s = Settings::from_env();
    let external = std::env::var("STSD_BENCH_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(s.client_threads.max(1))
        .enable_all()
        .build()
        .unwrap();
    if let (Some(endpoint), false) = (&external, s.smoke) {
        let addr: SocketAddr = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("STSD_BENCH_ENDPOINT={endpoint}: {e} (http://IP:PORT)"));
        let var = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| panic!("{k} is required with STSD_BENCH_ENDPOINT"))
        };
        let admin = Creds::new(
            &var("STSD_BENCH_ACCESS_KEY_ID"),
            &var("STSD_BENCH_SECRET_ACCESS_KEY"),
        );
        rt.block_on(bench(addr, &admin, None, None, &s));
        return;
    }
    // STSD_BENCH_STARTUP (a comma list of user counts): start-up time
    // against the store's size instead of the workloads; the smoke run
    // does a small one too.
    let sizes: Vec<usize> = match std::env::var("STSD_BENCH_STARTUP") {
        Ok(v) if !v.is_empty() && !s.smoke => v
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("STSD_BENCH_STARTUP: {n}"))
            })
            .collect(),
        _ if s.smoke => vec![0, 5],
        _ => vec![],
    };
    if !sizes.is_empty() {
        let repeats = num_env("STSD_BENCH_STARTUP_REPEATS", 5);
        startup(&rt, &sizes, if s.smoke { 1 } else { repeats });
        if !s.smoke {
            return;
        }
    }
    // STSD_BENCH_STORES: the stores to measure, one daemon each, in this
    // run (default `embedded`; `embedded,redis` for issue 7's comparison).
    let stores = std::env::var("STSD_BENCH_STORES").unwrap_or_else(|_| "embedded".into());
    for store in stores.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let server = match store {
            "embedded" => None,
            "redis" => Some(redis::Server::start(free_port())),
            other => panic!("STSD_BENCH_STORES: unknown store {other} (embedded, redis)"),
        };
        let url = server.as_ref().map(redis::Server::url);
        let (addr, daemon) = start_daemon(url.as_deref());
        println!("store: {store}");
        let admin = Creds::new(ROOT_KEY_ID, ROOT_SECRET);
        let pid = Some(daemon.child.id());
        rt.block_on(bench(addr, &admin, pid, server.as_ref(), &s));
        drop(daemon);
    }
}

/// Sets the daemon at `addr` up and runs every workload; with `redis`,
/// also counts the Redis round trips of each call.
async fn bench(
    addr: SocketAddr,
    admin: &Creds,
    daemon_pid: Option<u32>,
    redis: Option<&redis::Server>,
    s: &Settings,
) {
    let spawned = daemon_pid.is_some();
    {
        let (creds, role_arn) = setup(addr, admin).await;
        let web = if spawned {
            Some(setup_web_identity(addr, admin).await)
        } else {
            None
        };
        // The agent workloads need an agent this program starts beside
        // its daemon.
        let wants_agent = spawned
            && s.workloads
                .iter()
                .any(|w| matches!(w, Workload::AgentContainer | Workload::AgentImds));
        let agent_process = wants_agent.then(|| agent::start(addr, &creds, &role_arn));
        let agent = agent_process.as_ref().map(|a| {
            Arc::new(AgentTarget {
                container: a.container,
                imds: a.imds,
                imds_token: agent::imds_token(a),
                role_name: role_arn.rsplit('/').next().unwrap().to_owned(),
                pid: Some(a.pid()),
            })
        });
        let target = Target {
            addr,
            host: addr.to_string().into(),
            creds,
            role_arn_form: enc(&role_arn).into(),
            agent,
            saml: saml::setup(addr, admin, s.smoke).await,
            web,
            authorize: Arc::new(setup_authorize(addr, admin).await),
            daemon_pid,
        };
        println!(
            "{} connections, {:.1} s warm-up + {:.1} s measured per workload, {} client thread(s){}",
            s.connections,
            s.warmup.as_secs_f64(),
            s.measure.as_secs_f64(),
            s.client_threads,
            if s.smoke {
                " (smoke run: pass --bench for figures)"
            } else {
                ""
            }
        );
        let mut reports = Vec::new();
        let mut trips = Vec::new();
        // The web-identity workload needs the daemon this program
        // started (its configuration serves the bench's keys).
        let workloads = s
            .workloads
            .iter()
            .copied()
            .filter(|w| *w != Workload::WebIdentity || target.web.is_some())
            .filter(|w| {
                !matches!(w, Workload::AgentContainer | Workload::AgentImds)
                    || target.agent.is_some()
            });
        for w in workloads {
            // Probe first: an action the daemon does not serve is reported, not measured.
            let probe = Line::open(&target, w)
                .await
                .call(&target, w, u64::MAX)
                .await;
            if let Err(e) = probe {
                assert!(
                    w == Workload::AssumeRole && e.contains("InvalidAction"),
                    "{}: {e}",
                    w.name()
                );
                println!("{:<28} not served by this daemon: {e}", w.name());
                continue;
            }
            reports.push(run(&target, w, s).await);
            if let Some(server) = redis {
                trips.push((w, round_trips(&target, w, server).await));
            }
        }
        let base = reports
            .iter()
            .find(|r| r.workload == Workload::Healthz)
            .map_or(f64::NAN, |r| r.rate);
        println!(
            "{:<28} {:>10} {:>9} {:>9} {:>10} {:>7} {:>9} {:>9} {:>9}",
            "workload",
            "req/s",
            "p50",
            "p99",
            "requests",
            "errors",
            "/healthz",
            "CPU s/1k",
            "peak RSS"
        );
        for r in &reports {
            println!(
                "{:<28} {:>10.0} {:>9.3?} {:>9.3?} {:>10} {:>7} {:>8.1}% {:>9} {:>9}",
                r.workload.name(),
                r.rate,
                r.p50,
                r.p99,
                r.requests,
                r.errors,
                100.0 * r.rate / base,
                r.cpu_per_1k.map_or("-".into(), |c| format!("{c:.3}")),
                r.peak_rss_kib
                    .map_or("-".into(), |k| format!("{:.1}M", k as f64 / 1024.0)),
            );
        }
        // One machine-readable line per workload, for scripts/bench.sh.
        for r in &reports {
            println!(
                "BENCH-LOAD\tstore={store}\tworkload={}\trate={:.0}\tp50_us={}\tp99_us={}\tratio={:.1}\tcpu_per_1k={}\tpeak_rss_kib={}",
                r.workload.key(),
                r.rate,
                r.p50.as_micros(),
                r.p99.as_micros(),
                100.0 * r.rate / base,
                r.cpu_per_1k.map_or("".into(), |c| format!("{c:.4}")),
                r.peak_rss_kib.map_or("".into(), |k| k.to_string()),
                store = if redis.is_some() { "redis" } else { "embedded" },
            );
        }
        if let Some(a) = &agent_process {
            let reads: u64 = reports
                .iter()
                .filter(|r| matches!(r.workload, Workload::AgentContainer | Workload::AgentImds))
                .map(|r| r.requests)
                .sum();
            println!(
                "agent: {} broker call(s) for {reads} measured credential reads",
                agent::broker_calls(a)
            );
        }
        if !trips.is_empty() {
            println!(
                "{:<28} {:>14} {:>14}",
                "Redis per call", "round trips", "commands"
            );
            for (w, (reads, commands)) in &trips {
                println!("{:<28} {:>14.2} {:>14.2}", w.name(), reads, commands);
            }
        }
        for r in &reports {
            assert!(
                r.requests > 0,
                "{}: no request completed",
                r.workload.name()
            );
            assert!(
                r.errors == 0,
                "{}: {} errors, first: {}",
                r.workload.name(),
                r.errors,
                r.first_error.as_deref().unwrap_or("")
            );
        }
    }
}

/// Calls made one after another to count Redis's work per call.
const TRIP_CALLS: u64 = 500;

/// Redis round trips and commands per warm call of `w`, over
/// [`TRIP_CALLS`] sequential calls on one connection (the background
/// poller's two reads a second are included: about 0.01 per call here).
async fn round_trips(target: &Target, w: Workload, server: &redis::Server) -> (f64, f64) {
    let mut line = Line::open(target, w).await;
    let before = server.stats();
    for n in 0..TRIP_CALLS {
        if let Err(e) = line.call(target, w, u64::MAX / 2 + n).await {
            panic!("{}: {e}", w.name());
        }
    }
    server.stats().per_call(before, TRIP_CALLS)
}
