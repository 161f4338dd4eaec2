//! Alerts: which conditions hold after a check ([`rules`]), and a pure decision function that
//! turns them into fire / remind / resolve actions with thresholds, so a flapping service gives
//! one alert and one resolution instead of a flood ([`decide`]). The state is plain data,
//! persisted by the store, so a restart neither repeats nor loses an alert. Operators' decisions
//! live here too: an acknowledged alert stops reminding, and a silence or maintenance window
//! ([`hold`]) holds alerts until it ends.

pub mod digest;
pub mod hold;
pub mod rules;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::tile::Service;
pub use hold::{Hold, HoldKind, HoldWindow, Holds};

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
    /// The service it is about (`None`: the account as a whole, e.g. the keychain).
    pub service: Option<Service>,
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
    /// Who acknowledged the firing alert, and when: no reminders until it resolves.
    #[serde(default)]
    pub acknowledged: Option<Acknowledgement>,
    /// Fired during a silence or maintenance window and not sent yet: sent when the hold
    /// ends if still firing, never if it resolved meanwhile.
    #[serde(default)]
    pub held: Option<HeldAlert>,
    /// What the firing alert says and since when (for the Alerts view).
    #[serde(default)]
    pub title: String,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub since: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// An alert decided while held, kept to be sent when the hold ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAlert {
    pub service: Option<Service>,
    pub severity: Severity,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Fire,
    Remind,
    Resolve,
    /// The daily findings digest ([`digest`]): not an alert's state change.
    Digest,
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
///
/// While `holds` hold a condition's service, a new alert is kept (not sent) and no reminder
/// is sent; when the hold ends, a kept alert still firing is sent — at this decision, whether
/// or not its condition was measured in it. An alert that resolves while kept is never sent;
/// the resolution of one that was sent before the hold is sent (the team was told it broke).
/// An acknowledged alert sends no reminder, and its resolution as usual.
pub fn decide(
    states: &mut BTreeMap<String, AlertState>,
    conditions: &[Condition],
    now: OffsetDateTime,
    policy: &Policy,
    holds: &Holds,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for c in conditions {
        let state = states.entry(c.key.clone()).or_default();
        let held = holds.holding(c.service, now).is_some();
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
            // Held: not announced yet, so the first check after the hold announces it.
            if c.active && !state.announced && !held {
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
                state.since = Some(now);
                state.title.clone_from(&c.title);
                if held {
                    state.held = Some(HeldAlert {
                        service: c.service,
                        severity: c.severity,
                        body: c.body.clone(),
                    });
                } else {
                    state.last_sent = Some(now);
                    actions.push(action(ActionKind::Fire, &c.title));
                }
            } else if state.firing && state.held.is_some() {
                // The newest words go out when the hold ends (the release pass below).
                state.held = Some(HeldAlert {
                    service: c.service,
                    severity: c.severity,
                    body: c.body.clone(),
                });
            } else if state.firing && !held && state.acknowledged.is_none() {
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
                state.acknowledged = None;
                state.since = None;
                // Kept and never sent: nobody needs to hear it is over.
                let announced = state.held.take().is_none();
                if announced {
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
    }
    actions.extend(release(states, now, holds));
    actions
}

/// Sends the kept alerts whose hold has ended and that still fire.
fn release(
    states: &mut BTreeMap<String, AlertState>,
    now: OffsetDateTime,
    holds: &Holds,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for (key, state) in states.iter_mut() {
        let Some(kept) = &state.held else { continue };
        // Still held; or someone took it on during the hold (the team needs no page, and
        // stays kept so its resolution is not sent either); or the last check passed (it is
        // on its way to resolving: a page now would be followed by "Resolved" at once).
        if !state.firing
            || holds.holding(kept.service, now).is_some()
            || state.acknowledged.is_some()
            || state.passes > 0
        {
            continue;
        }
        actions.push(Action {
            kind: ActionKind::Fire,
            key: key.clone(),
            severity: kept.severity,
            title: state.title.clone(),
            body: kept.body.clone(),
        });
        state.held = None;
        state.last_sent = Some(now);
    }
    actions
}

/// Why an acknowledgement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("no alert {0:?} is firing")]
    NotFiring(String),
}

/// Acknowledges the firing alert `key`: no reminders until it resolves.
pub fn acknowledge(
    states: &mut BTreeMap<String, AlertState>,
    key: &str,
    by: &str,
    now: OffsetDateTime,
) -> Result<(), AckError> {
    match states.get_mut(key) {
        Some(state) if state.firing => {
            state.acknowledged = Some(Acknowledgement {
                by: by.to_owned(),
                at: now,
            });
            Ok(())
        }
        _ => Err(AckError::NotFiring(key.to_owned())),
    }
}

/// The operator of this process, for "acknowledged by": the OS user name, else (a service or
/// container without one in its environment) the user id.
pub fn operator() -> String {
    use std::os::unix::fs::MetadataExt;
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .or_else(|| {
            std::fs::metadata("/proc/self")
                .ok()
                .map(|m| format!("uid {}", m.uid()))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(active: bool) -> Condition {
        Condition {
            key: "down:graph_api".into(),
            service: Some(Service::GraphApi),
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
            sent.extend(decide(
                &mut states,
                &[cond(active)],
                at(i as i64),
                &policy,
                &Holds::none(),
            ));
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
            decide(&mut states, &[cond(true)], at(0), &policy, &Holds::none()).is_empty(),
            "1st failure"
        );
        assert!(
            decide(&mut states, &[cond(true)], at(1), &policy, &Holds::none()).is_empty(),
            "2nd failure"
        );
        let fired = decide(&mut states, &[cond(true)], at(2), &policy, &Holds::none());
        assert_eq!(fired.len(), 1, "fires on the 3rd consecutive failure");
        // A restart: the state is serialized and read back; nothing is re-sent.
        let saved = serde_json::to_string(&states).expect("serializes");
        let mut restored: BTreeMap<String, AlertState> =
            serde_json::from_str(&saved).expect("parses");
        assert!(
            decide(&mut restored, &[cond(true)], at(3), &policy, &Holds::none()).is_empty(),
            "no repeat"
        );
        let remind = decide(
            &mut restored,
            &[cond(true)],
            at(2 + 240),
            &policy,
            &Holds::none(),
        );
        assert_eq!(
            remind.first().map(|a| a.kind),
            Some(ActionKind::Remind),
            "reminds after 4 h"
        );
        assert!(
            decide(
                &mut restored,
                &[cond(true)],
                at(2 + 241),
                &policy,
                &Holds::none()
            )
            .is_empty()
        );
        assert!(
            decide(&mut restored, &[], at(2 + 300), &policy, &Holds::none()).is_empty(),
            "unmeasured is not passing"
        );
        assert!(
            decide(
                &mut restored,
                &[cond(false)],
                at(2 + 301),
                &policy,
                &Holds::none()
            )
            .is_empty(),
            "1 pass"
        );
        let resolved = decide(
            &mut restored,
            &[cond(false)],
            at(2 + 302),
            &policy,
            &Holds::none(),
        );
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
            decide(&mut states, &[week.clone()], at(0), &policy, &Holds::none()).len(),
            1
        );
        for i in 1..100 {
            assert!(
                decide(
                    &mut states,
                    &[week.clone()],
                    at(i * 60),
                    &policy,
                    &Holds::none()
                )
                .is_empty(),
                "once only"
            );
        }
        let mut invalid = cond(true);
        invalid.key = "token_invalid".into();
        invalid.immediate = true;
        assert_eq!(
            decide(&mut states, &[invalid], at(0), &policy, &Holds::none()).len(),
            1,
            "immediate"
        );
    }

    fn maintenance(service: Option<Service>, from: i64, to: i64) -> Holds {
        Holds(vec![Hold {
            kind: HoldKind::Maintenance,
            service,
            window: HoldWindow::Once {
                start: at(from),
                end: at(to),
            },
            reason: "token rotation".into(),
            by: "ops".into(),
            created: at(from),
        }])
    }

    /// Runs one check a minute from `from` to `to` (exclusive) with `active` each minute.
    fn run(
        states: &mut BTreeMap<String, AlertState>,
        minutes: std::ops::Range<i64>,
        active: impl Fn(i64) -> bool,
        holds: &Holds,
    ) -> Vec<(i64, ActionKind)> {
        let policy = Policy::default();
        minutes
            .flat_map(|m| {
                decide(states, &[cond(active(m))], at(m), &policy, holds)
                    .into_iter()
                    .map(move |a| (m, a.kind))
            })
            .collect()
    }

    #[test]
    fn an_acknowledged_alert_stops_reminding_and_still_resolves() {
        let mut states = BTreeMap::new();
        let none = Holds::none();
        let fired = run(&mut states, 0..3, |_| true, &none);
        assert_eq!(fired, [(2, ActionKind::Fire)]);
        assert_eq!(
            acknowledge(&mut states, "nothing", "ops", at(3)),
            Err(AckError::NotFiring("nothing".into()))
        );
        acknowledge(&mut states, "down:graph_api", "ops", at(3)).expect("acknowledged");
        let ack = states["down:graph_api"].acknowledged.clone().expect("kept");
        assert_eq!((ack.by.as_str(), ack.at), ("ops", at(3)));
        // Ten hours down: without the acknowledgement this would remind twice.
        assert!(
            run(&mut states, 3..600, |_| true, &none).is_empty(),
            "no reminder"
        );
        let resolved = run(&mut states, 600..602, |_| false, &none);
        assert_eq!(resolved, [(601, ActionKind::Resolve)]);
        assert!(
            states["down:graph_api"].acknowledged.is_none(),
            "cleared with the alert"
        );
        // The next outage is news again, and reminds.
        let next = run(&mut states, 700..700 + 3 + 240, |_| true, &none);
        assert_eq!(next, [(702, ActionKind::Fire), (942, ActionKind::Remind)]);
    }

    #[test]
    fn maintenance_holds_an_alert_and_releases_it_if_still_firing_at_its_end() {
        let window = maintenance(Some(Service::GraphApi), 0, 60);
        // DOWN from minute 10 to the end of the window and after: sent at 60, not at 12.
        let mut states = BTreeMap::new();
        let sent = run(&mut states, 0..70, |m| m >= 10, &window);
        assert_eq!(
            sent,
            [(60, ActionKind::Fire)],
            "released when the window ends"
        );
        // DOWN from 10 to 30 only: never sent, nor its resolution.
        let mut states = BTreeMap::new();
        let sent = run(&mut states, 0..70, |m| (10..30).contains(&m), &window);
        assert!(sent.is_empty(), "{sent:?}");
        // Another service's window holds nothing.
        let mut states = BTreeMap::new();
        let other = maintenance(Some(Service::Pixel), 0, 60);
        assert_eq!(
            run(&mut states, 0..20, |m| m >= 10, &other),
            [(12, ActionKind::Fire)]
        );
        // Fired before the window: no reminder inside it, the resolution still goes out.
        let mut states = BTreeMap::new();
        let long = maintenance(None, 5, 600);
        let sent = run(&mut states, 0..400, |m| m < 300, &long);
        assert_eq!(sent, [(2, ActionKind::Fire), (301, ActionKind::Resolve)]);
    }

    #[test]
    fn an_alert_acknowledged_while_held_is_never_sent_nor_its_resolution() {
        let window = maintenance(Some(Service::GraphApi), 0, 60);
        let mut states = BTreeMap::new();
        assert!(run(&mut states, 0..20, |m| m >= 10, &window).is_empty());
        acknowledge(&mut states, "down:graph_api", "ops", at(20)).expect("acknowledged");
        let sent = run(&mut states, 20..120, |m| m < 100, &window);
        assert!(sent.is_empty(), "{sent:?}");
        // Recovering just as the window ends: the passing check holds the page back, and the
        // resolution follows without anything sent.
        let mut states = BTreeMap::new();
        let sent = run(&mut states, 0..70, |m| (10..60).contains(&m), &window);
        assert!(sent.is_empty(), "{sent:?}");
    }

    #[test]
    fn a_kept_alert_is_released_even_when_its_condition_is_not_measured() {
        let window = maintenance(None, 0, 60);
        let mut states = BTreeMap::new();
        assert!(run(&mut states, 0..10, |_| true, &window).is_empty());
        // Only other conditions are measured after the window (the token check is hourly).
        let mut other = cond(false);
        other.key = "usage_high".into();
        let sent = decide(&mut states, &[other], at(61), &Policy::default(), &window);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].key, "down:graph_api");
        assert_eq!(sent[0].title, "graph_api is DOWN");
    }

    #[test]
    fn a_silence_expires_on_time() {
        let silence = Holds(vec![Hold {
            kind: HoldKind::Silence,
            service: None,
            window: HoldWindow::Once {
                start: at(0),
                end: at(30),
            },
            reason: String::new(),
            by: "ops".into(),
            created: at(0),
        }]);
        let mut states = BTreeMap::new();
        let sent = run(&mut states, 0..40, |_| true, &silence);
        assert_eq!(
            sent,
            [(30, ActionKind::Fire)],
            "at the minute the silence ends"
        );
        // A once-condition (an expiry warning) during the silence is announced after it.
        let mut week = cond(true);
        week.key = "token_expiry_7d".into();
        week.once = true;
        let mut states = BTreeMap::new();
        let policy = Policy::default();
        assert!(decide(&mut states, &[week.clone()], at(10), &policy, &silence).is_empty());
        assert_eq!(
            decide(&mut states, &[week], at(31), &policy, &silence).len(),
            1
        );
    }
}
