use std::time::Duration;

use super::alias::{create_account_alias, delete_account_alias, list_account_aliases};
use super::policy::{
    delete_account_password_policy, get_account_password_policy, update_account_password_policy,
};
use super::profiles::{
    CreateLoginProfile, UpdateLoginProfile, change_password, create_login_profile,
    delete_login_profile, get_login_profile, update_login_profile,
};
use crate::domain::ids::{AccountAlias, AccountId, UserName};
use crate::domain::password::{LoginError, PasswordPolicy, verify_password};
use crate::domain::secret::Password;
use crate::service::authn::{Caller, Identity};
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::Paging;
use crate::service::iam::testing::{account, iam, root, user};
use crate::service::iam::users::{CreateUser, UpdateUser, create_user, delete_user, update_user};
use crate::service::store::model::{AccountRecord, LoginProfileRecord};
use crate::service::store::{Key, Timestamp, fetch};

const STRONG: &str = "Correct-Horse-9";
const STRONGER: &str = "Battery-Staple-7";
const CHANGE_OWN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}"#;
const NOTHING: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;
const DENY_CHANGE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*"}}"#;

fn pw(text: &str) -> Password {
    text.parse().unwrap()
}

fn name(text: &str) -> UserName {
    text.parse().unwrap()
}

async fn with_user(
    user_name: &str,
) -> (
    Iam,
    AuthzCaller,
    std::sync::Arc<crate::domain::clock::FixedClock>,
) {
    let (iam, clock) = iam().await;
    let root = root(&iam).await;
    create_user(
        &iam,
        &root,
        CreateUser {
            name: name(user_name),
            path: None,
            tags: vec![],
            permissions_boundary: None,
        },
    )
    .await
    .unwrap();
    (iam, root, clock)
}

async fn create(
    iam: &Iam,
    caller: &AuthzCaller,
    user_name: &str,
    password: &str,
) -> Result<LoginProfileRecord, ServiceError> {
    create_login_profile(
        iam,
        caller,
        CreateLoginProfile {
            name: Some(name(user_name)),
            password: pw(password),
            reset_required: false,
        },
    )
    .await
}

async fn set_password(
    iam: &Iam,
    root: &AuthzCaller,
    user_name: &str,
    password: &str,
) -> Result<(), ServiceError> {
    update_login_profile(
        iam,
        root,
        UpdateLoginProfile {
            name: name(user_name),
            password: Some(pw(password)),
            reset_required: None,
        },
    )
    .await
}

async fn stored(iam: &Iam, user_name: &str) -> LoginProfileRecord {
    fetch::<LoginProfileRecord>(
        &*iam.store,
        &Key::login_profile(account(), &name(user_name)),
    )
    .await
    .unwrap()
    .unwrap()
    .record
}

/// Whether `password` signs `user_name` in now.
async fn signs_in(iam: &Iam, user_name: &str, password: &str) -> Result<(), LoginError> {
    let profile = stored(iam, user_name).await;
    let policy = super::policy::load_policy(&*iam.store, account())
        .await
        .unwrap()
        .map(|p| p.record.policy);
    let now = Timestamp::now(&*iam.clock).as_unix_secs();
    verify_password(&profile.password, policy.as_ref(), &pw(password), now)
}

async fn set_policy(iam: &Iam, root: &AuthzCaller, policy: PasswordPolicy) {
    update_account_password_policy(iam, root, policy)
        .await
        .unwrap();
}

#[tokio::test]
async fn lifecycle_stores_only_a_hash() {
    let (iam, root, _) = with_user("alice").await;
    let created = create(&iam, &root, "alice", STRONG).await.unwrap();
    assert_eq!(created.user.as_str(), "alice");
    assert!(!created.password.reset_required);
    let json = serde_json::to_string(&created).unwrap();
    assert!(!json.contains(STRONG), "{json}");
    assert!(json.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{json}");
    let debug = format!("{created:?}");
    assert!(
        !debug.contains("argon2") && !debug.contains(STRONG),
        "{debug}"
    );

    let got = get_login_profile(&iam, &root, Some(name("ALICE")))
        .await
        .unwrap();
    assert_eq!(got, created, "any case finds it");
    assert_eq!(signs_in(&iam, "alice", STRONG).await, Ok(()));
    assert_eq!(
        signs_in(&iam, "alice", STRONGER).await,
        Err(LoginError::WrongPassword)
    );

    let err = create(&iam, &root, "alice", STRONGER).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    assert_eq!(
        err.message(),
        "Login Profile for user alice already exists."
    );

    delete_login_profile(&iam, &root, Some(name("alice")))
        .await
        .unwrap();
    for err in [
        get_login_profile(&iam, &root, Some(name("alice")))
            .await
            .unwrap_err(),
        delete_login_profile(&iam, &root, Some(name("alice")))
            .await
            .unwrap_err(),
        set_password(&iam, &root, "alice", STRONGER)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::NoSuchEntity);
        assert_eq!(
            err.message(),
            "Login Profile for User alice cannot be found."
        );
    }
    let err = create(&iam, &root, "bob", STRONG).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(err.message(), "The user with name bob cannot be found.");
}

