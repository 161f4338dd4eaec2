//! `meta-monitor secret set|delete NAME access-token|app-secret`. The value is read from
//! stdin, never from argv (where `ps` and shell history would see it).

use std::io::Read;

use anyhow::anyhow;
use clap::Subcommand;
use meta_monitor_core::Secret;
use meta_monitor_core::secrets::{Keychain, SecretKind};
use meta_monitor_core::store::{Store, StoreError};

use crate::Failure;

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Read the value from stdin and store it in the OS keychain.
    Set { name: String, kind: String },
    /// Delete the value from the OS keychain.
    Delete { name: String, kind: String },
}

fn parse_kind(kind: &str) -> Result<SecretKind, Failure> {
    SecretKind::parse(kind).ok_or_else(|| {
        Failure::usage(anyhow!(
            "unknown secret kind {kind:?}: use access-token, app-secret, team-webhook or verify-token"
        ))
    })
}

fn require_account(store: &Store, name: &str) -> Result<(), Failure> {
    match store.account(name)? {
        Some(_) => Ok(()),
        None => Err(Failure::usage(StoreError::NoSuchAccount(name.to_owned()))),
    }
}

pub fn run(cmd: SecretCommand, store: &Store) -> Result<(), Failure> {
    let keychain = Keychain::new();
    match cmd {
        SecretCommand::Set { name, kind } => {
            let kind = parse_kind(&kind)?;
            require_account(store, &name)?;
            let mut raw = String::new();
            std::io::stdin()
                .read_to_string(&mut raw)
                .map_err(|e| anyhow!("reading the {kind} from stdin: {e}"))?;
            let value = raw.trim();
            if value.is_empty() {
                return Err(Failure::usage(anyhow!(
                    "no {kind} on stdin; pipe it in, e.g. `pass meta/token | meta-monitor secret set {name} {kind}`"
                )));
            }
            if value.chars().any(char::is_whitespace) {
                return Err(Failure::usage(anyhow!(
                    "the {kind} contains whitespace; paste only the value"
                )));
            }
            let is_http = value.starts_with("https://") || value.starts_with("http://");
            if kind == SecretKind::TeamWebhook && !is_http {
                return Err(Failure::usage(anyhow!(
                    "the team-webhook must be an http(s) URL"
                )));
            }
            let secret = Secret::new(value);
            keychain.set(&name, kind, &secret)?;
            println!(
                "stored the {kind} of {name} in the OS keychain ({})",
                secret.masked()
            );
            Ok(())
        }
        SecretCommand::Delete { name, kind } => {
            let kind = parse_kind(&kind)?;
            if keychain.delete(&name, kind)? {
                println!("deleted the {kind} of {name} from the OS keychain");
            } else {
                println!("no {kind} of {name} was stored");
            }
            Ok(())
        }
    }
}
