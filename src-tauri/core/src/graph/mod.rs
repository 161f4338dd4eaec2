//! The Graph API client: one constructor with timeouts, the token in `Authorization: Bearer`,
//! `appsecret_proof` on every call when an app secret is known, typed errors, and a record of
//! every call (latency, status, rate-limit headers) for the probes that report on them.

pub mod ads;
pub mod advice;
pub mod catalog;
pub mod error;
pub mod health;
pub mod oauth;
pub mod pixel;
pub mod proxy;
pub mod rate_limit;
pub mod token;
pub mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use url::Url;

pub use error::{ErrorClass, GraphError, MetaError, TransportKind};
pub use rate_limit::Usage;

use crate::redact::Redactor;
use crate::secret::Secret;

pub const USER_AGENT: &str = concat!("meta-monitor/", env!("CARGO_PKG_VERSION"));

/// Connect and total timeouts for every request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(15),
        }
    }
}

/// A `POST` body: Graph's batch envelope (answered inside it), or a plain form.
#[derive(Clone)]
enum Body {
    Batch(Vec<(String, String)>),
    Form(Vec<(String, String)>),
}

/// The largest response body read; beyond it the request fails with a named error (a hostile
/// or broken server could otherwise fill memory for as long as the timeout allows).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The only way this crate builds an HTTP client: always with both timeouts, never following
/// a redirect (the Bearer token, a webhook's secret path or a signed delivery would go along
/// to whatever host it names) and never sending a Referer. HTTPS trusts the operating
/// system's store (reqwest's `rustls-tls-native-roots`; `SSL_CERT_FILE` overrides it) as well
/// as Mozilla's roots, so a company's TLS-inspecting proxy CA works; the installation's proxy
/// ([`proxy`]) or else `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (reqwest's default).
pub fn http_client(timeouts: Timeouts) -> Result<reqwest::Client, GraphError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false);
    if let Some(proxy) = proxy::for_client() {
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| GraphError::NotConfigured(format!("cannot build the HTTP client: {e}")))
}

/// Where a redirect answer points, for the error that reports it: the host of its `Location`
/// (the same host when relative), never the full URL (it may carry secrets).
pub fn redirect_target(headers: &reqwest::header::HeaderMap, from: &Url) -> String {
    let location = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok());
    match location.map(|l| from.join(l)) {
        Some(Ok(to)) => match to.host_str() {
            Some(host) if to.origin() == from.origin() => format!("another path on {host}"),
            Some(host) => match to.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            },
            None => "a URL without a host".to_owned(),
        },
        Some(Err(_)) => "an unreadable location".to_owned(),
        None => "nowhere (no Location header)".to_owned(),
    }
}

/// The error for a redirect answer: not followed, and where it pointed.
pub fn redirected(status: u16, headers: &reqwest::header::HeaderMap, from: &Url) -> GraphError {
    GraphError::Transport {
        kind: TransportKind::Redirected,
        detail: format!(
            "HTTP {status} to {}; redirects are not followed, so nothing was sent there",
            redirect_target(headers, from)
        ),
    }
}

/// Reads a body of at most `limit` bytes, chunk by chunk: a larger one (announced or
/// streamed) fails with [`TransportKind::TooLarge`] without being read further.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, GraphError> {
    let too_large = || GraphError::Transport {
        kind: TransportKind::TooLarge,
        detail: format!("the body exceeds {} MiB; not read", limit / (1024 * 1024)),
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Lowercase hex of HMAC-SHA256(key, message): `appsecret_proof` and webhook signatures.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// `hex(HMAC_SHA256(key = app_secret, msg = token))`, Meta's classic `appsecret_proof`.
pub fn appsecret_proof(app_secret: &Secret, token: &Secret) -> String {
    hmac_sha256_hex(app_secret.expose().as_bytes(), token.expose().as_bytes())
}

/// The secrets a client needs, fetched from the keychain (or held in memory in demo mode).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_token: Secret,
    pub app_secret: Option<Secret>,
    /// The `hub.verify_token` the operator's webhook endpoint expects (handshake checks).
    pub verify_token: Option<Secret>,
    /// The token the shop's server sends Conversions API events with, when it is not the
    /// monitor's own: watched by the token check, and used for test events.
    pub capi_token: Option<Secret>,
}

