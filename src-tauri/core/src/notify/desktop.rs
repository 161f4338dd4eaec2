//! The desktop channel: a notification through the session's notification server
//! (`notify-rust`), urgency matching severity. No server → an error to record, never a crash.

use notify_rust::{Notification, Urgency};

use super::{Message, Notifier};
use crate::alert::Severity;

#[derive(Debug, Default)]
pub struct Desktop;

impl Notifier for Desktop {
    fn channel(&self) -> &'static str {
        "desktop"
    }

    fn send(&self, message: &Message) -> Result<(), String> {
        let urgency = match message.severity {
            Severity::Info => Urgency::Low,
            Severity::Warning => Urgency::Normal,
            Severity::Critical => Urgency::Critical,
        };
        Notification::new()
            .appname("Meta Monitor")
            .summary(&message.summary)
            .body(&message.body)
            .urgency(urgency)
            .show()
            .map(|_| ())
            .map_err(|e| format!("no desktop notification server answered: {e}"))
    }
}
