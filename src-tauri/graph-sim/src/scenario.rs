//! Named scenarios: each one a way a real Meta integration looks on a given day.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Everything answers; usage is low.
    Healthy,
    /// The ad account's BUC buckets are at 100 %: ads calls get 80004/80000 with a regain time.
    Throttled,
    /// The ad account is DISABLED (`account_status` 2) and its Ads Insights bucket is at 100 %:
    /// the account node answers, every insights call gets 80000 with a regain time.
    AdsDisabledThrottled,
    /// The token expires in 3 days.
    TokenExpiring,
    /// The token has expired: 190/463 everywhere a user token is used.
    TokenInvalid,
    /// The token was pasted wrong: 190 "Malformed access token <the token as sent>" everywhere
    /// a user token is used, and `debug_token` reports the same — Meta echoes the token
    /// (reference §15).
    TokenMalformed,
    /// 5xx with an HTML error page, transient JSON errors, a slow endpoint, a dropped connection
    /// and a truncated JSON body.
    Outage,
    /// The pixel last fired 3 days ago and has no events in the last 24 h.
    PixelSilent,
    /// One webhook subscription is inactive.
    WebhookInactive,
    /// The shop's server stopped sending Conversions API events 3 hours ago; the browser
    /// Pixel keeps firing.
    ServerEventsStopped,
    /// The desktop demo: one account whose services span the states — the ad account
    /// throttled, the token expiring, the pixel silent, the rest healthy.
    Demo,
}

impl Scenario {
    pub const ALL: [Scenario; 11] = [
        Self::Healthy,
        Self::Throttled,
        Self::AdsDisabledThrottled,
        Self::TokenExpiring,
        Self::TokenInvalid,
        Self::TokenMalformed,
        Self::Outage,
        Self::PixelSilent,
        Self::WebhookInactive,
        Self::ServerEventsStopped,
        Self::Demo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Throttled => "throttled",
            Self::AdsDisabledThrottled => "ads-disabled-throttled",
            Self::TokenExpiring => "token-expiring",
            Self::TokenInvalid => "token-invalid",
            Self::TokenMalformed => "token-malformed",
            Self::Outage => "outage",
            Self::PixelSilent => "pixel-silent",
            Self::WebhookInactive => "webhook-inactive",
            Self::ServerEventsStopped => "server-events-stopped",
            Self::Demo => "demo",
        }
    }

    /// Whether this scenario shows the failure of `part` (`demo` shows several at once).
    pub fn shows(self, part: Scenario) -> bool {
        self == part
            || (self == Self::Demo
                && matches!(
                    part,
                    Self::Throttled | Self::TokenExpiring | Self::PixelSilent
                ))
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|x| x.name()).collect();
                format!("unknown scenario {s:?}; one of: {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_parses_back_from_its_name() {
        for scenario in Scenario::ALL {
            assert_eq!(
                scenario.name().parse::<Scenario>(),
                Ok(scenario),
                "ALL and name() must agree, or the admin API and --scenario lose {scenario:?}"
            );
        }
        let mut names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Scenario::ALL.len(), "names are unique");
    }
}
