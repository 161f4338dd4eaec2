//! The alert rules: which [`Condition`]s a check's reports show. A service that was not
//! measured (UNKNOWN) yields no condition, so it neither fires nor resolves anything.

use time::OffsetDateTime;

use super::{Condition, Severity};
use crate::probe::ProbeReport;
use crate::tile::{Detail, Service, Status, Tile};

/// Days before expiry at which a warning is sent, each once.
pub const EXPIRY_WARNINGS: [(i64, Severity); 3] = [
    (14, Severity::Info),
    (7, Severity::Warning),
    (1, Severity::Critical),
];

/// Usage at or above this percentage alerts.
pub const USAGE_ALERT_PCT: f64 = 90.0;

fn condition(key: &str, active: bool, severity: Severity, title: &str, tile: &Tile) -> Condition {
    Condition {
        key: key.to_owned(),
        service: Some(tile.service),
        active,
        severity,
        immediate: false,
        once: false,
        title: title.to_owned(),
        body: tile.message.clone(),
    }
}

/// `body` and the fix the diagnostics name for the same problem, so the alert says what to do.
fn with_fix(body: &str, rule: &str) -> String {
    match crate::diagnose::RULES.iter().find(|r| r.id == rule) {
        Some(r) => format!("{body}. Fix: {}", r.fix),
        None => body.to_owned(),
    }
}

/// The conditions of one check. `keychain_problem` is the keychain error that stopped the
/// check, if any: then it is the only condition (nothing else was measured).
pub fn conditions(
    reports: &[ProbeReport],
    keychain_problem: Option<&str>,
    now: OffsetDateTime,
) -> Vec<Condition> {
    let mut out = vec![Condition {
        key: "keychain".to_owned(),
        service: None,
        active: keychain_problem.is_some(),
        severity: Severity::Critical,
        immediate: true,
        once: false,
        title: "The OS keychain cannot be read".to_owned(),
        body: keychain_problem
            .unwrap_or("the keychain answers again")
            .to_owned(),
    }];
    if keychain_problem.is_some() {
        return out;
    }
    for report in reports.iter().filter(|r| r.tile.status != Status::Unknown) {
        let tile = &report.tile;
        let down = tile.status == Status::Down;
        match tile.service {
            Service::Token => out.extend(token(tile, now)),
            Service::RateLimits => {
                let pct = match &tile.detail {
                    Detail::RateLimits(d) => d.max_pct,
                    _ => None,
                };
                let high = down || pct.is_some_and(|p| p >= USAGE_ALERT_PCT);
                let mut c = condition(
                    "usage_high",
                    high,
                    Severity::Warning,
                    "Rate limit usage high or throttled",
                    tile,
                );
                c.immediate = true;
                out.push(c);
            }
            Service::Pixel => {
                let silent = matches!(&tile.detail, Detail::Pixel(d) if d.silent);
                out.push(condition(
                    "pixel_silent",
                    silent,
                    Severity::Warning,
                    "The Pixel is silent",
                    tile,
                ));
                out.push(condition(
                    "down:pixel",
                    down,
                    Severity::Critical,
                    "pixel is DOWN",
                    tile,
                ));
            }
            Service::ConversionsApi => {
                // Server events judged stopped or fallen only from measured counts; a failed
                // call (a permission refused, Meta's error) is its own alert.
                let measured = matches!(tile.detail, Detail::ConversionsApi(_));
                // The silence threshold (hours, over Meta's hourly counts) already debounces:
                // one check that sees it is enough.
                let mut stopped = condition(
                    "capi_stopped",
                    down && measured,
                    Severity::Critical,
                    "Server events stopped",
                    tile,
                );
                stopped.immediate = true;
                stopped.body = with_fix(&stopped.body, "server_events_stopped");
                out.push(stopped);
                let mut fell = condition(
                    "capi_share_drop",
                    tile.status == Status::Degraded && measured,
                    Severity::Warning,
                    "Fewer server events than a week ago",
                    tile,
                );
                fell.body = with_fix(&fell.body, "server_share_fell");
                out.push(fell);
                out.push(condition(
                    "down:conversions_api",
                    down && !measured,
                    Severity::Critical,
                    "conversions_api is DOWN",
                    tile,
                ));
            }
            Service::Webhooks => {
                let (inactive, failed) = match &tile.detail {
                    Detail::Webhooks(d) => (d.inactive(), d.endpoints_failed()),
                    _ => (0, 0),
                };
                out.push(condition(
                    "webhook_inactive",
                    inactive > 0,
                    Severity::Critical,
                    "A webhook subscription is inactive",
                    tile,
                ));
                out.push(condition(
                    "webhook_endpoint",
                    failed > 0,
                    Severity::Warning,
                    "The webhook endpoint fails Meta's checks",
                    tile,
                ));
            }
            Service::Catalog => {
                let unreadable = report.error.is_some();
                out.push(condition(
                    "catalog_unreadable",
                    unreadable,
                    Severity::Critical,
                    "The catalog cannot be read",
                    tile,
                ));
            }
            Service::GraphApi | Service::Ads => {
                let key = format!("down:{}", tile.service);
                out.push(condition(
                    &key,
                    down,
                    Severity::Critical,
                    &format!("{} is DOWN", tile.service),
                    tile,
                ));
            }
        }
    }
    out
}

