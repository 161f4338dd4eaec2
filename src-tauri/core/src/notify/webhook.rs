//! The team channel: an outgoing webhook, `POST` of JSON with a `text` field (what Slack,
//! Mattermost and Teams-style incoming webhooks accept), with a timeout and retries. The URL
//! may embed a secret, so it comes from the keychain and never appears in errors.

use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};

use super::{Message, Notifier};
use crate::secret::Secret;

pub struct Webhook {
    url: Secret,
    http: reqwest::blocking::Client,
    retries: usize,
}

impl Webhook {
    pub fn new(url: Secret, timeout: Duration, retries: usize) -> Result<Self, String> {
        // Like every client here: no redirect is followed (the alert would be posted to
        // whatever host it names), no Referer.
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(crate::graph::USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false);
        // Chat tools are outside the company too: the same proxy as Meta.
        if let Some(proxy) = crate::graph::proxy::for_client() {
            builder = builder.proxy(proxy);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Self { url, http, retries })
    }

    /// The JSON body: `text` for chat tools, plus structured fields for anything else.
    pub fn payload(message: &Message) -> serde_json::Value {
        serde_json::json!({
            "text": format!("{}\n{}", message.summary, message.body),
            "account": message.account,
            "severity": message.severity,
            "kind": message.kind,
            "summary": message.summary,
            "body": message.body,
        })
    }

    fn attempt(&self, body: &serde_json::Value) -> Result<(), String> {
        let response = self
            .http
            .post(self.url.expose())
            .json(body)
            .send()
            .map_err(|e| format!("webhook request failed: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            let from = url::Url::parse(self.url.expose()).map_err(|e| e.to_string())?;
            Err(format!(
                "webhook answered a redirect (HTTP {}) to {}; not followed",
                status.as_u16(),
                crate::graph::redirect_target(response.headers(), &from)
            ))
        } else {
            Err(format!("webhook answered HTTP {}", status.as_u16()))
        }
    }
}

impl Notifier for Webhook {
    fn channel(&self) -> &'static str {
        "webhook"
    }

    fn send(&self, message: &Message) -> Result<(), String> {
        let body = Self::payload(message);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_times(self.retries)
            .with_jitter();
        (|| self.attempt(&body)).retry(backoff).call()
    }
}
