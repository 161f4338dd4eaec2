//! The daily findings digest for the team channel: once a day, at an hour the account chooses,
//! the diagnostics' errors and warnings in one message — what is wrong but not urgent enough
//! to page anyone (low match quality, missing keys, late events) reaches the team without
//! someone opening the Diagnostics view. Pure: when it is due, the claim that makes it go out
//! once a day however many processes watch the account, and its wording.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime, Time};

use super::{Action, ActionKind, AlertState, Severity};
use crate::diagnose::{Finding, Level};

/// Its key in the alert memory and the notification history.
pub const KEY: &str = "findings_digest";

/// The digest time at or before `now`: today at `hour_utc`:00 UTC, or yesterday's when today's
/// is still ahead. An hour out of range counts as 23.
pub fn due_at(now: OffsetDateTime, hour_utc: u32) -> OffsetDateTime {
    let hour = u8::try_from(hour_utc.min(23)).unwrap_or(23);
    let today = now
        .to_offset(time::UtcOffset::UTC)
        .replace_time(Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT));
    if today > now {
        today - Duration::DAY
    } else {
        today
    }
}

/// Claims the digest due at `due` in `states` (the alert memory, written in the same database
/// transaction as the notification rows): true when none went out since `due`, and from now
/// on false until the next day's.
pub fn claim(
    states: &mut BTreeMap<String, AlertState>,
    due: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    let state = states.entry(KEY.to_owned()).or_default();
    if state.last_sent.is_some_and(|last| last >= due) {
        return false;
    }
    // The first digest waits for the chosen hour of a day: switched on at 07:00 for 08:00,
    // it is not "yesterday's" at once and today's an hour later.
    if state.last_sent.is_none() && due.date() != now.to_offset(time::UtcOffset::UTC).date() {
        return false;
    }
    state.last_sent = Some(now);
    true
}

/// The digest of `findings`' errors and warnings, errors first; `None` when nothing needs
/// doing (notes alone are not worth a message a day).
pub fn action(account: &str, findings: &[Finding]) -> Option<Action> {
    let mut worth: Vec<&Finding> = findings.iter().filter(|f| f.level != Level::Info).collect();
    if worth.is_empty() {
        return None;
    }
    worth.sort_by_key(|f| f.level);
    let errors = worth.iter().filter(|f| f.level == Level::Error).count();
    let warnings = worth.len() - errors;
    let counted = |n: usize, one: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{n} {one}s"),
    };
    let title = match (errors, warnings) {
        (0, w) => format!("Daily findings: {}", counted(w, "warning")),
        (e, 0) => format!("Daily findings: {}", counted(e, "error")),
        (e, w) => format!(
            "Daily findings: {}, {}",
            counted(e, "error"),
            counted(w, "warning")
        ),
    };
    let mut body = String::new();
    for f in &worth {
        let level = if f.level == Level::Error {
            "ERROR"
        } else {
            "warning"
        };
        body.push_str(&format!(
            "- {level} {} ({}): {}\n  Fix: {} {}\n",
            f.title, f.id, f.evidence, f.fix, f.link
        ));
    }
    body.push_str(&format!(
        "Details: the Diagnostics view, or `meta-monitor diagnose {account}`."
    ));
    Some(Action {
        kind: ActionKind::Digest,
        key: KEY.to_owned(),
        severity: if errors > 0 {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::Service;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("an RFC 3339 time")
    }

    fn finding(id: &str, level: Level) -> Finding {
        Finding {
            id: id.to_owned(),
            level,
            service: Service::ConversionsApi,
            title: format!("title of {id}"),
            evidence: format!("evidence of {id}"),
            fix: format!("fix of {id}."),
            link: format!("https://example.com/{id}"),
            view: None,
        }
    }

    #[test]
    fn the_digest_is_due_at_the_chosen_hour_of_the_current_utc_day() {
        assert_eq!(
            due_at(at("2026-12-02T09:30:00Z"), 8),
            at("2026-12-02T08:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-12-02T08:00:00Z"), 8),
            at("2026-12-02T08:00:00Z"),
            "due at the hour itself"
        );
        assert_eq!(
            due_at(at("2026-12-02T07:59:59Z"), 8),
            at("2026-12-01T08:00:00Z"),
            "before the hour, yesterday's is the latest"
        );
        assert_eq!(
            due_at(at("2026-12-02T03:00:00+05:00"), 0),
            at("2026-12-01T00:00:00Z"),
            "hours are UTC whatever the offset of `now`"
        );
        assert_eq!(
            due_at(at("2026-12-02T23:30:00Z"), 99),
            at("2026-12-02T23:00:00Z")
        );
    }

    #[test]
    fn a_digest_is_claimed_once_per_day() {
        let mut states = BTreeMap::new();
        let early = at("2026-12-02T07:00:00Z");
        assert!(
            !claim(&mut states, due_at(early, 8), early),
            "the first digest waits for the hour"
        );
        let first = at("2026-12-02T08:05:00Z");
        assert!(claim(&mut states, due_at(first, 8), first), "never sent");
        let later = at("2026-12-02T20:00:00Z");
        assert!(
            !claim(&mut states, due_at(later, 8), later),
            "already sent today"
        );
        let before_next = at("2026-12-03T07:59:00Z");
        assert!(!claim(&mut states, due_at(before_next, 8), before_next));
        let next = at("2026-12-03T08:00:00Z");
        assert!(claim(&mut states, due_at(next, 8), next), "the next day's");
        assert_eq!(states[KEY].last_sent, Some(next));
        assert!(!states[KEY].firing, "a digest is never a firing alert");
    }

    #[test]
    fn the_digest_lists_errors_then_warnings_with_their_fixes_and_skips_notes() {
        assert_eq!(action("shop", &[]), None);
        assert_eq!(
            action(
                "shop",
                &[finding("dataset_quality_unreadable", Level::Info)]
            ),
            None,
            "notes alone send nothing"
        );
        let findings = [
            finding("match_quality_low", Level::Warning),
            finding("dataset_quality_unreadable", Level::Info),
            finding("server_events_stopped", Level::Error),
            finding("events_late", Level::Warning),
        ];
        let digest = action("shop", &findings).expect("a digest");
        assert_eq!(digest.kind, ActionKind::Digest);
        assert_eq!(digest.key, KEY);
        assert_eq!(digest.severity, Severity::Critical);
        assert_eq!(digest.title, "Daily findings: 1 error, 2 warnings");
        let stopped = digest
            .body
            .find("server_events_stopped")
            .expect("the error");
        let quality = digest.body.find("match_quality_low").expect("a warning");
        assert!(stopped < quality, "errors first: {}", digest.body);
        assert!(digest.body.contains("evidence of server_events_stopped"));
        assert!(digest.body.contains("Fix: fix of events_late."));
        assert!(
            digest
                .body
                .contains("https://example.com/match_quality_low")
        );
        assert!(!digest.body.contains("dataset_quality_unreadable"));
        assert!(digest.body.contains("meta-monitor diagnose shop"));

        let only_warning = action("shop", &findings[..1]).expect("a digest");
        assert_eq!(only_warning.severity, Severity::Warning);
        assert_eq!(only_warning.title, "Daily findings: 1 warning");
    }
}
