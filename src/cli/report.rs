//! `stsd report keys`: unused and old access keys, from the shell.
//!
//! Owns: asking a running broker for the account's credential report —
//! `GenerateCredentialReport` until it is `COMPLETE`, then
//! `GetCredentialReport`, signed with SigV4 over the Query API like any
//! SDK call, as the identity in `STSD_ACCESS_KEY_ID` /
//! `STSD_SECRET_ACCESS_KEY` (or `AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY`, with `AWS_SESSION_TOKEN`) — and printing the
//! active keys unused for `--unused-days` or older than `--max-age-days`
//! (`domain::credential_report::stale_keys`), or the whole CSV with
//! `--csv`. It asks the broker rather than opening the store so that it
//! works while the daemon holds the embedded store, sees exactly what
//! `aws iam get-credential-report` sees, and is authorized by IAM policy.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use data_encoding::BASE64;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::domain::clock::{Clock, SystemClock};
use crate::domain::credential_report::{Staleness, stale_keys};
use crate::domain::secret::{SecretAccessKey, SessionToken};
use crate::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};

#[derive(Debug, Subcommand)]
pub(super) enum ReportCommand {
    /// Access keys unused or old, from the account's credential report.
    Keys(KeysArgs),
}

#[derive(Debug, Args)]
pub(super) struct KeysArgs {
    /// The broker's Query API, e.g. https://stsd.internal:8433.
    #[arg(long, value_name = "URL")]
    endpoint: String,
    /// Report active keys not used for this many days (or never used and
    /// created that long ago).
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    unused_days: u64,
    /// Report active keys created longer ago than this many days.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    max_age_days: u64,
    /// Print the whole report (CSV) instead.
    #[arg(long)]
    csv: bool,
    /// PEM bundle of CAs to trust besides the system's.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// The SigV4 region (IAM signs as us-east-1).
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

/// Runs a `stsd report` command.
pub(super) fn run(cmd: ReportCommand) -> ExitCode {
    let ReportCommand::Keys(args) = cmd;
    let Some(runtime) = super::serve::runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(keys(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stsd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The signing identity from the environment.
struct Identity {
    key_id: String,
    secret: SecretAccessKey,
    token: Option<SessionToken>,
}

fn identity() -> Result<Identity, String> {
    let var = |a: &str, b: &str| std::env::var(a).or_else(|_| std::env::var(b)).ok();
    let (Some(key_id), Some(secret)) = (
        var("STSD_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        var("STSD_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
    ) else {
        return Err("set STSD_ACCESS_KEY_ID and STSD_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)".into());
    };
    let secret: SecretAccessKey = secret
        .trim()
        .to_owned()
        .try_into()
        .map_err(|_| "the secret access key is not a 40-character secret".to_owned())?;
    let token = std::env::var("AWS_SESSION_TOKEN")
        .ok()
        .map(SessionToken::new);
    Ok(Identity {
        key_id: key_id.trim().to_owned(),
        secret,
        token,
    })
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<hyper::body::Bytes>>;

async fn keys(args: &KeysArgs) -> Result<(), String> {
    let who = identity()?;
    crate::api::http::tls::install_crypto_provider();
    let tls = crate::adapters::jwks::tls::client_config(args.ca_file.as_deref())
        .map_err(|e| e.to_string())?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client: HttpsClient = Client::builder(TokioExecutor::new()).build(https);
    let mut complete = false;
    for _ in 0..50 {
        let body = call(&client, args, &who, "GenerateCredentialReport").await?;
        if element(&body, "State") == Some("COMPLETE") {
            complete = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !complete {
        return Err("the credential report did not complete".into());
    }
    let body = call(&client, args, &who, "GetCredentialReport").await?;
    let content = element(&body, "Content").ok_or("the answer carries no report")?;
    let csv = BASE64
        .decode(content.trim().as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("the report is not base64 UTF-8 text")?;
    if args.csv {
        print!("{csv}");
        return Ok(());
    }
    let now = u64::try_from(SystemClock.now_secs()).unwrap_or(0);
    let stale = stale_keys(&csv, now, args.unused_days, args.max_age_days);
    if stale.is_empty() {
        println!(
            "no active key unused for {} days or older than {} days",
            args.unused_days, args.max_age_days
        );
        return Ok(());
    }
    println!("user\tkey\treason\tdays_since_use\tage_days");
    for k in stale {
        let why = match k.why {
            Staleness::Unused => "unused",
            Staleness::Old => "old",
        };
        let used = k
            .unused_days
            .map_or_else(|| "never".to_owned(), |d| d.to_string());
        println!(
            "{}\taccess_key_{}\t{why}\t{used}\t{}",
            k.user, k.slot, k.age_days
        );
    }
    Ok(())
}

/// The text of the first `<name>` element of `xml`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml.get(start..)?.find(&format!("</{name}>"))? + start;
    xml.get(start..end)
}

/// One signed IAM Query call; the response body, or the AWS error.
async fn call(
    client: &HttpsClient,
    args: &KeysArgs,
    who: &Identity,
    action: &str,
) -> Result<String, String> {
    let uri: http::Uri = args
        .endpoint
        .parse()
        .map_err(|e| format!("--endpoint: {e}"))?;
    let authority = uri
        .authority()
        .ok_or("--endpoint: no host")?
        .as_str()
        .to_owned();
    let body = format!("Action={action}&Version=2010-05-08");
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let headers = [("host", authority.as_str()), ("content-type", content_type)];
    let view = RequestView {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(body.as_bytes()),
    };
    let timestamp = AmzDate::from_unix_secs(SystemClock.now_secs())
        .ok_or("the system clock is out of range")?;
    let signed = sign_request(
        &view,
        &SigningParams {
            access_key_id: &who.key_id,
            secret: &who.secret,
            security_token: who.token.as_ref(),
            region: &args.region,
            service: "iam",
            timestamp,
            location: SignatureLocation::Headers,
            normalize_path: true,
        },
    )
    .map_err(|e| e.to_string())?;
    let mut request = http::Request::post(&uri).header("content-type", content_type);
    for (name, value) in &signed.headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(hyper::body::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .map_err(|_| format!("{}: timed out", args.endpoint))?
        .map_err(|e| format!("{}: {e}", args.endpoint))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if !status.is_success() {
        let code = element(&text, "Code").unwrap_or("error");
        let message = element(&text, "Message").unwrap_or_default();
        return Err(format!("{action}: {code}: {message} (HTTP {status})"));
    }
    Ok(text)
}