#[tokio::test]
async fn the_default_policy_applies_without_one() {
    let (iam, root, _) = with_user("alice").await;
    let err = create(&iam, &root, "alice", "short1A").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);
    assert_eq!(err.message(), "Password should have a minimum length of 8.");
    let err = create(&iam, &root, "alice", "alllowercase")
        .await
        .unwrap_err();
    assert!(
        err.message().contains("at least 3 of these types"),
        "{}",
        err.message()
    );
    let err = create(&iam, &root, "alice", "123456789012")
        .await
        .unwrap_err();
    assert!(
        err.message().contains("account ID or alias"),
        "{}",
        err.message()
    );
    assert!(
        iam.store
            .get(&Key::login_profile(account(), &name("alice")))
            .await
            .unwrap()
            .is_none()
    );
    // Under a custom policy the default rules no longer apply.
    set_policy(&iam, &root, PasswordPolicy::default()).await;
    create(&iam, &root, "alice", "simple").await.unwrap();
}

#[tokio::test]
async fn account_password_policy_round_trips() {
    let (iam, root, _) = with_user("alice").await;
    let err = get_account_password_policy(&iam, &root).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(
        err.message(),
        "The Password Policy with domain name 123456789012 cannot be found."
    );
    let err = delete_account_password_policy(&iam, &root)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    let policy = PasswordPolicy {
        minimum_length: 14,
        require_symbols: true,
        max_age_days: Some(90),
        reuse_prevention: Some(5),
        hard_expiry: Some(false),
        ..PasswordPolicy::default()
    };
    set_policy(&iam, &root, policy.clone()).await;
    assert_eq!(
        get_account_password_policy(&iam, &root).await.unwrap(),
        policy
    );
    let err = update_account_password_policy(
        &iam,
        &root,
        PasswordPolicy {
            reuse_prevention: Some(25),
            ..PasswordPolicy::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(
        err.message().contains("PasswordReusePrevention"),
        "{}",
        err.message()
    );
    assert_eq!(
        get_account_password_policy(&iam, &root).await.unwrap(),
        policy,
        "unchanged"
    );
    delete_account_password_policy(&iam, &root).await.unwrap();
    assert_eq!(
        get_account_password_policy(&iam, &root)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NoSuchEntity
    );
}

#[tokio::test]
async fn updates_follow_the_policy_and_keep_history() {
    let (iam, root, clock) = with_user("alice").await;
    set_policy(
        &iam,
        &root,
        PasswordPolicy {
            minimum_length: 10,
            require_numbers: true,
            reuse_prevention: Some(2),
            ..PasswordPolicy::default()
        },
    )
    .await;
    let err = create(&iam, &root, "alice", "no-digits-here")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);
    assert_eq!(err.message(), "Password should have at least one number.");
    create(&iam, &root, "alice", "first-pass-1").await.unwrap();
    let first = stored(&iam, "alice").await;
    clock.advance(Duration::from_secs(60));

    let err = set_password(&iam, &root, "alice", "first-pass-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);
    assert_eq!(
        err.message(),
        "Password should not be one of the 2 most recent passwords."
    );
    set_password(&iam, &root, "alice", "second-pass-2")
        .await
        .unwrap();
    let second = stored(&iam, "alice").await;
    assert_eq!(second.password.set_at, first.password.set_at + 60);
    assert_eq!(
        second.create_date, first.create_date,
        "the profile keeps its date"
    );
    assert_eq!(
        signs_in(&iam, "alice", "first-pass-1").await,
        Err(LoginError::WrongPassword)
    );
    assert_eq!(signs_in(&iam, "alice", "second-pass-2").await, Ok(()));
    let err = set_password(&iam, &root, "alice", "first-pass-1")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::PasswordPolicyViolation,
        "the previous one"
    );
    set_password(&iam, &root, "alice", "third-pass-3")
        .await
        .unwrap();
    set_password(&iam, &root, "alice", "first-pass-1")
        .await
        .unwrap();

    // The reset flag alone, without a password.
    update_login_profile(
        &iam,
        &root,
        UpdateLoginProfile {
            name: name("alice"),
            password: None,
            reset_required: Some(true),
        },
    )
    .await
    .unwrap();
    assert!(
        get_login_profile(&iam, &root, Some(name("alice")))
            .await
            .unwrap()
            .password
            .reset_required
    );
    assert_eq!(
        signs_in(&iam, "alice", "first-pass-1").await,
        Err(LoginError::ResetRequired)
    );
    assert_eq!(
        signs_in(&iam, "alice", "wrong-pass-0").await,
        Err(LoginError::WrongPassword)
    );
}

#[tokio::test]
async fn users_change_their_own_password() {
    let (iam, root, _) = with_user("alice").await;
    create_login_profile(
        &iam,
        &root,
        CreateLoginProfile {
            name: Some(name("alice")),
            password: pw(STRONG),
            reset_required: true,
        },
    )
    .await
    .unwrap();
    let alice = user(&iam, "alice", Some(CHANGE_OWN)).await;
    let err = change_password(&iam, &alice, pw("Not-The-Pass-1"), pw(STRONGER))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(err.message().contains("OldPassword"), "{}", err.message());
    let err = change_password(&iam, &alice, pw(STRONG), pw("weak"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);
    change_password(&iam, &alice, pw(STRONG), pw(STRONGER))
        .await
        .unwrap();
    let now = stored(&iam, "alice").await;
    assert!(
        !now.password.reset_required,
        "a change clears the reset flag"
    );
    assert_eq!(now.password.previous.len(), 1);
    assert_eq!(signs_in(&iam, "alice", STRONGER).await, Ok(()));
    assert_eq!(
        signs_in(&iam, "alice", STRONG).await,
        Err(LoginError::WrongPassword)
    );

    let err = change_password(&iam, &root, pw(STRONG), pw(STRONGER))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidUserType);
}

#[tokio::test]
async fn allow_users_to_change_password_grants_what_no_policy_denies() {
    let (iam, root, _) = with_user("alice").await;
    create(&iam, &root, "alice", STRONG).await.unwrap();
    let alice = user(&iam, "alice", Some(NOTHING)).await;
    let err = change_password(&iam, &alice, pw(STRONG), pw(STRONGER))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(
        err.message().contains("iam:ChangePassword"),
        "{}",
        err.message()
    );
    let err = get_account_password_policy(&iam, &alice).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);

    set_policy(
        &iam,
        &root,
        PasswordPolicy {
            minimum_length: 8,
            allow_users_to_change: true,
            ..PasswordPolicy::default()
        },
    )
    .await;
    let alice = user(&iam, "alice", None).await;
    assert!(
        get_account_password_policy(&iam, &alice)
            .await
            .unwrap()
            .allow_users_to_change
    );
    change_password(&iam, &alice, pw(STRONG), pw(STRONGER))
        .await
        .unwrap();

    // An explicit Deny still wins.
    let alice = user(&iam, "alice", Some(DENY_CHANGE)).await;
    let err = change_password(&iam, &alice, pw(STRONGER), pw(STRONG))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
}

