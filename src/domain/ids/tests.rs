//! Property tests across the identifier types: valid values round-trip
//! through `Display`/`FromStr`/`TryFrom<String>`/serde, minted IDs decode to
//! their account, principal ARNs classify back to their parts, and no input
//! makes a parser panic.

use proptest::prelude::*;

use super::*;

/// Round-trip properties for each `type = strategy of valid text`.
macro_rules! round_trips {
    ($($test:ident: $ty:ty = $strategy:expr;)*) => {
        proptest! {
            $(
                #[test]
                fn $test(text in $strategy) {
                    let parsed: $ty = text.parse().unwrap();
                    prop_assert_eq!(parsed.to_string(), text.clone());
                    prop_assert_eq!(parsed.as_ref(), text.as_str());
                    prop_assert_eq!(&parsed.to_string().parse::<$ty>().unwrap(), &parsed);
                    prop_assert_eq!(&<$ty>::try_from(text.clone()).unwrap(), &parsed);
                    let json = serde_json::to_string(&parsed).unwrap();
                    prop_assert_eq!(json.clone(), serde_json::to_string(&text).unwrap());
                    prop_assert_eq!(&serde_json::from_str::<$ty>(&json).unwrap(), &parsed);
                }
            )*
        }
    };
}

const NAME: &str = "[A-Za-z0-9_+=,.@-]";
const TAG: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]";

fn class(class: &str, min: usize, max: usize) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!("{class}{{{min},{max}}}"))
        .unwrap()
        .boxed()
}

fn iam_path() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[!-~]{1,200}/"]
}

fn arn_text() -> impl Strategy<Value = String> {
    (
        "[a-z0-9-]{1,12}",
        "[a-z0-9-]{1,12}",
        "([a-z0-9-]{1,12})?",
        "(aws|[0-9]{12})?",
        "[\t -~\u{a0}-\u{2fff}]{1,120}",
    )
        .prop_map(|(p, s, r, a, res)| format!("arn:{p}:{s}:{r}:{a}:{res}"))
}

round_trips! {
    account_id: AccountId = "[0-9]{12}";
    partition: Partition = "[a-z0-9-]{1,64}";
    region: Region = "[a-z0-9-]{1,64}";
    arn: Arn = arn_text();
    user_name: UserName = class(NAME, 1, 64);
    group_name: GroupName = class(NAME, 1, 128);
    role_name: RoleName = class(NAME, 1, 64);
    policy_name: PolicyName = class(NAME, 1, 128);
    mfa_device_name: MfaDeviceName = class(NAME, 1, 226);
    path: IamPath = iam_path();
    role_session_name: RoleSessionName = class(NAME, 2, 64);
    source_identity: SourceIdentity = class(NAME, 2, 64);
    external_id: ExternalId = class("[A-Za-z0-9_+=,.@:/-]", 2, 1224);
    federated_user_name: FederatedUserName = class(NAME, 2, 32);
    serial_number: SerialNumber = class("[A-Za-z0-9_+=/:,.@-]", 9, 256);
    tag_key: TagKey = class(TAG, 1, 128);
    tag_value: TagValue = class(TAG, 0, 256);
    saml_provider_name: SamlProviderName = class("[A-Za-z0-9_.-]", 1, 128);
    oidc_provider_url: OidcProviderUrl = "https://[a-z0-9.-]{1,60}(:[0-9]{1,5})?(/[A-Za-z0-9/._~-]{0,60})?";
    access_key_id: AccessKeyId = class("[A-Za-z0-9_]", 16, 128);
    unique_id: UniqueId = class("[A-Za-z0-9_]", 16, 128);
}

fn account() -> impl Strategy<Value = AccountId> {
    (0_u64..1_000_000_000_000).prop_map(|n| AccountId::from_u64(n).unwrap())
}

fn prefix() -> impl Strategy<Value = UniqueIdPrefix> {
    proptest::sample::select(UniqueIdPrefix::ALL.to_vec())
}

fn parsed<T: std::str::FromStr + std::fmt::Debug>(
    s: impl Strategy<Value = String>,
) -> impl Strategy<Value = T>
where
    T::Err: std::fmt::Debug,
{
    s.prop_map(|t| t.parse::<T>().unwrap())
}

