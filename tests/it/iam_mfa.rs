//! Virtual MFA devices over the wire: real `stsd serve`, requests
//! hand-signed with `domain::sigv4::sign_request`, TOTP codes computed
//! here from the seed the daemon returned (RFC 6238, written against the
//! RFC rather than with stsd's own `domain::totp`).

use crate::client::{Creds, enc, iam, root};
use crate::daemon::{Daemon, Response};
use data_encoding::{BASE32_NOPAD, BASE64};
use ring::hmac;
use stsd::domain::clock::{Clock, SystemClock};

const ACCOUNT: &str = "123456789012";

/// RFC 6238 (HMAC-SHA1, 6 digits, 30 s) at time step `step`.
fn totp(seed: &[u8], step: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let off = usize::from(mac[19] & 0x0f);
    let word = u32::from_be_bytes([mac[off], mac[off + 1], mac[off + 2], mac[off + 3]]);
    format!("{:06}", (word & 0x7fff_ffff) % 1_000_000)
}

/// The current 30 s step, waiting for the next one when fewer than 5 s are
/// left in this one, so the codes stay current while the request flies.
fn current_step() -> u64 {
    let now = SystemClock.now().as_secs_f64();
    let left = 30.0 - now % 30.0;
    if left < 5.0 {
        std::thread::sleep(std::time::Duration::from_secs_f64(left + 0.1));
    }
    SystemClock.now().as_secs() / 30
}

