//! Conversions API events for the Pixel view and the CLI: a live preview of what each customer
//! value becomes (normalized, hashed) and of the payload, one test event (`test-event`) or a
//! checked batch (`events send`) sent with the test code unless the operator chose live, and
//! the event log. Raw values only pass through here; they are never stored, logged or sent.

use crate::capi::event::{self, BuiltEvent, EventInput};
use crate::capi::normalize::{self, Key};
use crate::capi::send::{self, Received};
use serde_json::json;
use time::OffsetDateTime;

use super::types::{EventPreview, PreviewField, SentEventsView, TestEventResult};
use super::{App, AppError, ErrorCode, lock};

/// Where events go: the account, its store, its pixel and the test code (none: live).
struct EventTarget {
    entry: crate::monitor::AccountEntry,
    store: std::sync::Arc<std::sync::Mutex<crate::store::Store>>,
    pixel: String,
    test_code: Option<String>,
}

/// The most events `event_log` returns: a day of a busy test, not a production stream.
pub const EVENT_LOG_MAX: u32 = 10_000;

/// One request of a batch send, as it comes back.
#[derive(Debug)]
pub struct BatchOutcome {
    /// 1-based.
    pub request: usize,
    pub requests: usize,
    pub events: usize,
    /// Meta's answer, or its refusal in words.
    pub outcome: Result<Received, String>,
}

/// What a batch send did.
#[derive(Debug)]
pub struct BatchSummary {
    pub events: usize,
    pub requests: usize,
    pub received: u64,
    pub refused: usize,
    pub test_event_code: Option<String>,
}

/// Every input built as it would be sent, and the problems of those that cannot be.
fn build_all(
    account: &crate::Account,
    inputs: &[(usize, EventInput)],
) -> (Vec<BuiltEvent>, Vec<String>) {
    let now = OffsetDateTime::now_utc();
    let hash_external_id = account.monitoring.hash_external_id;
    let mut built = Vec::with_capacity(inputs.len());
    let mut bad = Vec::new();
    for (line, input) in inputs {
        match event::build(input, now, hash_external_id) {
            Ok(b) => built.push(b),
            Err(p) => bad.push(format!("line {line}: {}", problems_text(&p))),
        }
    }
    (built, bad)
}

