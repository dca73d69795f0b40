use serde_json::json;

use super::*;
use crate::api::xml::XmlResponse;

#[test]
fn results_become_lower_camel_json() {
    let mut r = XmlResponse::new();
    r.structure("Credentials", |c| {
        c.string("AccessKeyId", "ASIA")
            .string("SecretAccessKey", "s")
            .timestamp("Expiration", 0);
    })
    .list("Users", |l| {
        l.structure(|u| {
            u.string("UserName", "a");
        });
        l.structure(|u| {
            u.string("UserName", "b");
        });
    })
    .int("PackedPolicySize", 3)
    .map("Attributes", |m| {
        m.string("K", "v");
    });
    assert_eq!(
        result_value(&r),
        json!({
            "credentials": {"accessKeyId": "ASIA", "secretAccessKey": "s", "expiration": "1970-01-01T00:00:00Z"},
            "users": [{"userName": "a"}, {"userName": "b"}],
            "packedPolicySize": 3,
            "attributes": {"K": "v"},
        })
    );
}

#[test]
fn unsigned_exchanges_name_their_federated_caller() {
    let mut d = Draft::new(
        Service::Sts,
        "AssumeRoleWithWebIdentity",
        [
            ("RoleArn", "arn:aws:iam::123456789012:role/ci"),
            ("WebIdentityToken", "eyJ.secret.jwt"),
        ],
    );
    d.result = Some(json!({
        "credentials": {"accessKeyId": "ASIA", "sessionToken": "t"},
        "provider": "token.actions.example.com",
        "audience": "sts",
        "subjectFromWebIdentityToken": "repo:x",
    }));
    let e = d.into_event("req");
    assert_eq!(e.identity.kind, IdentityType::WebIdentityUser);
    assert_eq!(
        e.identity.principal_id.as_deref(),
        Some("token.actions.example.com:sts:repo:x")
    );
    assert_eq!(e.account.as_deref(), Some("123456789012"));
    let text = serde_json::to_string(&(e.request_parameters, e.response_elements)).unwrap();
    assert!(
        !text.contains("eyJ.secret.jwt") && !text.contains("\"t\""),
        "{text}"
    );
    assert!(text.contains(redact::HIDDEN));
}

#[test]
fn console_logins_have_cloudtrails_shape() {
    let partition: Partition = "aws".parse().unwrap();
    let origin = Origin {
        request_id: "r",
        source_ip: None,
        user_agent: Some("Mozilla"),
        partition: &partition,
    };
    let e = console_login(
        origin,
        UserIdentity::unknown(),
        Err("Failed authentication"),
        false,
        "https://stsd/",
    );
    assert_eq!(e.kind, EventType::ConsoleSignIn);
    assert_eq!(
        e.response_elements,
        Some(json!({"ConsoleLogin": "Failure"}))
    );
    assert_eq!(e.additional["MFAUsed"], "No");
    assert_eq!(e.error.unwrap().1, "Failed authentication");
}
