//! Access keys from the identity store: an IAM user's key, written into
//! the embedded store with its secret sealed under the master key, signs
//! requests to the daemon; an inactive key does not; use is recorded.

use std::sync::Arc;

use stsd::adapters::embedded::EmbeddedStore;
use stsd::domain::clock::SystemClock;
use stsd::domain::ids::{
    AccessKeyId, AccountId, Arn, IamPath, Partition, UniqueId, UniqueIdPrefix, UserName,
};
use stsd::domain::seal::{MasterKey, SealKeyId, SealPurpose, seal};
use stsd::domain::secret::SecretAccessKey;
use stsd::domain::sigv4::SignatureLocation;
use stsd::service::store::model::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, CredentialOwner, UserRecord,
};
use stsd::service::store::{
    AccountDirectory as _, EntityWriter as _, Key, Timestamp, Transaction, UsageLog as _,
};

use crate::daemon::{Daemon, Options, TempDir};
use crate::serve::sign;

const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn counter() -> impl FnMut(&mut [u8]) {
    let mut n = 1_u8;
    move |buf: &mut [u8]| {
        for b in buf {
            *b = n;
            n = n.wrapping_mul(31).wrapping_add(7);
        }
    }
}

fn key_record(
    master: &MasterKey,
    account: AccountId,
    id: &AccessKeyId,
    status: AccessKeyStatus,
) -> AccessKeyRecord {
    let secret = seal(
        master,
        &SealPurpose::access_key_secret(id),
        SECRET.as_bytes(),
        &mut counter(),
    )
    .unwrap();
    AccessKeyRecord {
        account,
        id: id.clone(),
        owner: CredentialOwner::User("alice".parse().unwrap()),
        secret,
        status,
        create_date: Timestamp::from_unix_secs(1_700_000_000),
    }
}

/// Writes user alice (path /eng/) with an active and an inactive key.
async fn seed(data: &std::path::Path, account: AccountId) -> (UniqueId, AccessKeyId, AccessKeyId) {
    let master = MasterKey::from_base64(SealKeyId::new("master-1").unwrap(), MASTER_KEY).unwrap();
    let store = EmbeddedStore::open(data, Arc::new(SystemClock)).unwrap();
    store
        .ensure_account(AccountRecord {
            id: account,
            alias: None,
            root_access_keys: Vec::new(),
            root_mfa_devices: Vec::new(),
            create_date: Timestamp::from_unix_secs(1_700_000_000),
        })
        .await
        .unwrap();
    let mut rng = counter();
    let active = AccessKeyId::generate(UniqueIdPrefix::LongTermKey, account, &mut rng);
    let inactive = AccessKeyId::generate(UniqueIdPrefix::LongTermKey, account, &mut rng);
    let name: UserName = "alice".parse().unwrap();
    let path: IamPath = "/eng/".parse().unwrap();
    let user = UserRecord {
        account,
        id: UniqueId::generate(UniqueIdPrefix::User, account, &mut rng),
        arn: Arn::iam_user(&Partition::default(), account, &path, &name),
        name,
        path,
        create_date: Timestamp::from_unix_secs(1_700_000_000),
        tags: Vec::new(),
        permissions_boundary: None,
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
        groups: Vec::new(),
        access_keys: vec![active.clone(), inactive.clone()],
        mfa_devices: Vec::new(),
        password_last_used: None,
    };
    let unique = user.id.clone();
    let mut txn = Transaction::new();
    txn.put(user)
        .put(key_record(
            &master,
            account,
            &active,
            AccessKeyStatus::Active,
        ))
        .put(key_record(
            &master,
            account,
            &inactive,
            AccessKeyStatus::Inactive,
        ));
    store.commit(txn).await.unwrap();
    (unique, active, inactive)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_users_key_from_the_store_signs_requests() {
    let dir = TempDir::new("store");
    let data = dir.path().join("data");
    let account: AccountId = "123456789012".parse().unwrap();
    let (unique, active, inactive) = seed(&data, account).await;

    let mut d = Daemon::start_with(Options {
        env: vec![
            ("STSD_DATA_DIR".into(), data.display().to_string()),
            ("STSD_MASTER_KEY".into(), MASTER_KEY.into()),
        ],
        ..Options::default()
    });
    let secret: SecretAccessKey = SECRET.parse().unwrap();
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let call = |id: &AccessKeyId| {
        let (headers, _) = sign(
            &d,
            id.as_str(),
            &secret,
            "sts",
            body,
            SignatureLocation::Headers,
            "",
        );
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        d.post(body, &pairs)
    };
    let r = call(&active);
    assert_eq!(r.status, 200, "{}\n{}", r.body, d.stderr());
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:iam::123456789012:user/eng/alice")
    );
    assert_eq!(r.xml("UserId"), Some(unique.as_str()));
    let r = call(&inactive);
    assert_eq!((r.status, r.code()), (403, "InvalidClientTokenId"));

    d.sigterm();
    assert!(d.wait_exit(30).success());
    let store = EmbeddedStore::open(&data, Arc::new(SystemClock)).unwrap();
    let used = store
        .last_used(&Key::access_key(account, &active))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.service.as_deref(), Some("sts"));
    assert_eq!(
        used.region.map(|r| r.to_string()).as_deref(),
        Some("us-east-1")
    );
    assert!(
        store
            .last_used(&Key::access_key(account, &inactive))
            .await
            .unwrap()
            .is_none()
    );
}
