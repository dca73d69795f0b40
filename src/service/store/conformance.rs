//! The store conformance suite: the contract of the store ports, written
//! once and run against every adapter (memory, embedded, later Redis).
//!
//! Owns: [`run_all`], the checks it runs (in [`entities`], [`commits`],
//! [`credentials`] and [`sessions`]) and the record fixtures they share. Compiled always
//! (not only under `cfg(test)`) so integration tests and adapters living
//! elsewhere can call it; failures panic, as test assertions do. May import
//! `service::store`, `domain` and tokio.
//!
//! Each check works in its own account(s), so the suite runs on one store
//! without clearing it between checks, and proves account isolation on
//! the way.

pub mod commits;
pub mod credentials;
pub mod entities;
pub mod sessions;

use std::fmt::Debug;
use std::sync::Arc;

use super::model::{
    AccessKeyRecord, AccessKeyStatus, AccountAliasRecord, AccountRecord, CredentialOwner,
    GroupRecord, LoginProfileRecord, ManagedPolicyRecord, MfaDeviceRecord, OidcProviderRecord,
    PasswordPolicyRecord, PolicyVersion, PolicyVersionId, RoleRecord, SamlProviderRecord,
    UserRecord,
};
use super::{IamStore, Tag, Timestamp};
use crate::domain::ids::{
    AccessKeyId, AccountId, Arn, IamPath, Partition, UniqueId, UniqueIdPrefix,
};
use crate::domain::password::{
    HashParams, LoginPassword, PasswordPolicy, SALT_LEN, hash_password_with,
};
use crate::domain::seal::{MasterKey, SealKeyId, SealPurpose, SealedBlob, seal};

/// Runs every check against `store`, which should start empty. Panics on
/// the first broken rule.
pub async fn run_all(store: Arc<dyn IamStore>) {
    entities::put_get_every_kind(store.as_ref()).await;
    entities::list_pages_in_name_order(store.as_ref()).await;
    entities::list_filters_by_path_prefix(store.as_ref()).await;
    entities::names_are_unique_case_insensitively(store.as_ref()).await;
    entities::deletes_remove_records(store.as_ref()).await;
    entities::accounts_are_isolated(store.as_ref()).await;
    commits::stale_revisions_conflict(store.as_ref()).await;
    commits::concurrent_writers_exactly_one_wins(store.as_ref()).await;
    commits::failed_precondition_applies_nothing(store.as_ref()).await;
    commits::generation_increases_with_writes(store.as_ref()).await;
    commits::invalid_transactions_are_refused(store.as_ref()).await;
    commits::retries_serialize_concurrent_updates(Arc::clone(&store)).await;
    credentials::access_key_index_follows_commits(store.as_ref()).await;
    credentials::access_key_ids_are_global(store.as_ref()).await;
    credentials::account_aliases_are_global(store.as_ref()).await;
    credentials::use_once_is_once(store.as_ref()).await;
    credentials::use_once_is_once_under_concurrency(Arc::clone(&store)).await;
    credentials::usage_is_kept_beside_records(store.as_ref()).await;
    sessions::revocations_are_kept_counted_and_purged(store.as_ref()).await;
    sessions::issued_sessions_are_listed_until_they_expire(store.as_ref()).await;
}

/// The value of `result`, or a panic naming `what`.
#[expect(
    clippy::panic,
    reason = "a test suite reports a broken rule by panicking"
)]
pub(crate) fn ok<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

/// The account numbered `n` (small numbers: 000000000001, …).
pub fn account(n: u64) -> AccountId {
    ok(
        AccountId::from_u64(n).ok_or("too many digits"),
        "account id",
    )
}

fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: Debug,
{
    ok(text.parse(), text)
}

fn partition() -> Partition {
    Partition::default()
}

/// A fixed creation time.
pub fn t0() -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000)
}

fn unique(prefix: UniqueIdPrefix, account: AccountId, seed: &str) -> UniqueId {
    let mut bytes = seed.bytes().cycle();
    let mut rng = |buf: &mut [u8]| buf.iter_mut().for_each(|b| *b = bytes.next().unwrap_or(0));
    UniqueId::generate(prefix, account, &mut rng)
}

/// An account record with no root keys.
pub fn account_record(account: AccountId) -> AccountRecord {
    AccountRecord {
        id: account,
        alias: None,
        root_access_keys: Vec::new(),
        root_mfa_devices: Vec::new(),
        create_date: t0(),
    }
}

/// A user `name` at `path`.
pub fn user(account: AccountId, name: &str, path: &str) -> UserRecord {
    let (name, path) = (parse(name), parse::<IamPath>(path));
    UserRecord {
        account,
        id: unique(UniqueIdPrefix::User, account, name_str(&name)),
        arn: Arn::iam_user(&partition(), account, &path, &name),
        name,
        path,
        create_date: t0(),
        tags: vec![Tag {
            key: parse("team"),
            value: parse("blue"),
        }],
        permissions_boundary: None,
        inline_policies: [(
            parse("inline"),
            r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
        )]
        .into_iter()
        .collect(),
        attached_policies: Vec::new(),
        groups: Vec::new(),
        access_keys: Vec::new(),
        mfa_devices: Vec::new(),
        password_last_used: None,
    }
}

fn name_str<T: AsRef<str>>(name: &T) -> &str {
    name.as_ref()
}

