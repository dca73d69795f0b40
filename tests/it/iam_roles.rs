//! IAM roles, inline and managed policies over the wire: real `stsd
//! serve`, requests hand-signed with `domain::sigv4::sign_request`.

use crate::client::{enc, iam, root};
use crate::daemon::Daemon;

fn trust(principal: &str) -> String {
    enc(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}}}"#
    ))
}

const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;

#[test]
fn roles_and_policies_over_the_wire() {
    let d = Daemon::start();
    let root = root(&d);

    let r = iam(&d, &root, "Action=CreateUser&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let alice_id = r.xml("UserId").unwrap().to_owned();
    let alice_arn = "arn:aws:iam::123456789012:user/alice";

    let r = iam(
        &d,
        &root,
        &format!(
            "Action=CreateRole&RoleName=Deploy&Path=%2Fci%2F&MaxSessionDuration=7200&Description=d&AssumeRolePolicyDocument={}",
            trust(alice_arn)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateRoleResult><Role><Path>/ci/</Path><RoleName>Deploy</RoleName><RoleId>AROA"), "{}", r.body);
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:iam::123456789012:role/ci/Deploy")
    );
    assert_eq!(r.xml("MaxSessionDuration"), Some("7200"));
    // The trust policy comes back URL-encoded, naming the user by ARN.
    assert!(
        r.xml("AssumeRolePolicyDocument")
            .unwrap()
            .contains(&enc(alice_arn)),
        "{}",
        r.body
    );

    let r = iam(
        &d,
        &root,
        &format!(
            "Action=CreateRole&RoleName=Bad&AssumeRolePolicyDocument={}",
            trust("arn:aws:iam::123456789012:user/nobody")
        ),
    );
    assert_eq!(
        (r.status, r.code()),
        (400, "MalformedPolicyDocument"),
        "{}",
        r.body
    );
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=CreateRole&RoleName=Bad&MaxSessionDuration=100&AssumeRolePolicyDocument={}",
            trust("*")
        ),
    );
    assert_eq!((r.status, r.code()), (400, "ValidationError"), "{}", r.body);

    // Deleting the user leaves its raw ID in the trust policy.
    let r = iam(&d, &root, "Action=DeleteUser&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=GetRole&RoleName=Deploy");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.xml("AssumeRolePolicyDocument")
            .unwrap()
            .contains(&alice_id),
        "{}",
        r.body
    );

    // Inline policies.
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=PutRolePolicy&RoleName=Deploy&PolicyName=p1&PolicyDocument={}",
            enc(DOC)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(
        &d,
        &root,
        "Action=GetRolePolicy&RoleName=Deploy&PolicyName=p1",
    );
    assert_eq!(
        r.xml("PolicyDocument"),
        Some(enc(DOC).as_str()),
        "{}",
        r.body
    );
    let r = iam(&d, &root, "Action=ListRolePolicies&RoleName=Deploy");
    assert!(
        r.body.contains(
            "<PolicyNames><member>p1</member></PolicyNames><IsTruncated>false</IsTruncated>"
        ),
        "{}",
        r.body
    );
    let r = iam(&d, &root, "Action=DeleteRole&RoleName=Deploy");
    assert_eq!((r.status, r.code()), (409, "DeleteConflict"), "{}", r.body);

    // Managed policies, versions, attachments.
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=CreatePolicy&PolicyName=P&PolicyDocument={}",
            enc(DOC)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let arn = r.xml("Arn").unwrap().to_owned();
    assert_eq!(arn, "arn:aws:iam::123456789012:policy/P");
    assert!(r.xml("PolicyId").unwrap().starts_with("ANPA"));
    for _ in 0..4 {
        let r = iam(
            &d,
            &root,
            &format!(
                "Action=CreatePolicyVersion&PolicyArn={}&SetAsDefault=true&PolicyDocument={}",
                enc(&arn),
                enc(DOC)
            ),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=CreatePolicyVersion&PolicyArn={}&PolicyDocument={}",
            enc(&arn),
            enc(DOC)
        ),
    );
    assert_eq!((r.status, r.code()), (409, "LimitExceeded"), "{}", r.body);
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=GetPolicyVersion&PolicyArn={}&VersionId=v5",
            enc(&arn)
        ),
    );
    assert_eq!(r.xml("IsDefaultVersion"), Some("true"), "{}", r.body);
    assert_eq!(r.xml("Document"), Some(enc(DOC).as_str()));
    let r = iam(
        &d,
        &root,
        &format!(
            "Action=AttachRolePolicy&RoleName=Deploy&PolicyArn={}",
            enc(&arn)
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=ListAttachedRolePolicies&RoleName=Deploy");
    assert!(r.body.contains("<AttachedPolicies><member><PolicyName>P</PolicyName><PolicyArn>arn:aws:iam::123456789012:policy/P</PolicyArn></member></AttachedPolicies>"), "{}", r.body);
    let r = iam(
        &d,
        &root,
        &format!("Action=ListEntitiesForPolicy&PolicyArn={}", enc(&arn)),
    );
    assert!(
        r.body
            .contains("<PolicyRoles><member><RoleName>Deploy</RoleName><RoleId>AROA"),
        "{}",
        r.body
    );
    let r = iam(
        &d,
        &root,
        &format!("Action=DeletePolicy&PolicyArn={}", enc(&arn)),
    );
    assert_eq!((r.status, r.code()), (409, "DeleteConflict"), "{}", r.body);
    let r = iam(
        &d,
        &root,
        "Action=ListPolicies&Scope=Local&OnlyAttached=true",
    );
    assert_eq!(r.xml("AttachmentCount"), Some("1"), "{}", r.body);

    let r = iam(&d, &root, "Action=ListRoles&PathPrefix=%2Fci%2F");
    assert!(
        r.body
            .contains("<Roles><member><Path>/ci/</Path><RoleName>Deploy</RoleName>"),
        "{}",
        r.body
    );
}
