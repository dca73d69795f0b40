//! `stsd credential-process`: an AWS `credential_process` helper.
//!
//! Owns: the command's flags, the local cache, and printing the Version 1
//! JSON (reference 11.3) on stdout. A profile such as
//!
//! ```ini
//! [profile app]
//! credential_process = stsd credential-process --endpoint https://stsd.internal:8433 --role-arn arn:aws:iam::123456789012:role/app --web-identity-token-file /var/run/secrets/token
//! ```
//!
//! makes every SDK and the AWS CLI run it whenever they need credentials.
//! The broker is called (gRPC, as the agent does) with
//! AssumeRoleWithWebIdentity when a token file is given, else a signed
//! AssumeRole with the long-term key in `STSD_ACCESS_KEY_ID` /
//! `STSD_SECRET_ACCESS_KEY`, else over mTLS with `--client-cert-file`. The
//! answer is cached in a 0600 file of a 0700 directory (as the AWS CLI
//! caches in `~/.aws/cli/cache`), keyed by endpoint, role, session name,
//! duration and caller, and reused while more than `--refresh-before-secs`
//! is left — so repeated SDK starts do not call the broker. Errors go to
//! stderr with exit status 1, which the SDKs surface.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::agent::broker::{ClientAuth, GrpcBroker};
use crate::agent::config::{BrokerConfig, is_loopback};
use crate::agent::{TokenFile, render};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::secret::BearerToken;
use crate::domain::secret::SecretAccessKey;
use crate::service::vending::{Broker, RoleRequest, TokenSource as _};

/// The variables of the long-term key.
const KEY_ID_ENV: &str = "STSD_ACCESS_KEY_ID";
const SECRET_ENV: &str = "STSD_SECRET_ACCESS_KEY";
/// The broker's URL when `--endpoint` is not given.
const ENDPOINT_ENV: &str = "STSD_ENDPOINT";

#[derive(Debug, Args)]
pub(super) struct CredentialProcessArgs {
    /// The broker's URL (https://, or http:// to loopback); default:
    /// $STSD_ENDPOINT.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The role to assume.
    #[arg(long, value_name = "ARN", required_unless_present = "profile")]
    role_arn: Option<String>,
    /// Serve the credentials `stsd login --profile NAME` keeps (until they
    /// expire; then sign in again) instead of calling the broker.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["role_arn", "web_identity_token_file", "client_cert_file"])]
    profile: Option<String>,
    /// A web-identity token file (AssumeRoleWithWebIdentity).
    #[arg(long, value_name = "FILE")]
    web_identity_token_file: Option<PathBuf>,
    /// mTLS: the client certificate (PEM) …
    #[arg(long, value_name = "FILE", requires = "client_key_file")]
    client_cert_file: Option<PathBuf>,
    /// … and its key.
    #[arg(long, value_name = "FILE", requires = "client_cert_file")]
    client_key_file: Option<PathBuf>,
    /// RoleSessionName.
    #[arg(long, default_value = "stsd-credential-process")]
    role_session_name: String,
    /// DurationSeconds (900–43200).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u32).range(900..=43_200))]
    duration_seconds: u32,
    /// Extra CA certificates (PEM) trusted for the broker.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// SigV4 region of the signed AssumeRole.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Cache directory (default: $XDG_CACHE_HOME/stsd/credential-process,
    /// or ~/.cache/stsd/credential-process).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the cache.
    #[arg(long)]
    no_cache: bool,
    /// Cached credentials with less than this left are not reused.
    #[arg(long, default_value_t = 300)]
    refresh_before_secs: u32,
    /// One broker call's deadline, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

/// A cache file.
#[derive(Serialize, Deserialize)]
pub(super) struct Cached {
    /// Expiry, seconds since the epoch.
    pub(super) expiration: i64,
    /// The Version 1 JSON.
    pub(super) output: serde_json::Value,
}

/// Prints credentials or fails with a message on stderr.
pub(super) fn run(args: &CredentialProcessArgs) -> ExitCode {
    match credentials(args) {
        Ok(json) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(&json)
                .and_then(|()| out.write_all(b"\n"))
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stsd credential-process: {e}");
            ExitCode::FAILURE
        }
    }
}

