//! SAML and OIDC provider actions on the wire.
//!
//! Owns: decoding their parameters and writing IAM's shapes
//! (`SAMLProviderArn`, `SAMLMetadataDocument`, `ValidUntil`,
//! `OpenIDConnectProviderArn`, `Url` without its scheme, `ClientIDList`,
//! `ThumbprintList`). A provider whose metadata has no `validUntil` shows
//! its creation date plus 100 years, as IAM does. Imports `service` and
//! the api's own modules.

use std::sync::Arc;

use super::route::{route, tag_keys, tag_page};
use super::users::secs;
use super::{tags, write_tags};
use crate::api::dispatch::Dispatcher;
use crate::api::xml::XmlResponse;
use crate::service::iam::Iam;
use crate::service::iam::providers::{self, oidc};
use crate::service::store::model::SamlProviderRecord;

/// Seconds in the 100 years IAM gives metadata without `validUntil`.
const HUNDRED_YEARS: u64 = 100 * 365 * 86_400 + 24 * 86_400;

/// The `ValidUntil` IAM shows for `p`.
fn valid_until(p: &SamlProviderRecord) -> i64 {
    let s = match p.valid_until {
        Some(t) => t.as_unix_secs(),
        None => p.create_date.as_unix_secs().saturating_add(HUNDRED_YEARS),
    };
    secs(s)
}

/// Registers the provider actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    register_saml(d, iam);
    register_oidc(d, iam);
    register_tags(d, iam);
}

/// The SAML provider actions.
fn register_saml(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "CreateSAMLProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let name = p.parse_required("Name")?;
            let doc = p.required("SAMLMetadataDocument")?.to_owned();
            let made = providers::create_saml_provider(&iam, &caller, name, doc, tags(&p)?).await?;
            let mut r = XmlResponse::new();
            r.string("SAMLProviderArn", made.arn.as_str());
            if !made.tags.is_empty() {
                write_tags(&mut r, &made.tags);
            }
            Ok(r)
        },
    );
    route(d, iam, "GetSAMLProvider", |iam, caller, call| async move {
        let arn = call.params.root().parse_required("SAMLProviderArn")?;
        let found = providers::get_saml_provider(&iam, &caller, &arn).await?;
        let mut r = XmlResponse::new();
        r.string("SAMLMetadataDocument", found.metadata_document.clone())
            .timestamp("CreateDate", secs(found.create_date.as_unix_secs()))
            .timestamp("ValidUntil", valid_until(&found));
        if !found.tags.is_empty() {
            write_tags(&mut r, &found.tags);
        }
        Ok(r)
    });
    route(
        d,
        iam,
        "UpdateSAMLProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("SAMLProviderArn")?;
            let doc = p.required("SAMLMetadataDocument")?.to_owned();
            providers::update_saml_provider(&iam, &caller, &arn, doc).await?;
            let mut r = XmlResponse::new();
            r.string("SAMLProviderArn", arn.as_str());
            Ok(r)
        },
    );
    route(
        d,
        iam,
        "DeleteSAMLProvider",
        |iam, caller, call| async move {
            let arn = call.params.root().parse_required("SAMLProviderArn")?;
            providers::delete_saml_provider(&iam, &caller, &arn).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListSAMLProviders",
        |iam, caller, _call| async move {
            let all = providers::list_saml_providers(&iam, &caller).await?;
            let mut r = XmlResponse::new();
            r.list("SAMLProviderList", |l| {
                for p in &all {
                    l.structure(|x| {
                        x.string("Arn", p.arn.as_str())
                            .timestamp("ValidUntil", valid_until(p))
                            .timestamp("CreateDate", secs(p.create_date.as_unix_secs()));
                    });
                }
            });
            Ok(r)
        },
    );
}

