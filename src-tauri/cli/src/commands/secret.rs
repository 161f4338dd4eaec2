//! `meta-monitor secret set|delete NAME access-token|app-secret`. The value is read from
//! stdin, never from argv (where `ps` and shell history would see it).

use std::io::Read;

use anyhow::anyhow;
use clap::Subcommand;
use meta_monitor_core::app::Options;
use meta_monitor_core::app::types::SecretName;

use super::Session;
use crate::Failure;

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Read the value from stdin and store it in the OS keychain.
    Set { name: String, kind: String },
    /// Delete the value from the OS keychain.
    Delete { name: String, kind: String },
}

fn parse_kind(kind: &str) -> Result<SecretName, Failure> {
    SecretName::parse(kind).ok_or_else(|| {
        Failure::usage(anyhow!(
            "unknown secret kind {kind:?}: use access-token, app-secret, team-webhook, verify-token or capi-token"
        ))
    })
}

pub fn run(cmd: SecretCommand, session: &Session) -> Result<(), Failure> {
    // One account's settings, none of the keychain's secrets: this command writes them.
    let only = |name: &str| Options {
        secrets: false,
        ..session.options(Some(name))
    };
    match cmd {
        SecretCommand::Set { name, kind } => {
            let kind = parse_kind(&kind)?;
            let (_runtime, app) = session.open(only(&name))?;
            let mut raw = String::new();
            std::io::stdin()
                .read_to_string(&mut raw)
                .map_err(|e| anyhow!("reading the {} from stdin: {e}", kind.as_str()))?;
            if raw.trim().is_empty() {
                return Err(Failure::usage(anyhow!(
                    "no {kind} on stdin; pipe it in, e.g. `pass meta/token | meta-monitor secret set {name} {kind}`",
                    kind = kind.as_str()
                )));
            }
            let masked = app.set_secret(&name, kind, &raw)?;
            println!(
                "stored the {} of {name} in the OS keychain ({masked})",
                kind.as_str()
            );
            Ok(())
        }
        SecretCommand::Delete { name, kind } => {
            let kind = parse_kind(&kind)?;
            // The account need not exist: an entry left behind must be deletable.
            let options = Options {
                secrets: false,
                ..session.options(None)
            };
            let (_runtime, app) = session.open(options)?;
            if app.delete_secret(&name, kind)? {
                println!(
                    "deleted the {} of {name} from the OS keychain",
                    kind.as_str()
                );
            } else {
                println!("no {} of {name} was stored", kind.as_str());
            }
            Ok(())
        }
    }
}
