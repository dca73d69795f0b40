use super::*;

const BILLING: &str = "spiffe://example.org/ns/prod/sa/billing";

fn aws() -> Partition {
    Partition::default()
}

fn account() -> AccountId {
    "123456789012".parse().unwrap()
}

fn user(name: &str) -> MappedPrincipal {
    MappedPrincipal::User(account(), name.parse().unwrap())
}

fn table() -> ClientPrincipals {
    ClientPrincipals::new(vec![
        ClientPrincipal {
            san: San::uri(BILLING).unwrap(),
            principal: user("billing"),
        },
        ClientPrincipal {
            san: San::dns("Billing.Internal.").unwrap(),
            principal: user("billing"),
        },
        ClientPrincipal {
            san: San::dns("ops.internal").unwrap(),
            principal: MappedPrincipal::Root(account()),
        },
    ])
    .unwrap()
}

#[test]
fn uri_sans_match_exactly() {
    let t = table();
    assert_eq!(
        t.resolve([BILLING], []),
        ClientMatch::Mapped {
            principal: user("billing"),
            san: San::Uri(BILLING.into()),
        }
    );
    for other in [
        "spiffe://EXAMPLE.org/ns/prod/sa/billing",
        "spiffe://example.org/ns/prod/sa/billing/",
        "spiffe://example.org/ns/prod/sa/bill",
    ] {
        assert_eq!(t.resolve([other], []), ClientMatch::Unmapped, "{other}");
    }
    // A URI never matches a DNS entry, nor a DNS SAN a URI entry.
    assert_eq!(t.resolve(["ops.internal"], []), ClientMatch::Unmapped);
    assert_eq!(t.resolve([], [BILLING]), ClientMatch::Unmapped);
}

#[test]
fn dns_sans_match_ignoring_case_and_a_trailing_dot_never_by_wildcard() {
    let t = table();
    let root = ClientMatch::Mapped {
        principal: MappedPrincipal::Root(account()),
        san: San::Dns("ops.internal".into()),
    };
    assert_eq!(t.resolve([], ["OPS.internal"]), root);
    assert_eq!(t.resolve([], ["ops.internal."]), root);
    assert_eq!(t.resolve([], ["*.internal"]), ClientMatch::Unmapped);
    assert_eq!(t.resolve([], ["x.ops.internal"]), ClientMatch::Unmapped);
    assert_eq!(t.resolve([], []), ClientMatch::Unmapped);
}

#[test]
fn sans_naming_one_principal_match_and_two_principals_are_ambiguous() {
    let t = table();
    // URI and DNS both name billing: the first entry's SAN is reported.
    assert_eq!(
        t.resolve([BILLING], ["billing.internal"]),
        ClientMatch::Mapped {
            principal: user("billing"),
            san: San::Uri(BILLING.into()),
        }
    );
    assert_eq!(
        t.resolve([BILLING], ["ops.internal"]),
        ClientMatch::Ambiguous
    );
}

#[test]
fn entries_are_validated() {
    assert!(San::uri("spiffe://example.org/x").is_ok());
    assert!(San::uri("urn:example:a").is_ok());
    for bad in ["", "no-scheme", "1x://a", "spiffe:", "spiffe://a b", "://a"] {
        assert_eq!(
            San::uri(bad),
            Err(ClientPrincipalError::Uri(bad.into())),
            "{bad}"
        );
    }
    assert_eq!(San::dns("A.b-c.D."), Ok(San::Dns("a.b-c.d".into())));
    for bad in ["", ".", "*.internal", "a..b", "-a.b", "a_b", "a b", "a-.b"] {
        assert_eq!(
            San::dns(bad),
            Err(ClientPrincipalError::Dns(bad.into())),
            "{bad}"
        );
    }
    let dup = ClientPrincipals::new(vec![
        ClientPrincipal {
            san: San::dns("a.b").unwrap(),
            principal: user("x"),
        },
        ClientPrincipal {
            san: San::dns("A.B.").unwrap(),
            principal: user("y"),
        },
    ]);
    assert_eq!(
        dup,
        Err(ClientPrincipalError::Duplicate(San::Dns("a.b".into())))
    );
    assert_eq!(
        ClientPrincipalError::Duplicate(San::Dns("a.b".into())).to_string(),
        "DNS:a.b is mapped more than once"
    );
}

#[test]
fn principals_are_users_or_roots_of_the_partition() {
    let p = aws();
    assert_eq!(
        MappedPrincipal::from_arn("arn:aws:iam::123456789012:user/billing", &p),
        Ok(user("billing"))
    );
    assert_eq!(
        MappedPrincipal::from_arn("arn:aws:iam::123456789012:user/eng/team/billing", &p),
        Ok(user("billing"))
    );
    assert_eq!(
        MappedPrincipal::from_arn("arn:aws:iam::123456789012:root", &p),
        Ok(MappedPrincipal::Root(account()))
    );
    for kind in [
        "arn:aws:iam::123456789012:role/reader",
        "arn:aws:sts::123456789012:assumed-role/reader/s",
        "arn:aws:iam::123456789012:group/g",
        "arn:aws:iam::123456789012:user/",
        "arn:aws:iam:us-east-1:123456789012:user/billing",
        "arn:aws:s3:::bucket",
    ] {
        assert_eq!(
            MappedPrincipal::from_arn(kind, &p),
            Err(ClientPrincipalError::Kind(kind.into())),
            "{kind}"
        );
    }
    assert!(
        MappedPrincipal::from_arn("arn:aws:iam::123456789012:role/r", &p)
            .unwrap_err()
            .to_string()
            .contains("roles cannot be mapped")
    );
    assert_eq!(
        MappedPrincipal::from_arn("billing", &p),
        Err(ClientPrincipalError::Arn("billing".into()))
    );
    assert!(matches!(
        MappedPrincipal::from_arn("arn:aws-cn:iam::123456789012:root", &p),
        Err(ClientPrincipalError::Partition { .. })
    ));
}