/// The OIDC provider actions.
fn register_oidc(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "CreateOpenIDConnectProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let input = oidc::CreateOidcProvider {
                url: p.parse_required("Url")?,
                client_ids: p
                    .list("ClientIDList")?
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                thumbprints: p
                    .list("ThumbprintList")?
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                tags: tags(&p)?,
            };
            let made = oidc::create_oidc_provider(&iam, &caller, input).await?;
            let mut r = XmlResponse::new();
            r.string("OpenIDConnectProviderArn", made.arn.as_str());
            if !made.tags.is_empty() {
                write_tags(&mut r, &made.tags);
            }
            Ok(r)
        },
    );
    route(
        d,
        iam,
        "GetOpenIDConnectProvider",
        |iam, caller, call| async move {
            let arn = call
                .params
                .root()
                .parse_required("OpenIDConnectProviderArn")?;
            let found = oidc::get_oidc_provider(&iam, &caller, &arn).await?;
            let mut r = XmlResponse::new();
            r.string("Url", found.url.host_and_path())
                .list("ClientIDList", |l| {
                    for c in &found.client_ids {
                        l.string(c.clone());
                    }
                })
                .list("ThumbprintList", |l| {
                    for t in &found.thumbprints {
                        l.string(t.clone());
                    }
                })
                .timestamp("CreateDate", secs(found.create_date.as_unix_secs()));
            if !found.tags.is_empty() {
                write_tags(&mut r, &found.tags);
            }
            Ok(r)
        },
    );
    route(
        d,
        iam,
        "UpdateOpenIDConnectProviderThumbprint",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("OpenIDConnectProviderArn")?;
            let list = p
                .list("ThumbprintList")?
                .into_iter()
                .map(str::to_owned)
                .collect();
            oidc::update_thumbprints(&iam, &caller, &arn, list).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "AddClientIDToOpenIDConnectProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("OpenIDConnectProviderArn")?;
            let id = p.required("ClientID")?.to_owned();
            oidc::add_client_id(&iam, &caller, &arn, id).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "RemoveClientIDFromOpenIDConnectProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("OpenIDConnectProviderArn")?;
            let id = p.required("ClientID")?.to_owned();
            oidc::remove_client_id(&iam, &caller, &arn, id).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "DeleteOpenIDConnectProvider",
        |iam, caller, call| async move {
            let arn = call
                .params
                .root()
                .parse_required("OpenIDConnectProviderArn")?;
            oidc::delete_oidc_provider(&iam, &caller, &arn).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListOpenIDConnectProviders",
        |iam, caller, _call| async move {
            let all = oidc::list_oidc_providers(&iam, &caller).await?;
            let mut r = XmlResponse::new();
            r.list("OpenIDConnectProviderList", |l| {
                for p in &all {
                    l.structure(|x| {
                        x.string("Arn", p.arn.as_str());
                    });
                }
            });
            Ok(r)
        },
    );
}

/// Tag/Untag/List…Tags for both kinds.
fn register_tags(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "TagSAMLProvider", |iam, caller, call| async move {
        let p = call.params.root();
        let arn = p.parse_required("SAMLProviderArn")?;
        providers::tag_saml_provider(&iam, &caller, &arn, tags(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(
        d,
        iam,
        "UntagSAMLProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("SAMLProviderArn")?;
            providers::untag_saml_provider(&iam, &caller, &arn, tag_keys(&p)?).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListSAMLProviderTags",
        |iam, caller, call| async move {
            let arn = call.params.root().parse_required("SAMLProviderArn")?;
            let found = providers::list_saml_provider_tags(&iam, &caller, &arn).await?;
            tag_page(&call.params.root(), found)
        },
    );
    route(
        d,
        iam,
        "TagOpenIDConnectProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("OpenIDConnectProviderArn")?;
            oidc::tag_oidc_provider(&iam, &caller, &arn, tags(&p)?).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "UntagOpenIDConnectProvider",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("OpenIDConnectProviderArn")?;
            oidc::untag_oidc_provider(&iam, &caller, &arn, tag_keys(&p)?).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListOpenIDConnectProviderTags",
        |iam, caller, call| async move {
            let arn = call
                .params
                .root()
                .parse_required("OpenIDConnectProviderArn")?;
            let found = oidc::list_oidc_provider_tags(&iam, &caller, &arn).await?;
            tag_page(&call.params.root(), found)
        },
    );
}
