//! Authorize in process with warm caches (issue 6: goal p50 under 10 µs).
//!
//! One `Authorizer` over the in-memory store, with a user holding an access
//! key and an inline policy, and a role session minted by AssumeRole (role
//! policy + session policy). Each iteration is one whole decision of a
//! signed `GET` a service received: check the input, parse the SigV4
//! header, find the credentials (the store's key index, or the session
//! cache for the token), verify the signature (cached signing key), load
//! the identity (cache, checked against the store's change stamp), build
//! the request context, evaluate, and build the answer.
//!
//! - `authorize/user_key`: a long-term key (`AKIA…`), allowed.
//! - `authorize/role_session`: an `ASIA…` session, allowed by the role's
//!   policy and the session policy.
//! - `authorize/user_key_denied`: an implicit deny (the answer carries the
//!   AWS denial text).
//!
//! `cargo bench --locked --bench authorize`

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "benchmark setup: a broken fixture must fail loudly"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use stsd::adapters::memory::MemoryStore;
use stsd::domain::clock::{Clock, SystemClock};
use stsd::domain::credential::{KeyRing, SealingKey, SealingKeyId};
use stsd::domain::ids::{AccessKeyId, AccountId};
use stsd::domain::seal::{MasterKey, SealKeyId};
use stsd::domain::secret::{SecretAccessKey, SessionToken};
use stsd::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};
use stsd::service::authn::{Authenticator, AuthnSettings, Caller, Identity, StoreCredentials};
use stsd::service::authorize::{
    AuthorizeInput, AuthorizeSettings, Authorizer, Decision, SignedRequest,
};
use stsd::service::authz::{AuthzCaller, IdentityCache, Transport};
use stsd::service::iam::Iam;
use stsd::service::iam::access_keys::create_access_key;
use stsd::service::iam::holder::Holder;
use stsd::service::iam::inline::put_policy;
use stsd::service::iam::roles::{CreateRole, create_role};
use stsd::service::iam::users::{CreateUser, create_user};
use stsd::service::sessions::{RecorderSettings, SessionRecorder};
use stsd::service::store::model::AccountRecord;
use stsd::service::store::{IamStore, Timestamp};
use stsd::service::sts::assume_role::{AssumeRole, assume_role};
use stsd::service::sts::session_policy::SessionPolicies;
use stsd::service::sts::{Sts, StsSettings};

const ACCOUNT: &str = "123456789012";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const READ_PHOTOS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["photos:Get*","photos:List*"],"Resource":"arn:aws:photos:*:123456789012:album/*"},{"Effect":"Deny","Action":"photos:DeleteAlbum","Resource":"*"}]}"#;

struct Fixture {
    authorizer: Authorizer,
    /// Root of the account, to create more principals.
    root: AuthzCaller,
    user: (String, SecretAccessKey),
    session: (String, SecretAccessKey, SessionToken),
}

