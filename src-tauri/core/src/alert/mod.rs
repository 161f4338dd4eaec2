//! Alerts: which conditions hold after a check ([`rules`]), and a pure decision function that
//! turns them into fire / remind / resolve actions with thresholds, so a flapping service gives
//! one alert and one resolution instead of a flood ([`decide`]). The state is plain data,
//! persisted by the store, so a restart neither repeats nor loses an alert.

pub mod rules;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One condition a check observed, active or not. `key` names the rule and what it is about
/// (e.g. `token_expiry_7d`, `down:pixel`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub key: String,
    pub active: bool,
    pub severity: Severity,
    /// Fires on the first active check, not after the failure threshold (token rules).
    pub immediate: bool,
    /// Fires once and never reminds or resolves (the 14/7/1-day expiry warnings).
    pub once: bool,
    pub title: String,
    pub body: String,
}

/// Thresholds, configurable per account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub fail_after: u32,
    pub resolve_after: u32,
    pub remind_every: Duration,
    pub send_resolved: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            fail_after: 3,
            resolve_after: 2,
            remind_every: Duration::from_secs(4 * 3600),
            send_resolved: true,
        }
    }
}

/// What is remembered per condition between checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    pub firing: bool,
    pub failures: u32,
    pub passes: u32,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_sent: Option<OffsetDateTime>,
    /// For `once` conditions: already announced.
    pub announced: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Fire,
    Remind,
    Resolve,
}

/// A notification to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    pub key: String,
    pub severity: Severity,
    pub title: String,
    pub body: String,
}

/// The pure decision: updates `states` with this check's `conditions` and returns what to send.
/// Conditions missing from this check leave their state untouched (not measured ≠ passing).
pub fn decide(
    states: &mut BTreeMap<String, AlertState>,
    conditions: &[Condition],
    now: OffsetDateTime,
    policy: &Policy,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for c in conditions {
        let state = states.entry(c.key.clone()).or_default();
        let action = |kind: ActionKind, title: &str| Action {
            kind,
            key: c.key.clone(),
            severity: if kind == ActionKind::Resolve {
                Severity::Info
            } else {
                c.severity
            },
            title: title.to_owned(),
            body: c.body.clone(),
        };
        if c.once {
            if c.active && !state.announced {
                state.announced = true;
                state.last_sent = Some(now);
                actions.push(action(ActionKind::Fire, &c.title));
            } else if !c.active && state.announced {
                // Measured inactive again (a renewed token is far from expiry): the next
                // time it holds is news again.
                state.announced = false;
            }
            continue;
        }
        if c.active {
            state.failures = state.failures.saturating_add(1);
            state.passes = 0;
            let threshold = if c.immediate {
                1
            } else {
                policy.fail_after.max(1)
            };
            if !state.firing && state.failures >= threshold {
                state.firing = true;
                state.last_sent = Some(now);
                actions.push(action(ActionKind::Fire, &c.title));
            } else if state.firing {
                let due = state
                    .last_sent
                    .is_none_or(|t| now - t >= policy.remind_every);
                if due {
                    state.last_sent = Some(now);
                    actions.push(action(ActionKind::Remind, &format!("Still: {}", c.title)));
                }
            }
        } else {
            state.passes = state.passes.saturating_add(1);
            state.failures = 0;
            if state.firing && state.passes >= policy.resolve_after.max(1) {
                state.firing = false;
                state.last_sent = Some(now);
                if policy.send_resolved {
                    actions.push(action(
                        ActionKind::Resolve,
                        &format!("Resolved: {}", c.title),
                    ));
                }
            }
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(active: bool) -> Condition {
        Condition {
            key: "down:graph_api".into(),
            active,
            severity: Severity::Critical,
            immediate: false,
            once: false,
            title: "graph_api is DOWN".into(),
            body: "unreachable".into(),
        }
    }

    fn at(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minutes)
    }

    #[test]
    fn a_flapping_service_gives_one_alert_and_one_resolution() {
        let policy = Policy::default();
        let mut states = BTreeMap::new();
        let mut sent = Vec::new();
        // Down for 5 checks, then flapping down/up every minute for an hour, then up.
        let mut pattern: Vec<bool> = vec![true; 5];
        pattern.extend((0..60).map(|i| i % 2 == 0));
        pattern.extend([false, false, false]);
        for (i, active) in pattern.into_iter().enumerate() {
            sent.extend(decide(&mut states, &[cond(active)], at(i as i64), &policy));
        }
        let kinds: Vec<ActionKind> = sent.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![ActionKind::Fire, ActionKind::Resolve],
            "{sent:#?}"
        );
        assert_eq!(
            sent[1].severity,
            Severity::Info,
            "resolutions are informational"
        );
    }

    #[test]
    fn thresholds_reminders_and_restarts() {
        let policy = Policy::default();
        let mut states = BTreeMap::new();
        assert!(
            decide(&mut states, &[cond(true)], at(0), &policy).is_empty(),
            "1st failure"
        );
        assert!(
            decide(&mut states, &[cond(true)], at(1), &policy).is_empty(),
            "2nd failure"
        );
        let fired = decide(&mut states, &[cond(true)], at(2), &policy);
        assert_eq!(fired.len(), 1, "fires on the 3rd consecutive failure");
        // A restart: the state is serialized and read back; nothing is re-sent.
        let saved = serde_json::to_string(&states).expect("serializes");
        let mut restored: BTreeMap<String, AlertState> =
            serde_json::from_str(&saved).expect("parses");
        assert!(
            decide(&mut restored, &[cond(true)], at(3), &policy).is_empty(),
            "no repeat"
        );
        let remind = decide(&mut restored, &[cond(true)], at(2 + 240), &policy);
        assert_eq!(
            remind.first().map(|a| a.kind),
            Some(ActionKind::Remind),
            "reminds after 4 h"
        );
        assert!(decide(&mut restored, &[cond(true)], at(2 + 241), &policy).is_empty());
        assert!(
            decide(&mut restored, &[], at(2 + 300), &policy).is_empty(),
            "unmeasured is not passing"
        );
        assert!(
            decide(&mut restored, &[cond(false)], at(2 + 301), &policy).is_empty(),
            "1 pass"
        );
        let resolved = decide(&mut restored, &[cond(false)], at(2 + 302), &policy);
        assert_eq!(
            resolved.first().map(|a| a.kind),
            Some(ActionKind::Resolve),
            "2 passes resolve"
        );
    }

    #[test]
    fn once_conditions_fire_once_and_immediate_ones_at_once() {
        let policy = Policy::default();
        let mut states = BTreeMap::new();
        let mut week = cond(true);
        week.key = "token_expiry_7d".into();
        week.once = true;
        assert_eq!(
            decide(&mut states, &[week.clone()], at(0), &policy).len(),
            1
        );
        for i in 1..100 {
            assert!(
                decide(&mut states, &[week.clone()], at(i * 60), &policy).is_empty(),
                "once only"
            );
        }
        let mut invalid = cond(true);
        invalid.key = "token_invalid".into();
        invalid.immediate = true;
        assert_eq!(
            decide(&mut states, &[invalid], at(0), &policy).len(),
            1,
            "immediate"
        );
    }
}
