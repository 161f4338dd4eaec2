//! `meta-monitor test-event` and `meta-monitor events send`: Conversions API events checked
//! like Meta checks them, sent with a test event code unless `--live`, every one logged
//! (keys present and Meta's answer, never the customer's values).

use std::io::BufRead;
use std::path::Path;

use meta_monitor_core::capi::event::{self, BuiltEvent, EventInput};
use meta_monitor_core::capi::send::{self, MAX_PER_REQUEST, Received};
use meta_monitor_core::graph::{GraphClient, Timeouts, http_client};
use meta_monitor_core::secrets::Keychain;
use meta_monitor_core::store::Store;
use meta_monitor_core::store::accounts::StoredAccount;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::check::selected;
use crate::Failure;

/// Where events go: the account, its pixel and the test code (or live).
struct Target {
    stored: StoredAccount,
    pixel: String,
    test_code: Option<String>,
}

/// Resolves the account, its pixel and the test code; no keychain access yet, so invalid
/// input is reported before anything is unlocked or sent.
fn target(
    store: &Store,
    name: &str,
    test_code: Option<String>,
    live: bool,
) -> Result<Target, Failure> {
    let stored = selected(store, Some(name))?.remove(0);
    let pixel = stored.account.pixel_id.clone().ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "{name} has no pixel; add it with: meta-monitor account add … --pixel ID"
        ))
    })?;
    let test_code = if live {
        None
    } else {
        let code = test_code
            .or_else(|| stored.account.test_event_code.clone())
            .filter(|c| !c.trim().is_empty());
        Some(code.ok_or_else(|| {
            Failure::usage(anyhow::anyhow!(
                "no test event code: pass --test-code CODE (from Events Manager › Test events), set one on \
                 the account, or send to production with --live"
            ))
        })?)
    };
    Ok(Target {
        stored,
        pixel,
        test_code,
    })
}

/// The Graph client of an account, with its keychain credentials.
pub fn client(stored: &StoredAccount, timeouts: Timeouts) -> Result<GraphClient, Failure> {
    let account = &stored.account;
    let credentials = Keychain::new()
        .credentials(&account.name)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(GraphClient::new(
        http_client(timeouts).map_err(|e| anyhow::anyhow!(e))?,
        &account.graph_url,
        &account.api_version,
        credentials,
        account.app_id.clone(),
    )
    .map_err(|e| anyhow::anyhow!(e))?)
}

/// Sends one request and logs it; `Err` is Meta's refusal (or the failure) in words.
fn send_request(
    store: &mut Store,
    target: &Target,
    client: &GraphClient,
    runtime: &tokio::runtime::Runtime,
    built: &[BuiltEvent],
) -> Result<Received, Failure> {
    let events: Vec<Value> = built.iter().map(|b| b.json.clone()).collect();
    let result = runtime
        .block_on(send::send(
            client,
            &target.pixel,
            &events,
            target.test_code.as_deref(),
        ))
        .map_err(|e| send::explain(&e));
    let rows = send::log_rows(
        built,
        target.test_code.as_deref(),
        &result,
        OffsetDateTime::now_utc(),
    );
    store.record_sent_events(target.stored.id, &rows)?;
    result.map_err(|e| Failure {
        code: 1,
        error: anyhow::anyhow!(e),
    })
}

fn problems_text(problems: &[event::EventProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub struct TestEvent {
    pub input: EventInput,
    pub test_code: Option<String>,
    pub live: bool,
    pub json: bool,
}

pub fn test_event(
    store: &mut Store,
    name: &str,
    args: TestEvent,
    timeouts: Timeouts,
) -> Result<(), Failure> {
    let target = target(store, name, args.test_code, args.live)?;
    let hash_external_id = target.stored.account.monitoring.hash_external_id;
    let built = event::build(&args.input, OffsetDateTime::now_utc(), hash_external_id)
        .map_err(|p| Failure::usage(anyhow::anyhow!("not sent: {}", problems_text(&p))))?;
    let client = client(&target.stored, timeouts)?;
    let runtime = super::runtime()?;
    let payload = json!({ "data": [built.json.clone()], "test_event_code": target.test_code });
    let received = send_request(
        store,
        &target,
        &client,
        &runtime,
        std::slice::from_ref(&built),
    )?;
    if args.json {
        crate::output::print_json(&json!({
            "events_received": received.events_received,
            "messages": received.messages,
            "fbtrace_id": received.fbtrace_id,
            "event_id": built.event_id,
            "test_event_code": target.test_code,
            "payload": payload,
        }))?;
    } else {
        let stream = match &target.test_code {
            Some(code) => format!("test events ({code})"),
            None => "LIVE production events".to_owned(),
        };
        println!(
            "Meta received {} event(s) into {stream}; event_id {}; fbtrace_id {}",
            received.events_received,
            built.event_id,
            received.fbtrace_id.as_deref().unwrap_or("-")
        );
        for m in &received.messages {
            println!("message: {m}");
        }
        println!(
            "payload sent:\n{}",
            serde_json::to_string_pretty(&payload).unwrap_or_default()
        );
    }
    Ok(())
}

/// `events send`: every line checked first; nothing is sent while any line is invalid.
pub fn send_file(
    store: &mut Store,
    name: &str,
    file: &Path,
    test_code: Option<String>,
    live: bool,
    timeouts: Timeouts,
) -> Result<(), Failure> {
    let reader = std::fs::File::open(file)
        .map(std::io::BufReader::new)
        .map_err(|e| Failure::usage(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
    let now = OffsetDateTime::now_utc();
    let target = target(store, name, test_code, live)?;
    let hash_external_id = target.stored.account.monitoring.hash_external_id;
    let mut built = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let number = i + 1;
        let line = line.map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let input: EventInput = match serde_json::from_str(&line) {
            Ok(input) => input,
            Err(e) => {
                bad.push(format!("line {number}: not an event: {e}"));
                continue;
            }
        };
        match event::build(&input, now, hash_external_id) {
            Ok(b) => built.push(b),
            Err(p) => bad.push(format!("line {number}: {}", problems_text(&p))),
        }
    }
    if !bad.is_empty() {
        for b in &bad {
            eprintln!("{b}");
        }
        return Err(Failure::usage(anyhow::anyhow!(
            "{} invalid line(s); nothing was sent (fix them and send the file again)",
            bad.len()
        )));
    }
    if built.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} has no events",
            file.display()
        )));
    }
    let client = client(&target.stored, timeouts)?;
    let runtime = super::runtime()?;
    let requests = built.len().div_ceil(MAX_PER_REQUEST);
    let mut received = 0;
    let mut failed = 0;
    for (n, chunk) in built.chunks(MAX_PER_REQUEST).enumerate() {
        match send_request(store, &target, &client, &runtime, chunk) {
            Ok(r) => {
                received += r.events_received;
                println!(
                    "request {}/{requests}: {} event(s) received; fbtrace_id {}",
                    n + 1,
                    r.events_received,
                    r.fbtrace_id.as_deref().unwrap_or("-")
                );
            }
            Err(e) => {
                failed += chunk.len();
                println!(
                    "request {}/{requests}: {} event(s) refused: {}",
                    n + 1,
                    chunk.len(),
                    e.error
                );
            }
        }
    }
    println!(
        "{received} of {} event(s) received by Meta in {requests} request(s){}",
        built.len(),
        target
            .test_code
            .as_deref()
            .map(|c| format!(" (test code {c})"))
            .unwrap_or_default()
    );
    if failed > 0 {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!("{failed} event(s) were not received"),
        });
    }
    Ok(())
}
