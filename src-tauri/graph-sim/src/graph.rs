//! The Graph API surface: routing by `/{version}/{node}[/{edge}]`, authentication, rate
//! limiting and the scenario's failures, then the node handlers.

#![allow(
    clippy::result_large_err,
    reason = "both arms are an HTTP response that is returned at once; boxing buys nothing"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::auth::{self, Proof};
use crate::reply::{self, Extra, GraphError};
use crate::scenario::Scenario;
use crate::state::{RecordedRequest, SimState};
use crate::{AD_ACCOUNT, APP_ID, CATALOG_ID, PIXEL_ID, data};

/// Served when the path carries no version, like the App Dashboard's default.
pub const DEFAULT_VERSION: &str = "v25.0";
use crate::tokens::USER_ID;

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .nest("/__admin", crate::admin::routes())
        .fallback(handle)
        .with_state(state)
}

/// Everything one request needs while it is answered.
struct Call {
    state: Arc<SimState>,
    version: String,
    trace: String,
    params: HashMap<String, String>,
    extra: Extra,
    token: String,
    query_token: bool,
    now: OffsetDateTime,
}

impl Call {
    fn ok(&self, value: Value) -> Response {
        reply::json(
            StatusCode::OK,
            &value,
            &self.version,
            &self.trace,
            &self.extra,
        )
    }

    fn fail(
        &mut self,
        status: StatusCode,
        code: i64,
        subcode: Option<i64>,
        kind: &str,
        message: String,
    ) -> Response {
        let e = GraphError {
            status,
            code,
            subcode,
            kind,
            message,
            is_transient: false,
        };
        reply::error(e, &self.version, &self.trace, &mut self.extra)
    }

    fn transient(&mut self, status: StatusCode, code: i64, message: &str) -> Response {
        let e = GraphError {
            status,
            code,
            subcode: None,
            kind: "OAuthException",
            message: message.to_owned(),
            is_transient: true,
        };
        reply::error(e, &self.version, &self.trace, &mut self.extra)
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    fn scenario(&self) -> Scenario {
        self.state.scenario()
    }

    fn seed(&self) -> u64 {
        self.state.config.seed
    }

    /// Only the requested `fields` (plus `id`); an unknown field is Meta's error 100.
    fn select(&mut self, node: Value, defaults: &str, node_type: &str) -> Result<Value, Response> {
        let fields = self.param("fields").unwrap_or(defaults).to_owned();
        let mut out = serde_json::Map::new();
        for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let name = field.split(['.', '{']).next().unwrap_or(field);
            match node.get(name) {
                Some(v) => {
                    out.insert(name.to_owned(), v.clone());
                }
                None if OPTIONAL_FIELDS.contains(&name) => {}
                None => {
                    return Err(self.fail(
                        StatusCode::BAD_REQUEST,
                        100,
                        None,
                        "OAuthException",
                        format!("(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"),
                    ));
                }
            }
        }
        if let Some(id) = node.get("id") {
            out.entry("id").or_insert_with(|| id.clone());
        }
        Ok(Value::Object(out))
    }

    /// A `next` link back to this simulator, carrying the token only if the request did.
    fn next_link(&self, path: &str, after: usize) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let mut keys: Vec<&String> = self.params.keys().collect();
        keys.sort();
        for k in keys {
            let skip = matches!(
                k.as_str(),
                "after" | "before" | "appsecret_proof" | "appsecret_time" | "method"
            ) || (k == "access_token" && !self.query_token);
            if !skip {
                query.append_pair(k, &self.params[k]);
            }
        }
        query.append_pair("after", &cursor(after));
        format!(
            "{}/{}/{path}?{}",
            self.state.base_url,
            self.version,
            query.finish()
        )
    }
}

/// Fields a node may legitimately omit (Meta leaves them out when empty).
const OPTIONAL_FIELDS: [&str; 1] = ["last_fired_time"];

fn cursor(index: usize) -> String {
    // Opaque like Meta's base64 cursors; clients must not parse them.
    hex::encode(format!("cursor:{index}"))
}

fn uncursor(text: &str) -> Option<usize> {
    let raw = hex::decode(text).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("cursor:")?
        .parse()
        .ok()
}