fn credentials(args: &CredentialProcessArgs) -> Result<Vec<u8>, String> {
    let clock = Arc::new(SystemClock);
    if let Some(profile) = &args.profile {
        return login_credentials(args, profile, clock.now_secs());
    }
    let role_arn = args
        .role_arn
        .clone()
        .ok_or("--role-arn or --profile is required")?;
    let url = match &args.endpoint {
        Some(u) => u.clone(),
        None => std::env::var(ENDPOINT_ENV)
            .map_err(|_| format!("no broker: give --endpoint or set {ENDPOINT_ENV}"))?,
    };
    let endpoint = broker_endpoint(&url)?;
    let (auth, web_identity, caller) = authentication(args)?;
    let request = RoleRequest {
        role_arn,
        session_name: args.role_session_name.clone(),
        duration_secs: args.duration_seconds,
    };
    let cache = if args.no_cache {
        None
    } else {
        Some(cache_file(args, &url, &caller)?)
    };
    let now = clock.now_secs();
    if let Some(cached) = cache.as_deref().and_then(read_cache)
        && cached.expiration.saturating_sub(now) > i64::from(args.refresh_before_secs)
    {
        return serde_json::to_vec(&cached.output).map_err(|e| e.to_string());
    }
    let config = BrokerConfig {
        endpoint,
        ca_file: args.ca_file.clone(),
        region: args.region.clone(),
        timeout: Duration::from_millis(args.timeout_ms),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let vended = runtime.block_on(async {
        let broker = GrpcBroker::new(&config, auth, clock).map_err(|e| e.to_string())?;
        match &web_identity {
            None => broker.assume_role(&request).await,
            Some(token) => broker.assume_role_with_web_identity(&request, token).await,
        }
        .map_err(|e| e.to_string())
    })?;
    let json = render::process(&vended);
    if let Some(path) = &cache {
        let output: serde_json::Value = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
        let cached = Cached {
            expiration: vended.expiration,
            output,
        };
        if let Err(e) = write_cache(path, &cached) {
            // The credentials are good; a cache that cannot be written only
            // costs a broker call next time.
            eprintln!("stsd credential-process: warning: {e}");
        }
    }
    Ok(json)
}

fn broker_endpoint(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("--endpoint: not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(uri),
        (Some("http"), Some(h)) if is_loopback(h) => Ok(uri),
        _ => Err("--endpoint: must be an https:// URL (http:// only to a loopback host)".into()),
    }
}

/// How the broker is called — signed as `ClientAuth` says, or with the
/// web-identity token, read once here — and a name of the caller for the
/// cache key.
fn authentication(
    args: &CredentialProcessArgs,
) -> Result<(ClientAuth, Option<BearerToken>, String), String> {
    // The caller part of the cache key names the identity itself (the
    // token's or certificate's digest), not only its file: another
    // identity written to the same path must not be served the first
    // one's cached session.
    if let Some(file) = &args.web_identity_token_file {
        let token = TokenFile(file.clone()).read()?;
        let caller = format!("web-identity:{}", digest(token.expose_secret().as_bytes()));
        return Ok((ClientAuth::None, Some(token), caller));
    }
    if let (Some(cert), Some(key)) = (&args.client_cert_file, &args.client_key_file) {
        let pem = std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
        return Ok((
            ClientAuth::certificate(cert, key)?,
            None,
            format!("mtls:{}", digest(&pem)),
        ));
    }
    let id = std::env::var(KEY_ID_ENV).ok();
    let secret = std::env::var(SECRET_ENV).ok();
    match (id, secret) {
        (Some(id), Some(secret)) => {
            let secret: SecretAccessKey = secret
                .trim()
                .to_owned()
                .try_into()
                .map_err(|_| format!("{SECRET_ENV}: not a 40-character secret access key"))?;
            Ok((
                ClientAuth::Key {
                    access_key_id: id.clone(),
                    secret,
                },
                None,
                format!("key:{id}"),
            ))
        }
        _ => Err(format!(
            "no way to authenticate: give --web-identity-token-file, --client-cert-file with --client-key-file, or set {KEY_ID_ENV} and {SECRET_ENV}"
        )),
    }
}

fn digest(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

fn cache_file(
    args: &CredentialProcessArgs,
    endpoint: &str,
    caller: &str,
) -> Result<PathBuf, String> {
    let dir = match &args.cache_dir {
        Some(d) => d.clone(),
        None => cache_base()?.join("stsd").join("credential-process"),
    };
    let key = format!(
        "{}\n{}\n{}\n{}\n{}",
        endpoint,
        args.role_arn.as_deref().unwrap_or_default(),
        args.role_session_name,
        args.duration_seconds,
        caller
    );
    let name = data_encoding::HEXLOWER.encode(&Sha256::digest(key.as_bytes()));
    Ok(dir.join(format!("{}.json", name.get(..32).unwrap_or(&name))))
}

/// The cache file, if it is ours: owned by this user and not readable or
/// writable by anyone else (a file another user could have written is
/// not trusted, whatever `--cache-dir` points at).
fn read_cache(path: &Path) -> Option<Cached> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let ours = meta.is_file()
        && meta.mode() & 0o077 == 0
        && meta.uid() == rustix::process::geteuid().as_raw();
    if !ours {
        eprintln!(
            "stsd credential-process: warning: ignoring {}: not a private file of this user",
            path.display()
        );
        return None;
    }
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

fn write_cache(path: &Path, cached: &Cached) -> Result<(), String> {
    let body = serde_json::to_vec(cached).map_err(|e| e.to_string())?;
    write_private(path, &body)
}

/// Writes `body` to `path` through a temporary file renamed into place,
/// the file 0600 in a directory made 0700 when missing.
pub(super) fn write_private(path: &Path, body: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let dir = path.parent().ok_or("the file has no directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(body)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// The cache file `stsd login --profile NAME` writes: `NAME.json` under
/// `dir`, default `$XDG_CACHE_HOME/stsd/login` or `~/.cache/stsd/login`.
pub(super) fn login_cache_file(dir: Option<&Path>, profile: &str) -> Result<PathBuf, String> {
    let valid = !profile.is_empty()
        && profile.len() <= 64
        && profile
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !profile.starts_with('.');
    if !valid {
        return Err(
            "--profile: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'".into(),
        );
    }
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => cache_base()?.join("stsd").join("login"),
    };
    Ok(dir.join(format!("{profile}.json")))
}

/// `$XDG_CACHE_HOME`, else `~/.cache`.
fn cache_base() -> Result<PathBuf, String> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or_else(|| "no cache directory: set --cache-dir, XDG_CACHE_HOME or HOME".to_owned())
}

/// Credentials of `stsd login` with less than this left are not served.
const LOGIN_REFRESH_MARGIN_SECS: i64 = 600;

/// The credentials `stsd login` kept for `profile`, while they last.
fn login_credentials(
    args: &CredentialProcessArgs,
    profile: &str,
    now: i64,
) -> Result<Vec<u8>, String> {
    let path = login_cache_file(args.cache_dir.as_deref(), profile)?;
    let cached = read_cache(&path).ok_or_else(|| {
        format!("no credentials for profile {profile}: run `stsd login --profile {profile}`")
    })?;
    // The SDKs refuse credentials in their last minutes (botocore: 10);
    // past that point, sign in again.
    if cached.expiration - now <= LOGIN_REFRESH_MARGIN_SECS {
        return Err(format!(
            "the credentials of profile {profile} have expired or expire within 10 minutes: run `stsd login --profile {profile}`"
        ));
    }
    serde_json::to_vec(&cached.output).map_err(|e| e.to_string())
}
