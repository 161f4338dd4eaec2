//! What an operator should do about a failure, in one sentence: one table, next to the error
//! classes it reads, for every tile, "Test connection" and alert that explains a failure.

use super::ErrorClass;

/// The advice for an error of `class` with Meta's `code` and `subcode` (when Meta answered).
pub fn advice(class: ErrorClass, code: Option<i64>, subcode: Option<i64>) -> &'static str {
    match (class, code, subcode) {
        (_, Some(190), Some(463)) => {
            "The access token has expired. Create a new one in Meta Business Settings → System \
             users and replace it here."
        }
        (_, Some(190), Some(460)) => {
            "The token was invalidated because the user changed their password. Create a new \
             token and replace it here."
        }
        (_, Some(190), Some(458)) => {
            "The app was removed from the account the token belongs to. Reinstall the app or \
             create a token for another user."
        }
        (ErrorClass::TokenInvalid, ..) => {
            "Meta rejects this access token. Check it was copied whole, or replace it."
        }
        (ErrorClass::Permission, ..) => {
            "The token lacks a permission this check needs. Add the missing scopes to the system \
             user and generate a new token."
        }
        (ErrorClass::Throttled, ..) => {
            "Meta is throttling this app or ad account right now; the monitor waits for the \
             regain time before calling again."
        }
        (ErrorClass::Transport, ..) => {
            "Meta could not be reached from this computer: check the network or proxy."
        }
        (ErrorClass::Transient, ..) => {
            "Meta had a temporary problem; the next check usually passes. Nothing to do unless \
             it lasts."
        }
        (ErrorClass::Undecodable, ..) => {
            "Meta answered with something that is not its usual JSON (an error page); this is \
             usually an outage at Meta or a proxy in between."
        }
        (ErrorClass::InvalidRequest, ..) => {
            "Meta refused the request: check the account's ids (ad account, pixel, catalog) in \
             Settings."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcodes_say_why_a_token_died() {
        let expired = advice(ErrorClass::TokenInvalid, Some(190), Some(463));
        let password = advice(ErrorClass::TokenInvalid, Some(190), Some(460));
        let other = advice(ErrorClass::TokenInvalid, Some(190), None);
        assert!(expired.contains("expired"), "{expired}");
        assert!(password.contains("password"), "{password}");
        assert!(other.contains("copied whole"), "{other}");
        assert!(
            advice(ErrorClass::Transport, None, None).contains("network"),
            "a network failure is not blamed on the token"
        );
    }
}
