//! OpenID Connect identity providers: Create/Get/Delete/List
//! OpenIDConnectProvider(s), UpdateOpenIDConnectProviderThumbprint,
//! Add/RemoveClientID…, and their tags.
//!
//! Owns: the OIDC provider object — an https URL (≤ 255, no query or
//! fragment; [`OidcProviderUrl`]) unique in the account, at most 100
//! client IDs of 1–255 characters, 0–5 thumbprints of 40 hex characters,
//! at most 100 providers per account, tags. May import `domain`,
//! `service::authz`, `service::error`, `service::store`.
//! Spec: reference sections 9 and 12.

use super::{MAX_PROVIDERS, remove_tags};
use crate::domain::ids::{Arn, OidcProviderUrl, TagKey};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::edit_record;
use crate::service::iam::scan::list_all;
use crate::service::iam::{Iam, check_tags, merge_tags, quota};
use crate::service::store::model::OidcProviderRecord;
use crate::service::store::{
    EntityReader, Key, Tag, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// At most this many client IDs per provider.
pub const MAX_CLIENT_IDS: usize = 100;
/// At most this many thumbprints per provider.
pub const MAX_THUMBPRINTS: usize = 5;

/// CreateOpenIDConnectProvider's input.
#[derive(Debug, Clone)]
pub struct CreateOidcProvider {
    /// `Url`.
    pub url: OidcProviderUrl,
    /// `ClientIDList`.
    pub client_ids: Vec<String>,
    /// `ThumbprintList`.
    pub thumbprints: Vec<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// Checks a thumbprint list: at most 5, each 40 hex characters.
///
/// # Errors
///
/// `LimitExceeded` past 5; `ValidationError` for a malformed thumbprint.
pub fn check_thumbprints(list: &[String]) -> Result<(), ServiceError> {
    if list.len() > MAX_THUMBPRINTS {
        return Err(ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("Thumbprint list must contain at most {MAX_THUMBPRINTS} entries."),
        ));
    }
    for t in list {
        if t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::validation(
                t,
                "thumbprintList",
                "Member must have length 40 and consist of hexadecimal characters (thumbprint)",
            ));
        }
    }
    Ok(())
}

/// Checks one client ID: 1–255 characters.
///
/// # Errors
///
/// `ValidationError`.
pub fn check_client_id(id: &str) -> Result<(), ServiceError> {
    let len = id.chars().count();
    if len == 0 || len > 255 {
        return Err(ServiceError::validation(
            id,
            "clientID",
            "Member must have length between 1 and 255",
        ));
    }
    Ok(())
}

/// AWS's `NoSuchEntity` for an OIDC provider ARN that names nothing.
fn missing(arn: &Arn) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("OpenIDConnect Provider not found for arn {arn}"),
    )
}

/// The OIDC provider `arn` of the caller's account.
async fn load(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Versioned<OidcProviderRecord>, ServiceError> {
    let url: OidcProviderUrl = arn
        .resource()
        .strip_prefix("oidc-provider/")
        .filter(|_| arn.account_id() == Some(caller.account()) && arn.service() == "iam")
        .and_then(|rest| format!("https://{rest}").parse().ok())
        .ok_or_else(|| missing(arn))?;
    fetch::<OidcProviderRecord>(store, &Key::oidc_provider(caller.account(), &url))
        .await?
        .filter(|p| p.record.arn == *arn)
        .ok_or_else(|| missing(arn))
}

/// Authorizes `action` on `arn`, then loads the provider.
async fn authorize_on(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    arn: &Arn,
) -> Result<Versioned<OidcProviderRecord>, ServiceError> {
    caller.authorize(action, arn.as_str(), &[])?;
    load(&*iam.store, caller, arn).await
}

/// CreateOpenIDConnectProvider.
///
/// # Errors
///
/// `AccessDenied`, `ValidationError`, `LimitExceeded`,
/// `EntityAlreadyExists`, `InvalidInput` (tags).
pub async fn create_oidc_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    input: CreateOidcProvider,
) -> Result<OidcProviderRecord, ServiceError> {
    let account = caller.account();
    let arn = Arn::oidc_provider(&iam.partition, account, &input.url);
    caller.authorize("iam:CreateOpenIDConnectProvider", arn.as_str(), &[])?;
    check_thumbprints(&input.thumbprints)?;
    if input.client_ids.len() > MAX_CLIENT_IDS {
        return Err(ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"),
        ));
    }
    let mut client_ids: Vec<String> = Vec::new();
    for id in input.client_ids {
        check_client_id(&id)?;
        if !client_ids.contains(&id) {
            client_ids.push(id);
        }
    }
    check_tags(&input.tags)?;
    let record = OidcProviderRecord {
        account,
        url: input.url,
        arn,
        client_ids,
        thumbprints: input.thumbprints,
        tags: input.tags,
        create_date: Timestamp::now(&*iam.clock),
    };
    let record_ref = &record;
    commit_with_retry(&*iam.store, move || async move {
        let key = Key::oidc_provider(account, &record_ref.url);
        if iam.store.get(&key).await?.is_some() {
            return Err(ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!("Provider with url {} already exists.", record_ref.url),
            ));
        }
        quota::check::<OidcProviderRecord>(
            &*iam.store,
            account,
            "OpenIdConnectProvidersPerAccount",
            MAX_PROVIDERS,
        )
        .await?;
        let mut txn = Transaction::new();
        txn.require_absent(key).put(record_ref.clone());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(record)
}

/// GetOpenIDConnectProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn get_oidc_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<OidcProviderRecord, ServiceError> {
    Ok(
        authorize_on(iam, caller, "iam:GetOpenIDConnectProvider", arn)
            .await?
            .record,
    )
}

/// UpdateOpenIDConnectProviderThumbprint: replaces the thumbprint list.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ValidationError`, `LimitExceeded`.
pub async fn update_thumbprints(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    thumbprints: Vec<String>,
) -> Result<(), ServiceError> {
    authorize_on(
        iam,
        caller,
        "iam:UpdateOpenIDConnectProviderThumbprint",
        arn,
    )
    .await?;
    check_thumbprints(&thumbprints)?;
    edit(iam, caller, arn, |p| {
        p.thumbprints.clone_from(&thumbprints);
        Ok(())
    })
    .await
}

/// AddClientIDToOpenIDConnectProvider (adding one already there is a
/// no-op).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ValidationError`, `LimitExceeded`.
pub async fn add_client_id(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    client_id: String,
) -> Result<(), ServiceError> {
    authorize_on(iam, caller, "iam:AddClientIDToOpenIDConnectProvider", arn).await?;
    check_client_id(&client_id)?;
    edit(iam, caller, arn, |p| {
        if p.client_ids.contains(&client_id) {
            return Ok(());
        }
        if p.client_ids.len() >= MAX_CLIENT_IDS {
            return Err(ServiceError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
                ),
            ));
        }
        p.client_ids.push(client_id.clone());
        Ok(())
    })
    .await
}

/// RemoveClientIDFromOpenIDConnectProvider (an absent ID is a no-op, as
/// in AWS).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn remove_client_id(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    client_id: String,
) -> Result<(), ServiceError> {
    authorize_on(
        iam,
        caller,
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        arn,
    )
    .await?;
    edit(iam, caller, arn, |p| {
        p.client_ids.retain(|c| *c != client_id);
        Ok(())
    })
    .await
}

/// DeleteOpenIDConnectProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn delete_oidc_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<(), ServiceError> {
    authorize_on(iam, caller, "iam:DeleteOpenIDConnectProvider", arn).await?;
    commit_with_retry(&*iam.store, move || async move {
        let found = load(&*iam.store, caller, arn).await?;
        let mut txn = Transaction::new();
        txn.require_unchanged(&found)
            .delete(Key::oidc_provider(caller.account(), &found.record.url));
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListOpenIDConnectProviders (at most 100, so one page).
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_oidc_providers(
    iam: &Iam,
    caller: &AuthzCaller,
) -> Result<Vec<OidcProviderRecord>, ServiceError> {
    let resource = format!(
        "arn:{}:iam::{}:oidc-provider/*",
        iam.partition,
        caller.account()
    );
    caller.authorize("iam:ListOpenIDConnectProviders", &resource, &[])?;
    list_all(&*iam.store, caller.account()).await
}

/// TagOpenIDConnectProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded`, `InvalidInput`.
pub async fn tag_oidc_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    tags: Vec<Tag>,
) -> Result<(), ServiceError> {
    authorize_on(iam, caller, "iam:TagOpenIDConnectProvider", arn).await?;
    check_tags(&tags)?;
    edit(iam, caller, arn, |p| {
        merge_tags(&mut p.tags, tags.clone());
        check_tags(&p.tags)
    })
    .await
}

/// UntagOpenIDConnectProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn untag_oidc_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    keys: Vec<TagKey>,
) -> Result<(), ServiceError> {
    authorize_on(iam, caller, "iam:UntagOpenIDConnectProvider", arn).await?;
    edit(iam, caller, arn, |p| {
        remove_tags(&mut p.tags, &keys);
        Ok(())
    })
    .await
}

/// ListOpenIDConnectProviderTags.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_oidc_provider_tags(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Vec<Tag>, ServiceError> {
    Ok(
        authorize_on(iam, caller, "iam:ListOpenIDConnectProviderTags", arn)
            .await?
            .record
            .tags,
    )
}

/// Applies `change` to the provider in one commit.
async fn edit(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    change: impl Fn(&mut OidcProviderRecord) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    edit_record(iam, || load(&*iam.store, caller, arn), change)
        .await
        .map(drop)
}