impl Credentials {
    /// A scrubber for text from servers that knows these secrets.
    pub fn redactor(&self) -> Redactor {
        let values = [
            Some(&self.access_token),
            self.app_secret.as_ref(),
            self.verify_token.as_ref(),
            self.capi_token.as_ref(),
        ];
        Redactor::new(values.into_iter().flatten().map(Secret::expose))
    }
}

/// One request as the monitor made it: what a probe run row and the rate-limit tile need.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// The path without the version or query, e.g. `act_1/insights`.
    pub endpoint: String,
    pub latency: Duration,
    pub http_status: Option<u16>,
    pub usage: Usage,
    pub error_class: Option<ErrorClass>,
    pub graph_code: Option<i64>,
}

impl CallRecord {
    /// The endpoint with its ids replaced (`act_{id}/insights`, `{id}/stats`): a label whose
    /// number of values does not grow with the accounts watched.
    pub fn endpoint_pattern(&self) -> String {
        self.endpoint
            .split('/')
            .map(|segment| {
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if digits(segment) {
                    "{id}"
                } else if segment.strip_prefix("act_").is_some_and(digits) {
                    "act_{id}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `ok`, or the error's class (`throttled`, `transport`…).
    pub fn outcome(&self) -> &'static str {
        self.error_class.map_or("ok", ErrorClass::as_str)
    }
}

/// A successful (2xx, JSON) Graph response.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    pub http_status: u16,
    pub latency: Duration,
    pub usage: Usage,
    pub body: Vec<u8>,
    /// The client's secrets: a body quoted in a decoding error is scrubbed with them (a
    /// `paging.next` link carries the token).
    redactor: Arc<Redactor>,
}

impl GraphResponse {
    /// Decodes the body, naming the JSON path where decoding broke.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GraphError> {
        decode(&self.body, self.http_status).map_err(|e| e.redacted(&self.redactor))
    }
}

fn decode<T: DeserializeOwned>(body: &[u8], http_status: u16) -> Result<T, GraphError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = if path == "." || path.is_empty() {
            format!("line {} column {}", inner.line(), inner.column())
        } else {
            format!("{path} (line {} column {})", inner.line(), inner.column())
        };
        GraphError::Undecodable {
            http_status,
            at,
            reason: inner.to_string(),
            snippet: snippet(body),
        }
    })
}

/// The first 80 characters of a body, control characters replaced, for error messages.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(80)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[derive(Deserialize)]
struct ErrorBody {
    error: MetaError,
}

/// A paged edge: `{"data": [...], "paging": {...}, "summary": {...}}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
    #[serde(default)]
    pub summary: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub next: Option<String>,
}

/// A Graph API client bound to one account's base URL, version and credentials.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    /// `{base}/`: where batch requests go.
    base: Url,
    /// `{base}/{version}/`, always ending in a slash.
    root: Url,
    version: String,
    credentials: Credentials,
    app_id: Option<String>,
    calls: Arc<Mutex<Vec<CallRecord>>>,
    retries: usize,
    /// Scrubs every text from the server before it leaves the client (Meta echoes tokens).
    redactor: Arc<Redactor>,
}

/// Retries of a transient failure, at most.
pub const RETRIES: usize = 2;
/// No retry starts after this long since the first attempt.
pub const RETRY_BUDGET: Duration = Duration::from_secs(10);

impl GraphClient {
    /// Sets how many times a transient failure is retried (0 turns retries off).
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    pub fn new(
        http: reqwest::Client,
        graph_url: &str,
        api_version: &str,
        credentials: Credentials,
        app_id: Option<String>,
    ) -> Result<Self, GraphError> {
        let invalid = |e: url::ParseError| {
            GraphError::NotConfigured(format!("invalid graph URL {graph_url}: {e}"))
        };
        let base = Url::parse(&format!("{}/", graph_url.trim_end_matches('/'))).map_err(invalid)?;
        let root = base.join(&format!("{api_version}/")).map_err(invalid)?;
        let version = api_version.to_owned();
        let redactor = Arc::new(credentials.redactor());
        Ok(Self {
            http,
            base,
            root,
            version,
            credentials,
            app_id,
            calls: Arc::default(),
            retries: RETRIES,
            redactor,
        })
    }

