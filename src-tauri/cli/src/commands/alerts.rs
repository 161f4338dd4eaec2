//! `meta-monitor alerts [NAME] [--json]` (the notification history) and
//! `meta-monitor notify-test NAME` (one test notification through every channel).

use anyhow::anyhow;
use meta_monitor_core::alert::{Action, ActionKind, Severity};
use meta_monitor_core::notify::{build_message, send_all};
use meta_monitor_core::secrets::{Keychain, SecretKind};
use meta_monitor_core::store::Store;
use meta_monitor_core::store::alerts::Notification;
use serde::Serialize;
use time::OffsetDateTime;

use super::check::{notifiers, selected};
use crate::{Failure, output};

#[derive(Serialize)]
struct Row<'a> {
    account: &'a str,
    #[serde(flatten)]
    notification: &'a Notification,
}

pub fn history(store: &Store, name: Option<&str>, json: bool) -> Result<(), Failure> {
    let mut all = Vec::new();
    for stored in selected(store, name)? {
        for n in store.notifications(stored.id, 200)? {
            all.push((stored.account.name.clone(), n));
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
        let at =
            n.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
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

pub fn notify_test(store: &mut Store, name: &str) -> Result<(), Failure> {
    let stored = selected(store, Some(name))?.remove(0);
    let webhook = Keychain::new().get(name, SecretKind::TeamWebhook)?;
    let notifiers = notifiers(&stored.account.monitoring, webhook)?;
    let action = Action {
        kind: ActionKind::Fire,
        key: "test".to_owned(),
        severity: Severity::Info,
        title: "Test notification from Meta Monitor".to_owned(),
        body: "If you can read this, alerts for this account reach you here.".to_owned(),
    };
    let outcomes = send_all(&notifiers, &build_message(name, &action));
    for (channel, outcome) in &outcomes {
        match outcome {
            Ok(()) => println!("{channel}: delivered"),
            Err(e) => println!("{channel}: FAILED: {e}"),
        }
    }
    let sent: Vec<_> = outcomes
        .iter()
        .map(|(c, o)| (action.clone(), (*c).to_owned(), o.clone()))
        .collect();
    let states = store.alert_states(stored.id)?;
    store.save_alerts(stored.id, &states, &sent, OffsetDateTime::now_utc())?;
    let failed = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    if failed > 0 {
        return Err(anyhow!("{failed} of {} channel(s) failed", outcomes.len()).into());
    }
    Ok(())
}
