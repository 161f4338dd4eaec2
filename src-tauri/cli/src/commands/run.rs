//! `meta-monitor run [NAME] [--speed N]`: the scheduler and notifiers in the foreground until
//! SIGINT or SIGTERM; the step in flight is finished and stored before exiting.

use std::sync::Arc;

use meta_monitor_core::app::Options;
use meta_monitor_core::clock::{Clock, ScaledClock, SystemClock};

use super::Session;
use crate::Failure;

pub fn run(
    session: &Session,
    name: Option<&str>,
    speed: f64,
    metrics: Option<std::net::SocketAddr>,
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
    let (runtime, app) = session.open(options)?;
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
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /metrics: {e}"))?;
                tracing::info!(address = %listener.local_addr()?, "Prometheus metrics on /metrics");
                let mut stopped = stopped.clone();
                let done = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                Some(tokio::spawn(crate::metrics::serve(
                    listener,
                    app.stores(),
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
        let summary = app.run(signal).await;
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
