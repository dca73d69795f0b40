//! Registering a signed IAM action with its caller loaded.
//!
//! Owns: [`route`], which wraps a handler taking `(Iam, caller, call)` so
//! that each action's registration is one call, and [`tag_keys`], the
//! `TagKeys.member.N` list of the Untag* actions, and [`tag_page`], the
//! paged result of the List*Tags actions. Imports `service` and the
//! api's own `dispatch`, `query` and `xml`.

use std::future::Future;
use std::sync::Arc;

use super::{caller, paging, write_tags};
use crate::api::dispatch::{Auth, Call, Dispatcher, Service};
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::domain::ids::TagKey;
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::iam::Iam;
use crate::service::iam::inline::page_of;
use crate::service::store::Tag;

/// Registers the signed IAM action `action`: the caller is loaded (and
/// its policies read) before `handler` runs.
pub(crate) fn route<F, Fut>(d: &mut Dispatcher, iam: &Arc<Iam>, action: &'static str, handler: F)
where
    F: Fn(Arc<Iam>, AuthzCaller, Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<XmlResponse, ServiceError>> + Send + 'static,
{
    let iam = Arc::clone(iam);
    let handler = Arc::new(handler);
    d.register(Service::Iam, action, Auth::Signed, move |call: Call| {
        let iam = Arc::clone(&iam);
        let handler = Arc::clone(&handler);
        async move {
            let caller = caller(&iam, &call).await?;
            handler(iam, caller, call).await
        }
    });
}

/// `TagKeys.member.N`, each a valid tag key.
pub(crate) fn tag_keys(p: &Scope<'_>) -> Result<Vec<TagKey>, ServiceError> {
    p.list("TagKeys")?
        .into_iter()
        .map(|k| {
            k.parse()
                .map_err(|_| p.invalid("TagKeys", k, "valid tag keys"))
        })
        .collect()
}

/// A `ListXTags` result: one page of `all` by `MaxItems`/`Marker` (the
/// marker is the position of the next tag).
pub(crate) fn tag_page(p: &Scope<'_>, all: Vec<Tag>) -> Result<XmlResponse, ServiceError> {
    let paging = paging(p)?;
    let numbered: Vec<(String, Tag)> = all
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("{i:04}"), t))
        .collect();
    let page = page_of(numbered, &paging, |(m, _)| m.clone());
    let tags: Vec<Tag> = page.items.into_iter().map(|(_, t)| t).collect();
    let mut r = XmlResponse::new();
    write_tags(&mut r, &tags);
    r.bool("IsTruncated", page.marker.is_some())
        .opt_string("Marker", page.marker);
    Ok(r)
}
