//! SAML identity providers: Create/Get/Update/Delete/List SAMLProvider(s)
//! and their tags; OIDC providers in [`oidc`].
//!
//! Owns: the SAML provider object — names unique in the account (any
//! case), metadata documents of 1,000–10,000,000 characters that pass the
//! light check of [`metadata`] (`InvalidInput` "Could not parse metadata"
//! otherwise), stored as given with their `validUntil`, at most 100 per
//! account, tags. May import `domain`, `service::authz`, `service::error`,
//! `service::store`. Spec: reference sections 8 and 12.

pub mod metadata;
pub mod oidc;

use crate::domain::ids::{Arn, SamlProviderName, TagKey};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::edit_record;
use crate::service::iam::scan::list_all;
use crate::service::iam::{Iam, check_tags, merge_tags, quota};
use crate::service::store::model::SamlProviderRecord;
use crate::service::store::{
    EntityReader, Key, Tag, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// At most this many providers of each kind per account.
pub const MAX_PROVIDERS: usize = super::quota::PROVIDERS;
/// The shortest metadata document.
pub const MIN_METADATA: usize = 1_000;
/// The longest metadata document.
pub const MAX_METADATA: usize = 10_000_000;

/// Checks a metadata document; returns its `validUntil`.
///
/// # Errors
///
/// `ValidationError` for the length, `InvalidInput` when it is not
/// metadata.
pub fn check_metadata(document: &str) -> Result<Option<Timestamp>, ServiceError> {
    let len = document.chars().count();
    if len < MIN_METADATA {
        return Err(ServiceError::validation(
            "…",
            "sAMLMetadataDocument",
            "Member must have length greater than or equal to 1000",
        ));
    }
    if len > MAX_METADATA {
        return Err(ServiceError::validation(
            "…",
            "sAMLMetadataDocument",
            "Member must have length less than or equal to 10000000",
        ));
    }
    let parsed = metadata::check(document)
        .ok_or_else(|| ServiceError::new(ErrorCode::InvalidInput, "Could not parse metadata"))?;
    Ok(parsed
        .valid_until
        .and_then(|s| u64::try_from(s).ok())
        .map(Timestamp::from_unix_secs))
}

/// AWS's `NoSuchEntity` for a SAML provider ARN that names nothing.
fn saml_missing(arn: &Arn) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("Manifest not found for arn {arn}"),
    )
}

/// The SAML provider `arn` of the caller's account.
async fn load_saml(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Versioned<SamlProviderRecord>, ServiceError> {
    let name: SamlProviderName = arn
        .resource()
        .strip_prefix("saml-provider/")
        .filter(|_| arn.account_id() == Some(caller.account()) && arn.service() == "iam")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| saml_missing(arn))?;
    fetch::<SamlProviderRecord>(store, &Key::saml_provider(caller.account(), &name))
        .await?
        .filter(|p| p.record.arn == *arn)
        .ok_or_else(|| saml_missing(arn))
}

/// Authorizes `action` on `arn`, then loads the provider.
async fn authorize_on_saml(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    arn: &Arn,
) -> Result<Versioned<SamlProviderRecord>, ServiceError> {
    caller.authorize(action, arn.as_str(), &[])?;
    load_saml(&*iam.store, caller, arn).await
}

