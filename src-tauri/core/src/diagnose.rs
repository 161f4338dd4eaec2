//! Diagnostics that name the fix: pure rules over what the monitor measured (the latest tiles
//! and the events Meta Monitor sent), each finding with its evidence in numbers, the fix in
//! one sentence and Meta's documentation. Rule-based and honest: a rule whose data Meta did
//! not report says nothing rather than guessing.

use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use crate::graph::pixel::EventQuality;
use crate::tile::detail::{ConversionsApiDetail, Detail, Reading};
use crate::tile::{Service, Status, Tile};

/// How bad a finding is: `Error` loses conversions or data now (and makes `meta-monitor
/// diagnose` exit 1), `Warning` costs match rate or money, `Info` is what could not be
/// checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
    Info,
}

/// One rule: what it checks, the fix in one sentence and where Meta explains it.
#[derive(Debug, Clone, Copy, Serialize, TS)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    pub service: Service,
    pub title: &'static str,
    /// When it fires, in words (the report's table).
    pub rule: &'static str,
    pub fix: &'static str,
    pub link: &'static str,
    /// The window's view that helps (the token view for an expiring token).
    pub view: Option<Service>,
    #[serde(skip)]
    #[ts(skip)]
    check: fn(&Measured<'_>) -> Vec<String>,
}

/// A rule that fired, with the numbers that made it fire.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Finding {
    pub id: String,
    pub level: Level,
    pub service: Service,
    pub title: String,
    pub evidence: String,
    pub fix: String,
    pub link: String,
    pub view: Option<Service>,
}

/// What the rules know of one event Meta Monitor sent (the event log's row, without what the
/// rules do not read; the core's store is not a dependency of the rules).
#[derive(Debug, Clone, PartialEq)]
pub struct SentEvent {
    pub sent_at: OffsetDateTime,
    /// Unix seconds, as sent.
    pub event_time: i64,
    /// `None` for a live (production) event.
    pub test_event_code: Option<String>,
    /// The customer-information keys present.
    pub keys: Vec<String>,
}

/// What the rules read.
pub struct Measured<'a> {
    pub now: OffsetDateTime,
    /// The account's latest tiles.
    pub tiles: &'a [Tile],
    /// Events Meta Monitor sent in the last 24 h (no customer values: keys only).
    pub sent: &'a [SentEvent],
    /// The account's token warning, days.
    pub token_warning_days: i64,
}

impl Measured<'_> {
    fn tile(&self, service: Service) -> Option<&Tile> {
        self.tiles.iter().find(|t| t.service == service)
    }

    /// The tile of `service` when its probe measured it (a failed call leaves no detail: a
    /// permission error is not "server events stopped").
    fn measured(&self, service: Service) -> Option<&Tile> {
        self.tile(service)
            .filter(|t| t.error.is_none() && t.detail != Detail::None)
    }

    fn capi(&self) -> Option<&ConversionsApiDetail> {
        match &self.tile(Service::ConversionsApi)?.detail {
            Detail::ConversionsApi(d) => Some(d),
            _ => None,
        }
    }

    fn quality(&self) -> &[EventQuality] {
        match self.capi().map(|d| &d.quality) {
            Some(Reading::Read { value }) => value,
            _ => &[],
        }
    }
}

/// Match quality below this, on a purchase, costs matched conversions (Meta's own guidance
/// rates 6 and above "good").
pub const MATCH_QUALITY_FLOOR: f64 = 6.0;
/// Coverage below this, percent, for a customer key on conversion events.
pub const KEY_COVERAGE_FLOOR: f64 = 50.0;
/// Test-coded events in 24 h from which the traffic looks like production sent with a code.
pub const TEST_CODE_LIVE_COUNT: usize = 20;
/// … sent in at least this many different hours (a test session is one sitting).
pub const TEST_CODE_LIVE_HOURS: usize = 6;

/// Events where people identify themselves (a purchase, a lead…), where contact keys belong.
const CONVERSION_EVENTS: [&str; 9] = [
    "Purchase",
    "Lead",
    "CompleteRegistration",
    "InitiateCheckout",
    "AddPaymentInfo",
    "Subscribe",
    "StartTrial",
    "Contact",
    "SubmitApplication",
];

