//! `meta-monitor proxy [show|set URL|clear]`: the installation's HTTPS proxy, shared with the
//! desktop app (Settings) through the database.

use clap::Subcommand;
use meta_monitor_core::app::Options;

use super::Session;
use crate::Failure;

#[derive(Subcommand)]
pub enum ProxyCommand {
    /// Print the proxy (or say that the environment's is used).
    Show,
    /// Use this proxy for Meta and the team webhook: http://host:port (no password).
    Set { url: String },
    /// Forget the proxy: HTTPS_PROXY / ALL_PROXY apply again.
    Clear,
}

pub fn run(cmd: ProxyCommand, session: &Session) -> Result<(), Failure> {
    let options = Options {
        secrets: false,
        ..session.options(None)
    };
    let (runtime, app) = session.open(options)?;
    match cmd {
        ProxyCommand::Show => match app.proxy()? {
            Some(url) => println!("{url}"),
            None => println!("none (HTTPS_PROXY, ALL_PROXY and NO_PROXY apply when set)"),
        },
        ProxyCommand::Set { url } => {
            runtime.block_on(app.set_proxy(Some(&url)))?;
            println!(
                "HTTPS proxy set; loopback addresses and NO_PROXY's hosts are reached directly"
            );
        }
        ProxyCommand::Clear => {
            runtime.block_on(app.set_proxy(None))?;
            println!("HTTPS proxy cleared");
        }
    }
    Ok(())
}
