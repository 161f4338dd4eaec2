//! `meta-monitor token show|renew|exchange NAME`: the token as Meta's debugger shows it, a
//! renewal now, and the exchange of a short-lived user token (read from stdin, never argv).

use std::io::Read;

use anyhow::anyhow;
use clap::Subcommand;
use meta_monitor_core::tile::{Detail, Tile};

use super::Session;
use crate::{Failure, output};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Check the access token now and show its type, app, user, expiry, data access, scopes,
    /// what each missing scope breaks, and what automatic renewal does.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Renew the access token now (Meta's exchange), verify it and keep it in the keychain.
    Renew {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Read a short-lived user token from stdin (Graph API Explorer's), exchange it for a
    /// long-lived one with the account's app id and secret, and keep only that one.
    Exchange {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: TokenCommand, session: &Session) -> Result<(), Failure> {
    let (name, json) = match &cmd {
        TokenCommand::Show { name, json }
        | TokenCommand::Renew { name, json }
        | TokenCommand::Exchange { name, json } => (name.clone(), *json),
    };
    let short_lived = match cmd {
        TokenCommand::Exchange { .. } => Some(read_stdin(&name)?),
        _ => None,
    };
    let (runtime, app) = session.open(session.options(Some(&name)))?;
    let tile = runtime.block_on(async {
        match (&cmd, &short_lived) {
            (TokenCommand::Renew { .. }, _) => app.renew_token(&name).await,
            (TokenCommand::Exchange { .. }, Some(token)) => app.exchange_token(&name, token).await,
            _ => app.token(&name).await,
        }
    })?;
    if json {
        return output::print_json(&tile);
    }
    match cmd {
        TokenCommand::Renew { .. } => println!("renewed the access token of {name}"),
        TokenCommand::Exchange { .. } => {
            println!("exchanged for a long-lived token and stored it for {name}");
        }
        TokenCommand::Show { .. } => {}
    }
    {
        print_token(&tile);
        Ok(())
    }
}

fn read_stdin(name: &str) -> Result<String, Failure> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| anyhow!("reading the token from stdin: {e}"))?;
    if raw.trim().is_empty() {
        return Err(Failure::usage(anyhow!(
            "no token on stdin; pipe it in, e.g. `xclip -o | meta-monitor token exchange {name}`"
        )));
    }
    Ok(raw)
}

fn print_token(tile: &Tile) {
    println!(
        "status           {}  {}",
        tile.status.as_str(),
        tile.message
    );
    let Detail::Token(d) = &tile.detail else {
        return;
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let when =
        |t: &Option<time::OffsetDateTime>| t.map_or_else(|| "-".to_owned(), output::timestamp);
    println!("type             {}", show(&d.token_type));
    println!(
        "app              {} {}",
        show(&d.app_id),
        d.application
            .as_ref()
            .map(|a| format!("({a})"))
            .unwrap_or_default()
    );
    println!("user             {}", show(&d.user_id));
    println!("issued           {}", when(&d.issued_at));
    let expires = if d.never_expires {
        "never".to_owned()
    } else {
        when(&d.expires_at)
    };
    println!("expires          {expires}");
    println!("data access ends {}", when(&d.data_access_expires_at));
    println!("scopes           {}", d.scopes.join(", "));
    for g in &d.granular_scopes {
        let targets = g
            .target_ids
            .as_ref()
            .map_or_else(|| "all assets".to_owned(), |ids| ids.join(", "));
        println!("  {:<22} {targets}", g.scope);
    }
    for m in &d.missing {
        println!("missing          {} — breaks {}", m.scope, m.feature);
    }
    if let Some(r) = &d.renewal {
        let plan = match (&r.impossible, r.auto, &r.due_at) {
            (Some(why), _, _) => format!("not possible: {why}"),
            (None, false, _) => "automatic renewal is off (token_auto_renew=false)".to_owned(),
            (None, true, Some(_)) => format!(
                "automatic, {} days before expiry, from {}",
                r.days_before,
                when(&r.due_at)
            ),
            (None, true, None) => "automatic".to_owned(),
        };
        println!("renewal          {plan}");
        if let Some(failed) = &r.failed {
            println!("last renewal     failed: {failed}");
        }
    }
}
