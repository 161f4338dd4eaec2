//! A database the app cannot open — not a database, damaged — gives the desktop a window that
//! names the file and what to do (no crash, no panic in `setup`), quits on request, and leaves
//! the file exactly as it was; the CLI exits 1 with the same words.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use std::time::{Duration, Instant};

use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::{describe, run_cli};

#[test]
fn a_corrupt_database_is_explained_the_app_quits_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("monitor.db");
    let garbage: Vec<u8> = b"these are not the bytes of a SQLite database\n".repeat(200);
    std::fs::write(&db, &garbage).expect("write the damaged file");
    let env = [
        ("META_MONITOR_DB".to_owned(), db.display().to_string()),
        ("XDG_DATA_HOME".to_owned(), dir.path().display().to_string()),
        (
            "XDG_CONFIG_HOME".to_owned(),
            dir.path().display().to_string(),
        ),
    ];

    // The CLI first: exit 1, one line naming the file and what to do.
    let db_arg = db.display().to_string();
    let out = run_cli(&env, &["--db", &db_arg, "status"], None);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let cli_words = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        cli_words.contains(&db.display().to_string()) && cli_words.contains("move it away"),
        "the CLI names the file and what to do: {cli_words}"
    );

    // A marker argument the app ignores, to find its process.
    let marker = format!("--test-instance={}", std::process::id());
    let Some(app) = Desktop::launch(&[&marker], &env) else {
        return;
    };
    let why = app.wait_text(
        r#"section[aria-label="Meta Monitor cannot start"] .why"#,
        Duration::from_secs(30),
        |t| t.contains("cannot be opened"),
    );
    assert!(
        why.contains(&db.display().to_string()),
        "the window names the file: {why}"
    );
    assert!(why.contains("move it away"), "and says what to do: {why}");
    assert!(
        app.find(r#"nav[aria-label="Views"]"#).is_none(),
        "no views over a database that could not be opened"
    );
    app.screenshot("startup-corrupt-database.png");
    app.click(r#"section[aria-label="Meta Monitor cannot start"] button"#);
    let running = || {
        std::process::Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while running() {
        assert!(Instant::now() < deadline, "the app did not quit on request");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(app);
    assert_eq!(
        std::fs::read(&db).expect("the file is still there"),
        garbage,
        "the damaged file is left byte for byte as it was"
    );
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = dir.path().join(format!("monitor.db{suffix}"));
        assert!(
            !side.exists(),
            "nothing written beside it: {}",
            side.display()
        );
    }
}
