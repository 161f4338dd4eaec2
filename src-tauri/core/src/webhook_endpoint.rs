//! Checks the operator's own webhook endpoint the way Meta does: the verification handshake
//! (`GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…` must answer 200 with the
//! challenge echoed) and, with an app secret, a signed sample delivery (`POST` with
//! `X-Hub-Signature-256: sha256=<HMAC of the body>` must answer 200).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::graph::{hmac_sha256_hex, read_capped, redirect_target};
use crate::secret::Secret;

/// The outcome for one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointResult {
    pub url: String,
    pub ok: bool,
    pub latency_ms: u64,
    /// What failed, in words; `None` when everything passed.
    pub problem: Option<String>,
}

/// `sha256=<hex HMAC-SHA256 of body keyed by the app secret>`.
pub fn signature(app_secret: &Secret, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hmac_sha256_hex(app_secret.expose().as_bytes(), body)
    )
}

/// A challenge that differs every time, like Meta's.
fn challenge() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}", (nanos % 1_000_000_000) as u64 * 7 + 1_000_000_000)
}

pub async fn check(
    http: &reqwest::Client,
    url: &str,
    verify_token: &Secret,
    app_secret: Option<&Secret>,
) -> EndpointResult {
    let started = Instant::now();
    let problem = run(http, url, verify_token, app_secret).await.err();
    EndpointResult {
        url: url.to_owned(),
        ok: problem.is_none(),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        problem,
    }
}

async fn run(
    http: &reqwest::Client,
    url: &str,
    verify_token: &Secret,
    app_secret: Option<&Secret>,
) -> Result<(), String> {
    let endpoint = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let hub = challenge();
    let query = [
        ("hub.mode", "subscribe"),
        ("hub.challenge", hub.as_str()),
        ("hub.verify_token", verify_token.expose()),
    ];
    let response = http
        .get(url)
        .query(&query)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("handshake failed: {}", e.without_url()))?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(format!(
            "handshake answered a redirect (HTTP {status}) to {}; not followed",
            redirect_target(response.headers(), &endpoint)
        ));
    }
    // The challenge is a few digits: a body beyond this is not what Meta expects anyway.
    let body = read_capped(response, 64 * 1024).await.unwrap_or_default();
    let body = String::from_utf8_lossy(&body);
    if status != 200 {
        return Err(format!("handshake answered HTTP {status}, expected 200"));
    }
    if body.trim() != hub {
        return Err("handshake did not echo hub.challenge".to_owned());
    }
    let Some(secret) = app_secret else {
        return Ok(());
    };
    let sample = br#"{"object":"page","entry":[]}"#;
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature(secret, sample))
        .body(sample.to_vec())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("signed delivery failed: {}", e.without_url()))?;
    match response.status().as_u16() {
        200 => Ok(()),
        other if response.status().is_redirection() => Err(format!(
            "signed delivery answered a redirect (HTTP {other}) to {}; not followed",
            redirect_target(response.headers(), &endpoint)
        )),
        other => Err(format!(
            "signed delivery answered HTTP {other}, expected 200"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_reference_example() {
        let got = signature(
            &Secret::new("appsecret"),
            br#"{"object":"page","entry":[]}"#,
        );
        assert_eq!(
            got,
            "sha256=0e9e0080a310f376450c46d999aa4d49ed772bfe43c13205f38a3a6e6611ed2b"
        );
    }
}