fn is_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.split('.');
        matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None)
            if !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()))
    })
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((low, high)) = state.config.network_delay {
        // Spread over the range by the clock's nanoseconds: varied enough for a chart.
        let spread = high.saturating_sub(low).as_nanos().max(1);
        let jitter = u128::from(OffsetDateTime::now_utc().nanosecond()) % spread;
        let jitter = Duration::from_nanos(u64::try_from(jitter).unwrap_or(0));
        tokio::time::sleep(low + jitter).await;
    }
    let params = auth::params(uri.query(), &headers, &body);
    let token = auth::token(&headers, &params);
    state.record(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        auth_scheme: token.as_ref().and_then(|t| t.scheme.clone()),
        header_token: token.as_ref().is_some_and(|t| t.scheme.is_some()),
        body: String::from_utf8_lossy(&body).into_owned(),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    let (version, segments) = split_path(uri.path());
    if method == Method::POST && segments.is_empty() && params.contains_key("batch") {
        return batch(state, version, token, params).await;
    }
    let is_get = method == Method::GET
        || (method == Method::POST
            && params
                .get("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("get")));
    serve(state, version, &method, is_get, segments, params, token).await
}

/// `/v25.0/act_1/insights` → (`v25.0`, [`act_1`, `insights`]); no version → the default.
fn split_path(path: &str) -> (String, Vec<String>) {
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let version = match segments.first() {
        Some(first) if is_version(first) => segments.remove(0),
        _ => DEFAULT_VERSION.to_owned(),
    };
    (version, segments)
}

/// Graph's batch endpoint: `POST /` with `batch=[{"method","relative_url"}]` (≤ 50 parts).
/// Each part is served like a request of its own (and counts against the limits); the reply
/// is HTTP 200 with `[{"code","headers","body"}]` even when parts fail.
async fn batch(
    state: Arc<SimState>,
    version: String,
    token: Option<auth::Token>,
    params: HashMap<String, String>,
) -> Response {
    let trace = state.next_trace();
    let reject = |message: &str| {
        let e = GraphError {
            status: StatusCode::BAD_REQUEST,
            code: 100,
            subcode: None,
            kind: "OAuthException",
            message: message.to_owned(),
            is_transient: false,
        };
        reply::error(e, &version, &trace, &mut Extra::default())
    };
    let parts = match serde_json::from_str::<Value>(params.get("batch").map_or("", String::as_str))
    {
        Ok(Value::Array(parts)) => parts,
        _ => return reject("(#100) The parameter batch must be a JSON array"),
    };
    if parts.len() > 50 {
        return reject("(#100) Too many requests in batch message. Maximum batch size is 50");
    }
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let method = part["method"]
            .as_str()
            .unwrap_or("GET")
            .to_ascii_uppercase();
        let relative = part["relative_url"].as_str().unwrap_or("");
        let (path, query) = relative.split_once('?').unwrap_or((relative, ""));
        let mut sub: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        for inherited in ["access_token", "appsecret_proof", "appsecret_time"] {
            if let (false, Some(v)) = (sub.contains_key(inherited), params.get(inherited)) {
                sub.insert(inherited.to_owned(), v.clone());
            }
        }
        let sub_token = sub
            .get("access_token")
            .filter(|t| !t.is_empty() && !params.contains_key("access_token"))
            .map(|t| auth::Token {
                value: t.clone(),
                scheme: None,
            })
            .or_else(|| token.clone());
        let (sub_version, segments) = split_path(path);
        let sub_method = method.parse::<Method>().unwrap_or(Method::GET);
        let is_get = sub_method == Method::GET;
        let response = serve(
            state.clone(),
            sub_version,
            &sub_method,
            is_get,
            segments,
            sub,
            sub_token,
        )
        .await;
        out.push(batch_part(response).await);
    }
    let extra = Extra::default();
    reply::json(StatusCode::OK, &Value::Array(out), &version, &trace, &extra)
}

async fn batch_part(response: Response) -> Value {
    let (parts, body) = response.into_parts();
    let headers: Vec<Value> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| json!({"name": k.as_str(), "value": v}))
        })
        .collect();
    match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => json!({
            "code": parts.status.as_u16(),
            "headers": headers,
            "body": String::from_utf8_lossy(&bytes),
        }),
        // A part whose connection would have dropped: Meta returns null for parts it could
        // not complete.
        Err(_) => Value::Null,
    }
}