/// Creates device `name`: (serial, raw seed, response).
fn create_device(d: &Daemon, root: &Creds, params: &str) -> (String, Vec<u8>, Response) {
    let r = iam(d, root, &format!("Action=CreateVirtualMFADevice&{params}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let serial = r.xml("SerialNumber").unwrap().to_owned();
    // The blob is base64 on the wire; inside is the Base32 text.
    let text = BASE64
        .decode(r.xml("Base32StringSeed").unwrap().as_bytes())
        .unwrap();
    assert_eq!(text.len(), 32, "20 bytes of seed");
    assert!(
        text.iter()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(c))
    );
    let seed = BASE32_NOPAD.decode(&text).unwrap();
    (serial, seed, r)
}

fn enable(
    d: &Daemon,
    creds: &Creds,
    user: Option<&str>,
    serial: &str,
    codes: (&str, &str),
) -> Response {
    let user = user.map(|u| format!("&UserName={u}")).unwrap_or_default();
    iam(
        d,
        creds,
        &format!(
            "Action=EnableMFADevice{user}&SerialNumber={}&AuthenticationCode1={}&AuthenticationCode2={}",
            enc(serial),
            codes.0,
            codes.1
        ),
    )
}

#[test]
fn virtual_mfa_devices_over_the_wire() {
    let d = Daemon::start();
    let root = root(&d);
    let r = iam(&d, &root, "Action=CreateUser&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);

    let (serial, seed, r) = create_device(
        &d,
        &root,
        "VirtualMFADeviceName=phone&Path=%2Feng%2F&Tags.member.1.Key=team&Tags.member.1.Value=blue",
    );
    assert_eq!(serial, format!("arn:aws:iam::{ACCOUNT}:mfa/eng/phone"));
    assert!(
        r.body
            .contains("<Tags><member><Key>team</Key><Value>blue</Value></member></Tags>"),
        "{}",
        r.body
    );
    let png_bytes = BASE64
        .decode(r.xml("QRCodePNG").unwrap().as_bytes())
        .unwrap();
    let reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let info = reader.info();
    assert_eq!(info.width, info.height, "a square image");
    assert!(info.width >= 21, "{}", info.width);

    let r = iam(
        &d,
        &root,
        "Action=CreateVirtualMFADevice&VirtualMFADeviceName=PHONE",
    );
    assert_eq!(
        (r.status, r.code()),
        (409, "EntityAlreadyExists"),
        "{}",
        r.body
    );

    // Malformed codes: both are reported, naming the members.
    let r = enable(&d, &root, Some("alice"), &serial, ("12345a", "1234567"));
    assert_eq!((r.status, r.code()), (400, "ValidationError"), "{}", r.body);
    let message = r.xml("Message").unwrap();
    assert!(
        message.starts_with("2 validation errors detected")
            && message.contains("authenticationCode1")
            && message.contains("authenticationCode2"),
        "{message}"
    );

    // Wrong, then reversed codes: 403 InvalidAuthenticationCode.
    let step = current_step();
    let (c1, c2) = (totp(&seed, step - 1), totp(&seed, step));
    for (a, b) in [("000000", "000000"), (c2.as_str(), c1.as_str())] {
        if (a, b) == (c1.as_str(), c2.as_str()) {
            continue;
        }
        let r = enable(&d, &root, Some("alice"), &serial, (a, b));
        assert_eq!(
            (r.status, r.code()),
            (403, "InvalidAuthenticationCode"),
            "{}",
            r.body
        );
    }

    let r = enable(&d, &root, Some("alice"), &serial, (&c1, &c2));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=ListMFADevices&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(&format!(
            "<MFADevices><member><UserName>alice</UserName><SerialNumber>{serial}</SerialNumber><EnableDate>"
        )),
        "{}",
        r.body
    );
    assert_eq!(r.xml("IsTruncated"), Some("false"));
    let r = iam(&d, &root, "Action=DeleteUser&UserName=alice");
    assert_eq!((r.status, r.code()), (409, "DeleteConflict"), "{}", r.body);

    // Deactivated, the device cannot be enabled again with the same codes.
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=DeactivateMFADevice&UserName=alice&SerialNumber={}",
            enc(&serial)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = enable(&d, &root, Some("alice"), &serial, (&c1, &c2));
    assert_eq!(
        (r.status, r.code()),
        (403, "InvalidAuthenticationCode"),
        "{}",
        r.body
    );

    // Root enables a device for itself by leaving out UserName.
    let (root_serial, root_seed, _) = create_device(&d, &root, "VirtualMFADeviceName=root-phone");
    let step = current_step();
    let codes = (totp(&root_seed, step - 1), totp(&root_seed, step));
    let r = enable(&d, &root, None, &root_serial, (&codes.0, &codes.1));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=ListMFADevices");
    assert_eq!(r.xml("UserName"), Some(ACCOUNT), "{}", r.body);
    assert_eq!(r.xml("SerialNumber"), Some(root_serial.as_str()));

    let r = iam(
        &d,
        &root,
        "Action=ListVirtualMFADevices&AssignmentStatus=Assigned",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains(&format!("<Arn>arn:aws:iam::{ACCOUNT}:root</Arn>")),
        "{}",
        r.body
    );
    assert!(!r.body.contains(&serial), "{}", r.body);
    let r = iam(
        &d,
        &root,
        "Action=ListVirtualMFADevices&AssignmentStatus=Unassigned&MaxItems=1",
    );
    assert_eq!(r.xml("SerialNumber"), Some(serial.as_str()), "{}", r.body);
    assert!(!r.body.contains("Base32StringSeed") && !r.body.contains("QRCodePNG"));
    let r = iam(
        &d,
        &root,
        "Action=ListVirtualMFADevices&AssignmentStatus=On",
    );
    assert_eq!((r.status, r.code()), (400, "ValidationError"), "{}", r.body);

    let r = iam(
        &d,
        &root,
        &format!(
            "Action=DeleteVirtualMFADevice&SerialNumber={}",
            enc(&root_serial)
        ),
    );
    assert_eq!((r.status, r.code()), (409, "DeleteConflict"), "{}", r.body);
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=DeactivateMFADevice&SerialNumber={}",
            enc(&root_serial)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=DeleteVirtualMFADevice&SerialNumber={}",
            enc(&root_serial)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let r = iam(
        &d,
        &root,
        &format!("Action=ListMFADeviceTags&SerialNumber={}", enc(&serial)),
    );
    assert_eq!(r.xml("Key"), Some("team"), "{}", r.body);
    let r = iam(
        &d,
        &root,
        "Action=ListMFADeviceTags&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fnone",
    );
    assert_eq!((r.status, r.code()), (404, "NoSuchEntity"), "{}", r.body);

    // The seed never reaches the log.
    let text = BASE32_NOPAD.encode(&seed);
    assert!(!d.stderr().contains(&text) && !d.stdout().contains(&text));
}
