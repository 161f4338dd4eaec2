//! The Pixel view's "Send test event": a live preview of what each customer value becomes
//! (normalized, hashed) and of the payload, sending with the account's test code unless the
//! operator chose live, and the event log. Raw values only pass through here; they are never
//! stored, logged or sent.

use crate::capi::event::{self, EventInput};
use crate::capi::normalize::{self, Key};
use crate::capi::send;
use serde_json::json;
use time::OffsetDateTime;

use super::types::{EventPreview, PreviewField, SentEventsView, TestEventResult};
use super::{App, AppError, ErrorCode, lock};

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
        let fields = input
            .user_data
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
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

    /// Sends one event (the account's test code unless `live`), logs it, and returns Meta's
    /// answer or its refusal in words.
    pub async fn send_test_event(
        &self,
        account: &str,
        input: EventInput,
        test_code: Option<String>,
        live: bool,
    ) -> Result<TestEventResult, AppError> {
        let (entry, store) = self.entry(account)?;
        let invalid = |m: String| AppError::new(ErrorCode::Validation, m);
        let pixel = entry
            .account
            .pixel_id
            .clone()
            .ok_or_else(|| invalid(format!("{account} has no pixel id; add it in Settings")))?;
        let test_code = if live {
            None
        } else {
            Some(
                test_code
                    .or_else(|| entry.account.test_event_code.clone())
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| {
                        invalid(
                            "a test event code is needed (Events Manager › Test events), or choose Live"
                                .to_owned(),
                        )
                    })?,
            )
        };
        let credentials = entry
            .credentials
            .clone()
            .map_err(|why| AppError::new(ErrorCode::KeychainUnavailable, why))?;
        let now = OffsetDateTime::now_utc();
        let built = event::build(&input, now, entry.account.monitoring.hash_external_id).map_err(
            |problems| {
                let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                invalid(format!("not sent: {}", text.join("; ")))
            },
        )?;
        let client = self.client(&entry.account, credentials)?;
        let result = send::send(
            &client,
            &pixel,
            std::slice::from_ref(&built.json),
            test_code.as_deref(),
        )
        .await
        .map_err(|e| send::explain(&e));
        let rows = send::log_rows(
            std::slice::from_ref(&built),
            test_code.as_deref(),
            &result,
            OffsetDateTime::now_utc(),
        );
        tokio::task::block_in_place(|| lock(&store).record_sent_events(entry.id, &rows))
            .map_err(AppError::store)?;
        let payload = serde_json::to_string_pretty(&json!({
            "data": [built.json],
            "test_event_code": test_code,
        }))
        .unwrap_or_default();
        Ok(match result {
            Ok(received) => TestEventResult {
                event_id: built.event_id,
                test_event_code: test_code,
                received: Some(received),
                error: None,
                payload,
            },
            Err(error) => TestEventResult {
                event_id: built.event_id,
                test_event_code: test_code,
                received: None,
                error: Some(error),
                payload,
            },
        })
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
            recent: store.sent_events(entry.id, 20).map_err(AppError::store)?,
        })
    }
}