async fn serve(
    state: Arc<SimState>,
    version: String,
    method: &Method,
    is_get: bool,
    segments: Vec<String>,
    params: HashMap<String, String>,
    token: Option<auth::Token>,
) -> Response {
    let trace = state.next_trace();
    let now = state.now();
    let mut call = Call {
        state,
        version,
        trace,
        params,
        extra: Extra::default(),
        token: String::new(),
        query_token: token.as_ref().is_some_and(|t| t.scheme.is_none()),
        now,
    };
    // The token endpoint needs no access token (reference §14); GET as documented, POST too.
    if matches!(segments.as_slice(), [oauth, edge] if oauth == "oauth" && edge == "access_token")
        && (is_get || *method == Method::POST)
    {
        let sent = token.as_ref().map(|t| t.value.clone());
        return oauth_exchange(&mut call, sent.as_deref());
    }
    // The writes the simulator knows: Conversions API events.
    let writable = *method == Method::POST
        && matches!(segments.as_slice(), [node, edge]
            if (node == PIXEL_ID && edge == "events") || (node == CATALOG_ID && edge == "items_batch"));
    if !is_get && !writable {
        let node = segments.join("/");
        return call.fail(
            StatusCode::BAD_REQUEST,
            100,
            Some(33),
            "GraphMethodException",
            format!(
                "Unsupported {} request. Object with ID '{node}' does not support this operation.",
                method.as_str().to_lowercase()
            ),
        );
    }
    let Some(token) = token else {
        return call.fail(
            StatusCode::BAD_REQUEST,
            104,
            None,
            "OAuthException",
            "An access token is required to request this resource.".to_owned(),
        );
    };
    call.token = token.value;
    match auth::check_proof(&call.token, &call.params, now.unix_timestamp()) {
        Proof::Invalid => {
            return call.fail(
                StatusCode::BAD_REQUEST,
                100,
                None,
                "GraphMethodException",
                "Invalid appsecret_proof provided in the API argument".to_owned(),
            );
        }
        Proof::Absent if call.state.config.require_proof => {
            return call.fail(
                StatusCode::BAD_REQUEST,
                100,
                None,
                "GraphMethodException",
                "API calls from the server require an appsecret_proof argument".to_owned(),
            );
        }
        Proof::Absent | Proof::Valid => {}
    }
    let app_token = auth::is_app_token(&call.token);
    if app_token && !auth::app_token_valid(&call.token) {
        return call.fail(
            StatusCode::BAD_REQUEST,
            190,
            None,
            "OAuthException",
            "Invalid OAuth access token signature.".to_owned(),
        );
    }
    // Platform rate limit: every call counts, throttled calls too.
    let app = count(&call, "app", call.state.config.app_quota);
    call.state
        .max_app_pct
        .fetch_max(app.pct, std::sync::atomic::Ordering::Relaxed);
    call.extra.add(
        "x-app-usage",
        json!({"call_count": app.pct, "total_cputime": app.pct / 3, "total_time": app.pct / 2})
            .to_string(),
    );
    if app.blocked {
        return call.fail(
            StatusCode::BAD_REQUEST,
            4,
            None,
            "OAuthException",
            "(#4) Application request limit reached".to_owned(),
        );
    }
    let is_debug_token = segments.first().is_some_and(|s| s == "debug_token");
    let grant = call
        .state
        .tokens
        .lock()
        .ok()
        .and_then(|r| r.get(&call.token).cloned());
    if let Some(grant) = &grant
        && grant.expired(now.unix_timestamp())
    {
        // An issued token past its expiry is refused everywhere, debug_token included.
        let expired_at = OffsetDateTime::from_unix_timestamp(grant.expires_at).unwrap_or(now);
        return expired_since(&mut call, expired_at);
    }
    let reads_ads = |g: &crate::tokens::Grant| {
        g.scopes
            .iter()
            .any(|s| s == "ads_read" || s == "ads_management")
    };
    if segments.first().is_some_and(|s| s == PIXEL_ID)
        && grant.as_ref().is_some_and(|g| !reads_ads(g))
    {
        // An issued token without an ads permission cannot see the pixel (reference §2: 200s).
        let msg = "(#200) Permissions error: the token needs ads_read or ads_management".to_owned();
        return call.fail(StatusCode::FORBIDDEN, 200, None, "OAuthException", msg);
    }
    if call.scenario().shows(Scenario::TokenInvalid) && !app_token && !is_debug_token {
        return expired(&mut call);
    }
    if call.scenario().shows(Scenario::TokenMalformed) && !app_token && !is_debug_token {
        let token = call.token.clone();
        return malformed(&mut call, &token);
    }
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["me"] => me(&mut call, app_token),
        ["debug_token"] => debug_token(&mut call, app_token),
        ["dataset_quality"] => dataset_quality(&mut call),
        [act] if *act == AD_ACCOUNT => ad_account(&mut call).await,
        [act, "insights"] if *act == AD_ACCOUNT => insights(&mut call),
        [act, "campaigns"] if *act == AD_ACCOUNT => campaigns(&mut call),
        [pixel] if *pixel == PIXEL_ID => pixel_node(&mut call),
        [pixel, "stats"] if *pixel == PIXEL_ID => pixel_stats(&mut call),
        [pixel, "events"] if *pixel == PIXEL_ID && !is_get => capi_events(&mut call),
        [app, "subscriptions"] if *app == APP_ID => subscriptions(&mut call, app_token),
        [app] if *app == APP_ID => app_node(&mut call),
        [catalog] if *catalog == CATALOG_ID => catalog_node(&mut call),
        [catalog, "items_batch"] if *catalog == CATALOG_ID && !is_get => items_batch(&mut call),
        [catalog, "check_batch_request_status"] if *catalog == CATALOG_ID => {
            batch_status(&mut call)
        }
        [catalog, "products"] if *catalog == CATALOG_ID => products(&mut call),
        [node, edge] if [AD_ACCOUNT, PIXEL_ID, APP_ID, CATALOG_ID].contains(node) => {
            let msg = format!(
                "(#100) Tried accessing nonexisting field ({edge}) on node type ({})",
                node_type(node)
            );
            call.fail(StatusCode::BAD_REQUEST, 100, None, "OAuthException", msg)
        }
        other => {
            let id = other.first().copied().unwrap_or("");
            let msg = format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing \
                 permissions, or does not support this operation. Please read the Graph API documentation at \
                 https://developers.facebook.com/docs/graph-api"
            );
            call.fail(
                StatusCode::BAD_REQUEST,
                100,
                Some(33),
                "GraphMethodException",
                msg,
            )
        }
    }
}

/// `GET /dataset_quality?dataset_id=PIXEL`: a top-level node, its answer not wrapped in
/// `data`; `/{id}/dataset_quality` does not exist.
fn dataset_quality(call: &mut Call) -> Response {
    if call.param("dataset_id") != Some(PIXEL_ID) {
        let msg =
            "(#100) The parameter dataset_id is required and must be a dataset you can access"
                .to_owned();
        return call.fail(StatusCode::BAD_REQUEST, 100, None, "OAuthException", msg);
    }
    let now = call.now.unix_timestamp();
    let body = match call.state.events.lock() {
        Ok(log) => crate::events::dataset_quality(&log, now),
        Err(_) => json!({ "web": [] }),
    };
    call.ok(body)
}

