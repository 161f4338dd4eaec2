//! `meta-monitor hash FIELD VALUE [--normalized]`: what the Conversions API would receive for
//! one customer-information value — its SHA-256, or its normalized form.

use meta_monitor_core::capi::normalize::{self, Key};

use crate::Failure;

pub fn hash(
    field: &str,
    value: &str,
    normalized: bool,
    raw_external_id: bool,
) -> Result<(), Failure> {
    let key = Key::parse(field).ok_or_else(|| {
        let known: Vec<&str> = Key::ALL.iter().map(|k| k.as_str()).collect();
        Failure::usage(anyhow::anyhow!(
            "unknown field {field:?}; one of: {}",
            known.join(", ")
        ))
    })?;
    let prepared = normalize::prepare(key, value, !raw_external_id)
        .map_err(|e| Failure::usage(anyhow::anyhow!(e)))?;
    if prepared.already_hashed {
        eprintln!("{key}: already a hex digest; sent as it is, not hashed again");
    }
    println!(
        "{}",
        if normalized {
            prepared.normalized
        } else {
            prepared.sent
        }
    );
    Ok(())
}