/// The keys that matter most for matching, strongest first.
const MATCH_KEYS: [&str; 7] = [
    "em",
    "ph",
    "external_id",
    "fbp",
    "fbc",
    "client_ip_address",
    "client_user_agent",
];

/// How the probe words a Dataset Quality read refused for a permission.
pub const QUALITY_PERMISSION: &str = "Dataset quality needs";

/// Every rule, in the order findings are listed.
pub const RULES: &[Rule] = &[
    Rule {
        id: "server_events_stopped",
        level: Level::Error,
        service: Service::ConversionsApi,
        title: "Server events stopped",
        rule: "no server events for the configured time (2 h by default) while the browser Pixel keeps sending",
        fix: "Check the shop's server integration (plugin, server container or code that posts to /events): its logs, its access token and its last deploy — the site is up, since the browser still sends.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api",
        view: Some(Service::ConversionsApi),
        check: |m| measured_status_is(m, Service::ConversionsApi, Status::Down),
    },
    Rule {
        id: "server_share_fell",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "Fewer server events than a week ago",
        rule: "an event's server share over the last 6 h fell by more than the threshold (50 %) against the same hours a week earlier",
        fix: "Find which server events stopped being sent (a checkout path, a payment method, a plugin update) and send them again.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/best-practices",
        view: Some(Service::ConversionsApi),
        check: |m| measured_status_is(m, Service::ConversionsApi, Status::Degraded),
    },
    Rule {
        id: "match_quality_low",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "Event match quality is low on purchases",
        rule: "a purchase event's match quality is below 6.0 out of 10",
        fix: "Send more customer information with each purchase — hashed email (em) and phone (ph) first, then external_id, fbp and fbc — so Meta can match the event to a person.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters",
        view: Some(Service::ConversionsApi),
        check: match_quality_low,
    },
    Rule {
        id: "contact_keys_low",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "Email or phone missing on conversion events",
        rule: "em or ph is on fewer than 50 % of a conversion event's server events (Purchase, Lead, CompleteRegistration…)",
        fix: "Add the customer's email and phone (normalized, SHA-256) to the server events of the checkout and forms, where the shop knows them.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters",
        view: Some(Service::ConversionsApi),
        check: contact_keys_low,
    },
    Rule {
        id: "browser_ids_missing",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "fbp / fbc missing on server events",
        rule: "fbp is on fewer than 50 % of an event's server events, or fbc is not listed for a conversion event",
        fix: "Read the _fbp and _fbc cookies (or fbclid from the landing URL) in the browser and send them unhashed with each server event.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/fbp-and-fbc",
        view: Some(Service::ConversionsApi),
        check: browser_ids_missing,
    },
    Rule {
        id: "not_deduplicated",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "Browser and server events are not deduplicated",
        rule: "Meta's deduplication feedback shows event_id on fewer than 50 % of the browser or server events of an event both send",
        fix: "Send the same event_id from the server (event_id) as from the Pixel (eventID) for each event, so Meta counts it once.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events",
        view: Some(Service::ConversionsApi),
        check: not_deduplicated,
    },
    Rule {
        id: "events_late",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "Events arrive late",
        rule: "Meta reports the data freshness as other than real time, or live events Meta Monitor sent were over an hour old when sent",
        fix: "Send each event when it happens rather than in periodic batches; late events weaken ad delivery and are refused after 7 days.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event",
        view: Some(Service::ConversionsApi),
        check: events_late,
    },
    Rule {
        id: "test_code_in_live_traffic",
        level: Level::Warning,
        service: Service::ConversionsApi,
        title: "A test event code on what looks like live traffic",
        rule: "20 or more events sent with a test event code in 24 h, spread over 6 or more hours (steady traffic, not a test session)",
        fix: "Remove test_event_code from production sends: events with a test code show in Test Events and are not used for ads.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api",
        view: Some(Service::Pixel),
        check: test_code_in_live_traffic,
    },
    Rule {
        id: "token_expiring",
        level: Level::Warning,
        service: Service::Token,
        title: "The access token expires soon",
        rule: "the monitoring or Conversions API token expires within the token warning (7 days by default)",
        fix: "Renew the token in the token view (or `meta-monitor token renew`), or replace it with a system-user token that does not expire.",
        link: "https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived",
        view: Some(Service::Token),
        check: token_expiring,
    },
    Rule {
        id: "token_invalid",
        level: Level::Error,
        service: Service::Token,
        title: "The access token is rejected",
        rule: "the token check is DOWN (expired, revoked or malformed)",
        fix: "Generate a new token for the system user in Business Settings and save it in Meta Monitor.",
        link: "https://developers.facebook.com/docs/business-management-apis/system-users/install-apps-and-generate-tokens",
        view: Some(Service::Token),
        check: |m| status_is(m, Service::Token, Status::Down),
    },
    Rule {
        id: "catalog_items_refused",
        level: Level::Warning,
        service: Service::Catalog,
        title: "Catalog items refused",
        rule: "Meta refused products at the last sync or rejected them in review",
        fix: "Open the catalog's refused products, correct the fields Meta names (price, image, link, availability) and sync them again.",
        link: "https://developers.facebook.com/docs/marketing-api/catalog-batch/guides/send-item-updates",
        view: Some(Service::Catalog),
        check: catalog_items_refused,
    },
    Rule {
        id: "dataset_quality_unreadable",
        level: Level::Info,
        service: Service::ConversionsApi,
        title: "Dataset quality could not be read",
        rule: "the Dataset Quality API refused the token for a missing permission",
        fix: "Give the token ads_read and business_management (or ads_management) so match quality, coverage and freshness can be checked.",
        link: "https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api",
        view: Some(Service::Token),
        check: dataset_quality_unreadable,
    },
];

