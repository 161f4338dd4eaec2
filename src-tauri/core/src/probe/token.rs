//! `token`: `debug_token` validity, expiry and the scopes the configured features need.
//! DOWN when invalid or expired; DEGRADED when it expires within the warning window or
//! scopes are missing.

use time::OffsetDateTime;

use crate::account::Account;
use crate::graph::error::token_reason;
use crate::graph::token::{TokenInfo, debug_token};
use crate::graph::{ErrorClass, MetaError};
use crate::secret::Secret;
use crate::tile::detail::{CapiTokenDetail, Detail, MissingScope, TokenDetail, TokenRenewal};
use crate::tile::{Service, Status, Tile};
use crate::token::renew;
use crate::token::{TokenSource, needed_scopes};

use super::{ProbeContext, ProbeReport, failed, millis};

/// Scopes the account's configured features need: ads → `ads_read`,
/// catalog → `catalog_management`, business → `business_management`.
pub fn required_scopes(account: &Account) -> Vec<&'static str> {
    needed_scopes(account).into_iter().map(|(s, _)| s).collect()
}

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    let first = debug_token(ctx.client).await;
    let broken = match &first {
        Ok((info, _)) => !info.is_valid,
        Err(err) => err.class() == ErrorClass::TokenInvalid,
    };
    if broken && let Some(report) = recovered(ctx).await {
        return report;
    }
    match first {
        Ok((info, response)) => {
            let warn_days = ctx.thresholds.token_expiry_warning_days;
            let mut tile = evaluate(&info, ctx.account, ctx.now, warn_days);
            tile.latency_ms = Some(millis(response.latency));
            let source = ctx.token_source.unwrap_or(TokenSource::Keychain);
            let has_secret = ctx.client.credentials().app_secret.is_some();
            let mut renewal = renewal_state(&info, ctx.account, has_secret, source, ctx.now);
            let mut renewed = None;
            let mut info = info;
            let expires_at = info.expires_at.unwrap_or(0);
            let now_unix = ctx.now.unix_timestamp();
            let within = expires_at > now_unix
                && expires_at - i64::from(renewal.days_before) * 86400 <= now_unix;
            let due = renewal.auto && within && info.is_valid;
            if let (true, Some(why), Some(source)) =
                (due, renewal.impossible.clone(), ctx.token_source)
            {
                // Due, and Meta Monitor cannot do it: the operator hears why and what to do
                // (a token from the environment is renewed where it is kept, not here).
                if source != TokenSource::Environment {
                    tile.message = format!("{}; automatic renewal impossible: {why}", tile.message);
                    renewal.failed = Some(format!("automatic renewal is impossible: {why}"));
                }
            } else if let (true, Some(source)) = (due, ctx.token_source) {
                let done = renew::renew(
                    ctx.client.http(),
                    ctx.account,
                    ctx.client.credentials(),
                    source,
                    Some(info.clone()),
                    ctx.now,
                )
                .await;
                match done {
                    Ok(new) => {
                        tile = evaluate(&new.info, ctx.account, ctx.now, warn_days);
                        tile.latency_ms = Some(millis(response.latency));
                        renewal =
                            renewal_state(&new.info, ctx.account, has_secret, source, ctx.now);
                        renewal.renewed = true;
                        tile.message = format!("{}; renewed automatically", tile.message);
                        info = new.info.clone();
                        renewed = Some(new.credentials);
                    }
                    Err(e) => {
                        let why = ctx.client.redact(&e.to_string());
                        tile.message = format!("{}; automatic renewal failed: {why}", tile.message);
                        renewal.failed = Some(why);
                    }
                }
            }
            if let Detail::Token(detail) = &mut tile.detail {
                detail.renewal = Some(renewal);
            }
            if let Some(capi) = &ctx.client.credentials().capi_token {
                let capi = capi_token(ctx, capi).await;
                tile.status = tile.status.worst(capi.status);
                tile.message = format!("{}; Conversions API token: {}", tile.message, capi.message);
                if let Detail::Token(detail) = &mut tile.detail {
                    detail.capi = Some(capi);
                }
            }
            let points = match days_left(&info, ctx.now) {
                Some(days) => vec![("meta.token.days_left".to_owned(), days)],
                None => Vec::new(),
            };
            let mut report = ProbeReport::ok(tile, points);
            report.renewed = renewed;
            report
        }
        Err(err) if err.class() == ErrorClass::TokenInvalid => {
            // debug_token itself refused the token: as decisive as is_valid = false.
            let reason = err
                .meta()
                .and_then(MetaError::token_reason)
                .unwrap_or("invalid token");
            let tile = Tile::new(
                Service::Token,
                Status::Down,
                ctx.now,
                format!("token invalid: {reason} ({err})"),
            )
            .with_detail(Detail::Token(TokenDetail::default()));
            ProbeReport::from_error(tile, err)
        }
        Err(err) => failed(Service::Token, err, ctx.now),
    }
}

