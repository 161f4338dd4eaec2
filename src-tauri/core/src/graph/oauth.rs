//! `oauth/access_token?grant_type=fb_exchange_token` (reference §4, §14): a short-lived user
//! token exchanged for a long-lived one, or an expiring system-user token refreshed for
//! another 60 days. The answer is a *new* token; the old one stays valid until its own expiry.
//!
//! Meta documents the call as a `GET` with the app secret and the token in the query string.
//! Meta Monitor sends it as a `POST` with every parameter in the form body (the OAuth 2 token
//! endpoint's own method, which Graph's `oauth/access_token` answers as well), so neither the
//! app secret nor a token is ever part of a URL that a proxy or a log could keep. The token
//! being exchanged also goes as the Bearer header with its `appsecret_proof`, which satisfies
//! an app with *Require App Secret* on, should that apply here (unverified, §14).

use serde_json::Value;

use super::{GraphClient, GraphError, TransportKind};
use crate::secret::Secret;

/// What Meta answered: the new token and, when it says, its lifetime.
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub token: Secret,
    /// `expires_in` seconds; optional (a never-expiring result may omit it): read the real
    /// expiry with `debug_token`.
    pub expires_in: Option<i64>,
}

/// Exchanges the client's own token (its credentials: the token and the app secret) for a
/// new one. `system_user` sends `set_token_expires_in_60_days=true`, which the refresh of an
/// expiring system-user token needs.
pub async fn exchange(
    client: &GraphClient,
    app_id: &str,
    system_user: bool,
) -> Result<Exchanged, GraphError> {
    let secret = client.credentials().app_secret.as_ref().ok_or_else(|| {
        GraphError::NotConfigured("the app secret is needed to exchange a token".to_owned())
    })?;
    let mut form = vec![
        ("grant_type".to_owned(), "fb_exchange_token".to_owned()),
        ("client_id".to_owned(), app_id.to_owned()),
        ("client_secret".to_owned(), secret.expose().to_owned()),
        (
            "fb_exchange_token".to_owned(),
            client.access_token().expose().to_owned(),
        ),
    ];
    if system_user {
        form.push(("set_token_expires_in_60_days".to_owned(), "true".to_owned()));
    }
    let response = client.post_form("oauth/access_token", form).await?;
    read_answer(&response.body)
}

/// The new token from Meta's answer. Decoded by hand: a decoding error quotes the body, and
/// this body holds a token nobody has told the redactor about yet.
pub fn read_answer(body: &[u8]) -> Result<Exchanged, GraphError> {
    let unreadable = |why: &str| GraphError::Transport {
        kind: TransportKind::Other,
        detail: format!("Meta's answer to the token exchange {why}; no token was stored"),
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| unreadable("is not JSON"))?;
    let token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty() && t.len() <= 4096 && !t.chars().any(char::is_whitespace))
        .ok_or_else(|| unreadable("holds no access_token"))?;
    // A number, or a number in a string: Meta's SDKs have seen both.
    let expires_in = match value.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(Exchanged {
        token: Secret::new(token),
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn answers_are_read_with_or_without_a_lifetime() {
        let a = read_answer(
            br#"{"access_token":"sim-new","token_type":"bearer","expires_in":5183944}"#,
        );
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (a.token.expose(), a.expires_in),
            ("sim-new", Some(5_183_944))
        );
        let b = read_answer(br#"{"access_token":"sim-new","token_type":"bearer"}"#);
        assert_eq!(
            b.map(|b| b.expires_in).ok(),
            Some(None),
            "expires_in is optional"
        );
        let c = read_answer(br#"{"access_token":"sim-new","expires_in":"3600"}"#);
        assert_eq!(c.map(|c| c.expires_in).ok(), Some(Some(3600)));
    }

    proptest! {
        /// Whatever the body, the error never quotes it (it may hold a new token).
        #[test]
        fn a_broken_answer_never_quotes_the_body(
            token in "[A-Za-z0-9]{20,40}",
            shape in 0usize..5,
        ) {
            let body = match shape {
                0 => format!(r#"{{"access_token":{token}}}"#),
                1 => format!(r#"{{"token":"{token}"}}"#),
                2 => format!(r#"{{"access_token":"{token} x"}}"#),
                3 => format!("<html>{token}</html>"),
                _ => format!(r#"{{"access_token":"{token}""#),
            };
            match read_answer(body.as_bytes()) {
                Ok(e) => prop_assert!(false, "decoded {:?}", e.expires_in),
                Err(e) => prop_assert!(!e.to_string().contains(&token), "{e}"),
            }
        }
    }
}
