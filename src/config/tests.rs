use std::collections::BTreeMap;

use super::*;
use crate::domain::ids::Arn;

mod redis;

fn env(pairs: &[(&'static str, &'static str)]) -> BTreeMap<&'static str, &'static str> {
    pairs.iter().copied().collect()
}

fn load(text: &str, pairs: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    Config::from_toml(text, "stsd.toml", &env(pairs), &Overrides::default())
}

#[test]
fn empty_file_is_a_working_single_node_config() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8433".parse().unwrap());
    assert!(c.server.tls.is_none());
    assert_eq!(c.server.body_limit, 1024 * 1024);
    assert_eq!(c.server.request_timeout, Duration::from_secs(30));
    assert_eq!(c.partition.as_str(), "aws");
    assert_eq!(c.region.as_str(), "us-east-1");
    assert_eq!(c.accounts.default.as_str(), "123456789012");
    assert_eq!(c.signature.clock_skew, Duration::from_secs(900));
    assert_eq!(c.signature.presign_max, Duration::from_secs(900));
    assert!(matches!(c.secrets.master_key, MasterKeySource::DataDir));
    assert!(matches!(c.secrets.root, RootCredentialSource::DataDir));
}

#[test]
fn shipped_config_files_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for name in ["stsd.toml", "stsd.full.toml"] {
        let p = dir.join(name);
        let c = Config::load(Some(&p), &env(&[]), &Overrides::default());
        assert!(c.is_ok(), "{name}: {}", c.unwrap_err());
    }
}

