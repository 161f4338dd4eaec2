//! `meta-monitor diagnose NAME [--json]` and `meta-monitor diagnose --rules [--json]`: the
//! core's findings from the stored checks, no network. Exit 1 when an error-level finding
//! exists, so a cron job or CI step can gate on it.

use meta_monitor_core::app::Options;
use meta_monitor_core::diagnose::{Finding, Level, RULES};

use super::Session;
use crate::{Failure, output};

pub fn diagnose(session: &Session, name: &str, json: bool) -> Result<(), Failure> {
    let options = Options {
        secrets: false,
        ..session.options(Some(name))
    };
    let (_runtime, app) = session.open(options)?;
    let diagnosis = app.diagnose(name)?;
    if json {
        output::print_json(&diagnosis)?;
    } else if diagnosis.findings.is_empty() {
        println!(
            "{name}: no findings (as of {})",
            output::timestamp(diagnosis.at)
        );
    } else {
        for finding in &diagnosis.findings {
            print_finding(finding);
        }
    }
    if diagnosis.has_errors() {
        let errors = diagnosis
            .findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .count();
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!("{errors} error-level finding(s) for {name}"),
        });
    }
    Ok(())
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warning => "WARNING",
        Level::Info => "NOTE",
    }
}

fn print_finding(f: &Finding) {
    println!("{:<8} {} [{}]", level_word(f.level), f.title, f.id);
    println!("         evidence: {}", f.evidence);
    println!("         fix:      {}", f.fix);
    println!("         docs:     {}", f.link);
}

pub fn rules(json: bool) -> Result<(), Failure> {
    if json {
        return output::print_json(RULES);
    }
    for r in RULES {
        println!("{:<8} {} [{}]", level_word(r.level), r.title, r.id);
        println!("         when:     {}", r.rule);
        println!("         fix:      {}", r.fix);
        println!("         docs:     {}", r.link);
    }
    Ok(())
}
