//! `stsd audit verify` and `stsd audit keygen`.
//!
//! Owns: reading a trail directory (every `audit-NNNNNNNN.jsonl`, in file
//! order) and printing what `domain::audit::chain::verify` finds — a
//! summary and exit 0 when the chain is intact, `first broken record:
//! file X line N (reason)` and exit 1 otherwise — and writing a new
//! Ed25519 signing key (PKCS#8 PEM, 0600) with its public key.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::domain::audit::chain::{self, DigestKey};

/// `stsd audit …`.
#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Check a trail directory: the hash chain of every record and file,
    /// and each file's signed digest. Exit 0 when intact, 1 at the first
    /// broken or missing record or file.
    Verify(VerifyArgs),
    /// Write a new Ed25519 signing key (PKCS#8 PEM, mode 0600) for
    /// `audit.signing_key_file`, and its public key beside it (`FILE.pub`).
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The trail directory (`audit.dir`).
    dir: PathBuf,
    /// The Ed25519 public key every digest must be signed with (PEM or DER
    /// SubjectPublicKeyInfo, or base64 of 32 bytes). Without it, each
    /// digest is checked against the key it names.
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct KeygenArgs {
    /// Where to write the private key (must not exist).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs the command.
pub(super) fn run(cmd: AuditCommand) -> ExitCode {
    match cmd {
        AuditCommand::Verify(args) => verify(&args),
        AuditCommand::Keygen(args) => keygen(&args.out),
    }
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let pinned = match &args.public_key {
        Some(path) => match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| chain::public_key_from(&b).map_err(|e| e.to_string()))
        {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("stsd: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let files = match read_trail(&args.dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("stsd: {}: {e}", args.dir.display());
            return ExitCode::from(2);
        }
    };
    if files.is_empty() {
        eprintln!(
            "stsd: {}: no audit files (audit-NNNNNNNN.jsonl)",
            args.dir.display()
        );
        return ExitCode::FAILURE;
    }
    match chain::verify(&files, pinned.as_ref()) {
        Ok(s) => {
            println!(
                "ok: {} files, {} records, {} signed digests, {} unsigned{}{}",
                s.files,
                s.records,
                s.signed_digests,
                s.unsigned_digests,
                if pinned.is_some() {
                    " (pinned key)"
                } else {
                    ""
                },
                if s.last_open {
                    "; the last file is still open (no digest yet)"
                } else {
                    ""
                }
            );
            ExitCode::SUCCESS
        }
        Err(b) => {
            println!(
                "first broken record: file {} line {} ({})",
                b.file, b.line, b.reason
            );
            ExitCode::FAILURE
        }
    }
}

/// Every trail file of `dir` with its contents, in file-number order.
fn read_trail(dir: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut names: Vec<(u64, String)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            chain::file_sequence(&name).map(|n| (n, name))
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|(_, name)| std::fs::read(dir.join(&name)).map(|b| (name, b)))
        .collect()
}

fn keygen(out: &Path) -> ExitCode {
    let rng = ring::rand::SystemRandom::new();
    let Ok(pkcs8) = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng) else {
        eprintln!("stsd: the system random number generator failed");
        return ExitCode::FAILURE;
    };
    let Ok(key) = DigestKey::from_pkcs8(pkcs8.as_ref()) else {
        eprintln!("stsd: cannot read back the generated key");
        return ExitCode::FAILURE;
    };
    let pem = zeroize::Zeroizing::new(format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        data_encoding::BASE64.encode(pkcs8.as_ref())
    ));
    let public = data_encoding::BASE64.encode(&key.public_key());
    let mut pub_path = out.as_os_str().to_owned();
    pub_path.push(".pub");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .and_then(|mut f| f.write_all(pem.as_bytes()))
        .and_then(|()| std::fs::write(&pub_path, format!("{public}\n")));
    match written {
        Ok(()) => {
            println!(
                "stsd: wrote {} (mode 0600) and {}",
                out.display(),
                Path::new(&pub_path).display()
            );
            println!("public key: {public}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stsd: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
