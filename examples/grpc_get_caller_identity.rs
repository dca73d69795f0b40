//! Calls stsd's gRPC `GetCallerIdentity`, signed with SigV4.
//!
//! ```sh
//! export AWS_ACCESS_KEY_ID=AKIA… AWS_SECRET_ACCESS_KEY=…   # e.g. from stsd-data/root-credentials
//! cargo run --example grpc_get_caller_identity -- http://127.0.0.1:8433 us-east-1
//! ```
//!
//! `AWS_SESSION_TOKEN` is sent too when set (temporary credentials).

use stsd::api::grpc::proto::v1::GetCallerIdentityRequest;
use stsd::api::grpc::proto::v1::security_token_service_client::SecurityTokenServiceClient;
use stsd::client::{Credentials, SigV4Layer};
use stsd::domain::secret::SessionToken;
use tower::Layer as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let endpoint = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8433".into());
    let region = args.next().unwrap_or_else(|| "us-east-1".into());
    let credentials = Credentials {
        access_key_id: std::env::var("AWS_ACCESS_KEY_ID")?,
        secret: std::env::var("AWS_SECRET_ACCESS_KEY")?
            .parse()
            .map_err(|_| "AWS_SECRET_ACCESS_KEY is not a secret access key")?,
        session_token: std::env::var("AWS_SESSION_TOKEN")
            .ok()
            .map(|t| SessionToken::new(&t)),
    };
    let endpoint = tonic::transport::Endpoint::from_shared(endpoint)?;
    // The :authority the channel sends, which the signature covers as `host`.
    let authority = endpoint
        .uri()
        .authority()
        .ok_or("the endpoint has no host")?
        .to_string();
    let channel = endpoint.connect().await?;
    let signed = SigV4Layer::new(credentials, &region, &authority).layer(channel);
    let mut sts = SecurityTokenServiceClient::new(signed);
    let me = sts
        .get_caller_identity(GetCallerIdentityRequest {})
        .await?
        .into_inner();
    println!(
        "Arn: {}\nAccount: {}\nUserId: {}",
        me.arn, me.account, me.user_id
    );
    Ok(())
}
