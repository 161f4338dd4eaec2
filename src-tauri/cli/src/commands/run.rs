//! `meta-monitor run [NAME] [--speed N]`: the scheduler and notifiers in the foreground until
//! SIGINT or SIGTERM; the step in flight is finished and stored before exiting.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use meta_monitor_core::Secret;
use meta_monitor_core::app::Options;
use meta_monitor_core::clock::{Clock, ScaledClock, SystemClock};

use super::Session;
use crate::Failure;

/// The environment variable holding the bearer token `/metrics` requires.
pub const METRICS_TOKEN_ENV: &str = "META_MONITOR_METRICS_TOKEN";

/// `--metrics`: a port alone means this machine only.
pub fn metrics_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is not PORT or ADDR:PORT (e.g. 9464 or 0.0.0.0:9464)"))
}

/// Where `/metrics` listens and the token it requires, if any.
pub struct Exporter {
    address: SocketAddr,
    token: Option<Secret>,
}

impl Exporter {
    /// The token from `token_file`, else from [`METRICS_TOKEN_ENV`] (the variable, the file
    /// its `_FILE` names, or the systemd credential of that name); none is allowed, but
    /// serving beyond this machine without one is logged as a warning.
    pub fn new(address: SocketAddr, token_file: Option<&Path>) -> Result<Self, Failure> {
        let token = match token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::usage(anyhow::anyhow!(
                        "cannot read the metrics token file {}: {e}",
                        path.display()
                    ))
                })?;
                Some(text)
            }
            // The variable, `…_FILE`, or a systemd credential of that name.
            None => meta_monitor_core::env_account::read_process_env(METRICS_TOKEN_ENV)
                .map_err(|e| Failure::usage(anyhow::anyhow!("{e}")))?,
        };
        let token = token
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        Ok(Self { address, token })
    }
}

pub fn run(
    session: &Session,
    name: Option<&str>,
    speed: f64,
    metrics: Option<Exporter>,
) -> Result<(), Failure> {
    if !(1.0..=100_000.0).contains(&speed) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--speed must be between 1 and 100000"
        )));
    }
    let clock: Arc<dyn Clock> = if speed > 1.0 {
        Arc::new(ScaledClock::new(speed))
    } else {
        Arc::new(SystemClock)
    };
    let options = Options {
        env: super::check::env_account(name)?,
        clock,
        ..session.options(name)
    };
    let telemetry = Arc::new(crate::metrics::Telemetry::default());
    let (runtime, app) = session.open_observed(options, telemetry.clone())?;
    let count = app.account_names().len();
    if count == 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "no accounts to watch; add one with: meta-monitor account add"
        )));
    }
    let summary = runtime.block_on(async {
        // One signal stops both the runner and the exporter.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let exporter = match metrics {
            Some(Exporter { address, token }) => {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {address} for /metrics: {e}"))?;
                tracing::info!(address = %listener.local_addr()?, token = token.is_some(),
                    "Prometheus metrics on /metrics");
                if token.is_none() && !address.ip().is_loopback() {
                    tracing::warn!(address = %address, "/metrics is open to the network \
                        without a token; set {METRICS_TOKEN_ENV} or --metrics-token-file");
                }
                let mut stopped = stopped.clone();
                let done = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                Some(tokio::spawn(crate::metrics::serve(
                    listener,
                    app.stores(),
                    telemetry,
                    token,
                    done,
                )))
            }
            None => None,
        };
        tracing::info!(accounts = count, "watching; Ctrl-C or SIGTERM stops");
        let signal = async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        // Feed sources on their schedule beside the checks, stopped by the same signal.
        let mut feeds_stopped = stopped.clone();
        let feeds_done = async move {
            let _ = feeds_stopped.wait_for(|s| *s).await;
        };
        let (summary, ()) = tokio::join!(app.run(signal), app.run_feeds(feeds_done));
        if let Some(task) = exporter {
            let _ = task.await;
        }
        Ok::<_, anyhow::Error>(summary)
    })?;
    tracing::info!(
        probe_runs = summary.probe_runs,
        notifications = summary.notifications,
        "stopped after {} probe runs and {} notifications",
        summary.probe_runs,
        summary.notifications
    );
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
