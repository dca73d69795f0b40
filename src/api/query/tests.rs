use super::*;
use crate::domain::ids::{RoleName, TagKey};

fn params(body: &str) -> Params {
    Params::decode(b"", body.as_bytes(), &Limits::default()).unwrap()
}

fn err(query: &[u8], body: &[u8]) -> ServiceError {
    Params::decode(query, body, &Limits::default()).unwrap_err()
}

#[test]
fn body_is_merged_over_the_query() {
    let p = Params::decode(
        b"Action=GetCallerIdentity&Version=2011-06-15&X=q",
        b"Action=AssumeRole&Y=b",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(p.action().unwrap(), "AssumeRole");
    assert_eq!(p.version(), Some("2011-06-15"));
    let r = p.root();
    assert_eq!((r.optional("X"), r.optional("Y")), (Some("q"), Some("b")));
    assert_eq!(p.len(), 4);
}

#[test]
fn percent_and_plus_decoding() {
    let p = params("RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&Name=a+b%2Bc&Empty=&Bare&&");
    let r = p.root();
    assert_eq!(r.optional("RoleArn"), Some("arn:aws:iam::1:role/x"));
    assert_eq!(r.optional("Name"), Some("a b+c"));
    assert_eq!(r.optional("Empty"), Some(""));
    assert_eq!(r.optional("Bare"), Some(""));
    assert_eq!(params("V=%C3%A9").root().optional("V"), Some("é"));
    // Escapes back to back, at the ends, and between plain runs.
    assert_eq!(
        params("V=%41%42C+%2B+").root().optional("V"),
        Some("ABC + ")
    );
    assert_eq!(params("V=++x%7e").root().optional("V"), Some("  x~"));
}

#[test]
fn malformed_encoding_is_refused_cleanly() {
    for (body, needle) in [
        (&b"Action=%zz"[..], "'Action'"),
        (b"Action=%4", "'Action'"),
        (b"Action=abc%", "'Action'"),
        (b"Action=a%g1", "'Action'"),
        (b"RoleName=%FF%FE", "'RoleName'"),
        (b"RoleName=\xff", "'RoleName'"),
        (b"%C3=1", "name"),
    ] {
        let e = err(b"", body);
        assert_eq!(e.code(), ErrorCode::InvalidParameterValue, "{body:?}");
        assert!(e.message().contains(needle), "{}", e.message());
    }
    assert_eq!(err(b"=1", b"").code(), ErrorCode::InvalidParameterValue);
}

#[test]
fn duplicates_and_limits_are_validation_errors() {
    let e = err(b"", b"A=1&A=2");
    assert_eq!(e.code(), ErrorCode::ValidationError);
    assert!(e.message().contains("'A' appears more than once"));

    let limits = Limits {
        max_params: 2,
        max_name_len: 8,
        max_value_len: 4,
    };
    let e = Params::decode(b"", b"RoleName=abcde", &limits).unwrap_err();
    assert_eq!(
        e.message(),
        "1 validation error detected: Value 'abcde' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 4"
    );
    let e = Params::decode(b"", b"VeryLongName=a", &limits).unwrap_err();
    assert!(
        e.message().contains("longer than 8 bytes"),
        "{}",
        e.message()
    );
    let e = Params::decode(b"C=3", b"A=1&B=2", &limits).unwrap_err();
    assert!(
        e.message().contains("more than 2 parameters"),
        "{}",
        e.message()
    );
}

#[test]
fn action_and_version() {
    assert_eq!(
        params("Version=1").action().unwrap_err().code(),
        ErrorCode::MissingAction
    );
    assert_eq!(
        params("Action=").action().unwrap_err().code(),
        ErrorCode::MissingAction
    );
    assert_eq!(params("Action=X&Version=").version(), None);
}

#[test]
fn required_members_use_aws_null_message() {
    let e = params("").root().required("RoleName").unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationError);
    assert_eq!(
        e.message(),
        "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn typed_accessors() {
    let p = params(
        "RoleName=a%20b&Good=ok-name&Duration=900&Big=99999&NaN=x&Flag=TRUE&Bad=yes&Long=abcdef",
    );
    let r = p.root();
    let e = r.parse_required::<RoleName>("RoleName").unwrap_err();
    assert!(e.message().contains("at 'roleName'"), "{}", e.message());
    assert_eq!(
        r.parse::<RoleName>("Good").unwrap().unwrap().as_str(),
        "ok-name"
    );
    assert!(r.parse::<RoleName>("Absent").unwrap().is_none());
    assert_eq!(r.integer("Duration", 900, 43200).unwrap(), Some(900));
    let e = r.integer("Big", 900, 43200).unwrap_err();
    assert!(
        e.message()
            .ends_with("Member must have value less than or equal to 43200"),
        "{}",
        e.message()
    );
    assert!(
        r.integer("NaN", 0, 1)
            .unwrap_err()
            .message()
            .contains("'naN'")
    );
    assert_eq!(r.boolean("Flag").unwrap(), Some(true));
    assert_eq!(
        r.boolean("Bad").unwrap_err().code(),
        ErrorCode::ValidationError
    );
    assert_eq!(r.string("Long", 1, 6).unwrap(), Some("abcdef"));
    let e = r.string("Long", 1, 5).unwrap_err();
    assert!(e.message().contains("at 'long'") && e.message().ends_with("less than or equal to 5"));
    assert!(
        r.string("Good", 10, 20)
            .unwrap_err()
            .message()
            .ends_with("greater than or equal to 10")
    );
}

#[test]
fn lists_of_scalars() {
    let p = params("K.member.2=b&K.member.1=a&K.member.10=j&E=&F.member.1=x");
    let r = p.root();
    let e = r.list("K").unwrap_err();
    assert!(
        e.message().contains("k.member.3 is missing")
            || e.message().contains("K.member.3 is missing"),
        "{}",
        e.message()
    );
    assert_eq!(r.list("F").unwrap(), ["x"]);
    assert!(r.list("E").unwrap().is_empty());
    assert!(r.list("Absent").unwrap().is_empty());
    // Absent beside parameters that share its name as a prefix or sort
    // right after it.
    let p = params("KA=1&K0=2&J.member.1=x&L=3");
    for name in ["K", "J.m", "KB", "Z", ""] {
        assert!(p.root().list(name).unwrap().is_empty(), "{name}");
        assert!(p.root().struct_list(name).unwrap().is_empty(), "{name}");
    }
    let e = params("K=x&KA=1").root().list("K").unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationError);

    let p = params(
        &(1..=11)
            .map(|i| format!("K.member.{i}=v{i}"))
            .collect::<Vec<_>>()
            .join("&"),
    );
    let items = p.root().list("K").unwrap();
    assert_eq!(items.len(), 11);
    assert_eq!((items[0], items[9], items[10]), ("v1", "v10", "v11"));
}