    /// The highest usage percentage Meta reported on the calls made so far (any header), so a
    /// probe can skip its optional calls when the budget is nearly spent.
    pub fn peak_usage_pct(&self) -> Option<f64> {
        self.calls.lock().ok().and_then(|calls| {
            calls
                .iter()
                .filter_map(|c| c.usage.max_pct())
                .fold(None, |acc: Option<f64>, p| {
                    Some(acc.map_or(p, |a| a.max(p)))
                })
        })
    }

    /// Every call made so far, emptied.
    pub fn take_calls(&self) -> Vec<CallRecord> {
        self.calls
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// `text` from the server with this client's secrets and any token-shaped run scrubbed.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.scrub(text)
    }

    pub fn access_token(&self) -> &Secret {
        &self.credentials.access_token
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The HTTP client (with its timeouts), for checks of the operator's own endpoints.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The app access token `{app_id}|{app_secret}`, when both are known.
    pub fn app_token(&self) -> Option<Secret> {
        let app_id = self.app_id.as_ref()?;
        let secret = self.credentials.app_secret.as_ref()?;
        Some(Secret::new(format!("{app_id}|{}", secret.expose())))
    }

    /// `GET {root}{path}?{query}` with the account's token.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<GraphResponse, GraphError> {
        self.get_with(path, query, &self.credentials.access_token)
            .await
    }

    /// `GET {root}{path}?{query}` with the given token (the app token for app-only edges).
    pub async fn get_with(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &Secret,
    ) -> Result<GraphResponse, GraphError> {
        let mut url = self
            .root
            .join(path.trim_start_matches('/'))
            .map_err(|e| GraphError::NotConfigured(format!("invalid path {path}: {e}")))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        self.send(url, None, path, token).await
    }

