//! The installation's HTTPS proxy (Settings, `meta-monitor proxy set`): stored in the database,
//! applied to every HTTP client built afterwards — Graph API, team webhook, webhook endpoint
//! checks — in place of `HTTPS_PROXY`/`ALL_PROXY`. Process-wide, like the environment
//! variables it stands in for. Loopback addresses (the demo's simulator) and the hosts in
//! `NO_PROXY` are always reached directly.

use std::sync::RwLock;

use url::Url;

/// The key of the setting in the database.
pub const SETTING: &str = "https_proxy";

static PROXY: RwLock<Option<Url>> = RwLock::new(None);

/// Why a proxy URL is refused; the URL is never repeated (it could hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "the proxy must be an http:// or https:// URL with a host, e.g. http://proxy.example:3128"
    )]
    Shape,
    #[error(
        "a proxy that asks for a password is not stored here (the database is not a keychain): \
         put it in the HTTPS_PROXY environment variable"
    )]
    Credentials,
}

/// A proxy URL as the operator typed it: `http(s)://host[:port]`, nothing else.
pub fn parse(text: &str) -> Result<Url, ProxyError> {
    let url = Url::parse(text.trim()).map_err(|_| ProxyError::Shape)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ProxyError::Credentials);
    }
    let shaped = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && (url.path().is_empty() || url.path() == "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if shaped {
        Ok(url)
    } else {
        Err(ProxyError::Shape)
    }
}

/// Sets the installation's proxy for the clients built from now on (`None`: the environment's).
pub fn set(url: Option<Url>) {
    *PROXY
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = url;
}

/// The installation's proxy, if one is set.
pub fn current() -> Option<Url> {
    PROXY
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The proxy a client must use, if the installation sets one; `None` leaves reqwest's own
/// reading of the environment.
pub fn for_client() -> Option<reqwest::Proxy> {
    let url = current()?;
    // Loopback addresses (the demo's simulator) are never proxied; names, `localhost`
    // included, follow NO_PROXY like any other host.
    let mut bypass = String::from("127.0.0.0/8,::1");
    if let Ok(more) = std::env::var("NO_PROXY").or_else(|_| std::env::var("no_proxy")) {
        bypass.push(',');
        bypass.push_str(&more);
    }
    reqwest::Proxy::all(url.as_str())
        .ok()
        .map(|p| p.no_proxy(reqwest::NoProxy::from_string(&bypass)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_is_a_bare_http_url_without_a_password() {
        for good in [
            "http://proxy.example:3128",
            "https://10.0.0.1:8443/",
            " http://p ",
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "proxy:3128",
            "ftp://p",
            "http://p/path",
            "http://p/?q=1",
            "http://",
        ] {
            assert_eq!(parse(bad), Err(ProxyError::Shape), "{bad:?}");
        }
        let err = parse("http://user:hunter2@proxy.example:3128").expect_err("refused");
        assert_eq!(err, ProxyError::Credentials);
        assert!(!err.to_string().contains("hunter2"));
    }
}
