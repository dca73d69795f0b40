use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use super::*;
use crate::config::{Config, Overrides, source};
use crate::domain::seal::{SealKeyId, SealPurpose, open, seal};

/// A deterministic "random" source: a counter.
fn counter() -> impl FnMut(&mut [u8]) {
    let mut n = 0_u8;
    move |buf: &mut [u8]| {
        for b in buf {
            *b = n;
            n = n.wrapping_add(7);
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stsd-secrets-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn config(data_dir: &Path, pairs: &[(&'static str, String)]) -> Config {
    let mut map: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = data_dir.display().to_string();
    map.insert(source::DATA_DIR, &dir);
    Config::from_toml("", "t", &map, &Overrides::default()).unwrap()
}

/// Whether `a` opens what `b` seals.
fn same_key(a: &MasterKey, b: &MasterKey) -> bool {
    let purpose = SealPurpose::access_key_secret(&"AKIAIOSFODNN7EXAMPLE".parse().unwrap());
    let blob = seal(b, &purpose, b"x", &mut counter()).unwrap();
    open(a, &purpose, &blob).is_ok_and(|s| s.expose_secret() == b"x")
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_start_generates_private_files_and_later_starts_read_them() {
    let dir = temp_dir("first");
    let c = config(&dir, &[]);
    let first = provision(&c, &mut counter()).unwrap();
    let key_path = dir.join(MASTER_KEY_FILE);
    let creds_path = dir.join(ROOT_CREDENTIALS_FILE);
    assert_eq!(first.generated, [key_path.clone(), creds_path.clone()]);
    assert_eq!(mode(&key_path), 0o600);
    assert_eq!(mode(&creds_path), 0o600);
    assert_eq!(mode(&dir), 0o700);

    let text = fs::read_to_string(&creds_path).unwrap();
    let id = first.secrets.root.access_key_id.as_str().to_owned();
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert!(
        text.contains(&format!("aws_access_key_id={id}\n")),
        "{text}"
    );
    assert!(text.contains("[default]\n"));
    assert_eq!(
        first.secrets.root.access_key_id.account(),
        Some(c.accounts.default)
    );
    assert_eq!(first.secrets.root.secret.expose_secret().len(), 40);

    // A second start reads the same secrets and generates nothing.
    let again = provision(&c, &mut counter()).unwrap();
    assert!(again.generated.is_empty());
    assert!(same_key(
        &again.secrets.master_key,
        &first.secrets.master_key
    ));
    assert_eq!(again.secrets.master_key.id().as_str(), "master-1");
    assert_eq!(again.secrets.root.secret, first.secrets.root.secret);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn files_readable_by_others_are_refused() {
    let dir = temp_dir("perms");
    let c = config(&dir, &[]);
    check(&c).unwrap();
    assert!(!dir.exists(), "check writes nothing");
    provision(&c, &mut counter()).unwrap();
    check(&c).unwrap();
    let key_path = dir.join(MASTER_KEY_FILE);
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o640)).unwrap();
    let e = provision(&c, &mut counter()).unwrap_err().to_string();
    assert!(
        e.contains("master.key: is accessible by group or others (mode 0640)"),
        "{e}"
    );
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();

    let creds = dir.join(ROOT_CREDENTIALS_FILE);
    fs::set_permissions(&creds, fs::Permissions::from_mode(0o604)).unwrap();
    let e = provision(&c, &mut counter()).unwrap_err().to_string();
    assert!(e.contains("root-credentials: is accessible"), "{e}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn explicit_key_files_must_exist_be_private_and_well_formed() {
    let dir = temp_dir("explicit");
    fs::create_dir_all(&dir).unwrap();
    let key = dir.join("k");
    let c = config(
        &dir,
        &[(source::MASTER_KEY_FILE, key.display().to_string())],
    );
    let e = provision(&c, &mut counter()).unwrap_err().to_string();
    assert!(e.contains("cannot read"), "{e}");

    fs::write(&key, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(provision(&c, &mut counter()).is_err());
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let p = provision(&c, &mut counter()).unwrap();
    let expected: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap());
    let expected = MasterKey::from_bytes(SealKeyId::new("master-1").unwrap(), expected);
    assert!(same_key(&p.secrets.master_key, &expected));
    // Only the root credentials were generated.
    assert_eq!(p.generated, [dir.join(ROOT_CREDENTIALS_FILE)]);

    fs::write(&key, "c2hvcnQ=").unwrap();
    let e = provision(&c, &mut counter()).unwrap_err().to_string();
    assert!(
        e.ends_with("master key must decode to 32 bytes, got 5"),
        "{e}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn environment_credentials_write_nothing() {
    let dir = temp_dir("env");
    let c = config(
        &dir,
        &[
            (
                source::MASTER_KEY,
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
            ),
            (source::ROOT_ACCESS_KEY_ID, "AKIAIOSFODNN7EXAMPLE".into()),
            (
                source::ROOT_SECRET_ACCESS_KEY,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
        ],
    );
    let p = provision(&c, &mut counter()).unwrap();
    assert!(p.generated.is_empty());
    assert!(!dir.exists());
    assert_eq!(
        p.secrets.root.access_key_id.as_str(),
        "AKIAIOSFODNN7EXAMPLE"
    );
}

#[test]
fn credentials_of_another_account_are_refused() {
    let dir = temp_dir("other");
    let c = config(&dir, &[]);
    provision(&c, &mut counter()).unwrap();
    let other = config(&dir, &[(source::ACCOUNT_ID, "111122223333".into())]);
    let e = provision(&other, &mut counter()).unwrap_err().to_string();
    assert!(
        e.contains("belongs to account 123456789012, not to account 111122223333"),
        "{e}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn additional_accounts_get_their_own_private_root_credentials() {
    let dir = temp_dir("additional");
    let data = dir.display().to_string();
    let map: BTreeMap<&str, &str> = [(source::DATA_DIR, data.as_str())].into_iter().collect();
    let toml = "[accounts]\nadditional = [\"111122223333\", \"444455556666\"]\n";
    let c = Config::from_toml(toml, "t", &map, &Overrides::default()).unwrap();
    let first = provision(&c, &mut counter()).unwrap();
    let files: Vec<PathBuf> = ["111122223333", "444455556666"]
        .iter()
        .map(|a| dir.join(format!("root-credentials-{a}")))
        .collect();
    assert_eq!(first.generated[2..], files[..]);
    let accounts: Vec<String> = first
        .secrets
        .additional_roots
        .iter()
        .map(|(a, creds)| {
            // Each key id encodes its own account.
            assert_eq!(creds.access_key_id.account(), Some(*a));
            a.to_string()
        })
        .collect();
    assert_eq!(accounts, ["111122223333", "444455556666"]);
    for f in &files {
        assert_eq!(mode(f), 0o600);
    }
    // A later start reads the same credentials and generates nothing.
    let again = provision(&c, &mut counter()).unwrap();
    assert!(again.generated.is_empty());
    assert_eq!(
        again.secrets.additional_roots[1].1.access_key_id,
        first.secrets.additional_roots[1].1.access_key_id
    );
    // A file holding another account's key is refused.
    fs::copy(&files[0], &files[1]).unwrap();
    let e = provision(&c, &mut counter()).unwrap_err().to_string();
    assert!(
        e.contains("belongs to account 111122223333, not to account 444455556666"),
        "{e}"
    );
    let _ = fs::remove_dir_all(&dir);
}