#[tokio::test]
async fn expiry_soft_and_hard() {
    let (iam, root, clock) = with_user("alice").await;
    set_policy(
        &iam,
        &root,
        PasswordPolicy {
            minimum_length: 8,
            max_age_days: Some(1),
            ..PasswordPolicy::default()
        },
    )
    .await;
    create(&iam, &root, "alice", STRONG).await.unwrap();
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(
        signs_in(&iam, "alice", STRONG).await,
        Err(LoginError::Expired)
    );
    let alice = user(&iam, "alice", Some(CHANGE_OWN)).await;
    change_password(&iam, &alice, pw(STRONG), pw(STRONGER))
        .await
        .unwrap();
    assert_eq!(
        signs_in(&iam, "alice", STRONGER).await,
        Ok(()),
        "a new password, a new age"
    );

    set_policy(
        &iam,
        &root,
        PasswordPolicy {
            minimum_length: 8,
            max_age_days: Some(1),
            hard_expiry: Some(true),
            ..PasswordPolicy::default()
        },
    )
    .await;
    clock.advance(Duration::from_secs(2 * 86_400));
    assert_eq!(
        signs_in(&iam, "alice", STRONGER).await,
        Err(LoginError::ExpiredHard)
    );
    let err = change_password(&iam, &alice, pw(STRONGER), pw(STRONG))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(err.message().contains("HardExpiry"), "{}", err.message());
    // An administrator can.
    set_password(&iam, &root, "alice", "Admin-Reset-1")
        .await
        .unwrap();
    assert_eq!(signs_in(&iam, "alice", "Admin-Reset-1").await, Ok(()));
}