#[test]
fn deploy_config_files_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let c = Config::load(Some(&p), &env(&[]), &Overrides::default());
            assert!(c.is_ok(), "{}: {}", p.display(), c.unwrap_err());
            seen += 1;
        }
    }
    assert!(seen >= 1, "no config in {}", dir.display());
    let redis = Config::load(
        Some(&dir.join("stsd-redis.toml")),
        &env(&[]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(redis.store.backend, crate::config::StoreBackend::Redis);
}

#[test]
fn unknown_key_names_key_line_and_section() {
    let text = "region = \"eu-west-1\"\n\n[server]\nlisten = \"127.0.0.1:1\"\nlistn = \"x\"\n";
    let e = load(text, &[]).unwrap_err().to_string();
    assert!(
        e.starts_with("stsd.toml:5:1: [server]: unknown field `listn`"),
        "{e}"
    );
    assert!(e.contains("expected one of"), "{e}");
    assert!(!e.contains('\n'), "{e}");

    let e = load("colour = 1\n", &[]).unwrap_err().to_string();
    assert!(
        e.starts_with("stsd.toml:1:1: unknown field `colour`"),
        "{e}"
    );
}

#[test]
fn bad_values_name_their_line() {
    let e = load("[server]\n\nrequest_timeout_secs = 0\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("stsd.toml:3:"), "{e}");
    assert!(
        e.contains("must be an integer from 1 to 3600, got 0"),
        "{e}"
    );

    let e = load("[server]\nlisten = \"nope\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("stsd.toml:2:"), "{e}");

    let e = load("[accounts]\ndefault = \"12\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("stsd.toml:2:"), "{e}");
    assert!(e.contains("accountId"), "{e}");

    let e = load("[server.tls]\ncert_file = \"c.pem\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing field `key_file`"), "{e}");

    let e = load("[store]\nmaster_key_id = \"bad id!\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("stsd.toml:2:") && e.contains("1 to 32 characters"),
        "{e}"
    );
    assert_eq!(
        load("", &[]).unwrap().store.master_key_id.as_str(),
        "master-1"
    );

    let e = load("[logging]\nlevel = \"loud\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("stsd.toml:2:"), "{e}");
}

#[test]
fn environment_overrides_the_file() {
    let text = "[server]\nlisten = \"127.0.0.1:1000\"\n[store]\ndata_dir = \"/from/file\"\n";
    let c = load(
        text,
        &[
            (source::LISTEN, "127.0.0.1:2000"),
            (source::DATA_DIR, "/from/env"),
            (source::ACCOUNT_ID, "111122223333"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.listen.port(), 2000);
    assert_eq!(c.store.data_dir, PathBuf::from("/from/env"));
    assert_eq!(c.accounts.default.as_str(), "111122223333");

    let flags = Overrides {
        listen: Some("127.0.0.1:3000".parse().unwrap()),
    };
    let c = Config::from_toml(
        text,
        "f",
        &env(&[(source::LISTEN, "127.0.0.1:2000")]),
        &flags,
    )
    .unwrap();
    assert_eq!(c.server.listen.port(), 3000);
}

#[test]
fn bad_overrides_name_the_variable() {
    let e = load("", &[(source::LISTEN, "here")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("STSD_LISTEN: 'here'"), "{e}");
    let e = load("", &[(source::ACCOUNT_ID, "1")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("STSD_ACCOUNT_ID:"), "{e}");
}

#[test]
fn plain_http_off_loopback_needs_tls_or_explicit_consent() {
    let e = load("[server]\n\nlisten = \"0.0.0.0:8433\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("stsd.toml:3: server.listen: 0.0.0.0:8433 is not a loopback"),
        "{e}"
    );
    let e = load("", &[(source::LISTEN, "[::]:1")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("STSD_LISTEN:"), "{e}");

    let ok = "[server]\nlisten = \"0.0.0.0:8433\"\nallow_plain_http_non_loopback = true\n";
    assert!(load(ok, &[]).is_ok());
    let tls =
        "[server]\nlisten = \"0.0.0.0:8433\"\n[server.tls]\ncert_file = \"c\"\nkey_file = \"k\"\n";
    assert!(load(tls, &[]).unwrap().server.tls.is_some());
    assert!(load("", &[(source::LISTEN, "[::1]:9")]).is_ok());
}

#[test]
fn secrets_come_from_the_environment_and_are_checked() {
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let c = load(
        "",
        &[
            (source::MASTER_KEY, key),
            (source::ROOT_ACCESS_KEY_ID, "AKIAIOSFODNN7EXAMPLE"),
            (
                source::ROOT_SECRET_ACCESS_KEY,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ],
    )
    .unwrap();
    let MasterKeySource::Env(k) = &c.secrets.master_key else {
        panic!()
    };
    assert_eq!(k.expose_secret()[31], 31);
    let RootCredentialSource::Env(r) = &c.secrets.root else {
        panic!()
    };
    assert_eq!(r.access_key_id.as_str(), "AKIAIOSFODNN7EXAMPLE");
    // Debug of the whole config never shows a secret.
    let shown = format!("{c:?}");
    assert!(!shown.contains("wJalr") && !shown.contains(key), "{shown}");

    let e = load("", &[(source::MASTER_KEY, "c2hvcnQ=")])
        .unwrap_err()
        .to_string();
    assert_eq!(e, "STSD_MASTER_KEY: must decode to 32 bytes, got 5");
    let e = load("", &[(source::MASTER_KEY, "not base64!")])
        .unwrap_err()
        .to_string();
    assert_eq!(e, "STSD_MASTER_KEY: is not valid base64");
    let e = load(
        "",
        &[(source::MASTER_KEY, key), (source::MASTER_KEY_FILE, "/k")],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not both"), "{e}");
    let e = load("", &[(source::ROOT_ACCESS_KEY_ID, "AKIAIOSFODNN7EXAMPLE")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("STSD_ROOT_SECRET_ACCESS_KEY: must be set"),
        "{e}"
    );
    let e = load(
        "",
        &[
            (source::ROOT_ACCESS_KEY_ID, "AKIAIOSFODNN7EXAMPLE"),
            (source::ROOT_SECRET_ACCESS_KEY, "short"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("STSD_ROOT_SECRET_ACCESS_KEY:") && !e.contains("short"),
        "{e}"
    );

    let c = load("", &[(source::MASTER_KEY_FILE, "/run/secrets/k")]).unwrap();
    assert!(
        matches!(&c.secrets.master_key, MasterKeySource::File(p) if p == Path::new("/run/secrets/k"))
    );
    let c = load("[store]\nmaster_key_file = \"/etc/k\"\n", &[]).unwrap();
    assert!(matches!(&c.secrets.master_key, MasterKeySource::File(p) if p == Path::new("/etc/k")));
}

#[test]
fn additional_accounts_drop_the_default_and_duplicates() {
    let text = "[accounts]\ndefault = \"111122223333\"\nadditional = [\"444455556666\", \"111122223333\", \"444455556666\"]\n";
    let c = load(text, &[]).unwrap();
    let extra: Vec<_> = c
        .accounts
        .additional
        .iter()
        .map(AccountId::as_str)
        .collect();
    assert_eq!(extra, ["444455556666"]);
}

#[test]
fn sts_choices_default_to_strict_and_on_and_can_be_turned_off() {
    let c = load("", &[]).unwrap();
    assert!(c.sts.tag_session_for_inherited_tags && c.sts.mfa_into_role_sessions);
    let c = load(
        "[sts]\ntag_session_for_inherited_tags = false\nmfa_into_role_sessions = false\n",
        &[],
    )
    .unwrap();
    assert!(!c.sts.tag_session_for_inherited_tags && !c.sts.mfa_into_role_sessions);
    let e = load("[sts]\nmfa = true\n", &[]).unwrap_err().to_string();
    assert!(e.contains("unknown field `mfa`"), "{e}");
}

#[test]
fn sessions_default_to_one_sealing_key() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.sessions.active.as_str(), "s1");
    assert!(c.sessions.accepted.is_empty());
}

#[test]
fn the_first_sealing_key_seals_and_the_others_are_accepted() {
    let c = load("[sessions]\nsealing_keys = [\"2026-04\", \"s1\"]\n", &[]).unwrap();
    assert_eq!(c.sessions.active.as_str(), "2026-04");
    let accepted: Vec<&str> = c.sessions.accepted.iter().map(|k| k.as_str()).collect();
    assert_eq!(accepted, ["s1"]);
}

#[test]
fn bad_sealing_key_lists_name_their_line() {
    for (list, why) in [
        ("[]", "at least one key id"),
        ("[\"s1\", \"s1\"]", "'s1' is listed twice"),
        ("[\"has space\"]", "'has space' must be 1 to 32 characters"),
        (
            &format!("[\"{}\"]", "k".repeat(33)),
            "must be 1 to 32 characters",
        ),
    ] {
        let text = format!("[sessions]\n\nsealing_keys = {list}\n");
        let e = load(&text, &[]).unwrap_err().to_string();
        assert!(e.starts_with("stsd.toml:3:"), "{e}");
        assert!(e.contains(why), "{e}");
    }
    let e = load("[sessions]\nsealing_key = [\"s1\"]\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `sealing_key`"), "{e}");
}

#[test]
fn federation_providers_map_claims_and_are_checked() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.federation.clock_skew, Duration::from_secs(300));
    assert!(c.federation.providers.is_empty());

    let good = r#"
[federation]
clock_skew_secs = 60
[[federation.providers]]
arn = "arn:aws:iam::123456789012:oidc-provider/idp.example.com"
[federation.providers.claims]
tags = { team = "groups", dept = "department" }
transitive = ["team"]
source_identity = "email"
keys = { groups = "groups" }
"#;
    let c = load(good, &[]).unwrap();
    assert_eq!(c.federation.clock_skew, Duration::from_secs(60));
    let arn: Arn = "arn:aws:iam::123456789012:oidc-provider/idp.example.com"
        .parse()
        .unwrap();
    let p = c.federation.provider(&arn).unwrap();
    assert_eq!(p.claims.tags.len(), 2);
    assert_eq!(p.claims.transitive.len(), 1);
    assert_eq!(p.claims.source_identity.as_deref(), Some("email"));
    assert_eq!(p.claims.keys, [("groups".to_owned(), "groups".to_owned())]);

    let bad = |text: &str, key: &str| {
        let e = load(text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
        assert!(e.starts_with("stsd.toml:"), "{e}");
    };
    bad(
        "[[federation.providers]]\narn = \"arn:aws:iam::123456789012:role/r\"\n",
        "federation.providers[0].arn",
    );
    bad(
        "[[federation.providers]]\narn = \"arn:aws:iam::123456789012:saml-provider/A\"\n[federation.providers.claims]\ntransitive = [\"team\"]\n",
        "federation.providers[0].claims.transitive",
    );
    bad(
        "[[federation.providers]]\narn = \"arn:aws:iam::123456789012:saml-provider/A\"\n[federation.providers.claims]\nkeys = { \"a:b\" = \"c\" }\n",
        "federation.providers[0].claims.keys",
    );
    bad(
        "[[federation.providers]]\narn = \"arn:aws:iam::123456789012:saml-provider/A\"\n[[federation.providers]]\narn = \"arn:aws:iam::123456789012:saml-provider/A\"\n",
        "federation.providers[1].arn",
    );
    assert!(load("[federation]\nclock_skew_secs = 4000\n", &[]).is_err());
}

#[test]
fn web_identity_fetching_and_inline_key_sets() {
    let c = load("", &[]).unwrap();
    let o = &c.federation.oidc;
    assert_eq!(o.ca_file, None);
    assert!(!o.allow_insecure_loopback);
    assert!(
        !o.allow_private_addresses,
        "the SSRF guard is on by default"
    );
    assert!(o.jwks_hosts.is_empty());
    assert_eq!(o.fetch_timeout, Duration::from_secs(5));
    assert_eq!(o.refetch_interval, Duration::from_secs(30));
    assert_eq!(o.max_token_age, None);

    let jwks = r#"{"keys":[{"kty":"EC","kid":"k","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
    let text = format!(
        "[federation]\nca_file = \"/etc/ca.pem\"\nallow_insecure_loopback = true\nallow_private_addresses = true\n\
         [federation.oidc]\njwks_hosts = [\"WWW.googleapis.com\"]\nfetch_timeout_secs = 2\nrefetch_interval_secs = 0\nmax_token_age_secs = 600\n\
         [[federation.providers]]\narn = \"arn:aws:iam::123456789012:oidc-provider/cluster.local\"\njwks = '{jwks}'\n"
    );
    let c = load(&text, &[]).unwrap();
    let o = &c.federation.oidc;
    assert_eq!(o.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
    assert!(o.allow_insecure_loopback);
    assert!(o.allow_private_addresses);
    assert_eq!(o.jwks_hosts, ["www.googleapis.com"]);
    let e = load(
        "[federation.oidc]\njwks_hosts = [\"https://keys.example.com/jwks\"]\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("federation.oidc.jwks_hosts") && e.contains("not a host name"),
        "{e}"
    );
    assert_eq!(o.fetch_timeout, Duration::from_secs(2));
    assert_eq!(o.refetch_interval, Duration::ZERO);
    assert_eq!(o.max_token_age, Some(Duration::from_secs(600)));
    assert_eq!(c.federation.providers[0].jwks.as_ref().unwrap().len(), 1);
    // The environment names the CA file over the file.
    let c = load(&text, &[("STSD_FEDERATION_CA_FILE", "/run/ca.pem")]).unwrap();
    assert_eq!(
        c.federation.oidc.ca_file.as_deref(),
        Some(Path::new("/run/ca.pem"))
    );

    let bad = |text: &str, key: &str| {
        let e = load(text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    };
    let oidc = "[[federation.providers]]\narn = \"arn:aws:iam::123456789012:oidc-provider/x\"\n";
    bad(
        &format!("{oidc}jwks = 'nope'\n"),
        "federation.providers[0].jwks",
    );
    bad(
        &format!("{oidc}jwks = '{{\"keys\":[{{\"kty\":\"oct\",\"k\":\"AA\"}}]}}'\n"),
        "no usable signature key",
    );
    bad(
        &format!("{oidc}jwks = '{jwks}'\njwks_file = \"/x\"\n"),
        "not both",
    );
    bad(
        &format!("{oidc}jwks_file = \"/nonexistent/jwks.json\"\n"),
        "federation.providers[0].jwks_file",
    );
    bad(
        &format!(
            "[[federation.providers]]\narn = \"arn:aws:iam::123456789012:saml-provider/A\"\njwks = '{jwks}'\n"
        ),
        "is not an OIDC provider",
    );
    assert!(load("[federation.oidc]\nfetch_timeout_secs = 0\n", &[]).is_err());
}

/// `[server.tls]` with a client CA and `entries` as
/// `[[server.tls.client_principals]]` bodies.
fn mtls(ca: bool, entries: &[&str]) -> String {
    let mut t = String::from(
        "[accounts]\nadditional = [\"111122223333\"]\n[server.tls]\ncert_file = \"c\"\nkey_file = \"k\"\n",
    );
    if ca {
        t.push_str("client_ca_file = \"ca.pem\"\n");
    }
    for e in entries {
        t.push_str("[[server.tls.client_principals]]\n");
        t.push_str(e);
        t.push('\n');
    }
    t
}

#[test]
fn client_principals_map_sans_to_users_and_roots_of_served_accounts() {
    use crate::domain::client_cert::{MappedPrincipal, San};
    let c = load(
        &mtls(
            true,
            &[
                "uri = \"spiffe://example.org/ns/prod/sa/billing\"\nprincipal = \"arn:aws:iam::123456789012:user/billing\"",
                "dns = \"Ops.Internal\"\nprincipal = \"arn:aws:iam::111122223333:root\"",
            ],
        ),
        &[],
    )
    .unwrap();
    let tls = c.server.tls.unwrap();
    assert_eq!(tls.client_ca_file.as_deref(), Some(Path::new("ca.pem")));
    let e = tls.client_principals.entries();
    assert_eq!(e.len(), 2);
    assert_eq!(
        e[0].san,
        San::Uri("spiffe://example.org/ns/prod/sa/billing".into())
    );
    assert_eq!(
        e[0].principal,
        MappedPrincipal::User("123456789012".parse().unwrap(), "billing".parse().unwrap())
    );
    assert_eq!(e[1].san, San::Dns("ops.internal".into()));
    assert_eq!(
        e[1].principal,
        MappedPrincipal::Root("111122223333".parse().unwrap())
    );
    // A CA without mappings is allowed (every certificate is unmapped).
    let c = load(&mtls(true, &[]), &[]).unwrap();
    assert!(c.server.tls.unwrap().client_principals.is_empty());
    // No CA: nothing asked for.
    assert!(
        load(&mtls(false, &[]), &[])
            .unwrap()
            .server
            .tls
            .unwrap()
            .client_ca_file
            .is_none()
    );
}

#[test]
fn client_principals_are_validated_naming_the_key_and_line() {
    let user = "principal = \"arn:aws:iam::123456789012:user/billing\"";
    let cases: Vec<(bool, Vec<String>, &str, &str)> = vec![
        (
            false,
            vec![format!("dns = \"a.b\"\n{user}")],
            "server.tls.client_principals[0]",
            "needs server.tls.client_ca_file",
        ),
        (
            true,
            vec![user.to_owned()],
            "server.tls.client_principals[0]",
            "exactly one of uri and dns",
        ),
        (
            true,
            vec![format!("dns = \"a.b\"\nuri = \"spiffe://x/y\"\n{user}")],
            "server.tls.client_principals[0]",
            "exactly one of uri and dns",
        ),
        (
            true,
            vec![format!("dns = \"*.b\"\n{user}")],
            "server.tls.client_principals[0].dns",
            "is not a DNS name",
        ),
        (
            true,
            vec![format!("uri = \"not a uri\"\n{user}")],
            "server.tls.client_principals[0].uri",
            "is not an absolute URI",
        ),
        (
            true,
            vec!["dns = \"a.b\"\nprincipal = \"arn:aws:iam::123456789012:role/reader\"".to_owned()],
            "server.tls.client_principals[0].principal",
            "roles cannot be mapped",
        ),
        (
            true,
            vec!["dns = \"a.b\"\nprincipal = \"billing\"".to_owned()],
            "server.tls.client_principals[0].principal",
            "is not an ARN",
        ),
        (
            true,
            vec!["dns = \"a.b\"\nprincipal = \"arn:aws:iam::999988887777:user/x\"".to_owned()],
            "server.tls.client_principals[0].principal",
            "account 999988887777 is not served",
        ),
        (
            true,
            vec![
                format!("dns = \"a.b\"\n{user}"),
                "dns = \"A.B\"\nprincipal = \"arn:aws:iam::123456789012:root\"".to_owned(),
            ],
            "server.tls.client_principals[1].principal",
            "DNS:a.b is mapped more than once",
        ),
        (
            true,
            vec![format!("dns = \"a.b\"\n{user}\nrole = \"x\"")],
            "",
            "unknown field `role`",
        ),
    ];
    for (ca, entries, key, message) in cases {
        let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
        let e = load(&mtls(ca, &entries), &[]).unwrap_err().to_string();
        assert!(e.starts_with("stsd.toml:"), "{e}");
        assert!(e.contains(key), "{key}: {e}");
        assert!(e.contains(message), "{message}: {e}");
    }
    let e = load(
        "[server.tls]\ncert_file = \"c\"\nkey_file = \"k\"\nclient_ca = \"x\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown field `client_ca`"), "{e}");
}

#[test]
fn web_sign_in_is_configured_and_checked() {
    let c = load("", &[]).unwrap();
    assert!(c.web.users && c.web.oidc.is_empty() && c.web.saml.is_empty());
    assert_eq!((c.web.login_ttl_secs, c.web.session_ttl_secs), (600, 3600));

    let good = r#"
[web]
public_url = "https://sts.example.com/"
login_ttl_secs = 120
[[web.oidc]]
name = "corp"
issuer = "https://login.example.com"
client_id = "stsd"
[[web.saml]]
name = "corp-saml"
label = "Corp SAML"
provider_arn = "arn:aws:iam::123456789012:saml-provider/corp"
sso_url = "https://idp.example.com/sso"
"#;
    let c = load(good, &[]).unwrap();
    assert_eq!(c.web.public_url.as_deref(), Some("https://sts.example.com"));
    assert_eq!(c.web.login_ttl_secs, 120);
    let o = c.web.oidc.first().unwrap();
    assert_eq!((o.label.as_str(), o.scopes.len()), ("corp", 2));
    assert!(c.web.saml.first().unwrap().allow_idp_initiated);

    let bad = |text: &str, key: &str| {
        let e = load(text, &[]).unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    };
    bad(
        "[web]\npublic_url = \"sts.example.com\"\n",
        "web.public_url",
    );
    bad(
        "[[web.oidc]]\nname = \"a b\"\nissuer = \"https://x\"\nclient_id = \"c\"\n",
        "web.oidc[0].name",
    );
    bad(
        "[[web.oidc]]\nname = \"a\"\nissuer = \"ftp://x\"\nclient_id = \"c\"\n",
        "web.oidc[0].issuer",
    );
    bad(
        "[[web.oidc]]\nname = \"a\"\nissuer = \"https://x\"\nclient_id = \"c\"\n[[web.saml]]\nname = \"a\"\nprovider_arn = \"arn:aws:iam::123456789012:saml-provider/p\"\nsso_url = \"https://i\"\n",
        "web.saml[0].name",
    );
    bad(
        "[[web.saml]]\nname = \"s\"\nprovider_arn = \"arn:aws:iam::123456789012:role/r\"\nsso_url = \"https://i\"\n",
        "web.saml[0].provider_arn",
    );
    assert!(load("[web]\nlogin_ttl_secs = 5\n", &[]).is_err());
    assert!(load("[web]\nbogus = 1\n", &[]).is_err());
}
