use std::sync::Arc;
use std::time::Duration;

use super::assign::{
    CodePair, deactivate_mfa_device, enable_mfa_device, list_mfa_devices, resync_mfa_device,
};
use super::tags::{list_mfa_device_tags, tag_mfa_device, untag_mfa_device};
use super::*;
use crate::domain::clock::FixedClock;
use crate::domain::ids::UserName;
use crate::domain::totp::{self, RESYNC_STEPS};
use crate::service::iam::testing::{T0, iam, root, user};
use crate::service::iam::users::{CreateUser, create_user, delete_user};
use crate::service::iam::{Listing, Paging};
use crate::service::store::ReplayScope;
use crate::service::store::model::CredentialOwner;

const NOW_STEP: u64 = T0.unsigned_abs() / totp::STEP_SECS;

fn create(name: &str) -> CreateVirtualMfaDevice {
    CreateVirtualMfaDevice {
        name: name.parse().unwrap(),
        path: None,
        tags: vec![],
    }
}

async fn with_alice() -> (Iam, Arc<FixedClock>, AuthzCaller) {
    let (iam, clock) = iam().await;
    let root = root(&iam).await;
    add_user(&iam, &root, "alice").await;
    (iam, clock, root)
}

async fn add_user(iam: &Iam, root: &AuthzCaller, name: &str) {
    let input = CreateUser {
        name: name.parse().unwrap(),
        path: None,
        tags: vec![],
        permissions_boundary: None,
    };
    create_user(iam, root, input).await.unwrap();
}

fn alice() -> Option<UserName> {
    Some("alice".parse().unwrap())
}

fn serial(d: &CreatedMfaDevice) -> SerialNumber {
    d.record.serial.as_str().parse().unwrap()
}

/// The codes of steps `first` and `second` of `d`'s seed.
fn codes(d: &CreatedMfaDevice, first: u64, second: u64) -> CodePair {
    let seed = d.bootstrap.seed().expose_secret();
    CodePair {
        code1: totp::code_at_step(seed, first, 6).parse().unwrap(),
        code2: totp::code_at_step(seed, second, 6).parse().unwrap(),
    }
}

/// The consecutive pair ending at step `s`.
fn pair(d: &CreatedMfaDevice, s: u64) -> CodePair {
    codes(d, s - 1, s)
}

async fn enable(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    d: &CreatedMfaDevice,
    c: CodePair,
) -> Result<(), ServiceError> {
    enable_mfa_device(iam, caller, name, &serial(d), &c).await
}

async fn device(iam: &Iam, d: &CreatedMfaDevice) -> MfaDeviceRecord {
    let key = Key::mfa_device(d.record.account, &d.record.name);
    fetch::<MfaDeviceRecord>(&*iam.store, &key)
        .await
        .unwrap()
        .unwrap()
        .record
}

#[tokio::test]
async fn create_seals_a_20_byte_seed_shown_once() {
    let (iam, _, root) = with_alice().await;
    let mut input = create("Phone");
    input.path = Some("/team/".parse().unwrap());
    let d = create_virtual_mfa_device(&iam, &root, input).await.unwrap();
    assert_eq!(
        d.record.serial.as_str(),
        "arn:aws:iam::123456789012:mfa/team/Phone"
    );
    assert_eq!(d.bootstrap.seed().expose_secret().len(), SEED_BYTES);
    let text = d.bootstrap.seed().to_base32();
    assert_eq!(text.len(), 32);
    let stored = device(&iam, &d).await;
    assert_eq!(open_seed(&iam, &stored).unwrap(), *d.bootstrap.seed());
    let debug = format!("{d:?} {stored:?}");
    assert!(!debug.contains(text.as_str()), "{debug}");
    assert!(debug.contains("Bootstrap(<redacted>)"), "{debug}");
    assert_eq!(d.bootstrap.expose_qr_png().get(..4), Some(&b"\x89PNG"[..]));
    assert_eq!(stored.assignment, None);
}

#[tokio::test]
async fn names_are_unique_in_any_case_and_path() {
    let (iam, _, root) = with_alice().await;
    create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let mut again = create("PHONE");
    again.path = Some("/other/".parse().unwrap());
    let err = create_virtual_mfa_device(&iam, &root, again)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    assert!(err.message().contains("PHONE"), "{}", err.message());
}