fn token(tile: &Tile, now: OffsetDateTime) -> Vec<Condition> {
    let (valid, expires) = match &tile.detail {
        Detail::Token(d) => (d.is_valid, d.expires_at),
        _ => (false, None),
    };
    let detail = match &tile.detail {
        Detail::Token(d) => Some(d),
        _ => None,
    };
    // The access token's own state: a DOWN from the Conversions API token is its own alert.
    let invalid = match detail {
        Some(d) => !d.is_valid || d.expires_at.is_some_and(|e| e <= now),
        None => tile.status == Status::Down,
    };
    let mut out = vec![Condition {
        key: "token_invalid".to_owned(),
        service: Some(tile.service),
        active: invalid,
        severity: Severity::Critical,
        immediate: true,
        once: false,
        title: "The access token is invalid or expired".to_owned(),
        body: tile.message.clone(),
    }];
    if let Some(d) = detail.filter(|_| valid) {
        let renewal = d.renewal.as_ref();
        let failed = renewal.and_then(|r| r.failed.as_deref());
        // Once per episode: announced again only after a renewal (or the token) cleared it.
        let mut failure = condition(
            "token_renewal_failed",
            failed.is_some(),
            Severity::Warning,
            "The access token could not be renewed automatically",
            tile,
        );
        failure.immediate = true;
        failure.once = true;
        out.push(failure);
        if renewal.is_some_and(|r| r.renewed) {
            // Once per new expiry: each renewal is announced, none twice.
            let key = format!(
                "token_renewed:{}",
                d.expires_at.map_or(0, OffsetDateTime::unix_timestamp)
            );
            out.push(Condition {
                key,
                service: Some(tile.service),
                active: true,
                severity: Severity::Info,
                immediate: true,
                once: true,
                title: "The access token was renewed".to_owned(),
                body: tile.message.clone(),
            });
        }
        let mut data_access = condition(
            "data_access_expiry",
            d.data_access_ending,
            Severity::Warning,
            "The token's access to user data ends soon",
            tile,
        );
        data_access.immediate = true;
        out.push(data_access);
        let mut scopes = condition(
            "missing_scopes",
            !d.missing.is_empty() || !d.missing_scopes.is_empty(),
            Severity::Warning,
            "The access token lacks scopes a feature needs",
            tile,
        );
        scopes.immediate = true;
        out.push(scopes);
    }
    if let (Some(expires), true) = (expires, valid) {
        out.extend(expiry_warnings("token", "access token", expires, now, tile));
    }
    if let Some(capi) = detail.and_then(|d| d.capi.as_ref()) {
        let dead = capi.status == Status::Down && capi.pixel_access != Some(false);
        let mut c = condition(
            "capi_token_invalid",
            dead,
            Severity::Critical,
            "The Conversions API token is invalid or expired",
            tile,
        );
        c.immediate = true;
        out.push(c);
        let mut c = condition(
            "capi_token_pixel",
            capi.pixel_access == Some(false),
            Severity::Critical,
            "The Conversions API token cannot reach the pixel",
            tile,
        );
        c.immediate = true;
        out.push(c);
        if let (Some(expires), true) = (capi.expires_at, capi.is_valid) {
            out.extend(expiry_warnings(
                "capi_token",
                "Conversions API token",
                expires,
                now,
                tile,
            ));
        }
    }
    out
}

