//! `meta-monitor account add|list|show|set|remove`.

use clap::Subcommand;
use meta_monitor_core::Account;
use meta_monitor_core::app::Options;

use super::Session;
use crate::{Failure, output};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum AccountCommand {
    /// Add an account. Secrets are set separately with `secret set`.
    Add {
        name: String,
        #[arg(long)]
        graph_url: Option<String>,
        #[arg(long)]
        api_version: Option<String>,
        #[arg(long)]
        app_id: Option<String>,
        /// act_<digits> or <digits>.
        #[arg(long)]
        ad_account: Option<String>,
        #[arg(long)]
        pixel: Option<String>,
        #[arg(long)]
        catalog: Option<String>,
        #[arg(long)]
        business: Option<String>,
        #[arg(long)]
        test_event_code: Option<String>,
        /// A webhook callback URL of yours that Meta Monitor may check (repeatable).
        #[arg(long = "webhook-endpoint")]
        webhook_endpoints: Vec<String>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change polling intervals, thresholds or notification channels, e.g.
    /// `account set shop pixel_minutes=20 notify_desktop=false` (see `account show`).
    Set {
        name: String,
        /// KEY=VALUE pairs.
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Remove an account with its stored history and its keychain entries.
    Remove { name: String },
}

pub fn run(cmd: AccountCommand, session: &Session) -> Result<(), Failure> {
    // The database's accounts, none of the keychain's secrets: these commands only configure.
    let options = Options {
        secrets: false,
        ..session.options(None)
    };
    let (_runtime, app) = session.open(options)?;
    match cmd {
        AccountCommand::Add {
            name,
            graph_url,
            api_version,
            app_id,
            ad_account,
            pixel,
            catalog,
            business,
            test_event_code,
            webhook_endpoints,
        } => {
            let mut account = Account::new(name);
            if let Some(url) = graph_url {
                account.graph_url = url;
            }
            if let Some(v) = api_version {
                account.api_version = v;
            }
            account.app_id = app_id;
            account.ad_account_id = ad_account;
            account.pixel_id = pixel;
            account.catalog_id = catalog;
            account.business_id = business;
            account.test_event_code = test_event_code;
            account.webhook_endpoints = webhook_endpoints;
            let name = account.name.clone();
            let note = app.save_account(account, true)?;
            println!("added account {name}");
            if let Some(note) = note {
                println!("note: {note}");
            }
            Ok(())
        }
        AccountCommand::List { json } => {
            let accounts = app.accounts()?;
            if json {
                output::print_json(&accounts)?;
            } else if accounts.is_empty() {
                println!(
                    "no accounts yet; add one with: meta-monitor account add NAME --ad-account act_… --pixel …"
                );
            } else {
                for a in &accounts {
                    println!("{}\t{}/{}", a.name, a.graph_url, a.api_version);
                }
            }
            Ok(())
        }
        AccountCommand::Show { name, json } => {
            let account = app.account(&name)?;
            if json {
                output::print_json(&account)?;
            } else {
                output::print_account(&account);
                if let Some(warning) = account.graph_url_warning() {
                    println!("warning: {warning}");
                }
            }
            Ok(())
        }
        AccountCommand::Set { name, settings } => {
            let mut account = app.account(&name)?;
            for pair in &settings {
                let (key, value) = pair.split_once('=').ok_or_else(|| {
                    Failure::usage(anyhow::anyhow!("expected KEY=VALUE, got {pair:?}"))
                })?;
                account
                    .monitoring
                    .set(key.trim(), value.trim())
                    .map_err(|e| Failure::usage(anyhow::anyhow!(e)))?;
            }
            app.save_account(account, false)?;
            println!("updated {} setting(s) of {name}", settings.len());
            Ok(())
        }
        AccountCommand::Remove { name } => {
            // With its history and its keychain entries: a re-added account of the same
            // name must not inherit the old token.
            match app.remove_account(&name)? {
                None => println!("removed account {name} and its keychain entries"),
                Some(note) => println!("removed account {name}; {note}"),
            }
            Ok(())
        }
    }
}
