//! Client certificates mapped to principals (mTLS caller authentication).
//!
//! Owns: [`ClientPrincipals`], the configured table from a subject
//! alternative name ([`San`]: a URI such as a SPIFFE ID, or a DNS name) to
//! a [`MappedPrincipal`] (an IAM user of a served account, or an account's
//! root), and [`ClientPrincipals::resolve`], the pure rule that turns the
//! SANs of a client's **leaf** certificate — already verified by the TLS
//! layer against the configured CA bundle — into a [`ClientMatch`]:
//!
//! - a URI SAN matches a `uri` entry when the two are byte-for-byte equal
//!   (no normalisation: `spiffe://example.org/a` and `spiffe://EXAMPLE.org/a`
//!   differ, as SPIFFE IDs are compared);
//! - a DNS SAN matches a `dns` entry when equal ignoring ASCII case (a
//!   trailing dot is ignored); a wildcard presented by the certificate
//!   (`*.internal`) is never expanded and matches only nothing, and
//!   entries cannot be wildcards;
//! - when the certificate's SANs match entries naming different
//!   principals, the certificate is [`ClientMatch::Ambiguous`] and
//!   authenticates nobody.
//!
//! Roles are not mappable: a workload maps to a user and calls
//! `AssumeRole` (its session then carries the role's policies, expiry and
//! revocation). Pure: std and domain types only.

use std::fmt;

use crate::domain::ids::{AccountId, Arn, Partition, UserName};

/// A subject alternative name an entry matches on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum San {
    /// A URI SAN, compared exactly (`spiffe://example.org/ns/prod/sa/billing`).
    Uri(String),
    /// A DNS SAN, stored lowercase without a trailing dot.
    Dns(String),
}

/// The principal a client certificate authenticates as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MappedPrincipal {
    /// The account's root identity.
    Root(AccountId),
    /// An IAM user, found by name in the account at each new connection.
    User(AccountId, UserName),
}

/// One configured entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPrincipal {
    /// What the leaf certificate must present.
    pub san: San,
    /// Who it then is.
    pub principal: MappedPrincipal,
}

/// The configured entries, without duplicate SANs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientPrincipals {
    entries: Vec<ClientPrincipal>,
}

/// What a verified client certificate says about its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMatch {
    /// Its SANs match entries naming one principal; `san` is the first
    /// matching entry's.
    Mapped {
        /// Who the client is.
        principal: MappedPrincipal,
        /// The SAN that matched.
        san: San,
    },
    /// None of its SANs is configured.
    Unmapped,
    /// Its SANs match entries naming different principals.
    Ambiguous,
}

/// Why a value cannot be a SAN entry or a mapped principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientPrincipalError {
    /// The `uri` is not an absolute URI.
    #[error("'{0}' is not an absolute URI such as spiffe://example.org/ns/prod/sa/billing")]
    Uri(String),
    /// The `dns` is not a DNS name.
    #[error("'{0}' is not a DNS name such as billing.internal (wildcards are not accepted)")]
    Dns(String),
    /// The principal is not an ARN.
    #[error("'{0}' is not an ARN")]
    Arn(String),
    /// The principal ARN is a role or another principal that cannot be mapped.
    #[error(
        "'{0}' is not an IAM user or account root ARN (roles cannot be mapped: map the workload to a user that may call AssumeRole)"
    )]
    Kind(String),
    /// The principal ARN is of another partition.
    #[error("'{arn}' is not in partition '{partition}'")]
    Partition {
        /// The ARN.
        arn: String,
        /// The configured partition.
        partition: String,
    },
    /// The same SAN appears twice.
    #[error("{0} is mapped more than once")]
    Duplicate(San),
}

// === impl San ===

impl San {
    /// A `uri` entry: an absolute URI (`scheme:rest`), printable ASCII
    /// without spaces.
    ///
    /// # Errors
    ///
    /// [`ClientPrincipalError::Uri`].
    pub fn uri(value: &str) -> Result<Self, ClientPrincipalError> {
        let bad = || ClientPrincipalError::Uri(value.to_owned());
        let (scheme, rest) = value.split_once(':').ok_or_else(bad)?;
        let mut chars = scheme.chars();
        let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        let rest_ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_graphic());
        if scheme_ok && rest_ok {
            Ok(Self::Uri(value.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// A `dns` entry: dot-separated labels of letters, digits and `-` (not
    /// at a label's ends), at most 253 characters; kept lowercase, without
    /// a trailing dot.
    ///
    /// # Errors
    ///
    /// [`ClientPrincipalError::Dns`].
    pub fn dns(value: &str) -> Result<Self, ClientPrincipalError> {
        let name = normalise_dns(value);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok) {
            Ok(Self::Dns(name))
        } else {
            Err(ClientPrincipalError::Dns(value.to_owned()))
        }
    }
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uri(u) => write!(f, "URI:{u}"),
            Self::Dns(d) => write!(f, "DNS:{d}"),
        }
    }
}