    /// One `GET` sent through Graph's batch endpoint (`POST /` with `batch=[…]`), so that
    /// parameters which are secrets (`debug_token`'s `input_token`) travel in a request body
    /// and never in a URL that proxies or logs could keep.
    pub async fn get_via_batch(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &Secret,
    ) -> Result<GraphResponse, GraphError> {
        // Built in a block so the (non-Send) serializer is gone before the await.
        let encoded = {
            let mut relative = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                relative.append_pair(k, v);
            }
            relative.finish()
        };
        let path = path.trim_start_matches('/');
        let relative_url = format!("{}/{path}?{encoded}", self.version);
        let batch = serde_json::json!([{ "method": "GET", "relative_url": relative_url }]);
        let form = vec![
            ("batch".to_owned(), batch.to_string()),
            ("include_headers".to_owned(), "true".to_owned()),
        ];
        self.send(self.base.clone(), Some(Body::Batch(form)), path, token)
            .await
    }

    /// `POST {root}{path}` with a form body (`data` as a JSON string, as Meta's SDKs send
    /// it) and the account's token. Retried like a `GET`: every caller makes its writes
    /// idempotent (events carry an `event_id`, catalog items a retailer id).
    pub async fn post_form(
        &self,
        path: &str,
        form: Vec<(String, String)>,
    ) -> Result<GraphResponse, GraphError> {
        let url = self
            .root
            .join(path.trim_start_matches('/'))
            .map_err(|e| GraphError::NotConfigured(format!("invalid path {path}: {e}")))?;
        self.send(
            url,
            Some(Body::Form(form)),
            path,
            &self.credentials.access_token,
        )
        .await
    }

    /// Follows `paging.next` (which Meta builds with the token inside) until it is absent or
    /// `max_pages` is reached. The token is stripped from `next` and sent as a header again.
    pub async fn get_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &Secret,
        max_pages: usize,
    ) -> Result<(Vec<T>, Option<serde_json::Value>), GraphError> {
        let first = self.get_with(path, query, token).await?;
        let mut page: Page<T> = first.json()?;
        let summary = page.summary.take();
        let mut items = std::mem::take(&mut page.data);
        let mut next = page.paging.and_then(|p| p.next);
        let mut fetched = 1;
        while let Some(link) = next.take() {
            if fetched >= max_pages {
                break;
            }
            let url = self.sanitize_next(&link)?;
            let response = self.send(url, None, path, token).await?;
            let mut page: Page<T> = response.json()?;
            items.append(&mut page.data);
            next = page.paging.and_then(|p| p.next);
            fetched += 1;
        }
        Ok((items, summary))
    }

    /// A `next` link must point at the same host; its `access_token` and proof are removed.
    fn sanitize_next(&self, link: &str) -> Result<Url, GraphError> {
        let parsed = Url::parse(link)
            .map_err(|e| GraphError::NotConfigured(format!("invalid paging link: {e}")))?;
        if parsed.origin() != self.root.origin() {
            return Err(GraphError::NotConfigured(
                "paging link points at another host; not followed".to_owned(),
            ));
        }
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| {
                !matches!(
                    k.as_ref(),
                    "access_token" | "appsecret_proof" | "appsecret_time"
                )
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut url = parsed;
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        Ok(url)
    }

    /// Sends with retries: transient failures that fail fast (5xx, codes 1/2, `is_transient`,
    /// dropped connections) are retried with exponential backoff and jitter, at most
    /// [`RETRIES`] times and only while within [`RETRY_BUDGET`]; token, permission and throttle
    /// errors never are, nor timeouts (one already spent the request's whole budget).
    async fn send(
        &self,
        url: Url,
        form: Option<Body>,
        path: &str,
        token: &Secret,
    ) -> Result<GraphResponse, GraphError> {
        use backon::Retryable;
        let started = Instant::now();
        let backoff = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_times(self.retries)
            .with_jitter();
        (|| self.send_once(url.clone(), form.clone(), path, token))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &GraphError| {
                let timed_out = matches!(
                    e,
                    GraphError::Transport {
                        kind: TransportKind::Timeout,
                        ..
                    }
                );
                e.is_retryable() && !timed_out && started.elapsed() < RETRY_BUDGET
            })
            .await
            .map_err(|e| e.redacted(&self.redactor))
    }

    async fn send_once(
        &self,
        mut url: Url,
        form: Option<Body>,
        path: &str,
        token: &Secret,
    ) -> Result<GraphResponse, GraphError> {
        if let Some(secret) = &self.credentials.app_secret {
            url.query_pairs_mut()
                .append_pair("appsecret_proof", &appsecret_proof(secret, token));
        }
        let started = Instant::now();
        let result = self.exchange(url, form, token).await;
        let latency = started.elapsed();
        let endpoint = path
            .split('?')
            .next()
            .unwrap_or(path)
            .trim_matches('/')
            .to_owned();
        let (http_status, usage, error) = match &result {
            Ok(resp) => (Some(resp.http_status), resp.usage.clone(), None),
            Err(failed) => (failed.0.http_status(), failed.1.clone(), Some(&failed.0)),
        };
        let record = CallRecord {
            endpoint,
            latency,
            http_status,
            usage,
            error_class: error.map(GraphError::class),
            graph_code: error.and_then(|e| e.meta()).map(|m| m.code),
        };
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(record);
        }
        match result {
            Ok(mut resp) => {
                resp.latency = latency;
                resp.redactor = self.redactor.clone();
                Ok(resp)
            }
            Err(failed) => Err(failed.0),
        }
    }

    /// Sends one request; a form body means a batch request whose single part is the answer.
    async fn exchange(
        &self,
        url: Url,
        form: Option<Body>,
        token: &Secret,
    ) -> Result<GraphResponse, Failed> {
        let batched = matches!(form, Some(Body::Batch(_)));
        let request = match form {
            Some(Body::Batch(form) | Body::Form(form)) => self.http.post(url.clone()).form(&form),
            None => self.http.get(url.clone()),
        };
        let response = request
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| Box::new((transport(e), Usage::default())))?;
        let http_status = response.status().as_u16();
        let usage = Usage::from_headers(response.headers());
        if response.status().is_redirection() {
            let err = redirected(http_status, response.headers(), &url);
            return Err(Box::new((err, usage)));
        }
        let body = match read_capped(response, MAX_BODY).await {
            Ok(body) => body,
            Err(e) => return Err(Box::new((e, usage))),
        };
        let response = interpret(http_status, usage, body)?;
        if batched {
            unbatch(response)
        } else {
            Ok(response)
        }
    }
}

/// Turns a status, rate-limit headers and body into a response or Meta's error: the body
/// decides first (an `error` object is an error whatever the status), then the status.
fn interpret(http_status: u16, usage: Usage, body: Vec<u8>) -> Result<GraphResponse, Failed> {
    if let Ok(ErrorBody { error: mut meta }) = serde_json::from_slice::<ErrorBody>(&body) {
        meta.http_status = http_status;
        meta.regain_after = usage.regain_after();
        return Err(Box::new((GraphError::Meta(Box::new(meta)), usage)));
    }
    if !(200..300).contains(&http_status) {
        let err = match decode::<serde_json::Value>(&body, http_status) {
            Err(e) => e,
            Ok(_) => GraphError::Http { http_status },
        };
        return Err(Box::new((err, usage)));
    }
    Ok(GraphResponse {
        http_status,
        latency: Duration::ZERO,
        usage,
        body,
        redactor: Arc::default(),
    })
}

