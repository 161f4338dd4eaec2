//! Tokens that really live and die (reference §4, §14): the simulator issues them with a type
//! and an expiry, `debug_token` describes them, every call with an expired one gets 190/463,
//! and `oauth/access_token` exchanges a short-lived user token for a 60-day one or refreshes
//! an expiring system-user token — the old token staying valid until its own expiry.
//!
//! A token the simulator did not issue (the demo's, a test's fixed string) is not registered
//! and keeps the scenario-driven behaviour.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::{AD_ACCOUNT, APP_ID, APP_SECRET, CATALOG_ID};

/// The Page a simulated Page token belongs to (`profile_id`).
const PAGE_ID: &str = "104500000000001";

/// The user id every simulated token belongs to (the system user of the demo business).
pub const USER_ID: &str = "61570785020842";
/// ~60 days, as Meta answers `expires_in` for a long-lived token (reference §4).
pub const LONG_LIVED_SECS: i64 = 5_183_944;

/// `debug_token`'s `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    User,
    Page,
    SystemUser,
    App,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Page => "PAGE",
            Self::SystemUser => "SYSTEM_USER",
            Self::App => "APP",
        }
    }
}

/// One issued token.
#[derive(Debug, Clone)]
pub struct Grant {
    pub kind: TokenKind,
    pub issued_at: i64,
    /// Unix seconds; 0 never expires.
    pub expires_at: i64,
    /// Unix seconds; 0 when not applicable (system users).
    pub data_access_expires_at: i64,
    pub scopes: Vec<String>,
}

impl Grant {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at != 0 && now >= self.expires_at
    }

    /// The `data` object of `debug_token` for this token at `now`.
    pub fn describe(&self, now: i64) -> Value {
        let mut granular = Vec::new();
        for scope in &self.scopes {
            let targets: Option<Vec<&str>> = match scope.as_str() {
                "ads_read" | "ads_management" => Some(vec![AD_ACCOUNT.trim_start_matches("act_")]),
                "catalog_management" => Some(vec![CATALOG_ID]),
                "business_management" => None,
                _ => None,
            };
            granular.push(match targets {
                Some(ids) => json!({"scope": scope, "target_ids": ids}),
                None => json!({"scope": scope}),
            });
        }
        let mut data = json!({
            "app_id": APP_ID,
            "type": self.kind.as_str(),
            "application": "Meta Monitor Simulator",
            "data_access_expires_at": self.data_access_expires_at,
            "expires_at": self.expires_at,
            "is_valid": !self.expired(now),
            "issued_at": self.issued_at,
            "scopes": self.scopes,
            "granular_scopes": granular,
            "user_id": USER_ID,
        });
        if self.kind == TokenKind::Page {
            data["profile_id"] = json!(PAGE_ID);
        }
        if self.expired(now) {
            data["error"] = json!({
                "code": 190,
                "subcode": 463,
                "message": format!("Session has expired on {}.", session_date(self.expires_at)),
            });
        }
        data
    }
}

