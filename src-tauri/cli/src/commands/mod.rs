//! The subcommands. Keychain calls run outside the async runtime (they block on D-Bus).

pub mod account;
pub mod alerts;
pub mod check;
pub mod demo;
pub mod diagnose;
pub mod events;
pub mod feed;
pub mod hash;
pub mod history;
pub mod holds;
pub mod incidents;
pub mod product;
pub mod proxy;
pub mod run;
pub mod secret;
pub mod token;

use std::time::Duration;

use anyhow::Context;
use meta_monitor_core::app::{App, Options};
use meta_monitor_core::graph::Timeouts;
use meta_monitor_core::monitor::Pauses;
use meta_monitor_core::store;

use crate::{Cli, Command, Failure};

pub fn run(cli: Cli) -> Result<(), Failure> {
    if !(cli.timeout.is_finite() && cli.timeout > 0.0 && cli.timeout <= 600.0) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--timeout must be between 0 and 600 seconds"
        )));
    }
    let total = Duration::from_secs_f64(cli.timeout);
    let timeouts = Timeouts {
        connect: total.min(Duration::from_secs(5)),
        total,
    };
    let session = Session {
        db: cli.db.clone().unwrap_or_else(store::default_path),
        timeouts,
    };
    match cli.command {
        Command::Account(cmd) => account::run(cmd, &session),
        Command::Secret(cmd) => secret::run(cmd, &session),
        Command::Proxy(cmd) => proxy::run(cmd, &session),
        Command::Token(cmd) => token::run(cmd, &session),
        Command::Check {
            name,
            json,
            no_notify,
            anyway,
        } => {
            let pauses = if anyway {
                Pauses::Ignore
            } else {
                Pauses::Respect
            };
            check::check(&session, name.as_deref(), json, !no_notify, pauses)
        }
        Command::Status { name, json } => check::status(&session, name.as_deref(), json),
        Command::Alerts {
            action: Some(action),
            ..
        } => holds::alerts(&session, action),
        Command::Alerts { name, json, .. } => alerts::history(&session, name.as_deref(), json),
        Command::Silence { scope, span } => holds::silence(&session, &scope, &span),
        Command::Maintenance(cmd) => holds::maintenance(&session, cmd),
        Command::Incidents {
            name,
            since,
            service,
            status,
            json,
            csv,
        } => {
            let format = match (json, csv) {
                (true, _) => incidents::Format::Json,
                (_, true) => incidents::Format::Csv,
                _ => incidents::Format::Text,
            };
            let filter = incidents::Filter {
                name: name.as_deref(),
                since: &since,
                service: service.as_deref(),
                status: status.as_deref(),
            };
            incidents::incidents(&session, &filter, format)
        }
        Command::Uptime { name, json } => incidents::uptime(&session, &name, json),
        Command::Diagnose { name, json, rules } => match name {
            Some(name) if !rules => diagnose::diagnose(&session, &name, json),
            _ => diagnose::rules(json),
        },
        Command::History {
            name,
            metric,
            since,
            json,
        } => history::history(&session, &name, &metric, &since, json),
        Command::Run {
            name,
            speed,
            metrics,
            metrics_token_file,
        } => {
            let exporter = metrics
                .map(|address| run::Exporter::new(address, metrics_token_file.as_deref()))
                .transpose()?;
            run::run(&session, name.as_deref(), speed, exporter)
        }
        Command::NotifyTest { name } => alerts::notify_test(&session, &name),
        Command::Simulate { listen, scenario } => demo::simulate(listen, &scenario),
        Command::Demo { json } => demo::demo(json),
        Command::TestEvent(args) => {
            let name = args.name.clone();
            let request = test_event_request(*args)?;
            events::test_event(&session, &name, request)
        }
        Command::Events(crate::EventsCommand::Send {
            name,
            file,
            test_code,
            live,
        }) => events::send_file(&session, &name, &file, test_code, live),
        Command::Events(crate::EventsCommand::Log { name, since, json }) => {
            events::log(&session, &name, &since, json)
        }
        Command::Product(cmd) => product::run(cmd, &session),
        Command::Feed(cmd) => feed::run(cmd, &session),
        Command::Hash {
            field,
            value,
            normalized,
            raw_external_id,
        } => hash::hash(&field, &value, normalized, raw_external_id),
    }
}