async fn fixture() -> Fixture {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store: Arc<dyn IamStore> = Arc::new(MemoryStore::new(Arc::clone(&clock)));
    let master = Arc::new(MasterKey::from_bytes(
        SealKeyId::new("k1").unwrap(),
        [7; 32],
    ));
    let identities = Arc::new(IdentityCache::default());
    let iam = Arc::new(Iam {
        store: Arc::clone(&store),
        clock: Arc::clone(&clock),
        partition: "aws".parse().unwrap(),
        entropy: Arc::new(ring::rand::SystemRandom::new()),
        master_key: Arc::clone(&master),
        identities: Arc::clone(&identities),
    });
    let account: AccountId = ACCOUNT.parse().unwrap();
    let root = account_root(&iam, ACCOUNT, "AKIAIOSFODNN7EXAMPLE".parse().ok()).await;
    let user = create_user(
        &iam,
        &root,
        CreateUser {
            name: "photo-reader".parse().unwrap(),
            path: None,
            tags: vec![],
            permissions_boundary: None,
        },
    )
    .await
    .unwrap();
    put_policy(
        &iam,
        &root,
        Holder::User(user.name.clone()),
        "read".parse().unwrap(),
        READ_PHOTOS.into(),
    )
    .await
    .unwrap();
    let key = create_access_key(&iam, &root, Some(user.name.clone()))
        .await
        .unwrap();

    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let role = create_role(
        &iam,
        &root,
        CreateRole {
            name: "photo-service".parse().unwrap(),
            path: None,
            trust_policy: trust,
            description: None,
            max_session_duration: None,
            tags: vec![],
            permissions_boundary: None,
        },
    )
    .await
    .unwrap();
    put_policy(
        &iam,
        &root,
        Holder::Role(role.name.clone()),
        "read".parse().unwrap(),
        READ_PHOTOS.into(),
    )
    .await
    .unwrap();
    let ring = Arc::new(KeyRing::new(
        SealingKey::derive(&master, SealingKeyId::new("s1").unwrap()),
        vec![],
    ));
    let sts = Sts {
        store: Arc::clone(&store),
        clock: Arc::clone(&clock),
        partition: iam.partition.clone(),
        entropy: Arc::clone(&iam.entropy),
        master_key: Arc::clone(&master),
        keys: Arc::new(stsd::service::session_keys::SessionKeys::from_shared(
            Arc::clone(&ring),
        )),
        decode_key: Arc::clone(&master),
        settings: StsSettings::default(),
        federation: Default::default(),
        identities: Arc::clone(&identities),
        recorder: SessionRecorder::spawn(store.clone(), RecorderSettings::default()),
        audit: None,
    };
    // Root cannot assume roles: the user does (its policy is widened for it).
    let assume_doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#;
    put_policy(
        &iam,
        &root,
        Holder::User(user.name.clone()),
        "assume".parse().unwrap(),
        assume_doc.into(),
    )
    .await
    .unwrap();
    let user_caller = Caller {
        account,
        identity: Identity::User {
            name: user.name.clone(),
            unique_id: user.id.clone(),
            path: user.path.clone(),
        },
        access_key_id: Some(key.record.id.clone()),
        region: None,
    };
    let user_authz = AuthzCaller::load(
        &*store,
        &*clock,
        &iam.partition,
        &user_caller,
        &Transport::default(),
    )
    .await
    .unwrap();
    let session_policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"photos:*","Resource":"*"}}"#;
    let minted = assume_role(
        &sts,
        &user_caller,
        &user_authz,
        AssumeRole {
            role_arn: role.arn.clone(),
            session_name: "bench".parse().unwrap(),
            policies: SessionPolicies {
                policy: Some(session_policy.into()),
                ..SessionPolicies::default()
            },
            duration: None,
            tags: vec![],
            transitive_tag_keys: vec![],
            external_id: None,
            mfa: Default::default(),
            source_identity: None,
            provided_contexts: vec![],
            request_id: "bench".to_owned(),
        },
    )
    .await
    .unwrap();

    let settings = AuthnSettings {
        regions: vec!["us-east-1".to_owned()],
        max_skew: Duration::from_secs(900),
        max_presigned_lifetime: Duration::from_secs(604_800),
    };
    let lookup = StoreCredentials::new(Arc::clone(&store), Arc::clone(&master));
    let authenticator =
        Authenticator::new(Arc::new(lookup), Arc::clone(&clock), settings).with_sessions(ring);
    let authorizer = Authorizer {
        authenticator: Arc::new(authenticator),
        store,
        identities,
        clock,
        partition: "aws".parse().unwrap(),
        settings: AuthorizeSettings {
            answer_ttl: Duration::from_secs(5),
        },
        iam,
    };
    Fixture {
        authorizer,
        root,
        user: (key.record.id.to_string(), key.secret),
        session: (
            minted.session.access_key_id.to_string(),
            minted.session.secret.clone(),
            SessionToken::new(minted.token.expose_secret()),
        ),
    }
}

/// A `GET /albums/summer?max=10` to `photos`, signed now.
fn request(
    id: &str,
    secret: &SecretAccessKey,
    token: Option<&SessionToken>,
    action: &str,
) -> AuthorizeInput {
    request_in(ACCOUNT, id, secret, token, action)
}

