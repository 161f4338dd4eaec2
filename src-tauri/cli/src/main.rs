//! `meta-monitor`: the headless command line of Meta Monitor, sharing the core with the
//! desktop app. Exit 0 when the command did its work (whatever the tiles say), 1 on a runtime
//! failure, 2 on bad usage or invalid input, always with a one-line reason on stderr.

mod commands;
mod logging;
mod metrics;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "meta-monitor",
    version,
    about = "Watch a business's Meta integration from the command line"
)]
pub struct Cli {
    /// Database file (default: the OS data directory; also META_MONITOR_DB).
    #[arg(long, global = true, env = "META_MONITOR_DB")]
    db: Option<PathBuf>,
    /// Total timeout of each Graph API request, in seconds.
    #[arg(long, global = true, default_value_t = 15.0)]
    timeout: f64,
    /// Log lines on stderr: `text` for a terminal, `json` (one object per line) for journald
    /// or Docker.
    #[arg(long, global = true, value_enum, default_value_t = logging::Format::Text)]
    log_format: logging::Format,
    /// Log level or filter (error, warn, info, debug, trace, or `meta_monitor_core=debug`);
    /// default RUST_LOG, else `info` for `run` and `warn` for the other commands.
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add, list, show or remove accounts (non-secret settings only).
    #[command(subcommand)]
    Account(commands::account::AccountCommand),
    /// Store or delete an account's access token or app secret in the OS keychain.
    #[command(subcommand)]
    Secret(commands::secret::SecretCommand),
    /// Show the access token like Meta's debugger, renew it now, or exchange a short-lived
    /// user token for a long-lived one.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Show, set or clear this installation's HTTPS proxy (shared with the desktop app).
    #[command(subcommand)]
    Proxy(commands::proxy::ProxyCommand),
    /// Run every probe once now, store the results, send due alerts and print the tiles.
    Check {
        /// Only this account (default: all).
        name: Option<String>,
        #[arg(long)]
        json: bool,
        /// Record and decide nothing about alerts; send no notification.
        #[arg(long)]
        no_notify: bool,
        /// Also probe what Meta throttles now (by default a paused bucket waits for Meta's
        /// regain time).
        #[arg(long)]
        anyway: bool,
    },
    /// Watch continuously: each probe on its own interval, self-throttled, alerts sent, until
    /// SIGINT or SIGTERM.
    Run {
        /// Only this account (default: all).
        name: Option<String>,
        /// Run the schedule N times faster than real time (demos and tests).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Serve Prometheus metrics at http://ADDR/metrics: a PORT alone listens on
        /// 127.0.0.1 (this machine only); give ADDR:PORT (e.g. 0.0.0.0:9464) to serve others,
        /// with a token.
        #[arg(long, value_name = "[ADDR:]PORT", value_parser = commands::run::metrics_address)]
        metrics: Option<std::net::SocketAddr>,
        /// A file holding the bearer token /metrics requires (e.g. a systemd credential);
        /// or set META_MONITOR_METRICS_TOKEN.
        #[arg(long, value_name = "PATH", requires = "metrics")]
        metrics_token_file: Option<std::path::PathBuf>,
    },
    /// Print the stored tiles without touching the network.
    Status {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The alert notification history, newest first; `alerts firing` and `alerts ack`.
    #[command(args_conflicts_with_subcommands = true)]
    Alerts {
        #[command(subcommand)]
        action: Option<commands::holds::AlertsCommand>,
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Hold an account's (or one service's, or --all accounts') alerts for a while; held
    /// alerts still firing at the end are sent then.
    Silence {
        #[command(flatten)]
        scope: commands::holds::Scope,
        /// How long: 30m, 2h, 1d (at most 90d).
        #[arg(long = "for", value_name = "DURATION")]
        span: String,
    },
    /// Maintenance windows, one-off or weekly, during which alerts are held and tiles say
    /// "in maintenance"; `list` and `remove` cover silences too.
    #[command(subcommand)]
    Maintenance(commands::holds::MaintenanceCommand),
    /// Incidents — spans when a service was DOWN or DEGRADED — from the stored history,
    /// newest first.
    Incidents {
        /// Only this account (default: all).
        name: Option<String>,
        /// Incidents overlapping the last 24h, 7d, 30d, 1y…
        #[arg(long, default_value = "30d")]
        since: String,
        /// Only this service (token, graph_api, rate_limits, ads, pixel, webhooks, catalog).
        #[arg(long)]
        service: Option<String>,
        /// Only incidents whose worst status was DOWN or DEGRADED.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// RFC 4180 CSV with a header row.
        #[arg(long)]
        csv: bool,
    },
    /// Each service's uptime over 24 h, 7 d, 30 d and 90 d (UNKNOWN time excluded), its
    /// incidents, mean time to recovery and a 90-day strip.
    Uptime {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Diagnostics that name the fix: rule-based findings over the last checks (server events,
    /// match quality, deduplication, freshness, test codes, the token, the catalog), each with
    /// its evidence, the fix and Meta's documentation. Exits 1 when an error-level finding exists.
    Diagnose {
        #[arg(required_unless_present = "rules")]
        name: Option<String>,
        #[arg(long)]
        json: bool,
        /// Print the rules (id, level, when it fires, fix, link) instead.
        #[arg(long)]
        rules: bool,
    },
    /// A metric's stored series (bounded points), with percentiles for latencies.
    History {
        name: String,
        /// e.g. meta.api.latency_ms, meta.ads.spend_24h, meta.rate_limit.max_pct
        metric: String,
        #[arg(long, default_value = "24h")]
        since: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a test notification through every configured channel and report each outcome.
    NotifyTest { name: String },
    /// Run the Graph API simulator in the foreground.
    Simulate {
        #[arg(long, default_value = "127.0.0.1:8765")]
        listen: std::net::SocketAddr,
        #[arg(long, default_value = "healthy")]
        scenario: String,
    },
    /// Check a throw-away demo account against the in-process simulator, in every scenario.
    Demo {
        #[arg(long)]
        json: bool,
    },
    /// Send one Conversions API event to the account's pixel — with a test event code unless
    /// --live — and print Meta's answer and the exact (hashed) payload.
    TestEvent(Box<TestEventArgs>),
    /// Conversions API events from a file.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Products: import a feed, list, sync to the catalog, delete from it.
    #[command(subcommand)]
    Product(commands::product::ProductCommand),
    /// Feed sources: a file or an https:// URL whose products are imported and synced when
    /// they change (`run` runs them on their schedule); deletes of vanished products.
    #[command(subcommand)]
    Feed(commands::feed::FeedCommand),
    /// Normalize and SHA-256 one customer-information value as the Conversions API wants it
    /// (em, ph, fn, ln, ge, db, ct, st, zp, country, external_id, …); exit 2 when invalid.
    Hash {
        field: String,
        value: String,
        /// Print the normalized value instead of its hash.
        #[arg(long)]
        normalized: bool,
        /// Send external_id as given (when the site's Pixel sends it unhashed).
        #[arg(long)]
        raw_external_id: bool,
    },
}

#[derive(clap::Args)]
pub struct TestEventArgs {
    pub name: String,
    /// A standard event (PageView, ViewContent, Search, AddToCart, AddToWishlist,
    /// InitiateCheckout, AddPaymentInfo, Purchase, Lead, CompleteRegistration, Contact,
    /// Subscribe, …) or your own.
    #[arg(long = "event")]
    pub event: String,
    #[arg(long)]
    pub value: Option<f64>,
    #[arg(long)]
    pub currency: Option<String>,
    #[arg(long = "content-id")]
    pub content_ids: Vec<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long)]
    pub zip: Option<String>,
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub external_id: Option<String>,
    #[arg(long)]
    pub fbp: Option<String>,
    #[arg(long)]
    pub fbc: Option<String>,
    #[arg(long)]
    pub ip: Option<String>,
    #[arg(long)]
    pub user_agent: Option<String>,
    /// f or m (female/male are read too).
    #[arg(long)]
    pub gender: Option<String>,
    /// YYYYMMDD.
    #[arg(long)]
    pub date_of_birth: Option<String>,
    /// product or product_group (product when ids or contents are given).
    #[arg(long)]
    pub content_type: Option<String>,
    /// A line of `contents`: ID:QUANTITY[:ITEM_PRICE], repeatable.
    #[arg(long = "content")]
    pub contents: Vec<String>,
    #[arg(long)]
    pub content_name: Option<String>,
    #[arg(long)]
    pub content_category: Option<String>,
    #[arg(long)]
    pub order_id: Option<String>,
    #[arg(long)]
    pub num_items: Option<i64>,
    #[arg(long)]
    pub search_string: Option<String>,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub predicted_ltv: Option<f64>,
    /// Default: a fresh UUID.
    #[arg(long)]
    pub event_id: Option<String>,
    #[arg(long)]
    pub source_url: Option<String>,
    /// website, app, email, phone_call, chat, physical_store, system_generated,
    /// business_messaging or other.
    #[arg(long, default_value = "website")]
    pub action_source: String,
    /// Default: the account's test event code.
    #[arg(long, conflicts_with = "live")]
    pub test_code: Option<String>,
    /// Send to production (no test event code).
    #[arg(long)]
    pub live: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Check every line of a JSON-lines file (one event per line, Meta's field names, raw
    /// customer values in `user_data`), then send them ≤ 1000 per request.
    Send {
        name: String,
        file: std::path::PathBuf,
        #[arg(long, conflicts_with = "live")]
        test_code: Option<String>,
        #[arg(long)]
        live: bool,
    },
    /// The events Meta Monitor sent (time, name, event_id, test code, customer keys present —
    /// never their values —, Meta's answer, fbtrace_id), newest first.
    Log {
        name: String,
        #[arg(long, default_value = "24h")]
        since: String,
        #[arg(long)]
        json: bool,
    },
}

/// An error with the exit code it deserves.
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: 2,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    /// Exit 1, or 2 when the core refused the input (a bad value, an unknown account).
    fn from(error: E) -> Self {
        use meta_monitor_core::app::AppError;
        let error = error.into();
        let refused = error
            .downcast_ref::<AppError>()
            .is_some_and(|e| e.code.is_refused_input());
        Self {
            code: if refused { 2 } else { 1 },
            error,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let default_level = if matches!(cli.command, Command::Run { .. }) {
        "info"
    } else {
        "warn"
    };
    if let Err(e) = logging::init(cli.log_format, cli.log_level.as_deref(), default_level) {
        eprintln!("meta-monitor: --log-level: {e:#}");
        return ExitCode::from(2);
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let reason = format!("{:#}", f.error).replace('\n', " ");
            eprintln!("meta-monitor: {reason}");
            ExitCode::from(f.code)
        }
    }
}

/// Help and version go to stdout as clap prints them; a usage mistake is one line on stderr.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("meta-monitor: a command is required (see meta-monitor --help)");
            ExitCode::from(2)
        }
        _ => {
            let text = e.to_string();
            let mut lines = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("invalid usage");
            // "the following required arguments were not provided:" is followed by them.
            let named: Vec<&str> = if first.ends_with(':') {
                lines.collect()
            } else {
                Vec::new()
            };
            let reason = format!(
                "{} {}",
                first.trim_start_matches("error: ").trim(),
                named.join(", ")
            );
            let reason = reason.trim();
            eprintln!("meta-monitor: {reason} (see meta-monitor --help)");
            ExitCode::from(2)
        }
    }
}