/// `--content ID:QUANTITY[:ITEM_PRICE]` as a line of `contents`; the numbers are read from
/// the right, so an id may itself hold ':'.
fn content_line(line: &str) -> Result<meta_monitor_core::capi::event::ContentInput, Failure> {
    use meta_monitor_core::capi::event::ContentInput;
    let content = |id: &str, quantity: i64, item_price: Option<f64>| ContentInput {
        id: id.to_owned(),
        quantity: Some(quantity),
        item_price,
        ..ContentInput::default()
    };
    if let Some((rest, price)) = line.rsplit_once(':')
        && let Some((id, quantity)) = rest.rsplit_once(':')
        && let (Ok(q), Ok(p)) = (quantity.parse::<i64>(), price.parse::<f64>())
    {
        return Ok(content(id, q, Some(p)));
    }
    if let Some((id, quantity)) = line.rsplit_once(':')
        && let Ok(q) = quantity.parse::<i64>()
    {
        return Ok(content(id, q, None));
    }
    Err(Failure::usage(anyhow::anyhow!(
        "--content {line:?}: ID:QUANTITY[:ITEM_PRICE], e.g. SKU-1:2:9.99"
    )))
}

/// The flags of `test-event` as an event to build.
fn test_event_request(args: crate::TestEventArgs) -> Result<events::TestEvent, Failure> {
    use meta_monitor_core::capi::event::{ActionSource, CustomDataInput, EventInput};
    let action_source = ActionSource::parse(&args.action_source).ok_or_else(|| {
        let known: Vec<&str> = ActionSource::ALL.iter().map(|a| a.as_str()).collect();
        Failure::usage(anyhow::anyhow!(
            "--action-source is one of: {}",
            known.join(", ")
        ))
    })?;
    let user_data = [
        ("em", args.email),
        ("ph", args.phone),
        ("fn", args.first_name),
        ("ln", args.last_name),
        ("ge", args.gender),
        ("db", args.date_of_birth),
        ("ct", args.city),
        ("st", args.state),
        ("zp", args.zip),
        ("country", args.country),
        ("external_id", args.external_id),
        ("fbp", args.fbp),
        ("fbc", args.fbc),
        ("client_ip_address", args.ip),
        ("client_user_agent", args.user_agent),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v?.into())))
    .collect();
    let contents = args
        .contents
        .iter()
        .map(|line| content_line(line))
        .collect::<Result<Vec<_>, _>>()?;
    let custom_data = CustomDataInput {
        content_type: args.content_type,
        contents: (!contents.is_empty()).then_some(contents),
        content_name: args.content_name,
        content_category: args.content_category,
        order_id: args.order_id,
        num_items: args.num_items,
        search_string: args.search_string,
        status: args.status,
        predicted_ltv: args.predicted_ltv,
        ..CustomDataInput::default()
    };
    Ok(events::TestEvent {
        input: EventInput {
            event_name: args.event,
            event_time: None,
            event_id: args.event_id,
            action_source,
            event_source_url: args.source_url,
            value: args.value,
            currency: args.currency,
            content_ids: args.content_ids,
            user_data,
            custom_data: (custom_data != CustomDataInput::default()).then_some(custom_data),
            ..EventInput::default()
        },
        test_code: args.test_code,
        live: args.live,
        json: args.json,
    })
}

/// What every command that goes through the application API opens it with.
pub struct Session {
    pub db: std::path::PathBuf,
    pub timeouts: Timeouts,
}

impl Session {
    /// The options for a command about `name` (every account when `None`).
    pub fn options(&self, name: Option<&str>) -> Options {
        Options {
            timeouts: self.timeouts,
            only: name.map(str::to_owned),
            ..Options::default()
        }
    }

    /// The application API over the database, on a runtime that lives as long as it.
    pub fn open(&self, options: Options) -> Result<(tokio::runtime::Runtime, App), Failure> {
        self.open_observed(
            options,
            std::sync::Arc::new(meta_monitor_core::events::NoEvents),
        )
    }

    /// [`Session::open`], with `events` told what the monitor does (`run`'s metrics).
    pub fn open_observed(
        &self,
        options: Options,
        events: std::sync::Arc<dyn meta_monitor_core::events::EventSink>,
    ) -> Result<(tokio::runtime::Runtime, App), Failure> {
        let runtime = runtime()?;
        let app = runtime.block_on(App::open(&self.db, options, events))?;
        Ok((runtime, app))
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?)
}
