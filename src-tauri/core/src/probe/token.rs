//! `token`: `debug_token` validity, expiry and the scopes the configured features need.
//! DOWN when invalid or expired; DEGRADED when it expires within the warning window or
//! scopes are missing.

use time::OffsetDateTime;

use crate::account::Account;
use crate::graph::error::token_reason;
use crate::graph::token::{TokenInfo, debug_token};
use crate::graph::{ErrorClass, MetaError};
use crate::tile::detail::{Detail, TokenDetail};
use crate::tile::{Service, Status, Tile};

use super::{ProbeContext, ProbeReport, failed, millis};

/// Scopes the account's configured features need: ads → `ads_read`,
/// catalog → `catalog_management`, business → `business_management`.
pub fn required_scopes(account: &Account) -> Vec<&'static str> {
    let mut scopes = Vec::new();
    if account.ad_account_id.is_some() {
        scopes.push("ads_read");
    }
    if account.catalog_id.is_some() {
        scopes.push("catalog_management");
    }
    if account.business_id.is_some() {
        scopes.push("business_management");
    }
    scopes
}

pub async fn probe(ctx: &ProbeContext<'_>) -> ProbeReport {
    match debug_token(ctx.client).await {
        Ok((info, response)) => {
            let mut tile = evaluate(
                &info,
                ctx.account,
                ctx.now,
                ctx.thresholds.token_expiry_warning_days,
            );
            tile.latency_ms = Some(millis(response.latency));
            let points = match days_left(&info, ctx.now) {
                Some(days) => vec![("meta.token.days_left".to_owned(), days)],
                None => Vec::new(),
            };
            ProbeReport::ok(tile, points)
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

fn days_left(info: &TokenInfo, now: OffsetDateTime) -> Option<f64> {
    let expires = info.expires_at.filter(|t| *t > 0)?;
    Some((expires - now.unix_timestamp()) as f64 / 86400.0)
}

/// The pure rule from a `debug_token` answer to a tile.
pub fn evaluate(info: &TokenInfo, account: &Account, now: OffsetDateTime, warn_days: i64) -> Tile {
    let missing: Vec<&str> = required_scopes(account)
        .into_iter()
        .filter(|s| !info.scopes.iter().any(|have| have == s))
        .collect();
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
            format!("token expires in {left} ({expiry_text}): replace it"),
        )
    } else if !missing.is_empty() {
        (
            Status::Degraded,
            format!("missing scopes: {}", missing.join(", ")),
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
        missing_scopes: missing.iter().map(|s| (*s).to_owned()).collect(),
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
            user_id: None,
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
                "catalog_management",
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
}
