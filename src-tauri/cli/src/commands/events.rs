//! `meta-monitor test-event` and `meta-monitor events send`: Conversions API events checked
//! like Meta checks them, sent with a test event code unless `--live`, every one logged
//! (keys present and Meta's answer, never the customer's values).

use std::io::BufRead;
use std::path::Path;

use meta_monitor_core::capi::event::EventInput;
use serde_json::json;

use super::Session;
use crate::Failure;

pub struct TestEvent {
    pub input: EventInput,
    pub test_code: Option<String>,
    pub live: bool,
    pub json: bool,
}

pub fn test_event(session: &Session, name: &str, args: TestEvent) -> Result<(), Failure> {
    let (runtime, app) = session.open(session.options(Some(name)))?;
    let result =
        runtime.block_on(app.send_test_event(name, args.input, args.test_code, args.live))?;
    let Some(received) = result.received else {
        let why = result.error.unwrap_or_default();
        return Err(anyhow::anyhow!(why).into());
    };
    let payload: serde_json::Value = serde_json::from_str(&result.payload).unwrap_or_default();
    if args.json {
        crate::output::print_json(&json!({
            "events_received": received.events_received,
            "messages": received.messages,
            "fbtrace_id": received.fbtrace_id,
            "event_id": result.event_id,
            "test_event_code": result.test_event_code,
            "payload": payload,
        }))?;
    } else {
        let stream = match &result.test_event_code {
            Some(code) => format!("test events ({code})"),
            None => "LIVE production events".to_owned(),
        };
        println!(
            "Meta received {} event(s) into {stream}; event_id {}; fbtrace_id {}",
            received.events_received,
            result.event_id,
            received.fbtrace_id.as_deref().unwrap_or("-")
        );
        for m in &received.messages {
            println!("message: {m}");
        }
        println!("payload sent:\n{}", result.payload);
    }
    Ok(())
}

/// `events send`: every line checked first; nothing is sent while any line is invalid.
pub fn send_file(
    session: &Session,
    name: &str,
    file: &Path,
    test_code: Option<String>,
    live: bool,
) -> Result<(), Failure> {
    let reader = std::fs::File::open(file)
        .map(std::io::BufReader::new)
        .map_err(|e| Failure::usage(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
    let mut inputs = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let number = i + 1;
        let line = line.map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<EventInput>(&line) {
            Ok(input) => inputs.push((number, input)),
            Err(e) => bad.push((number, format!("line {number}: not an event: {e}"))),
        }
    }
    let (runtime, app) = session.open(session.options(Some(name)))?;
    // The core checks each event as Meta would; its problems and the unreadable lines are
    // reported together, in line order, before anything is sent.
    for problem in app.check_events(name, &inputs)? {
        let number = problem
            .strip_prefix("line ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        bad.push((number, problem));
    }
    if !bad.is_empty() {
        bad.sort_by_key(|(number, _)| *number);
        for (_, b) in &bad {
            eprintln!("{b}");
        }
        return Err(Failure::usage(anyhow::anyhow!(
            "{} invalid line(s); nothing was sent (fix them and send the file again)",
            bad.len()
        )));
    }
    if inputs.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} has no events",
            file.display()
        )));
    }
    let each = |b: &meta_monitor_core::app::BatchOutcome| match &b.outcome {
        Ok(r) => println!(
            "request {}/{}: {} event(s) received; fbtrace_id {}",
            b.request,
            b.requests,
            r.events_received,
            r.fbtrace_id.as_deref().unwrap_or("-")
        ),
        Err(e) => println!(
            "request {}/{}: {} event(s) refused: {e}",
            b.request, b.requests, b.events
        ),
    };
    let summary = runtime.block_on(app.send_events(name, inputs, test_code, live, each))?;
    println!(
        "{} of {} event(s) received by Meta in {} request(s){}",
        summary.received,
        summary.events,
        summary.requests,
        summary
            .test_event_code
            .as_deref()
            .map(|c| format!(" (test code {c})"))
            .unwrap_or_default()
    );
    if summary.refused > 0 {
        return Err(anyhow::anyhow!("{} event(s) were not received", summary.refused).into());
    }
    Ok(())
}

/// `events log NAME [--since 24h] [--json]`: the stored event log, no network.
pub fn log(session: &Session, name: &str, since: &str, json: bool) -> Result<(), Failure> {
    let hours = since
        .parse::<meta_monitor_core::app::types::Since>()?
        .hours();
    let options = meta_monitor_core::app::Options {
        secrets: false,
        ..session.options(Some(name))
    };
    let (_runtime, app) = session.open(options)?;
    let events = app.event_log(name, hours)?;
    if json {
        return crate::output::print_json(&events);
    }
    if events.is_empty() {
        println!("{name}: no events sent since {since} ago");
        return Ok(());
    }
    println!(
        "{:<20}  {:<16} {:<36} {:<10} {:<28} {:<9} FBTRACE_ID",
        "SENT", "EVENT", "EVENT_ID", "TEST CODE", "KEYS", "ANSWER"
    );
    for e in &events {
        println!(
            "{:<20}  {:<16} {:<36} {:<10} {:<28} {:<9} {}{}",
            crate::output::timestamp(e.sent_at),
            e.event_name,
            e.event_id,
            e.test_event_code.as_deref().unwrap_or("live"),
            e.keys.join(","),
            e.outcome,
            e.fbtrace_id.as_deref().unwrap_or("-"),
            e.message
                .as_deref()
                .map(|m| format!("  {m}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
