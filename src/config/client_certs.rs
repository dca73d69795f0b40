//! `[server.tls]`'s client certificates (mTLS), validated.
//!
//! Owns: turning `client_ca_file` and `[[server.tls.client_principals]]`
//! into a [`ClientPrincipals`] table: exactly one of `uri` and `dns` per
//! entry, a valid SAN, a principal ARN that is an IAM user or account root
//! of a served account in the configured partition, no SAN twice, and no
//! mapping without a CA to verify certificates against. Errors name the
//! key and line. Imports domain types only; the CA file itself is read by
//! the TLS setup (and by `stsd check-config`).

use crate::config::ConfigError;
use crate::config::file::ClientPrincipalEntry;
use crate::domain::client_cert::{ClientPrincipal, ClientPrincipals, MappedPrincipal, San};
use crate::domain::ids::{AccountId, Partition};

/// Where the entries are checked against.
pub(super) struct Context<'a> {
    pub(super) origin: &'a str,
    pub(super) text: &'a str,
    pub(super) partition: &'a Partition,
    /// Every served account.
    pub(super) accounts: &'a [AccountId],
    /// Whether `client_ca_file` is set.
    pub(super) has_ca: bool,
}

/// The table of `entries`.
pub(super) fn client_principals(
    entries: Vec<ClientPrincipalEntry>,
    cx: &Context<'_>,
) -> Result<ClientPrincipals, ConfigError> {
    let mut table: Vec<ClientPrincipal> = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let fail = |key: &str, offset: usize, message: String| {
            ConfigError::at_offset(
                cx.origin,
                cx.text,
                Some(offset),
                Some(format!("server.tls.client_principals[{i}]{key}")),
                message,
            )
        };
        let offset = e.principal.span().start;
        if !cx.has_ca {
            return Err(fail(
                "",
                offset,
                "mapping client certificates needs server.tls.client_ca_file".to_owned(),
            ));
        }
        let san =
            match (&e.uri, &e.dns) {
                (Some(u), None) => San::uri(u.get_ref())
                    .map_err(|m| fail(".uri", u.span().start, m.to_string()))?,
                (None, Some(d)) => San::dns(d.get_ref())
                    .map_err(|m| fail(".dns", d.span().start, m.to_string()))?,
                _ => {
                    return Err(fail(
                        "",
                        offset,
                        "set exactly one of uri and dns".to_owned(),
                    ));
                }
            };
        let principal = MappedPrincipal::from_arn(e.principal.get_ref(), cx.partition)
            .map_err(|m| fail(".principal", offset, m.to_string()))?;
        if !cx.accounts.contains(&principal.account()) {
            return Err(fail(
                ".principal",
                offset,
                format!(
                    "account {} is not served (accounts.default, accounts.additional)",
                    principal.account()
                ),
            ));
        }
        if table.iter().any(|t| t.san == san) {
            return Err(fail(
                ".principal",
                offset,
                format!("{san} is mapped more than once"),
            ));
        }
        table.push(ClientPrincipal { san, principal });
    }
    ClientPrincipals::new(table).map_err(|m| {
        ConfigError::at_offset(
            cx.origin,
            cx.text,
            None,
            Some("server.tls.client_principals".to_owned()),
            m.to_string(),
        )
    })
}