#[test]
fn malformed_list_indexes() {
    for body in [
        "K.member.0=a",
        "K.member.01=a",
        "K.member.x=a",
        "K.member.-1=a",
        "K.other=a",
        "K=notempty",
    ] {
        let e = params(body).root().list("K").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationError, "{body}");
        assert!(e.message().contains("at 'k"), "{body}: {}", e.message());
    }
    // A scalar and a structure at the same index.
    let e = params("K.member.1=a&K.member.1.Key=b")
        .root()
        .list("K")
        .unwrap_err();
    assert!(e.message().contains("k.member.1"), "{}", e.message());
}

#[test]
fn lists_of_structures_and_nesting() {
    let p = params(
        "Tags.member.1.Key=Project&Tags.member.1.Value=Apollo&Tags.member.2.Key=Team&Tags.member.2.Value=&\
         PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess&\
         Ctx.member.1.Values.member.1=a&Ctx.member.1.Values.member.2=b&\
         TaskPolicyArn.arn=arn%3Ax",
    );
    let r = p.root();
    let tags = r.struct_list("Tags").unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(
        tags[0].parse_required::<TagKey>("Key").unwrap().as_str(),
        "Project"
    );
    assert_eq!(tags[1].required("Value").unwrap(), "");
    let e = tags[1].required("Missing").unwrap_err();
    assert!(
        e.message().contains("at 'tags.member.2.missing'"),
        "{}",
        e.message()
    );
    assert_eq!(
        r.struct_list("PolicyArns").unwrap()[0].optional("arn"),
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
    );
    let ctx = r.struct_list("Ctx").unwrap();
    assert_eq!(ctx[0].list("Values").unwrap(), ["a", "b"]);
    assert_eq!(
        r.structure("TaskPolicyArn")
            .unwrap()
            .required("arn")
            .unwrap(),
        "arn:x"
    );
    assert!(r.structure("Absent").is_none());
    assert!(
        params("Tags=")
            .root()
            .struct_list("Tags")
            .unwrap()
            .is_empty()
    );

    let e = params("Tags.member.1=x")
        .root()
        .struct_list("Tags")
        .unwrap_err();
    assert!(
        e.message().contains("Member must be a structure"),
        "{}",
        e.message()
    );
    let e = params("Tags.member.1.Key=a&Tags.member.3.Key=b")
        .root()
        .struct_list("Tags")
        .unwrap_err();
    assert!(
        e.message().contains("Tags.member.2 is missing"),
        "{}",
        e.message()
    );
}

#[test]
fn member_names_are_lower_camel_per_segment() {
    assert_eq!(member_name("Tags.member.1.Key"), "tags.member.1.key");
    assert_eq!(member_name("RoleName"), "roleName");
    assert_eq!(member_name("TaskPolicyArn.arn"), "taskPolicyArn.arn");
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(500);
    let p = params(&format!("RoleName={long}"));
    let e = p.root().string("RoleName", 1, 64).unwrap_err();
    assert!(e.message().len() < 300, "{}", e.message());
    assert!(e.message().contains("..."));
}
