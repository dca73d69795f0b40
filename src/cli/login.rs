//! `stsd login`: browser sign-in from a shell, as `aws sso login` does.
//!
//! Owns: the command — a loopback listener on `127.0.0.1:<ephemeral>`,
//! a PKCE verifier and a `state` from the system CSPRNG, the browser sent
//! to the broker's `/web/cli` (opened with `$BROWSER` or `xdg-open`, or
//! printed with `--no-browser`), the one callback accepted (its `state`
//! must match; an `error` is reported), the one-time code exchanged at
//! `/web/cli/token` with the verifier, and the credentials kept: by
//! default in a 0600 cache file that `stsd credential-process --profile
//! NAME` serves until expiry, or with `--write-credentials` in the AWS
//! shared credentials file (`$AWS_SHARED_CREDENTIALS_FILE` or
//! `~/.aws/credentials`, the profile's section replaced, the file kept
//! 0600). The listener takes one connection at a time and gives up after
//! `--timeout-secs`. Nothing secret is printed. Imports `cli::credential_process`
//! (the cache) and `service::sso::oidc` (the PKCE challenge).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::credential_process::{Cached, login_cache_file, write_private};
use crate::domain::secret::BearerToken;
use crate::domain::sigv4::{percent_decode, percent_encode};
use crate::service::sso::oidc::pkce_challenge;