/// `POST /{pixel}/events`: see [`crate::events`].
fn capi_events(call: &mut Call) -> Response {
    let now = call.now.unix_timestamp();
    let state = call.state.clone();
    let result = match state.events.lock() {
        Ok(mut log) => Some(crate::events::receive(&mut log, &call.params, now)),
        Err(_) => None,
    };
    let Some(result) = result else {
        return call.transient(
            StatusCode::INTERNAL_SERVER_ERROR,
            2,
            "(#2) Service temporarily unavailable",
        );
    };
    match result {
        Ok(mut body) => {
            body["fbtrace_id"] = json!(call.trace);
            call.ok(body)
        }
        Err(r) => reply::capi_error(r, &call.version, &call.trace, &mut call.extra),
    }
}

fn node_type(id: &str) -> &'static str {
    match id {
        AD_ACCOUNT => "AdAccount",
        PIXEL_ID => "AdsPixel",
        APP_ID => "Application",
        _ => "ProductCatalog",
    }
}

fn count(call: &Call, bucket: &str, quota: u32) -> crate::usage::BucketState {
    match call.state.windows.lock() {
        Ok(mut w) => w.count(bucket, quota, Instant::now()),
        Err(_) => crate::usage::BucketState {
            pct: 0,
            blocked: false,
            regain_minutes: 0,
            reset_seconds: 0,
        },
    }
}

/// A time as Graph writes dates (`last_fired_time`, `start_time`, error messages).
/// The time as Meta writes it in "Session has expired on Thursday, 15-Jan-26 01:00:00 PST.
/// The current time is …" (reference §14): Pacific time, PST or PDT by the US rule (from the
/// second Sunday of March, 02:00 local, to the first Sunday of November, 02:00 local).
pub(crate) fn session_date(t: OffsetDateTime) -> String {
    use time::{Date, Month};
    fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
        let first = Date::from_calendar_date(year, month, 1).ok()?;
        let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
        first.checked_add(time::Duration::days(
            i64::from(to_sunday) + 7 * i64::from(n - 1),
        ))
    }
    let standard = t.to_offset(time::UtcOffset::from_hms(-8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    let year = standard.year();
    // 02:00 PST starts DST; 01:00 PST (02:00 PDT) ends it.
    let dst = match (
        nth_sunday(year, Month::March, 2),
        nth_sunday(year, Month::November, 1),
    ) {
        (Some(start), Some(end)) => {
            let start = start
                .with_hms(2, 0, 0)
                .map(|d| d.assume_offset(standard.offset()));
            let end = end
                .with_hms(1, 0, 0)
                .map(|d| d.assume_offset(standard.offset()));
            matches!((start, end), (Ok(s), Ok(e)) if t >= s && t < e)
        }
        _ => false,
    };
    let (local, zone) = if dst {
        (standard + time::Duration::hours(1), "PDT")
    } else {
        (standard, "PST")
    };
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02}-{}-{:02} {:02}:{:02}:{:02} {zone}",
        DAYS[usize::from(local.weekday().number_days_from_monday())],
        local.day(),
        MONTHS[usize::from(u8::from(local.month()) - 1)],
        local.year().rem_euclid(100),
        local.hour(),
        local.minute(),
        local.second()
    )
}