/// The 14/7/1-day warnings of a token that expires at `expires`, keyed `{prefix}_expiry_Nd`.
/// Only the most urgent threshold reached is active: a token found 3 days from expiry gets
/// the 7-day warning, not the 14-day one as well.
fn expiry_warnings(
    prefix: &str,
    what: &str,
    expires: OffsetDateTime,
    now: OffsetDateTime,
    tile: &Tile,
) -> Vec<Condition> {
    let left = expires - now;
    let most_urgent = EXPIRY_WARNINGS
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| left > time::Duration::ZERO && left <= time::Duration::days(*d))
        .min();
    EXPIRY_WARNINGS
        .into_iter()
        .map(|(days, severity)| Condition {
            key: format!("{prefix}_expiry_{days}d"),
            service: Some(tile.service),
            active: most_urgent == Some(days),
            severity,
            immediate: true,
            once: true,
            title: format!(
                "The {what} expires within {days} day{}",
                if days == 1 { "" } else { "s" }
            ),
            body: tile.message.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Holds, Policy, decide};
    use crate::tile::detail::TokenDetail;

    fn token_tile(expires: OffsetDateTime, now: OffsetDateTime) -> ProbeReport {
        let tile = Tile::new(Service::Token, Status::Up, now, "valid").with_detail(Detail::Token(
            TokenDetail {
                is_valid: true,
                expires_at: Some(expires),
                ..TokenDetail::default()
            },
        ));
        ProbeReport::ok(tile, Vec::new())
    }

    #[test]
    fn expiry_warnings_come_once_each_at_14_7_and_1_days() {
        let start = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let expires = start + time::Duration::days(20);
        let mut states = std::collections::BTreeMap::new();
        let mut sent = Vec::new();
        // A check every 6 hours for 20 days.
        for step in 0..(20 * 4) {
            let now = start + time::Duration::hours(6 * step);
            let conds = conditions(&[token_tile(expires, now)], None, now);
            for a in decide(&mut states, &conds, now, &Policy::default(), &Holds::none()) {
                sent.push((a.key, (expires - now).whole_hours()));
            }
        }
        let keys: Vec<&str> = sent.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["token_expiry_14d", "token_expiry_7d", "token_expiry_1d"],
            "{sent:?}"
        );
        assert!(
            sent.iter().all(|(k, hours)| {
                let days: i64 = k
                    .trim_start_matches("token_expiry_")
                    .trim_end_matches('d')
                    .parse()
                    .expect("days");
                *hours <= days * 24 && *hours > days * 24 - 6
            }),
            "each sent at its threshold: {sent:?}"
        );
    }

    #[test]
    fn a_token_first_seen_three_days_out_gets_the_7_day_then_the_1_day_warning() {
        let start = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let expires = start + time::Duration::days(3);
        let mut states = std::collections::BTreeMap::new();
        let mut sent = Vec::new();
        for step in 0..(3 * 24) {
            let now = start + time::Duration::hours(step);
            let conds = conditions(&[token_tile(expires, now)], None, now);
            sent.extend(
                decide(&mut states, &conds, now, &Policy::default(), &Holds::none())
                    .into_iter()
                    .map(|a| a.key),
            );
        }
        assert_eq!(
            sent,
            ["token_expiry_7d", "token_expiry_1d"],
            "no 14-day warning once 7 days are reached"
        );
    }

    #[test]
    fn renewal_data_access_scopes_and_the_capi_token_have_their_own_conditions() {
        use crate::tile::detail::{CapiTokenDetail, MissingScope, TokenRenewal};
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let detail = TokenDetail {
            is_valid: true,
            expires_at: Some(now + time::Duration::days(60)),
            data_access_ending: true,
            missing: vec![MissingScope {
                scope: "catalog_management".into(),
                feature: "catalog reads and product sync".into(),
            }],
            renewal: Some(TokenRenewal {
                auto: true,
                days_before: 7,
                renewed: true,
                ..TokenRenewal::default()
            }),
            capi: Some(CapiTokenDetail {
                status: Status::Degraded,
                message: "expires in 5 d".into(),
                is_valid: true,
                token_type: Some("SYSTEM_USER".into()),
                expires_at: Some(now + time::Duration::days(5)),
                never_expires: false,
                scopes: Vec::new(),
                pixel_access: Some(true),
            }),
            ..TokenDetail::default()
        };
        let tile = Tile::new(
            Service::Token,
            Status::Degraded,
            now,
            "renewed; CAPI expiring",
        )
        .with_detail(Detail::Token(detail));
        let report = ProbeReport::ok(tile, Vec::new());
        let conds = conditions(std::slice::from_ref(&report), None, now);
        let active: Vec<&str> = conds
            .iter()
            .filter(|c| c.active)
            .map(|c| c.key.as_str())
            .collect();
        let renewed = format!(
            "token_renewed:{}",
            (now + time::Duration::days(60)).unix_timestamp()
        );
        assert_eq!(
            active,
            [
                renewed.as_str(),
                "data_access_expiry",
                "missing_scopes",
                "capi_token_expiry_7d"
            ],
            "{conds:#?}"
        );
        let mut states = std::collections::BTreeMap::new();
        let first = decide(&mut states, &conds, now, &Policy::default(), &Holds::none());
        assert_eq!(first.len(), 4, "each announced at once: {first:#?}");
        let again = decide(&mut states, &conds, now, &Policy::default(), &Holds::none());
        assert!(
            again.is_empty(),
            "the renewal and the warning are announced once: {again:#?}"
        );
    }

    #[test]
    fn unknown_tiles_give_no_conditions_and_the_keychain_stands_alone() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let unknown = ProbeReport::ok(
            Tile::new(Service::Ads, Status::Unknown, now, "throttled"),
            Vec::new(),
        );
        let conds = conditions(std::slice::from_ref(&unknown), None, now);
        assert_eq!(conds.len(), 1, "only the keychain condition: {conds:?}");
        assert!(!conds[0].active);
        let conds = conditions(&[unknown], Some("the OS keychain is locked"), now);
        assert_eq!(
            (conds.len(), conds[0].active),
            (1, true),
            "keychain problem alone: {conds:?}"
        );
    }
}
