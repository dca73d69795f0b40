//! Bootstrap documents and GetAccountAuthorizationDetails over the wire:
//! the real `stsd serve` started with a bootstrap file, checked with
//! hand-signed calls, restarted (nothing may change, not even the store
//! generation), and a round trip — one daemon's GAAD output fed as the
//! bootstrap of a fresh daemon gives the same GAAD, IDs and dates aside.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use stsd::adapters::embedded::EmbeddedStore;
use stsd::domain::clock::SystemClock;
use stsd::service::store::StoreGeneration as _;

use crate::client::{credentials_file, enc, iam, iam_with};
use crate::daemon::{Daemon, Options, TempDir, stsd};

const DOC: &str = r#"{
  "Policies": [{"PolicyName": "read", "Path": "/", "DefaultVersionId": "v1",
    "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
      "Document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}]}],
  "GroupDetailList": [{"GroupName": "devs", "Path": "/",
    "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sns%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"}],
    "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}]}],
  "UserDetailList": [{"UserName": "alice", "Path": "/eng/", "GroupList": ["devs"],
    "UserPolicyList": [{"PolicyName": "u", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}}],
    "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}],
    "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/read"},
    "Tags": [{"Key": "team", "Value": "core"}]}],
  "RoleDetailList": [{"RoleName": "deploy", "Path": "/ci/",
    "AssumeRolePolicyDocument": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/eng/alice"}, "Action": "sts:AssumeRole"}},
    "RolePolicyList": [{"PolicyName": "r", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}}],
    "AttachedManagedPolicies": [{"PolicyName": "read", "PolicyArn": "arn:aws:iam::123456789012:policy/read"}],
    "Tags": [{"Key": "env", "Value": "prod"}], "InstanceProfileList": [], "RoleLastUsed": {}}]
}"#;

/// The whole GetAccountAuthorizationDetails result, fetched two entities
/// a page (so paging is exercised), as one JSON object.
fn gaad(d: &Daemon, data: &Path) -> Value {
    let mut all =
        json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []});
    let mut marker: Option<String> = None;
    for _ in 0..50 {
        let mut params = "Action=GetAccountAuthorizationDetails&MaxItems=2".to_owned();
        if let Some(m) = &marker {
            params.push_str(&format!("&Marker={}", enc(m)));
        }
        let r = iam_with(
            d,
            &credentials_file(data, "root-credentials"),
            &params,
            &[("Accept", "application/json")],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        let result =
            &v["GetAccountAuthorizationDetailsResponse"]["GetAccountAuthorizationDetailsResult"];
        for list in [
            "UserDetailList",
            "GroupDetailList",
            "RoleDetailList",
            "Policies",
        ] {
            let items = result[list].as_array().unwrap().clone();
            all[list].as_array_mut().unwrap().extend(items);
        }
        if result["IsTruncated"] == json!(false) {
            return all;
        }
        marker = Some(result["Marker"].as_str().unwrap().to_owned());
    }
    panic!("GetAccountAuthorizationDetails never ended");
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// GAAD without what a fresh daemon issues anew (IDs, dates, last use,
/// version numbers and history): documents decoded, each policy reduced
/// to its default document.
fn comparable(gaad: &Value) -> Value {
    let mut v = gaad.clone();
    for list in [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ] {
        for e in v[list].as_array_mut().unwrap() {
            let e = e.as_object_mut().unwrap();
            for k in [
                "UserId",
                "GroupId",
                "RoleId",
                "PolicyId",
                "CreateDate",
                "UpdateDate",
                "RoleLastUsed",
                "DefaultVersionId",
            ] {
                e.remove(k);
            }
            if let Some(doc) = e.get_mut("AssumeRolePolicyDocument") {
                *doc = serde_json::from_str(&url_decode(doc.as_str().unwrap())).unwrap();
            }
            for inline in ["UserPolicyList", "GroupPolicyList", "RolePolicyList"] {
                for p in e
                    .get_mut(inline)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let doc = &mut p["PolicyDocument"];
                    *doc = serde_json::from_str(&url_decode(doc.as_str().unwrap())).unwrap();
                }
            }
            if let Some(Value::Array(versions)) = e.remove("PolicyVersionList") {
                let default = versions
                    .iter()
                    .find(|x| x["IsDefaultVersion"] == json!(true))
                    .unwrap();
                let doc: Value =
                    serde_json::from_str(&url_decode(default["Document"].as_str().unwrap()))
                        .unwrap();
                e.insert("DefaultDocument".into(), doc);
            }
        }
    }
    v
}

fn bootstrap_toml(file: &Path) -> String {
    format!("[bootstrap]\ndocuments = [\"{}\"]\n", file.display())
}

fn generation(data: &Path) -> u64 {
    let store = EmbeddedStore::open(data, Arc::new(SystemClock)).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(store.generation())
        .unwrap()
}

fn stop(d: &mut Daemon) {
    d.sigterm();
    assert!(d.wait_exit(30).success(), "{}", d.stderr());
}