pub(crate) fn graph_date(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn expired(call: &mut Call) -> Response {
    let when = call.now - time::Duration::days(2);
    expired_since(call, when)
}

/// 190/463 for a token that expired at `when`.
fn expired_since(call: &mut Call, when: OffsetDateTime) -> Response {
    let msg = format!(
        "Error validating access token: Session has expired on {}. The current time is {}.",
        session_date(when),
        session_date(call.now)
    );
    call.fail(
        StatusCode::BAD_REQUEST,
        190,
        Some(463),
        "OAuthException",
        msg,
    )
}

/// Meta's answer to a token it cannot parse: the token itself in the message (reference §15).
fn malformed(call: &mut Call, token: &str) -> Response {
    call.fail(
        StatusCode::BAD_REQUEST,
        190,
        None,
        "OAuthException",
        format!("Malformed access token {token}"),
    )
}

fn me(call: &mut Call, app_token: bool) -> Response {
    if app_token {
        let msg =
            "An active access token must be used to query information about the current user."
                .to_owned();
        return call.fail(StatusCode::BAD_REQUEST, 2500, None, "OAuthException", msg);
    }
    if call.scenario().shows(Scenario::Outage) {
        return reply::html_page(StatusCode::BAD_GATEWAY, &call.version, &call.trace);
    }
    let node = json!({"id": USER_ID, "name": "Monitor System User"});
    match call.select(node, "id,name", "User") {
        Ok(v) => call.ok(v),
        Err(r) => r,
    }
}

fn debug_token(call: &mut Call, app_token: bool) -> Response {
    if call.scenario().shows(Scenario::Outage) {
        return call.transient(
            StatusCode::INTERNAL_SERVER_ERROR,
            1,
            "An unknown error has occurred.",
        );
    }
    let Some(input) = call.param("input_token").map(str::to_owned) else {
        return call.fail(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "OAuthException",
            "(#100) The parameter input_token is required".to_owned(),
        );
    };
    let now = call.now.unix_timestamp();
    let issued = call
        .state
        .tokens
        .lock()
        .ok()
        .and_then(|r| r.get(&input).cloned());
    if let Some(grant) = issued {
        if !app_token && input != call.token {
            let msg = "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app".to_owned();
            return call.fail(StatusCode::BAD_REQUEST, 100, None, "OAuthException", msg);
        }
        return call.ok(json!({ "data": grant.describe(now) }));
    }
    let invalid = call.scenario().shows(Scenario::TokenInvalid);
    let malformed_input = call.scenario().shows(Scenario::TokenMalformed);
    if invalid && !app_token {
        return expired(call);
    }
    if malformed_input && !app_token {
        return malformed(call, &input);
    }
    if !app_token && input != call.token {
        let msg = "(#100) You must provide an app access token, or a user access token that is an owner or developer of the app".to_owned();
        return call.fail(StatusCode::BAD_REQUEST, 100, None, "OAuthException", msg);
    }
    let expires_at = match call.state.config.token_expires_at {
        Some(fixed) => fixed,
        None if call.scenario().shows(Scenario::TokenExpiring) => now + 3 * 86_400,
        None => now + 45 * 86_400,
    };
    let mut data = json!({
        "app_id": APP_ID,
        "type": "SYSTEM_USER",
        "application": "Meta Monitor Simulator",
        "data_access_expires_at": now + 80 * 86_400,
        "expires_at": expires_at,
        "is_valid": !invalid,
        "issued_at": now - 15 * 86_400,
        "scopes": crate::tokens::default_scopes(),
        "granular_scopes": [
            {"scope": "ads_read", "target_ids": [AD_ACCOUNT.trim_start_matches("act_")]},
            {"scope": "business_management"},
            {"scope": "catalog_management", "target_ids": [CATALOG_ID]},
        ],
        "user_id": USER_ID,
    });
    if malformed_input {
        // Inspected with the app token, the malformed token is invalid and quoted back.
        data = json!({
            "app_id": APP_ID,
            "is_valid": false,
            "scopes": [],
            "error": {"code": 190, "message": format!("Malformed access token {input}")},
        });
    } else if invalid {
        data["error"] = json!({
            "code": 190,
            "subcode": 463,
            "message": format!("Session has expired on {}.", session_date(call.now - time::Duration::days(2))),
        });
        data["expires_at"] = json!(now - 2 * 86_400);
    }
    call.ok(json!({ "data": data }))
}

/// `oauth/access_token?grant_type=fb_exchange_token`: see [`crate::tokens::Registry::exchange`].
/// Counted against the app's rate limit like any call.
///
/// The documented request carries no access token. One that does (Meta Monitor sends the token
/// being exchanged, with its proof) is held to the proof rules of any Graph call: whether
/// *Require App Secret* applies here is unverified (reference §14), so both readings pass.
fn oauth_exchange(call: &mut Call, sent_token: Option<&str>) -> Response {
    let app = count(call, "app", call.state.config.app_quota);
    if app.blocked {
        let msg = "(#4) Application request limit reached".to_owned();
        return call.fail(StatusCode::BAD_REQUEST, 4, None, "OAuthException", msg);
    }
    let now = call.now.unix_timestamp();
    if let Some(token) = sent_token {
        let message = match auth::check_proof(token, &call.params, now) {
            Proof::Invalid => Some("Invalid appsecret_proof provided in the API argument"),
            Proof::Absent if call.state.config.require_proof => {
                Some("API calls from the server require an appsecret_proof argument")
            }
            Proof::Absent | Proof::Valid => None,
        };
        if let Some(message) = message {
            let kind = "GraphMethodException";
            return call.fail(StatusCode::BAD_REQUEST, 100, None, kind, message.to_owned());
        }
    }
    let state = call.state.clone();
    let answer = match state.tokens.lock() {
        Ok(mut registry) => registry.exchange(&call.params, now),
        Err(_) => {
            return call.transient(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                "(#2) Service temporarily unavailable",
            );
        }
    };
    match answer {
        Ok(body) => call.ok(body),
        Err(refusal) => call.fail(
            StatusCode::BAD_REQUEST,
            refusal.code,
            refusal.subcode,
            "OAuthException",
            refusal.message,
        ),
    }
}

/// Counts an Ads Management call (80004 when over quota).
fn ads_management(call: &mut Call) -> Result<(), Response> {
    let quota = call.state.config.ads_management_quota;
    ads_bucket(call, "ads_management", quota, 80004)
}

/// Counts an Ads Insights call (80000 when over quota).
fn ads_insights(call: &mut Call) -> Result<(), Response> {
    let quota = call.state.config.ads_insights_quota;
    ads_bucket(call, "ads_insights", quota, 80000)
}

/// BUC and ad-account headers for the ad account's buckets; `Err` when throttled.
fn ads_bucket(call: &mut Call, kind: &str, quota: u32, code: i64) -> Result<(), Response> {
    let account = AD_ACCOUNT.trim_start_matches("act_");
    let state = count(call, &format!("{kind}:{account}"), quota);
    let entry = json!({
        "type": kind,
        "call_count": state.pct,
        "total_cputime": state.pct / 4,
        "total_time": state.pct / 3,
        "estimated_time_to_regain_access": state.regain_minutes,
        "ads_api_access_tier": "development_access",
    });
    call.extra.add(
        "x-business-use-case-usage",
        json!({ account: [entry] }).to_string(),
    );
    call.extra.add(
        "x-ad-account-usage",
        json!({"acc_id_util_pct": state.pct, "reset_time_duration": state.reset_seconds, "ads_api_access_tier": "development_access"}).to_string(),
    );
    if state.blocked {
        let what = if code == 80000 {
            "ads insights"
        } else {
            "ads management"
        };
        let msg = format!(
            "(#{code}) There have been too many calls from this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#{}",
            what.replace(' ', "-")
        );
        return Err(call.fail(
            StatusCode::BAD_REQUEST,
            code,
            Some(2_446_079),
            "OAuthException",
            msg,
        ));
    }
    Ok(())
}

async fn ad_account(call: &mut Call) -> Response {
    if let Err(r) = ads_management(call) {
        return r;
    }
    if call.scenario().shows(Scenario::Outage) {
        tokio::time::sleep(call.state.config.slow_delay).await;
    }
    // DISABLED (2) for ADS_INTEGRITY_POLICY (disable_reason 1), else ACTIVE (1) with NONE (0).
    let (account_status, disable_reason) = if call.scenario().shows(Scenario::AdsDisabledThrottled)
    {
        (2, 1)
    } else {
        (1, 0)
    };
    let node = json!({
        "id": AD_ACCOUNT,
        "account_id": AD_ACCOUNT.trim_start_matches("act_"),
        "name": "Demo Shop",
        "currency": "EUR",
        "account_status": account_status,
        "amount_spent": "743855",
        "balance": "107501",
        "spend_cap": "0",
        "timezone_name": "Europe/Berlin",
        "disable_reason": disable_reason,
    });
    match call.select(node, "id,name,account_status", "AdAccount") {
        Ok(v) => call.ok(v),
        Err(r) => r,
    }
}

fn insights(call: &mut Call) -> Response {
    if let Err(r) = ads_insights(call) {
        return r;
    }
    let account = AD_ACCOUNT.trim_start_matches("act_");
    let util = count(
        call,
        "insights_throttle",
        call.state.config.ads_insights_quota,
    )
    .pct;
    call.extra.add(
        "x-fb-ads-insights-throttle",
        json!({"app_id_util_pct": util, "acc_id_util_pct": util, "ads_api_access_tier": "standard_access"}).to_string(),
    );
    let preset = call.param("date_preset").unwrap_or("last_30d").to_owned();
    let days = match preset.as_str() {
        "today" => 0..=0,
        "yesterday" => 1..=1,
        "last_3d" => 1..=3,
        "last_7d" => 1..=7,
        "last_14d" => 1..=14,
        "last_28d" => 1..=28,
        "last_30d" | "maximum" | "lifetime" => 1..=30,
        "last_90d" => 1..=90,
        _ => {
            let msg = "(#100) date_preset must be one of the following values: today, yesterday, this_month, last_month, this_quarter, maximum, data_maximum, last_3d, last_7d, last_14d, last_28d, last_30d, last_90d, last_week_mon_sun, last_week_sun_sat, last_quarter, last_year, this_week_mon_today, this_week_sun_today, this_year".to_owned();
            return call.fail(StatusCode::BAD_REQUEST, 100, None, "OAuthException", msg);
        }
    };
    let date = |d: u64| {
        let t = call.now - time::Duration::days(i64::try_from(d).unwrap_or(0));
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    };
    let (start, stop) = (date(*days.end()), date(*days.start()));
    let row = data::insights_row(call.seed(), account, days, &start, &stop);
    call.ok(
        json!({"data": [row], "paging": {"cursors": {"before": cursor(0), "after": cursor(0)}}}),
    )
}

fn campaigns(call: &mut Call) -> Response {
    if let Err(r) = ads_management(call) {
        return r;
    }
    let total = data::active_campaigns(call.seed());
    let wants_active = call
        .param("effective_status")
        .is_some_and(|s| s.contains("ACTIVE"));
    let limit: usize = call
        .param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let start = call.param("after").and_then(uncursor).unwrap_or(0);
    let ids: Vec<Value> = (0..total as usize)
        .skip(start)
        .take(limit)
        .map(|i| json!({"id": format!("2385{:011}", data::mix(call.seed(), 9, i as u64) % 100_000_000_000), "effective_status": "ACTIVE"}))
        .collect();
    let end = start + ids.len();
    let mut body = json!({"data": ids, "paging": {"cursors": {"before": cursor(start), "after": cursor(end)}}});
    if end < total as usize {
        body["paging"]["next"] = json!(call.next_link(&format!("{AD_ACCOUNT}/campaigns"), end));
    }
    if call
        .param("summary")
        .is_some_and(|s| s.contains("total_count") || s == "true")
    {
        body["summary"] = json!({"total_count": if wants_active { total } else { total + 4 }});
    }
    call.ok(body)
}

fn pixel_node(call: &mut Call) -> Response {
    let silent = call.scenario().shows(Scenario::PixelSilent);
    let last = if silent {
        call.now - time::Duration::days(3)
    } else {
        call.now - time::Duration::minutes(7)
    };
    let node = json!({
        "id": PIXEL_ID,
        "name": "Demo Shop Pixel",
        "last_fired_time": graph_date(last),
        "is_unavailable": false,
        "creation_time": "2024-03-02T09:15:00+0000",
        "data_use_setting": "ADVERTISING_AND_ANALYTICS",
    });
    let selected = match call.select(node, "id,name", "AdsPixel") {
        Ok(v) => v,
        Err(r) => return r,
    };
    if call.scenario().shows(Scenario::Outage) {
        return reply::dropped(&selected, &call.version, &call.trace, &call.extra);
    }
    call.ok(selected)
}

fn pixel_stats(call: &mut Call) -> Response {
    let end = call
        .param("end_time")
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(call.now.unix_timestamp());
    let start = call
        .param("start_time")
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(end.saturating_sub(86_400))
        // The simulator keeps 8 days of hourly stats (Meta about 7, reference §7 — a week-ago
        // comparison is served here; a client must cope when Meta's answer is empty).
        .max(end.saturating_sub(8 * 86_400));
    let hours: Vec<i64> =
        (start.div_euclid(3600)..=end.saturating_sub(1).div_euclid(3600)).collect();
    let silent = call.scenario().shows(Scenario::PixelSilent);
    let limit: usize = call
        .param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(12)
        .clamp(1, 100);
    let from = call.param("after").and_then(uncursor).unwrap_or(0);
    // Server events: the shop's own (synthesized, stopped 3 hours ago in the
    // server-events-stopped scenario) and those received through /events (live ones,
    // duplicates merged), per hour and event name.
    let now_hour = call.now.unix_timestamp().div_euclid(3600);
    let server_stopped = call.scenario().shows(Scenario::ServerEventsStopped);
    let mut server: HashMap<i64, std::collections::BTreeMap<String, u64>> = HashMap::new();
    for h in &hours {
        if silent || (server_stopped && *h >= now_hour - 3) || *h > now_hour {
            continue;
        }
        for (name, n) in data::server_hour(call.seed(), u64::try_from(*h).unwrap_or(0)) {
            *server
                .entry(*h)
                .or_default()
                .entry(name.to_owned())
                .or_default() += n;
        }
    }
    if let Ok(log) = call.state.events.lock() {
        for r in log.live_since(start - 7 * 86_400).filter(|r| !r.duplicate) {
            *server
                .entry(r.event_time.div_euclid(3600))
                .or_default()
                .entry(r.event_name.clone())
                .or_default() += 1;
        }
    }
    let aggregation = call.param("aggregation").unwrap_or("event").to_owned();
    let buckets: Vec<Value> = hours
        .iter()
        .skip(from)
        .take(limit)
        .filter_map(|h| {
            let t = OffsetDateTime::from_unix_timestamp(h * 3600).unwrap_or(call.now);
            let browser: std::collections::BTreeMap<String, u64> = if silent || *h > now_hour {
                Default::default()
            } else {
                data::pixel_hour(call.seed(), u64::try_from(*h).unwrap_or(0))
                    .iter()
                    .filter_map(|r| Some((r["value"].as_str()?.to_owned(), r["count"].as_u64()?)))
                    .collect()
            };
            let from_server = server.get(h).cloned().unwrap_or_default();
            let rows: Vec<Value> = if aggregation == "event_source" {
                // One entry per source and event, the event named in the entry's optional
                // `event` field (AdsPixelStats, reference §7).
                let source = |name: &str, counts: &std::collections::BTreeMap<String, u64>| {
                    counts
                        .iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(event, n)| json!({"value": name, "event": event, "count": n}))
                        .collect::<Vec<Value>>()
                };
                let mut rows = source("browser", &browser);
                rows.extend(source("server", &from_server));
                rows
            } else {
                let mut merged = browser;
                for (name, n) in from_server {
                    *merged.entry(name).or_default() += n;
                }
                merged
                    .into_iter()
                    .map(|(v, n)| json!({"value": v, "count": n}))
                    .collect()
            };
            // Meta leaves quiet hours out.
            (!rows.is_empty()).then(
                || json!({"start_time": graph_date(t), "aggregation": aggregation, "data": rows}),
            )
        })
        .collect();
    let to = (from + limit).min(hours.len());
    let mut body = json!({"data": buckets, "paging": {"cursors": {"before": cursor(from), "after": cursor(to)}}});
    if to < hours.len() {
        body["paging"]["next"] = json!(call.next_link(&format!("{PIXEL_ID}/stats"), to));
    }
    call.ok(body)
}