fn problems_text(problems: &[event::EventProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl App {
    /// What `input` would send: each customer value normalized and hashed (or why not), the
    /// problems Meta would refuse it for, and the payload. Gives the event an id when it has
    /// none, so the preview and the send agree.
    pub fn preview_event(
        &self,
        account: &str,
        mut input: EventInput,
    ) -> Result<EventPreview, AppError> {
        let (entry, _) = self.entry(account)?;
        let hash_external_id = entry.account.monitoring.hash_external_id;
        input
            .event_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
        // One preview row per value (a key may carry several).
        let fields = input
            .user_data
            .iter()
            .flat_map(|(key, raw)| raw.values().into_iter().map(move |v| (key, v)))
            .map(|(key, raw)| match Key::parse(key) {
                None => PreviewField {
                    key: key.clone(),
                    normalized: None,
                    sent: None,
                    problem: Some("not a customer-information key Meta knows".to_owned()),
                },
                Some(k) => match normalize::prepare(k, raw, hash_external_id) {
                    Ok(p) => PreviewField {
                        key: key.clone(),
                        normalized: Some(p.normalized),
                        sent: Some(p.sent),
                        problem: None,
                    },
                    Err(e) => PreviewField {
                        key: key.clone(),
                        normalized: None,
                        sent: None,
                        problem: Some(e.reason),
                    },
                },
            })
            .collect();
        let now = OffsetDateTime::now_utc();
        let (problems, payload) = match event::build(&input, now, hash_external_id) {
            Ok(built) => (Vec::new(), Some(built.json)),
            Err(problems) => (problems, None),
        };
        Ok(EventPreview {
            event_id: input.event_id.unwrap_or_default(),
            fields,
            problems,
            payload: payload
                .map(|p| serde_json::to_string_pretty(&json!({ "data": [p] })).unwrap_or_default()),
        })
    }

    /// Where events for `account` go: its pixel and the test code (the given one, else the
    /// account's), or none when `live`. Refused before anything is unlocked or sent.
    fn event_target(
        &self,
        account: &str,
        test_code: Option<String>,
        live: bool,
    ) -> Result<EventTarget, AppError> {
        let (entry, store) = self.entry(account)?;
        let pixel = entry.account.pixel_id.clone().ok_or_else(|| {
            AppError::invalid(format!(
                "{account} has no pixel id; add it in Settings (or: meta-monitor account add … --pixel ID)"
            ))
        })?;
        let test_code = if live {
            None
        } else {
            let code = test_code
                .or_else(|| entry.account.test_event_code.clone())
                .filter(|c| !c.trim().is_empty());
            Some(code.ok_or_else(|| {
                AppError::invalid(
                    "a test event code is needed (Events Manager › Test events; --test-code CODE \
                     on the command line), or send to production (Live, --live)",
                )
            })?)
        };
        Ok(EventTarget {
            entry,
            store,
            pixel,
            test_code,
        })
    }

    /// Sends one request of built events and logs each (keys present and Meta's answer,
    /// never the customer's values); `Err` is Meta's refusal (or the failure) in words.
    async fn send_logged(
        &self,
        target: &EventTarget,
        built: &[BuiltEvent],
    ) -> Result<Result<Received, String>, AppError> {
        let credentials = target.entry.credentials.clone().map_err(AppError::from)?;
        let capi = credentials.capi_token.clone();
        let mut client = self.client(&target.entry.account, credentials)?;
        // The shop server's own token sends them when it is stored: a test event then proves
        // the token the server really uses (signed only when it is of the account's app).
        if let Some(capi) = capi {
            client = crate::token::capi_client(&client, &target.entry.account, &capi)
                .await
                .map_err(|e| AppError::new(ErrorCode::from(&e), e))?
                .0;
        }
        let events: Vec<serde_json::Value> = built.iter().map(|b| b.json.clone()).collect();
        let result = send::send(&client, &target.pixel, &events, target.test_code.as_deref())
            .await
            .map_err(|e| send::explain(&e));
        let rows = send::log_rows(
            built,
            target.test_code.as_deref(),
            &result,
            OffsetDateTime::now_utc(),
        );
        tokio::task::block_in_place(|| {
            lock(&target.store).record_sent_events(target.entry.id, &rows)
        })?;
        Ok(result)
    }

    /// Sends one event (the account's test code unless `live`), logs it, and returns Meta's
    /// answer or its refusal in words.
    pub async fn send_test_event(
        &self,
        account: &str,
        input: EventInput,
        test_code: Option<String>,
        live: bool,
    ) -> Result<TestEventResult, AppError> {
        let target = self.event_target(account, test_code, live)?;
        let hash_external_id = target.entry.account.monitoring.hash_external_id;
        let built = event::build(&input, OffsetDateTime::now_utc(), hash_external_id).map_err(
            |problems| AppError::invalid(format!("not sent: {}", problems_text(&problems))),
        )?;
        let result = self
            .send_logged(&target, std::slice::from_ref(&built))
            .await?;
        let payload = serde_json::to_string_pretty(&json!({
            "data": [built.json],
            "test_event_code": target.test_code,
        }))
        .unwrap_or_default();
        let (received, error) = match result {
            Ok(received) => (Some(received), None),
            Err(error) => (None, Some(error)),
        };
        Ok(TestEventResult {
            event_id: built.event_id,
            test_event_code: target.test_code,
            received,
            error,
            payload,
        })
    }

    /// What is wrong with each of `inputs`, as "line N: …" (empty: all can be sent), by the
    /// account's settings (whether `external_id` is hashed).
    pub fn check_events(
        &self,
        account: &str,
        inputs: &[(usize, EventInput)],
    ) -> Result<Vec<String>, AppError> {
        let (entry, _) = self.entry(account)?;
        Ok(build_all(&entry.account, inputs).1)
    }

    /// Sends many events (`meta-monitor events send`): every one checked first — nothing is
    /// sent while any is invalid, and the error names each by its `line` — then at most
    /// [`send::MAX_PER_REQUEST`] per request, each request's outcome told to `each` as it
    /// comes. Returns how many Meta received and the test code used.
    pub async fn send_events(
        &self,
        account: &str,
        inputs: Vec<(usize, EventInput)>,
        test_code: Option<String>,
        live: bool,
        each: impl Fn(&BatchOutcome),
    ) -> Result<BatchSummary, AppError> {
        let target = self.event_target(account, test_code, live)?;
        let (built, bad) = build_all(&target.entry.account, &inputs);
        if !bad.is_empty() {
            return Err(AppError::invalid(format!(
                "{} invalid event(s); nothing was sent (fix them and send again): {}",
                bad.len(),
                bad.join("; ")
            )));
        }
        let requests = built.len().div_ceil(send::MAX_PER_REQUEST);
        let mut summary = BatchSummary {
            events: built.len(),
            requests,
            received: 0,
            refused: 0,
            test_event_code: target.test_code.clone(),
        };
        for (n, chunk) in built.chunks(send::MAX_PER_REQUEST).enumerate() {
            let outcome = self.send_logged(&target, chunk).await?;
            if let Ok(r) = &outcome {
                summary.received += r.events_received;
            } else {
                summary.refused += chunk.len();
            }
            each(&BatchOutcome {
                request: n + 1,
                requests,
                events: chunk.len(),
                outcome,
            });
        }
        Ok(summary)
    }

    /// Events sent in the last 24 h by name and outcome, and the newest ones.
    pub fn sent_events(&self, account: &str) -> Result<SentEventsView, AppError> {
        let (entry, store) = self.entry(account)?;
        let store = lock(&store);
        let since = OffsetDateTime::now_utc() - time::Duration::days(1);
        Ok(SentEventsView {
            counts_24h: store
                .sent_counts(entry.id, since)
                .map_err(AppError::store)?,
            recent: store.sent_events(entry.id, 200).map_err(AppError::store)?,
        })
    }

    /// The event log: events sent in the last `hours`, newest first (at most
    /// [`EVENT_LOG_MAX`]). Keys present, never customer values.
    pub fn event_log(
        &self,
        account: &str,
        hours: u32,
    ) -> Result<Vec<crate::store::sent_events::SentEvent>, AppError> {
        let (entry, store) = self.entry(account)?;
        let store = lock(&store);
        let since = self.options.clock.now() - time::Duration::hours(i64::from(hours));
        store
            .sent_events_since(entry.id, since, EVENT_LOG_MAX)
            .map_err(AppError::store)
    }
}