#[tokio::test]
async fn authorization_is_on_the_users_arn() {
    let (iam, root, _) = with_user("alice").await;
    let alice = user(&iam, "alice", Some(NOTHING)).await;
    for target in ["alice", "nobody"] {
        let err = create(&iam, &alice, target, STRONG).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccessDenied, "{target}");
        assert!(
            err.message().contains(&format!(
                "iam:CreateLoginProfile on resource: arn:aws:iam::123456789012:user/{target}"
            )),
            "{}",
            err.message()
        );
    }
    let err = get_login_profile(&iam, &alice, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied, "the caller by default");
    let err = get_login_profile(&iam, &root, None).await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::ValidationError,
        "root has no user name"
    );
}

#[tokio::test]
async fn delete_user_waits_for_the_login_profile_and_rename_moves_it() {
    let (iam, root, _) = with_user("alice").await;
    create(&iam, &root, "alice", STRONG).await.unwrap();
    update_user(
        &iam,
        &root,
        UpdateUser {
            name: name("alice"),
            new_name: Some(name("alicia")),
            new_path: None,
        },
    )
    .await
    .unwrap();
    assert!(
        iam.store
            .get(&Key::login_profile(account(), &name("alice")))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stored(&iam, "alicia").await.user.as_str(), "alicia");
    assert_eq!(signs_in(&iam, "alicia", STRONG).await, Ok(()));

    let err = delete_user(&iam, &root, name("alicia")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    assert_eq!(
        err.message(),
        "Cannot delete entity, must delete login profile first."
    );
    delete_login_profile(&iam, &root, Some(name("alicia")))
        .await
        .unwrap();
    delete_user(&iam, &root, name("alicia")).await.unwrap();
}

/// The root of another account of the same store.
async fn other_root(iam: &Iam, id: &str) -> AuthzCaller {
    let other: AccountId = id.parse().unwrap();
    iam.store
        .ensure_account(AccountRecord {
            id: other,
            alias: None,
            root_access_keys: vec![],
            root_mfa_devices: vec![],
            create_date: Timestamp::from_unix_secs(1),
        })
        .await
        .unwrap();
    let caller = Caller {
        account: other,
        identity: Identity::Root,
        access_key_id: None,
        region: None,
    };
    AuthzCaller::load(
        &*iam.store,
        &*iam.clock,
        &iam.partition,
        &caller,
        &Transport::default(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn one_alias_per_account_unique_across_accounts() {
    let (iam, root, _) = with_user("alice").await;
    let alias: AccountAlias = "example-corp".parse().unwrap();
    let paging = Paging::default();
    assert!(
        list_account_aliases(&iam, &root, &paging)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    create_account_alias(&iam, &root, alias.clone())
        .await
        .unwrap();
    let listed = list_account_aliases(&iam, &root, &paging).await.unwrap();
    assert_eq!(listed.items, vec![alias.clone()]);
    assert_eq!(listed.marker, None);
    assert_eq!(
        iam.store.account_by_alias(&alias).await.unwrap(),
        Some(account())
    );
    let record = fetch::<AccountRecord>(&*iam.store, &Key::account(account()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.record.alias.as_deref(), Some("example-corp"));

    let err = create_account_alias(&iam, &root, alias.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    assert_eq!(
        err.message(),
        "The account alias example-corp already exists."
    );
    let err = create_account_alias(&iam, &root, "another-name".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert_eq!(
        err.message(),
        "Cannot exceed quota for AccountAliasesPerAccount: 1"
    );

    let other = other_root(&iam, "111122223333").await;
    let err = create_account_alias(&iam, &other, alias.clone())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::EntityAlreadyExists,
        "taken by another account"
    );
    let err = delete_account_alias(&iam, &other, alias.clone())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::NoSuchEntity,
        "not the other account's"
    );
    assert_eq!(
        err.message(),
        "The account alias example-corp cannot be found."
    );

    // The default password policy refuses the alias as a password.
    let err = create(&iam, &root, "alice", "Example-Corp")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordPolicyViolation);

    delete_account_alias(&iam, &root, alias.clone())
        .await
        .unwrap();
    assert!(
        list_account_aliases(&iam, &root, &paging)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    create_account_alias(&iam, &other, alias.clone())
        .await
        .unwrap();
    assert_eq!(
        iam.store.account_by_alias(&alias).await.unwrap(),
        Some(other.account())
    );

    let alice = user(&iam, "alice", Some(NOTHING)).await;
    for err in [
        create_account_alias(&iam, &alice, "mine-now".parse().unwrap())
            .await
            .unwrap_err(),
        list_account_aliases(&iam, &alice, &paging)
            .await
            .unwrap_err(),
        delete_account_alias(&iam, &alice, alias).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::AccessDenied);
    }
}