/// The scopes a token of the demo business has unless a test says otherwise.
pub fn default_scopes() -> Vec<String> {
    [
        "ads_read",
        "business_management",
        "catalog_management",
        "pages_show_list",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

#[derive(Default)]
pub struct Registry {
    grants: HashMap<String, Grant>,
    issued: u64,
}

/// Why `oauth/access_token` refused: HTTP 400, `OAuthException`, code, subcode, message.
pub struct Refusal {
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
}

fn refuse(code: i64, subcode: Option<i64>, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        subcode,
        message: message.into(),
    }
}

impl Registry {
    /// Issues a token of `kind` valid for `lifetime_secs` from `now` (`None`: never expires).
    /// Values are obviously fake and never shaped like Meta's (`EAA…`).
    pub fn issue(
        &mut self,
        kind: TokenKind,
        lifetime_secs: Option<i64>,
        scopes: Vec<String>,
        now: i64,
    ) -> String {
        self.issued += 1;
        let value = format!(
            "sim-{}-token-{}-{:x}",
            kind.as_str().to_ascii_lowercase().replace('_', ""),
            self.issued,
            (now as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.issued
        );
        let data_access = match kind {
            TokenKind::User | TokenKind::Page => now + 90 * 86_400,
            TokenKind::SystemUser | TokenKind::App => 0,
        };
        self.grants.insert(
            value.clone(),
            Grant {
                kind,
                issued_at: now,
                expires_at: lifetime_secs.map_or(0, |l| now + l),
                data_access_expires_at: data_access,
                scopes,
            },
        );
        value
    }

    pub fn get(&self, token: &str) -> Option<&Grant> {
        self.grants.get(token)
    }

    /// `oauth/access_token?grant_type=fb_exchange_token` (reference §4 and §14), with the
    /// answer `{"access_token","token_type","expires_in"}` or Meta's refusal.
    ///
    /// A token the simulator did not issue is taken for a valid expiring system-user token
    /// (the demo's): it is refreshed like one.
    pub fn exchange(
        &mut self,
        params: &HashMap<String, String>,
        now: i64,
    ) -> Result<Value, Refusal> {
        let param = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        if param("grant_type") != Some("fb_exchange_token") {
            return Err(refuse(
                100,
                None,
                "(#100) The parameter grant_type must be fb_exchange_token",
            ));
        }
        match param("client_id") {
            None => return Err(refuse(101, None, "Missing client_id parameter.")),
            Some(id) if id != APP_ID => {
                return Err(refuse(
                    101,
                    None,
                    "Error validating application. Invalid application ID.",
                ));
            }
            Some(_) => {}
        }
        if param("client_secret") != Some(APP_SECRET) {
            return Err(refuse(1, None, "Error validating client secret."));
        }
        let Some(old) = param("fb_exchange_token") else {
            return Err(refuse(1, None, "fb_exchange_token parameter not specified"));
        };
        let sixty_days = param("set_token_expires_in_60_days") == Some("true");
        let (kind, scopes) = match self.grants.get(old) {
            Some(grant) if grant.expired(now) => {
                return Err(refuse(
                    190,
                    Some(463),
                    format!(
                        "Error validating access token: Session has expired on {}. The current time is {}.",
                        session_date(grant.expires_at),
                        session_date(now)
                    ),
                ));
            }
            Some(grant) => (grant.kind, grant.scopes.clone()),
            None => (TokenKind::SystemUser, default_scopes()),
        };
        // Meta documents no answer for these; the simulator refuses like a bad parameter.
        match kind {
            TokenKind::App => {
                return Err(refuse(
                    100,
                    None,
                    "(#100) An app access token cannot be exchanged",
                ));
            }
            TokenKind::Page => {
                return Err(refuse(
                    100,
                    None,
                    "(#100) A Page access token cannot be exchanged; get a new one from a long-lived user token",
                ));
            }
            TokenKind::SystemUser if self.grants.get(old).is_some_and(|g| g.expires_at == 0) => {
                return Err(refuse(
                    100,
                    None,
                    "(#100) This system user access token does not expire and cannot be refreshed",
                ));
            }
            TokenKind::SystemUser if !sixty_days => {
                // Undocumented without the flag (reference §14): the simulator refuses, so a
                // client that forgets it finds out here rather than at Meta.
                return Err(refuse(
                    100,
                    None,
                    "(#100) set_token_expires_in_60_days must be true to refresh a system user access token",
                ));
            }
            TokenKind::User | TokenKind::SystemUser => {}
        }
        let token = self.issue(kind, Some(LONG_LIVED_SECS), scopes, now);
        Ok(json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": LONG_LIVED_SECS,
        }))
    }
}