fn subscriptions(call: &mut Call, app_token: bool) -> Response {
    if !app_token {
        let msg = "(#15) This method must be called with an app access_token.".to_owned();
        return call.fail(StatusCode::BAD_REQUEST, 15, None, "OAuthException", msg);
    }
    if call.scenario().shows(Scenario::Outage) {
        return call.transient(
            StatusCode::SERVICE_UNAVAILABLE,
            2,
            "An unexpected error has occurred. Please retry your request later.",
        );
    }
    let inactive = call.scenario().shows(Scenario::WebhookInactive);
    let callback = call.state.config.callback_url.clone();
    let version = call.version.clone();
    let subs = json!([
        {"object": "page", "callback_url": callback, "active": true,
         "fields": [{"name": "feed", "version": version}, {"name": "leadgen", "version": version}]},
        {"object": "permissions", "callback_url": callback, "active": !inactive,
         "fields": [{"name": "ads_management", "version": version}]},
    ]);
    call.ok(json!({"data": subs, "paging": {"cursors": {"before": cursor(0), "after": cursor(2)}}}))
}

fn app_node(call: &mut Call) -> Response {
    let node = json!({"id": APP_ID, "name": "Meta Monitor Simulator", "namespace": "metamonitorsim", "category": "Business"});
    match call.select(node, "id,name", "Application") {
        Ok(v) => call.ok(v),
        Err(r) => r,
    }
}

