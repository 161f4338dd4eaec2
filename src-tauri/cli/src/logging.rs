//! Log lines through `tracing` on stderr: human text on a terminal, or one JSON object per
//! line (`--log-format json`) for journald, Docker or a log shipper. stdout stays the
//! command's own output, so `check --json | jq` keeps working with logging on.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Installs the subscriber. The filter is `--log-level`, else `RUST_LOG`, else `default`.
pub fn init(format: Format, level: Option<&str>, default: &str) -> anyhow::Result<()> {
    let filter = match level {
        Some(l) => EnvFilter::try_new(l)?,
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(default))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        Format::Text => builder.with_target(false).try_init(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!(e))
}
