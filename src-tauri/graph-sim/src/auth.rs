//! Request parameters and authentication as Graph reads them: token from `Authorization:
//! Bearer|OAuth`, `access_token` in the query or a form body; both `appsecret_proof` forms.

use std::collections::HashMap;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{APP_ID, APP_SECRET};

/// Query parameters merged with form or JSON body parameters (the body wins, like Graph).
pub fn params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(k, text);
            }
        }
    } else if !body.is_empty() {
        out.extend(url::form_urlencoded::parse(body).into_owned());
    }
    out
}

/// Where the token came from.
#[derive(Clone)]
pub struct Token {
    pub value: String,
    pub scheme: Option<String>,
}

pub fn token(headers: &HeaderMap, params: &HashMap<String, String>) -> Option<Token> {
    if let Some(auth) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        for scheme in ["Bearer", "OAuth"] {
            if let Some(rest) = auth.strip_prefix(scheme).and_then(|r| r.strip_prefix(' ')) {
                let value = rest.trim();
                if !value.is_empty() {
                    return Some(Token {
                        value: value.to_owned(),
                        scheme: Some(scheme.to_owned()),
                    });
                }
            }
        }
    }
    params
        .get("access_token")
        .filter(|t| !t.is_empty())
        .map(|t| Token {
            value: t.clone(),
            scheme: None,
        })
}

/// `{app_id}|{app_secret}` of the simulated app.
pub fn is_app_token(token: &str) -> bool {
    token.contains('|')
}

pub fn app_token_valid(token: &str) -> bool {
    token
        .split_once('|')
        .is_some_and(|(id, secret)| id == APP_ID && secret == APP_SECRET)
}

fn hmac_hex(message: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

pub enum Proof {
    Absent,
    Valid,
    Invalid,
}

/// Checks `appsecret_proof` in its classic form, or the time-stamped form with
/// `appsecret_time` within 5 minutes of now.
pub fn check_proof(token: &str, params: &HashMap<String, String>, now_unix: i64) -> Proof {
    let Some(proof) = params.get("appsecret_proof") else {
        return Proof::Absent;
    };
    let proof = proof.to_ascii_lowercase();
    let expected = match params.get("appsecret_time") {
        None => hmac_hex(token),
        Some(t) => match t.parse::<i64>() {
            Ok(t) if (now_unix - t).abs() <= 300 => hmac_hex(&format!("{token}|{t}")),
            _ => return Proof::Invalid,
        },
    };
    if proof == expected {
        Proof::Valid
    } else {
        Proof::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_vectors_hold_for_our_hmac() {
        let mac = |secret: &str, msg: &str| {
            let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
            m.update(msg.as_bytes());
            hex::encode(m.finalize().into_bytes())
        };
        assert_eq!(
            mac("appsecret", "EAABtoken"),
            "a9b4838836c2979289846fe92208eb2cd097c298f82fb392daa90407139f10e2"
        );
        assert_eq!(
            mac("appsecret", "EAABtoken|1760000000"),
            "9448b506a093a75dbf444c7b6f971292ac6c8cb98eb58a9f8ff371f51189a858"
        );
    }

    #[test]
    fn both_proof_forms_are_accepted_and_stale_times_rejected() {
        let token = "tok";
        let now = 1_760_000_000;
        let mut p = HashMap::new();
        p.insert("appsecret_proof".to_owned(), hmac_hex(token));
        assert!(matches!(check_proof(token, &p, now), Proof::Valid));
        p.insert(
            "appsecret_proof".to_owned(),
            hmac_hex(&format!("{token}|{now}")),
        );
        p.insert("appsecret_time".to_owned(), now.to_string());
        assert!(matches!(check_proof(token, &p, now + 60), Proof::Valid));
        assert!(
            matches!(check_proof(token, &p, now + 301), Proof::Invalid),
            "expired after 5 min"
        );
        p.remove("appsecret_time");
        assert!(matches!(check_proof(token, &p, now), Proof::Invalid));
    }
}