/// Runs `f` on the catalog; a poisoned lock is Meta's transient error 2.
fn with_catalog<T>(
    call: &mut Call,
    f: impl FnOnce(&mut crate::catalog::Catalog, Instant) -> Result<T, crate::catalog::Refusal>,
) -> Result<T, Response> {
    let state = call.state.clone();
    let result = match state.catalog.lock() {
        Ok(mut c) => f(&mut c, Instant::now()),
        Err(_) => {
            return Err(call.transient(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                "(#2) Service temporarily unavailable",
            ));
        }
    };
    result.map_err(|(code, message)| {
        call.fail(
            StatusCode::BAD_REQUEST,
            code,
            None,
            "OAuthException",
            message,
        )
    })
}

/// `POST /{catalog}/items_batch`, counted against the per-minute Catalog Batch quota
/// (blocked calls count too) with the BUC header keyed by the catalog id.
fn items_batch(call: &mut Call) -> Response {
    let quota = call.state.config.catalog_batch_quota;
    let usage = match call.state.windows.lock() {
        Ok(mut w) => Some(w.count_in(
            &format!("catalog_batch:{CATALOG_ID}"),
            quota,
            crate::catalog::BATCH_WINDOW,
            Instant::now(),
        )),
        Err(_) => None,
    };
    if let Some(usage) = usage {
        let entry = json!({
            "type": "catalog_batch",
            "call_count": usage.pct,
            "total_cputime": usage.pct / 4,
            "total_time": usage.pct / 3,
            "estimated_time_to_regain_access": usage.regain_minutes,
        });
        call.extra.add(
            "x-business-use-case-usage",
            json!({ CATALOG_ID: [entry] }).to_string(),
        );
        if usage.blocked {
            let msg = "(#80014) There have been too many calls for the batch uploads to this catalog account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#catalog-batch".to_owned();
            return call.fail(StatusCode::BAD_REQUEST, 80014, None, "OAuthException", msg);
        }
    }
    let params = call.params.clone();
    match with_catalog(call, |c, now| c.items_batch(&params, now)) {
        Ok(v) => call.ok(v),
        Err(r) => r,
    }
}