#[tokio::test]
async fn codes_are_accepted_at_the_window_edges_only() {
    let (iam, _, root) = with_alice().await;
    let cases = [
        (NOW_STEP + 1, true),
        (NOW_STEP - 1, true),
        (NOW_STEP, true),
        (NOW_STEP + 2, false),
        (NOW_STEP - 2, false),
    ];
    for (i, (s, accepted)) in cases.into_iter().enumerate() {
        let d = create_virtual_mfa_device(&iam, &root, create(&format!("d{i}")))
            .await
            .unwrap();
        let user = format!("u{i}");
        add_user(&iam, &root, &user).await;
        let got = enable(&iam, &root, Some(user.parse().unwrap()), &d, pair(&d, s)).await;
        match got {
            Ok(()) => assert!(accepted, "step {s} accepted"),
            Err(e) => {
                assert!(!accepted, "step {s}: {e}");
                assert_eq!(e.code(), ErrorCode::InvalidAuthenticationCode);
            }
        }
    }
}

#[tokio::test]
async fn wrong_codes_are_refused_and_spend_nothing() {
    let (iam, _, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let n = NOW_STEP;
    for bad in [
        codes(&d, n, n - 1),
        codes(&d, n, n),
        codes(&d, n - 200, n - 199),
    ] {
        let err = enable(&iam, &root, alice(), &d, bad).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
        assert!(
            err.message()
                .starts_with("Authentication code for device is not valid"),
            "{}",
            err.message()
        );
    }
    assert!(device(&iam, &d).await.assignment.is_none());
    enable(&iam, &root, alice(), &d, pair(&d, n)).await.unwrap();
    let stored = device(&iam, &d).await;
    let assignment = stored.assignment.clone().unwrap();
    assert_eq!(
        assignment.owner,
        CredentialOwner::User("alice".parse().unwrap())
    );
    assert_eq!(stored.last_accepted_step, Some(n));
}

#[tokio::test]
async fn accepted_codes_are_never_accepted_again() {
    let (iam, clock, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let n = NOW_STEP;
    enable(&iam, &root, alice(), &d, pair(&d, n)).await.unwrap();
    // Both steps are spent in the replay guard, for every later path.
    let stored = device(&iam, &d).await;
    for s in [n - 1, n] {
        let later = Timestamp::from_unix_secs(totp::replay_not_after(s));
        let fresh = iam
            .store
            .use_once(ReplayScope::TotpStep, &replay_id(&stored, s), later)
            .await
            .unwrap();
        assert!(!fresh, "step {s} is spent");
    }
    deactivate_mfa_device(&iam, &root, alice(), &serial(&d))
        .await
        .unwrap();
    // Re-enabling with the same codes, or a pair overlapping them, fails.
    for again in [pair(&d, n), pair(&d, n + 1)] {
        let err = enable(&iam, &root, alice(), &d, again).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
    }
    clock.advance(Duration::from_secs(2 * totp::STEP_SECS));
    enable(&iam, &root, alice(), &d, pair(&d, n + 2))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_step_spent_elsewhere_is_refused() {
    let (iam, _, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let n = NOW_STEP;
    // As if a session had used the current code already.
    let later = Timestamp::from_unix_secs(totp::replay_not_after(n));
    let id = replay_id(&d.record, n);
    assert!(
        iam.store
            .use_once(ReplayScope::TotpStep, &id, later)
            .await
            .unwrap()
    );
    let err = enable(&iam, &root, alice(), &d, pair(&d, n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
    assert!(err.message().contains("only once"), "{}", err.message());
}

#[tokio::test]
async fn eight_devices_per_user() {
    let (iam, _, root) = with_alice().await;
    for i in 0..=MAX_MFA_DEVICES {
        let d = create_virtual_mfa_device(&iam, &root, create(&format!("d{i}")))
            .await
            .unwrap();
        let got = enable(&iam, &root, alice(), &d, pair(&d, NOW_STEP)).await;
        if i < MAX_MFA_DEVICES {
            got.unwrap();
        } else {
            let err = got.unwrap_err();
            assert_eq!(err.code(), ErrorCode::LimitExceeded);
            assert_eq!(
                err.message(),
                "Cannot exceed quota for MFADevicesPerUser: 8"
            );
        }
    }
    let all = list_mfa_devices(&iam, &root, alice(), &Paging::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), MAX_MFA_DEVICES);
    let paging = Paging {
        max_items: Some(3),
        ..Paging::default()
    };
    let first = list_mfa_devices(&iam, &root, alice(), &paging)
        .await
        .unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.items[0].name.as_str(), "d0");
    let next = Paging {
        marker: first.marker.clone(),
        ..paging
    };
    let second = list_mfa_devices(&iam, &root, alice(), &next).await.unwrap();
    assert_eq!(second.items[0].name.as_str(), "d3");
}

#[tokio::test]
async fn entity_errors_come_before_codes() {
    let (iam, _, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let ghost: SerialNumber = "arn:aws:iam::123456789012:mfa/ghost".parse().unwrap();
    let wrong = || codes(&d, 1, 2);
    let err = enable_mfa_device(&iam, &root, alice(), &ghost, &wrong())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert!(err.message().contains(ghost.as_str()), "{}", err.message());
    let nobody = Some("nobody".parse().unwrap());
    let err = enable(&iam, &root, nobody, &d, pair(&d, NOW_STEP))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert!(err.message().contains("nobody"), "{}", err.message());
    // A hardware-style serial, or the ARN with another path, names nothing.
    for other in ["GAHT12345678", "arn:aws:iam::123456789012:mfa/x/phone"] {
        let s: SerialNumber = other.parse().unwrap();
        let err = delete_virtual_mfa_device(&iam, &root, &s)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::NoSuchEntity, "{other}");
    }

    enable(&iam, &root, alice(), &d, pair(&d, NOW_STEP))
        .await
        .unwrap();
    add_user(&iam, &root, "bob").await;
    let bob = || Some("bob".parse().unwrap());
    let err = enable(&iam, &root, bob(), &d, wrong()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    let err = deactivate_mfa_device(&iam, &root, bob(), &serial(&d))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    let err = delete_virtual_mfa_device(&iam, &root, &serial(&d))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    let err = delete_user(&iam, &root, "alice".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeleteConflict);
    assert!(err.message().contains("MFA device"), "{}", err.message());

    deactivate_mfa_device(&iam, &root, alice(), &serial(&d))
        .await
        .unwrap();
    delete_virtual_mfa_device(&iam, &root, &serial(&d))
        .await
        .unwrap();
    delete_user(&iam, &root, "alice".parse().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn root_enables_for_itself_without_a_user_name() {
    let (iam, _, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("root-phone"))
        .await
        .unwrap();
    enable(&iam, &root, None, &d, pair(&d, NOW_STEP))
        .await
        .unwrap();
    let mine = list_mfa_devices(&iam, &root, None, &Paging::default())
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
    let owner = &mine.items[0].assignment.as_ref().unwrap().owner;
    assert_eq!(*owner, CredentialOwner::Root);
    let listed =
        list_virtual_mfa_devices(&iam, &root, AssignmentStatus::Assigned, &Paging::default())
            .await
            .unwrap();
    match &listed.items[0].user {
        Some(DeviceUser::Root { arn, .. }) => {
            assert_eq!(arn.as_str(), "arn:aws:iam::123456789012:root");
        }
        other => panic!("{other:?}"),
    }
    let alice_devices = list_mfa_devices(&iam, &root, alice(), &Paging::default())
        .await
        .unwrap();
    assert!(alice_devices.items.is_empty());
}

#[tokio::test]
async fn resync_searches_wider_and_records_the_drift() {
    let (iam, clock, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let s = serial(&d);
    let err = resync_mfa_device(&iam, &root, alice(), &s, &pair(&d, NOW_STEP))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity, "not enabled yet");
    enable(&iam, &root, alice(), &d, pair(&d, NOW_STEP))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(10 * totp::STEP_SECS));
    let now = NOW_STEP + 10;
    let far = pair(&d, now + RESYNC_STEPS + 1);
    let err = resync_mfa_device(&iam, &root, alice(), &s, &far)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
    resync_mfa_device(&iam, &root, alice(), &s, &pair(&d, now + 5))
        .await
        .unwrap();
    let stored = device(&iam, &d).await;
    assert_eq!(stored.drift_steps, 5);
    assert_eq!(stored.last_accepted_step, Some(now + 5));
    // Steps up to the last accepted one are refused from now on.
    let err = resync_mfa_device(&iam, &root, alice(), &s, &pair(&d, now + 4))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidAuthenticationCode);
    resync_mfa_device(&iam, &root, alice(), &s, &pair(&d, now - 3))
        .await
        .unwrap_err();
}

#[tokio::test]
async fn actions_are_authorized_on_the_right_arn() {
    let (iam, _, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iam:CreateVirtualMFADevice","iam:TagMFADevice"],
         "Resource":"arn:aws:iam::123456789012:mfa/alice-*"},
        {"Effect":"Allow","Action":["iam:EnableMFADevice","iam:ListMFADevices"],
         "Resource":"arn:aws:iam::123456789012:user/alice"}]}"#;
    let alice_caller = user(&iam, "alice", Some(doc)).await;
    let mine = create_virtual_mfa_device(&iam, &alice_caller, create("alice-phone"))
        .await
        .unwrap();
    let err = create_virtual_mfa_device(&iam, &alice_caller, create("other"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(
        err.message().contains(
            "iam:CreateVirtualMFADevice on resource: arn:aws:iam::123456789012:mfa/other"
        ),
        "{}",
        err.message()
    );
    let err = tag_mfa_device(&iam, &alice_caller, &serial(&d), vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    let err = delete_virtual_mfa_device(&iam, &alice_caller, &serial(&mine))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    // Without UserName, a user's call is about itself.
    enable(&iam, &alice_caller, None, &mine, pair(&mine, NOW_STEP))
        .await
        .unwrap();
    let listed = list_mfa_devices(&iam, &alice_caller, None, &Paging::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    add_user(&iam, &root, "bob").await;
    let err = list_mfa_devices(
        &iam,
        &alice_caller,
        Some("bob".parse().unwrap()),
        &Paging::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccessDenied);
    assert!(err.message().contains("user/bob"), "{}", err.message());
}

#[tokio::test]
async fn list_virtual_devices_filters_and_pages() {
    let (iam, _, root) = with_alice().await;
    let mut made = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        made.push(
            create_virtual_mfa_device(&iam, &root, create(name))
                .await
                .unwrap(),
        );
    }
    for (i, d) in made.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
        let user = format!("u{i}");
        add_user(&iam, &root, &user).await;
        enable(
            &iam,
            &root,
            Some(user.parse().unwrap()),
            d,
            pair(d, NOW_STEP),
        )
        .await
        .unwrap();
    }
    let names = |l: &Listing<ListedDevice>| -> Vec<String> {
        l.items.iter().map(|d| d.record.name.to_string()).collect()
    };
    let all = |status| {
        let iam = &iam;
        let root = &root;
        async move {
            let mut out = Vec::new();
            let mut paging = Paging {
                max_items: Some(1),
                ..Paging::default()
            };
            loop {
                let page = list_virtual_mfa_devices(iam, root, status, &paging)
                    .await
                    .unwrap();
                assert!(page.items.len() <= 1);
                out.extend(names(&page));
                match page.marker {
                    Some(m) => paging.marker = Some(m),
                    None => return out,
                }
            }
        }
    };
    assert_eq!(all(AssignmentStatus::Assigned).await, ["b", "d"]);
    assert_eq!(all(AssignmentStatus::Unassigned).await, ["a", "c", "e"]);
    assert_eq!(all(AssignmentStatus::Any).await, ["a", "b", "c", "d", "e"]);
    let assigned =
        list_virtual_mfa_devices(&iam, &root, AssignmentStatus::Assigned, &Paging::default())
            .await
            .unwrap();
    match &assigned.items[0].user {
        Some(DeviceUser::User(u)) => assert_eq!(u.name.as_str(), "u1"),
        other => panic!("{other:?}"),
    }
    assert!(assigned.marker.is_none());
}

#[tokio::test]
async fn tags_follow_the_iam_rules() {
    let (iam, _, root) = with_alice().await;
    let d = create_virtual_mfa_device(&iam, &root, create("phone"))
        .await
        .unwrap();
    let s = serial(&d);
    let tag = |k: &str, v: &str| Tag {
        key: k.parse().unwrap(),
        value: v.parse().unwrap(),
    };
    tag_mfa_device(&iam, &root, &s, vec![tag("team", "a"), tag("env", "x")])
        .await
        .unwrap();
    tag_mfa_device(&iam, &root, &s, vec![tag("TEAM", "b")])
        .await
        .unwrap();
    let tags = list_mfa_device_tags(&iam, &root, &s).await.unwrap();
    assert_eq!(tags, vec![tag("team", "b"), tag("env", "x")]);
    untag_mfa_device(&iam, &root, &s, vec!["Env".parse().unwrap()])
        .await
        .unwrap();
    assert_eq!(
        list_mfa_device_tags(&iam, &root, &s).await.unwrap(),
        vec![tag("team", "b")]
    );
    let many: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    let err = tag_mfa_device(&iam, &root, &s, many).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    let reserved = vec![tag("aws:x", "v")];
    let err = tag_mfa_device(&iam, &root, &s, reserved).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}