proptest! {
    #[test]
    fn minted_ids_decode_to_their_account(
        prefix in prefix(),
        account in account(),
        seed in any::<[u8; 5]>(),
    ) {
        let mut rng = |buf: &mut [u8]| buf.copy_from_slice(&seed);
        let key = AccessKeyId::generate(prefix, account, &mut rng);
        prop_assert_eq!(key.as_str().len(), 20);
        prop_assert_eq!(key.prefix(), Some(prefix));
        prop_assert_eq!(key.account(), Some(account));
        prop_assert_eq!(&key.to_string().parse::<AccessKeyId>().unwrap(), &key);
        let id = UniqueId::generate(prefix, account, &mut rng);
        prop_assert_eq!(id.as_str(), key.as_str());
        prop_assert_eq!(id.account(), Some(account));
    }

    #[test]
    fn principal_arns_classify_back(
        account in account(),
        partition in parsed::<Partition>("[a-z0-9-]{1,12}".prop_map(String::from)),
        path in parsed::<IamPath>(prop_oneof![Just("/".to_owned()), "/[A-Za-z0-9/_-]{1,40}/"]),
        user in parsed::<UserName>(class(NAME, 1, 64)),
        role in parsed::<RoleName>(class(NAME, 1, 64)),
        session in parsed::<RoleSessionName>(class(NAME, 2, 64)),
        federated in parsed::<FederatedUserName>(class(NAME, 2, 32)),
    ) {
        let p = &partition;
        prop_assert_eq!(Arn::iam_root(p, account).principal_kind(), PrincipalKind::Root);
        prop_assert_eq!(
            Arn::iam_user(p, account, &path, &user).principal_kind(),
            PrincipalKind::User { path: path.clone(), name: user }
        );
        let role_arn = Arn::iam_role(p, account, &path, &role);
        prop_assert_eq!(role_arn.account_id(), Some(account));
        prop_assert_eq!(&role_arn.to_string().parse::<Arn>().unwrap(), &role_arn);
        prop_assert_eq!(
            role_arn.principal_kind(),
            PrincipalKind::Role { path, name: role.clone() }
        );
        prop_assert_eq!(
            Arn::sts_assumed_role(p, account, &role, &session).principal_kind(),
            PrincipalKind::AssumedRole { role_name: role, session }
        );
        prop_assert_eq!(
            Arn::sts_federated_user(p, account, &federated).principal_kind(),
            PrincipalKind::FederatedUser { name: federated }
        );
    }

    #[test]
    fn tag_keys_ignore_ascii_case(key in class("[A-Za-z0-9 _.:/=+@-]", 1, 128)) {
        let lower: TagKey = key.to_ascii_lowercase().parse().unwrap();
        let upper: TagKey = key.to_ascii_uppercase().parse().unwrap();
        prop_assert_eq!(&lower, &upper);
        prop_assert_eq!(lower.cmp(&upper), std::cmp::Ordering::Equal);
        prop_assert_eq!(upper.as_str(), key.to_ascii_uppercase());
    }

    #[test]
    fn parsers_never_panic(text in prop_oneof![
        any::<String>(),
        arn_text(),
        "arn:[a-z:]{0,8}:.{0,30}",
        "[A-Z2-7]{16,24}",
    ]) {
        check_all(&text);
    }
}

/// Runs every parser and accessor over `text`; panicking is the failure.
fn check_all(text: &str) {
    let _ = text.parse::<AccountId>();
    let _ = text.parse::<Partition>();
    let _ = text.parse::<Region>();
    if let Ok(arn) = text.parse::<Arn>() {
        let _ = (
            arn.partition(),
            arn.service(),
            arn.region(),
            arn.resource(),
            arn.account_id(),
        );
        let _ = arn.principal_kind();
    }
    let _ = Arn::from_param(text).map_err(|e| e.aws_message());
    let _ = text.parse::<UserName>().map_err(|e| e.to_string());
    let _ = text.parse::<GroupName>();
    let _ = text.parse::<RoleName>();
    let _ = text.parse::<PolicyName>();
    let _ = text.parse::<MfaDeviceName>();
    let _ = text.parse::<IamPath>();
    let _ = text.parse::<RoleSessionName>();
    let _ = text.parse::<SourceIdentity>();
    let _ = text.parse::<ExternalId>();
    let _ = text.parse::<FederatedUserName>();
    let _ = text.parse::<SerialNumber>();
    if let Ok(key) = text.parse::<TagKey>() {
        let _ = key.is_reserved();
    }
    let _ = text.parse::<TagValue>();
    let _ = text.parse::<SamlProviderName>();
    if let Ok(url) = text.parse::<OidcProviderUrl>() {
        let _ = url.host_and_path();
    }
    let _ = text.parse::<UniqueIdPrefix>();
    let _ = UniqueIdPrefix::of(text);
    let four = format!("ASIA{text}");
    for candidate in [text, four.as_str()] {
        if let Ok(key) = candidate.parse::<AccessKeyId>() {
            let _ = (key.account(), key.prefix(), key.is_temporary());
        }
        if let Ok(id) = candidate.parse::<UniqueId>() {
            let _ = (id.account(), id.prefix());
        }
    }
}