/// When the kept token no longer works, a token staged by an interrupted renewal or exchange
/// (the process was killed after Meta answered) is verified and promoted: the account recovers
/// without anyone pasting a token.
async fn recovered(ctx: &ProbeContext<'_>) -> Option<ProbeReport> {
    if ctx.token_source != Some(TokenSource::Keychain) {
        return None;
    }
    let vault = renew::vault_for(TokenSource::Keychain, &ctx.account.name)?;
    let credentials = ctx.client.credentials();
    let kept = renew::recover(
        ctx.client.http(),
        ctx.account,
        credentials,
        vault.as_ref(),
        ctx.now,
    )
    .await
    .ok()?;
    if kept.access_token == credentials.access_token {
        return None;
    }
    let client = crate::graph::GraphClient::new(
        ctx.client.http().clone(),
        &ctx.account.graph_url,
        &ctx.account.api_version,
        kept.clone(),
        ctx.account.app_id.clone(),
    )
    .ok()?;
    let (info, response) = debug_token(&client).await.ok()?;
    let mut tile = evaluate(
        &info,
        ctx.account,
        ctx.now,
        ctx.thresholds.token_expiry_warning_days,
    );
    tile.latency_ms = Some(millis(response.latency));
    tile.message = format!(
        "{}; recovered the token an interrupted renewal had kept aside",
        tile.message
    );
    let points = days_left(&info, ctx.now)
        .map(|days| vec![("meta.token.days_left".to_owned(), days)])
        .unwrap_or_default();
    let mut report = ProbeReport::ok(tile, points);
    report.renewed = Some(kept);
    Some(report)
}

/// The shop server's Conversions API token: valid, how long, and whether it reaches the
/// account's pixel. Watched, never renewed: the shop's server holds it.
async fn capi_token(ctx: &ProbeContext<'_>, token: &Secret) -> CapiTokenDetail {
    let warn_days = ctx.thresholds.token_expiry_warning_days;
    let mut detail = CapiTokenDetail {
        status: Status::Unknown,
        message: String::new(),
        is_valid: false,
        token_type: None,
        expires_at: None,
        never_expires: false,
        scopes: Vec::new(),
        pixel_access: None,
    };
    let (client, inspected) = match crate::token::capi_client(ctx.client, ctx.account, token).await
    {
        Ok(answer) => answer,
        Err(err) => {
            detail.message = format!("not measured: {err}");
            return detail;
        }
    };
    let info = match inspected {
        Ok(info) => info,
        Err(err) if err.class() == ErrorClass::TokenInvalid => {
            let reason = err
                .meta()
                .and_then(MetaError::token_reason)
                .unwrap_or("invalid token");
            detail.status = Status::Down;
            detail.message = format!("invalid: {reason}");
            return detail;
        }
        Err(err) => {
            detail.message = format!("not measured: {err}");
            return detail;
        }
    };
    let now = ctx.now.unix_timestamp();
    let expires_at = info.expires_at.unwrap_or(0);
    detail.is_valid = info.is_valid;
    detail.token_type = info.kind.clone();
    detail.never_expires = expires_at == 0;
    detail.expires_at = (expires_at > 0)
        .then(|| OffsetDateTime::from_unix_timestamp(expires_at).ok())
        .flatten();
    detail.scopes = info.scopes.clone();
    let expiry_text = if expires_at == 0 {
        "never".to_owned()
    } else {
        rfc3339(expires_at)
    };
    (detail.status, detail.message) = if !info.is_valid {
        let why = info
            .error
            .as_ref()
            .map(|e| token_reason(e.code.unwrap_or(190), e.subcode).unwrap_or("invalid token"))
            .unwrap_or("Meta reports it as invalid");
        (Status::Down, format!("invalid: {why}"))
    } else if expires_at != 0 && expires_at <= now {
        (Status::Down, format!("expired at {expiry_text}"))
    } else if expires_at != 0 && expires_at - now <= warn_days * 86400 {
        let left = super::human_duration(std::time::Duration::from_secs(
            (expires_at - now).unsigned_abs(),
        ));
        (
            Status::Degraded,
            format!("expires in {left} ({expiry_text}): give the shop's server a new one"),
        )
    } else if expires_at == 0 {
        (Status::Up, "valid, never expires".to_owned())
    } else {
        (Status::Up, format!("valid until {expiry_text}"))
    };
    if let (true, Some(pixel)) = (info.is_valid, ctx.account.pixel_id.as_deref()) {
        match client.get(pixel, &[("fields", "id")]).await {
            Ok(_) => detail.pixel_access = Some(true),
            Err(err)
                if matches!(
                    err.class(),
                    ErrorClass::Permission | ErrorClass::InvalidRequest
                ) =>
            {
                detail.pixel_access = Some(false);
                detail.status = Status::Down;
                detail.message = format!("cannot reach pixel {pixel}: {err}");
            }
            Err(_) => {}
        }
    }
    detail
}

