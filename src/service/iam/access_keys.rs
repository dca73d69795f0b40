//! Access keys: CreateAccessKey, UpdateAccessKey, DeleteAccessKey,
//! ListAccessKeys, GetAccessKeyLastUsed.
//!
//! Owns: minting long-term keys (ID from [`AccessKeyId::generate`], a
//! 40-character secret of 30 CSPRNG bytes in base64, sealed at rest with
//! the master key and returned only by CreateAccessKey), and the limit of
//! two keys per user and per root, decided inside one commit. Without a
//! `UserName` the key belongs to the caller: the calling user, or root when
//! root calls. May import `domain`, `service::authz`, `service::error`,
//! `service::store`. Spec: reference sections 3 and 12.

use data_encoding::BASE64;
use zeroize::Zeroizing;

use crate::domain::ids::{AccessKeyId, UniqueIdPrefix, UserName};
use crate::domain::seal::{self, SealPurpose};
use crate::domain::secret::SecretAccessKey;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::users::{caller_user_name, load_user};
use crate::service::iam::{Iam, Rng};
use crate::service::store::model::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, CredentialOwner, UserRecord,
};
use crate::service::store::{
    Key, LastUsed, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// At most this many access keys per user, and per root.
pub const MAX_ACCESS_KEYS: usize = 2;

/// Bytes of randomness in a secret: 30 bytes are 40 base64 characters.
const SECRET_BYTES: usize = 30;

/// A key just created, with its secret: the only time it is shown.
#[derive(Debug)]
pub struct CreatedAccessKey {
    /// The key's record (secret sealed).
    pub record: AccessKeyRecord,
    /// The secret, in the clear.
    pub secret: SecretAccessKey,
}

/// Whose credentials (access keys, MFA devices) an action is about.
pub(crate) enum Target {
    /// The account's root (root called without a `UserName`).
    Root,
    /// A user, as read when the action was authorized.
    User(Box<Versioned<UserRecord>>),
}

/// Resolves `name` (default: the caller: the calling user, or root when
/// root calls) and authorizes `action` on it: on the user's ARN (also when
/// the user does not exist, so a denied caller learns nothing), or on
/// root's own ARN.
pub(crate) async fn target(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    name: Option<&UserName>,
) -> Result<Target, ServiceError> {
    let is_root = caller.arn().ends_with(":root");
    let name = match name {
        Some(n) => n.clone(),
        None if is_root => {
            caller.authorize(action, caller.arn(), &[])?;
            return Ok(Target::Root);
        }
        None => caller_user_name(caller)?,
    };
    let user = load_user(&*iam.store, caller, &name).await;
    let arn = match &user {
        Ok(u) => u.record.arn.to_string(),
        Err(_) => format!(
            "arn:{}:iam::{}:user/{}",
            iam.partition,
            caller.account(),
            name
        ),
    };
    caller.authorize(action, &arn, &[])?;
    Ok(Target::User(Box::new(user?)))
}

/// The key IDs the target owns, with the record to update when one is
/// added or removed.
async fn owned_keys(iam: &Iam, caller: &AuthzCaller, t: &Target) -> Result<Owned, ServiceError> {
    Ok(match t {
        Target::Root => {
            let account = fetch::<AccountRecord>(&*iam.store, &Key::account(caller.account()))
                .await?
                .ok_or_else(|| ServiceError::internal("the caller's account record is missing"))?;
            Owned::Root(Box::new(account))
        }
        Target::User(u) => {
            let user = load_user(&*iam.store, caller, &u.record.name).await?;
            Owned::User(Box::new(user))
        }
    })
}

/// The owner record, freshly read.
enum Owned {
    Root(Box<Versioned<AccountRecord>>),
    User(Box<Versioned<UserRecord>>),
}

impl Owned {
    fn keys(&self) -> &[AccessKeyId] {
        match self {
            Self::Root(a) => &a.record.root_access_keys,
            Self::User(u) => &u.record.access_keys,
        }
    }

    fn owner(&self) -> CredentialOwner {
        match self {
            Self::Root(_) => CredentialOwner::Root,
            Self::User(u) => CredentialOwner::User(u.record.name.clone()),
        }
    }

    /// Writes the owner back with `edit` applied to its key list.
    fn put_with(&self, txn: &mut Transaction, edit: impl FnOnce(&mut Vec<AccessKeyId>)) {
        match self {
            Self::Root(a) => {
                let mut r = a.record.clone();
                edit(&mut r.root_access_keys);
                txn.require_unchanged(&**a).put(r);
            }
            Self::User(u) => {
                let mut r = u.record.clone();
                edit(&mut r.access_keys);
                txn.require_unchanged(&**u).put(r);
            }
        }
    }
}

/// CreateAccessKey.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded` past two keys.
pub async fn create_access_key(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
) -> Result<CreatedAccessKey, ServiceError> {
    let t = target(iam, caller, "iam:CreateAccessKey", name.as_ref()).await?;
    let account = caller.account();
    let id =
        iam.random(|r| AccessKeyId::generate(UniqueIdPrefix::LongTermKey, account, &mut Rng(r)))?;
    let mut raw = Zeroizing::new([0_u8; SECRET_BYTES]);
    iam.entropy.fill(&mut *raw)?;
    let secret = SecretAccessKey::try_from(BASE64.encode(&*raw)).map_err(ServiceError::internal)?;
    let sealed = iam.random(|r| {
        seal::seal(
            &iam.master_key,
            &SealPurpose::access_key_secret(&id),
            secret.expose_secret().as_bytes(),
            &mut Rng(r),
        )
    })?;
    let sealed = sealed.map_err(ServiceError::internal)?;
    let (t, id, sealed) = (&t, &id, &sealed);
    let (record, _) = commit_with_retry(&*iam.store, move || async move {
        let owned = owned_keys(iam, caller, t).await?;
        if owned.keys().len() >= MAX_ACCESS_KEYS {
            return Err(ServiceError::new(
                ErrorCode::LimitExceeded,
                format!("Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"),
            ));
        }
        let record = AccessKeyRecord {
            account,
            id: id.clone(),
            owner: owned.owner(),
            secret: sealed.clone(),
            status: AccessKeyStatus::Active,
            create_date: Timestamp::now(&*iam.clock),
        };
        let mut txn = Transaction::new();
        owned.put_with(&mut txn, |keys| keys.push(id.clone()));
        txn.require_absent(Key::access_key(account, id))
            .put(record.clone());
        Ok::<_, ServiceError>((txn, record))
    })
    .await?;
    Ok(CreatedAccessKey { record, secret })
}

/// The key `id` of the target, or `NoSuchEntity` as AWS words it.
async fn owned_key(
    iam: &Iam,
    caller: &AuthzCaller,
    owned: &Owned,
    id: &AccessKeyId,
) -> Result<Versioned<AccessKeyRecord>, ServiceError> {
    let missing = || {
        let who = match owned {
            Owned::Root(_) => "root".to_owned(),
            Owned::User(u) => u.record.name.to_string(),
        };
        ServiceError::new(
            ErrorCode::NoSuchEntity,
            format!("The Access Key with id {id} cannot be found for user {who}."),
        )
    };
    if !owned.keys().contains(id) {
        return Err(missing());
    }
    fetch::<AccessKeyRecord>(&*iam.store, &Key::access_key(caller.account(), id))
        .await?
        .ok_or_else(missing)
}

/// UpdateAccessKey: sets the key's status.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn update_access_key(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    id: AccessKeyId,
    status: AccessKeyStatus,
) -> Result<(), ServiceError> {
    let t = target(iam, caller, "iam:UpdateAccessKey", name.as_ref()).await?;
    let (t, id) = (&t, &id);
    commit_with_retry(&*iam.store, move || async move {
        let owned = owned_keys(iam, caller, t).await?;
        let key = owned_key(iam, caller, &owned, id).await?;
        let mut updated = key.record.clone();
        updated.status = status;
        let mut txn = Transaction::new();
        txn.require_unchanged(&key).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// DeleteAccessKey.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn delete_access_key(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    id: AccessKeyId,
) -> Result<(), ServiceError> {
    let t = target(iam, caller, "iam:DeleteAccessKey", name.as_ref()).await?;
    let (t, id) = (&t, &id);
    commit_with_retry(&*iam.store, move || async move {
        let owned = owned_keys(iam, caller, t).await?;
        let key = owned_key(iam, caller, &owned, id).await?;
        let mut txn = Transaction::new();
        owned.put_with(&mut txn, |keys| keys.retain(|k| k != id));
        txn.require_unchanged(&key)
            .delete(Key::access_key(caller.account(), id));
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListAccessKeys (at most two, so one page). The records carry sealed
/// secrets only.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_access_keys(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
) -> Result<Vec<AccessKeyRecord>, ServiceError> {
    let t = target(iam, caller, "iam:ListAccessKeys", name.as_ref()).await?;
    let owned = owned_keys(iam, caller, &t).await?;
    let mut out = Vec::new();
    for id in owned.keys() {
        if let Some(k) =
            fetch::<AccessKeyRecord>(&*iam.store, &Key::access_key(caller.account(), id)).await?
        {
            out.push(k.record);
        }
    }
    Ok(out)
}

/// GetAccessKeyLastUsed: the key's owner and last use. AWS answers for
/// keys of the caller's account only.
///
/// # Errors
///
/// `AccessDenied`; `AccessDenied` too for an unknown key, as AWS does.
pub async fn get_access_key_last_used(
    iam: &Iam,
    caller: &AuthzCaller,
    id: AccessKeyId,
) -> Result<(CredentialOwner, Option<LastUsed>), ServiceError> {
    let key = Key::access_key(caller.account(), &id);
    let record = fetch::<AccessKeyRecord>(&*iam.store, &key).await?;
    let resource = match record.as_ref().map(|r| &r.record.owner) {
        Some(CredentialOwner::User(name)) => {
            let user = load_user(&*iam.store, caller, name).await?;
            user.record.arn.to_string()
        }
        _ => caller.arn().to_owned(),
    };
    caller.authorize("iam:GetAccessKeyLastUsed", &resource, &[])?;
    let record = record.ok_or_else(|| {
        ServiceError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key {id}",
                caller.arn()
            ),
        )
    })?;
    let used = iam.store.last_used(&key).await?;
    Ok((record.record.owner, used))
}

#[cfg(test)]
mod tests;
