//! Service-level tests of the STS actions: an in-memory store with two
//! accounts, a fixed clock, real users, roles, policies and MFA devices
//! made through the IAM operations, and session callers made from the
//! tokens the operations mint (opened with the same key ring, as the
//! authenticator does).

mod assume;
mod chaining;
mod federated;
mod info;
mod mfa;
mod revocation;
mod tokens;
mod web_identity;

use std::sync::Arc;
use std::time::Duration;

use super::assume_role::{AssumeRole, assume_role};
use super::mfa::MfaInput;
use super::session_policy::SessionPolicies;
use super::{Minted, Sts, StsSettings};
use crate::domain::clock::{Clock, FixedClock};
use crate::domain::credential::{KeyRing, SealingKey, SealingKeyId};
use crate::domain::ids::{AccountId, Arn, UserName};
use crate::domain::seal::{MasterKey, SealKeyId};
use crate::domain::totp;
use crate::service::authn::{Caller, Identity};
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::holder::Holder;
use crate::service::iam::inline::put_policy;
use crate::service::iam::mfa::assign::{CodePair, enable_mfa_device};
use crate::service::iam::mfa::{CreateVirtualMfaDevice, create_virtual_mfa_device};
use crate::service::iam::roles::{CreateRole, create_role};
use crate::service::iam::testing::{self, T0};
use crate::service::iam::users::{CreateUser, create_user};
use crate::service::store::model::{AccountRecord, RoleRecord};
use crate::service::store::{Tag, Timestamp};

/// The second account of the tests.
pub(crate) fn other_account() -> AccountId {
    "210987654321".parse().unwrap()
}

/// The services and the clock over one store.
pub(crate) struct Env {
    pub(crate) iam: Iam,
    pub(crate) sts: Sts,
    pub(crate) clock: Arc<FixedClock>,
}

impl Env {
    /// Both accounts, empty; the clock at [`T0`].
    pub(crate) async fn new() -> Self {
        let (iam, clock) = testing::iam().await;
        iam.store
            .ensure_account(AccountRecord {
                id: other_account(),
                alias: None,
                root_access_keys: vec![],
                root_mfa_devices: vec![],
                create_date: Timestamp::from_unix_secs(1),
            })
            .await
            .unwrap();
        let master = MasterKey::from_bytes(SealKeyId::new("k1").unwrap(), [7; 32]);
        let ring = KeyRing::new(
            SealingKey::derive(&master, SealingKeyId::new("s1").unwrap()),
            vec![],
        );
        let sts = Sts {
            store: Arc::clone(&iam.store),
            clock: clock.clone(),
            partition: iam.partition.clone(),
            entropy: Arc::clone(&iam.entropy),
            master_key: Arc::clone(&iam.master_key),
            keys: Arc::new(ring.into()),
            decode_key: Arc::clone(&iam.master_key),
            settings: StsSettings::default(),
            federation: Default::default(),
            identities: Arc::default(),
            recorder: crate::service::sessions::SessionRecorder::spawn(
                Arc::clone(&iam.store) as _,
                Default::default(),
            ),
            audit: None,
        };
        Self { iam, sts, clock }
    }

    /// The root of `account`.
    pub(crate) fn root_of(&self, account: AccountId) -> Caller {
        Caller {
            account,
            identity: Identity::Root,
            access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().ok(),
            region: None,
        }
    }

    /// The root of the first account.
    pub(crate) fn root(&self) -> Caller {
        self.root_of(testing::account())
    }

    /// `caller` with its policies loaded.
    pub(crate) async fn authz(&self, caller: &Caller) -> AuthzCaller {
        AuthzCaller::load(
            &*self.iam.store,
            &*self.iam.clock,
            &self.iam.partition,
            caller,
            &Transport::default(),
        )
        .await
        .unwrap()
    }