/// What automatic renewal will do for this token: when, or why it cannot.
pub fn renewal_state(
    info: &TokenInfo,
    account: &Account,
    has_app_secret: bool,
    source: TokenSource,
    now: OffsetDateTime,
) -> TokenRenewal {
    let m = &account.monitoring;
    let plan = crate::token::plan(info, account, has_app_secret, source, now);
    let expires_at = info.expires_at.filter(|t| *t > 0);
    let due_at = match (&plan, expires_at) {
        (Ok(_), Some(t)) => OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .map(|t| t - time::Duration::days(i64::from(m.token_renew_days))),
        _ => None,
    };
    TokenRenewal {
        auto: m.token_auto_renew,
        days_before: m.token_renew_days,
        impossible: plan
            .err()
            .map(|i| format!("{}; instead: {}", i.reason, i.steps)),
        due_at,
        renewed: false,
        failed: None,
    }
}

fn days_left(info: &TokenInfo, now: OffsetDateTime) -> Option<f64> {
    let expires = info.expires_at.filter(|t| *t > 0)?;
    Some((expires - now.unix_timestamp()) as f64 / 86400.0)
}

/// The pure rule from a `debug_token` answer to a tile.
pub fn evaluate(info: &TokenInfo, account: &Account, now: OffsetDateTime, warn_days: i64) -> Tile {
    let missing: Vec<(&str, &str)> = needed_scopes(account)
        .into_iter()
        .filter(|(s, _)| !info.scopes.iter().any(|have| have == s))
        .collect();
    let data_access_left = info
        .data_access_expires_at
        .filter(|t| *t > 0)
        .map(|t| t - now.unix_timestamp());
    let data_access_ending =
        info.is_valid && data_access_left.is_some_and(|left| left <= warn_days * 86400);
    let expires_at = info.expires_at.unwrap_or(0);
    let expiry_text = if expires_at == 0 {
        "never".to_owned()
    } else {
        rfc3339(expires_at)
    };
    let (status, message) = if !info.is_valid {
        let reason = info
            .error
            .as_ref()
            .map(|e| {
                let why = token_reason(e.code.unwrap_or(190), e.subcode).unwrap_or("invalid token");
                match &e.message {
                    Some(m) => format!("{why} ({m})"),
                    None => why.to_owned(),
                }
            })
            .unwrap_or_else(|| "Meta reports the token as invalid".to_owned());
        (Status::Down, format!("token invalid: {reason}"))
    } else if expires_at != 0 && expires_at <= now.unix_timestamp() {
        (Status::Down, format!("token expired at {expiry_text}"))
    } else if expires_at != 0 && expires_at - now.unix_timestamp() <= warn_days * 86400 {
        let left = super::human_duration(std::time::Duration::from_secs(
            u64::try_from(expires_at - now.unix_timestamp()).unwrap_or(0),
        ));
        (
            Status::Degraded,
            format!("token expires in {left} ({expiry_text}): renew or replace it"),
        )
    } else if let (true, Some(left)) = (data_access_ending, data_access_left) {
        let when = if left <= 0 {
            "has ended".to_owned()
        } else {
            format!(
                "ends in {}",
                super::human_duration(std::time::Duration::from_secs(left.unsigned_abs()))
            )
        };
        (
            Status::Degraded,
            format!("the user's data access {when}: the user must log in to the app again"),
        )
    } else if !missing.is_empty() {
        let broken: Vec<String> = missing
            .iter()
            .map(|(scope, feature)| format!("{scope} ({feature})"))
            .collect();
        (
            Status::Degraded,
            format!("missing scopes: {}", broken.join(", ")),
        )
    } else if expires_at == 0 {
        (Status::Up, "valid, never expires".to_owned())
    } else {
        (Status::Up, format!("valid until {expiry_text}"))
    };
    let at = |unix: Option<i64>| {
        unix.filter(|t| *t > 0)
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
    };
    Tile::new(Service::Token, status, now, message).with_detail(Detail::Token(TokenDetail {
        is_valid: info.is_valid,
        token_type: info.kind.clone(),
        expires_at: at(info.expires_at),
        never_expires: expires_at == 0,
        data_access_expires_at: at(info.data_access_expires_at),
        scopes: info.scopes.clone(),
        missing_scopes: missing.iter().map(|(s, _)| (*s).to_owned()).collect(),
        missing: missing
            .iter()
            .map(|(scope, feature)| MissingScope {
                scope: (*scope).to_owned(),
                feature: (*feature).to_owned(),
            })
            .collect(),
        app_id: info.app_id.clone(),
        application: info.application.clone(),
        user_id: info.user_id.clone(),
        issued_at: at(info.issued_at),
        granular_scopes: info.granular_scopes.clone(),
        data_access_ending,
        renewal: None,
        capi: None,
    }))
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(valid: bool, expires_at: i64, scopes: &[&str]) -> TokenInfo {
        TokenInfo {
            app_id: Some("1".into()),
            kind: Some("SYSTEM_USER".into()),
            application: None,
            expires_at: Some(expires_at),
            data_access_expires_at: Some(0),
            is_valid: valid,
            issued_at: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            granular_scopes: Vec::new(),
            user_id: None,
            profile_id: None,
            error: None,
        }
    }

    #[test]
    fn token_rules() {
        let now = OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time");
        let t = now.unix_timestamp();
        let mut account = Account::new("a");
        account.ad_account_id = Some("act_1".into());
        account.catalog_id = Some("2".into());
        let all = ["ads_read", "catalog_management"];
        let cases = [
            (info(true, 0, &all), Status::Up, "never"),
            (info(true, t + 30 * 86400, &all), Status::Up, "valid until"),
            (
                info(true, t + 3 * 86400, &all),
                Status::Degraded,
                "expires in 3 d",
            ),
            (info(true, t - 10, &all), Status::Down, "expired"),
            (info(false, t + 86400, &all), Status::Down, "invalid"),
            (
                info(true, 0, &["ads_read"]),
                Status::Degraded,
                "catalog_management (catalog reads and product sync)",
            ),
            (
                TokenInfo {
                    data_access_expires_at: Some(t + 2 * 86400),
                    ..info(true, t + 50 * 86400, &all)
                },
                Status::Degraded,
                "data access ends in 2 d",
            ),
        ];
        for (info, status, needle) in cases {
            let tile = evaluate(&info, &account, now, 7);
            assert_eq!(tile.status, status, "{info:?} → {}", tile.message);
            assert!(
                tile.message.contains(needle),
                "{:?} should mention {needle}",
                tile.message
            );
        }
    }

    #[test]
    fn renewal_is_planned_before_expiry_or_explained() {
        let now = OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time");
        let t = now.unix_timestamp();
        let mut account = Account::new("shop");
        account.app_id = Some("1".into());
        let expiring = info(true, t + 30 * 86400, &[]);
        let r = renewal_state(&expiring, &account, true, TokenSource::Keychain, now);
        assert_eq!(r.impossible, None);
        assert_eq!(
            r.due_at.map(OffsetDateTime::unix_timestamp),
            Some(t + 23 * 86400),
            "7 days before expiry by default"
        );
        let r = renewal_state(&expiring, &account, false, TokenSource::Keychain, now);
        assert!(r.due_at.is_none());
        assert!(
            r.impossible
                .is_some_and(|why| why.contains("meta-monitor secret set shop app-secret")),
            "why, and what to do instead"
        );
    }
}
