use super::*;

const STS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

#[test]
fn escaping_covers_markup_quotes_and_forbidden_characters() {
    let mut out = String::new();
    escape_into(&mut out, "a&b<c>d\"e'f\r\ng\u{0}h\u{1b}\u{FFFF}é");
    assert_eq!(
        out,
        "a&amp;b&lt;c&gt;d&quot;e&apos;f&#xD;\ng\u{FFFD}h\u{FFFD}\u{FFFD}é"
    );
}

#[test]
fn success_envelope_has_result_and_request_id() {
    let mut r = XmlResponse::new();
    r.string("UserId", "AIDA<x>")
        .string("Account", "111122223333");
    let xml = render_success("GetCallerIdentity", STS, &r, "req-1");
    assert_eq!(
        xml,
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <GetCallerIdentityResult><UserId>AIDA&lt;x&gt;</UserId><Account>111122223333</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>\n"
    );
    let xml = render_success("DeleteUser", "ns", &XmlResponse::no_result(), "r");
    assert_eq!(
        xml,
        "<DeleteUserResponse xmlns=\"ns\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>\n"
    );
}

fn nested() -> XmlResponse {
    let mut r = XmlResponse::new();
    r.structure("Credentials", |c| {
        c.string("AccessKeyId", "ASIA")
            .timestamp("Expiration", 1_740_824_100);
    })
    .list("Tags", |l| {
        l.structure(|t| {
            t.string("Key", "Project").string("Value", "Apollo");
        });
        l.structure(|t| {
            t.string("Key", "Team");
        });
    })
    .list("Keys", |l| {
        l.string("a").string("b");
    })
    .list("Empty", |_| {})
    .map("SummaryMap", |m| {
        m.int("Users", 3).int("Roles", 0);
    })
    .int("PackedPolicySize", 4)
    .bool("IsTruncated", false)
    .opt_string("Marker", None::<String>);
    r
}

#[test]
fn nested_structures_lists_and_maps() {
    let xml = render_success("X", "ns", &nested(), "r");
    assert!(xml.contains(
        "<XResult><Credentials><AccessKeyId>ASIA</AccessKeyId><Expiration>2025-03-01T10:15:00Z</Expiration></Credentials>\
         <Tags><member><Key>Project</Key><Value>Apollo</Value></member><member><Key>Team</Key></member></Tags>\
         <Keys><member>a</member><member>b</member></Keys><Empty></Empty>\
         <SummaryMap><entry><key>Users</key><value>3</value></entry><entry><key>Roles</key><value>0</value></entry></SummaryMap>\
         <PackedPolicySize>4</PackedPolicySize><IsTruncated>false</IsTruncated></XResult>"
    ), "{xml}");
    assert!(!xml.contains("Marker"));
}

#[test]
fn json_variant_mirrors_the_envelope() {
    let json = render_success_json("X", &nested(), "r\"1");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let result = &v["XResponse"]["XResult"];
    assert_eq!(result["Credentials"]["Expiration"], 1_740_824_100);
    assert_eq!(result["Tags"][0]["Value"], "Apollo");
    assert_eq!(result["Tags"][1]["Key"], "Team");
    assert_eq!(result["Keys"], serde_json::json!(["a", "b"]));
    assert_eq!(result["Empty"], serde_json::json!([]));
    assert_eq!(result["SummaryMap"]["Users"], 3);
    assert_eq!(result["IsTruncated"], false);
    assert_eq!(v["XResponse"]["ResponseMetadata"]["RequestId"], "r\"1");

    let json = render_success_json("D", &XmlResponse::no_result(), "r");
    assert_eq!(
        json,
        "{\"DResponse\":{\"ResponseMetadata\":{\"RequestId\":\"r\"}}}\n"
    );

    let mut r = XmlResponse::new();
    r.string("Account", "1").string("Arn", "a\u{1}\n");
    let v: serde_json::Value = serde_json::from_str(&render_success_json("G", &r, "r")).unwrap();
    assert_eq!(v["GResponse"]["GResult"]["Arn"], "a\u{1}\n");
}

#[test]
fn error_envelopes() {
    let xml = render_error(STS, "Sender", "InvalidAction", "Could not find <op>", "id");
    assert_eq!(
        xml,
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>InvalidAction</Code><Message>Could not find &lt;op&gt;</Message></Error>\
         <RequestId>id</RequestId></ErrorResponse>\n"
    );
    let json = render_error_json("Sender", "ValidationError", "bad \"x\"", "id");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["Error"]["Code"], "ValidationError");
    assert_eq!(v["Error"]["Message"], "bad \"x\"");
    assert_eq!(v["Error"]["Type"], "Sender");
    assert_eq!(v["RequestId"], "id");
}

#[test]
fn timestamps() {
    assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_timestamp(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(format_timestamp(1_740_824_100), "2025-03-01T10:15:00Z");
    assert_eq!(format_timestamp(4_102_444_799), "2099-12-31T23:59:59Z");
    assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59Z");
    // Outside years 0..=9999 the digits are formatted, not written by hand.
    assert_eq!(format_timestamp(253_402_300_800), "10000-01-01T00:00:00Z");
    assert_eq!(format_timestamp(-62_167_219_201), "-001-12-31T23:59:59Z");
    // The hand-written digits agree with `format!` across the range.
    let mut secs = -62_167_219_200_i64;
    while secs < 253_402_300_800 {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = super::civil_from_days(days);
        let expected = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        );
        assert_eq!(format_timestamp(secs), expected, "{secs}");
        secs += 7_777_777;
    }
}

#[test]
fn text_without_special_characters_is_copied_and_the_rest_still_escaped() {
    for plain in [
        "ASIAY34FZKBOKMUTVV7A",
        "arn:aws:iam::123456789012:role/a+b=c,d.e@f-g",
        "é中",
    ] {
        let mut out = String::new();
        escape_into(&mut out, plain);
        assert_eq!(out, plain);
    }
    for (text, want) in [
        ("a\u{FFFE}", "a\u{FFFD}"),
        ("\u{FFFD}", "\u{FFFD}"),
        ("x\ty", "x\ty"),
        ("'", "&apos;"),
    ] {
        let mut out = String::new();
        escape_into(&mut out, text);
        assert_eq!(out, want);
    }
}

#[test]
fn a_special_character_is_found_at_every_position_of_a_long_value() {
    // The scan goes 32 bytes a step: every offset of a step and of the
    // tail must still be seen.
    let plain = "A".repeat(100);
    for (special, escaped) in [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("\"", "&quot;"),
        ("'", "&apos;"),
        ("\u{1}", "\u{FFFD}"),
        ("\u{FFFF}", "\u{FFFD}"),
    ] {
        for at in 0..=plain.len() {
            let (before, after) = plain.split_at(at);
            let mut out = String::new();
            escape_into(&mut out, &format!("{before}{special}{after}"));
            assert_eq!(
                out,
                format!("{before}{escaped}{after}"),
                "{special:?} at {at}"
            );
        }
    }
    let mut out = String::new();
    escape_into(&mut out, &plain);
    assert_eq!(out, plain);
}
