//! Feed sources: where a shop's products come from — a file on this machine or an `https://`
//! URL — read only when they changed. A URL is fetched with `If-None-Match` /
//! `If-Modified-Since` from the last download, so an unchanged feed costs one `304` and no
//! download; a file is read when its size or modification time changed.
//!
//! And the deletion brake: a product that vanished from its source is deleted at Meta, unless
//! more than a share of the source's products vanish in one run — a truncated export, an empty
//! file or a wrong URL must not empty a shop's catalog.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

use crate::store::feeds::Validators;

/// The largest feed read: 100,000 products with long descriptions fit many times over; a
/// runaway response does not fill the memory.
pub const MAX_FEED_BYTES: usize = 512 * 1024 * 1024;
/// A whole download's time limit (large feeds on slow shop servers take a while).
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);

/// What reading a source gave.
#[derive(Debug)]
pub enum Fetched {
    /// Nothing changed since the validators were taken.
    Unchanged,
    /// The feed's text, and the validators that make the next read conditional.
    Changed {
        text: String,
        validators: Validators,
    },
}

/// Where a source's products are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(std::path::PathBuf),
    Url(url::Url),
}

impl Location {
    /// A location as an operator types it: `https://…` (or `http://` to this machine), or a
    /// file path, made absolute so the window and `run` read the same file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.contains("://") {
            let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(
                    "a feed URL with a user name or password would be stored in the database; \
                     use a URL without credentials"
                        .to_owned(),
                );
            }
            if !crate::account::is_allowed_url(&url) {
                return Err(format!(
                    "{}: a feed URL is https:// (http:// only to this machine)",
                    crate::store::feeds::displayed(text)
                ));
            }
            return Ok(Self::Url(url));
        }
        let path = std::path::Path::new(text);
        let absolute =
            std::path::absolute(path).map_err(|e| format!("{text:?} is not a usable path: {e}"))?;
        if !absolute.is_file() {
            return Err(format!("{} is not a file", absolute.display()));
        }
        Ok(Self::File(absolute))
    }

    /// The form stored and shown.
    pub fn as_text(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Url(u) => u.to_string(),
        }
    }
}

/// Reads `location` unless it is unchanged since `last`.
pub async fn fetch(
    http: &reqwest::Client,
    location: &Location,
    last: &Validators,
) -> Result<Fetched, String> {
    match location {
        Location::File(path) => read_file(path, last),
        Location::Url(url) => download(http, url, last).await,
    }
}

fn read_file(path: &std::path::Path, last: &Validators) -> Result<Fetched, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    // Size and time: an editor's save changes both or at least the time.
    let stamp = format!("{}-{modified}", meta.len());
    if last.etag.as_deref() == Some(stamp.as_str()) {
        return Ok(Fetched::Unchanged);
    }
    if meta.len() > MAX_FEED_BYTES as u64 {
        return Err(format!(
            "{} is {} MB; feeds up to {} MB are read",
            path.display(),
            meta.len() / 1_048_576,
            MAX_FEED_BYTES / 1_048_576
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("{} is not UTF-8 text: {e}", path.display()))?;
    Ok(Fetched::Changed {
        text,
        validators: Validators {
            etag: Some(stamp),
            last_modified: None,
        },
    })
}

async fn download(
    http: &reqwest::Client,
    url: &url::Url,
    last: &Validators,
) -> Result<Fetched, String> {
    // The URL may carry a shop's feed key in its query: errors name the host only.
    let host = url.host_str().unwrap_or("the feed server").to_owned();
    let mut request = http.get(url.clone()).timeout(FETCH_TIMEOUT);
    if let Some(etag) = &last.etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(since) = &last.last_modified {
        request = request.header(IF_MODIFIED_SINCE, since);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("{host}: {}", e.without_url()))?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::Unchanged);
    }
    if status.is_redirection() {
        return Err(format!(
            "{host} answered a redirect (HTTP {}) to {}; redirects are not followed: add the \
             final URL instead",
            status.as_u16(),
            crate::graph::redirect_target(response.headers(), url)
        ));
    }
    if !status.is_success() {
        return Err(format!("{host} answered HTTP {}", status.as_u16()));
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let validators = Validators {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    };
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("{host}: the download broke off: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(format!(
                "{host}: the feed is over {} MB; not read",
                MAX_FEED_BYTES / 1_048_576
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let text =
        String::from_utf8(body).map_err(|e| format!("{host}: the feed is not UTF-8 text: {e}"))?;
    Ok(Fetched::Changed { text, validators })
}

/// Whether deleting `vanished` of a source's `live_before` products needs a confirmation:
/// more than `brake_pct` percent at once. A source that had none yet never brakes.
pub fn needs_confirmation(vanished: usize, live_before: u32, brake_pct: u32) -> bool {
    vanished > 0 && (vanished as u64) * 100 > u64::from(live_before) * u64::from(brake_pct)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "a failed step must fail the test")]
    use super::*;

    #[test]
    fn the_brake_holds_more_than_the_share_and_never_a_first_import() {
        assert!(!needs_confirmation(5, 1000, 10));
        assert!(!needs_confirmation(100, 1000, 10), "exactly 10 % passes");
        assert!(needs_confirmation(101, 1000, 10));
        assert!(needs_confirmation(200, 1000, 10));
        assert!(
            needs_confirmation(1, 0, 10),
            "products of nowhere vanish: ask"
        );
        assert!(!needs_confirmation(0, 0, 10));
        assert!(!needs_confirmation(1000, 1000, 100));
    }

    #[test]
    fn locations_are_https_urls_without_credentials_or_existing_files() {
        assert!(matches!(
            Location::parse("https://shop.example/feed.xml"),
            Ok(Location::Url(_))
        ));
        assert!(matches!(
            Location::parse("http://127.0.0.1:8080/feed.xml"),
            Ok(Location::Url(_))
        ));
        assert!(Location::parse("http://shop.example/feed.xml").is_err());
        assert!(Location::parse("ftp://shop.example/feed.xml").is_err());
        let with_password = Location::parse("https://admin:hunter2@shop.example/feed.xml")
            .expect_err("credentials refused");
        assert!(!with_password.contains("hunter2"), "{with_password}");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("feed.csv");
        std::fs::write(&file, "id\n1\n").expect("write");
        assert_eq!(
            Location::parse(&file.display().to_string()),
            Ok(Location::File(file.clone()))
        );
        assert!(Location::parse(&dir.path().join("missing.csv").display().to_string()).is_err());
    }

    #[test]
    fn a_file_is_read_again_only_when_it_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("feed.csv");
        std::fs::write(&file, "id\n1\n").expect("write");
        let Ok(Fetched::Changed { text, validators }) = read_file(&file, &Validators::default())
        else {
            panic!("a first read reads");
        };
        assert_eq!(text, "id\n1\n");
        assert!(matches!(
            read_file(&file, &validators),
            Ok(Fetched::Unchanged)
        ));
        std::fs::write(&file, "id\n1\n2\n").expect("write");
        assert!(matches!(
            read_file(&file, &validators),
            Ok(Fetched::Changed { .. })
        ));
    }
}
