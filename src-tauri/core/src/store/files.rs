//! The database holds an operator's accounts, alerts and customer-event logs: its files are the
//! user's alone. On Unix a folder the store creates is 0700 (the app's own data folder is
//! tightened to it as well), and the database, its WAL and its shared-memory file are 0600 —
//! also when they already exist with looser modes, which is logged. SQLite creates the WAL and
//! SHM files with the main file's mode, so a private main file keeps them private.
//!
//! Windows and macOS: the per-user data folders (`%APPDATA%`, `~/Library/Application
//! Support`) are private to the user by the OS's defaults; nothing is changed there.

use std::path::Path;

/// Creates `folder` (and its missing parents) private to the user.
pub(super) fn create_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(folder)
    }
}

/// Creates an empty database file readable by the user only, unless it exists.
pub(super) fn create_private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Takes group and other permissions off `path` (files 0600, folders 0700) when it exists with
/// any; says so in the log. Best effort: a file owned by someone else is left as it is.
pub(super) fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            return;
        }
        let private = if meta.is_dir() { 0o700 } else { 0o600 };
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(private)) {
            Ok(()) => tracing::warn!(path = %path.display(), from = format!("{mode:o}"),
                to = format!("{private:o}"), "tightened the permissions: only the user may read it"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e,
                "readable by other users, and its permissions could not be tightened"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
    }
}

/// The database file and the WAL and SHM files beside it.
pub(super) fn database_files(path: &Path) -> [std::path::PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    [path.to_owned(), with("-wal"), with("-shm")]
}

#[cfg(all(test, unix))]
#[allow(clippy::expect_used, reason = "a failed step must fail the test")]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::Store;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_new_database_is_private_and_an_old_one_is_tightened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = dir.path().join("new/folder/monitor.db");
        let store = Store::open(&fresh).expect("opens");
        store
            .add_account(&crate::Account::new("a"), time::OffsetDateTime::now_utc())
            .expect("writes");
        assert_eq!(
            mode(fresh.parent().expect("folder")),
            0o700,
            "a created folder"
        );
        for file in database_files(&fresh) {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        drop(store);

        let old = dir.path().join("old.db");
        drop(Store::open(&old).expect("opens"));
        for file in database_files(&old) {
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
                    .expect("loosen");
            }
        }
        let again = Store::open(&old).expect("opens again");
        again
            .add_account(&crate::Account::new("b"), time::OffsetDateTime::now_utc())
            .expect("writes");
        for file in database_files(&old) {
            assert_eq!(mode(&file), 0o600, "tightened: {}", file.display());
        }
    }
}