/// A date as the simulator writes it in the session-expired message.
/// Meta's wording of a session's time (see [`crate::graph::session_date`]).
pub fn session_date(unix: i64) -> String {
    crate::graph::session_date(
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange_params(token: &str, sixty: bool) -> HashMap<String, String> {
        let mut p = HashMap::new();
        p.insert("grant_type".into(), "fb_exchange_token".into());
        p.insert("client_id".into(), APP_ID.into());
        p.insert("client_secret".into(), APP_SECRET.into());
        p.insert("fb_exchange_token".into(), token.into());
        if sixty {
            p.insert("set_token_expires_in_60_days".into(), "true".into());
        }
        p
    }

    #[test]
    fn a_refresh_issues_a_new_token_and_the_old_one_lives_until_its_expiry() {
        let now = 1_800_000_000;
        let mut r = Registry::default();
        let old = r.issue(
            TokenKind::SystemUser,
            Some(6 * 86_400),
            default_scopes(),
            now,
        );
        let answer = r
            .exchange(&exchange_params(&old, true), now)
            .unwrap_or_else(|e| panic!("refused: {}", e.message));
        let new = answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_ne!(new, old, "a new token");
        assert_eq!(answer["expires_in"], json!(LONG_LIVED_SECS));
        let fresh = r.get(&new).cloned().unwrap_or_else(|| panic!("registered"));
        assert_eq!(fresh.expires_at, now + LONG_LIVED_SECS);
        assert_eq!(fresh.scopes, default_scopes(), "scopes carried over");
        assert!(!r.get(&old).is_some_and(|g| g.expired(now + 6 * 86_400 - 1)));
        assert!(r.get(&old).is_some_and(|g| g.expired(now + 6 * 86_400)));
        assert!(!new.starts_with("EA"), "never shaped like Meta's tokens");
    }

    #[test]
    fn refusals_follow_meta() {
        let now = 1_800_000_000;
        let mut r = Registry::default();
        let expired = r.issue(TokenKind::User, Some(3600), default_scopes(), now - 7200);
        let page = r.issue(TokenKind::Page, None, default_scopes(), now);
        let never = r.issue(TokenKind::SystemUser, None, default_scopes(), now);
        let user = r.issue(TokenKind::User, Some(3600), default_scopes(), now);
        let code = |r: &mut Registry, p: HashMap<String, String>| match r.exchange(&p, now) {
            Ok(_) => (0, None, String::new()),
            Err(e) => (e.code, e.subcode, e.message),
        };
        let (c, s, m) = code(&mut r, exchange_params(&expired, false));
        assert_eq!((c, s), (190, Some(463)), "{m}");
        assert!(m.starts_with("Error validating access token: Session has expired"));
        let mut wrong = exchange_params(&user, false);
        wrong.insert("client_secret".into(), "nope".into());
        assert_eq!(code(&mut r, wrong).2, "Error validating client secret.");
        let mut no_id = exchange_params(&user, false);
        no_id.remove("client_id");
        assert_eq!(code(&mut r, no_id).0, 101);
        let mut no_token = exchange_params(&user, false);
        no_token.remove("fb_exchange_token");
        assert_eq!(code(&mut r, no_token).0, 1);
        assert_eq!(code(&mut r, exchange_params(&page, false)).0, 100);
        assert_eq!(code(&mut r, exchange_params(&never, true)).0, 100);
        assert_eq!(
            code(&mut r, exchange_params(&user, false)).0,
            0,
            "a user token exchanges"
        );
    }

    #[test]
    fn session_times_are_written_as_meta_writes_them() {
        // The reference's example: 15 January 2026, 01:00 PST = 09:00 UTC.
        let winter = time::macros::datetime!(2026-01-15 09:00:00 UTC);
        assert_eq!(
            crate::graph::session_date(winter),
            "Thursday, 15-Jan-26 01:00:00 PST"
        );
        let summer = time::macros::datetime!(2026-07-04 19:30:05 UTC);
        assert_eq!(
            crate::graph::session_date(summer),
            "Saturday, 04-Jul-26 12:30:05 PDT"
        );
        // DST starts 8 March 2026 at 02:00 PST (10:00 UTC).
        let before = time::macros::datetime!(2026-03-08 09:59:59 UTC);
        let after = time::macros::datetime!(2026-03-08 10:00:00 UTC);
        assert!(crate::graph::session_date(before).ends_with("01:59:59 PST"));
        assert!(crate::graph::session_date(after).ends_with("03:00:00 PDT"));
    }
}