/// [`request`] for a resource of `account`.
fn request_in(
    account: &str,
    id: &str,
    secret: &SecretAccessKey,
    token: Option<&SessionToken>,
    action: &str,
) -> AuthorizeInput {
    let host = "photos.example.com";
    let headers = [("host", host), ("accept", "application/json")];
    let view = RequestView {
        method: "GET",
        path: "/albums/summer",
        query: "max=10",
        headers: &headers,
        payload: Payload::Bytes(b""),
    };
    let params = SigningParams {
        access_key_id: id,
        secret,
        security_token: token,
        region: "us-east-1",
        service: "photos",
        timestamp: AmzDate::from_unix_secs(SystemClock.now_secs()).unwrap(),
        location: SignatureLocation::Headers,
        normalize_path: true,
    };
    let signed = sign_request(&view, &params).unwrap();
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.extend(
        signed
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    AuthorizeInput {
        request: SignedRequest {
            method: "GET".into(),
            scheme: "https".into(),
            host: host.into(),
            path: "/albums/summer".into(),
            query: signed.query,
            headers: all,
            payload_sha256: EMPTY_SHA256.into(),
        },
        source_ip: Some("10.1.2.3".parse().unwrap()),
        action: action.into(),
        resource: format!("arn:aws:photos:us-east-1:{account}:album/summer"),
        ..AuthorizeInput::default()
    }
}

/// Users per account the growth bench creates: under an account's quota
/// of 5,000 (the fixture's own users included).
const USERS_PER_ACCOUNT: usize = 100;

/// One principal the growth bench created: its account and its key.
struct Grown {
    account: String,
    key_id: String,
    secret: SecretAccessKey,
}

/// Creates users `from..to` (`grow-<i>`), each with the reader's inline
/// policy (its resources in the user's account) and an access key;
/// [`USERS_PER_ACCOUNT`] to an account, the first being the fixture's
/// and the others (`1000000000NN`) made as needed, as an account's user
/// quota is 5,000.
async fn grow(
    f: &Fixture,
    roots: &mut Vec<(String, AuthzCaller)>,
    from: usize,
    to: usize,
) -> Vec<Grown> {
    let iam = &f.authorizer.iam;
    let mut grown = Vec::with_capacity(to.saturating_sub(from));
    for i in from..to {
        let slot = i / USERS_PER_ACCOUNT;
        while roots.len() <= slot {
            if roots.is_empty() {
                roots.push((ACCOUNT.to_owned(), f.root.clone()));
            } else {
                let account = format!("{:012}", 100_000_000_000_u64 + roots.len() as u64);
                let root = account_root(iam, &account, None).await;
                roots.push((account, root));
            }
        }
        let (account, root) = roots.get(slot).unwrap();
        let account = account.clone();
        let user = create_user(
            iam,
            root,
            CreateUser {
                name: format!("grow-{i}").parse().unwrap(),
                path: None,
                tags: vec![],
                permissions_boundary: None,
            },
        )
        .await
        .unwrap();
        put_policy(
            iam,
            root,
            Holder::User(user.name.clone()),
            "read".parse().unwrap(),
            READ_PHOTOS.replace(ACCOUNT, &account),
        )
        .await
        .unwrap();
        let key = create_access_key(iam, root, Some(user.name.clone()))
            .await
            .unwrap();
        grown.push(Grown {
            account,
            key_id: key.record.id.to_string(),
            secret: key.secret,
        });
    }
    grown
}

/// The root caller of `account` (signing with `access_key_id`, if any),
/// the account created in the store if new.
async fn account_root(iam: &Iam, account: &str, access_key_id: Option<AccessKeyId>) -> AuthzCaller {
    let id: AccountId = account.parse().unwrap();
    iam.store
        .ensure_account(AccountRecord {
            id,
            alias: None,
            root_access_keys: vec![],
            root_mfa_devices: vec![],
            create_date: Timestamp::from_unix_secs(1),
        })
        .await
        .unwrap();
    let caller = Caller {
        account: id,
        identity: Identity::Root,
        access_key_id,
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

/// Cost growth with the number of principals (issue 11): the store holds
/// N users (each with a key and an inline policy; 100 to an account,
/// so 1,000,000 users are in 10,000 accounts) and the timed calls cycle
/// through 64 of them spread over the whole range, so the store's indexes
/// and the caches hold N principals while the working set stays the same.
/// `STSD_BENCH_PRINCIPALS` (default `10,100,1000,10000`; `make bench`
/// goes to 1,000,000); only in a benchmark run.
fn bench_principals(c: &mut Criterion, rt: &tokio::runtime::Runtime, f: &Fixture) {
    let sizes: Vec<usize> = std::env::var("STSD_BENCH_PRINCIPALS")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "10,100,1000,10000".into())
        .split(',')
        .map(|n| n.trim().parse().unwrap())
        .collect();
    let mut grown: Vec<Grown> = Vec::new();
    let mut roots: Vec<(String, AuthzCaller)> = Vec::new();
    let mut g = c.benchmark_group("authorize/principals");
    for n in sizes {
        let (started, before) = (SystemClock.now(), grown.len());
        let more = rt.block_on(grow(f, &mut roots, before, n));
        grown.extend(more);
        eprintln!(
            "{n} principals in the store ({} accounts; {:.1} s to create the last {})",
            roots.len(),
            SystemClock.now().saturating_sub(started).as_secs_f64(),
            n.saturating_sub(before),
        );
        let step = (grown.len() / 64).max(1);
        let inputs: Vec<AuthorizeInput> = grown
            .iter()
            .step_by(step)
            .map(|p| request_in(&p.account, &p.key_id, &p.secret, None, "photos:GetAlbum"))
            .collect();
        for input in &inputs {
            let answer = rt.block_on(f.authorizer.decide_unchecked(input)).unwrap();
            assert_eq!(answer.decision, Decision::Allow, "{answer:?}");
        }
        let mut i = 0;
        g.bench_function(n.to_string(), |b| {
            b.iter(|| {
                i = (i + 1) % inputs.len();
                rt.block_on(
                    f.authorizer
                        .decide_unchecked(black_box(inputs.get(i).unwrap())),
                )
                .unwrap()
            });
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(fixture());
    let a = &f.authorizer;
    let user = request(&f.user.0, &f.user.1, None, "photos:GetAlbum");
    let denied = request(&f.user.0, &f.user.1, None, "photos:PutAlbum");
    let session = request(
        &f.session.0,
        &f.session.1,
        Some(&f.session.2),
        "photos:GetAlbum",
    );
    for (input, want) in [
        (&user, Decision::Allow),
        (&denied, Decision::ImplicitDeny),
        (&session, Decision::Allow),
    ] {
        let answer = rt.block_on(a.decide_unchecked(input)).unwrap();
        assert_eq!(answer.decision, want, "{answer:?}");
    }
    let mut g = c.benchmark_group("authorize");
    g.bench_function("user_key", |b| {
        b.iter(|| rt.block_on(a.decide_unchecked(black_box(&user))).unwrap());
    });
    g.bench_function("role_session", |b| {
        b.iter(|| {
            rt.block_on(a.decide_unchecked(black_box(&session)))
                .unwrap()
        });
    });
    g.bench_function("user_key_denied", |b| {
        b.iter(|| rt.block_on(a.decide_unchecked(black_box(&denied))).unwrap());
    });
    g.finish();
    if std::env::args().any(|a| a == "--bench") {
        bench_principals(c, &rt, &f);
    }
}

/// The fixed workload of `scripts/bench-check.sh` (callgrind counts this
/// function's instructions only): `n` whole decisions of `input`.
#[inline(never)]
fn icount_authorize(
    rt: &tokio::runtime::Runtime,
    a: &Authorizer,
    input: &AuthorizeInput,
    n: usize,
) -> usize {
    (0..n)
        .filter(|_| {
            rt.block_on(a.decide_unchecked(black_box(input)))
                .is_ok_and(|answer| answer.decision == Decision::Allow)
        })
        .count()
}

/// `STSD_ICOUNT=authorize_user_key:<n>` or `authorize_role_session:<n>`.
fn icount(spec: &str) {
    let (case, n) = spec.split_once(':').unwrap();
    let n: usize = n.parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = rt.block_on(fixture());
    let input = match case {
        "authorize_user_key" => request(&f.user.0, &f.user.1, None, "photos:GetAlbum"),
        "authorize_role_session" => request(
            &f.session.0,
            &f.session.1,
            Some(&f.session.2),
            "photos:GetAlbum",
        ),
        other => panic!("STSD_ICOUNT: unknown case {other}"),
    };
    // Warm the caches outside the counted function.
    for _ in 0..2 {
        let answer = rt.block_on(f.authorizer.decide_unchecked(&input)).unwrap();
        assert_eq!(answer.decision, Decision::Allow);
    }
    assert_eq!(icount_authorize(&rt, &f.authorizer, &input, n), n);
    println!("icount {case}: {n} iterations");
}

fn main() {
    if let Ok(spec) = std::env::var("STSD_ICOUNT") {
        icount(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