#[derive(Debug, Args)]
pub(super) struct LoginArgs {
    /// The broker's base URL (https://, or http:// to loopback); default:
    /// $STSD_ENDPOINT.
    #[arg(long, value_name = "URL")]
    broker: Option<String>,
    /// The role to sign in to (picked without the role picker when you
    /// may assume it).
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// The profile the credentials are kept for.
    #[arg(long, default_value = "default", value_name = "NAME")]
    profile: String,
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// Write the profile into the AWS shared credentials file instead of
    /// stsd's cache.
    #[arg(long)]
    write_credentials: bool,
    /// Extra CA certificates (PEM) trusted for the broker.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Cache directory (default: $XDG_CACHE_HOME/stsd/login or
    /// ~/.cache/stsd/login).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// How long to wait for the browser sign-in.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

/// The credentials the broker hands over.
#[derive(serde::Deserialize)]
struct Answer {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
    #[serde(rename = "SessionToken")]
    session_token: String,
    #[serde(rename = "Expiration")]
    expiration: String,
    #[serde(rename = "Arn")]
    arn: String,
}

/// Runs `stsd login`.
pub(super) fn run(args: &LoginArgs) -> ExitCode {
    let Some(runtime) = super::serve::runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(login(args)) {
        Ok(message) => {
            eprintln!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stsd login: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn login(args: &LoginArgs) -> Result<String, String> {
    crate::api::http::tls::install_crypto_provider();
    let broker = match &args.broker {
        Some(b) => b.clone(),
        None => std::env::var("STSD_ENDPOINT")
            .map_err(|_| "no broker: give --broker or set STSD_ENDPOINT".to_owned())?,
    };
    let broker = broker.trim_end_matches('/').to_owned();
    check_broker(&broker)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on loopback: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let verifier = random_token()?;
    let state = random_token()?;
    let mut url = format!(
        "{broker}/web/cli?redirect_uri={}&state={}&code_challenge={}&code_challenge_method=S256",
        pct(&redirect_uri),
        pct(state.expose_secret()),
        pkce_challenge(&verifier)
    );
    if let Some(role) = &args.role_arn {
        url.push_str("&role_arn=");
        url.push_str(&pct(role));
    }
    open(&url, args.no_browser);
    let code = tokio::time::timeout(
        Duration::from_secs(args.timeout_secs),
        callback(&listener, &state),
    )
    .await
    .map_err(|_| format!("no sign-in within {} s", args.timeout_secs))??;
    let answer = exchange(
        &broker,
        args.ca_file.as_deref(),
        &code,
        &verifier,
        &redirect_uri,
    )
    .await?;
    let expiration = parse_time(&answer.expiration)?;
    // The profile name is checked the same way for both destinations
    // (no `]`, newline or path separator can reach the INI or the path).
    login_cache_file(args.cache_dir.as_deref(), &args.profile)?;
    if args.write_credentials {
        let path = write_shared_credentials(&args.profile, &answer)?;
        Ok(format!(
            "Signed in as {}; profile [{}] written to {} (expires {}).",
            answer.arn,
            args.profile,
            path.display(),
            answer.expiration
        ))
    } else {
        let path = login_cache_file(args.cache_dir.as_deref(), &args.profile)?;
        let output = serde_json::json!({
            "Version": 1,
            "AccessKeyId": answer.access_key_id,
            "SecretAccessKey": answer.secret_access_key,
            "SessionToken": answer.session_token,
            "Expiration": answer.expiration,
        });
        let body = serde_json::to_vec(&Cached { expiration, output }).map_err(|e| e.to_string())?;
        write_private(&path, &body)?;
        Ok(format!(
            "Signed in as {}; credentials for profile {} kept until {} (serve them with `stsd credential-process --profile {}`).",
            answer.arn, args.profile, answer.expiration, args.profile
        ))
    }
}

/// The broker URL rule: https, or http to loopback.
fn check_broker(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("--broker: not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(()),
        (Some("http"), Some(h)) if crate::agent::config::is_loopback(h) => Ok(()),
        _ => Err("--broker: must be an https:// URL (http:// only to a loopback host)".into()),
    }
}

/// Opens the browser at `url`, or prints it.
fn open(url: &str, no_browser: bool) {
    if !no_browser {
        let program = std::env::var("BROWSER").unwrap_or_else(|_| "xdg-open".to_owned());
        let spawned = std::process::Command::new(&program)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            eprintln!("Opened your browser to sign in. If it did not open, visit:\n\n  {url}\n");
            return;
        }
    }
    eprintln!("To sign in, open this URL in a browser:\n\n  {url}\n");
}

/// Waits for the browser's redirect to `/callback`; the code it carries.
async fn callback(
    listener: &tokio::net::TcpListener,
    state: &BearerToken,
) -> Result<BearerToken, String> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = [0_u8; 4096];
        while buf.len() < 16 * 1024 {
            let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await;
            let n = match read {
                Ok(Ok(n)) => n,
                _ => 0,
            };
            if n == 0 {
                break;
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let len = buf.len();
        let head = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        let target = head
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let Some(query) = target.strip_prefix("/callback?") else {
            let _ = reply(&mut stream, "404 Not Found", "Not the sign-in callback.").await;
            continue;
        };
        let params: Vec<(String, String)> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (unpct(k), unpct(v)))
            .collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if let Some(error) = get("error") {
            let _ = reply(
                &mut stream,
                "400 Bad Request",
                "Sign-in failed; see your terminal.",
            )
            .await;
            return Err(format!("the broker refused the sign-in: {error}"));
        }
        let state_ok = get("state").is_some_and(|s| BearerToken::new(s) == *state);
        let Some(code) = get("code").filter(|_| state_ok) else {
            let _ = reply(
                &mut stream,
                "400 Bad Request",
                "This is not the answer to this sign-in.",
            )
            .await;
            continue;
        };
        let _ = reply(
            &mut stream,
            "200 OK",
            "Signed in. You can close this window and return to your terminal.",
        )
        .await;
        return Ok(BearerToken::new(code));
    }
}

/// A small HTML answer to the browser.
async fn reply(
    stream: &mut tokio::net::TcpStream,
    status: &str,
    text: &str,
) -> std::io::Result<()> {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>stsd login</title></head><body><main><h1>stsd login</h1><p id=\"result\">{text}</p></main></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nContent-Security-Policy: default-src 'none'\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// `POST /web/cli/token`.
async fn exchange(
    broker: &str,
    ca_file: Option<&Path>,
    code: &BearerToken,
    verifier: &BearerToken,
    redirect_uri: &str,
) -> Result<Answer, String> {
    let tls = crate::adapters::jwks::tls::client_config(ca_file).map_err(|e| e.to_string())?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https);
    let form = format!(
        "code={}&code_verifier={}&redirect_uri={}",
        pct(code.expose_secret()),
        pct(verifier.expose_secret()),
        pct(redirect_uri)
    );
    let request = http::Request::post(format!("{broker}/web/cli/token"))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(Full::new(Bytes::from(form)))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .map_err(|_| "the broker did not answer in time".to_owned())?
        .map_err(|e| format!("cannot reach the broker: {e}"))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|e| format!("reading the broker's answer: {e}"))?
        .to_bytes();
    if !status.is_success() {
        let why: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        return Err(format!(
            "the broker refused the code ({status}): {}",
            why.get("error_description")
                .and_then(|v| v.as_str())
                .unwrap_or("no reason given")
        ));
    }
    serde_json::from_slice(&body)
        .map_err(|e| format!("the broker's answer is not credentials: {e}"))
}

/// The AWS shared credentials file with `[profile]` replaced.
fn write_shared_credentials(profile: &str, answer: &Answer) -> Result<PathBuf, String> {
    let path = match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".aws").join("credentials"))
            .ok_or("no home directory: set AWS_SHARED_CREDENTIALS_FILE")?,
    };
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e} (left unchanged)", path.display())),
    };
    let section = format!(
        "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
        answer.access_key_id, answer.secret_access_key, answer.session_token
    );
    let text = replace_section(&old, profile, &section);
    write_private(&path, text.as_bytes())?;
    Ok(path)
}