#[test]
fn bootstrap_applies_once_and_round_trips_through_gaad() {
    let files = TempDir::new("boot");
    let file = files.path().join("iam.json");
    std::fs::write(&file, DOC).unwrap();
    let mut d = Daemon::start_with(Options {
        extra_toml: bootstrap_toml(&file),
        ..Options::default()
    });
    assert!(d.stderr().contains("bootstrap applied"), "{}", d.stderr());

    let data = d.data_dir();
    let r = iam(
        &d,
        &credentials_file(&data, "root-credentials"),
        "Action=GetUser&UserName=alice",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.xml("Arn"),
        Some("arn:aws:iam::123456789012:user/eng/alice")
    );
    let r = iam(
        &d,
        &credentials_file(&data, "root-credentials"),
        "Action=GetRole&RoleName=deploy",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let trust = r.xml("AssumeRolePolicyDocument").unwrap();
    assert!(
        trust.contains(&enc("arn:aws:iam::123456789012:user/eng/alice")),
        "{trust}"
    );
    let r = iam(
        &d,
        &credentials_file(&data, "root-credentials"),
        "Action=ListGroupsForUser&UserName=alice",
    );
    assert!(r.body.contains("<GroupName>devs</GroupName>"), "{}", r.body);
    let r = iam(
        &d,
        &credentials_file(&data, "root-credentials"),
        "Action=ListAccessKeys&UserName=alice",
    );
    assert!(
        !r.body.contains("AccessKeyId"),
        "no keys from bootstrap: {}",
        r.body
    );

    let first = gaad(&d, &data);
    let policy = &first["Policies"][0];
    let counts = (
        policy["AttachmentCount"].as_i64(),
        policy["PermissionsBoundaryUsageCount"].as_i64(),
    );
    assert_eq!(counts, (Some(3), Some(1)));
    assert_eq!(first["UserDetailList"][0]["GroupList"], json!(["devs"]));
    assert_eq!(first["RoleDetailList"][0]["InstanceProfileList"], json!([]));

    // Restart on the same data with the same file: nothing changes, not
    // even the store generation. (`d` stays alive: it owns the data dir.)
    stop(&mut d);
    let before = generation(&data);
    let mut again = Daemon::start_with(Options {
        extra_toml: bootstrap_toml(&file),
        env: vec![("STSD_DATA_DIR".into(), data.display().to_string())],
        ..Options::default()
    });
    assert!(
        again.stderr().contains("\"changes\":0"),
        "{}",
        again.stderr()
    );
    assert_eq!(gaad(&again, &data), first);
    stop(&mut again);
    assert_eq!(generation(&data), before);

    // Round trip: this GAAD as the bootstrap of a fresh daemon.
    let copy = files.path().join("gaad.json");
    std::fs::write(&copy, serde_json::to_string_pretty(&first).unwrap()).unwrap();
    let fresh = Daemon::start_with(Options {
        extra_toml: bootstrap_toml(&copy),
        ..Options::default()
    });
    let second = gaad(&fresh, &fresh.data_dir());
    assert_ne!(
        second["UserDetailList"][0]["UserId"],
        first["UserDetailList"][0]["UserId"]
    );
    assert_eq!(comparable(&second), comparable(&first));
}

/// A config file serving on port 0 from `dir`, with `documents`.
fn config_with(dir: &Path, documents: &Path) -> std::path::PathBuf {
    let config = dir.join("stsd.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[store]\ndata_dir = \"{}\"\n{}",
        dir.join("data").display(),
        bootstrap_toml(documents)
    );
    std::fs::write(&config, text).unwrap();
    config
}

#[test]
fn a_bad_document_stops_the_start_and_fails_check_config() {
    let dir = TempDir::new("badboot");
    let file = dir.path().join("iam.json");
    std::fs::write(&file, DOC).unwrap();
    let config = config_with(dir.path(), &file);
    let config = config.to_str().unwrap();
    let out = stsd(&["check-config", "--config", config]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Validation errors name the file, the entity and the field, for
    // check-config and serve alike.
    std::fs::write(
        &file,
        DOC.replace(r#""Action": "ec2:*""#, r#""Action": "ec2""#),
    )
    .unwrap();
    let want = format!(
        "bootstrap file {}: role \"deploy\": RolePolicyList[0].PolicyDocument: ",
        file.display()
    );
    for args in [
        ["check-config", "--config", config],
        ["serve", "--config", config],
    ] {
        let out = stsd(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
    }

    // A change the store refuses (a trust principal nobody creates) stops
    // serve, which check-config cannot know.
    let doc = DOC.replace("user/eng/alice", "user/eng/nobody");
    std::fs::write(&file, doc).unwrap();
    let out = stsd(&["serve", "--config", config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("role \"deploy\": AssumeRolePolicyDocument: MalformedPolicyDocument"),
        "{stderr}"
    );

    std::fs::remove_file(&file).unwrap();
    let out = stsd(&["check-config", "--config", config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read it"), "{stderr}");
}
