//! Building AssumeRoleWithWebIdentity's dependencies.
//!
//! Owns: the key source of web identity — the HTTPS fetcher trusting the
//! system roots plus `[federation] ca_file` / `STSD_FEDERATION_CA_FILE`,
//! the moka-cached discovery source over it — and the inline key sets of
//! `[[federation.providers]]` entries. Imports `config`, `adapters` and
//! `service`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::adapters::jwks::fetch::{FetchPolicy, Fetcher};
use crate::adapters::jwks::tls::{TlsSetupError, client_config};
use crate::adapters::jwks::{HttpKeySource, JwksSettings};
use crate::config::Config;
use crate::domain::clock::Clock;
use crate::service::sts::web_identity::WebIdentity;

/// Web identity's dependencies as `config` says.
///
/// # Errors
///
/// The CA bundle is unusable (or no root is trusted at all).
pub(super) fn build(config: &Config, clock: Arc<dyn Clock>) -> Result<WebIdentity, TlsSetupError> {
    let o = &config.federation.oidc;
    let tls = client_config(o.ca_file.as_deref())?;
    let policy = FetchPolicy {
        allow_insecure_loopback: o.allow_insecure_loopback,
        allow_private_addresses: o.allow_private_addresses,
        jwks_hosts: o.jwks_hosts.clone(),
    };
    let fetcher = Fetcher::new(tls, o.fetch_timeout, policy);
    let keys = HttpKeySource::new(
        fetcher,
        clock,
        JwksSettings {
            min_ttl: o.cache_min_ttl,
            max_ttl: o.cache_max_ttl,
            refetch_interval: o.refetch_interval,
        },
    );
    let inline: HashMap<_, _> = config
        .federation
        .providers
        .iter()
        .filter_map(|p| Some((p.arn.clone(), Arc::new(p.jwks.clone()?))))
        .collect();
    Ok(WebIdentity {
        keys: Arc::new(keys),
        inline: inline.into(),
        max_token_age_secs: o.max_token_age.map(|d| d.as_secs()),
    })
}
