//! Meta echoes a malformed token in its 190 error ("Malformed access token EAAB…"): with the
//! simulator doing the same, not one byte of the token reaches the database file (or its
//! WAL), the CLI's output (`--json` too), the team webhook's bodies or the log lines — the
//! messages still say what happened, with `[redacted]` where the token was.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::time::{Duration, Instant};

use meta_graph_sim::{APP_ID, APP_SECRET, Scenario, SimConfig};
use meta_monitor_e2e::{CliEnv, KeyringSession, Sim, WebhookReceiver, describe, terminate};

/// Two tokens: one Meta-shaped (caught by its shape too) and one that is not (caught only
/// because the account's own secret is known to the scrubber).
const TOKENS: [&str; 2] = [
    concat!("EA", "AfakeEchoedToken", "0000ZZZZ0000"),
    "fake-echo-token-7c1d9e2a",
];

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every file of the database (main, WAL, SHM) as bytes.
fn database_bytes(db: &str) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let path = format!("{db}{suffix}");
            let bytes = std::fs::read(&path).unwrap_or_default();
            (path, bytes)
        })
        .collect()
}

#[test]
fn an_echoed_token_never_reaches_the_database_output_webhook_or_logs() {
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let sim = Sim::start(SimConfig::default());
    sim.sim.set_scenario(Scenario::TokenMalformed);
    for (n, token) in TOKENS.iter().enumerate() {
        let hook = WebhookReceiver::start();
        let cli = CliEnv::new(
            &keyring,
            &format!("meta-monitor-e2e-redaction-{n}"),
            &format!("redaction-{n}.db"),
        );
        let secrets = [
            ("access-token", *token),
            ("app-secret", APP_SECRET),
            ("team-webhook", hook.url.as_str()),
        ];
        cli.add_account("shop", &sim.sim.base_url(), &["--app-id", APP_ID], &secrets);
        let off = cli.run(&["account", "set", "shop", "notify_desktop=false"], None);
        assert!(off.status.success(), "{}", describe(&off));

        // `run` with JSON logs until the alert went out, then one-shot checks, as text and as
        // JSON, and the stored tiles.
        let child = cli.spawn(&[
            "run",
            "shop",
            "--log-format",
            "json",
            "--log-level",
            "debug",
        ]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && hook.bodies().is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(2));
        let mut outputs = vec![("run".to_owned(), terminate(child))];
        for args in [
            &["check", "shop"][..],
            &["check", "shop", "--json"][..],
            &["status", "shop", "--json"][..],
        ] {
            outputs.push((format!("{args:?}"), cli.run(args, None)));
        }

        // What happened is still said, with the token's place marked.
        let json = String::from_utf8_lossy(&outputs[2].1.stdout).into_owned();
        assert!(
            json.contains("Malformed access token [redacted]"),
            "the message keeps Meta's words: {json}"
        );
        let bodies = hook.bodies();
        assert!(
            bodies.iter().any(|b| b.contains("[redacted]")),
            "the token_invalid alert reached the team webhook, scrubbed: {bodies:#?}"
        );

        for (what, out) in &outputs {
            for stream in [&out.stdout, &out.stderr] {
                assert!(
                    !contains(stream, token),
                    "{what} printed the token: {}",
                    describe(out)
                );
            }
        }
        for body in &bodies {
            assert!(
                !body.contains(token),
                "a team-webhook body has the token: {body}"
            );
        }
        for (path, bytes) in database_bytes(&cli.db) {
            assert!(!contains(&bytes, token), "{path} holds the token");
        }
        let run_log = String::from_utf8_lossy(&outputs[0].1.stderr).into_owned();
        assert!(
            run_log.lines().any(|l| l.contains("[redacted]")),
            "the log says what Meta answered, scrubbed: {run_log}"
        );
    }
}
