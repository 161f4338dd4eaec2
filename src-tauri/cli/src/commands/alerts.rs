//! `meta-monitor alerts [NAME] [--json]` (the notification history) and
//! `meta-monitor notify-test NAME` (one test notification through every channel).

use anyhow::anyhow;
use meta_monitor_core::app::Options;
use meta_monitor_core::store::alerts::Notification;
use serde::Serialize;

use super::Session;
use crate::{Failure, output};

#[derive(Serialize)]
struct Row<'a> {
    account: &'a str,
    #[serde(flatten)]
    notification: &'a Notification,
}

pub fn history(session: &Session, name: Option<&str>, json: bool) -> Result<(), Failure> {
    let options = Options {
        secrets: false,
        ..session.options(name)
    };
    let (_runtime, app) = session.open(options)?;
    let mut all = Vec::new();
    for account in app.account_names() {
        for n in app.alerts(&account)? {
            all.push((account.clone(), n));
        }
    }
    all.sort_by_key(|(_, n)| std::cmp::Reverse(n.at));
    if json {
        let rows: Vec<Row<'_>> = all
            .iter()
            .map(|(a, n)| Row {
                account: a,
                notification: n,
            })
            .collect();
        return output::print_json(&rows);
    }
    if all.is_empty() {
        println!("no notifications yet");
    }
    for (account, n) in &all {
        let at = output::timestamp(n.at);
        let outcome = match &n.error {
            None => "delivered".to_owned(),
            Some(e) => format!("FAILED ({e})"),
        };
        println!(
            "{at}  {account:<12} {:<7} {:<8} {:<8} {outcome}  {}",
            n.kind, n.severity, n.channel, n.title
        );
    }
    Ok(())
}

pub fn notify_test(session: &Session, name: &str) -> Result<(), Failure> {
    let (_runtime, app) = session.open(session.options(Some(name)))?;
    let outcomes = app.notify_test(name)?;
    for (channel, outcome) in &outcomes {
        match outcome {
            Ok(()) => println!("{channel}: delivered"),
            Err(e) => println!("{channel}: FAILED: {e}"),
        }
    }
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    if failed > 0 {
        return Err(anyhow!("{failed} of {} channel(s) failed", outcomes.len()).into());
    }
    Ok(())
}
