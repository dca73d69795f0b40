//! The SAML settings the daemon serves with.
//!
//! Owns: [`build`] — `[federation.saml]` and each SAML provider's
//! `saml_private_key_file` (read as a secret file: 0600, never logged)
//! into [`Saml`]; without configured recipients, the AWS sign-in
//! endpoints plus the broker's own `/saml` URL on the address it listens
//! on; with `[[web.saml]]` sign-in, the pages' ACS (`<public_url>/saml`)
//! always. Imports config and service.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::secrets::read_private_file;
use crate::config::{Config, ConfigError};
use crate::service::sts::saml::decrypt::DecryptionKey;
use crate::service::sts::saml::{DEFAULT_RECIPIENTS, Saml, SamlSettings};

/// The SAML half of STS for `config`, serving on `local` (over TLS when
/// `tls`).
///
/// # Errors
///
/// A private key file that cannot be read or is not an RSA key.
pub(super) fn build(config: &Config, local: SocketAddr, tls: bool) -> Result<Saml, ConfigError> {
    let saml = &config.federation.saml;
    let scheme = if tls { "https" } else { "http" };
    let mut recipients = saml.recipients.clone().unwrap_or_else(|| {
        let mut r: Vec<String> = DEFAULT_RECIPIENTS.iter().map(|s| (*s).to_owned()).collect();
        r.push(format!("{scheme}://{local}/saml"));
        r
    });
    // The sign-in pages' own ACS is always a recipient when they sign in
    // through SAML.
    if !config.web.saml.is_empty() {
        let acs = format!("{}/saml", super::web::public_url(config, local, tls));
        if !recipients.contains(&acs) {
            recipients.push(acs);
        }
    }
    let mut decryption_keys = HashMap::new();
    for p in &config.federation.providers {
        let Some(path) = &p.saml_private_key_file else {
            continue;
        };
        let pem = read_private_file(path)?;
        let key =
            DecryptionKey::from_pem(pem.as_bytes()).map_err(|m| ConfigError::secret(path, m))?;
        decryption_keys.insert(p.arn.to_string(), Arc::new(key));
    }
    // The sign-in pages' SP entity ID is an audience, whatever it is set to.
    let mut audiences = saml.audiences.clone();
    if let Some(entity) = &config.web.sp_entity_id
        && !audiences.contains(entity)
    {
        audiences.push(entity.clone());
    }
    Ok(Saml::new(SamlSettings {
        audiences,
        recipients,
        reject_replay: saml.reject_replay,
        decryption_keys,
    }))
}