/// A failed attempt: the error and the rate-limit headers that came with it (boxed: large).
type Failed = Box<(GraphError, Usage)>;

#[derive(Deserialize)]
struct BatchPart {
    code: u16,
    #[serde(default)]
    headers: Vec<BatchHeader>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct BatchHeader {
    name: String,
    value: String,
}

/// The single part of a one-request batch, read like a response of its own: its status,
/// its rate-limit headers, its body. Meta returns `null` for a part it could not complete.
fn unbatch(response: GraphResponse) -> Result<GraphResponse, Failed> {
    let parts: Vec<Option<BatchPart>> = decode(&response.body, response.http_status)
        .map_err(|e| Box::new((e, response.usage.clone())))?;
    let Some(Some(part)) = parts.into_iter().next() else {
        let err = GraphError::Transport {
            kind: TransportKind::Other,
            detail: "the batch returned no result for its request (it timed out at Meta)"
                .to_owned(),
        };
        return Err(Box::new((err, response.usage)));
    };
    let mut headers = reqwest::header::HeaderMap::new();
    for h in &part.headers {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(h.name.as_bytes()),
            reqwest::header::HeaderValue::from_str(&h.value),
        ) {
            headers.append(name, value);
        }
    }
    let body = part.body.unwrap_or_default().into_bytes();
    interpret(part.code, Usage::from_headers(&headers), body)
}

