//! The installed package, started as a user would: `/usr/bin/meta-monitor-desktop --demo`
//! (installed by `scripts/check-package.sh install` from the `.deb` that `scripts/package.sh`
//! built, before `cargo test` in `scripts/test.sh`) under Xvfb, driven through WebDriver: the
//! demo's tiles must be painted. The screenshot lands in `target/debug/screenshots/`.

use std::path::Path;
use std::time::Duration;

use meta_monitor_e2e::desktop::Desktop;
use meta_monitor_e2e::require;

const INSTALLED: &str = "/usr/bin/meta-monitor-desktop";

#[test]
fn the_installed_app_paints_the_demo_tiles() {
    if !require(
        Path::new(INSTALLED).exists(),
        "the .deb must be installed first (scripts/package.sh, scripts/check-package.sh install)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().display().to_string();
    let env = [
        ("XDG_DATA_HOME".to_owned(), format!("{root}/data")),
        ("XDG_CONFIG_HOME".to_owned(), format!("{root}/config")),
        ("HOME".to_owned(), root.clone()),
    ];
    let Some(app) = Desktop::launch_binary(Path::new(INSTALLED), &["--demo"], &env) else {
        return;
    };
    let tile = app.wait_text(
        r#"article[data-service="rate_limits"]"#,
        Duration::from_secs(60),
        |t| t.contains("DOWN"),
    );
    let painted = app.started.elapsed();
    assert!(
        tile.contains("throttled"),
        "the demo's throttled tile: {tile}"
    );
    assert_eq!(
        app.text(".demo").as_deref(),
        Some("DEMO"),
        "labelled as the demo"
    );
    app.screenshot("installed-package-demo.png");
    eprintln!(
        "installed app: launch to the demo's measured tiles in {} ms",
        painted.as_millis()
    );
}
