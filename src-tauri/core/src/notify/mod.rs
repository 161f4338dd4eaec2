//! Notifiers: one trait, one file per channel, a pure message builder apart from the I/O.
//! Sending blocks (D-Bus, HTTP with retries): call it outside async code or in
//! `spawn_blocking`.

pub mod desktop;
pub mod webhook;

use serde::Serialize;

use crate::alert::{Action, ActionKind, Severity};

/// What every channel sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub account: String,
    pub severity: Severity,
    pub kind: ActionKind,
    /// One line: "shop: The access token is invalid or expired".
    pub summary: String,
    pub body: String,
}

/// The message for an alert action of an account. Pure, so the wording is tested apart from
/// any channel.
pub fn build_message(account: &str, action: &Action) -> Message {
    Message {
        account: account.to_owned(),
        severity: action.severity,
        kind: action.kind,
        summary: format!("{account}: {}", action.title),
        body: action.body.clone(),
    }
}

pub trait Notifier: Send + Sync {
    /// The channel's name in the history table (`desktop`, `webhook`).
    fn channel(&self) -> &'static str;
    /// Delivers one message; the error says why in words.
    fn send(&self, message: &Message) -> Result<(), String>;
}

/// Sends `message` through every notifier; each outcome is returned, none stops the others.
pub fn send_all(
    notifiers: &[Box<dyn Notifier>],
    message: &Message,
) -> Vec<(&'static str, Result<(), String>)> {
    notifiers
        .iter()
        .map(|n| (n.channel(), n.send(message)))
        .collect()
}

/// An account's channels as its settings choose them: the desktop, and the team webhook when
/// its URL is in the keychain (5 s timeout, 2 retries).
pub fn channels(
    monitoring: &crate::account::Monitoring,
    team_webhook: Option<crate::Secret>,
) -> Result<Vec<Box<dyn Notifier>>, String> {
    let mut list: Vec<Box<dyn Notifier>> = Vec::new();
    if monitoring.notify_desktop {
        list.push(Box::new(desktop::Desktop));
    }
    if let Some(url) = team_webhook.filter(|_| monitoring.notify_team_webhook) {
        let hook = webhook::Webhook::new(url, std::time::Duration::from_secs(5), 2)?;
        list.push(Box::new(hook));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_follow_the_account_settings() {
        let url = || Some(crate::Secret::new("http://127.0.0.1:9/hook"));
        let names = |m: &crate::account::Monitoring, hook| -> Vec<&'static str> {
            channels(m, hook)
                .map(|l| l.iter().map(|n| n.channel()).collect())
                .unwrap_or_default()
        };
        let mut m = crate::account::Monitoring::default();
        assert_eq!(names(&m, url()).len(), 2);
        assert_eq!(names(&m, None).len(), 1, "no URL, no team channel");
        m.notify_desktop = false;
        let only_team = names(&m, url());
        assert_eq!(only_team.len(), 1);
        assert_ne!(only_team[0], desktop::Desktop.channel());
        m.notify_team_webhook = false;
        assert!(names(&m, url()).is_empty());
    }

    #[test]
    fn messages_name_the_account_and_keep_the_reason() {
        let action = Action {
            kind: ActionKind::Fire,
            key: "token_invalid".into(),
            severity: Severity::Critical,
            title: "The access token is invalid or expired".into(),
            body: "token invalid: the password was changed: create a new token".into(),
        };
        let m = build_message("shop", &action);
        assert_eq!(m.summary, "shop: The access token is invalid or expired");
        assert!(
            m.body.contains("password was changed"),
            "Meta's reason survives: {}",
            m.body
        );
    }
}