fn batch_status(call: &mut Call) -> Response {
    let params = call.params.clone();
    match with_catalog(call, |c, now| c.batch_status(&params, now)) {
        Ok(v) => call.ok(v),
        Err(r) => r,
    }
}

/// `GET /{catalog}/products`: paged (limit ≤ 100, default 25), fields selected, and
/// `summary=true` adds the total count of what the filter matched.
fn products(call: &mut Call) -> Response {
    let params = call.params.clone();
    let items = match with_catalog(call, |c, now| c.products(&params, now)) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let items: Vec<Value> = match params
        .get("filter")
        .and_then(|f| serde_json::from_str::<Value>(f).ok())
    {
        Some(filter) if filter["review_status"]["eq"].is_string() => items
            .into_iter()
            .filter(|i| i["review_status"] == filter["review_status"]["eq"])
            .collect(),
        _ => items,
    };
    let limit = call
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .min(100);
    let start = call.param("after").and_then(uncursor).unwrap_or(0);
    let end = (start + limit).min(items.len());
    let mut page = Vec::new();
    for item in items.get(start..end).unwrap_or(&[]) {
        match call.select(item.clone(), "id,retailer_id,name", "ProductItem") {
            Ok(v) => page.push(v),
            Err(r) => return r,
        }
    }
    let mut body = json!({"data": page});
    if end > start {
        body["paging"] = json!({"cursors": {"before": cursor(start), "after": cursor(end)}});
    }
    if end < items.len() {
        let path = format!("{CATALOG_ID}/products");
        body["paging"]["next"] = json!(call.next_link(&path, end));
    }
    if matches!(call.param("summary"), Some("true" | "total_count")) {
        body["summary"] = json!({"total_count": items.len()});
    }
    call.ok(body)
}

fn catalog_node(call: &mut Call) -> Response {
    let count = with_catalog(call, |c, now| Ok(c.product_count(now))).unwrap_or(0);
    let node = json!({
        "id": CATALOG_ID,
        "name": "Demo Shop Catalog",
        "product_count": count,
        "vertical": "commerce",
        "business": {"id": crate::BUSINESS_ID, "name": "Demo Shop GmbH"},
        "feed_count": 1,
        "is_catalog_segment": false,
    });
    let selected = match call.select(node, "id,name", "ProductCatalog") {
        Ok(v) => v,
        Err(r) => return r,
    };
    if call.scenario().shows(Scenario::Outage) {
        return reply::truncated(&selected, &call.version, &call.trace, &call.extra);
    }
    call.ok(selected)
}
