//! The real OS keychain: a round trip through GNOME Keyring that `secret-tool` can see, and a
//! clear error (never a plaintext fallback) when no keychain runs.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test loudly"
)]

use meta_monitor_e2e::{KeyringSession, describe, have, require, run_cli};

const SERVICE: &str = "meta-monitor-e2e-keychain";

#[test]
fn secrets_round_trip_through_gnome_keyring() {
    if !require(
        have("secret-tool"),
        "secret-tool (libsecret-tools) must be installed",
    ) {
        return;
    }
    let Some(keyring) = KeyringSession::start() else {
        return;
    };
    let db = keyring
        .dir
        .path()
        .join("k.db")
        .to_string_lossy()
        .into_owned();
    let mut env = keyring.env();
    env.push(("META_MONITOR_KEYCHAIN_SERVICE".into(), SERVICE.into()));
    let add = run_cli(&env, &["--db", &db, "account", "add", "shop"], None);
    assert!(add.status.success(), "{}", describe(&add));

    let set = run_cli(
        &env,
        &["--db", &db, "secret", "set", "shop", "access-token"],
        Some("fake-keychain-token-1234\n"),
    );
    assert!(set.status.success(), "{}", describe(&set));
    assert!(
        String::from_utf8_lossy(&set.stdout).contains("••••1234"),
        "only a masked value is shown: {}",
        describe(&set)
    );
    let found = keyring.secret_tool_search(SERVICE);
    assert!(
        found.contains("shop/access-token"),
        "secret-tool sees the entry: {found}"
    );
    assert!(
        found.contains("fake-keychain-token-1234"),
        "with the value we stored: {found}"
    );

    let del = run_cli(
        &env,
        &["--db", &db, "secret", "delete", "shop", "access-token"],
        None,
    );
    assert!(del.status.success(), "{}", describe(&del));
    let after = keyring.secret_tool_search(SERVICE);
    assert!(
        !after.contains("shop/access-token"),
        "gone after delete: {after}"
    );
    let again = run_cli(
        &env,
        &["--db", &db, "secret", "delete", "shop", "access-token"],
        None,
    );
    assert!(
        again.status.success()
            && String::from_utf8_lossy(&again.stdout).contains("no access-token"),
        "{}",
        describe(&again)
    );

    let empty = run_cli(
        &env,
        &["--db", &db, "secret", "set", "shop", "app-secret"],
        Some("\n"),
    );
    assert_eq!(
        empty.status.code(),
        Some(2),
        "an empty secret is invalid input: {}",
        describe(&empty)
    );

    // Removing the account removes its keychain entries: an account added again under the
    // same name must not inherit the old token.
    let set = run_cli(
        &env,
        &["--db", &db, "secret", "set", "shop", "access-token"],
        Some("fake-keychain-token-5678\n"),
    );
    assert!(set.status.success(), "{}", describe(&set));
    let remove = run_cli(&env, &["--db", &db, "account", "remove", "shop"], None);
    assert!(remove.status.success(), "{}", describe(&remove));
    let left = keyring.secret_tool_search(SERVICE);
    assert!(
        !left.contains("shop/access-token") && !left.contains("5678"),
        "no entry of the removed account is left: {left}"
    );

    // Entries left behind anyway (the account removed while the keychain was unreachable,
    // here: its row deleted behind the app's back) are never adopted by a new account of the
    // same name: they are deleted, and `account add` says so.
    let add = run_cli(&env, &["--db", &db, "account", "add", "shop"], None);
    assert!(add.status.success(), "{}", describe(&add));
    let set = run_cli(
        &env,
        &["--db", &db, "secret", "set", "shop", "access-token"],
        Some("fake-keychain-token-9012\n"),
    );
    assert!(set.status.success(), "{}", describe(&set));
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute("DELETE FROM accounts WHERE name = 'shop'", []))
        .expect("the row goes, the keychain entry stays");
    assert!(keyring.secret_tool_search(SERVICE).contains("9012"));
    let again = run_cli(&env, &["--db", &db, "account", "add", "shop"], None);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("deleted, not adopted"),
        "the new account says what it found: {}",
        describe(&again)
    );
    let after = keyring.secret_tool_search(SERVICE);
    assert!(
        !after.contains("9012"),
        "the old token is gone, not inherited: {after}"
    );
}

#[test]
fn no_keychain_is_a_clear_error_never_a_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("n.db").to_string_lossy().into_owned();
    let env = vec![
        (
            "DBUS_SESSION_BUS_ADDRESS".to_owned(),
            format!("unix:path={}/no-such-bus", dir.path().display()),
        ),
        (
            "META_MONITOR_KEYCHAIN_SERVICE".to_owned(),
            SERVICE.to_owned(),
        ),
    ];
    let add = run_cli(&env, &["--db", &db, "account", "add", "shop"], None);
    assert!(add.status.success(), "{}", describe(&add));
    let set = run_cli(
        &env,
        &["--db", &db, "secret", "set", "shop", "access-token"],
        Some("fake-token-without-keychain"),
    );
    assert_eq!(
        set.status.code(),
        Some(1),
        "a runtime failure: {}",
        describe(&set)
    );
    let stderr = String::from_utf8_lossy(&set.stderr);
    assert!(
        stderr.contains("keychain is unavailable"),
        "says what is wrong: {stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");

    let check = run_cli(&env, &["--db", &db, "check", "shop", "--json"], None);
    assert!(
        check.status.success(),
        "check still reports: {}",
        describe(&check)
    );
    let json: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json");
    for tile in json[0]["tiles"].as_array().expect("tiles") {
        assert_eq!(
            tile["status"], "UNKNOWN",
            "nothing measured is UNKNOWN, not DOWN: {tile}"
        );
        assert!(
            tile["message"]
                .as_str()
                .is_some_and(|m| m.contains("keychain")),
            "and says why: {tile}"
        );
    }
    let bytes = std::fs::read(dir.path().join("n.db")).expect("db exists");
    assert!(
        !bytes.windows(11).any(|w| w == b"fake-token-"),
        "no plaintext fallback in the database"
    );
}