/// A group `name` at `/`.
pub fn group(account: AccountId, name: &str) -> GroupRecord {
    let (name, path) = (parse(name), IamPath::root());
    GroupRecord {
        account,
        id: unique(UniqueIdPrefix::Group, account, name_str(&name)),
        arn: Arn::iam_group(&partition(), account, &path, &name),
        name,
        path,
        create_date: t0(),
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        members: Vec::new(),
    }
}

/// A role `name` at `path`.
pub fn role(account: AccountId, name: &str, path: &str) -> RoleRecord {
    let (name, path) = (parse(name), parse::<IamPath>(path));
    RoleRecord {
        account,
        id: unique(UniqueIdPrefix::Role, account, name_str(&name)),
        arn: Arn::iam_role(&partition(), account, &path, &name),
        name,
        path,
        create_date: t0(),
        assume_role_policy: r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
        description: None,
        max_session_duration_secs: 3600,
        tags: Vec::new(),
        permissions_boundary: None,
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
    }
}

/// A managed policy `name` at `/` with one version.
pub fn managed_policy(account: AccountId, name: &str) -> ManagedPolicyRecord {
    let (name, path) = (parse(name), IamPath::root());
    ManagedPolicyRecord {
        account,
        id: unique(UniqueIdPrefix::ManagedPolicy, account, name_str(&name)),
        arn: Arn::iam_policy(&partition(), account, &path, &name),
        name,
        path,
        description: Some("fixture".to_owned()),
        default_version_id: PolicyVersionId::FIRST,
        versions: vec![PolicyVersion {
            version_id: PolicyVersionId::FIRST,
            document: r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
            is_default: true,
            create_date: t0(),
        }],
        next_version: parse::<PolicyVersionId>("v2"),
        attachment_count: 0,
        boundary_usage_count: 0,
        tags: Vec::new(),
        create_date: t0(),
        update_date: t0(),
    }
}

/// `plaintext` sealed for `purpose` under a fixture key.
pub fn sealed(purpose: &SealPurpose, plaintext: &[u8]) -> SealedBlob {
    let key = MasterKey::from_bytes(ok(SealKeyId::new("conformance"), "key id"), [7; 32]);
    let mut n = 0_u8;
    let mut nonces = |buf: &mut [u8]| {
        buf.iter_mut().for_each(|b| {
            n = n.wrapping_add(1);
            *b = n;
        });
    };
    ok(seal(&key, purpose, plaintext, &mut nonces), "seal")
}

/// An active access key `id` of `owner`.
pub fn access_key(account: AccountId, id: &str, owner: CredentialOwner) -> AccessKeyRecord {
    let id: AccessKeyId = parse(id);
    AccessKeyRecord {
        account,
        secret: sealed(&SealPurpose::access_key_secret(&id), b"fixture secret"),
        id,
        owner,
        status: AccessKeyStatus::Active,
        create_date: t0(),
    }
}

/// An unassigned virtual MFA device `name` at `/`.
pub fn mfa_device(account: AccountId, name: &str) -> MfaDeviceRecord {
    let (name, path) = (parse(name), IamPath::root());
    let serial = Arn::mfa(&partition(), account, &path, &name);
    MfaDeviceRecord {
        account,
        seed: sealed(&SealPurpose::mfa_seed(serial.as_str()), b"JBSWY3DPEHPK3PXP"),
        serial,
        name,
        path,
        assignment: None,
        last_accepted_step: None,
        drift_steps: 0,
        failed_codes: 0,
        locked_until: None,
        tags: Vec::new(),
        create_date: t0(),
    }
}

/// The login profile of user `name`, its password hashed with cheap
/// argon2id parameters (the store keeps whatever hash it is given).
pub fn login_profile(account: AccountId, name: &str) -> LoginProfileRecord {
    let cheap = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let password = ok("fixture password".parse(), "password");
    let hash = ok(hash_password_with(cheap, &password, &[9; SALT_LEN]), "hash");
    LoginProfileRecord {
        account,
        user: parse(name),
        create_date: t0(),
        password: LoginPassword::new(hash, t0().as_unix_secs(), true),
    }
}

/// A password policy asking for 12 characters and a symbol.
pub fn password_policy(account: AccountId) -> PasswordPolicyRecord {
    PasswordPolicyRecord {
        account,
        policy: PasswordPolicy {
            minimum_length: 12,
            require_symbols: true,
            reuse_prevention: Some(3),
            ..PasswordPolicy::default()
        },
    }
}

/// The alias `alias` of `account`.
pub fn account_alias(account: AccountId, alias: &str) -> AccountAliasRecord {
    AccountAliasRecord {
        account,
        alias: parse(alias),
        create_date: t0(),
    }
}

/// A SAML provider `name`.
pub fn saml_provider(account: AccountId, name: &str) -> SamlProviderRecord {
    let name = parse(name);
    SamlProviderRecord {
        account,
        arn: Arn::saml_provider(&partition(), account, &name),
        name,
        metadata_document: "<EntityDescriptor/>".to_owned(),
        create_date: t0(),
        valid_until: None,
        tags: Vec::new(),
    }
}

/// An OIDC provider for `url`.
pub fn oidc_provider(account: AccountId, url: &str) -> OidcProviderRecord {
    let url = parse(url);
    OidcProviderRecord {
        account,
        arn: Arn::oidc_provider(&partition(), account, &url),
        url,
        client_ids: vec!["sts.amazonaws.com".to_owned()],
        thumbprints: vec!["0".repeat(40)],
        tags: Vec::new(),
        create_date: t0(),
    }
}