/// Every finding for what was measured: errors first, then warnings, then notes.
pub fn diagnose(measured: &Measured<'_>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES
        .iter()
        .flat_map(|rule| {
            (rule.check)(measured).into_iter().map(|evidence| Finding {
                id: rule.id.to_owned(),
                level: rule.level,
                service: rule.service,
                title: rule.title.to_owned(),
                evidence,
                fix: rule.fix.to_owned(),
                link: rule.link.to_owned(),
                view: rule.view,
            })
        })
        .collect();
    findings.sort_by_key(|f| f.level);
    findings
}

fn measured_status_is(m: &Measured<'_>, service: Service, status: Status) -> Vec<String> {
    m.measured(service)
        .filter(|t| t.status == status)
        .map(|t| t.message.clone())
        .into_iter()
        .collect()
}

fn status_is(m: &Measured<'_>, service: Service, status: Status) -> Vec<String> {
    m.tile(service)
        .filter(|t| t.status == status)
        .map(|t| t.message.clone())
        .into_iter()
        .collect()
}

fn is_conversion(event: &str) -> bool {
    CONVERSION_EVENTS
        .iter()
        .any(|e| e.eq_ignore_ascii_case(event))
}

fn pct(value: f64) -> String {
    format!("{} %", (value * 10.0).round() / 10.0)
}

fn key_words(q: &EventQuality, key: &str) -> String {
    match q.coverage.get(key) {
        Some(p) => format!("{key} {}", pct(*p)),
        None => format!("{key} not listed by Meta"),
    }
}

fn match_quality_low(m: &Measured<'_>) -> Vec<String> {
    m.quality()
        .iter()
        .filter(|q| q.event_name.to_ascii_lowercase().contains("purchase"))
        .filter_map(|q| {
            let score = q.score.filter(|s| *s < MATCH_QUALITY_FLOOR)?;
            let keys = if q.coverage.is_empty() {
                "match keys not reported by Meta".to_owned()
            } else {
                let mut weakest: Vec<&str> = MATCH_KEYS.to_vec();
                weakest.sort_by(|a, b| {
                    let c = |k: &str| q.coverage.get(k).copied().unwrap_or(0.0);
                    c(a).total_cmp(&c(b))
                });
                let named: Vec<String> = weakest.iter().take(3).map(|k| key_words(q, k)).collect();
                format!("weakest keys: {}", named.join(", "))
            };
            Some(format!("{} scores {score:.1} / 10; {keys}", q.event_name))
        })
        .collect()
}

