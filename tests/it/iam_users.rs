//! IAM users and access keys over the wire: real `stsd serve`, requests
//! hand-signed with `domain::sigv4::sign_request`.

use crate::client::{credentials_file, iam, root};
use crate::daemon::{Daemon, Options};

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

#[test]
fn users_and_access_keys_over_the_wire() {
    let d = Daemon::start();
    let root = root(&d);

    let r = iam(
        &d,
        &root,
        "Action=CreateUser&UserName=alice&Path=%2Feng%2F&Tags.member.1.Key=team&Tags.member.1.Value=blue",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.starts_with(&format!(
            "<CreateUserResponse xmlns=\"{IAM_NS}\"><CreateUserResult><User><Path>/eng/</Path><UserName>alice</UserName><UserId>AIDA"
        )),
        "{}",
        r.body
    );
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:iam::123456789012:user/eng/alice")
    );
    let r = iam(&d, &root, "Action=CreateUser&UserName=Alice");
    assert_eq!(
        (r.status, r.code()),
        (409, "EntityAlreadyExists"),
        "{}",
        r.body
    );

    let r = iam(&d, &root, "Action=CreateAccessKey&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = (
        r.xml("AccessKeyId").unwrap().to_owned(),
        r.xml("SecretAccessKey").unwrap().parse().unwrap(),
    );
    assert_eq!(r.xml("Status"), Some("Active"));

    // Alice has no policy: even GetUser on herself is denied, as in AWS.
    let r = iam(&d, &alice, "Action=CreateUser&UserName=bob");
    assert_eq!((r.status, r.code()), (403, "AccessDenied"), "{}", r.body);
    // AWS's text, then the sealed record of the decision.
    let message = r.xml("Message").unwrap();
    assert!(
        message.starts_with(
            "User: arn:aws:iam::123456789012:user/eng/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/bob because no identity-based policy allows the iam:CreateUser action Encoded authorization failure message: "
        ),
        "{message}"
    );

    let r = iam(&d, &root, "Action=ListAccessKeys&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("<AccessKeyMetadata><member><UserName>alice</UserName>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("SecretAccessKey"), "{}", r.body);

    let r = iam(&d, &root, "Action=ListUsers&MaxItems=10");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<Users><member><Path>/eng/</Path>"),
        "{}",
        r.body
    );
    assert_eq!(r.xml("IsTruncated"), Some("false"));

    let r = iam(&d, &root, "Action=DeleteUser&UserName=alice");
    assert_eq!((r.status, r.code()), (409, "DeleteConflict"), "{}", r.body);

    let r = iam(&d, &root, "Action=CreateGroup&GroupName=devs");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("<Group><Path>/</Path><GroupName>devs</GroupName><GroupId>AGPA"),
        "{}",
        r.body
    );
    let r = iam(
        &d,
        &root,
        "Action=AddUserToGroup&GroupName=devs&UserName=alice",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=GetGroup&GroupName=devs");
    assert!(
        r.body
            .contains("<Users><member><Path>/eng/</Path><UserName>alice</UserName>"),
        "{}",
        r.body
    );
    let r = iam(&d, &root, "Action=ListGroupsForUser&UserName=alice");
    assert!(
        r.body
            .contains("<Groups><member><Path>/</Path><GroupName>devs</GroupName>"),
        "{}",
        r.body
    );
    let r = iam(&d, &root, "Action=DeleteGroup&GroupName=devs");
    assert_eq!((r.status, r.code()), (409, "DeleteConflict"), "{}", r.body);
    let r = iam(
        &d,
        &root,
        "Action=RemoveUserFromGroup&GroupName=devs&UserName=alice",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=DeleteGroup&GroupName=devs");
    assert_eq!(r.status, 200, "{}", r.body);

    let r = iam(
        &d,
        &root,
        &format!(
            "Action=UpdateAccessKey&UserName=alice&AccessKeyId={}&Status=Inactive",
            alice.0
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &alice, "Action=GetUser");
    assert_eq!(
        (r.status, r.code()),
        (403, "InvalidClientTokenId"),
        "{}",
        r.body
    );

    let r = iam(
        &d,
        &root,
        &format!(
            "Action=DeleteAccessKey&UserName=alice&AccessKeyId={}",
            alice.0
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=DeleteUser&UserName=alice");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = iam(&d, &root, "Action=GetUser&UserName=alice");
    assert_eq!((r.status, r.code()), (404, "NoSuchEntity"), "{}", r.body);

    let logs = d.stderr();
    assert!(!logs.contains(alice.1.expose_secret()), "{logs}");
}

#[test]
fn each_additional_account_has_its_own_root_and_entities() {
    let d = Daemon::start_with(Options {
        extra_toml: "[accounts]\nadditional = [\"111122223333\"]\n".into(),
        ..Options::default()
    });
    let other = credentials_file(&d.data_dir(), "root-credentials-111122223333");
    assert!(
        d.stdout().contains("root-credentials-111122223333"),
        "{}",
        d.stdout()
    );
    let r = iam(&d, &other, "Action=CreateUser&UserName=carol");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.xml("Arn"), Some("arn:aws:iam::111122223333:user/carol"));
    // The default account does not see it, and can make its own carol.
    let default = root(&d);
    let r = iam(&d, &default, "Action=GetUser&UserName=carol");
    assert_eq!((r.status, r.code()), (404, "NoSuchEntity"), "{}", r.body);
    let r = iam(&d, &default, "Action=CreateUser&UserName=carol");
    assert_eq!(r.xml("Arn"), Some("arn:aws:iam::123456789012:user/carol"));
    let r = iam(&d, &other, "Action=GetUser");
    assert_eq!(r.xml("Arn"), Some("arn:aws:iam::111122223333:root"));
}