/// `name` lowercase, without one trailing dot.
fn normalise_dns(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

// === impl MappedPrincipal ===

impl MappedPrincipal {
    /// Parses `arn:{partition}:iam::{account}:root` or
    /// `arn:{partition}:iam::{account}:user/[path/]name`. The user's path,
    /// when written, is not kept: a user is found by its name, unique in
    /// the account. Whether the account is served is the caller's check.
    ///
    /// # Errors
    ///
    /// A [`ClientPrincipalError`] naming the value.
    pub fn from_arn(value: &str, partition: &Partition) -> Result<Self, ClientPrincipalError> {
        let arn: Arn = value
            .parse()
            .map_err(|_| ClientPrincipalError::Arn(value.to_owned()))?;
        if arn.partition() != partition.as_str() {
            return Err(ClientPrincipalError::Partition {
                arn: value.to_owned(),
                partition: partition.as_str().to_owned(),
            });
        }
        let kind = || ClientPrincipalError::Kind(value.to_owned());
        let account = arn.account_id().ok_or_else(kind)?;
        if arn.service() != "iam" || !arn.region().is_empty() {
            return Err(kind());
        }
        if arn.resource() == "root" {
            return Ok(Self::Root(account));
        }
        let name = arn
            .resource()
            .strip_prefix("user/")
            .and_then(|rest| rest.rsplit('/').next())
            .and_then(|name| name.parse::<UserName>().ok())
            .ok_or_else(kind)?;
        Ok(Self::User(account, name))
    }

    /// The account the principal belongs to.
    pub fn account(&self) -> AccountId {
        match self {
            Self::Root(a) | Self::User(a, _) => *a,
        }
    }
}

impl fmt::Display for MappedPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root(a) => write!(f, "root of {a}"),
            Self::User(a, n) => write!(f, "user {n} of {a}"),
        }
    }
}

// === impl ClientPrincipals ===

impl ClientPrincipals {
    /// The table of `entries`, in order.
    ///
    /// # Errors
    ///
    /// [`ClientPrincipalError::Duplicate`] when two entries share a SAN.
    pub fn new(entries: Vec<ClientPrincipal>) -> Result<Self, ClientPrincipalError> {
        for (i, e) in entries.iter().enumerate() {
            if entries.iter().take(i).any(|earlier| earlier.san == e.san) {
                return Err(ClientPrincipalError::Duplicate(e.san.clone()));
            }
        }
        Ok(Self { entries })
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[ClientPrincipal] {
        &self.entries
    }

    /// Whether no entry is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What a verified leaf certificate presenting `uris` and `dns_names`
    /// (its SAN extension) is (see the module docs for the rules).
    pub fn resolve<'a>(
        &self,
        uris: impl IntoIterator<Item = &'a str>,
        dns_names: impl IntoIterator<Item = &'a str>,
    ) -> ClientMatch {
        let uris: Vec<&str> = uris.into_iter().collect();
        let dns_names: Vec<String> = dns_names.into_iter().map(normalise_dns).collect();
        let mut found: Option<&ClientPrincipal> = None;
        for entry in &self.entries {
            let hit = match &entry.san {
                San::Uri(u) => uris.contains(&u.as_str()),
                San::Dns(d) => dns_names.iter().any(|n| n == d),
            };
            if !hit {
                continue;
            }
            match found {
                None => found = Some(entry),
                Some(first) if first.principal != entry.principal => return ClientMatch::Ambiguous,
                Some(_) => {}
            }
        }
        match found {
            Some(e) => ClientMatch::Mapped {
                principal: e.principal.clone(),
                san: e.san.clone(),
            },
            None => ClientMatch::Unmapped,
        }
    }
}

#[cfg(test)]
mod tests;