/// Maps a reqwest failure to a transport error whose text never contains the URL.
fn transport(err: reqwest::Error) -> GraphError {
    let kind = if err.is_timeout() {
        TransportKind::Timeout
    } else if err.is_connect() {
        TransportKind::Refused
    } else if err.is_body() || err.is_request() || err.is_decode() {
        TransportKind::Reset
    } else {
        TransportKind::Other
    };
    let err = err.without_url();
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    let mut untrusted = false;
    while let Some(cause) = source {
        // rustls's refusal of the peer's certificate arrives inside an I/O error, and
        // reqwest calls the whole a connect error, which would read "connection refused".
        untrusted |= cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)));
        let text = cause.to_string();
        if !detail.contains(&text) {
            detail = format!("{detail}: {text}");
        }
        source = cause.source();
    }
    let kind = if untrusted {
        TransportKind::Untrusted
    } else {
        kind
    };
    GraphError::Transport { kind, detail }
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "a failed step must fail the test")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn client() -> GraphClient {
        let credentials = Credentials {
            access_token: Secret::new(concat!("EA", "AfakePropertyToken0123456789")),
            app_secret: Some(Secret::new("fake-app-secret-prop")),
            verify_token: None,
            capi_token: None,
        };
        let http = http_client(Timeouts::default()).expect("client");
        GraphClient::new(
            http,
            "https://graph.facebook.com",
            "v25.0",
            credentials,
            None,
        )
        .expect("client")
    }

    #[test]
    fn request_labels_do_not_grow_with_the_accounts() {
        let call = |endpoint: &str, error_class| CallRecord {
            endpoint: endpoint.to_owned(),
            latency: Duration::from_millis(5),
            http_status: Some(200),
            usage: Usage::default(),
            error_class,
            graph_code: None,
        };
        for (endpoint, pattern) in [
            ("me", "me"),
            ("debug_token", "debug_token"),
            ("act_2369703843357278/insights", "act_{id}/insights"),
            ("1202835294532393/stats", "{id}/stats"),
            ("5551234567890", "{id}"),
            ("act_/x", "act_/x"),
            ("", ""),
        ] {
            assert_eq!(call(endpoint, None).endpoint_pattern(), pattern);
        }
        assert_eq!(call("me", None).outcome(), "ok");
        for class in [
            ErrorClass::TokenInvalid,
            ErrorClass::Permission,
            ErrorClass::Throttled,
            ErrorClass::Transient,
            ErrorClass::InvalidRequest,
            ErrorClass::Transport,
            ErrorClass::Undecodable,
        ] {
            let serialized = serde_json::to_value(class).expect("json");
            assert_eq!(serialized.as_str(), Some(call("me", Some(class)).outcome()));
        }
    }

    /// Bodies a Graph endpoint might send, broken in every way, plus arbitrary bytes.
    fn bodies() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            r#"\{"error":\{"message":"[^"]{0,40}","code":-?[0-9]{1,12},"error_subcode":-?[0-9]{0,6},"is_transient":(true|false|1|"x"),"fbtrace_id":"[A-Za-z0-9/]{0,20}"\}\}"#
                .prop_map(String::into_bytes),
            r#"\{"error":(null|1|"x"|\[\]|\{\})\}"#.prop_map(String::into_bytes),
            r#"\[(null|\{"code":[0-9]{1,3},"headers":\[\{"name":"[a-zA-Z-]{0,20}","value":"[^"]{0,30}"\}\],"body":"[^"]{0,40}"\}),?\]"#
                .prop_map(String::into_bytes),
            r#"\{"data":\[\{"spend":"[0-9.e+-]{0,30}","actions":\[\{"action_type":"(omni_purchase|purchase)","value":"[0-9.e+-]{0,30}"\}\],"action_values":\[\{"action_type":"omni_purchase","value":"-?[0-9]{0,29}(\.[0-9]{0,28})?"\}\]\}\]\}"#
                .prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any status and body is a response or a typed error; decoding Meta's shapes from it
        /// (insights, pixel, debug_token, a batch part) never panics either.
        #[test]
        fn any_answer_is_a_response_or_an_error(status in 100u16..600, body in bodies()) {
            let answer = interpret(status, Usage::default(), body.clone());
            if let Ok(response) = &answer {
                if let Ok(page) = response.json::<Page<ads::InsightsRow>>() {
                    for row in &page.data {
                        let _ = (row.conversions(), row.roas());
                    }
                }
                if let Ok(pixel) = response.json::<pixel::Pixel>() {
                    let _ = pixel.last_fired();
                }
                let _ = response.json::<token::TokenInfo>();
                let _ = unbatch(response.clone());
            }
            if let Err(failed) = answer {
                let (error, _) = *failed;
                let _ = (error.class(), error.is_retryable(), error.to_string());
            }
        }

        /// A `paging.next` link is followed without the token or proof it carries, or not at
        /// all.
        #[test]
        fn paging_links_never_keep_a_secret(
            pairs in proptest::collection::vec(
                ("(access_token|appsecret_proof|appsecret_time|after|limit|fields|[a-z_]{1,8})", "[A-Za-z0-9%|._-]{0,30}"),
                0..8,
            ),
            host in "(graph\\.facebook\\.com|evil\\.example|graph\\.facebook\\.com\\.evil\\.example)",
        ) {
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let link = format!("https://{host}/v25.0/1/x?{}", query.join("&"));
            match client().sanitize_next(&link) {
                Ok(url) => {
                    prop_assert_eq!(url.host_str(), Some("graph.facebook.com"));
                    prop_assert!(url.query_pairs().all(|(k, _)| {
                        !matches!(k.as_ref(), "access_token" | "appsecret_proof" | "appsecret_time")
                    }), "{url}");
                }
                Err(e) => prop_assert_eq!(e.class(), ErrorClass::InvalidRequest),
            }
        }
    }

    #[test]
    fn appsecret_proof_matches_the_reference_vector() {
        let proof = appsecret_proof(&Secret::new("appsecret"), &Secret::new("EAABtoken"));
        assert_eq!(
            proof,
            "a9b4838836c2979289846fe92208eb2cd097c298f82fb392daa90407139f10e2"
        );
    }

    #[test]
    fn decode_errors_name_the_path_and_position() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code, reason = "only decoding is tested")]
        struct Me {
            id: String,
            count: u32,
        }
        let err = decode::<Me>(br#"{"id":"1","count":"x"}"#, 200).expect_err("wrong type");
        assert!(err.to_string().contains("count"), "path named: {err}");
        let err = decode::<Me>(br#"{"id":"1","cou"#, 200).expect_err("truncated");
        assert!(
            err.to_string().contains("line 1 column"),
            "position named: {err}"
        );
        let err =
            decode::<Me>(b"<html><body>502 Bad Gateway</body></html>", 502).expect_err("html");
        assert!(err.to_string().contains("<html>"), "snippet shown: {err}");
        assert_eq!(err.class(), ErrorClass::Undecodable);
    }
}