fn contact_keys_low(m: &Measured<'_>) -> Vec<String> {
    m.quality()
        .iter()
        .filter(|q| is_conversion(&q.event_name) && !q.coverage.is_empty())
        .filter_map(|q| {
            let low: Vec<String> = ["em", "ph"]
                .into_iter()
                .filter(|k| q.coverage.get(*k).is_none_or(|p| *p < KEY_COVERAGE_FLOOR))
                .map(|k| key_words(q, k))
                .collect();
            (!low.is_empty()).then(|| format!("{}: {}", q.event_name, low.join(", ")))
        })
        .collect()
}

fn browser_ids_missing(m: &Measured<'_>) -> Vec<String> {
    let mut out: Vec<String> = m
        .quality()
        .iter()
        .filter(|q| !q.coverage.is_empty())
        .filter_map(|q| {
            let fbp_low = q
                .coverage
                .get("fbp")
                .is_none_or(|p| *p < KEY_COVERAGE_FLOOR);
            // fbc exists only for visitors who came from an ad click: judged on conversions.
            let fbc_none =
                is_conversion(&q.event_name) && q.coverage.get("fbc").is_none_or(|p| *p <= 0.0);
            (fbp_low || fbc_none).then(|| {
                format!(
                    "{}: {}, {}",
                    q.event_name,
                    key_words(q, "fbp"),
                    key_words(q, "fbc")
                )
            })
        })
        .collect();
    // Without Meta's feedback, the events Meta Monitor sent tell the same for those events.
    if m.quality().is_empty() {
        let live: Vec<&SentEvent> = m
            .sent
            .iter()
            .filter(|e| e.test_event_code.is_none())
            .collect();
        let without = live
            .iter()
            .filter(|e| !e.keys.iter().any(|k| k == "fbp" || k == "fbc"))
            .count();
        if live.len() >= 5 && (without as f64) > live.len() as f64 * KEY_COVERAGE_FLOOR / 100.0 {
            out.push(format!(
                "{without} of {} live events Meta Monitor sent in 24 h had neither fbp nor fbc",
                live.len()
            ));
        }
    }
    out
}