    /// Creates user `name` in `account`, with the inline policy `doc`.
    pub(crate) async fn user_in(
        &self,
        account: AccountId,
        name: &str,
        doc: Option<&str>,
    ) -> Caller {
        let root = self.authz(&self.root_of(account)).await;
        let name: UserName = name.parse().unwrap();
        let input = CreateUser {
            name: name.clone(),
            path: None,
            tags: vec![],
            permissions_boundary: None,
        };
        let user = create_user(&self.iam, &root, input).await.unwrap();
        if let Some(doc) = doc {
            put_policy(
                &self.iam,
                &root,
                Holder::User(name.clone()),
                "p".parse().unwrap(),
                doc.to_owned(),
            )
            .await
            .unwrap();
        }
        Caller {
            account,
            identity: Identity::User {
                name,
                unique_id: user.id,
                path: user.path,
            },
            access_key_id: "AKIAIOSFODNN7EXAMPLE".parse().ok(),
            region: None,
        }
    }

    /// Creates user `name` in the first account.
    pub(crate) async fn user(&self, name: &str, doc: Option<&str>) -> Caller {
        self.user_in(testing::account(), name, doc).await
    }

    /// Creates role `name` in `account` with `trust`, the inline policy
    /// `doc` and `MaxSessionDuration` `max`.
    pub(crate) async fn role_in(
        &self,
        account: AccountId,
        name: &str,
        trust: &str,
        doc: Option<&str>,
        max: Option<i64>,
    ) -> RoleRecord {
        let root = self.authz(&self.root_of(account)).await;
        let input = CreateRole {
            name: name.parse().unwrap(),
            path: None,
            trust_policy: trust.to_owned(),
            description: None,
            max_session_duration: max,
            tags: vec![],
            permissions_boundary: None,
        };
        let role = create_role(&self.iam, &root, input).await.unwrap();
        if let Some(doc) = doc {
            put_policy(
                &self.iam,
                &root,
                Holder::Role(role.name.clone()),
                "p".parse().unwrap(),
                doc.to_owned(),
            )
            .await
            .unwrap();
        }
        role
    }

    /// Creates role `name` in the first account.
    pub(crate) async fn role(&self, name: &str, trust: &str) -> RoleRecord {
        self.role_in(testing::account(), name, trust, None, None)
            .await
    }

    /// AssumeRole by `caller` with `input`.
    pub(crate) async fn assume(
        &self,
        caller: &Caller,
        input: AssumeRole,
    ) -> Result<Minted, ServiceError> {
        let authz = self.authz(caller).await;
        assume_role(&self.sts, caller, &authz, input).await
    }

    /// The caller signing with the credentials of `minted`, as the
    /// authenticator makes it from the token.
    pub(crate) fn session_caller(&self, minted: &Minted) -> Caller {
        let session = self.sts.keys.open(minted.token.expose_secret()).unwrap();
        Caller {
            account: session.account,
            access_key_id: Some(session.access_key_id.clone()),
            identity: Identity::Session(Arc::new(session)),
            region: None,
        }
    }

    /// Creates and enables a virtual MFA device `name` for the user
    /// `caller`; returns its serial and seed. The clock then moves two
    /// steps on, so the enabling codes are stale.
    pub(crate) async fn mfa_device(&self, caller: &Caller, name: &str) -> (Arn, Vec<u8>) {
        let root = self.authz(&self.root_of(caller.account)).await;
        let created = create_virtual_mfa_device(
            &self.iam,
            &root,
            CreateVirtualMfaDevice {
                name: name.parse().unwrap(),
                path: None,
                tags: vec![],
            },
        )
        .await
        .unwrap();
        let seed = created.bootstrap.seed().expose_secret().to_vec();
        let now = totp::step(self.clock.now().as_secs());
        let codes = CodePair {
            code1: totp::code_at_step(&seed, now - 1, 6).parse().unwrap(),
            code2: totp::code_at_step(&seed, now, 6).parse().unwrap(),
        };
        let user = match &caller.identity {
            Identity::User { name, .. } => Some(name.clone()),
            _ => None,
        };
        let serial = created.record.serial.as_str().parse().unwrap();
        enable_mfa_device(&self.iam, &root, user, &serial, &codes)
            .await
            .unwrap();
        self.clock.advance(Duration::from_secs(2 * totp::STEP_SECS));
        (created.record.serial, seed)
    }

    /// The current code of `seed`.
    pub(crate) fn code(&self, seed: &[u8]) -> String {
        totp::code(seed, self.clock.now().as_secs())
    }
}