/// `ini` with the section `name` replaced by `section` (appended when
/// absent); other sections and comments are kept as they are.
pub(super) fn replace_section(ini: &str, name: &str, section: &str) -> String {
    let mut out = String::with_capacity(ini.len() + section.len());
    let mut skipping = false;
    let mut replaced = false;
    for line in ini.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            let header = trimmed.trim_start_matches('[').trim_end_matches(']').trim();
            skipping = header == name;
            if skipping && !replaced {
                out.push_str(section);
                replaced = true;
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !replaced {
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(section);
    }
    out
}

/// 32 bytes of the system CSPRNG, base64url.
fn random_token() -> Result<BearerToken, String> {
    let mut raw = zeroize::Zeroizing::new([0_u8; 32]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), raw.as_mut_slice())
        .map_err(|_| "the system random number generator failed".to_owned())?;
    Ok(BearerToken::new(
        data_encoding::BASE64URL_NOPAD.encode(raw.as_slice()),
    ))
}

/// `YYYY-MM-DDTHH:MM:SSZ` as seconds since the epoch.
fn parse_time(s: &str) -> Result<i64, String> {
    crate::service::iam::providers::metadata::parse_datetime(s)
        .ok_or_else(|| format!("the broker's Expiration {s:?} is not a time"))
}

/// Percent-encoding for query and form values.
fn pct(s: &str) -> String {
    percent_encode(s.as_bytes())
}

/// Percent-decoding of a query value, `+` as a space (HTML forms); bytes
/// that are not UTF-8 are replaced.
fn unpct(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(&s.replace('+', "%20"))).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_section_is_replaced_and_others_kept() {
        let ini = "# mine\n[default]\naws_access_key_id = A\n\n[work]\naws_access_key_id = B\nregion = x\n[other]\nk = v\n";
        let out = replace_section(ini, "work", "[work]\naws_access_key_id = NEW\n");
        assert_eq!(
            out,
            "# mine\n[default]\naws_access_key_id = A\n\n[work]\naws_access_key_id = NEW\n[other]\nk = v\n"
        );
        let appended = replace_section("[default]\nk = v\n", "new", "[new]\nx = y\n");
        assert_eq!(appended, "[default]\nk = v\n\n[new]\nx = y\n");
        assert_eq!(replace_section("", "p", "[p]\n"), "[p]\n");
    }

    #[test]
    fn query_values_decode() {
        assert_eq!(unpct("a%2Fb+c%3d"), "a/b c=");
        assert_eq!(unpct("%zz"), "%zz");
    }
}