fn not_deduplicated(m: &Measured<'_>) -> Vec<String> {
    let both_send = |event: &str| {
        m.capi().is_none_or(|d| {
            !d.per_event_reported
                || d.by_event
                    .iter()
                    .any(|e| e.event_name == event && e.server_24h > 0 && e.browser_24h > 0)
        })
    };
    m.quality()
        .iter()
        .filter(|q| both_send(&q.event_name))
        .flat_map(|q| {
            q.dedup
                .iter()
                .filter(|d| d.key == "event_id")
                .filter(|d| {
                    [d.browser_pct, d.server_pct]
                        .into_iter()
                        .flatten()
                        .any(|p| p < KEY_COVERAGE_FLOOR)
                })
                .map(|d| {
                    let side = |p: Option<f64>| p.map_or("not reported by Meta".to_owned(), pct);
                    format!(
                        "{}: event_id on {} of browser events and {} of server events",
                        q.event_name,
                        side(d.browser_pct),
                        side(d.server_pct)
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn events_late(m: &Measured<'_>) -> Vec<String> {
    let mut out: Vec<String> = m
        .quality()
        .iter()
        .filter_map(|q| {
            let freshness = q.freshness.as_deref()?;
            let real_time = matches!(
                freshness
                    .to_ascii_lowercase()
                    .replace(['-', ' '], "_")
                    .as_str(),
                "real_time" | "realtime"
            );
            (!real_time).then(|| {
                format!(
                    "{}: Meta reports the data freshness as {}",
                    q.event_name,
                    freshness.replace('_', " ")
                )
            })
        })
        .collect();
    // Live sends only: a test event may be back-dated on purpose.
    let live: Vec<&SentEvent> = m
        .sent
        .iter()
        .filter(|e| e.test_event_code.is_none())
        .collect();
    let old: Vec<i64> = live
        .iter()
        .map(|e| e.sent_at.unix_timestamp().saturating_sub(e.event_time))
        .filter(|age| *age > 3600)
        .collect();
    if let Some(oldest) = old.iter().max() {
        out.push(format!(
            "{} of {} live events Meta Monitor sent in 24 h were over an hour old when sent (the oldest {})",
            old.len(),
            live.len(),
            crate::probe::human_duration(std::time::Duration::from_secs(
                u64::try_from(*oldest).unwrap_or(0)
            ))
        ));
    }
    out
}

fn test_code_in_live_traffic(m: &Measured<'_>) -> Vec<String> {
    let coded: Vec<&SentEvent> = m
        .sent
        .iter()
        .filter(|e| e.test_event_code.is_some())
        .collect();
    let hours: std::collections::BTreeSet<i64> = coded
        .iter()
        .map(|e| e.sent_at.unix_timestamp().div_euclid(3600))
        .collect();
    if coded.len() < TEST_CODE_LIVE_COUNT || hours.len() < TEST_CODE_LIVE_HOURS {
        return Vec::new();
    }
    let mut codes: Vec<&str> = coded
        .iter()
        .filter_map(|e| e.test_event_code.as_deref())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    vec![format!(
        "{} events sent with a test event code in 24 h ({})",
        coded.len(),
        codes.join(", ")
    )]
}

fn token_expiring(m: &Measured<'_>) -> Vec<String> {
    let Some(Detail::Token(token)) = m.tile(Service::Token).map(|t| &t.detail) else {
        return Vec::new();
    };
    let warning = time::Duration::days(m.token_warning_days);
    let mut out = Vec::new();
    let mut check = |which: &str, expires: Option<OffsetDateTime>| {
        if let Some(at) = expires.filter(|at| *at > m.now && *at - m.now <= warning) {
            out.push(format!(
                "the {which} expires in {} ({} UTC)",
                crate::probe::human_duration((at - m.now).unsigned_abs()),
                at.replace_nanosecond(0).unwrap_or(at).date()
            ));
        }
    };
    check(
        "monitoring token",
        token.expires_at.filter(|_| !token.never_expires),
    );
    if let Some(capi) = &token.capi {
        check(
            "Conversions API token",
            capi.expires_at.filter(|_| !capi.never_expires),
        );
    }
    out
}

fn catalog_items_refused(m: &Measured<'_>) -> Vec<String> {
    let Some(Detail::Catalog(catalog)) = m.tile(Service::Catalog).map(|t| &t.detail) else {
        return Vec::new();
    };
    let refused = catalog.sync.as_ref().map_or(0, |s| u64::from(s.failed));
    let rejected = catalog.review.as_ref().map_or(0, |r| r.rejected);
    let mut parts = Vec::new();
    if refused > 0 {
        parts.push(format!("{refused} products refused at the last sync"));
    }
    if rejected > 0 {
        parts.push(format!("{rejected} rejected in review"));
    }
    if parts.is_empty() {
        Vec::new()
    } else {
        vec![parts.join("; ")]
    }
}

fn dataset_quality_unreadable(m: &Measured<'_>) -> Vec<String> {
    match m.capi().map(|d| &d.quality) {
        // Only a permission refusal has this fix; a throttled or failed read says so elsewhere.
        Some(Reading::Missing { why }) if why.starts_with(QUALITY_PERMISSION) => vec![why.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::graph::pixel::DedupFeedback;
    use crate::tile::detail::{CatalogDetail, EventSplit, SyncCounts, TokenDetail};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time")
    }

    fn capi_tile(status: Status, message: &str, quality: Vec<EventQuality>) -> Tile {
        Tile::new(Service::ConversionsApi, status, now(), message).with_detail(
            Detail::ConversionsApi(ConversionsApiDetail {
                per_event_reported: true,
                by_event: vec![EventSplit {
                    event_name: "Purchase".into(),
                    server_24h: 100,
                    browser_24h: 120,
                    ..EventSplit::default()
                }],
                quality: Reading::Read { value: quality },
                ..ConversionsApiDetail::default()
            }),
        )
    }

    fn purchase(score: f64, keys: &[(&str, f64)]) -> EventQuality {
        EventQuality {
            event_name: "Purchase".into(),
            score: Some(score),
            coverage: keys.iter().map(|(k, p)| ((*k).to_owned(), *p)).collect(),
            freshness: Some("real_time".into()),
            ..EventQuality::default()
        }
    }

    const GOOD_KEYS: [(&str, f64); 6] = [
        ("em", 95.0),
        ("ph", 80.0),
        ("external_id", 90.0),
        ("fbp", 85.0),
        ("fbc", 20.0),
        ("client_user_agent", 100.0),
    ];

    fn sent(age_s: i64, test: Option<&str>, keys: &[&str]) -> SentEvent {
        SentEvent {
            sent_at: now(),
            event_time: now().unix_timestamp() - age_s,
            test_event_code: test.map(str::to_owned),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    /// `n` events sent one every 20 minutes before now.
    fn spread(n: i64, age_s: i64, test: Option<&str>) -> Vec<SentEvent> {
        (0..n)
            .map(|i| SentEvent {
                sent_at: now() - time::Duration::minutes(20 * i),
                ..sent(age_s, test, &["em", "fbp"])
            })
            .collect()
    }

    fn token_tile(status: Status, expires_in_days: Option<i64>) -> Tile {
        Tile::new(Service::Token, status, now(), "token").with_detail(Detail::Token(TokenDetail {
            is_valid: status != Status::Down,
            expires_at: expires_in_days.map(|d| now() + time::Duration::days(d)),
            never_expires: expires_in_days.is_none(),
            ..TokenDetail::default()
        }))
    }

    /// The tile of a Conversions API check whose call Meta refused.
    fn failed_capi() -> Tile {
        let mut tile = Tile::new(
            Service::ConversionsApi,
            Status::Down,
            now(),
            "permission missing",
        );
        tile.error = Some(crate::tile::TileError {
            class: crate::graph::ErrorClass::Permission,
            code: Some(200),
            subcode: None,
            fbtrace_id: None,
            is_transient: false,
            advice: "grant the permission".into(),
        });
        tile
    }

    /// A stored situation and exactly the findings it must give.
    struct Case {
        name: &'static str,
        tiles: Vec<Tile>,
        sent: Vec<SentEvent>,
        want: &'static [&'static str],
    }

    fn cases() -> Vec<Case> {
        let healthy = || capi_tile(Status::Up, "fine", vec![purchase(8.1, &GOOD_KEYS)]);
        vec![
            Case {
                name: "healthy",
                tiles: vec![healthy(), token_tile(Status::Up, None)],
                sent: vec![sent(30, None, &["em", "ph", "fbp"])],
                want: &[],
            },
            Case {
                name: "server events stopped",
                tiles: vec![capi_tile(
                    Status::Down,
                    "no server events for 3 h 0 min while the browser sent 812",
                    vec![purchase(8.1, &GOOD_KEYS)],
                )],
                sent: vec![],
                want: &["server_events_stopped"],
            },
            Case {
                name: "share fell",
                tiles: vec![capi_tile(Status::Degraded, "server share fell", vec![purchase(8.1, &GOOD_KEYS)])],
                sent: vec![],
                want: &["server_share_fell"],
            },
            Case {
                name: "weak purchases: score, contact keys and browser ids",
                tiles: vec![capi_tile(
                    Status::Up,
                    "fine",
                    vec![purchase(4.2, &[("em", 30.0), ("client_user_agent", 100.0)])],
                )],
                sent: vec![],
                want: &["match_quality_low", "contact_keys_low", "browser_ids_missing"],
            },
            Case {
                name: "not deduplicated, late, and a test code on live traffic",
                tiles: vec![capi_tile(Status::Up, "fine", vec![EventQuality {
                    dedup: vec![DedupFeedback {
                        key: "event_id".into(),
                        browser_pct: Some(97.0),
                        server_pct: Some(3.0),
                    }],
                    freshness: Some("hourly".into()),
                    ..purchase(8.1, &GOOD_KEYS)
                }])],
                sent: [spread(25, 60, Some("TEST123")), vec![sent(2 * 3600, None, &["em", "fbp"])]].concat(),
                // Late twice: Meta's freshness and the events' own age.
                want: &["not_deduplicated", "events_late", "events_late", "test_code_in_live_traffic"],
            },
            Case {
                name: "token expiring, catalog refused, quality unreadable",
                tiles: vec![
                    token_tile(Status::Degraded, Some(3)),
                    Tile::new(Service::ConversionsApi, Status::Up, now(), "fine").with_detail(
                        Detail::ConversionsApi(ConversionsApiDetail {
                            quality: Reading::Missing {
                                why: "Dataset quality needs ads_read and business_management on the token".into(),
                            },
                            ..ConversionsApiDetail::default()
                        }),
                    ),
                    Tile::new(Service::Catalog, Status::Degraded, now(), "refused").with_detail(
                        Detail::Catalog(CatalogDetail {
                            sync: Some(SyncCounts { failed: 4, ..SyncCounts::default() }),
                            ..CatalogDetail::default()
                        }),
                    ),
                ],
                sent: vec![],
                want: &["token_expiring", "catalog_items_refused", "dataset_quality_unreadable"],
            },
            Case {
                name: "token rejected; without Meta's feedback the sent events speak for fbp/fbc",
                tiles: vec![token_tile(Status::Down, None)],
                sent: (0..6).map(|_| sent(60, None, &["em", "ph"])).collect(),
                want: &["token_invalid", "browser_ids_missing"],
            },
            Case {
                name: "a failed read is not a finding about the shop; a test session is not live traffic",
                tiles: vec![failed_capi()],
                sent: (0..30).map(|_| sent(3 * 3600, Some("TEST123"), &["em"])).collect(),
                want: &[],
            },
            Case {
                name: "what Meta did not report fires nothing",
                tiles: vec![capi_tile(Status::Up, "fine", vec![EventQuality {
                    event_name: "Purchase".into(),
                    ..EventQuality::default()
                }])],
                sent: vec![],
                want: &[],
            },
        ]
    }

    #[test]
    fn each_stored_situation_gives_exactly_its_findings() {
        for case in cases() {
            let findings = diagnose(&Measured {
                now: now(),
                tiles: &case.tiles,
                sent: &case.sent,
                token_warning_days: 7,
            });
            let mut got: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
            let mut want = case.want.to_vec();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{}: {findings:#?}", case.name);
            for f in &findings {
                assert!(
                    !f.evidence.is_empty() && !f.fix.is_empty(),
                    "{}: {f:?}",
                    case.name
                );
                assert!(
                    f.link.starts_with("https://developers.facebook.com/"),
                    "{f:?}"
                );
            }
            let levels: Vec<Level> = findings.iter().map(|f| f.level).collect();
            assert!(levels.is_sorted(), "errors first: {levels:?}");
        }
    }

    #[test]
    fn evidence_names_the_numbers() {
        let tiles = [capi_tile(
            Status::Up,
            "fine",
            vec![purchase(
                4.2,
                &[("em", 30.0), ("ph", 61.5), ("client_user_agent", 100.0)],
            )],
        )];
        let findings = diagnose(&Measured {
            now: now(),
            tiles: &tiles,
            sent: &[],
            token_warning_days: 7,
        });
        let by_id: BTreeMap<&str, &str> = findings
            .iter()
            .map(|f| (f.id.as_str(), f.evidence.as_str()))
            .collect();
        assert_eq!(
            by_id["match_quality_low"],
            "Purchase scores 4.2 / 10; weakest keys: external_id not listed by Meta, fbp not listed by Meta, fbc not listed by Meta"
        );
        assert_eq!(by_id["contact_keys_low"], "Purchase: em 30 %");
        assert_eq!(
            by_id["browser_ids_missing"],
            "Purchase: fbp not listed by Meta, fbc not listed by Meta"
        );
    }

    #[test]
    fn every_rule_has_a_unique_id_a_fix_and_a_link() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(
            RULES
                .iter()
                .all(|r| r.fix.ends_with('.') && r.link.starts_with("https://"))
        );
    }
}