/// An AssumeRole of `role` named `session` with nothing else.
pub(crate) fn assume(role: &RoleRecord, session: &str) -> AssumeRole {
    AssumeRole {
        request_id: "test-request".to_owned(),
        role_arn: role.arn.clone(),
        session_name: session.parse().unwrap(),
        policies: SessionPolicies::default(),
        duration: None,
        tags: vec![],
        transitive_tag_keys: vec![],
        external_id: None,
        mfa: MfaInput::default(),
        source_identity: None,
        provided_contexts: vec![],
    }
}

/// A trust policy allowing `actions` to the `AWS` principal `principal`,
/// with the `Condition` block `condition` (JSON, or empty).
pub(crate) fn trust(principal: &str, actions: &[&str], condition: &str) -> String {
    trust_for("AWS", principal, actions, condition)
}

/// A trust policy allowing `actions` to the principal `principal` of type
/// `kind` (`AWS`, `Federated`), with the `Condition` block `condition`.
pub(crate) fn trust_for(kind: &str, principal: &str, actions: &[&str], condition: &str) -> String {
    let actions: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    let condition = if condition.is_empty() {
        String::new()
    } else {
        format!(",\"Condition\":{condition}")
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"{kind}":"{principal}"}},"Action":[{}]{condition}}}]}}"#,
        actions.join(",")
    )
}

/// An identity policy allowing `action` on `resource`.
pub(crate) fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#
    )
}

/// A tag.
pub(crate) fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.parse().unwrap(),
        value: value.parse().unwrap(),
    }
}

/// Asserts `result` failed with `code` and a message starting with
/// `start`.
#[track_caller]
pub(crate) fn assert_err<T: std::fmt::Debug>(
    result: Result<T, ServiceError>,
    code: ErrorCode,
    start: &str,
) -> ServiceError {
    let e = result.unwrap_err();
    assert_eq!(e.code(), code, "{e}");
    assert!(e.message().starts_with(start), "{e}");
    e
}

/// The user's ARN.
pub(crate) fn arn(env: &Env, caller: &Caller) -> String {
    caller.arn(&env.sts.partition).to_string()
}

/// The start time of the tests, in seconds.
pub(crate) const NOW: u64 = T0.unsigned_abs();

/// Entropy that counts: 0, 1, 2, … (wrapping), and how many reads.
#[derive(Debug, Default)]
struct Counting {
    next: std::sync::atomic::AtomicU8,
    reads: std::sync::atomic::AtomicUsize,
}

impl crate::service::iam::Entropy for Counting {
    fn fill(&self, buf: &mut [u8]) -> Result<(), ServiceError> {
        use std::sync::atomic::Ordering::Relaxed;
        self.reads.fetch_add(1, Relaxed);
        for b in buf {
            *b = self.next.fetch_add(1, Relaxed);
        }
        Ok(())
    }
}

#[tokio::test]
async fn one_pool_serves_a_mint_and_refills_past_its_end() {
    use crate::domain::ids::RandomSource as _;
    use std::sync::atomic::Ordering::Relaxed;
    let mut env = Env::new().await;
    let counting = Arc::new(Counting::default());
    env.sts.entropy = counting.clone();
    let (a, b) = env
        .sts
        .random(|r| {
            let mut a = [0_u8; 50];
            let mut b = [0_u8; 150];
            r.fill(&mut a);
            r.fill(&mut b);
            (a, b)
        })
        .unwrap();
    // Every byte is served once, in order, across refills of the pool.
    let expect: Vec<u8> = (0..200_u8).collect();
    assert_eq!([&a[..], &b[..]].concat(), expect);
    assert_eq!(
        counting.reads.load(Relaxed),
        4,
        "200 bytes from a 64-byte pool"
    );

    // A whole mint (key id, secret, nonce) is one read.
    counting.reads.store(0, Relaxed);
    let role = env
        .role(
            "r",
            &trust("arn:aws:iam::123456789012:root", &["sts:AssumeRole"], ""),
        )
        .await;
    let user = env.user("u", Some(&allow("sts:AssumeRole", "*"))).await;
    counting.reads.store(0, Relaxed);
    env.assume(&user, assume(&role, "session")).await.unwrap();
    assert_eq!(counting.reads.load(Relaxed), 1);
}