/// CreateSAMLProvider.
///
/// # Errors
///
/// `AccessDenied`, `ValidationError`, `InvalidInput`,
/// `EntityAlreadyExists`, `LimitExceeded`.
pub async fn create_saml_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    name: SamlProviderName,
    document: String,
    tags: Vec<Tag>,
) -> Result<SamlProviderRecord, ServiceError> {
    let account = caller.account();
    let arn = Arn::saml_provider(&iam.partition, account, &name);
    caller.authorize("iam:CreateSAMLProvider", arn.as_str(), &[])?;
    check_tags(&tags)?;
    let valid_until = check_metadata(&document)?;
    let record = SamlProviderRecord {
        account,
        name,
        arn,
        metadata_document: document,
        create_date: Timestamp::now(&*iam.clock),
        valid_until,
        tags,
    };
    let record_ref = &record;
    commit_with_retry(&*iam.store, move || async move {
        let key = Key::saml_provider(account, &record_ref.name);
        if iam.store.get(&key).await?.is_some() {
            return Err(ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!("Provider with name {} already exists.", record_ref.name),
            ));
        }
        quota::check::<SamlProviderRecord>(
            &*iam.store,
            account,
            "SamlProvidersPerAccount",
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

/// GetSAMLProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn get_saml_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<SamlProviderRecord, ServiceError> {
    Ok(authorize_on_saml(iam, caller, "iam:GetSAMLProvider", arn)
        .await?
        .record)
}

/// UpdateSAMLProvider: replaces the metadata document.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ValidationError`, `InvalidInput`.
pub async fn update_saml_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    document: String,
) -> Result<(), ServiceError> {
    authorize_on_saml(iam, caller, "iam:UpdateSAMLProvider", arn).await?;
    let valid_until = check_metadata(&document)?;
    edit_saml(iam, caller, arn, |p| {
        p.metadata_document.clone_from(&document);
        p.valid_until = valid_until;
        Ok(())
    })
    .await
}

/// DeleteSAMLProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn delete_saml_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<(), ServiceError> {
    authorize_on_saml(iam, caller, "iam:DeleteSAMLProvider", arn).await?;
    commit_with_retry(&*iam.store, move || async move {
        let found = load_saml(&*iam.store, caller, arn).await?;
        let mut txn = Transaction::new();
        txn.require_unchanged(&found)
            .delete(Key::saml_provider(caller.account(), &found.record.name));
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListSAMLProviders (at most 100, so one page).
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_saml_providers(
    iam: &Iam,
    caller: &AuthzCaller,
) -> Result<Vec<SamlProviderRecord>, ServiceError> {
    let resource = format!(
        "arn:{}:iam::{}:saml-provider/*",
        iam.partition,
        caller.account()
    );
    caller.authorize("iam:ListSAMLProviders", &resource, &[])?;
    list_all(&*iam.store, caller.account()).await
}

/// TagSAMLProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded`, `InvalidInput`.
pub async fn tag_saml_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    tags: Vec<Tag>,
) -> Result<(), ServiceError> {
    authorize_on_saml(iam, caller, "iam:TagSAMLProvider", arn).await?;
    check_tags(&tags)?;
    edit_saml(iam, caller, arn, |p| {
        merge_tags(&mut p.tags, tags.clone());
        check_tags(&p.tags)
    })
    .await
}

/// UntagSAMLProvider.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn untag_saml_provider(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    keys: Vec<TagKey>,
) -> Result<(), ServiceError> {
    authorize_on_saml(iam, caller, "iam:UntagSAMLProvider", arn).await?;
    edit_saml(iam, caller, arn, |p| {
        remove_tags(&mut p.tags, &keys);
        Ok(())
    })
    .await
}

/// ListSAMLProviderTags.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_saml_provider_tags(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Vec<Tag>, ServiceError> {
    Ok(
        authorize_on_saml(iam, caller, "iam:ListSAMLProviderTags", arn)
            .await?
            .record
            .tags,
    )
}

/// Removes the tags with any of `keys` (any case).
pub(crate) fn remove_tags(tags: &mut Vec<Tag>, keys: &[TagKey]) {
    tags.retain(|t| {
        !keys
            .iter()
            .any(|k| k.as_str().eq_ignore_ascii_case(t.key.as_str()))
    });
}

/// Applies `edit` to the SAML provider in one commit.
async fn edit_saml(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    edit: impl Fn(&mut SamlProviderRecord) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    edit_record(iam, || load_saml(&*iam.store, caller, arn), edit)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests;
